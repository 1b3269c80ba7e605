"""The "On duty now" boards with several processes (docs/scaling.md): at start each process re-renders the
boards of its own shards' servers only; the other servers' boards are their own process's."""

from __future__ import annotations

import pytest

from bot.core.sharding import shard_of
from bot.core.shifts.boards import ShiftBoards
from bot.storage import Database
from tests.harness import Harness
from tests.helpers.bot import BotStarter
from tests.helpers.ids import ADMIN, GUILD
from tests.helpers.waiting import until

pytestmark = pytest.mark.asyncio

SHARDS = 2
GUILD_ON_SHARD_0 = GUILD + (1 << 22)  # GUILD itself is on shard 1
CHANNEL = 720000000000000001
OWN_BOARD, OTHER_BOARD = 730000000000000001, 730000000000000002


def board_edits(h: Harness, message_id: int) -> int:
    return len(h.fake.find(method="PATCH", path=rf"/messages/{message_id}$"))


async def test_at_start_a_process_re_renders_only_the_boards_of_its_own_shards(
    start_bot: BotStarter, db: Database
) -> None:
    assert shard_of(GUILD, SHARDS) == 1 and shard_of(GUILD_ON_SHARD_0, SHARDS) == 0
    boards = ShiftBoards(db)
    await boards.put(GUILD_ON_SHARD_0, CHANNEL, OWN_BOARD, ADMIN)
    await boards.put(GUILD, CHANNEL + 1, OTHER_BOARD, ADMIN)
    h = await start_bot(discord={"shard_count": SHARDS, "shard_ids": [0]})
    cog = h.bot.get_cog("ShiftCog")
    assert cog is not None
    updater = cog.boards
    await until(lambda: board_edits(h, OWN_BOARD) == 1, what="the own shard's board re-rendered")
    await until(lambda: updater.refreshes == updater.scheduled, what="every refresh scheduled at start done")
    # GUILD's board is for the process of shard 1: this one never edits it.
    assert board_edits(h, OTHER_BOARD) == 0
