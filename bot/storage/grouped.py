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
from bot.storage.rows import Row

K = TypeVar("K", bound=Hashable)
R = TypeVar("R")

# Keys read by one statement at most (a parameter or two each: far within both engines' limits).
GROUP_READ_KEYS = 400


class GroupReader(Generic[K, R]):
    """Reads that arrive in the same turn of the event loop share one statement (the counterpart of GroupWriter for
    reads): under a burst, one trip to the database for the burst instead of one each. A group goes as soon as the
    turn is over, whether or not an earlier group is still out: reads need no order among themselves, and waiting
    for the group in flight would queue each read twice behind the database's other statements."""

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
        self._gathering: list[tuple[K, asyncio.Future[R]]] | None = None  # the group of this turn, not sent yet
        self._tasks: set[asyncio.Task[None]] = set()

    async def read(self, key: K) -> R:
        if self.db.in_transaction:
            # Inside a transaction: read in it (the group's statement would wait for it to end).
            return (await self._read_group([key])).get(key) or self._missing()
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R] = loop.create_future()
        if self._gathering is None or len(self._gathering) >= self.max_items:
            self._gathering = []
            # Its own context: the group belongs to no caller's transaction. It starts in the next turn of the loop:
            # every read made in this one joins it.
            task = loop.create_task(self._send(self._gathering), name=self._name, context=contextvars.Context())
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)
        self._gathering.append((key, future))
        return await future

    async def _send(self, group: list[tuple[K, asyncio.Future[R]]]) -> None:
        if self._gathering is group:
            self._gathering = None  # reads from now on make the next group
        waiting = [(key, future) for key, future in group if not future.done()]
        if not waiting:
            return
        try:
            results = await self._read_group(list(dict.fromkeys(key for key, _ in waiting)))
        except Exception as exc:  # each caller of the group gets the database's error
            for _, future in waiting:
                if not future.done():
                    future.set_exception(exc)
            return
        except BaseException:  # cancelled (shutdown): nobody is left waiting for ever
            for _, future in waiting:
                future.cancel()
            raise
        for key, future in waiting:
            if not future.done():
                future.set_result(results[key] if key in results else self._missing())


async def rows_by_pair(
    db: Database, table: str, first: str, second: str, keys: list[tuple[int, int]]
) -> dict[tuple[int, int], Row]:
    """The rows of `table` (a name from our code, never from input) whose (`first`, `second`) columns are one of
    `keys`, by key, in one statement: a GroupReader's read of rows keyed by two ids (a server and a member)."""
    firsts = sorted({a for a, _ in keys})
    seconds = sorted({b for _, b in keys})
    # Each key's row, and maybe a few more (another key's member in another key's server): left out below.
    rows = await db.execute_fetchall(
        f"SELECT * FROM {table} WHERE {first} IN ({', '.join('?' for _ in firsts)})"
        f" AND {second} IN ({', '.join('?' for _ in seconds)})",
        (*firsts, *seconds),
    )
    wanted = set(keys)
    found: dict[tuple[int, int], Row] = {}
    for row in rows:
        key = (int(row[first]), int(row[second]))
        if key in wanted:
            found[key] = row
    return found
