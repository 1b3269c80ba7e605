"""Periods in a guild's own time zone: this/last week, this/last month, the activity period, all time.

Weeks start at local midnight of `week_start` (0 = Monday … 6 = Sunday); months at local midnight
of the 1st. A two-week activity period is anchored: periods start on `anchor` (a local date) and
every 14 days from it, backwards and forwards. Boundaries are local midnights, so a week that
holds a DST change is 167 or 169 hours long.
"""

from __future__ import annotations

import typing
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

from bot.core.timefmt import from_ms, to_ms

PeriodChoice = Literal["this_week", "last_week", "this_month", "last_month", "activity", "all_time"]
ActivityKind = Literal["weekly", "biweekly", "monthly"]
PERIOD_CHOICES: tuple[PeriodChoice, ...] = typing.get_args(PeriodChoice)
PERIOD_LABELS: dict[PeriodChoice, str] = {
    "this_week": "This week",
    "last_week": "Last week",
    "this_month": "This month",
    "last_month": "Last month",
    "activity": "Current activity period",
    "all_time": "All time",
}


@dataclass(frozen=True)
class Period:
    """[start_ms, end_ms) in epoch ms; None = unbounded (all time)."""

    label: str
    start_ms: int | None
    end_ms: int | None

    def contains(self, at_ms: int) -> bool:
        return (self.start_ms is None or at_ms >= self.start_ms) and (self.end_ms is None or at_ms < self.end_ms)


def local_midnight(day: date, tz: ZoneInfo) -> int:
    return to_ms(datetime.combine(day, time(0), tzinfo=tz))


def _local_date(at_ms: int, tz: ZoneInfo) -> date:
    return from_ms(at_ms).astimezone(tz).date()


def week_of(at_ms: int, tz: ZoneInfo, week_start: int, weeks: int = 1, anchor: date | None = None) -> tuple[date, date]:
    """Local first day of the (multi-)week holding `at_ms`, and the first day after it."""
    today = _local_date(at_ms, tz)
    first = today - timedelta(days=(today.weekday() - week_start) % 7)
    if weeks > 1:
        base = anchor if anchor is not None else date(2024, 1, 1)
        base = base - timedelta(days=(base.weekday() - week_start) % 7)
        first = base + timedelta(days=((first - base).days // (7 * weeks)) * 7 * weeks)
    return first, first + timedelta(days=7 * weeks)


def month_of(at_ms: int, tz: ZoneInfo) -> tuple[date, date]:
    today = _local_date(at_ms, tz)
    first = today.replace(day=1)
    nxt = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
    return first, nxt


def _span(label: str, days: tuple[date, date], tz: ZoneInfo) -> Period:
    return Period(label, local_midnight(days[0], tz), local_midnight(days[1], tz))


def activity_period(
    at_ms: int, kind: ActivityKind, tz: ZoneInfo, week_start: int, anchor: date | None = None
) -> Period:
    """The activity period holding `at_ms`."""
    if kind == "monthly":
        return _span("Activity period", month_of(at_ms, tz), tz)
    weeks = 2 if kind == "biweekly" else 1
    return _span("Activity period", week_of(at_ms, tz, week_start, weeks, anchor), tz)


def last_ended_activity_period(
    now_ms: int, kind: ActivityKind, tz: ZoneInfo, week_start: int, anchor: date | None = None
) -> Period:
    """The activity period that ended most recently (the one before the current)."""
    current = activity_period(now_ms, kind, tz, week_start, anchor)
    assert current.start_ms is not None
    return activity_period(current.start_ms - 1, kind, tz, week_start, anchor)


def period_for(
    choice: PeriodChoice,
    now_ms: int,
    tz: ZoneInfo,
    week_start: int,
    activity_kind: ActivityKind = "weekly",
    anchor: date | None = None,
) -> Period:
    label = PERIOD_LABELS[choice]
    if choice == "all_time":
        return Period(label, None, None)
    if choice == "activity":
        p = activity_period(now_ms, activity_kind, tz, week_start, anchor)
        return Period(label, p.start_ms, p.end_ms)
    if choice in ("this_week", "last_week"):
        days = week_of(now_ms, tz, week_start)
        if choice == "last_week":
            days = week_of(local_midnight(days[0], tz) - 1, tz, week_start)
        return _span(label, days, tz)
    days = month_of(now_ms, tz)
    if choice == "last_month":
        days = month_of(local_midnight(days[0], tz) - 1, tz)
    return _span(label, days, tz)


def recent_weeks(now_ms: int, tz: ZoneInfo, week_start: int, count: int) -> list[tuple[date, Period]]:
    """The last `count` weeks up to the current one, oldest first: each week's first local day and its period."""
    first, _ = week_of(now_ms, tz, week_start)
    weeks = []
    for back in range(count - 1, -1, -1):
        day = first - timedelta(days=7 * back)
        weeks.append((day, _span(f"Week of {day.isoformat()}", (day, day + timedelta(days=7)), tz)))
    return weeks
