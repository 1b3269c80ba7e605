"""The README's panel pictures are drawn from what the real bot sends (tests/harness/render.py)."""

from __future__ import annotations

from pathlib import Path

from tests.harness.render import BUTTON_COLOURS, OFFICERS, capture, draw_message

DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"


async def test_status_panel_picture_shows_each_officer_under_their_code_and_the_buttons_in_discords_colours(
    tmp_path: Path,
):
    scene = await capture(tmp_path)
    drawn = draw_message(scene.status_panel, now=scene.now, names=scene.names)

    texts = drawn.texts
    for _, _, callsign, _, _, code in OFFICERS:
        # Each officer's callsign is drawn right under the field of the status their click set.
        heading = next(i for i, t in enumerate(texts) if f"{code} · " in t)  # after the mark of its kind
        assert callsign in texts[heading + 1], (code, texts[heading : heading + 2])
    labels = [label for label, _, _ in drawn.buttons]
    assert labels == ["10-8 In service", "10-6 Busy", "10-7 Out of service", "10-23 On scene", "10-97 En route",
                      "10-33 Panic"]  # fmt: skip
    by_label = {label: (box, colour) for label, box, colour in drawn.buttons}
    (left, top, _, bottom), colour = by_label["10-33 Panic"]
    assert colour == BUTTON_COLOURS[4]  # danger: red
    assert drawn.image.getpixel((left + 3, (top + bottom) // 2)) == BUTTON_COLOURS[4]
    for _, (x0, y0, x1, y1), _ in drawn.buttons:  # every button lies inside the picture
        assert 0 <= x0 < x1 <= drawn.image.width and 0 <= y0 < y1 <= drawn.image.height


async def test_shift_panel_picture_is_the_officers_own_ephemeral_panel_with_its_buttons_and_select(tmp_path: Path):
    scene = await capture(tmp_path)
    drawn = draw_message(
        scene.shift_panel, now=scene.now, names=scene.names, used_by=("Ofc. Bubbleton", "/shift panel")
    )

    assert "On duty" in drawn.texts  # the embed's title: the officer is on duty
    assert any(t.startswith("On duty since ") and t.endswith(" ago.") for t in drawn.texts)
    assert [label for label, _, _ in drawn.buttons] == ["On duty", "Break", "Off duty"]
    assert drawn.selects == ["Go on duty in a department…"]
    assert "Patrol" in drawn.texts  # the department of the officer's shift


def test_the_readme_pictures_exist():
    for name in ("status-panel.png", "shift-panel.png"):
        assert (DOCS_IMAGES / name).stat().st_size > 10_000, name
