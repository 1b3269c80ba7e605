"""The one background-work lifecycle: "run a loop, wake on a poke, stop cleanly".

- `Background`: the protocol every background service implements (`start`, `stop`); `build_services` lists them
  in `Services.background` in start order, and `LeasedServices` starts and stops them while it holds its lease.
- `LoopTask`: the helper every background service runs its loop with: one task, started once (a second start
  while it runs does nothing), stopped by cancelling and awaiting it (its errors swallowed: a stop never raises
  from the loop), and a wake event the owner pokes (`poke`) and the loop sleeps on (`sleep`).
- `PollingService`: a background service that runs one round at start, every `interval_seconds` and when poked;
  a failed round is logged and retried on the next one.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any, Protocol

from bot.core.aio import wait_event

log = logging.getLogger(__name__)


class Background(Protocol):
    """A background service: started once the bot is ready, stopped (drained) at shutdown."""

    async def start(self) -> None: ...
    async def stop(self) -> None: ...


class LoopTask:
    """One background loop `body()` under the name `name`, with a wake event its owner pokes."""

    def __init__(self, name: str, body: Callable[[], Coroutine[Any, Any, None]]) -> None:
        self.name = name
        self._body = body
        self.wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def running(self) -> bool:
        return self._task is not None and not self._task.done()

    def start(self) -> None:
        """Start the loop (nothing when it runs already)."""
        if not self.running:
            self._task = asyncio.get_running_loop().create_task(self._body(), name=self.name)
            self._task.add_done_callback(_log_end)

    async def stop(self) -> None:
        """Cancel the loop and wait until it has ended (nothing when it is not running)."""
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)

    def poke(self) -> None:
        """Wake the loop now (or at its next `sleep`, when it is busy)."""
        self.wake.set()

    async def sleep(self, timeout: float) -> bool:
        """Wait until poked or `timeout` seconds pass; True when poked. The wake event stays set: the loop clears
        it where a poke arriving after that point must run another round."""
        return await wait_event(self.wake, timeout)


def _log_end(task: asyncio.Task[None]) -> None:
    """A loop is meant to run until stopped: one that ended by an error says so (and its error is retrieved)."""
    if not task.cancelled() and task.exception() is not None:
        log.error("background loop %s ended by an error", task.get_name(), exc_info=task.exception())


class PollingService:
    name = "polling"

    def __init__(self, interval_seconds: float) -> None:
        self.interval_seconds = interval_seconds
        self._loop_task = LoopTask(self.name, self._loop)

    async def run_once(self) -> object:
        raise NotImplementedError

    def poke(self) -> None:
        """Run a round now."""
        self._loop_task.poke()

    async def start(self) -> None:
        self._loop_task.name = self.name
        self._loop_task.start()

    async def stop(self) -> None:
        await self._loop_task.stop()

    async def _loop(self) -> None:
        while True:
            try:
                await self.run_once()
            except Exception:
                log.exception("%s round failed (retried next round)", self.name)
            self._loop_task.wake.clear()
            await self._loop_task.sleep(self.interval_seconds)
