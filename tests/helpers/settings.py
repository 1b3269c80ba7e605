"""Two servers in one bot, each configured from Discord with /settings: the set-up and the readers of the
/settings tests. GUILD ("County A") uses the ids of tests/helpers/ids.py; OTHER_GUILD ("City B") has its own."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, Final

from bot.core.timefmt import now_ms
from bot.northca.sandbox import NorthcaSandbox
from tests.harness import Harness, Reply, builders
from tests.helpers.bot import BotStarter, link_guild, northca_bot
from tests.helpers.ids import (
    ADMIN,
    ADMIN_M,
    DEPARTMENT_ROLE,
    GENERAL_CH,
    GUILD,
    LOG_CH,
    ON_BREAK_ROLE,
    ON_DUTY_ROLE,
    OTHER_GUILD,
    SUPERVISOR_ROLE,
)

# OTHER_GUILD's channels and roles. B_HIGH sits above the bot's own role; B_BOOST is Discord-managed.
B_LOG: Final = 730000000000000001
B_GENERAL: Final = 730000000000000002
B_DUTY: Final = 750000000000000001
B_HIGH: Final = 750000000000000002
B_BOOST: Final = 750000000000000003


async def two_servers(
    start_bot: BotStarter,
    sandbox: NorthcaSandbox,
    *,
    b_permissions: int | None = None,
    clock: Callable[[], int] = now_ms,
) -> Harness:
    """The bot in GUILD and OTHER_GUILD, both linked; OTHER_GUILD grants the bot `b_permissions` when given."""
    h = await start_bot(shifts={"sync_interval_seconds": 0.05}, clock=clock)
    h.add_guild(
        GUILD,
        name="County A",
        owner_id=ADMIN,
        roles=[
            builders.role(ON_DUTY_ROLE, "On Duty A", position=1),
            builders.role(DEPARTMENT_ROLE, "Sheriff", position=2),
            builders.role(ON_BREAK_ROLE, "On Break A", position=3),
            builders.role(SUPERVISOR_ROLE, "Sergeant A", position=4),
        ],
        channels=[
            builders.channel(GENERAL_CH, guild_id=GUILD, name="general"),
            builders.channel(LOG_CH, guild_id=GUILD, name="shift-log"),
        ],
    )
    h.add_guild(
        OTHER_GUILD,
        name="City B",
        owner_id=ADMIN,
        roles=[
            builders.role(B_DUTY, "On Duty B", position=1),
            builders.role(B_HIGH, "Owner", position=10),
            builders.role(B_BOOST, "Server Booster", position=2, managed=True, tags={"premium_subscriber": None}),
        ],
        channels=[
            builders.channel(B_GENERAL, guild_id=OTHER_GUILD, name="general"),
            builders.channel(B_LOG, guild_id=OTHER_GUILD, name="duty-log"),
        ],
        me_role_position=5,
        me_permissions=builders.DEFAULT_APP_PERMISSIONS if b_permissions is None else b_permissions,
    )
    await link_guild(northca_bot(h), sandbox)
    await link_guild(northca_bot(h), sandbox, guild_id=OTHER_GUILD)
    return h


def channel_opt(channel_id: int, guild_id: int, name: str) -> builders.ChannelOption:
    """A channel as a command's channel option."""
    return builders.ChannelOption(builders.channel(channel_id, guild_id=guild_id, name=name))


def role_opt(h: Harness, guild_id: int, role_id: int) -> builders.RoleOption:
    """A role of the bot's cached guild as a command's role option."""
    guild = h.bot.get_guild(guild_id)
    role = guild.get_role(role_id) if guild is not None else None
    assert role is not None, (guild_id, role_id)
    return builders.RoleOption(builders.role(role.id, role.name, position=role.position, managed=role.managed))


async def admin(h: Harness, command: str, guild_id: int = GUILD, **options: object) -> Reply:
    """`command` run by ADMIN in `guild_id`; its (private) answer."""
    reply = await h.slash(command, member=ADMIN_M, guild_id=guild_id, options=options)
    assert reply.ephemeral, reply
    return reply


def role_calls(h: Harness, method: str, guild_id: int) -> list[int]:
    """The role ids of the bot's PUTs (or DELETEs) of member roles in `guild_id`."""
    return [int(r.path.rsplit("/", 1)[1]) for r in h.fake.find(method, rf"^/guilds/{guild_id}/members/\d+/roles/\d+$")]


async def log_posts(h: Harness, channel_id: int, pattern: str) -> dict[str, Any]:
    """The first message posted in `channel_id` whose content matches `pattern`; waits for it."""
    rec = await h.fake.wait_for(
        lambda r: re.search(pattern, (r.json or {}).get("content", "")) is not None,
        method="POST",
        path=rf"^/channels/{channel_id}/messages$",
    )
    return dict(rec.json)


async def configure_both(h: Harness) -> None:
    """Shift log, on-duty and on-break roles and the Sheriff department on GUILD; shift log and on-duty on
    OTHER_GUILD: all through /settings."""
    await admin(h, "settings channel", kind="shift-log", channel=channel_opt(LOG_CH, GUILD, "shift-log"))
    await admin(h, "settings role", kind="on-duty", role=role_opt(h, GUILD, ON_DUTY_ROLE))
    await admin(h, "settings role", kind="on-break", role=role_opt(h, GUILD, ON_BREAK_ROLE))
    await admin(h, "settings department add", name="Sheriff", role=role_opt(h, GUILD, DEPARTMENT_ROLE))
    await admin(
        h,
        "settings channel",
        guild_id=OTHER_GUILD,
        kind="shift-log",
        channel=channel_opt(B_LOG, OTHER_GUILD, "duty-log"),
    )
    await admin(h, "settings role", guild_id=OTHER_GUILD, kind="on-duty", role=role_opt(h, OTHER_GUILD, B_DUTY))
