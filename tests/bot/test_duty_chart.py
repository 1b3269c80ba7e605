"""The weekly duty-hours chart (bot/core/duty/chart.py): a valid SVG a screen reader can read, bars in proportion,
every text escaped, nothing a Content-Security-Policy without inline styles would block."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from bot.core.duty.chart import Bar, hours_text, weekly_hours_svg

SVG = "{http://www.w3.org/2000/svg}"


def parsed(svg: str) -> ET.Element:
    return ET.fromstring(svg)  # raises on anything that is not well-formed XML


def test_the_picture_has_a_title_and_says_every_value() -> None:
    root = parsed(weekly_hours_svg([Bar("6 Jan", 12.5), Bar("13 Jan", 0), Bar("20 Jan", 3)], "Duty hours per week"))
    assert root.get("role") == "img"
    labelled = (root.get("aria-labelledby") or "").split()
    ids = {el.get("id"): el.text for el in root.iter() if el.get("id")}
    assert [ids[i] for i in labelled] == ["Duty hours per week", "6 Jan: 12.5 h; 13 Jan: 0 h; 20 Jan: 3 h"]


def test_bars_are_in_proportion_and_never_below_the_axis() -> None:
    root = parsed(weekly_hours_svg([Bar("a", 10), Bar("b", 5), Bar("c", -2), Bar("d", 0)], "t"))
    heights = [float(r.get("height") or "nan") for r in root.iter(f"{SVG}rect")]
    assert len(heights) == 4
    assert heights[0] > 0 and abs(heights[1] * 2 - heights[0]) < 0.2
    assert heights[2] == 0 and heights[3] == 0
    bottoms = {round(float(r.get("y") or 0) + float(r.get("height") or 0), 1) for r in root.iter(f"{SVG}rect")}
    assert len(bottoms) == 1  # one baseline


def test_texts_are_escaped() -> None:
    svg = weekly_hours_svg([Bar("<script>alert(1)</script>", 1)], 'a "title" & <b>', chart_id='x" onload="y')
    assert "<script>" not in svg and "<b>" not in svg and 'onload="y"' not in svg
    root = parsed(svg)
    assert root.find(f"{SVG}title") is not None and root.find(f"{SVG}title").text == 'a "title" & <b>'  # type: ignore[union-attr]


def test_no_inline_style_or_script() -> None:
    svg = weekly_hours_svg([Bar("a", 3)], "t")
    root = parsed(svg)
    for el in root.iter():
        assert el.tag not in (f"{SVG}style", f"{SVG}script")
        assert "style" not in el.attrib and not any(k.startswith("on") for k in el.attrib)


def test_no_weeks_still_draws_an_axis() -> None:
    root = parsed(weekly_hours_svg([], "Nothing yet"))
    assert list(root.iter(f"{SVG}rect")) == []
    assert any(el.text == "no weeks" for el in root.iter(f"{SVG}desc"))


def test_hours_text() -> None:
    assert [hours_text(h) for h in (0, 1, 12.5, 0.25, -1.5, 2.999)] == [
        "0 h",
        "1 h",
        "12.5 h",
        "0.25 h",
        "-1.5 h",
        "3 h",
    ]
