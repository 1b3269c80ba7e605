"""Leases: one process of several on one database does a piece of work alone (table `leases`, migration 024).

Every operation is one conditional statement, atomic on both engines: a lease is taken only when it is free,
expired, or already ours, so two processes can never both hold it. The holder renews well before expiry; a
process that dies (SIGKILL included) stops renewing and another takes over once `expires_ms` has passed.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import socket
import uuid
from collections.abc import Callable, Sequence

from bot.core.polling import Background, LoopTask
from bot.core.timefmt import now_ms
from bot.storage import DATABASE_ERRORS, Database

log = logging.getLogger(__name__)


@functools.cache
def process_holder_id() -> str:
    """Names this process in `leases.holder` (host, pid, and a random part so a reused pid differs); the same
    for every bot of one process, so a bot restarted inside it takes its own lease back at once."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


class LeaseStore:
    """The leases table."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def acquire(self, name: str, holder: str, ttl_ms: int, now: int) -> bool:
        """Take (or renew) `name` for `ttl_ms` when it is free, expired, or ours; True when we hold it now."""
        rows = await self.db.execute_fetchall(
            "INSERT INTO leases (name, holder, expires_ms) VALUES (:name, :holder, :expires)"
            " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_ms = excluded.expires_ms"
            " WHERE leases.holder = excluded.holder OR leases.expires_ms <= :now"
            " RETURNING holder",
            {"name": name, "holder": holder, "expires": now + ttl_ms, "now": now},
        )
        return bool(rows) and rows[0][0] == holder

    async def release(self, name: str, holder: str) -> bool:
        """Give `name` up at once (a clean shutdown), if we hold it."""
        return await self.db.execute("DELETE FROM leases WHERE name = ? AND holder = ?", (name, holder)) > 0

    async def holder(self, name: str, now: int) -> str | None:
        """Who holds `name` now (None when nobody, or the lease expired)."""
        row = await self.db.fetchone("SELECT holder FROM leases WHERE name = ? AND expires_ms > ?", (name, now))
        return str(row[0]) if row else None


class LeasedServices:
    """Runs `services` only while this process holds the lease `name` (a background service itself).

    Tries every `ttl_ms / 3`: holding it, the services run (renewed each time); losing it (a renewal that
    failed, e.g. the database was unreachable past the expiry), they stop. On a clean stop the lease is
    released, so another process takes over at once rather than after the expiry."""

    def __init__(
        self,
        store: LeaseStore,
        name: str,
        services: Sequence[Background],
        *,
        holder: str | None = None,
        ttl_ms: int = 15_000,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.store = store
        self.name = name
        self.services = list(services)
        self.holder = holder or process_holder_id()
        self.ttl_ms = ttl_ms
        self.clock = clock
        self.held = False
        self.changed = asyncio.Event()  # set at each change of `held` (tests wait on it)
        self._loop_task = LoopTask(f"lease-{name}", self._loop)

    async def start(self) -> None:
        if self._loop_task.running:
            return
        await self._tick()  # the first try before start() returns: a single process starts its work at once
        self._loop_task.start()

    async def stop(self) -> None:
        await self._loop_task.stop()
        if self.held:
            await self._set_held(False, why="given up at shutdown")
            try:
                await self.store.release(self.name, self.holder)
            except DATABASE_ERRORS as exc:
                log.warning("lease %s not released (%s): another process takes over when it expires", self.name, exc)

    async def _loop(self) -> None:
        while True:
            await asyncio.sleep(self.ttl_ms / 3000)
            await self._tick()

    async def _tick(self) -> None:
        try:
            held = await self.store.acquire(self.name, self.holder, self.ttl_ms, self.clock())
        except DATABASE_ERRORS as exc:
            log.warning("lease %s: the database did not answer (%s)", self.name, exc)
            return  # still ours until the expiry; the next try decides
        if held != self.held:
            await self._set_held(held, why="lost (another process holds it now)")

    async def _set_held(self, held: bool, why: str = "") -> None:
        self.held = held
        if held:
            log.info("lease %s taken by %s: this process runs %d services", self.name, self.holder, len(self.services))
            for service in self.services:
                await service.start()
        else:
            level = logging.INFO if why.startswith("given up") else logging.WARNING
            log.log(level, "lease %s %s by %s: its services stop here", self.name, why, self.holder)
            for service in reversed(self.services):
                await service.stop()
        self.changed.set()
        self.changed = asyncio.Event()
