"""A background service that runs one round now and then: at start, every `interval_seconds`, and when
poked. A failed round is logged and retried on the next one."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from bot.aio import wait_event

log = logging.getLogger(__name__)


class PollingService:
    name = "polling"

    def __init__(self, interval_seconds: float) -> None:
        self.interval_seconds = interval_seconds
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def run_once(self) -> object:
        raise NotImplementedError

    def poke(self) -> None:
        """Run a round now."""
        self._wake.set()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._loop(), name=self.name)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:
                log.exception("%s round failed (retried next round)", self.name)
            self._wake.clear()
            await wait_event(self._wake, self.interval_seconds)
