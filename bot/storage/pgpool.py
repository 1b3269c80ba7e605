"""A small pool of asyncpg connections for `Database` on PostgreSQL.

Why not asyncpg's own `Pool`: it costs about 50 µs of client CPU per borrow (a proxy object, a shielded task
and a timer per release, a reset step), more than the statement itself (~35 µs), and the bot borrows once per
statement; under bench.cluster_scale that showed in the latencies (docs/architecture.md, "Storage"). This pool keeps
what the bot needs: idle connections in a list (the most recently used first), at most `max_size` open,
borrowers waiting in arrival order, and a connection that broke (closed by the server, cut in the middle of
a statement or a transaction) dropped on its return, so the next borrow opens a fresh one: that is how a
PostgreSQL restart is survived. Connections open lazily after the first `min_size`; nothing runs in the
background.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib

import asyncpg


class ConnectionPool:
    def __init__(self, url: str, *, min_size: int, max_size: int, connect_timeout: float) -> None:
        self.url = url
        self.min_size = min_size
        self.max_size = max(min_size, max_size)
        self.connect_timeout = connect_timeout
        self._idle: list[asyncpg.Connection] = []
        self._all: set[asyncpg.Connection] = set()
        self._opening = 0
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._closed = False

    @property
    def size(self) -> int:
        """Connections open or being opened."""
        return len(self._all) + self._opening

    async def start(self) -> None:
        """Open the first `min_size` connections (an unreachable server fails here, at start)."""
        for conn in await asyncio.gather(*(self._connect() for _ in range(self.min_size))):
            self._idle.append(conn)

    async def _connect(self) -> asyncpg.Connection:
        self._opening += 1
        try:
            conn = await asyncpg.connect(self.url, timeout=self.connect_timeout)
        finally:
            self._opening -= 1
        self._all.add(conn)
        return conn

    async def acquire(self) -> asyncpg.Connection:
        """A connection of the caller's own until `release`; raises what connecting raises (refused, timeout,
        the server starting up)."""
        while True:
            if self._closed:
                raise asyncpg.InterfaceError("the pool is closed")
            while self._idle:
                conn = self._idle.pop()
                if not conn.is_closed():
                    return conn
                self._all.discard(conn)  # the server closed it meanwhile (a restart)
            if self.size < self.max_size:
                try:
                    return await self._connect()
                except BaseException:
                    self._wake_one()  # another waiter may try in its turn
                    raise
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self._wake_one()  # it was our turn: pass it on
                else:
                    with contextlib.suppress(ValueError):
                        self._waiters.remove(waiter)
                raise

    def release(self, conn: asyncpg.Connection, *, broken: bool = False) -> None:
        """Give the connection back. `broken` (a statement on it was cancelled or failed with the connection),
        closed, or still inside a transaction: it is dropped rather than lent again."""
        if broken or conn.is_closed() or conn.is_in_transaction() or self._closed:
            self._all.discard(conn)
            if not conn.is_closed():
                conn.terminate()
        else:
            self._idle.append(conn)
        self._wake_one()

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    async def close(self, timeout: float) -> None:
        """Close every connection (those still lent are ended)."""
        self._closed = True
        idle, self._idle = self._idle, []
        for waiter in self._waiters:
            if not waiter.done():
                waiter.set_result(None)  # they find the pool closed
        self._waiters.clear()
        results = await asyncio.gather(
            *(asyncio.wait_for(conn.close(), timeout) for conn in idle), return_exceptions=True
        )
        for conn, result in zip(idle, results, strict=True):
            if isinstance(result, BaseException):
                conn.terminate()
        for conn in list(self._all):
            if not conn.is_closed():
                conn.terminate()
        self._all.clear()
