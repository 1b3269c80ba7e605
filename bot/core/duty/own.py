"""A member's own duty time today and this week (the /shift status and panel figures), and the
duration a supervisor types for an adjustment. Both through the one rule (DutyService.totals)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta
from zoneinfo import ZoneInfo

from bot.core.duty.periods import Period, local_midnight, period_for
from bot.core.duty.records import MemberDuty
from bot.core.duty.service import DutyService
from bot.core.errors import ErrorKind, InvalidInput
from bot.core.parsing import whole_number
from bot.core.timefmt import from_ms

# ASCII digits only (bot/core/parsing.py): `\d` would also take `٣`.
_DURATION = re.compile(r"(?:(?P<d>[0-9]{1,3})\s*d)?\s*(?:(?P<h>[0-9]{1,4})\s*h)?\s*(?:(?P<m>[0-9]{1,5})\s*m(?:in)?)?\s*"
                       r"(?:(?P<s>[0-9]{1,6})\s*s)?")  # fmt: skip


@dataclass(frozen=True)
class OwnDuty:
    today_ms: int
    week_ms: int


def today_period(now_ms: int, tz: ZoneInfo) -> Period:
    day = from_ms(now_ms).astimezone(tz).date()
    return Period("Today", local_midnight(day, tz), local_midnight(day + timedelta(days=1), tz))


async def own_duty(
    duty: DutyService, guild_id: int, member_id: int, tz: ZoneInfo, week_start: int, now: int
) -> OwnDuty:
    """Today and this week in the guild's time zone: shifts split at the bounds, the open one up to
    now, adjustments made in the period counted (the same figures as the leaderboard)."""
    day = await duty.totals(guild_id, today_period(now, tz), now=now)
    week = await duty.totals(guild_id, period_for("this_week", now, tz, week_start), now=now)
    return OwnDuty(_of(day, member_id), _of(week, member_id))


def _of(totals: dict[int, MemberDuty], member_id: int) -> int:
    got = totals.get(member_id)
    return got.duty_ms if got is not None else 0


def parse_duration_ms(text: str) -> int:
    """`1h30m`, `45m`, `2h`, `90s`, `1d 2h`, or a bare number of minutes."""
    raw = text.strip().lower()
    minutes = whole_number(raw)
    if minutes is not None:
        return minutes * 60_000
    match = _DURATION.fullmatch(raw)
    if not raw or match is None or not any(match.groupdict().values()):
        raise InvalidInput(ErrorKind.NOT_A_DURATION, text=raw[:20])
    parts = {k: int(v or 0) for k, v in match.groupdict().items()}
    return ((parts["d"] * 24 + parts["h"]) * 60 + parts["m"]) * 60_000 + parts["s"] * 1000
