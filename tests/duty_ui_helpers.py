"""Helpers for the activity and leave tests (through the harness): a guild with quota roles, a
reports channel, an on-leave role, supervisors; a clock the tests move; reading posted messages."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any

from bot.northca.sandbox import NorthcaSandbox
from bot.settings import ChannelFacts, RoleFacts
from bot.timefmt import to_ms
from tests.harness import Harness, Recorded, RoleOption, UserOption, builders
from tests.helpers.bot import BotStarter, link_guild
from tests.helpers.ids import ADMIN, GUILD, MEMBER_PERMS

SUPERVISOR = 666666666666666666
SUP_ROLE = 700000000000000002
QUOTA_ROLE = 700000000000000003
BIG_QUOTA_ROLE = 700000000000000004
LEAVE_ROLE = 700000000000000005
LOG_CH = 710000000000000001
GENERAL_CH = 710000000000000002
REPORTS_CH = 710000000000000003
GUILD_B = 121212121212121212
REPORTS_CH_B = 720000000000000003

SUPERVISOR_M = builders.member(SUPERVISOR, permissions=MEMBER_PERMS, username="sergeant", roles=[SUP_ROLE])


ROLE_NAMES = {SUP_ROLE: "Sergeant", QUOTA_ROLE: "Deputy", BIG_QUOTA_ROLE: "Senior Deputy", LEAVE_ROLE: "On Leave"}
ROLE_POSITIONS = {LEAVE_ROLE: 1, SUP_ROLE: 2, QUOTA_ROLE: 3, BIG_QUOTA_ROLE: 4}


def role_opt(role_id: int) -> RoleOption:
    return RoleOption(builders.role(role_id, ROLE_NAMES[role_id], position=ROLE_POSITIONS[role_id]))


def member_opt(payload: dict[str, Any]) -> UserOption:
    return UserOption(payload)


class Clock:
    """Epoch ms the tests set; given to the reporter and the leave service."""

    def __init__(self, at: datetime | None = None) -> None:
        self.ms = to_ms(at) if at is not None else to_ms(datetime.now(UTC))

    def __call__(self) -> int:
        return self.ms

    def set(self, at: datetime) -> None:
        self.ms = to_ms(at)


def member_m(user_id: int, *roles: int, name: str | None = None) -> dict[str, Any]:
    return builders.member(user_id, permissions=MEMBER_PERMS, username=name or f"m{user_id}", roles=list(roles))


async def boot(
    start_bot: BotStarter,
    sandbox: NorthcaSandbox,
    members: Sequence[dict[str, Any]] = (),
    *,
    clock: Clock | None = None,
    guild_id: int = GUILD,
    reports_channel: int | None = REPORTS_CH,
    quotas: Sequence[tuple[int, float]] = ((QUOTA_ROLE, 2.0),),
    harness: Harness | None = None,
    linked: bool = True,
) -> Harness:
    """The bot with a configured guild: supervisor role, shift log, reports channel, on-leave role, quotas.
    Settings are set through the real SettingsService (the /settings commands are another branch's)."""
    h = harness or await start_bot(
        shifts={"supervisor_role_ids": [SUP_ROLE], "sync_interval_seconds": 0.05}, clock=clock or Clock()
    )
    reports = REPORTS_CH if guild_id == GUILD else REPORTS_CH_B
    h.add_guild(
        guild_id,
        name="County RP" if guild_id == GUILD else "Other RP",
        owner_id=ADMIN,
        roles=[builders.role(r, ROLE_NAMES[r], position=ROLE_POSITIONS[r]) for r in ROLE_NAMES],
        members=[SUPERVISOR_M, *members],
        channels=[
            builders.channel(GENERAL_CH if guild_id == GUILD else GENERAL_CH + 100, guild_id=guild_id, name="general"),
            builders.channel(LOG_CH if guild_id == GUILD else LOG_CH + 100, guild_id=guild_id, name="shift-log"),
            builders.channel(reports, guild_id=guild_id, name="reports"),
        ],
    )
    settings = h.bot.settings
    await settings.set_channel(
        guild_id, ADMIN, "shift-log", ChannelFacts(LOG_CH if guild_id == GUILD else LOG_CH + 100, "log")
    )
    if reports_channel is not None:
        await settings.set_channel(guild_id, ADMIN, "reports", ChannelFacts(reports, "reports"))
    await settings.set_role(guild_id, ADMIN, "on-leave", RoleFacts(LEAVE_ROLE, "On Leave"))
    for role_id, hours in quotas:
        await settings.set_role_quota(guild_id, ADMIN, RoleFacts(role_id, "quota"), hours)
    if linked:
        await link_guild(h.bot, sandbox, guild_id=guild_id)
    return h


def posts_to(h: Harness, channel_id: int, since: int = 0) -> list[Recorded]:
    return [r for r in h.fake.find("POST", rf"^/channels/{channel_id}/messages$") if r.seq >= since and r.ok]


def description(rec: Recorded) -> str:
    embeds = (rec.json or {}).get("embeds") or []
    return str(embeds[0].get("description", "")) if embeds else ""


def role_changes(h: Harness, member_id: int, role_id: int, method: str) -> list[Recorded]:
    return h.fake.find(method, rf"^/guilds/\d+/members/{member_id}/roles/{role_id}$")
