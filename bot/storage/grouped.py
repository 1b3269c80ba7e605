"""Grouped reads: reads of one kind that arrive in the same moment share one statement.

Under a burst (200 officers pressing /shift start at once, a burst of ends) every trip to the database thread costs
the event loop a wake-up and a wait for the GIL; a read of one row per caller becomes one statement for all of
them. The writes' counterpart is bot/core/shifts/groups.py (GroupWriter).
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Hashable
from typing import Generic, TypeVar

from bot.storage import Database

K = TypeVar("K", bound=Hashable)
R = TypeVar("R")

# Keys read by one statement at most (a parameter or two each: far within both engines' limits).
GROUP_READ_KEYS = 400


class GroupReader(Generic[K, R]):
    """Reads that arrive in the same moment share one statement (the counterpart of GroupWriter for reads): under a
    burst of ends, one trip to the database for the whole burst instead of one each. Nothing waits on purpose: a
    lone read goes at once (in the next turn of the event loop), a burst shares statements."""

    def __init__(
        self,
        db: Database,
        read_group: Callable[[list[K]], Awaitable[dict[K, R]]],
        *,
        missing: Callable[[], R],
        max_items: int,
        name: str,
    ) -> None:
        """`read_group(keys)` reads the keys (distinct) in one statement and returns the results by key; a key
        without a result gets `missing()`."""
        self.db = db
        self._read_group = read_group
        self._missing = missing
        self.max_items = max_items
        self._name = name
        self._waiting: list[tuple[K, asyncio.Future[R]]] = []
        self._reader: asyncio.Task[None] | None = None

    async def read(self, key: K) -> R:
        if self.db.in_transaction:
            # Inside a transaction: read in it (the group's statement would wait for it to end).
            return (await self._read_group([key])).get(key) or self._missing()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        self._waiting.append((key, future))
        if self._reader is None or self._reader.done():
            self._reader = loop.create_task(self._read_waiting(), name=self._name, context=contextvars.Context())
        return await future

    async def _read_waiting(self) -> None:
        await asyncio.sleep(0)  # what arrives in this turn of the event loop joins the first group
        while self._waiting:
            group = [(key, future) for key, future in self._waiting[: self.max_items] if not future.done()]
            self._waiting = self._waiting[self.max_items :]
            if not group:
                continue
            try:
                results = await self._read_group(list(dict.fromkeys(key for key, _ in group)))
            except Exception as exc:  # each caller of the group gets the database's error
                for _, future in group:
                    if not future.done():
                        future.set_exception(exc)
                continue
            except BaseException:  # cancelled (shutdown): nobody is left waiting for ever
                for _, future in [*group, *self._waiting]:
                    future.cancel()
                self._waiting = []
                raise
            for key, future in group:
                if not future.done():
                    future.set_result(results[key] if key in results else self._missing())
