"""Waiting on real state (never fixed sleeps): the sandbox's, the fake Discord's, the database's."""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Awaitable, Callable

from bot.core.shifts import ShiftRecord, ShiftService

# What `until` polls: a plain check, or an async one (a database read).
Predicate = Callable[[], object] | Callable[[], Awaitable[object]]


async def until(predicate: Predicate, timeout: float = 5.0, what: str = "condition") -> None:
    """Wait for real state (the sandbox's, or the database's with an async predicate) to become true."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not await _holds(predicate):
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.01)


async def _holds(predicate: Predicate) -> bool:
    result = predicate()
    return bool(await result if inspect.isawaitable(result) else result)


async def settled(service: ShiftService, shift_id: str, timeout: float = 10.0) -> ShiftRecord:
    """The shift once it is synced or failed (each verdict in between is waited on)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    since = 0
    while True:
        remaining = deadline - loop.time()
        if remaining <= 0:
            current = await service.store.get(shift_id)
            raise AssertionError(f"shift {shift_id} not synced or failed within {timeout}s: {current}")
        shift = await service.wait_for_sync(shift_id, remaining, since_ms=since)
        if shift is not None and shift.sync_state in ("synced", "failed"):
            return shift
        if shift is not None and shift.last_attempt_ms is not None:
            since = shift.last_attempt_ms + 1
