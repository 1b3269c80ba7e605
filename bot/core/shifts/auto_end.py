"""Ends shifts that reach their guild's maximum length (a background service).

Scheduled work: with several processes on one database it runs in one process per shard set (under the
scheduler lease, bot/ops/services.py) and only for the guilds of those shards, because what follows an end (the
shift-log line, taking the On Duty role back) needs the guild in this process's cache. Each end is one
conditional UPDATE besides, so even two processes on the same shards (a restart overlapping the old process)
cannot both end, announce or write one shift."""

from __future__ import annotations

import asyncio
import logging

from bot.core.polling import LoopTask
from bot.core.sharding import ShardSet
from bot.core.shifts.records import ShiftEvent
from bot.core.shifts.service import ShiftService

log = logging.getLogger(__name__)


class ShiftAutoEnder:
    """Sleeps until the next open shift of its guilds reaches the maximum length (woken early when a shift
    starts in this process that reaches it sooner), then ends every one that did."""

    def __init__(self, service: ShiftService, shards: ShardSet | None = None, *, max_idle_sleep: float = 60.0) -> None:
        self.service = service
        self.shards = shards
        # Also the longest a maximum length changed by another process (a settings change) waits to apply.
        self.max_idle_sleep = max_idle_sleep
        # When the loop looks next on its own (None: it is not waiting now, so any start wakes it).
        self.planned_ms: int | None = None
        self._loop_task = LoopTask("shift-auto-end", self._loop)

    async def start(self) -> None:
        if not self._loop_task.running:
            self.service.notices.events.shifts.subscribe_now(self._on_shift)
        self._loop_task.start()

    async def stop(self) -> None:
        self.service.notices.events.shifts.unsubscribe(self._on_shift)
        await self._loop_task.stop()
        self.planned_ms = None

    def _on_shift(self, event: ShiftEvent) -> None:
        """A start whose maximum length ends before the planned look wakes the loop; a later one needs no wake-up."""
        if event.kind != "start":
            return
        shift = event.shift
        planned = self.planned_ms
        if planned is None or shift.started_ms + self.service.max_shift_ms(shift.guild_id) < planned:
            self._loop_task.poke()

    async def _loop(self) -> None:
        service = self.service
        while True:
            self._loop_task.wake.clear()
            timeout = self.max_idle_sleep
            try:
                await service.auto_end_overdue(shards=self.shards)
                due = await service.next_auto_end_ms(self.shards)
                if due is not None:
                    timeout = min(timeout, max(0.0, (due - service.clock()) / 1000))
            except asyncio.CancelledError:
                raise
            except Exception:  # the loop must survive a bad moment of the database
                log.exception("auto-end of long shifts failed; trying again shortly")
                timeout = 5.0
            self.planned_ms = service.clock() + int(timeout * 1000)
            try:
                await self._loop_task.sleep(timeout + 0.001)
            finally:
                self.planned_ms = None
