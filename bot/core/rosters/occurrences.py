"""Occurrences: each time a template runs, computed from the template and never stored.

Rules (the guild's time zone is a parameter, a `zoneinfo` key such as "Europe/London"):
- An occurrence belongs to the local date it starts on; an overnight one (22:00 for 8 h) ends
  on the next day but is still that day's.
- The start is the local wall time `start_minute` after midnight on that date, resolved by
  zoneinfo with fold=0:
  * in the spring-forward gap (02:30 on a day that jumps from 02:00 to 03:00) it is read with the
    offset before the change, which is the instant the clock shows 03:30: shifted forward by the
    size of the gap;
  * in the repeated autumn hour (01:30 happens twice) it is the first of the two.
- The end is the start plus the duration in real elapsed time: an 8-hour night over a change
  of the clocks lasts 8 hours (and ends at 07:00 or 05:00 on the wall clock).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.rosters.records import RosterTemplate
from bot.core.timefmt import to_ms


@dataclass(frozen=True)
class Occurrence:
    template_id: int
    name: str
    department: str | None
    day: date  # the local date it starts on (and belongs to)
    start: datetime  # aware, in the guild's zone
    end: datetime  # aware, in the guild's zone
    start_ms: int
    end_ms: int

    @property
    def duration_ms(self) -> int:
        return self.end_ms - self.start_ms


def local_start(template: RosterTemplate, day: date, zone: ZoneInfo) -> datetime:
    """The start on `day` as an aware datetime in `zone` (gap: shifted forward; fold: the first)."""
    wall = datetime.combine(day, time(template.start_minute // 60, template.start_minute % 60), tzinfo=zone)
    # Through UTC and back: a wall time in the gap comes back as the real local time (03:30).
    return wall.astimezone(UTC).astimezone(zone)


def occurrences_of(template: RosterTemplate, first: date, last: date, zone: ZoneInfo) -> list[Occurrence]:
    """The occurrences starting on the local dates first..last (both inclusive), in order."""
    found: list[Occurrence] = []
    day = first
    while day <= last:
        if template.runs_on(day):
            start = local_start(template, day, zone)
            end_utc = start.astimezone(UTC) + timedelta(minutes=template.duration_minutes)
            start_ms = to_ms(start)
            found.append(
                Occurrence(
                    template.id,
                    template.name,
                    template.department,
                    day,
                    start,
                    end_utc.astimezone(zone),
                    start_ms,
                    start_ms + template.duration_minutes * 60_000,
                )
            )
        day += timedelta(days=1)
    return found


def occurrences_between(
    templates: Iterable[RosterTemplate], first: date, last: date, zone: ZoneInfo
) -> list[Occurrence]:
    """Every template's occurrences on first..last, sorted by start then name."""
    found = [o for t in templates for o in occurrences_of(t, first, last, zone)]
    found.sort(key=lambda o: (o.start_ms, o.name))
    return found


def occurrences_overlapping(
    templates: Iterable[RosterTemplate], start_ms: int, end_ms: int, zone: ZoneInfo
) -> list[Occurrence]:
    """Occurrences whose [start, end) meets [start_ms, end_ms) (looks one day back for overnight ones)."""
    first = datetime.fromtimestamp(start_ms / 1000, tz=zone).date() - timedelta(days=1)
    last = datetime.fromtimestamp(end_ms / 1000, tz=zone).date()
    return [o for o in occurrences_between(templates, first, last, zone) if o.start_ms < end_ms and o.end_ms > start_ms]


def week_start(day: date) -> date:
    """The Monday of the week `day` is in."""
    return day - timedelta(days=day.weekday())
