"""Ends shifts that reach their guild's maximum length (a background service).

Scheduled work: with several processes on one database it runs in one process per shard set (under the
scheduler lease, bot/services.py) and only for the guilds of those shards, because what follows an end (the
shift-log line, taking the On Duty role back) needs the guild in this process's cache. Each end is one
conditional UPDATE besides, so even two processes on the same shards (a restart overlapping the old process)
cannot both end, announce or write one shift."""

from __future__ import annotations

import asyncio
import logging

from bot.aio import wait_event
from bot.sharding import ShardSet
from bot.shifts.service import ShiftService

log = logging.getLogger(__name__)


class ShiftAutoEnder:
    """Sleeps until the next open shift of its guilds reaches the maximum length (woken early when a shift
    starts or ends in this process), then ends every one that did."""

    def __init__(self, service: ShiftService, shards: ShardSet | None = None, *, max_idle_sleep: float = 60.0) -> None:
        self.service = service
        self.shards = shards
        # Also the longest a maximum length changed by another process (a settings change) waits to apply.
        self.max_idle_sleep = max_idle_sleep
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._loop(), name="shift-auto-end")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _loop(self) -> None:
        service = self.service
        while True:
            service.auto_end_wake.clear()
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
            service.auto_end_planned_ms = service.clock() + int(timeout * 1000)
            try:
                await wait_event(service.auto_end_wake, timeout + 0.001)
            finally:
                service.auto_end_planned_ms = None
