"""THE exactly-once sync of ended shifts to Northca: read this file alone when a shift was
"sent twice" or "never sent".

Northca has no endpoint to update or end a shift, so a shift lives in SQLite while it is open
and is written to Northca once, complete, when it ends, under the id (a UUID) chosen when it
started:

- ending a shift commits it as "ended, awaiting sync" (ShiftStore.end_open) before anything
  else happens; the worker below then claims it (ShiftStore.claim_due: a lease, and
  `sent_unconfirmed` set when a previous attempt never reported back) and sends it;
- a write that failed ambiguously (timeout, 5xx, dropped connection), or that was out when the
  bot stopped, may have been applied: every later attempt first looks the id up on Northca and
  only writes again when a lookup that provably reaches back past the first write attempt
  (minus LOOKUP_CLOCK_SKEW_MS) says it is not there (the answer is not full, or its oldest
  shift is older than that attempt) -- `_look_up`;
- when the lookup cannot tell (more newer shifts than one answer holds), the shift is held
  "unconfirmed: check on Northca" and never sent by itself: a supervisor chooses "Send anyway"
  (one write) or "It is on Northca" (both audited; ShiftService.decide);
- a permanent refusal (400, 401, 403) marks the shift failed with Northca's reason, until an
  admin retries it; anything retryable is retried with capped exponential backoff
  (`backoff_seconds`, a Retry-After honoured up to its cap).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

from bot.core.aio import wait_event
from bot.core.config import ShiftConfig
from bot.core.foreground import Foreground
from bot.core.polling import LoopTask
from bot.core.sharding import ShardSet
from bot.core.shifts.notices import ShiftNotices
from bot.core.shifts.records import Lookup, ShiftRecord
from bot.core.shifts.store import CLAIM_LEASE_MS, ShiftStore
from bot.core.timefmt import from_ms, now_ms, utc_text
from bot.northca.client import RETRY_AFTER_CAP_SECONDS, NorthcaClient
from bot.northca.errors import NorthcaAnswerTooLarge, NorthcaError, NorthcaRateLimited
from bot.northca.models import ShiftWindow

if TYPE_CHECKING:
    from bot.core.shifts.service import ShiftService

log = logging.getLogger(__name__)

# The spec caps `GET /shifts?limit=` at 200.
LOOKUP_LIMIT = 200
# No shift waits longer than this between attempts, a Retry-After included.
MAX_BACKOFF_SECONDS = RETRY_AFTER_CAP_SECONDS
# Northca's clock and ours may differ: a lookup must reach back this much further to prove absence.
LOOKUP_CLOCK_SKEW_MS = 5 * 60 * 1000
# How long the sync loop, woken while writes are out, lets more ended shifts gather before it claims.
SYNC_GATHER_SECONDS = 0.02


class ShiftSync:
    """Sends ended shifts to Northca exactly once (see the module docstring); the worker below
    claims due shifts and runs `sync_one` for each."""

    def __init__(
        self,
        store: ShiftStore,
        northca: NorthcaClient,
        config: ShiftConfig,
        notices: ShiftNotices,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.store = store
        self.clock = clock
        self.northca = northca
        # Writes go through a client that never repeats a POST on its own: after an ambiguous
        # failure the next write must come after a lookup, which only this engine does.
        self.writer = northca.single_attempt()
        self.config = config
        self.notices = notices
        self._sync_waiters: dict[str, list[asyncio.Future[ShiftRecord]]] = {}
        # Signals for the worker: `wake` when something became due, `idle` when nothing is left to do.
        self.wake = asyncio.Event()
        self.idle = asyncio.Event()
        self.idle.set()

    def request(self) -> None:
        """Something became due now (a shift ended, a retry or a decision): the worker looks at once."""
        self.idle.clear()
        self.wake.set()

    async def wait_for_sync(self, shift_id: str, timeout: float, *, since_ms: int = 0) -> ShiftRecord | None:
        """The shift once an attempt made at or after `since_ms` has a verdict (synced, failed,
        or retry scheduled); None if there is none within `timeout` seconds."""
        with self.watching(shift_id) as verdict:
            # Registered before reading, so a verdict in between cannot be missed.
            current = await self.store.get(shift_id)
            if current is None:
                return None
            if self._has_verdict(current, since_ms):
                return current
            return await self.verdict_within(verdict, timeout)

    @contextlib.contextmanager
    def watching(self, shift_id: str) -> Iterator[asyncio.Future[ShiftRecord]]:
        """The shift's next verdict, as a future registered now. Entered right after the shift was ended (before
        the caller yields), no attempt can have finished yet, so no read of the shift is needed."""
        future: asyncio.Future[ShiftRecord] = asyncio.get_running_loop().create_future()
        waiters = self._sync_waiters.setdefault(shift_id, [])
        waiters.append(future)
        try:
            yield future
        finally:
            if future in waiters:
                waiters.remove(future)
            if not waiters:
                self._sync_waiters.pop(shift_id, None)

    @staticmethod
    async def verdict_within(verdict: asyncio.Future[ShiftRecord], timeout: float) -> ShiftRecord | None:
        try:
            async with asyncio.timeout(timeout):
                return await verdict
        except TimeoutError:
            return None

    @staticmethod
    def _has_verdict(shift: ShiftRecord, since_ms: int) -> bool:
        if shift.sync_state == "synced":
            return True
        if shift.sync_state is None:
            return False
        return (
            shift.last_attempt_ms is not None and shift.last_attempt_ms >= since_ms and shift.attempt_started_ms is None
        )

    def verdict(self, shift: ShiftRecord | None) -> None:
        if shift is None:
            return
        for future in self._sync_waiters.get(shift.id, []):
            if not future.done():
                future.set_result(shift)

    async def sync_one(self, shift: ShiftRecord) -> ShiftRecord | None:
        """One attempt for a claimed shift. Never raises (but may be cancelled)."""
        try:
            return await self._sync_one(shift)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # a bug must not lose the shift: it is retried
            log.exception("syncing shift %s failed unexpectedly", shift.id)
            return await self._retry_later(shift, f"internal error ({type(exc).__name__})", maybe_applied=True)

    async def _sync_one(self, shift: ShiftRecord) -> ShiftRecord | None:
        maybe_applied = bool(shift.sent_unconfirmed)
        approved_by = shift.write_approved_by
        if maybe_applied:
            # An earlier write may have been applied: write again only when proven absent.
            try:
                seen = await self._look_up(shift)
            except NorthcaError as exc:
                return await self._lookup_failed(shift, exc, None)
            if seen.present:
                return await self._synced(shift, "found on Northca")
            if not seen.absent and approved_by is None:
                return await self._unconfirmed(shift, seen.reason, None)
        if approved_by is not None:
            await self.store.consume_write_approval(shift.id)
            log.info("shift %s: written as supervisor %s chose Send anyway", shift.id, approved_by)
        try:
            await self.writer.create_shift(shift.mdt_id, shift.to_northca(), shift.guild_id, shift.member_id)
        except NorthcaError as exc:
            if not exc.ambiguous:
                return await self._refused(shift, exc, maybe_applied=maybe_applied)
            log.warning("shift %s: write failed ambiguously (%s); looking it up", shift.id, exc)
            try:
                seen = await self._look_up(shift)
            except NorthcaError as lookup_exc:
                log.info("shift %s: lookup failed too (%s)", shift.id, lookup_exc)
                return await self._lookup_failed(shift, lookup_exc, exc)
            if seen.present:
                return await self._synced(shift, "found on Northca after an ambiguous failure")
            if seen.absent:
                # Not applied. The next attempt looks again before it writes.
                return await self._refused(shift, exc, maybe_applied=True)
            return await self._unconfirmed(shift, seen.reason, exc)
        return await self._synced(shift, "written")

    async def _look_up(self, shift: ShiftRecord) -> Lookup:
        """Whether Northca has this shift: present, proven absent, or undecided (with why).

        The newest shifts with its status, then (if that cannot decide) those of its status
        and department, a narrower window that reaches further back. Absence is proven only
        by a window that provably reaches back past the first write attempt."""
        first = shift.first_attempt_ms if shift.first_attempt_ms is not None else shift.ended_ms
        assert first is not None
        since = from_ms(first - LOOKUP_CLOCK_SKEW_MS)
        departments = [None, shift.department] if shift.department else [None]
        window: ShiftWindow | None = None
        for department in departments:
            window = await self.northca.list_shift_window(
                shift.mdt_id,
                shift.guild_id,
                shift.member_id,
                limit=LOOKUP_LIMIT,
                status=shift.status,
                department=department,
            )
            if shift.id in window.ids:
                return Lookup(present=True)
            if window.reaches_back_to(since):
                return Lookup(absent=True)
        assert window is not None
        return Lookup(reason=self._undecided_reason(shift, window, first))

    @staticmethod
    def _undecided_reason(shift: ShiftRecord, window: ShiftWindow, first_ms: int) -> str:
        what = f"status “{shift.status}”" + (f", department “{shift.department}”" if shift.department else "")
        oldest = window.oldest_updated_at
        if oldest is None:
            return f"the MDT's list of recent shifts ({what}) has no times to compare with, so it cannot tell"
        return (
            f"the MDT's recent shifts ({what}, the newest {window.raw_count}) start at {utc_text(oldest)},"
            f" after the first try at {utc_text(from_ms(first_ms))}, so it cannot tell whether this one is there"
        )

    async def _lookup_failed(
        self, shift: ShiftRecord, exc: NorthcaError, write_error: NorthcaError | None
    ) -> ShiftRecord | None:
        if isinstance(exc, NorthcaAnswerTooLarge):
            # It will not get smaller by itself: a supervisor decides.
            return await self._unconfirmed(shift, f"the lookup failed: {exc.message}", write_error)
        if write_error is not None and exc.retryable:
            return await self._retry_later(shift, write_error.message, maybe_applied=True, exc=write_error)
        return await self._refused(shift, exc, maybe_applied=True)

    async def _unconfirmed(self, shift: ShiftRecord, reason: str, exc: NorthcaError | None) -> ShiftRecord | None:
        done = await self.store.mark_unconfirmed(
            shift.id, self.clock(), reason[:500], exc.message if exc else None, shift.attempt_started_ms
        )
        if done is None:
            return self._taken_over(shift)
        log.warning("shift %s held as unconfirmed (check on Northca): %s", shift.id, reason)
        self.verdict(done)
        self.notices.emit("sync_unconfirmed", done)
        return done

    async def _synced(self, shift: ShiftRecord, how: str) -> ShiftRecord | None:
        done = await self.store.mark_synced(shift.id, self.clock())
        log.info("shift %s synced to Northca (%s, attempt %d)", shift.id, how, shift.sync_attempts)
        self.verdict(done)
        return done

    async def _refused(self, shift: ShiftRecord, exc: NorthcaError, *, maybe_applied: bool) -> ShiftRecord | None:
        # Not retryable (400, 401, 403, …): it will not change by itself; kept as failed until retried.
        if not exc.retryable:
            claim = shift.attempt_started_ms
            done = await self.store.mark_failed(shift.id, self.clock(), exc.message, maybe_applied, claim)
            if done is None:
                return self._taken_over(shift)
            log.warning("shift %s refused by Northca, kept as failed: %s", shift.id, exc)
            self.verdict(done)
            self.notices.emit("sync_failed", done)
            return done
        return await self._retry_later(shift, exc.message, maybe_applied=maybe_applied, exc=exc)

    async def _retry_later(
        self, shift: ShiftRecord, error: str, *, maybe_applied: bool, exc: NorthcaError | None = None
    ) -> ShiftRecord | None:
        now = self.clock()
        delay = self.backoff_seconds(shift.sync_attempts, exc)
        done = await self.store.mark_retry(
            shift.id, now, now + int(delay * 1000), error, maybe_applied, shift.attempt_started_ms
        )
        if done is None:
            return self._taken_over(shift)
        log.info("shift %s not synced (%s); retry %d in %.1f s", shift.id, error, shift.sync_attempts + 1, delay)
        self.verdict(done)
        return done

    @staticmethod
    def _taken_over(shift: ShiftRecord) -> None:
        """This attempt's verdict came back after its claim was taken over (or the shift settled meanwhile): the
        holder now decides; nothing is marked."""
        log.warning(
            "shift %s: this attempt's claim was taken over or settled meanwhile (the process stalled past its lease);"
            " its verdict is left to the current holder",
            shift.id,
        )
        return None

    def backoff_seconds(self, attempts: int, exc: NorthcaError | None = None) -> float:
        base = self.config.sync_interval_seconds
        cap = max(base, MAX_BACKOFF_SECONDS)
        delay = min(cap, base * 2.0 ** max(0, min(attempts - 1, 30)))
        delay *= random.uniform(0.8, 1.0)
        if isinstance(exc, NorthcaRateLimited) and exc.retry_after:
            # The client caps retry_after already; capped again so no caller can schedule past it.
            delay = max(delay, min(exc.retry_after, RETRY_AFTER_CAP_SECONDS))
        return min(delay, cap)


class ShiftWorker:
    """Sends ended shifts to Northca (several at once, with backoff, across restarts). A bot background
    service. (Shifts that reach the maximum length are ended by bot/core/shifts/auto_end.py.)"""

    def __init__(
        self,
        service: ShiftService,
        *,
        concurrency: int = 32,
        max_idle_sleep: float = 60.0,
        sole_process: bool = True,
        shards: ShardSet | None = None,
        foreground: Foreground | None = None,
    ) -> None:
        self.service = service
        # Interactions waiting for a first answer go before the writes (bot/core/foreground.py).
        self.foreground = foreground if foreground is not None else Foreground()
        self.sync = service.sync
        self.concurrency = concurrency
        self.max_idle_sleep = max_idle_sleep
        # The only process on this database: claims still out at start are its own from before a restart and are
        # due at once. With several processes they may be another's live claims: they wait for their lease.
        self.sole_process = sole_process
        # Several processes: this process's guilds, whose shifts it sends first (ShiftStore.claim_due).
        self.shards = shards
        self._inflight: dict[str, asyncio.Task[ShiftRecord | None]] = {}
        self._claims: dict[str, int] = {}  # shift id -> its claim's attempt_started_ms (renewed while out)
        self._loops = [LoopTask("shift-sync", self._sync_loop), LoopTask("shift-claim-renewal", self._renew_loop)]
        self._stopping = False

    @property
    def running(self) -> bool:
        return any(loop.running for loop in self._loops)

    async def start(self) -> None:
        if self.running:
            return
        if self.sole_process:
            released = await self.sync.store.release_claims(self.sync.clock())
            if released:
                log.info("%d shifts were being sent when the bot stopped: they will be looked up first", released)
        self.sync.idle.clear()
        self._stopping = False
        for loop in self._loops:
            loop.start()

    async def stop(self, grace: float = 5.0) -> None:
        self._stopping = True
        for loop in self._loops:  # no new claims
            await loop.stop()
        # Writes already sent may finish within `grace`; the rest are parked (claims released, looked up at start).
        inflight = list(self._inflight.values())
        if inflight:
            _, unfinished = await asyncio.wait(inflight, timeout=grace)
            for write in unfinished:
                write.cancel()
            await asyncio.gather(*unfinished, return_exceptions=True)
            if unfinished:
                log.warning(
                    "%d shift writes unfinished at shutdown: looked up on Northca at the next start", len(unfinished)
                )
        self._inflight.clear()
        self._claims.clear()
        await self.service.drain(timeout=5.0)

    async def _sync_loop(self) -> None:
        sync = self.sync
        while True:
            sync.wake.clear()
            await self.foreground.quiet()
            try:
                claimed: list[ShiftRecord] = []
                free = self.concurrency - len(self._inflight)
                if free > 0:
                    claimed = await sync.store.claim_due(sync.clock(), free, self.shards)
                    for shift in claimed:
                        self._spawn(shift)
                if len(self._inflight) >= self.concurrency:
                    # Every slot busy: the next finished attempt wakes the loop.
                    timeout = self.max_idle_sleep
                else:
                    # Everything due is claimed; sleep until the next backoff ends (or a wake).
                    if not self._inflight and not claimed:
                        sync.idle.set()
                    next_due = await sync.store.next_due_ms(self.shards)
                    timeout = self.max_idle_sleep
                    if next_due is not None:
                        timeout = min(timeout, max(0.0, (next_due - self.sync.clock()) / 1000))
            except asyncio.CancelledError:
                raise
            except Exception:  # the loop must survive a bad moment of the database
                log.exception("shift sync loop failed; trying again shortly")
                timeout = 1.0
            if self._stopping:
                return
            if timeout > 0 and await wait_event(sync.wake, timeout) and self._inflight:
                # Under load (writes already out), the ends arriving in the next moment are claimed together: one
                # claim and one read for several shifts instead of for each. Alone, a shift is claimed at once.
                await asyncio.sleep(SYNC_GATHER_SECONDS)

    async def _renew_loop(self) -> None:
        """Keeps the claims of the writes still out from expiring (another process would take them over)."""
        while True:
            await asyncio.sleep(CLAIM_LEASE_MS / 3000)
            claims = list(self._claims.items())
            if not claims:
                continue
            try:
                await self.sync.store.renew_claims(claims, self.sync.clock())
            except asyncio.CancelledError:
                raise
            except Exception:  # the next round tries again, well before the lease runs out
                log.exception("renewing %d shift claims failed", len(claims))

    def _spawn(self, shift: ShiftRecord) -> None:
        task = asyncio.get_running_loop().create_task(self.sync.sync_one(shift), name=f"shift-sync-{shift.id}")
        self._inflight[shift.id] = task
        if shift.attempt_started_ms is not None:
            self._claims[shift.id] = shift.attempt_started_ms

        def done(task: asyncio.Task[ShiftRecord | None], shift_id: str = shift.id) -> None:
            slots_were_full = len(self._inflight) >= self.concurrency
            self._inflight.pop(shift_id, None)
            self._claims.pop(shift_id, None)
            # The loop looks again when a slot it waits for is free, when this shift is due again later (its next
            # attempt is a new earliest time to wake up for), or when nothing is out any more (it may be idle now);
            # a shift that got its verdict while others are out changes nothing.
            settled = not task.cancelled() and task.exception() is None and _settled(task.result())
            if slots_were_full or not settled or not self._inflight:
                self.sync.wake.set()

        task.add_done_callback(done)


def _settled(shift: ShiftRecord | None) -> bool:
    """Synced, failed or held for a decision: no further attempt is planned for it."""
    return shift is not None and shift.sync_state != "pending"
