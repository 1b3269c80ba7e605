"""The order of unit sends to Northca when several senders share an MDT: the newest state of a unit wins.

Two processes (or two servers of one process) linked to the same MDT each batch their own changes, so a
request of one could reach Northca after a newer request of the other and leave Northca on the older state
(e.g. a callsign released in one server and taken in another). The coalescer therefore sends one MDT's
requests one at a time: in this process under a lock, and across processes under a turn per MDT in the
database (table `unit_status_turns`), beaten while the request is out and taken over if the process dies.
Inside that turn it re-reads each unit: a unit whose newer state is stored goes at that state (or is left to
its own server's sender), and a unit Northca already acknowledged at a version as new or newer is not sent at
all. Versions only rise per unit on Northca, whichever process sends.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from bot.core.unit_status.coalescer import SendPlan, UnitChange
from bot.core.unit_status.store import UnitStatusStore
from bot.storage import DATABASE_ERRORS
from bot.storage.leases import process_holder_id

log = logging.getLogger(__name__)


class UnitSendOrder:
    """Turns and plans for the coalescer (its `order`). `shared`: several processes share the database
    (sharded): turns are also taken in the database; alone on it, the in-process lock is enough.

    A turn in the database is a row (`unit_status_turns`) its holder bumps every `ttl_ms / 3` while its request
    is out. A waiter takes it over when it is free, or when the waiter has seen the same holder and beat for
    `ttl_ms` of its own monotonic clock (the holder died or stalled): no clock is compared across processes."""

    def __init__(
        self, store: UnitStatusStore, *, shared: bool, ttl_ms: int = 10_000, poll_seconds: float = 0.02
    ) -> None:
        self.store = store
        self.shared = shared
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
            if not self.shared:
                yield
                return
            name = f"unit-status:{key}"
            await self._take(name, waiting)
            beats = asyncio.get_running_loop().create_task(self._beat(name), name=f"beat-{name}")
            try:
                yield
            finally:
                beats.cancel()
                await asyncio.gather(beats, return_exceptions=True)
                try:
                    await self.store.give_turn(name, self.holder)
                except DATABASE_ERRORS as exc:
                    log.warning("turn %s not given up (%s): the next sender takes it over later", name, exc)

    async def _take(self, name: str, waiting: Callable[[], Awaitable[None]]) -> None:
        loop = asyncio.get_running_loop()
        seen: tuple[str, int] | None = None
        seen_since = loop.time()
        stale: tuple[str, int] | None = None
        while True:
            held, current = await self.store.take_turn(name, self.holder, stale)
            if held:
                if stale is not None:
                    log.warning("turn %s taken over from %s, which stopped beating", name, stale[0])
                return
            if seen is None:
                await waiting()
            if current != seen:
                seen, seen_since, stale = current, loop.time(), None
            elif loop.time() - seen_since >= self.ttl_ms / 1000:
                stale = current
            await asyncio.sleep(self.poll_seconds)

    async def _beat(self, name: str) -> None:
        while True:
            await asyncio.sleep(self.ttl_ms / 3000)
            try:
                if not await self.store.renew_turn(name, self.holder):
                    log.warning("turn %s taken over while a unit request was out (this process stalled)", name)
                    return
            except DATABASE_ERRORS as exc:
                log.warning("turn %s: no beat (%s); tried again", name, exc)

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
