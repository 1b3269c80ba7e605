"""What the duty pages (leaderboard, shifts, leave, rosters, exports) share: reading the query and form fields
they take (each checked, a bad one refused with a message that says what to type), the guild's clock, names.

Names shown are text (the templates escape them): a member's name is their officer name on their latest shift,
else their id. The server and every id come from the URL or the form and are checked against that server by the
service called; nothing is taken from the browser as a permission.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from bot.core.duty import PERIOD_CHOICES, Period, PeriodChoice, period_for
from bot.core.duty.periods import PERIOD_LABELS, local_midnight
from bot.core.errors import InvalidInput
from bot.core.parsing import database_id, iso_day, whole_number
from bot.core.settings.records import WEEK_DAYS
from bot.core.timefmt import from_ms
from bot.web.dashboard.context import GuildContext

PERIOD_OPTIONS = [(choice, PERIOD_LABELS[choice]) for choice in PERIOD_CHOICES]


def field(values: Mapping[str, Any], name: str, most: int = 300) -> str:
    """A text field of the query or form, trimmed ('' when absent); too long is refused, not cut."""
    value = values.get(name)
    text = value.strip() if isinstance(value, str) else ""
    if len(text) > most:
        raise InvalidInput.said(f"“{name}” is {len(text)} characters long; keep it within {most}.")
    return text


def guild_zone(ctx: GuildContext) -> tuple[ZoneInfo, int]:
    """The guild's time zone and first day of the week (0 = Monday), from its settings."""
    return ZoneInfo(ctx.settings.timezone), WEEK_DAYS.index(ctx.settings.week_start)


def period_of(ctx: GuildContext, text: str, default: PeriodChoice, now: int) -> tuple[PeriodChoice, Period]:
    if not text:
        text = default
    if text not in PERIOD_CHOICES:
        raise InvalidInput.said(f"Pick a period from the list: {', '.join(PERIOD_LABELS.values())}.")
    choice: PeriodChoice = next(c for c in PERIOD_CHOICES if c == text)
    tz, week_start = guild_zone(ctx)
    return choice, period_for(choice, now, tz, week_start, ctx.settings.activity_period)


def member_id_of(text: str, what: str = "member") -> int | None:
    """A member's Discord id as typed ('' for none)."""
    if not text:
        return None
    found = database_id(text)
    if found is None:
        raise InvalidInput.said(f"The {what} must be a Discord user id (digits only, as Copy User ID gives it).")
    return found


def page_number_of(text: str) -> int:
    if not text:
        return 0
    number = whole_number(text, 100_000)
    if number is None:
        raise InvalidInput.said("The page must be a number.")
    return number


def day_of(text: str, what: str) -> date | None:
    if not text:
        return None
    try:
        return iso_day(text)
    except ValueError:
        raise InvalidInput.said(f"The {what} date must be written as YYYY-MM-DD, e.g. 2026-01-31.") from None


def day_bounds(ctx: GuildContext, first: date | None, last: date | None) -> tuple[int | None, int | None]:
    """[first local midnight, midnight after `last`) in the guild's time zone (None: unbounded)."""
    if first is not None and last is not None and last < first:
        raise InvalidInput.said(f"The end ({last.isoformat()}) is before the start ({first.isoformat()}).")
    tz, _ = guild_zone(ctx)
    start = local_midnight(first, tz) if first is not None else None
    end = local_midnight(last + timedelta(days=1), tz) if last is not None else None
    return start, end


def local_text(ctx: GuildContext, ms: int | None) -> str:
    """A moment as the server's people read it: `2026-01-31 14:05` in the server's time zone."""
    if ms is None:
        return "—"
    tz, _ = guild_zone(ctx)
    return from_ms(ms).astimezone(tz).strftime("%Y-%m-%d %H:%M")


async def names_of(ctx: GuildContext, member_ids: Iterable[int]) -> dict[int, str]:
    """Each member's officer name on their latest shift here; their id for a member without one."""
    wanted = list(member_ids)
    known = await ctx.services.duty.member_names(ctx.guild_id, wanted)
    return {m: known.get(m, str(m)) for m in wanted}


async def is_member(ctx: GuildContext, member_id: int) -> bool:
    """Whether the user id is a member of this server (Discord, as the bot sees it; cached)."""
    return await ctx.dashboard.api.member(ctx.guild_id, member_id) is not None
