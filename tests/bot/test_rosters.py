"""Rosters without a database: parsing and validation, occurrences (overnight, daylight saving),
attendance rules, the week picture and its text fallback."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from PIL import Image

from bot.core.errors import ErrorKind, InvalidInput
from bot.core.rosters import (
    AttendanceRules,
    DutySpan,
    Occurrence,
    RosterTemplate,
    TemplateDraft,
    classify,
    occurrences_between,
    occurrences_of,
    parse_date,
    parse_days,
    parse_duration,
    parse_start,
    render_week,
    validate_template,
    week_text,
)
from bot.core.rosters.render import paginate

LONDON = ZoneInfo("Europe/London")
NEW_YORK = ZoneInfo("America/New_York")
MIN = 60_000


def template(
    template_id: int = 1,
    name: str = "Night patrol",
    start: int = 22 * 60,
    duration: int = 8 * 60,
    *,
    days: int = 0b1111111,
    valid_from: str | None = None,
    valid_until: str | None = None,
    department: str | None = None,
) -> RosterTemplate:
    return RosterTemplate(template_id, 1, name, department, start, duration, days, valid_from, valid_until, 7, 0, 0)


# -- parsing and validation --


@pytest.mark.parametrize(
    ("text", "minute"),
    [("21:30", 1290), ("9:05", 545), ("0:00", 0), ("23:59", 1439), ("9pm", 1260), ("12am", 0), ("12:30pm", 750)],
)
def test_start_times_people_type_are_understood(text: str, minute: int) -> None:
    assert parse_start(text) == minute


@pytest.mark.parametrize("text", ["24:00", "21:60", "13pm", "noon", "", "-1:00"])
def test_start_outside_the_day_is_refused_with_an_example(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_start(text)
    assert refused.value.kind is ErrorKind.ROSTER_START_INVALID and refused.value.data == {"text": text.strip()}


@pytest.mark.parametrize(
    ("text", "minutes"), [("90", 90), ("90m", 90), ("2h", 120), ("1h30m", 90), ("1h 30min", 90), ("24h", 1440)]
)
def test_durations_in_minutes_or_hours_are_understood(text: str, minutes: int) -> None:
    assert parse_duration(text) == minutes


@pytest.mark.parametrize("text", ["0", "0m", "25h", "1441", "h", "two hours", ""])
def test_duration_outside_one_minute_to_a_day_is_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as refused:
        parse_duration(text)
    assert refused.value.kind is ErrorKind.ROSTER_DURATION_INVALID and refused.value.data == {"text": text.strip()}


def test_days_of_the_week_accept_lists_ranges_and_default_to_every_day() -> None:
    assert parse_days(None) == 0b1111111
    assert parse_days("mon,wed,fri") == 0b0010101
    assert parse_days("mon-fri") == 0b0011111
    assert parse_days("fri-mon") == 0b1110001
    assert parse_days("Saturday sunday") == 0b1100000
    with pytest.raises(InvalidInput) as refused:
        parse_days("someday")
    assert refused.value.kind is ErrorKind.ROSTER_DAYS_INVALID and refused.value.data == {"part": "someday"}


def test_until_before_from_is_refused_with_both_dates() -> None:
    draft = TemplateDraft("Patrol", None, 600, 60, valid_from=date(2026, 12, 10), valid_until=date(2026, 12, 1))
    with pytest.raises(InvalidInput) as refused:
        validate_template(draft)
    assert refused.value.kind is ErrorKind.ROSTER_UNTIL_BEFORE_FROM
    assert refused.value.data == {"valid_from": date(2026, 12, 10), "valid_until": date(2026, 12, 1)}
    with pytest.raises(InvalidInput) as not_a_date:
        parse_date("10/12/2026", "valid_from")
    assert not_a_date.value.kind is ErrorKind.ROSTER_DATE_INVALID
    assert not_a_date.value.data == {"field": "valid_from", "text": "10/12/2026"}


def test_template_name_is_trimmed_and_must_not_be_empty_or_long() -> None:
    assert validate_template(TemplateDraft("  Night   patrol ", " Patrol ", 0, 1)).name == "Night patrol"
    with pytest.raises(InvalidInput) as empty:
        validate_template(TemplateDraft("   ", None, 0, 1))
    assert empty.value.kind is ErrorKind.ROSTER_NAME_EMPTY
    with pytest.raises(InvalidInput) as long:
        validate_template(TemplateDraft("x" * 41, None, 0, 1))
    assert long.value.kind is ErrorKind.ROSTER_NAME_TOO_LONG and long.value.data == {"most": 40, "length": 41}


# -- occurrences --


def test_overnight_shift_belongs_to_the_day_it_starts_and_ends_next_morning() -> None:
    found = occurrences_of(template(), date(2026, 12, 1), date(2026, 12, 1), LONDON)
    assert len(found) == 1
    night = found[0]
    assert night.day == date(2026, 12, 1)
    assert night.start == datetime(2026, 12, 1, 22, 0, tzinfo=LONDON)
    assert night.end == datetime(2026, 12, 2, 6, 0, tzinfo=LONDON)
    assert night.end_ms - night.start_ms == 8 * 60 * MIN


def test_days_and_validity_dates_limit_the_occurrences() -> None:
    weekdays = template(days=parse_days("mon-fri"), valid_from="2026-11-25", valid_until="2026-12-04")
    found = occurrences_of(weekdays, date(2026, 11, 23), date(2026, 12, 6), LONDON)
    assert [o.day for o in found] == [
        date(2026, 11, 25), date(2026, 11, 26), date(2026, 11, 27),
        date(2026, 11, 30), date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 3), date(2026, 12, 4),
    ]  # fmt: skip


def test_start_in_the_spring_forward_gap_moves_to_the_same_instant_an_hour_later_on_the_wall() -> None:
    # 29 March 2026, London: clocks jump from 01:00 to 02:00; New York 8 March 2026: 02:00 to 03:00.
    london = occurrences_of(template(start=1 * 60 + 30, duration=60), date(2026, 3, 29), date(2026, 3, 29), LONDON)[0]
    assert (london.start.hour, london.start.minute) == (2, 30)
    assert london.start_ms == int(datetime(2026, 3, 29, 1, 30, tzinfo=UTC).timestamp() * 1000)
    new_york = occurrences_of(template(start=2 * 60 + 30, duration=60), date(2026, 3, 8), date(2026, 3, 8), NEW_YORK)[0]
    assert (new_york.start.hour, new_york.start.minute) == (3, 30)
    assert new_york.start.utcoffset() == timedelta(hours=-4)
    assert new_york.end_ms - new_york.start_ms == 60 * MIN


def test_start_in_the_repeated_autumn_hour_is_the_first_of_the_two() -> None:
    # 1 November 2026, New York: 01:00-02:00 happens twice (EDT, then EST).
    found = occurrences_of(template(start=1 * 60 + 30, duration=60), date(2026, 11, 1), date(2026, 11, 1), NEW_YORK)
    assert found[0].start.utcoffset() == timedelta(hours=-4)
    assert found[0].start_ms == int(datetime(2026, 11, 1, 5, 30, tzinfo=UTC).timestamp() * 1000)


def test_overnight_shift_over_a_clock_change_lasts_its_real_duration() -> None:
    # 25 October 2026, London: 02:00 BST becomes 01:00 GMT. 22:00 + 8 h of real time = 05:00 on the wall.
    night = occurrences_of(template(), date(2026, 10, 24), date(2026, 10, 24), LONDON)[0]
    assert night.end_ms - night.start_ms == 8 * 60 * MIN
    assert (night.end.hour, night.end.minute) == (5, 0)
    spring = occurrences_of(template(), date(2026, 3, 28), date(2026, 3, 28), LONDON)[0]
    assert (spring.end.hour, spring.end.minute) == (7, 0)


# -- attendance (the rules; the store-backed path is in test_rosters_service.py) --

START = 1_800_000_000_000
END = START + 4 * 60 * MIN
RULES = AttendanceRules(grace_ms=10 * MIN, min_share=0.75)


def test_member_on_duty_from_the_start_to_the_end_is_present() -> None:
    spans = [DutySpan(5, START - 5 * MIN, END + MIN, 0, None)]
    assert classify(5, START, END, spans, excused=False, rules=RULES, now_ms=END).status == "present"


def test_member_who_came_after_the_grace_period_is_late() -> None:
    spans = [DutySpan(5, START + 20 * MIN, END, 0, None)]
    result = classify(5, START, END, spans, excused=False, rules=RULES, now_ms=END)
    assert (result.status, result.first_on_duty_ms) == ("late", START + 20 * MIN)


def test_long_breaks_do_not_count_as_time_on_duty() -> None:
    on_time = [DutySpan(5, START, END, 0, None)]
    assert classify(5, START, END, on_time, excused=False, rules=RULES, now_ms=END).status == "present"
    with_break = [DutySpan(5, START, END, 90 * MIN, None)]  # 150 of 240 minutes on duty: 62 %
    result = classify(5, START, END, with_break, excused=False, rules=RULES, now_ms=END)
    assert (result.status, result.on_duty_ms) == ("left_early", 150 * MIN)


def test_member_never_on_duty_is_absent_unless_on_leave() -> None:
    other = [DutySpan(6, START, END, 0, None)]
    assert classify(5, START, END, other, excused=False, rules=RULES, now_ms=END).status == "absent"
    assert classify(5, START, END, other, excused=True, rules=RULES, now_ms=END).status == "excused"


# -- the picture and the text --


def week_occurrences() -> tuple[date, list[Occurrence]]:
    monday = date(2026, 11, 30)
    templates = [
        template(1, "Night patrol", 22 * 60, 8 * 60, department="Patrol"),
        template(2, "Dispatch A", 9 * 60, 4 * 60, department="Dispatch"),
        template(3, "Dispatch B", 10 * 60, 4 * 60),
        template(4, "Event cover", 12 * 60, 2 * 60, days=parse_days("sat")),
    ]
    return monday, occurrences_between(templates, monday, monday + timedelta(days=6), LONDON)


def test_week_picture_is_a_png_with_every_shift_named_and_the_viewers_own_highlighted() -> None:
    monday, found = week_occurrences()
    week = render_week(found, monday, LONDON, mine={2})
    image = Image.open(io.BytesIO(week.png))
    assert (image.format, image.size) == ("PNG", (week.width, week.height))
    assert week.width >= 7 * 150 and week.height >= 24 * 25
    for name in ("Night patrol", "Dispatch A", "Dispatch B", "Event cover"):
        assert name in week.labels
    assert {b.name for b in week.blocks if b.mine} == {"Dispatch A"}


def test_overlapping_shifts_sit_side_by_side_in_their_day() -> None:
    monday, found = week_occurrences()
    week = render_week(found, monday, LONDON)
    a = next(b for b in week.blocks if b.name == "Dispatch A" and b.column == 0)
    b = next(b for b in week.blocks if b.name == "Dispatch B" and b.column == 0)
    assert a.box[2] <= b.box[0]  # A is left of B, not on top of it
    assert a.box[1] < b.box[1] < a.box[3]


def test_overnight_block_continues_at_the_top_of_the_next_day() -> None:
    monday, found = week_occurrences()
    week = render_week(found, monday, LONDON)
    parts = [b for b in week.blocks if b.name == "Night patrol" and b.column in (0, 1)]
    started = next(b for b in parts if b.column == 0 and not b.continued)
    continued = next(b for b in parts if b.column == 1 and b.continued)
    assert started.box[1] > continued.box[1]  # 22:00 below, 00:00 at the top
    assert continued.lines[0] == "… Night patrol"


def test_text_fallback_names_every_shift_and_fits_discord_messages() -> None:
    monday, found = week_occurrences()
    pages = week_text(found, monday, LONDON, mine={1})
    assert len(pages) == 1
    assert "- 22:00 to 06:00 next day: Night patrol, Patrol (yours)" in pages[0]
    assert "Saturday 05 December: 4 shifts" in pages[0]
    many = [template(i, f"Shift {i:03d} with a long name", (i * 7) % 1440, 60) for i in range(100)]
    crowded = occurrences_between(many, monday, monday + timedelta(days=6), LONDON)
    pages = week_text(crowded, monday, LONDON)
    assert len(pages) > 1 and all(len(p) <= 2000 for p in pages)
    assert sum(p.count("with a long name") for p in pages) == 700


def test_paginate_cuts_a_line_longer_than_a_message() -> None:
    pages = paginate(["short", "x" * 2500, "end"], 2000)
    assert all(len(p) <= 2000 for p in pages) and pages[-1].endswith("end")


def test_crowded_week_widens_the_days_so_every_block_keeps_a_label() -> None:
    monday = date(2026, 11, 30)
    many = [template(i, f"Shift {i:03d}", (i * 97) % 1440, 60 * (2 + i % 7)) for i in range(60)]
    week = render_week(occurrences_between(many, monday, monday + timedelta(days=6), LONDON), monday, LONDON)
    assert week.width > 7 * 168
    assert Image.open(io.BytesIO(week.png)).size == (week.width, week.height)
    tall_enough = [b for b in week.blocks if b.box[3] - b.box[1] >= 60]
    assert tall_enough and all(b.lines and b.lines[0].startswith(("Shift", "… Shift")) for b in tall_enough)


def test_shift_ending_in_the_repeated_autumn_hour_is_still_drawn() -> None:
    # 25 October 2026, London: 01:30 BST + 45 min of real time ends at 01:15 GMT, "before" it began.
    short = template(name="Handover", start=90, duration=45)
    monday = date(2026, 10, 19)
    found = occurrences_of(short, date(2026, 10, 25), date(2026, 10, 25), LONDON)
    assert (found[0].end.hour, found[0].end.minute) == (1, 15)
    week = render_week(found, monday, LONDON)
    [block] = week.blocks
    assert (block.column, block.lines[0]) == (6, "Handover")
    assert block.box[3] - block.box[1] >= 45 * 30 // 60 - 2


def test_week_picture_is_drawn_for_the_dark_theme_with_a_legend_and_ones_own_shifts_marked_by_shape() -> None:
    monday, found = week_occurrences()
    week = render_week(found, monday, LONDON, mine={2})
    image = Image.open(io.BytesIO(week.png)).convert("RGB")

    def luminance(x: int, y: int) -> float:
        r, g, b = image.getpixel((x, y))  # type: ignore[misc]
        return 0.2126 * r + 0.7152 * g + 0.0722 * b

    # Discord's dark theme behind it: a dark picture with light text, not a white sheet.
    assert luminance(week.width - 4, week.height - 4) < 70 and luminance(2, 2) < 70
    # A legend in words says what one's own shift looks like (not colour alone).
    assert week.legend == ("Scheduled shift", "Your shift (thick border, corner mark)")
    legend_strip = image.crop((0, week.height - 36, week.width, week.height))
    assert max(luminance(x, y) for x in range(0, legend_strip.width, 2) for y in range(legend_strip.height)) > 200
    # One's own: a thick border and a filled corner mark, where another block shows its plain fill.
    mine = next(b for b in week.blocks if b.mine and b.column == 0)
    other = next(b for b in week.blocks if not b.mine and b.column == 0 and b.box[3] - b.box[1] > 40)
    for block, marked in ((mine, True), (other, False)):
        left, top, right, bottom = block.box
        fill = image.getpixel((right - 12, bottom - 8))
        corner, border = image.getpixel((right - 5, top + 5)), image.getpixel((left + 3, top + 30))
        if marked:
            assert corner == border != fill, (block.name, corner, border, fill)
        else:
            assert corner == border == fill, (block.name, corner, border, fill)
    # Larger text for phones: hour rows 32 px tall (were 30), so a block's lines (18 px apart) fit.
    assert week.height >= 24 * 32 and mine.lines[:2] == ("Dispatch A", "09:00-13:00")
