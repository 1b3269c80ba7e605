"""The duty-management set-up (/shift leaderboard, /shift admin add|subtract|void|history, /shift export): a
linked guild with the supervisor role, a department role and the shift log; a reader of the leaderboard."""

from __future__ import annotations

import re
from typing import Final

from bot.northca.sandbox import NorthcaSandbox
from tests.harness import Harness, Reply, builders
from tests.helpers.bot import BotStarter, Section, link_guild, northca_bot
from tests.helpers.ids import ADMIN, DEPARTMENT_ROLE, GUILD, LOG_CH, OFFICER_M, SUPERVISOR_ROLE

OPT_OFFICER: Final = builders.UserOption(OFFICER_M)
# [shifts] of the duty-management guild.
SHIFT_DUTY_CONFIG: Final[Section] = {
    "log_channel_id": LOG_CH,
    "supervisor_role_ids": [SUPERVISOR_ROLE],
    "max_shift_hours": 72,
}


async def boot_shift_duty(start_bot: BotStarter, sandbox: NorthcaSandbox) -> Harness:
    """The bot with GUILD linked: "Sergeant" (the supervisor role), "Sheriff" (a department's role), #shift-log."""
    h = await start_bot(shifts=SHIFT_DUTY_CONFIG)
    h.add_guild(
        GUILD,
        name="Test County RP",
        owner_id=ADMIN,
        roles=[
            builders.role(SUPERVISOR_ROLE, "Sergeant", position=2),
            builders.role(DEPARTMENT_ROLE, "Sheriff", position=1),
        ],
        channels=[builders.channel(LOG_CH, guild_id=GUILD, name="shift-log")],
    )
    await link_guild(northca_bot(h), sandbox)
    return h


def board_minutes(reply: Reply, member: int) -> str:
    """The bold total of `member`'s line on a leaderboard answer."""
    line = next(x for x in reply.embeds[0]["description"].splitlines() if f"<@{member}>" in x)
    found = re.search(r"\*\*(.+?)\*\*", line)
    assert found is not None, line
    return found[1]
