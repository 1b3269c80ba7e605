"""The activity report of a guild, from the Discord side: who holds a quota role (the guild's member
cache), their quotas (the highest among their roles), who is on leave; then bot.duty.activity."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

import discord

from bot.activity_reports import current_period
from bot.duty import ActivityLine, Period
from bot.errors import InvalidInput

if TYPE_CHECKING:
    from bot.bot import NorthcaBot

Which = Literal["current", "last"]
HOUR_MS = 3_600_000


@dataclass(frozen=True)
class ActivityReport:
    period: Period
    lines: list[ActivityLine]
    role_id: int | None
    now_ms: int


def period_of(bot: NorthcaBot, guild_id: int, which: Which, now: int) -> Period:
    settings = bot.settings.get(guild_id)
    period = current_period(settings, now)
    if which == "last":
        assert period.start_ms is not None
        period = current_period(settings, period.start_ms - 1)
    return period


async def build_report(
    bot: NorthcaBot, guild: discord.Guild, period: Period, now: int, role_id: int | None = None
) -> ActivityReport:
    settings = bot.settings.get(guild.id)
    quotas = {rid: int(hours * HOUR_MS) for rid, hours in settings.role_quotas}
    if role_id is not None and role_id not in quotas:
        raise InvalidInput(f"<@&{role_id}> has no quota: set one with /activity quota, or pick a role that has one.")
    member_roles = {
        m.id: [r.id for r in m.roles if r.id in quotas]
        for m in guild.members
        if not m.bot and (role_id is None or m.get_role(role_id) is not None)
    }
    assert period.start_ms is not None and period.end_ms is not None
    on_leave = await bot.leave.on_leave_between(guild.id, period.start_ms, period.end_ms)
    lines = await bot.duty.activity(guild.id, period, member_roles, quotas, on_leave, now=now)
    return ActivityReport(period, lines, role_id, now)
