"""Shared set-up of the duty-management UI tests (/shift leaderboard, /shift admin add|subtract|void|history,
/shift export): a guild with a supervisor role and a shift-log channel, and readers of their answers."""

from __future__ import annotations

import re
from typing import Any

from tests.harness import builders
from tests.helpers.bot import link_guild
from tests.helpers.ids import ADMIN, GUILD, MEMBER_PERMS, OFFICER_M

SUPERVISOR = 666666666666666666
SUP_ROLE = 700000000000000002
LOG_CH = 710000000000000001
DEPT_ROLE = 700000000000000003
SUPERVISOR_M = builders.member(SUPERVISOR, permissions=MEMBER_PERMS, username="sergeant", roles=[SUP_ROLE])
OPT_OFFICER = builders.UserOption(OFFICER_M)
CONFIG = {"log_channel_id": LOG_CH, "supervisor_role_ids": [SUP_ROLE], "max_shift_hours": 72}


async def boot(start_bot: Any, sandbox: Any) -> Any:
    h = await start_bot(shifts=CONFIG)
    h.add_guild(
        GUILD,
        name="Test County RP",
        owner_id=ADMIN,
        roles=[builders.role(SUP_ROLE, "Sergeant", position=2), builders.role(DEPT_ROLE, "Sheriff", position=1)],
        channels=[builders.channel(LOG_CH, guild_id=GUILD, name="shift-log")],
    )
    await link_guild(h.bot, sandbox)
    return h


def board_minutes(reply: Any, member: int) -> str:
    line = next(x for x in reply.embeds[0]["description"].splitlines() if f"<@{member}>" in x)
    return re.search(r"\*\*(.+?)\*\*", line)[1]  # type: ignore[index]


async def log_line(h: Any, pattern: str) -> str:
    rec = await h.fake.wait_for(
        lambda r: re.search(pattern, (r.json or {}).get("content", "")) is not None,
        method="POST",
        path=rf"^/channels/{LOG_CH}/messages$",
    )
    return str(rec.json["content"])
