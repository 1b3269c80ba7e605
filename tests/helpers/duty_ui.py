"""The activity and leave set-up (through the harness): a guild with quota roles, a reports channel, an on-leave
role and the supervisor, configured through the real SettingsService."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Final

from bot.core.settings import ChannelFacts, RoleFacts
from bot.northca.sandbox import NorthcaSandbox
from tests.harness import Harness, RoleOption, builders
from tests.helpers.bot import BotStarter, link_guild, northca_bot
from tests.helpers.clock import Clock
from tests.helpers.ids import (
    ADMIN,
    GENERAL_CH,
    GUILD,
    LOG_CH,
    REPORTS_CH,
    SUPERVISOR_M,
    SUPERVISOR_ROLE,
)

QUOTA_ROLE: Final = 700000000000000003  # "Deputy": 2 h a week by default
BIG_QUOTA_ROLE: Final = 700000000000000004  # "Senior Deputy"
LEAVE_ROLE: Final = 700000000000000005  # "On Leave": the on-leave role
OTHER_REPORTS_CH: Final = 720000000000000003  # the reports channel of OTHER_GUILD

ROLE_NAMES: Final = {
    SUPERVISOR_ROLE: "Sergeant",
    QUOTA_ROLE: "Deputy",
    BIG_QUOTA_ROLE: "Senior Deputy",
    LEAVE_ROLE: "On Leave",
}
ROLE_POSITIONS: Final = {LEAVE_ROLE: 1, SUPERVISOR_ROLE: 2, QUOTA_ROLE: 3, BIG_QUOTA_ROLE: 4}


def role_opt(role_id: int) -> RoleOption:
    """One of the duty guild's roles as a command's role option."""
    return RoleOption(builders.role(role_id, ROLE_NAMES[role_id], position=ROLE_POSITIONS[role_id]))


async def boot_duty_guild(
    start_bot: BotStarter,
    sandbox: NorthcaSandbox,
    members: Sequence[Mapping[str, Any]] = (),
    *,
    clock: Clock | None = None,
    guild_id: int = GUILD,
    reports_channel: int | None = REPORTS_CH,
    quotas: Sequence[tuple[int, float]] = ((QUOTA_ROLE, 2.0),),
    harness: Harness | None = None,
    linked: bool = True,
) -> Harness:
    """The bot (or `harness`'s) with a configured guild: supervisor role, shift log, reports channel, on-leave
    role, quotas. Settings are set through the real SettingsService."""
    h = harness or await start_bot(
        shifts={"supervisor_role_ids": [SUPERVISOR_ROLE], "sync_interval_seconds": 0.05}, clock=clock or Clock()
    )
    reports = REPORTS_CH if guild_id == GUILD else OTHER_REPORTS_CH
    log = LOG_CH if guild_id == GUILD else LOG_CH + 100
    h.add_guild(
        guild_id,
        name="County RP" if guild_id == GUILD else "Other RP",
        owner_id=ADMIN,
        roles=[builders.role(r, ROLE_NAMES[r], position=ROLE_POSITIONS[r]) for r in ROLE_NAMES],
        members=[SUPERVISOR_M, *members],
        channels=[
            builders.channel(GENERAL_CH if guild_id == GUILD else GENERAL_CH + 100, guild_id=guild_id, name="general"),
            builders.channel(log, guild_id=guild_id, name="shift-log"),
            builders.channel(reports, guild_id=guild_id, name="reports"),
        ],
    )
    settings = northca_bot(h).settings
    await settings.set_channel(guild_id, ADMIN, "shift-log", ChannelFacts(log, "log"))
    if reports_channel is not None:
        await settings.set_channel(guild_id, ADMIN, "reports", ChannelFacts(reports, "reports"))
    await settings.set_role(guild_id, ADMIN, "on-leave", RoleFacts(LEAVE_ROLE, "On Leave"))
    for role_id, hours in quotas:
        await settings.set_role_quota(guild_id, ADMIN, RoleFacts(role_id, "quota"), hours)
    if linked:
        await link_guild(northca_bot(h), sandbox, guild_id=guild_id)
    return h
