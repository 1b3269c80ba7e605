"""The order of unit sends to Northca when several senders share an MDT: the newest state of a unit wins.

Two processes (or two servers of one process) linked to the same MDT each batch their own changes, so a
request of one could reach Northca after a newer request of the other and leave Northca on the older state
(e.g. a callsign released in one server and taken in another). The coalescer therefore sends one MDT's
requests one at a time: in this process under a lock, and across processes under a short lease per MDT
(table `leases`), renewed while the request is out and expiring if the process dies. Inside that turn
it re-reads each unit: a unit whose newer state is stored goes at that state (or is left to its own server's
sender), and a unit Northca already acknowledged at a version as new or newer is not sent at all. Versions
only rise per unit on Northca, whichever process sends.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from bot.storage import DATABASE_ERRORS
from bot.storage.leases import LeaseStore, process_holder_id
from bot.unit_status.coalescer import SendPlan, UnitChange
from bot.unit_status.store import UnitStatusStore

log = logging.getLogger(__name__)


class UnitSendOrder:
    """Turns and plans for the coalescer (its `order`). `leases`: several processes share the database
    (sharded); None when this process is alone on it (the in-process lock is enough)."""

    def __init__(
        self,
        store: UnitStatusStore,
        leases: LeaseStore | None,
        *,
        ttl_ms: int = 10_000,
        poll_seconds: float = 0.02,
    ) -> None:
        self.store = store
        self.leases = leases
        # Per sender, not per process: two bots in one process (as in tests) must not share a turn.
        self.holder = f"{process_holder_id()}:{uuid.uuid4().hex[:8]}"
        self.ttl_ms = ttl_ms
        self.poll_seconds = poll_seconds
        self._locks: dict[str, asyncio.Lock] = {}

    @asynccontextmanager
    async def turn(self, key: str, waiting: Callable[[], Awaitable[None]]) -> AsyncIterator[None]:
        """This sender's turn to send for `key` (an MDT, or one unit of it when unbatched); `waiting` is called
        once when another sender has the turn."""
        lock = self._locks.setdefault(key, asyncio.Lock())
        if lock.locked():
            await waiting()
        async with lock:
            if self.leases is None:
                yield
                return
            name = f"unit-status:{key}"
            waited = False
            while not await self.leases.acquire(name, self.holder, self.ttl_ms, self.store.clock()):
                if not waited:
                    waited = True
                    await waiting()
                await asyncio.sleep(self.poll_seconds)
            renewal = asyncio.get_running_loop().create_task(self._renew(name), name=f"renew-{name}")
            try:
                yield
            finally:
                renewal.cancel()
                await asyncio.gather(renewal, return_exceptions=True)
                try:
                    await self.leases.release(name, self.holder)
                except DATABASE_ERRORS as exc:
                    log.warning("lease %s not released (%s): the next sender waits for its expiry", name, exc)

    async def _renew(self, name: str) -> None:
        assert self.leases is not None
        while True:
            await asyncio.sleep(self.ttl_ms / 3000)
            try:
                if not await self.leases.acquire(name, self.holder, self.ttl_ms, self.store.clock()):
                    log.warning("lease %s lost while a unit request was out (this process was stalled)", name)
                    return
            except DATABASE_ERRORS as exc:
                log.warning("lease %s not renewed (%s); retried", name, exc)

    async def plan(self, mdt_id: str, changes: list[UnitChange]) -> SendPlan:
        """What of `changes` still goes to Northca, read inside the turn."""
        known = await self.store.send_state(mdt_id, [c.unit_id for c in changes])
        plan = SendPlan()
        for change in changes:
            state = known.get(change.unit_id)
            if state is None:
                plan.send.append(change)
                continue
            newest = state.newest
            if newest is not None and newest.version > change.version:
                plan.settled.append(change)  # a newer state of the unit is stored: this one never goes
                if newest.guild_id != change.guild_id:
                    continue  # another server's state: its own sender sends it, in that server's name
                change = UnitChange(
                    newest.guild_id, mdt_id, newest.member_id, newest.version, newest.to_upsert(), newest.actor_id
                )
            if change.version <= state.sent_version:
                plan.settled.append(change)  # Northca has this state of the unit, or a newer one
                continue
            plan.send.append(change)
        return plan

    async def record_sent(self, mdt_id: str, changes: list[UnitChange]) -> None:
        await self.store.record_sent(mdt_id, changes)
