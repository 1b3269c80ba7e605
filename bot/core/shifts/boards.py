"""The "On duty now" boards (/shift board): which message in which channel shows a guild's open
shifts. Only where they are lives here (and their SQL); the Discord side renders and edits them."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from bot.core.timefmt import now_ms
from bot.storage import Database
from bot.storage.turns import take_turn

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Board:
    guild_id: int
    channel_id: int
    message_id: int


class ShiftBoards:
    def __init__(self, db: Database, clock: Callable[[], int] = now_ms) -> None:
        self.db = db
        self.clock = clock

    async def put(self, guild_id: int, channel_id: int, message_id: int, actor_id: int) -> Board | None:
        """Record the board posted in a channel; returns the board it replaces there (if any). The read of the
        board it replaces and the write hold the channel's board turn (bot/storage/turns.py): of boards posted at
        once in one channel, each replaces the one recorded before it, so only the last stays (and is kept up to
        date) rather than several boards that all read "no board here"."""
        async with self.db.transaction() as tx:
            await take_turn(tx, guild_id, f"board:{channel_id}")
            old = await tx.execute_fetchall(
                "SELECT message_id FROM shift_boards WHERE guild_id = ? AND channel_id = ?", (guild_id, channel_id)
            )
            await tx.execute(
                "INSERT INTO shift_boards (guild_id, channel_id, message_id, created_by, created_ms)"
                " VALUES (?,?,?,?,?) ON CONFLICT (guild_id, channel_id) DO UPDATE SET message_id = excluded.message_id,"
                " created_by = excluded.created_by, created_ms = excluded.created_ms",
                (guild_id, channel_id, message_id, actor_id, self.clock()),
            )
        log.info("board: %s posted an on-duty board in channel %s of guild %s", actor_id, channel_id, guild_id)
        return Board(guild_id, channel_id, old[0]["message_id"]) if old else None

    async def of_guild(self, guild_id: int) -> list[Board]:
        rows = await self.db.execute_fetchall(
            "SELECT guild_id, channel_id, message_id FROM shift_boards WHERE guild_id = ?", (guild_id,)
        )
        return [Board(r["guild_id"], r["channel_id"], r["message_id"]) for r in rows]

    async def guilds(self) -> list[int]:
        rows = await self.db.execute_fetchall("SELECT DISTINCT guild_id FROM shift_boards")
        return [r["guild_id"] for r in rows]

    async def forget(self, board: Board) -> None:
        """The board's message is gone (deleted, or the channel): stop updating it."""
        await self.db.execute(
            "DELETE FROM shift_boards WHERE guild_id = ? AND channel_id = ? AND message_id = ?",
            (board.guild_id, board.channel_id, board.message_id),
        )
        log.info("board: message %s in channel %s of guild %s is gone; forgotten", board.message_id,
                 board.channel_id, board.guild_id)  # fmt: skip
