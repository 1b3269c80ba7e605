"""/erlc board: a public live status message of the game server, edited in place.

Presence changes, links, connection changes and shift starts/ends schedule one refresh of the guild's board;
events arriving while one is pending join it, and a board is edited at most once per `min_interval` (30 s).
Where it is is stored (erlc_boards), so boards are re-rendered when the bot starts."""

from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING

import discord

from bot.core.sharding import ShardSet, owns
from bot.core.shifts import ShiftEvent
from bot.discord.interactions import edit_message
from bot.erlc.records import ErlcEvent
from cogs.erlc.embeds import board_embed

if TYPE_CHECKING:
    from bot.discord.bot import NorthcaBot

log = logging.getLogger(__name__)

BOARD_MIN_INTERVAL = 30.0


class ErlcBoardUpdater:
    def __init__(self, bot: NorthcaBot, min_interval: float = BOARD_MIN_INTERVAL) -> None:
        self.bot = bot
        self.min_interval = min_interval
        self._pending: dict[int, asyncio.Task[None]] = {}
        self._last_edit: dict[int, float] = {}
        self.edits = 0  # boards edited (what a test waits on)

    async def start(self) -> None:
        self.bot.events.erlc.subscribe(self.on_erlc)
        self.bot.events.shifts.subscribe(self.on_shift)
        for guild_id in await self.bot.erlc.board_guilds(ShardSet.of(self.bot.config.discord)):
            self.schedule(guild_id)

    async def stop(self) -> None:
        self.bot.events.erlc.unsubscribe(self.on_erlc)
        self.bot.events.shifts.unsubscribe(self.on_shift)
        tasks = list(self._pending.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def on_erlc(self, event: ErlcEvent) -> None:
        self.schedule(event.guild_id)

    async def on_shift(self, notice: ShiftEvent) -> None:
        if notice.kind in ("start", "end"):
            self.schedule(notice.shift.guild_id)

    def schedule(self, guild_id: int) -> None:
        if guild_id in self._pending or not owns(ShardSet.of(self.bot.config.discord), guild_id):
            return
        self._pending[guild_id] = asyncio.create_task(self._refresh_later(guild_id), name=f"erlc-board-{guild_id}")

    def edited_now(self, guild_id: int) -> None:
        """A board was just posted: the next edit waits the interval."""
        self._last_edit[guild_id] = asyncio.get_running_loop().time()

    async def _refresh_later(self, guild_id: int) -> None:
        loop = asyncio.get_running_loop()
        try:
            wait = self._last_edit.get(guild_id, -1e9) + self.min_interval - loop.time()
            if wait > 0:
                await asyncio.sleep(wait)
            if self._pending.get(guild_id) is asyncio.current_task():
                del self._pending[guild_id]  # from here on a new event schedules another refresh
            self._last_edit[guild_id] = loop.time()
            await self.refresh(guild_id)
        except Exception:
            log.exception("erlc board: could not refresh the board of guild %s", guild_id)
        finally:
            if self._pending.get(guild_id) is asyncio.current_task():
                del self._pending[guild_id]

    async def refresh(self, guild_id: int) -> None:
        where = await self.bot.erlc.board_location(guild_id)
        if where is None:
            return
        channel_id, message_id = where
        embed = board_embed(await self.bot.erlc.board(guild_id))
        message = self.bot.get_partial_messageable(channel_id, guild_id=guild_id).get_partial_message(message_id)
        try:
            await edit_message(message, embed=embed, allowed_mentions=discord.AllowedMentions.none())
            self.edits += 1
        except discord.NotFound:
            await self.bot.erlc.forget_board(guild_id, message_id)
            log.info("erlc board: message %s of guild %s is gone; forgotten", message_id, guild_id)
        except discord.HTTPException as exc:
            log.warning("erlc board: could not edit message %s of guild %s (%s)", message_id, guild_id, exc)
