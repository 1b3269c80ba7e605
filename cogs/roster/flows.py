"""What /roster commands and buttons do (shared by both): permission, time zone, periods, audit lines."""

from __future__ import annotations

import logging
import re
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import discord

from bot.core.errors import InvalidInput
from bot.core.parsing import database_id, iso_day
from bot.core.rosters import RosterTemplate, week_start, zone_of
from bot.core.timefmt import to_ms
from bot.discord.bot import NorthcaBot, bot_of
from bot.discord.interactions import post, require_guild, require_supervisor
from cogs.roster.embeds import audit_line

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()
MAX_PERIOD_DAYS = 62


def require_roster_supervisor(interaction: discord.Interaction[Any], doing: str) -> None:
    """Manage Server or one of this guild's supervisor roles (read from its settings at every use)."""
    settings = bot_of(interaction).settings.get(require_guild(interaction))
    require_supervisor(interaction, list(settings.supervisor_role_ids), doing)


def guild_zone(bot: NorthcaBot, guild_id: int) -> ZoneInfo:
    return zone_of(bot.settings.get(guild_id).timezone)


def today(bot: NorthcaBot, zone: ZoneInfo) -> date:
    return datetime.fromtimestamp(bot.rosters.clock() / 1000, tz=zone).date()


def role_ids_of(interaction: discord.Interaction[Any]) -> list[int]:
    user = interaction.user
    return [r.id for r in user.roles] if isinstance(user, discord.Member) else []


async def pick_template(bot: NorthcaBot, guild_id: int, given: str) -> RosterTemplate:
    """The template the user picked: its id from the autocomplete, or its name typed out."""
    text = given.strip()
    template_id = database_id(text)
    if template_id is not None:
        return await bot.rosters.template(guild_id, template_id)
    for t in await bot.rosters.templates(guild_id):
        if t.name.lower() == text.lower():
            return t
    raise InvalidInput.said(f"no scheduled shift named {text[:40]!r} on this server: pick one from the list")


def parse_week(given: str | None, current: date) -> date:
    """The Monday of the week asked for: empty/`this`, `next`, `last`, `+2`/`-1` (weeks from now),
    or any date in it (YYYY-MM-DD)."""
    text = (given or "").strip().lower()
    monday = week_start(current)
    if text in ("", "this"):
        return monday
    if text in ("next", "last"):
        return monday + timedelta(weeks=1 if text == "next" else -1)
    if re.fullmatch(r"[+-][0-9]{1,2}", text):
        return monday + timedelta(weeks=int(text))
    try:
        return week_start(iso_day(text))
    except ValueError:
        raise InvalidInput.said(
            f"week must be this, next, last, +N/-N weeks, or a date like 2026-12-07 (got {text[:20]!r})"
        ) from None


def parse_period(given: str | None, current: date) -> tuple[date, date]:
    """First and last local date asked for: `last-week` (default), `this-week`, `today`, `yesterday`,
    a date, or `YYYY-MM-DD..YYYY-MM-DD` (at most MAX_PERIOD_DAYS days)."""
    text = (given or "").strip().lower()
    monday = week_start(current)
    named = {
        "": (monday - timedelta(weeks=1), monday - timedelta(days=1)),
        "last-week": (monday - timedelta(weeks=1), monday - timedelta(days=1)),
        "this-week": (monday, monday + timedelta(days=6)),
        "today": (current, current),
        "yesterday": (current - timedelta(days=1), current - timedelta(days=1)),
    }
    if text in named:
        return named[text]
    try:
        first_text, _, last_text = text.partition("..")
        first = iso_day(first_text.strip())
        last = iso_day(last_text.strip()) if last_text else first
    except ValueError:
        raise InvalidInput.said(
            "period must be last-week, this-week, today, yesterday, a date like 2026-12-01,"
            f" or a range like 2026-12-01..2026-12-07 (got {text[:30]!r})"
        ) from None
    return check_period(first, last)


def check_period(first: date, last: date) -> tuple[date, date]:
    """The limits of a period asked for: by /roster attendance, and again by its page buttons (their custom id
    carries the dates, and a forged one could carry any)."""
    if last < first:
        raise InvalidInput.said(f"the period ends ({last.isoformat()}) before it starts ({first.isoformat()})")
    if (last - first).days + 1 > MAX_PERIOD_DAYS:
        raise InvalidInput.said(f"a period is at most {MAX_PERIOD_DAYS} days: ask for a shorter one")
    return first, last


def period_ms(first: date, last: date, zone: ZoneInfo) -> tuple[int, int]:
    """[local midnight of `first`, local midnight after `last`) in epoch ms."""
    start = datetime.combine(first, time(), tzinfo=zone)
    end = datetime.combine(last + timedelta(days=1), time(), tzinfo=zone)
    return to_ms(start), to_ms(end)


async def log_to_shift_log(bot: NorthcaBot, guild_id: int, actor_id: int, what: str) -> None:
    """The audit line in the guild's shift-log channel, when one is set (the action is logged anyway)."""
    channel_id = bot.settings.get(guild_id).shift_log_channel_id
    guild = bot.get_guild(guild_id)
    channel = guild.get_channel(channel_id) if guild is not None and channel_id is not None else None
    if not isinstance(channel, discord.TextChannel):
        return
    try:
        await post(channel, audit_line(actor_id, what), allowed_mentions=NO_MENTIONS)
    except discord.HTTPException as exc:
        log.warning("could not post the roster audit line to channel %s: %s", channel_id, exc.text)
