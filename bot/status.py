"""Unit status: the officer's 10-code, kept locally and mirrored to Northca's active-units board.

Two parts, both free of Discord:

- `UnitCoalescer` turns a stream of unit changes into few bulk `PUT /units/active`
  calls: per guild and MDT (a *lane*) it gathers changes over a window and sends one
  request with each unit once, at its newest version. One request per lane is out at a
  time, so a newer change made while a request is out goes in the next one and can never
  be overwritten by the older one. Failed requests are retried with backoff, with the
  newest state at the time of the retry. A window of 0 turns batching off: one request per
  change (units still in order), the baseline of `bench/status_burst.py`.
- `StatusService` holds the rules behind /status and its buttons: who may set a status,
  the local record of every officer's last status (table `unit_status`, with a version and
  the version Northca acknowledged, so nothing unsent is forgotten across a restart), the
  panels to re-render (at most once per window), and the reaction to shifts starting and
  ending.

Under a burst, every trip to the database thread counts (each row it hands back waits for
the GIL while the event loop is busy), so a click costs two grouped queries: one reading
its context (link, profile, open shift, current status) and one writing the change, each
shared with every click that arrived meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Hashable, Protocol

from bot.config import StatusCode, StatusConfig
from bot.errors import Conflict, InvalidInput
from bot.links import LinkService, stored_status_approved
from bot.northca.client import NorthcaClient
from bot.northca.errors import NorthcaError, NorthcaRateLimited
from bot.northca.models import ActiveUnitUpsert
from bot.profiles import OfficerProfile, ProfileStore
from bot.sanitize import northca_text
from bot.storage import Database

log = logging.getLogger(__name__)

CALLSIGN_HINT = "Set your callsign first: /profile set callsign:ADAM-12"
MAX_PANELS_PER_GUILD = 10
OFFICER_NAME_MAX = 64
# The longest a 429's Retry-After may hold a lane back: Northca's hint is honoured up to this.
RETRY_AFTER_CAP_SECONDS = 300.0


def now_ms() -> int:
    return time.time_ns() // 1_000_000


# --- the coalescer -------------------------------------------------------------------


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


SentCallback = Callable[[list[UnitChange]], Awaitable[None]]


@dataclass(eq=False)
class _Lane:
    guild_id: int
    mdt_id: str
    pending: dict[str, UnitChange] = field(default_factory=dict)
    # Newest version accepted per unit id: anything older that shows up late is ignored.
    newest: dict[str, int] = field(default_factory=dict)
    task: asyncio.Task[None] | None = None
    not_before: float = 0.0  # loop time before which no request is sent
    failures: int = 0
    last_error: BaseException | None = None
    wake: asyncio.Event = field(default_factory=asyncio.Event)


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
        on_sent: SentCallback | None = None,
        backoff_base: float = 0.25,
        backoff_max: float = 30.0,
    ) -> None:
        self.client = client.single_attempt()
        self.window = max(0.0, window)
        self.batching = self.window > 0
        self.on_sent = on_sent
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
        if not self.batching:
            key = (change.guild_id, change.mdt_id, change.unit_id)
        lane = self._lanes.get(key)
        if lane is None:
            lane = self._lanes[key] = _Lane(change.guild_id, change.mdt_id)
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
        return max([lane.not_before - now for lane in self._lanes.values() if lane.mdt_id == mdt_id and lane.pending]
                   + [0.0])

    async def flush(self, timeout: float = 10.0) -> bool:
        """Wait until every change submitted so far has been sent (or refused for good).
        Does not hurry anything: windows and backoffs run their course. False on timeout."""
        try:
            await asyncio.wait_for(self._idle.wait(), timeout)
        except TimeoutError:
            return False
        return True

    async def wait_until(self, predicate: Callable[["UnitCoalescer"], bool], timeout: float = 10.0) -> bool:
        """Wait until `predicate(self)` holds; it is checked whenever a request starts or ends."""
        async with self._changed:
            try:
                await asyncio.wait_for(self._changed.wait_for(lambda: predicate(self)), timeout)
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
            log.warning("%d unit changes not sent before shutdown; they are resent at the next start", self.pending_units)
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
                    try:
                        await asyncio.wait_for(lane.wake.wait(), delay)
                    except TimeoutError:
                        pass
                    continue
                batch, lane.pending = lane.pending, {}
                started = loop.time()
                if await self._send(lane, batch):
                    lane.failures = 0
                    # At most one request per lane per window.
                    lane.not_before = started + self.window
                else:
                    lane.not_before = max(started + self.window, loop.time() + self._backoff(lane))
                    if self._hurry:
                        # Shutting down: one last attempt only; the changes stay unsynced locally.
                        break
        finally:
            lane.task = None
            self._active.discard(lane)
            if not self._active:
                self._idle.set()

    async def _send(self, lane: _Lane, batch: dict[str, UnitChange]) -> bool:
        changes = list(batch.values())
        actors = {c.actor_id for c in changes}
        actor = actors.pop() if len(actors) == 1 else None
        self.puts_sent += 1
        self.largest_put = max(self.largest_put, len(changes))
        if len(self.sent_log) < 100_000:
            self.sent_log.append((asyncio.get_running_loop().time(), [c.unit_id for c in changes]))
        await self._notify()
        try:
            return await self._attempt(lane, batch, changes, actor)
        finally:
            await self._notify()

    async def _attempt(self, lane: _Lane, batch: dict[str, UnitChange], changes: list[UnitChange], actor: int | None) -> bool:
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
                    lane.guild_id, len(changes), exc,
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
            return True
        except Exception:  # noqa: BLE001 - a bug must not lose the changes: retried like an outage
            self.puts_failed += 1
            log.exception("unit upsert for guild %s failed unexpectedly", lane.guild_id)
            self._requeue(lane, batch)
            lane.failures += 1
            lane.last_error = None
            return False
        self.units_sent += len(changes)
        self._release_mdt(lane)
        if self.on_sent is not None:
            try:
                await self.on_sent(changes)
            except Exception:  # noqa: BLE001
                log.exception("recording %d sent unit changes failed", len(changes))
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


# --- the local record --------------------------------------------------------------


@dataclass(frozen=True)
class UnitStatus:
    guild_id: int
    member_id: int
    mdt_id: str
    callsign: str
    status: str
    officer_name: str
    officer_badge: str | None
    department: str | None
    rank: str | None
    version: int
    synced_version: int
    updated_ms: int
    actor_id: int | None

    @classmethod
    def from_row(cls, row: Any) -> "UnitStatus":
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})

    @property
    def synced(self) -> bool:
        return self.synced_version >= self.version

    def to_upsert(self) -> ActiveUnitUpsert:
        # Unset fields go as "" (how Northca stores "unset"), so a cleared profile field clears there too.
        return ActiveUnitUpsert(
            id=self.callsign,
            officer_name=self.officer_name,
            officer_badge=self.officer_badge or "",
            department=self.department or "",
            rank=self.rank or "",
            status=self.status,
        )


@dataclass(frozen=True)
class StatusPanel:
    message_id: int
    guild_id: int
    channel_id: int
    created_by: int | None
    created_ms: int


_UNIT_COLUMNS = tuple(UnitStatus.__dataclass_fields__)


@dataclass(frozen=True)
class OpenShift:
    """The member's open shift, as far as a status needs it."""

    id: str
    department: str | None
    officer_name: str | None
    # The unit for this shift (/shift start callsign:, else the profile's callsign at the start).
    callsign: str | None = None


@dataclass(frozen=True)
class StatusContext:
    """What a status change needs, read in one go: the link, the profile, the current record,
    and the open shift (the `shifts` table of bot/shifts.py: open while `ended_ms` is NULL,
    at most one per member, as ShiftStore.open_for reads it)."""

    link_mdt_id: str | None
    link_status: str | None
    profile: OfficerProfile
    current: UnitStatus | None
    open_shift: OpenShift | None = None


class _GroupRunner:
    """Runs requests in groups: the first one at once, those arriving meanwhile together in the
    next group. Under a burst this turns hundreds of database trips into a few, each one
    statement (for writes: one transaction, one commit)."""

    def __init__(self, run: Callable[[list[Any]], Awaitable[list[Any]]], max_group: int) -> None:
        self._run = run
        self._max = max_group
        self._queue: list[tuple[Any, asyncio.Future[Any]]] = []
        self._task: asyncio.Task[None] | None = None

    async def __call__(self, request: Any) -> Any:
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Any] = loop.create_future()
        self._queue.append((request, future))
        if self._task is None:
            self._task = loop.create_task(self._drain())
        return await future

    async def _drain(self) -> None:
        try:
            while self._queue:
                group, self._queue = self._queue[: self._max], self._queue[self._max :]
                try:
                    results = await self._run([request for request, _ in group])
                except BaseException as exc:  # noqa: BLE001 - each waiting caller gets the error
                    for _, future in group:
                        if not future.done():
                            future.set_exception(exc)
                    if isinstance(exc, asyncio.CancelledError):
                        raise
                    continue
                for (_, future), result in zip(group, results):
                    if not future.done():
                        future.set_result(result)
        finally:
            self._task = None
            for _, future in self._queue:  # only left when cancelled
                if not future.done():
                    future.cancel()


@dataclass(frozen=True)
class _SaveRequest:
    guild_id: int
    member_id: int
    mdt_id: str
    callsign: str
    status: str
    officer_name: str
    officer_badge: str | None
    department: str | None
    rank: str | None
    actor_id: int | None
    version: int
    synced_version: int  # as last read: only informative in the returned record


# A record is the current state of its unit id (callsign) unless another record of the guild has that
# callsign at a newer version (the callsign went to another officer since). For queries aliasing unit_status as u.
_CURRENT_UNIT = (
    "NOT EXISTS (SELECT 1 FROM unit_status n WHERE n.guild_id = u.guild_id AND n.callsign = u.callsign"
    " AND n.version > u.version)"
)

_SAVE_COLUMNS = (
    "guild_id, member_id, mdt_id, callsign, status, officer_name, officer_badge, department, rank, version,"
    " updated_ms, actor_id"
)


class UnitStatusStore:
    """The unit_status and status_panels tables. Every read is one trip to the database
    thread (execute_fetchall), and the two queries every click makes are grouped (see
    _GroupRunner), which matters when hundreds of officers click at once."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._version: int | None = None
        self._version_lock = asyncio.Lock()
        self._contexts = _GroupRunner(self._context_group, 400)
        self._saves = _GroupRunner(self._save_group, 400)

    async def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        return await self.db.execute_fetchall(sql, params)

    async def next_version(self) -> int:
        """The version of a change about to be made. Taken when the change arrives, so that
        the order of arrival decides which change is newest (one check may take longer than
        another). Once counted, taking one never suspends. Versions come from this store
        alone (one bot per database): counted from the stored maximum."""
        if self._version is None:
            await self.count_versions()
        assert self._version is not None
        self._version += 1
        return self._version

    def take_version_nowait(self) -> int | None:
        """Like next_version, without suspending; None while the versions are not counted yet."""
        if self._version is None:
            return None
        self._version += 1
        return self._version

    async def count_versions(self) -> None:
        async with self._version_lock:
            if self._version is None:
                rows = await self._rows("SELECT COALESCE(MAX(version), 0) FROM unit_status")
                self._version = int(rows[0][0])

    async def context(self, guild_id: int, member_id: int) -> StatusContext:
        """The guild's link, the member's profile and current record, in one query."""
        return await self._contexts((guild_id, member_id))  # type: ignore[no-any-return]

    async def _context_group(self, keys: list[tuple[int, int]]) -> list[StatusContext]:
        values = ", ".join("(?, ?, ?)" for _ in keys)
        params: list[Any] = []
        for i, (guild_id, member_id) in enumerate(keys):
            params += [i, guild_id, member_id]
        unit_cols = ", ".join(f"u.{c}" for c in _UNIT_COLUMNS)
        # One row for the whole group (a JSON array): the database thread hands rows over one
        # at a time, each costing a wait for the GIL while the event loop is busy.
        rows = await self._rows(
            f"WITH k(i, guild_id, member_id) AS (VALUES {values})"
            " SELECT json_group_array(json_array(k.i, k.guild_id, k.member_id, l.mdt_id, l.status, p.callsign, p.badge,"
            f" p.rank, p.department, p.name, s.id, s.department, s.officer_name, s.callsign,"
            f" {unit_cols}))"
            " FROM k"
            " LEFT JOIN guild_links l ON l.guild_id = k.guild_id"
            " LEFT JOIN officer_profiles p ON p.guild_id = k.guild_id AND p.member_id = k.member_id"
            " LEFT JOIN shifts s ON s.guild_id = k.guild_id AND s.member_id = k.member_id AND s.ended_ms IS NULL"
            " LEFT JOIN unit_status u ON u.guild_id = k.guild_id AND u.member_id = k.member_id",
            tuple(params),
        )
        out: list[StatusContext | None] = [None] * len(keys)
        for item in json.loads(rows[0][0]):
            i, guild_id, member_id, link_mdt, link_status, callsign, badge, rank, department, name, *rest = item
            shift_id, shift_department, shift_name, shift_callsign, *unit = rest
            profile = OfficerProfile(guild_id, member_id, callsign=callsign, badge=badge, rank=rank, department=department, name=name)
            current = UnitStatus(*unit) if unit[_UNIT_COLUMNS.index("version")] is not None else None
            shift = OpenShift(shift_id, shift_department, shift_name, shift_callsign) if shift_id is not None else None
            out[i] = StatusContext(link_mdt, link_status, profile, current, shift)
        assert all(c is not None for c in out)
        return out  # type: ignore[return-value]

    async def save(
        self, *, guild_id: int, member_id: int, mdt_id: str, callsign: str, status: str, officer_name: str,
        officer_badge: str | None, department: str | None, rank: str | None, actor_id: int | None,
        version: int, synced_version: int = 0,
    ) -> UnitStatus:
        """Record a change made at `version` (from next_version). A change older than the
        stored one is not written: of two changes of one officer the newer is kept, whichever
        is saved last."""
        request = _SaveRequest(
            guild_id, member_id, mdt_id, callsign, status, officer_name, officer_badge, department, rank, actor_id,
            version, synced_version,
        )
        return await self._saves(request)  # type: ignore[no-any-return]

    async def _save_group(self, requests: list[_SaveRequest]) -> list[UnitStatus]:
        now = now_ms()
        params: list[Any] = []
        for r in requests:
            params += [r.guild_id, r.member_id, r.mdt_id, r.callsign, r.status, r.officer_name, r.officer_badge,
                       r.department, r.rank, r.version, now, r.actor_id]
        values = ", ".join("(?,?,?,?,?,?,?,?,?,?,?,?)" for _ in requests)
        # One statement: one transaction, one commit, however many officers clicked.
        await self._rows(
            f"INSERT INTO unit_status ({_SAVE_COLUMNS}) VALUES {values}"
            " ON CONFLICT (guild_id, member_id) DO UPDATE SET mdt_id=excluded.mdt_id, callsign=excluded.callsign,"
            " status=excluded.status, officer_name=excluded.officer_name, officer_badge=excluded.officer_badge,"
            " department=excluded.department, rank=excluded.rank, version=excluded.version,"
            " updated_ms=excluded.updated_ms, actor_id=excluded.actor_id"
            " WHERE excluded.version > unit_status.version",
            tuple(params),
        )
        return [
            UnitStatus(r.guild_id, r.member_id, r.mdt_id, r.callsign, r.status, r.officer_name, r.officer_badge, r.department,
                       r.rank, r.version, r.synced_version, now, r.actor_id)
            for r in requests
        ]

    async def get(self, guild_id: int, member_id: int) -> UnitStatus | None:
        rows = await self._rows("SELECT * FROM unit_status WHERE guild_id = ? AND member_id = ?", (guild_id, member_id))
        return UnitStatus.from_row(rows[0]) if rows else None

    async def in_guild(self, guild_id: int) -> list[UnitStatus]:
        """The current state of every unit of the guild (a record whose callsign went to another
        officer since is left out)."""
        cols = ", ".join(_UNIT_COLUMNS)
        rows = await self._rows(
            f"SELECT json_group_array(json_array({cols})) FROM (SELECT * FROM unit_status u WHERE u.guild_id = ?"
            f" AND {_CURRENT_UNIT} ORDER BY u.callsign)",
            (guild_id,),
        )
        return sorted((UnitStatus(*item) for item in json.loads(rows[0][0])), key=lambda u: u.callsign)

    async def unsynced(self) -> list[UnitStatus]:
        """Records Northca has not acknowledged, except those of a unit id (callsign) that has a newer
        record of another officer: a released callsign's old state must never overwrite its new owner."""
        rows = await self._rows(f"SELECT * FROM unit_status u WHERE u.synced_version < u.version AND {_CURRENT_UNIT}"
                                " ORDER BY u.version")
        return [UnitStatus.from_row(r) for r in rows]

    async def settle_superseded(self) -> int:
        """Unacknowledged records of a unit id that has a newer record of another officer are never sent
        (see unsynced): nothing is left to send of them, so they stop counting as waiting for Northca."""
        return await self.db.execute(
            "UPDATE unit_status AS u SET synced_version = u.version"
            f" WHERE u.synced_version < u.version AND NOT {_CURRENT_UNIT}"
        )

    async def mark_synced(self, changes: list[UnitChange]) -> None:
        rows = [(c.guild_id, c.member_id, c.version) for c in changes if c.tracked]
        for start in range(0, len(rows), 3000):
            await self._mark_synced([row for row in rows[start : start + 3000]])

    async def _mark_synced(self, rows: list[tuple[int, int, int]]) -> None:
        if not rows:
            return
        # One statement for the whole request (executemany would hand over row by row).
        await self._rows(
            "UPDATE unit_status SET synced_version = MAX(unit_status.synced_version, s.v)"
            f" FROM (SELECT column1 AS g, column2 AS m, MAX(column3) AS v FROM (VALUES {', '.join('(?,?,?)' for _ in rows)})"
            " GROUP BY column1, column2) AS s"
            " WHERE unit_status.guild_id = s.g AND unit_status.member_id = s.m",
            tuple(x for row in rows for x in row),
        )

    # --- panels ---

    async def add_panel(self, guild_id: int, channel_id: int, message_id: int, created_by: int | None) -> list[StatusPanel]:
        """Remember a panel; returns the panels forgotten to stay within the per-guild limit."""
        await self.db.execute(
            "INSERT OR REPLACE INTO status_panels (message_id, guild_id, channel_id, created_by, created_ms) VALUES (?,?,?,?,?)",
            (message_id, guild_id, channel_id, created_by, now_ms()),
        )
        panels = await self.panels(guild_id)
        dropped = panels[:-MAX_PANELS_PER_GUILD] if len(panels) > MAX_PANELS_PER_GUILD else []
        for panel in dropped:
            await self.remove_panel(panel.message_id)
        return dropped

    async def panels(self, guild_id: int) -> list[StatusPanel]:
        rows = await self._rows("SELECT * FROM status_panels WHERE guild_id = ? ORDER BY created_ms, message_id", (guild_id,))
        return [StatusPanel(**dict(r)) for r in rows]

    async def panel_guilds(self) -> list[int]:
        return [r[0] for r in await self._rows("SELECT DISTINCT guild_id FROM status_panels")]

    async def remove_panel(self, message_id: int) -> None:
        await self.db.execute("DELETE FROM status_panels WHERE message_id = ?", (message_id,))


# --- the service -----------------------------------------------------------------------


class ShiftsLike(Protocol):
    """What of bot.shifts.ShiftService is used: its presence turns the off-duty rule on, and
    the cog subscribes to its duty events. (The open shift itself is read together with the
    rest of a click's context, in one query for many clicks: see UnitStatusStore.context.)"""

    async def open_shift(self, guild_id: int, member_id: int) -> Any: ...


class OffDuty(Conflict):
    """The officer has no open shift and the server wants one before a status is set."""

    def __init__(self, code: StatusCode) -> None:
        super().__init__(
            f"You are off duty, so your status can't be set to {code.code} {code.label}. "
            "Start your shift first with /shift start (or the button below)."
        )
        self.code = code


@dataclass(frozen=True)
class StatusChange:
    status: UnitStatus
    code: StatusCode
    previous: str | None

    @property
    def text(self) -> str:
        return f"You are now **{self.code.code}** {self.code.label} (unit `{self.status.callsign}`)."


PanelRenderer = Callable[[int], Awaitable[None]]


class StatusService:
    def __init__(
        self,
        db: Database,
        links: LinkService,
        profiles: ProfileStore,
        config: StatusConfig,
        coalescer: UnitCoalescer,
        *,
        shifts: ShiftsLike | None = None,
    ) -> None:
        self.store = UnitStatusStore(db)
        self.links = links
        self.profiles = profiles
        self.config = config
        self.coalescer = coalescer
        self.shifts = shifts
        self.codes: dict[str, StatusCode] = {c.code: c for c in config.codes}
        coalescer.on_sent = self._on_sent
        self.window = coalescer.window
        self._renderer: PanelRenderer | None = None
        self._dirty: set[int] = set()
        self._render_wake = asyncio.Event()
        self._render_task: asyncio.Task[None] | None = None
        self._resend_task: asyncio.Task[None] | None = None
        # Versions taken when shifts started or ended, per member, in event order (see stamp_duty).
        self._duty_versions: dict[tuple[int, int], deque[tuple[bool, int]]] = {}
        self.renders = 0  # panel render rounds done (each round: every dirty guild once)
        self.idle_render = asyncio.Event()
        self.idle_render.set()

    # --- codes ---

    def code(self, raw: str | None) -> StatusCode:
        value = (raw or "").strip()
        found = self.codes.get(value) or next((c for c in self.codes.values() if c.code.lower() == value.lower()), None)
        if found is None:
            known = ", ".join(self.codes)
            raise InvalidInput(f"Unknown status code `{value[:20]}`. Use one of: {known}.")
        return found

    def code_choices(self, current: str, limit: int = 25) -> list[StatusCode]:
        text = (current or "").strip().lower()
        return [c for c in self.codes.values() if text in c.code.lower() or text in c.label.lower()][:limit]

    @property
    def duty_check(self) -> bool:
        return self.config.off_duty == "prompt" and self.shifts is not None

    # --- setting a status ---

    async def set_status(
        self,
        guild_id: int,
        member_id: int,
        raw_code: str,
        *,
        display_name: str | None = None,
        actor_id: int | None = None,
        check_duty: bool = True,
        version: int | None = None,
    ) -> StatusChange:
        """Check, record locally and queue for Northca. Never waits for Northca.
        `version`: taken earlier, when the event that caused this change happened."""
        # First, before anything can suspend: the order of arrival is the order of the changes.
        if version is None:
            version = await self.store.next_version()
        code = self.code(raw_code)
        ctx = await self.store.context(guild_id, member_id)
        mdt_id = ctx.link_mdt_id
        if not stored_status_approved(ctx.link_status):
            # Not linked, or pending (which the link service may re-check with Northca now).
            mdt_id = (await self.links.require_linked(guild_id)).mdt_id
        assert mdt_id is not None
        profile, previous = ctx.profile, ctx.current
        # Read with the rest (one query for many clicks), as ShiftService.open_shift would answer.
        shift = ctx.open_shift
        callsign = _unit_callsign(ctx)
        if not callsign:
            raise InvalidInput(CALLSIGN_HINT)
        if check_duty and self.duty_check and code.code != self.config.off_duty_code and shift is None:
            raise OffDuty(code)
        officer_name = _officer_name(profile, display_name, previous, shift, member_id)
        # The department chosen at /shift start is the current assignment; else the profile's.
        department = getattr(shift, "department", None) or profile.department
        saved = await self.store.save(
            guild_id=guild_id, member_id=member_id, mdt_id=mdt_id, callsign=callsign, status=code.code,
            officer_name=officer_name, officer_badge=profile.badge, department=department, rank=profile.rank,
            actor_id=actor_id, version=version, synced_version=previous.synced_version if previous is not None else 0,
        )
        if previous is not None and previous.callsign != saved.callsign and previous.synced_version > 0:
            self._retire(previous, saved.version)
        self.coalescer.submit(UnitChange(guild_id, mdt_id, member_id, saved.version, saved.to_upsert(), actor_id))
        self.mark_dirty(guild_id)
        return StatusChange(saved, code, previous.status if previous is not None else None)

    async def _take_out_of_service(self, current: UnitStatus, version: int, actor_id: int | None) -> None:
        """Record, and send, the member's last unit as out of service (they have no unit any more)."""
        off = self.config.off_duty_code
        if current.status == off:
            return
        saved = await self.store.save(
            guild_id=current.guild_id, member_id=current.member_id, mdt_id=current.mdt_id, callsign=current.callsign,
            status=off, officer_name=current.officer_name, officer_badge=current.officer_badge,
            department=current.department, rank=current.rank, actor_id=actor_id, version=version,
            synced_version=current.synced_version,
        )
        self.coalescer.submit(
            UnitChange(current.guild_id, current.mdt_id, current.member_id, version, saved.to_upsert(), actor_id)
        )
        self.mark_dirty(current.guild_id)

    def _retire(self, previous: UnitStatus, version: int) -> None:
        """An officer's callsign changed: the old unit goes out of service on Northca (best effort,
        not kept for a restart: the officer's record is the new unit)."""
        off = self.config.off_duty_code
        if previous.status == off:
            return
        old = ActiveUnitUpsert(id=previous.callsign, status=off)
        self.coalescer.submit(UnitChange(previous.guild_id, previous.mdt_id, previous.member_id, version, old, tracked=False))

    async def refresh_profile(self, guild_id: int, member_id: int, display_name: str | None = None) -> StatusChange | None:
        """After /profile set: send the officer's current status again with the new details
        (a cleared callsign takes the old unit out of service on Northca)."""
        current = await self.store.get(guild_id, member_id)
        if current is None:
            return None
        ctx = await self.store.context(guild_id, member_id)
        if not _unit_callsign(ctx):
            # No unit any more: its last one is recorded, and sent, as out of service.
            await self._take_out_of_service(current, await self.store.next_version(), member_id)
            return None
        try:
            return await self.set_status(
                guild_id, member_id, current.status, display_name=display_name, actor_id=member_id, check_duty=False
            )
        except (InvalidInput, Conflict) as exc:
            log.info("status of %s in guild %s not refreshed: %s", member_id, guild_id, exc)
            return None
        except Exception as exc:  # noqa: BLE001 - e.g. NotLinked: the profile change itself stands
            log.info("status of %s in guild %s not refreshed: %s", member_id, guild_id, exc)
            return None

    def stamp_duty(self, guild_id: int, member_id: int, on_duty: bool) -> None:
        """Duty stamp (ShiftService.add_duty_stamp): take the version of the automatic duty code
        when the shift starts or ends, so a status the officer sets after that, even before the
        listener runs, is newer and wins."""
        version = self.store.take_version_nowait()
        if version is not None:
            self._duty_versions.setdefault((guild_id, member_id), deque()).append((on_duty, version))

    def _duty_version(self, guild_id: int, member_id: int, on_duty: bool) -> int | None:
        stamps = self._duty_versions.get((guild_id, member_id))
        if not stamps:
            return None
        stamped_on_duty, version = stamps.popleft()
        if not stamps:
            del self._duty_versions[(guild_id, member_id)]
        return version if stamped_on_duty == on_duty else None

    async def on_duty_changed(self, guild_id: int, member_id: int, on_duty: bool, display_name: str | None = None) -> StatusChange | None:
        """Duty listener: a shift start sets the on-duty code, a shift end the off-duty code,
        when the officer has a callsign and the server is linked. Ordered by the shift event
        (its stamped version): a status set after the event is not overwritten."""
        version = self._duty_version(guild_id, member_id, on_duty)
        code = self.config.on_duty_code if on_duty else self.config.off_duty_code
        current = await self.store.get(guild_id, member_id)
        if version is not None and current is not None and current.version > version:
            log.info("shift %s of %s in guild %s: a newer status was set meanwhile, kept",
                     "start" if on_duty else "end", member_id, guild_id)
            return None
        try:
            return await self.set_status(
                guild_id, member_id, code, display_name=display_name, check_duty=False, version=version
            )
        except InvalidInput as exc:
            # No unit (no callsign): a shift that ended takes the unit it had out of service.
            if not on_duty and current is not None:
                await self._take_out_of_service(current, version or await self.store.next_version(), None)
            log.debug(
                "shift %s of %s in guild %s set no status: %s", "start" if on_duty else "end", member_id, guild_id, exc
            )
            return None
        except Exception as exc:  # noqa: BLE001 - e.g. not linked any more: the shift itself stands
            log.info("shift %s of %s in guild %s set no status: %s", "start" if on_duty else "end", member_id, guild_id, exc)
            return None

    async def status_of(self, guild_id: int, member_id: int) -> UnitStatus | None:
        return await self.store.get(guild_id, member_id)

    async def board(self, guild_id: int) -> dict[str, list[UnitStatus]]:
        """Configured code -> units in it (by callsign); statuses no longer configured are left out."""
        board: dict[str, list[UnitStatus]] = {code: [] for code in self.codes}
        for row in await self.store.in_guild(guild_id):
            if row.status in board:
                board[row.status].append(row)
        return board

    async def _on_sent(self, changes: list[UnitChange]) -> None:
        await self.store.mark_synced(changes)
        # Panels show which statuses Northca has not acknowledged yet: clear those marks.
        for guild_id in {c.guild_id for c in changes}:
            self.mark_dirty(guild_id)

    async def resend_unsynced(self, older_than_ms: int | None = None) -> int:
        """Queue every change Northca has not acknowledged (after a restart or a refusal).

        `older_than_ms`: only changes last made before then (the periodic pass leaves
        fresh ones to the coalescer, which has them already)."""
        count = 0
        mdts: dict[int, str | None] = {}
        if await self.store.settle_superseded():
            for guild_id in await self.store.panel_guilds():
                self.mark_dirty(guild_id)  # their ⏳ marks go
        for row in await self.store.unsynced():
            if older_than_ms is not None and row.updated_ms >= older_than_ms:
                continue
            if row.guild_id not in mdts:
                mdts[row.guild_id] = await self.links.approved_mdt(row.guild_id)
            mdt_id = mdts[row.guild_id]
            if mdt_id is None:
                log.info("unit %s of guild %s stays unsynced: the server is not linked", row.callsign, row.guild_id)
                continue
            if self.coalescer.submit(UnitChange(row.guild_id, mdt_id, row.member_id, row.version, row.to_upsert())):
                count += 1
        if count:
            log.info("resending %d unit statuses Northca has not acknowledged", count)
        return count

    # --- panels ---

    def set_panel_renderer(self, renderer: PanelRenderer) -> None:
        self._renderer = renderer

    async def add_panel(self, guild_id: int, channel_id: int, message_id: int, created_by: int | None) -> list[StatusPanel]:
        return await self.store.add_panel(guild_id, channel_id, message_id, created_by)

    async def panels(self, guild_id: int) -> list[StatusPanel]:
        return await self.store.panels(guild_id)

    async def forget_panel(self, message_id: int) -> None:
        await self.store.remove_panel(message_id)

    def mark_dirty(self, guild_id: int) -> None:
        """The guild's panels need a re-render (done at most once per window)."""
        self._dirty.add(guild_id)
        self.idle_render.clear()
        self._render_wake.set()

    async def _render_loop(self) -> None:
        loop = asyncio.get_running_loop()
        last = -float("inf")
        while True:
            if not self._dirty:
                self.idle_render.set()
            await self._render_wake.wait()
            # Gather changes for a window, and never render twice within one.
            delay = max(self.window, last + self.window - loop.time())
            if delay > 0:
                await asyncio.sleep(delay)
            self._render_wake.clear()
            dirty, self._dirty = self._dirty, set()
            last = loop.time()
            for guild_id in sorted(dirty):
                if self._renderer is None:
                    continue
                try:
                    await self._renderer(guild_id)
                except asyncio.CancelledError:
                    raise
                except Exception:  # noqa: BLE001 - one guild's panel must not stop the others
                    log.exception("re-rendering the status panels of guild %s failed", guild_id)
            self.renders += 1

    async def wait_rendered(self, timeout: float = 10.0) -> bool:
        try:
            await asyncio.wait_for(self.idle_render.wait(), timeout)
        except TimeoutError:
            return False
        return True

    # --- service ---

    async def _resend_loop(self) -> None:
        # A refusal (e.g. the link was broken and is fixed now) or a lost change is tried again.
        while True:
            await asyncio.sleep(self.config.resend_interval_seconds)
            try:
                await self.resend_unsynced(older_than_ms=now_ms() - int(self.config.resend_interval_seconds * 1000))
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the next pass tries again
                log.exception("re-sending unsynced unit statuses failed")

    async def start(self) -> None:
        if self._render_task is None or self._render_task.done():
            self._render_task = asyncio.get_running_loop().create_task(self._render_loop(), name="status-panels")
        if self._resend_task is None or self._resend_task.done():
            self._resend_task = asyncio.get_running_loop().create_task(self._resend_loop(), name="status-resend")
        await self.store.count_versions()
        await self.resend_unsynced()
        # Panels show what is stored now (statuses, and the configured codes).
        for guild_id in await self.store.panel_guilds():
            self.mark_dirty(guild_id)

    async def stop(self) -> None:
        for task in (self._render_task, self._resend_task):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        self._render_task = self._resend_task = None


def _unit_callsign(ctx: StatusContext) -> str | None:
    """The member's unit: while a shift is open, its callsign; else the profile's."""
    shift_callsign = ctx.open_shift.callsign if ctx.open_shift is not None else None
    return shift_callsign or ctx.profile.callsign


def _officer_name(
    profile: OfficerProfile, display_name: str | None, previous: UnitStatus | None, shift: Any, member_id: int
) -> str:
    for candidate in (
        profile.name,
        display_name,
        getattr(shift, "officer_name", None),
        previous.officer_name if previous is not None else None,
    ):
        text = northca_text(candidate or "")  # a name of invisible characters only is no name
        if text:
            return text[:OFFICER_NAME_MAX]
    return f"Member {member_id}"
