"""Property tests of every parser of what people type or what a custom id carries (hypothesis; the profile is set in
tests/conftest.py: derandomized, 200 examples). Whatever the input: a value within the parser's contract, or the
typed refusal the one error handler words (InvalidInput, or ValueError where the caller words it); never another
exception. The strategies mix any text with near-misses: look-alike digits (`²`, `①`, `٣`), huge numbers, dates at
the ends of the calendar."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo, available_timezones

from hypothesis import given
from hypothesis import strategies as st

from bot.core.dispatch.records import report_when
from bot.core.duty.own import parse_duration_ms
from bot.core.errors import InvalidInput, UserFacingError
from bot.core.leave import parse_day
from bot.core.links import clean_status, validate_mdt_id
from bot.core.parsing import FIRST_DAY, LAST_DAY, MAX_ID, database_id, iso_day, whole_number
from bot.core.profiles import CALLSIGN_MAX, clean_text, normalise_callsign
from bot.core.rosters import parse_date, parse_days, parse_duration, parse_start, zone_of
from bot.core.settings.records import MAX_CODE
from bot.core.settings.service import check_code, check_timezone
from bot.discord.custom_ids import RefusedCustomId, day_of, id_of, optional_id_of, page_number
from bot.wording import error_text
from cogs.roster.flows import MAX_PERIOD_DAYS, parse_period, parse_week, period_ms

T = TypeVar("T")

# Characters for which str.isdigit() is true but which are no ASCII digit, and some that int() takes anyway.
LOOKALIKE_DIGITS = "²³¹①⑨٣۵߂०๓０𝟗"
digits = st.text(alphabet="0123456789" + LOOKALIKE_DIGITS, min_size=1, max_size=25)
numbers = st.one_of(
    st.integers(min_value=-(2**70), max_value=2**70).map(str),
    st.sampled_from([str(MAX_ID), str(MAX_ID + 1), str(2**64), "0", "00", "9" * 19, "9" * 20, "9" * 5000]),
)
extreme_days = st.dates(min_value=date(1, 1, 1), max_value=date(9999, 12, 31)).map(date.isoformat)
typed = st.one_of(st.text(max_size=40), digits, numbers, extreme_days)
# "today" as the bot's clock may say it (the parsers take it as a parameter).
todays = st.dates(min_value=date(2000, 1, 1), max_value=date(2200, 12, 31))
ZONES = [ZoneInfo(k) for k in ("UTC", "Europe/London", "America/New_York", "Pacific/Kiritimati", "Etc/GMT+12")]


def outcome(parse: Callable[[], T], *refusals: type[Exception]) -> T | None:
    """The parser's value, or None when it refused with one of `refusals` (a refusal the front door cannot word is
    no clear answer). Any other exception fails the test."""
    try:
        return parse()
    except refusals as exc:
        message = error_text(exc) if isinstance(exc, UserFacingError) else str(exc)
        assert message.strip(), f"{type(exc).__name__} without a message"
        return None


# --- the shared pieces (bot/core/parsing.py) and the custom id values (bot/discord/custom_ids.py)


@given(typed)
def test_whole_numbers_and_ids_are_ascii_digits_within_64_bits(text: str) -> None:
    value = whole_number(text)
    if value is not None:
        assert re.fullmatch(r"[0-9]+", text, re.ASCII) and 0 <= value <= MAX_ID and int(text) == value
    identifier = database_id(text)
    assert identifier is None or 1 <= identifier <= MAX_ID
    from_custom_id = outcome(lambda: id_of(text), RefusedCustomId)
    assert from_custom_id == identifier
    assert outcome(lambda: optional_id_of(text), RefusedCustomId) in (None, identifier)
    page = outcome(lambda: page_number(text), RefusedCustomId)
    assert page is None or 0 <= page <= 9999


@given(typed)
def test_days_are_iso_dates_within_the_calendar_the_bot_computes_with(text: str) -> None:
    day = outcome(lambda: iso_day(text), ValueError)
    if day is not None:
        assert FIRST_DAY <= day <= LAST_DAY and day.isoformat() == text
        for zone in ZONES:  # a week on, and its midnights in any zone, stay in Python's calendar
            period_ms(day, day + timedelta(days=7), zone)
    assert outcome(lambda: day_of(text), RefusedCustomId) == day


# --- durations, times of day, days of the week, dates -------------------------------------------------------------


@given(typed)
def test_roster_durations_are_1_to_1440_minutes_or_refused(text: str) -> None:
    minutes = outcome(lambda: parse_duration(text), InvalidInput)
    assert minutes is None or 1 <= minutes <= 1440


@given(typed)
def test_adjustment_durations_are_whole_milliseconds_or_refused(text: str) -> None:
    amount = outcome(lambda: parse_duration_ms(text), InvalidInput)
    assert amount is None or (amount >= 0 and amount % 1000 == 0)


@given(st.one_of(typed, st.from_regex(r"[0-9²①٣]{1,2}(:[0-9٣]{2})? ?(am|pm)?", fullmatch=True)))
def test_start_times_are_a_minute_of_the_day_or_refused(text: str) -> None:
    minute = outcome(lambda: parse_start(text), InvalidInput)
    assert minute is None or 0 <= minute <= 1439


@given(st.one_of(typed, st.from_regex(r"(mon|tue|wed|thu|fri|sat|sun|x)(-(mon|sun|x))?([ ,]+fri)?", fullmatch=True)))
def test_days_of_the_week_are_a_mask_or_refused(text: str) -> None:
    mask = outcome(lambda: parse_days(text), InvalidInput)
    assert mask is None or 1 <= mask <= 0b1111111


@given(typed)
def test_template_dates_are_within_the_calendar_or_refused(text: str) -> None:
    day = outcome(lambda: parse_date(text, "valid_from"), InvalidInput)
    assert day is None or FIRST_DAY <= day <= LAST_DAY


@given(st.one_of(typed, st.from_regex(r"[+-][0-9٣]{1,3}", fullmatch=True), st.sampled_from(["next", "last", ""])),
       todays)  # fmt: skip
def test_weeks_are_a_monday_whose_week_the_bot_can_compute_or_refused(text: str, today: date) -> None:
    monday = outcome(lambda: parse_week(text, today), InvalidInput)
    if monday is not None:
        assert monday.weekday() == 0
        for zone in ZONES:
            period_ms(monday, monday + timedelta(days=6), zone)


@given(st.one_of(typed, st.tuples(extreme_days, extreme_days).map("..".join)), todays)
def test_periods_are_at_most_the_limit_in_order_or_refused(text: str, today: date) -> None:
    period = outcome(lambda: parse_period(text, today), InvalidInput)
    if period is not None:
        first, last = period
        assert first <= last and (last - first).days < MAX_PERIOD_DAYS
        for zone in ZONES:
            period_ms(first, last, zone)


@given(st.one_of(typed, st.sampled_from(["today", "tomorrow"])), todays)
def test_leave_days_are_dates_or_refused(text: str, today: date) -> None:
    outcome(lambda: parse_day(text, today), InvalidInput)


@given(st.one_of(typed, st.from_regex(r"[0-9٣]{4}-[0-9]{2}-[0-9]{2}( [0-9²]{1,2}:[0-9]{2})?", fullmatch=True)),
       st.sampled_from([z.key for z in ZONES]))  # fmt: skip
def test_scene_report_times_are_a_date_and_a_clock_time_or_refused(text: str, zone: str) -> None:
    now = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
    when = outcome(lambda: report_when(text, zone, now), InvalidInput)
    if when is not None:
        day, clock = when
        date.fromisoformat(day)
        assert re.fullmatch(r"([01][0-9]|2[0-3]):[0-5][0-9]", clock, re.ASCII), clock


# --- time zones, callsigns, 10-codes, the other names people type -----------------------------------------------


@given(st.one_of(typed, st.sampled_from(sorted(available_timezones())), st.sampled_from(["America/", "/UTC", "..",
       "zone.tab", "posixrules", "Etc", "a" * 300, "Europe/../UTC"])))  # fmt: skip
def test_time_zones_are_ones_zoneinfo_opens_or_refused(text: str) -> None:
    key = outcome(lambda: check_timezone(text), InvalidInput)
    if key is not None:
        assert zone_of(key).key == key


@given(st.one_of(typed, st.from_regex(r"[A-Za-z0-9ßﬃ²-]{1,20}", fullmatch=True)))
def test_callsigns_are_letters_digits_and_single_dashes_or_refused(text: str) -> None:
    callsign = outcome(lambda: normalise_callsign(text), InvalidInput)
    if callsign is not None:
        assert len(callsign) <= CALLSIGN_MAX and re.fullmatch(r"[A-Z0-9]+(-[A-Z0-9]+)*", callsign, re.ASCII)


@given(st.one_of(typed, st.from_regex(r"10-[0-9²]{1,3}|Code [0-9]", fullmatch=True)))
def test_ten_codes_are_short_plain_codes_or_refused(text: str) -> None:
    code = outcome(lambda: check_code(text), InvalidInput)
    if code is not None:
        assert len(code) <= MAX_CODE and re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9 ./-]*", code, re.ASCII)


@given(typed, st.sampled_from(["badge", "rank", "department", "name"]))
def test_profile_texts_and_mdt_ids_are_clean_text_or_refused(text: str, field_name: str) -> None:
    outcome(lambda: clean_text(field_name, text), InvalidInput)
    outcome(lambda: validate_mdt_id(text), InvalidInput)
    assert re.fullmatch(r"[a-z0-9_-]{1,40}", clean_status(text), re.ASCII)


def test_the_strategies_reach_the_accepting_paths() -> None:
    """Guards against a vacuous pass: the values the properties constrain are produced for typical inputs."""
    accepted: list[Any] = [
        parse_duration("1h30m"),
        parse_duration_ms("90"),
        parse_start("9:30pm"),
        parse_week("+2", date(2026, 12, 2)),
        parse_period("2026-11-01..2026-11-30", date(2026, 12, 2)),
        check_timezone("Europe/London"),
        normalise_callsign("adam-12"),
        check_code("10-8"),
        id_of(str(MAX_ID)),
        day_of("9998-12-31"),
    ]
    assert accepted == [
        90, 5_400_000, 21 * 60 + 30, date(2026, 12, 14), (date(2026, 11, 1), date(2026, 11, 30)), "Europe/London",
        "ADAM-12", "10-8", MAX_ID, LAST_DAY,
    ]  # fmt: skip
