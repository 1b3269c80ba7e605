"""The activity report of a guild, from the Discord side: who holds a quota role (the guild's member
cache), their quotas (the highest among their roles), who is on leave; then bot.duty.activity, and
each member's roster attendance in the period (bot.rosters)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

import discord

from bot.core.activity_reports import current_period
from bot.core.duty import ActivityLine, Period
from bot.core.errors import InvalidInput
from bot.core.rosters import AttendanceCounts

if TYPE_CHECKING:
    from bot.discord.bot import NorthcaBot

Which = Literal["current", "last"]
HOUR_MS = 3_600_000


@dataclass(frozen=True)
class ActivityReport:
    period: Period
    lines: list[ActivityLine]
    role_id: int | None
    now_ms: int
    # Members with finished scheduled shifts in the period -> their attendance counts.
    attendance: dict[int, AttendanceCounts] = field(default_factory=dict)
    # The server's time zone (IANA name): the period's days are shown in it.
    timezone: str = "UTC"

    def roster_only(self) -> list[int]:
        """Members with scheduled shifts in the period who are not among the quota lines."""
        listed = {line.member_id for line in self.lines}
        return sorted(m for m in self.attendance if m not in listed)


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
        raise InvalidInput.said(
            f"<@&{role_id}> has no quota: set one with /settings quota, or pick a role that has one."
        )
    member_roles = {
        m.id: [r.id for r in m.roles if r.id in quotas]
        for m in guild.members
        if not m.bot and (role_id is None or m.get_role(role_id) is not None)
    }
    assert period.start_ms is not None and period.end_ms is not None
    on_leave = await bot.leave.on_leave_between(guild.id, period.start_ms, period.end_ms)
    lines = await bot.duty.activity(
        guild.id, period, member_roles, quotas, on_leave, now=now, quota_in_game=settings.erlc_quota_in_game
    )
    role_members = {role.id: [m.id for m in role.members] for role in guild.roles}
    excused = await bot.roster_leave.excused(guild.id, period.start_ms, period.end_ms)
    # Scheduled shifts of the period up to the report's time (only finished ones count).
    attendance = await bot.rosters.attendance_counts(
        guild.id, ZoneInfo(settings.timezone), period.start_ms, min(period.end_ms, now), role_members, excused
    )
    if role_id is not None:  # only the role's members, as the quota lines
        attendance = {m: c for m, c in attendance.items() if m in member_roles}
    return ActivityReport(period, lines, role_id, now, attendance, settings.timezone)
