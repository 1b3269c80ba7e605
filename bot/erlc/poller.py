"""The presence poller: one poll per connected server at a time, each at its own adaptive cadence.

Runs only in the process that owns the servers' shards, and there only while it holds the poller lease of
its shard set (bot/ops/services.py), so two processes never poll one server; each poll also claims the server in
the database (`erlc_servers.poll_claim`), and a poll overtaken by a newer claim writes nothing.

Cadence per server (the next poll's delay after each one):
- `fast_seconds` while a linked member is on duty there, `seconds` while players are in game,
  `slow_seconds` when the server is empty or offline (PRC 3002);
- after a failure, `seconds * 2^failures` up to `max_backoff_seconds` (with jitter);
- on 429 / 4001: the `retry_after` PRC gave (never sooner);
- on 2002 (key invalid): never again; the service marked the server disconnected and told the admins.

Fairness: due servers are taken in due-time order (a heap), at most `concurrency` at once; the PRC client's
token bucket (per PRC rate-limit bucket, shared by every server) spaces the requests themselves, so when the
limit is the bottleneck every server's poll slips by the same amount instead of some starving. After a start
the first polls are spread evenly over `first_spread_seconds` (no storm after a restart).

Scheduling runs on the event loop's monotonic time; every stored time comes from the service's injected clock.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from bot.core.events import EventHub
from bot.core.polling import LoopTask
from bot.core.sharding import ShardSet, owns
from bot.erlc.records import ErlcEvent, PollOutcome, ServerConnectionChanged
from bot.erlc.service import ErlcService

log = logging.getLogger(__name__)


@dataclass
class PollerStats:
    polls: int = 0
    ok: int = 0
    errors: dict[str, int] = field(default_factory=dict)
    rate_limited: int = 0


class ErlcPoller:
    name = "erlc-poller"

    def __init__(
        self,
        service: ErlcService,
        events: EventHub,
        *,
        shards: ShardSet | None = None,
        fast_seconds: float = 10.0,
        seconds: float = 30.0,
        slow_seconds: float = 120.0,
        max_backoff_seconds: float = 600.0,
        concurrency: int = 16,
        first_spread_seconds: float = 30.0,
        on_outcome: Callable[[PollOutcome], None] | None = None,
    ) -> None:
        self.service = service
        self.events = events
        self.shards = shards
        self.fast_seconds = fast_seconds
        self.seconds = seconds
        self.slow_seconds = slow_seconds
        self.max_backoff_seconds = max_backoff_seconds
        self.concurrency = concurrency
        self.first_spread_seconds = first_spread_seconds
        self.on_outcome = on_outcome
        self.stats = PollerStats()
        self._heap: list[tuple[float, int, int]] = []  # (due, generation, guild)
        self._generation: dict[int, int] = {}
        self._failures: dict[int, int] = {}
        self._busy: set[int] = set()
        self._wake = asyncio.Event()
        self._slots = asyncio.Semaphore(concurrency)
        self._loop_task = LoopTask(self.name, self._loop)
        self._inflight: set[asyncio.Task[None]] = set()

    @property
    def running(self) -> bool:
        return self._loop_task.running

    def scheduled(self) -> set[int]:
        """The guilds this poller polls (tests)."""
        return set(self._generation)

    # --- lifecycle --------------------------------------------------------------------------------------
    async def start(self) -> None:
        if self.running:
            return
        self.events.erlc.subscribe_now(self._on_event)
        guilds = await self.service.connected_guilds(self.shards)
        now = self._now()
        order = list(guilds)
        random.shuffle(order)
        count = len(order)
        for i, guild_id in enumerate(order):
            # Evenly spread over the window, so a restart with many servers is no burst of requests.
            self._schedule(guild_id, now + self.first_spread_seconds * (i + random.random()) / max(count, 1))
        self._loop_task.start()
        log.info("ER:LC poller started: %d servers, first polls spread over %.0f s", count, self.first_spread_seconds)

    async def stop(self) -> None:
        self.events.erlc.unsubscribe(self._on_event)
        await self._loop_task.stop()
        for task in list(self._inflight):
            task.cancel()
        await asyncio.gather(*self._inflight, return_exceptions=True)
        self._heap.clear()
        self._generation.clear()
        self._failures.clear()

    def _on_event(self, event: ErlcEvent) -> None:
        if not isinstance(event, ServerConnectionChanged) or not self.running:
            return
        if not owns(self.shards, event.guild_id):
            return
        if event.connected:
            self._failures.pop(event.guild_id, None)
            self._schedule(event.guild_id, self._now())
        else:
            self._unschedule(event.guild_id)

    # --- the schedule -----------------------------------------------------------------------------------
    @staticmethod
    def _now() -> float:
        return asyncio.get_running_loop().time()

    def _schedule(self, guild_id: int, due: float) -> None:
        generation = self._generation.get(guild_id, 0) + 1
        self._generation[guild_id] = generation
        heapq.heappush(self._heap, (due, generation, guild_id))
        self._wake.set()

    def _unschedule(self, guild_id: int) -> None:
        self._generation.pop(guild_id, None)  # its heap entries become stale
        self._failures.pop(guild_id, None)

    async def _loop(self) -> None:
        while True:
            while self._heap and self._generation.get(self._heap[0][2]) != self._heap[0][1]:
                heapq.heappop(self._heap)  # stale: rescheduled or disconnected since
            self._wake.clear()
            if not self._heap:
                await self._wake.wait()
                continue
            due, _, guild_id = self._heap[0]
            delay = due - self._now()
            if delay > 0:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), delay)
                continue
            await self._slots.acquire()
            if not self._heap or self._heap[0][2] != guild_id:
                self._slots.release()
                continue
            heapq.heappop(self._heap)
            if guild_id in self._busy:  # a poll of it is still out: poll again once it is back
                self._slots.release()
                continue
            self._busy.add(guild_id)
            task = asyncio.get_running_loop().create_task(self._poll(guild_id), name=f"erlc-poll-{guild_id}")
            self._inflight.add(task)
            task.add_done_callback(self._inflight.discard)

    async def _poll(self, guild_id: int) -> None:
        generation = self._generation.get(guild_id)
        try:
            try:
                outcome = await self.service.poll(guild_id)
            except Exception:
                log.exception("guild %s: ER:LC poll failed (retried with backoff)", guild_id)
                outcome = PollOutcome(guild_id, False, error="crash")
            delay = await self._next_delay(outcome)
        finally:
            self._busy.discard(guild_id)
            self._slots.release()
        self._count(outcome)
        if self.on_outcome is not None:
            self.on_outcome(outcome)
        # Re-armed unless disconnected, or rescheduled meanwhile (a reconnect: that schedule stands).
        if delay is not None and self._generation.get(guild_id) == generation:
            self._schedule(guild_id, self._now() + delay)
        elif delay is None and self._generation.get(guild_id) == generation:
            self._unschedule(guild_id)

    def _count(self, outcome: PollOutcome) -> None:
        self.stats.polls += 1
        if outcome.ok:
            self.stats.ok += 1
        elif outcome.error is not None:
            self.stats.errors[outcome.error] = self.stats.errors.get(outcome.error, 0) + 1
            if outcome.error == "rate_limited":
                self.stats.rate_limited += 1

    async def _next_delay(self, outcome: PollOutcome) -> float | None:
        guild_id = outcome.guild_id
        if outcome.disconnected:
            return None
        if outcome.ok:
            self._failures.pop(guild_id, None)
            if outcome.players == 0:
                base = self.slow_seconds
            elif await self.service.is_fast(guild_id):
                base = self.fast_seconds
            else:
                base = self.seconds
            return base * random.uniform(0.95, 1.05)
        if outcome.error == "rate_limited" and outcome.retry_after is not None:
            # Not a failure of the server: PRC asked to wait this long (plus a little, never sooner).
            return max(outcome.retry_after, 0.05) + random.uniform(0, 0.25)
        if outcome.error == "claim_lost":
            return self.seconds
        failures = self._failures.get(guild_id, 0) + 1
        self._failures[guild_id] = failures
        backoff = min(self.seconds * 2.0 ** min(failures - 1, 30), self.max_backoff_seconds)
        return backoff * random.uniform(0.9, 1.1)
