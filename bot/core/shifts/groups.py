"""Group commit for the shifts table: writes that arrive in the same moment share one statement.

A caller hands its item to a GroupWriter and waits. One task writes what is waiting, a group per statement (so one
database trip and one commit for the whole group), and gives each caller its own result once it is committed.
Nothing waits on purpose: a group is what arrived while the previous one was being written (or in the same
turn of the event loop), so a lone write goes at once and a burst shares statements.

A statement is all or nothing. When the database fails a group's statement, nothing of it is kept and each item
is written alone, so a row the database refuses fails only its own caller (a failure of the database itself then
fails each of them, and each caller gets the error).
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Awaitable, Callable, Hashable, Iterable
from typing import Generic, TypeVar

from bot.storage import Database

T = TypeVar("T")
R = TypeVar("R")


class GroupWriter(Generic[T, R]):
    def __init__(
        self,
        db: Database,
        write_group: Callable[[list[T]], Awaitable[dict[Hashable, R]]],
        *,
        key: Callable[[T], Hashable],
        clashes: Callable[[T], Iterable[Hashable]],
        max_items: int,
        name: str,
    ) -> None:
        """`write_group(items)` writes items in one statement and returns the results by `key(item)` (an item
        without a result gets None). Items sharing a `clashes` value never share a statement: its rows do not see
        each other, so the later one waits for the next statement, which sees the first."""
        self.db = db
        self._write_group = write_group
        self._key = key
        self._clashes = clashes
        self.max_items = max_items
        self._name = name
        self._waiting: list[tuple[T, asyncio.Future[R | None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def write(self, item: T) -> R | None:
        if self.db.in_transaction:
            # Inside a transaction its statements must run here (the group's statement would wait for it to end).
            return (await self._write_group([item])).get(self._key(item))
        loop = asyncio.get_running_loop()
        future: asyncio.Future[R | None] = loop.create_future()
        self._waiting.append((item, future))
        if self._writer is None or self._writer.done():
            # Its own context: the group belongs to no caller's transaction.
            self._writer = loop.create_task(self._write_waiting(), name=self._name, context=contextvars.Context())
        return await future

    async def _write_waiting(self) -> None:
        await asyncio.sleep(0)  # what arrives in this turn of the event loop joins the first group
        while self._waiting:
            group = self._next_group()
            try:
                await self._write(group)
            except Exception as exc:  # not the database's (a bug): each caller of the group gets it
                for _, future in group:
                    _settle(future, exc=exc)
            except BaseException:  # cancelled (shutdown): nobody is left waiting for ever
                for _, future in [*group, *self._waiting]:
                    future.cancel()
                self._waiting = []
                raise

    def _next_group(self) -> list[tuple[T, asyncio.Future[R | None]]]:
        group: list[tuple[T, asyncio.Future[R | None]]] = []
        later: list[tuple[T, asyncio.Future[R | None]]] = []
        taken: set[Hashable] = set()
        for item, future in self._waiting:
            if future.done():
                continue  # its caller is gone (cancelled)
            clashes = set(self._clashes(item))
            if len(group) >= self.max_items or clashes & taken:
                later.append((item, future))
                continue
            taken |= clashes
            group.append((item, future))
        self._waiting = later
        return group

    async def _write(self, group: list[tuple[T, asyncio.Future[R | None]]]) -> None:
        try:
            results = await self._write_group([item for item, _ in group])
        except Exception as exc:
            if len(group) == 1:
                _settle(group[0][1], exc=exc)
                return
            for item, future in group:  # nothing of the group was kept: each alone
                try:
                    alone = await self._write_group([item])
                except Exception as item_exc:
                    _settle(future, exc=item_exc)
                else:
                    _settle(future, alone.get(self._key(item)))
            return
        for item, future in group:
            _settle(future, results.get(self._key(item)))


def _settle(future: asyncio.Future[R | None], result: R | None = None, *, exc: Exception | None = None) -> None:
    if future.done():
        return  # its caller is gone (cancelled)
    if exc is not None:
        future.set_exception(exc)
    else:
        future.set_result(result)
