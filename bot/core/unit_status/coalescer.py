"""The coalescer: a stream of unit changes turned into few bulk `PUT /units/active` calls.

Per guild and MDT (a *lane*) it gathers changes over a window and sends one request with each
unit once, at its newest version. One request per lane is out at a time, so a newer change made
while a request is out goes in the next one and can never be overwritten by the older one.
Failed requests are retried with backoff, with the newest state at the time of the retry. A
window of 0 turns batching off: one request per change (units still in order), the baseline of
`bench/status_burst.py`.

With an `order` (bot/core/unit_status/order.py, as the bot builds it) the requests of one MDT go one at a time,
across this process's servers and across processes, and each carries only what Northca does not have yet
at that version or newer: the newest state of a unit wins even when several senders share the MDT.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import Awaitable, Callable, Hashable
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Protocol

from bot.core.events import Topic
from bot.northca.client import NorthcaClient
from bot.northca.errors import NorthcaError, NorthcaRateLimited
from bot.northca.models import ActiveUnitUpsert

log = logging.getLogger(__name__)

# The longest a 429's Retry-After may hold a lane back: Northca's hint is honoured up to this.
RETRY_AFTER_CAP_SECONDS = 300.0


@dataclass(frozen=True)
class UnitChange:
    """One officer's unit as it should be on Northca, at a version (higher is newer)."""

    guild_id: int
    mdt_id: str
    member_id: int
    version: int
    unit: ActiveUnitUpsert
    actor_id: int | None = None
    # False for a change that is not the officer's record (a retired callsign): never marks it synced.
    tracked: bool = True

    @property
    def unit_id(self) -> str:
        return self.unit.id


@dataclass(frozen=True)
class UnitsSent:
    """Northca acknowledged these changes (one request); `settled`: changes never to be sent, because Northca
    has that state of the unit or a newer one, or a newer state of the unit is stored (nothing left to send)."""

    changes: list[UnitChange]
    settled: list[UnitChange] = field(default_factory=list)


@dataclass
class SendPlan:
    """What of a batch goes to Northca (`send`), and what needs no sending any more (`settled`)."""

    send: list[UnitChange] = field(default_factory=list)
    settled: list[UnitChange] = field(default_factory=list)


class SendOrder(Protocol):
    """One sender at a time per MDT, and what a batch still has to send (bot/core/unit_status/order.py)."""

    def turn(self, key: str, waiting: Callable[[], Awaitable[None]]) -> AbstractAsyncContextManager[None]: ...
    async def plan(self, mdt_id: str, changes: list[UnitChange]) -> SendPlan: ...
    async def record_sent(self, mdt_id: str, changes: list[UnitChange]) -> None: ...


@dataclass(eq=False)
class _Lane:
    guild_id: int
    mdt_id: str
    unit_id: str | None = None  # unbatched: the lane's one unit
    pending: dict[str, UnitChange] = field(default_factory=dict)
    # Newest version accepted per unit id: anything older that shows up late is ignored.
    newest: dict[str, int] = field(default_factory=dict)
    task: asyncio.Task[None] | None = None
    not_before: float = 0.0  # loop time before which no request is sent
    put_at: float = 0.0  # loop time the last request went (the window runs from there)
    failures: int = 0
    last_error: BaseException | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)

    @property
    def turn_key(self) -> str:
        """What its requests take turns on with other senders: the MDT (one unit of it when unbatched)."""
        return self.mdt_id if self.unit_id is None else json.dumps([self.mdt_id, self.unit_id])


class UnitCoalescer:
    """Bulk, ordered, retried upserts of active units. A bot background service.

    `window` is in seconds. The client is copied with retries switched off: retrying is
    done here, so that a retry carries the newest state rather than the failed body.
    """

    def __init__(
        self,
        client: NorthcaClient,
        window: float,
        *,
        backoff_base: float = 0.25,
        backoff_max: float = 30.0,
        order: SendOrder | None = None,
    ) -> None:
        self.client = client.single_attempt()
        self.order = order
        self.window = max(0.0, window)
        self.batching = self.window > 0
        # Subscribed to by the status service, which records the acknowledged versions.
        self.sent: Topic[UnitsSent] = Topic("units sent")
        self.backoff_base = backoff_base
        self.backoff_max = backoff_max
        self._lanes: dict[Hashable, _Lane] = {}
        self._active: set[_Lane] = set()
        self._idle = asyncio.Event()
        self._idle.set()
        self._hurry = False
        self._stopped = False
        # Counters for tests, benchmarks and logs.
        self.puts_sent = 0
        self.puts_failed = 0
        self.largest_put = 0
        self.units_sent = 0
        self.units_refused = 0
        self.units_settled = 0  # not sent: Northca had them (or newer), or a newer state was stored
        self.turn_waits = 0  # requests that waited for another sender's request to the same MDT
        # (loop time it started, unit ids) of every request, in order (bounded): for tests and benchmarks.
        self.sent_log: list[tuple[float, list[str]]] = []
        self._changed = asyncio.Condition()

    # --- feeding --------------------------------------------------------------------

    def submit(self, change: UnitChange) -> bool:
        """Queue a change. Returns False when a newer change of that unit is already known."""
        if self._stopped:
            log.warning("unit %s changed after the coalescer stopped; it stays unsynced locally", change.unit_id)
            return False
        key: Hashable = (change.guild_id, change.mdt_id)
        unit_id = None
        if not self.batching:
            key, unit_id = (change.guild_id, change.mdt_id, change.unit_id), change.unit_id
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = _Lane(change.guild_id, change.mdt_id, unit_id)
        if lane.newest.get(change.unit_id, 0) >= change.version:
            return False
        lane.newest[change.unit_id] = change.version
        lane.pending[change.unit_id] = change
        if lane.task is None:
            loop = asyncio.get_running_loop()
            # The first change after a quiet time opens the window; the request goes at its end.
            lane.not_before = max(lane.not_before, loop.time() + self.window)
            self._active.add(lane)
            self._idle.clear()
            lane.task = loop.create_task(self._drive(lane), name=f"unit-upsert-{change.guild_id}-{change.mdt_id}")
        return True

    @property
    def pending_units(self) -> int:
        return sum(len(lane.pending) for lane in self._lanes.values())

    def wait_left(self, mdt_id: str) -> float:
        """Seconds until the next request of any lane of this MDT with changes waiting may go (0: now)."""
        now = asyncio.get_running_loop().time()
        return max(
            [lane.not_before - now for lane in self._lanes.values() if lane.mdt_id == mdt_id and lane.pending] + [0.0]
        )

    async def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every change submitted so far has been sent (or refused for good).
        Does not hurry anything: windows and backoffs run their course. False on timeout."""
        try:
            async with asyncio.timeout(timeout):
                await self._idle.wait()
        except TimeoutError:
            return False
        return True

    async def wait_until(self, predicate: Callable[[UnitCoalescer], bool], timeout: float = 10.0) -> bool:
        """Wait until `predicate(self)` holds; it is checked whenever a request starts or ends."""
        try:
            async with asyncio.timeout(timeout), self._changed:
                await self._changed.wait_for(lambda: predicate(self))
        except TimeoutError:
            return False
        return True

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def drain(self, timeout: float = 5.0) -> bool:
        """Send what is pending now, skipping windows and backoffs (shutdown)."""
        self._hurry = True
        for lane in list(self._active):
            lane.wake.set()
        try:
            return await self.flush(timeout)
        finally:
            self._hurry = False

    # --- service ---------------------------------------------------------------------

    async def start(self) -> None:
        self._stopped = False

    async def stop(self) -> None:
        if self._active:
            await self.drain(timeout=3.0)
        if self.pending_units:
            log.warning(
                "%d unit changes not sent before shutdown; they are resent at the next start", self.pending_units
            )
        self._stopped = True
        tasks = [lane.task for lane in self._lanes.values() if lane.task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # --- machinery -------------------------------------------------------------------

    async def _drive(self, lane: _Lane) -> None:
        loop = asyncio.get_running_loop()
        try:
            while lane.pending:
                delay = lane.not_before - loop.time()
                if delay > 0 and not self._hurry:
                    lane.wake.clear()
                    with contextlib.suppress(TimeoutError):
                        async with asyncio.timeout(delay):
                            await lane.wake.wait()
                    continue
                lane.put_at = loop.time()  # moved to when the request goes, if it waits for its turn
                if await self._send(lane):
                    lane.failures = 0
                    # At most one request per lane per window.
                    lane.not_before = lane.put_at + self.window
                else:
                    lane.not_before = max(lane.put_at + self.window, loop.time() + self._backoff(lane))
                    if self._hurry:
                        # Shutting down: one last attempt only; the changes stay unsynced locally.
                        break
        finally:
            lane.task = None
            self._active.discard(lane)
            if not self._active:
                self._idle.set()

    async def _send(self, lane: _Lane) -> bool:
        batch: dict[str, UnitChange] = {}
        if self.order is None:
            batch, lane.pending = lane.pending, {}
            return await self._put(lane, batch, list(batch.values()), [])
        try:
            async with self.order.turn(lane.turn_key, self._turn_waited):
                # Taken in the turn: a change made while waiting for it goes too.
                batch, lane.pending = lane.pending, {}
                plan = await self.order.plan(lane.mdt_id, list(batch.values()))
                for change in plan.send:  # a newer stored state may go instead of the one queued
                    lane.newest[change.unit_id] = max(lane.newest.get(change.unit_id, 0), change.version)
                self.units_settled += len(plan.settled)
                if not plan.send:
                    await self.sent.deliver(UnitsSent([], plan.settled))
                    return True
                return await self._put(lane, batch, plan.send, plan.settled)
        except asyncio.CancelledError:
            raise
        except Exception:  # the database (turn, plan): retried like an outage, nothing lost
            self.puts_failed += 1
            log.exception("unit upsert for guild %s could not be prepared", lane.guild_id)
            self._requeue(lane, batch)
            lane.failures += 1
            lane.last_error = None
            return False

    async def _turn_waited(self) -> None:
        self.turn_waits += 1
        await self._notify()

    async def _put(
        self, lane: _Lane, batch: dict[str, UnitChange], changes: list[UnitChange], settled: list[UnitChange]
    ) -> bool:
        actors = {c.actor_id for c in changes}
        actor = actors.pop() if len(actors) == 1 else None
        lane.put_at = asyncio.get_running_loop().time()
        self.puts_sent += 1
        self.largest_put = max(self.largest_put, len(changes))
        if len(self.sent_log) < 100_000:
            self.sent_log.append((asyncio.get_running_loop().time(), [c.unit_id for c in changes]))
        await self._notify()
        try:
            return await self._attempt(lane, batch, changes, settled, actor)
        finally:
            await self._notify()

    async def _attempt(
        self,
        lane: _Lane,
        batch: dict[str, UnitChange],
        changes: list[UnitChange],
        settled: list[UnitChange],
        actor: int | None,
    ) -> bool:
        try:
            await self.client.upsert_active_units(lane.mdt_id, [c.unit for c in changes], lane.guild_id, actor)
        except asyncio.CancelledError:
            raise
        except NorthcaError as exc:
            self.puts_failed += 1
            if exc.retryable:
                self._requeue(lane, batch)
                lane.failures += 1
                lane.last_error = exc
                log.info(
                    "unit upsert for guild %s (%d units) failed: %s; retrying with the newest state",
                    lane.guild_id,
                    len(changes),
                    exc,
                )
                return False
            # A refusal that will not change by itself (not linked, bad key): the changes stay
            # unsynced locally (marked on the panels) and are sent again by the periodic resend.
            self.units_refused += len(changes)
            for change in changes:
                # Refused, not sent: the same version may be offered again (the periodic resend).
                if lane.newest.get(change.unit_id) == change.version:
                    del lane.newest[change.unit_id]
            log.error("Northca refused the unit upsert for guild %s (%d units): %s", lane.guild_id, len(changes), exc)
            if settled:
                await self.sent.deliver(UnitsSent([], settled))
            return True
        except Exception:  # a bug must not lose the changes: retried like an outage
            self.puts_failed += 1
            log.exception("unit upsert for guild %s failed unexpectedly", lane.guild_id)
            self._requeue(lane, batch)
            lane.failures += 1
            lane.last_error = None
            return False
        self.units_sent += len(changes)
        self._release_mdt(lane)
        if self.order is not None:
            try:  # in the turn: the next sender of the MDT sees it
                await self.order.record_sent(lane.mdt_id, changes)
            except Exception:  # Northca has them: only the guard against an older state landing later is weaker
                log.exception("units sent to MDT %s not recorded as sent", lane.mdt_id)
        await self.sent.deliver(UnitsSent(changes, settled))
        return True

    def _release_mdt(self, succeeded: _Lane) -> None:
        """Northca took a request for this MDT: the lanes of the MDT held back by failures go at once."""
        now = asyncio.get_running_loop().time()
        for lane in self._lanes.values():
            if lane is succeeded or lane.mdt_id != succeeded.mdt_id or lane.failures == 0:
                continue
            lane.failures = 0
            lane.last_error = None
            lane.not_before = min(lane.not_before, now)
            lane.wake.set()

    @staticmethod
    def _requeue(lane: _Lane, batch: dict[str, UnitChange]) -> None:
        for unit_id, change in batch.items():
            # A newer change queued meanwhile wins: the failed one is never sent again.
            if unit_id not in lane.pending:
                lane.pending[unit_id] = change

    def _backoff(self, lane: _Lane) -> float:
        ceiling = min(self.backoff_max, self.backoff_base * 2 ** max(0, min(lane.failures - 1, 20)))
        delay = random.uniform(ceiling / 2, ceiling)
        exc = lane.last_error
        if isinstance(exc, NorthcaRateLimited) and exc.retry_after:
            # Capped: a hint of a day must not freeze the lane for a day (a success releases it sooner).
            delay = max(delay, min(exc.retry_after, RETRY_AFTER_CAP_SECONDS))
        return delay
