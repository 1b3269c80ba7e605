"""/shift board: a public "On duty now" message that keeps itself up to date.

Each shift event of a guild schedules one refresh of its boards; events arriving while one is
pending join it (coalesced), and a guild's boards are edited at most once per `min_interval`
seconds. Boards are stored (bot.shifts.boards), so they are re-rendered when the bot starts."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

import discord

from bot.core.sharding import ShardSet, owns
from bot.core.shifts import ShiftEvent, ShiftRecord
from bot.discord.app_emojis import AppEmojis
from bot.discord.discord_text import discord_ts
from bot.discord.interactions import edit_message
from cogs.style import NEUTRAL, SUCCESS

if TYPE_CHECKING:
    from bot.discord.bot import NorthcaBot

log = logging.getLogger(__name__)

BOARD_LINES = 30
BOARD_MIN_INTERVAL = 5.0


def board_embed(shifts: list[ShiftRecord], emojis: AppEmojis | None = None) -> discord.Embed:
    """The board; each line starts with the member's state emoji (on duty, on break: bot.app_emojis), and a break
    is also said in words."""
    embed = discord.Embed(title="On duty now", colour=SUCCESS if shifts else NEUTRAL)
    ordered = sorted(shifts, key=lambda s: (s.started_ms, s.member_id))
    icons = emojis or AppEmojis.unicode_only()
    lines = []
    for shift in ordered[:BOARD_LINES]:
        dept = discord.utils.escape_markdown(shift.department or "no department")
        state = icons.text("on_break" if shift.break_started_at is not None else "on_duty")
        line = f"{state} <@{shift.member_id}> · {dept} · since {discord_ts(shift.started_at)}"
        if shift.break_started_at is not None:
            line += " · on break"
        lines.append(line)
    if len(ordered) > BOARD_LINES:
        lines.append(f"… and {len(ordered) - BOARD_LINES} more")
    embed.description = "\n".join(lines) if lines else "Nobody is on duty."
    embed.set_footer(text=f"{len(ordered)} on duty · updates itself")
    return embed


class BoardUpdater:
    def __init__(
        self,
        bot: NorthcaBot,
        min_interval: float = BOARD_MIN_INTERVAL,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.bot = bot
        self.min_interval = min_interval
        self.sleep = sleep  # injectable: tests hold a refresh back without waiting on the clock
        self._pending: dict[int, asyncio.Task[None]] = {}
        self._last_edit: dict[int, float] = {}
        self.scheduled = 0  # refreshes scheduled
        self.refreshes = 0  # refreshes finished (what a test waits on)

    async def start(self) -> None:
        self.bot.events.shifts.subscribe(self.on_shift_event)
        # Re-rendered at start (shifts may have changed while the bot was down): those of this process's guilds;
        # with several processes each re-renders its own shards' boards, not every board.
        shards = ShardSet.of(self.bot.config.discord)
        for guild_id in await self.bot.boards.guilds():
            if owns(shards, guild_id):
                self.schedule(guild_id)

    async def stop(self) -> None:
        self.bot.events.shifts.unsubscribe(self.on_shift_event)
        tasks = list(self._pending.values())
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def on_shift_event(self, notice: ShiftEvent) -> None:
        if notice.kind in ("start", "break", "end"):
            self.schedule(notice.shift.guild_id)

    def schedule(self, guild_id: int) -> None:
        if guild_id in self._pending:
            return  # the pending refresh reads the state as it is then
        self._pending[guild_id] = asyncio.create_task(self._refresh_later(guild_id), name=f"board-{guild_id}")
        self.scheduled += 1

    async def _refresh_later(self, guild_id: int) -> None:
        loop = asyncio.get_running_loop()
        try:
            wait = self._last_edit.get(guild_id, -1e9) + self.min_interval - loop.time()
            if wait > 0:
                await self.sleep(wait)
            # From here on a new event schedules another refresh: it may not be seen by this one.
            if self._pending.get(guild_id) is asyncio.current_task():
                del self._pending[guild_id]
            self._last_edit[guild_id] = loop.time()
            await self.refresh(guild_id)
        except Exception:
            log.exception("board: could not refresh the boards of guild %s", guild_id)
        finally:
            self.refreshes += 1
            if self._pending.get(guild_id) is asyncio.current_task():
                del self._pending[guild_id]

    async def refresh(self, guild_id: int) -> None:
        boards = await self.bot.boards.of_guild(guild_id)
        if not boards:
            return
        embed = board_embed(await self.bot.shifts.open_in_guild(guild_id), self.bot.app_emojis)
        for board in boards:
            message = self.bot.get_partial_messageable(board.channel_id, guild_id=guild_id).get_partial_message(
                board.message_id
            )
            try:
                await edit_message(message, embed=embed, allowed_mentions=discord.AllowedMentions.none())
            except discord.NotFound:
                await self.bot.boards.forget(board)
            except discord.HTTPException as exc:
                log.warning("board: could not edit message %s in channel %s (%s)", board.message_id,
                            board.channel_id, exc)  # fmt: skip
