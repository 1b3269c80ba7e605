"""Two servers in one bot, each configured from Discord: the set-up and readers shared by the /settings tests."""

from __future__ import annotations

import re
from typing import Any

from bot.timefmt import now_ms
from tests.harness import builders
from tests.helpers.bot import link_guild
from tests.helpers.ids import ADMIN, ADMIN_M, GUILD, MEMBER_PERMS

GUILD_B = 121212121212121212
A_LOG, A_GENERAL = 720000000000000001, 720000000000000002
B_LOG, B_GENERAL = 730000000000000001, 730000000000000002
A_DUTY, A_SHERIFF, A_BREAK, A_SUP = 740000000000000001, 740000000000000002, 740000000000000003, 740000000000000004
B_DUTY, B_HIGH, B_BOOST = 750000000000000001, 750000000000000002, 750000000000000003
SERGEANT = 666666666666666666
SERGEANT_M = builders.member(SERGEANT, permissions=MEMBER_PERMS, username="sergeant", roles=[A_SUP])


async def two_servers(start_bot, sandbox, *, b_permissions: int | None = None, clock: Any = now_ms) -> Any:
    h = await start_bot(shifts={"sync_interval_seconds": 0.05}, clock=clock)
    h.add_guild(
        GUILD,
        name="County A",
        owner_id=ADMIN,
        roles=[
            builders.role(A_DUTY, "On Duty A", position=1),
            builders.role(A_SHERIFF, "Sheriff", position=2),
            builders.role(A_BREAK, "On Break A", position=3),
            builders.role(A_SUP, "Sergeant A", position=4),
        ],
        channels=[
            builders.channel(A_GENERAL, guild_id=GUILD, name="general"),
            builders.channel(A_LOG, guild_id=GUILD, name="shift-log"),
        ],
    )
    extra = {} if b_permissions is None else {"me_permissions": b_permissions}
    h.add_guild(
        GUILD_B,
        name="City B",
        owner_id=ADMIN,
        roles=[
            builders.role(B_DUTY, "On Duty B", position=1),
            builders.role(B_HIGH, "Owner", position=10),
            builders.role(B_BOOST, "Server Booster", position=2, managed=True, tags={"premium_subscriber": None}),
        ],
        channels=[
            builders.channel(B_GENERAL, guild_id=GUILD_B, name="general"),
            builders.channel(B_LOG, guild_id=GUILD_B, name="duty-log"),
        ],
        me_role_position=5,
        **extra,
    )
    await link_guild(h.bot, sandbox)
    await link_guild(h.bot, sandbox, guild_id=GUILD_B)
    return h


def channel_opt(channel_id: int, guild_id: int, name: str) -> builders.ChannelOption:
    return builders.ChannelOption(builders.channel(channel_id, guild_id=guild_id, name=name))


def role_opt(h: Any, guild_id: int, role_id: int) -> builders.RoleOption:
    role = h.bot.get_guild(guild_id).get_role(role_id)
    return builders.RoleOption(builders.role(role.id, role.name, position=role.position, managed=role.managed))


async def admin(h: Any, command: str, guild_id: int = GUILD, **options: Any) -> Any:
    reply = await h.slash(command, member=ADMIN_M, guild_id=guild_id, **options)
    assert reply.ephemeral, reply
    return reply


def role_calls(h: Any, method: str, guild_id: int) -> list[int]:
    return [int(r.path.rsplit("/", 1)[1]) for r in h.fake.find(method, rf"^/guilds/{guild_id}/members/\d+/roles/\d+$")]


async def log_posts(h: Any, channel_id: int, pattern: str) -> dict[str, Any]:
    rec = await h.fake.wait_for(
        lambda r: re.search(pattern, (r.json or {}).get("content", "")) is not None,
        method="POST",
        path=rf"^/channels/{channel_id}/messages$",
    )
    return dict(rec.json)


async def configure_both(h: Any) -> None:
    await admin(h, "settings channel", kind="shift-log", channel=channel_opt(A_LOG, GUILD, "shift-log"))
    await admin(h, "settings role", kind="on-duty", role=role_opt(h, GUILD, A_DUTY))
    await admin(h, "settings role", kind="on-break", role=role_opt(h, GUILD, A_BREAK))
    await admin(h, "settings department add", name="Sheriff", role=role_opt(h, GUILD, A_SHERIFF))
    await admin(
        h, "settings channel", guild_id=GUILD_B, kind="shift-log", channel=channel_opt(B_LOG, GUILD_B, "duty-log")
    )
    await admin(h, "settings role", guild_id=GUILD_B, kind="on-duty", role=role_opt(h, GUILD_B, B_DUTY))
