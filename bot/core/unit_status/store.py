"""The unit_status and status_panels tables, and what orders unit sends across processes (migration 025:
the versions counter, unit_status_sent, unit_status_turns): every SQL statement about them.

Under a burst, every trip to the database thread counts (each row it hands back waits for the
GIL while the event loop is busy), so a click costs two grouped queries: one reading its
context (link, profile, open shift, current status) and one writing the change, each shared
with every click that arrived meanwhile (see _GroupRunner); with several processes, a third takes
the versions of the clicks that arrived meanwhile.
"""

from __future__ import annotations

import asyncio
import json
import operator
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from bot.core.profiles import OfficerProfile
from bot.core.timefmt import now_ms
from bot.core.unit_status.coalescer import UnitChange
from bot.core.unit_status.records import OpenShift, StatusContext, StatusPanel, UnitStatus
from bot.storage import Database

MAX_PANELS_PER_GUILD = 10
_UNIT_COLUMNS = tuple(UnitStatus.__dataclass_fields__)

Req = TypeVar("Req")
Res = TypeVar("Res")


class _GroupRunner(Generic[Req, Res]):
    """Runs requests in groups: the first one at once, those arriving meanwhile together in the
    next group. Under a burst this turns hundreds of database trips into a few, each one
    statement (for writes: one transaction, one commit)."""

    def __init__(self, run: Callable[[list[Req]], Awaitable[list[Res]]], max_group: int) -> None:
        self._run = run
        self._max = max_group
        self._queue: list[tuple[Req, asyncio.Future[Res]]] = []
        self._task: asyncio.Task[None] | None = None

    async def __call__(self, request: Req) -> Res:
        return await self.submit(request)

    def submit(self, request: Req) -> asyncio.Future[Res]:
        """Queue `request` now (its place in the order is taken at this call, without suspending)."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[Res] = loop.create_future()
        self._queue.append((request, future))
        if self._task is None:
            self._task = loop.create_task(self._drain())
        return future

    @property
    def busy(self) -> bool:
        """Requests are queued or running."""
        return self._task is not None

    async def _drain(self) -> None:
        try:
            while self._queue:
                group, self._queue = self._queue[: self._max], self._queue[self._max :]
                try:
                    results = await self._run([request for request, _ in group])
                except BaseException as exc:  # each waiting caller gets the error (a cancellation too)
                    for _, future in group:
                        if not future.done():
                            future.set_exception(exc)
                    if isinstance(exc, asyncio.CancelledError):
                        raise
                    continue
                for (_, future), result in zip(group, results, strict=True):
                    if not future.done():
                        future.set_result(result)
        finally:
            self._task = None
            for _, future in self._queue:  # only left when cancelled
                if not future.done():
                    future.cancel()


@dataclass(frozen=True)
class UnitSendState:
    """What decides whether a unit change still goes to Northca (see UnitStatusStore.send_state)."""

    sent_version: int  # the newest version of the unit Northca acknowledged (0: none)
    newest: UnitStatus | None  # the newest stored record with this unit id in the MDT


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
# The values of those columns, in that order, from a record.
_SAVED_VALUES = operator.attrgetter(*_SAVE_COLUMNS.split(", "))


class UnitStatusStore:
    """The unit_status and status_panels tables. Every read is one trip to the database
    thread (execute_fetchall), and the two queries every click makes are grouped (see
    _GroupRunner), which matters when hundreds of officers click at once."""

    def __init__(self, db: Database, *, shared: bool = False, clock: Callable[[], int] = now_ms) -> None:
        self.db = db
        # Several processes on this database (sharded): versions come from the database (see reserve_version).
        self.shared = shared
        self.clock = clock  # epoch ms: when a change was saved (updated_ms)
        self._version: int | None = None  # one process: the last version handed out
        self._version_lock = asyncio.Lock()
        self._versions = _GroupRunner(self._version_group, 1000)
        self._contexts = _GroupRunner(self._context_group, 400)
        self._saves = _GroupRunner(self._save_group, 400)

    async def _rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[Any]:
        return await self.db.execute_fetchall(sql, params)

    async def next_version(self) -> int:
        """The version of a change about to be made (see reserve_version)."""
        return await self.reserve_version()

    def reserve_version(self) -> asyncio.Future[int]:
        """The version of a change arriving now. Its place in the order is taken at this call, without
        suspending (the duty stamp of a shift event takes it synchronously), so the order of arrival decides
        which change is newest (one check may take longer than another); await the number.

        One process on the database: counted in memory from what the database holds (no trip per change).
        Several (`shared`): taken from the database's counter, so a change that reaches the database later, in
        any process, is newer, whatever the processes' clocks say (one grouped upsert for the changes that
        arrived meanwhile, in their order)."""
        if not self.shared and self._version is not None and not self._versions.busy:
            self._version += 1
            future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
            future.set_result(self._version)
            return future
        return self._versions.submit(None)

    async def _version_group(self, requests: list[None]) -> list[int]:
        count = len(requests)
        if self.shared:
            # One statement, atomic on both engines; never below a version already stored (a database that an
            # unsharded bot, counting in memory, used before).
            rows = await self.db.execute_fetchall(
                "INSERT INTO counters (name, value)"
                " VALUES ('unit_status', COALESCE((SELECT MAX(version) FROM unit_status), 0) + :count)"
                " ON CONFLICT (name) DO UPDATE SET value = GREATEST(counters.value + :count, excluded.value)"
                " RETURNING value",
                {"count": count},
            )
            last = int(rows[0][0])
        else:
            await self.count_versions()
            assert self._version is not None
            self._version += count
            last = self._version
        return list(range(last - count + 1, last + 1))

    async def count_versions(self) -> None:
        """One process: count on from the newest version the database holds (stored, or handed out by
        processes that shared it before)."""
        if self.shared:
            return
        async with self._version_lock:
            if self._version is None:
                rows = await self._rows(
                    "SELECT GREATEST(COALESCE((SELECT MAX(version) FROM unit_status), 0),"
                    " COALESCE((SELECT value FROM counters WHERE name = 'unit_status'), 0))"
                )
                self._version = int(rows[0][0])

    async def context(self, guild_id: int, member_id: int) -> StatusContext:
        """The guild's link, the member's profile and current record, in one query."""
        return await self._contexts((guild_id, member_id))

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
            " SELECT COALESCE(json_group_array(json_array(k.i, k.guild_id, k.member_id, l.mdt_id, l.status, p.callsign,"
            f" p.badge, p.rank, p.department, p.name, s.id, s.department, s.officer_name, s.callsign,"
            f" {unit_cols})), '[]')"
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
            profile = OfficerProfile(
                guild_id, member_id, callsign=callsign, badge=badge, rank=rank, department=department, name=name
            )
            current = UnitStatus(*unit) if unit[_UNIT_COLUMNS.index("version")] is not None else None
            shift = OpenShift(shift_id, shift_department, shift_name, shift_callsign) if shift_id is not None else None
            out[i] = StatusContext(link_mdt, link_status, profile, current, shift)
        found = [c for c in out if c is not None]
        assert len(found) == len(keys)
        return found

    async def save(
        self,
        *,
        guild_id: int,
        member_id: int,
        mdt_id: str,
        callsign: str,
        status: str,
        officer_name: str,
        officer_badge: str | None,
        department: str | None,
        rank: str | None,
        actor_id: int | None,
        version: int,
        synced_version: int = 0,
    ) -> UnitStatus:
        """Record a change made at `version` (from next_version). A change older than the
        stored one is not written: of two changes of one officer the newer is kept, whichever
        is saved last."""
        request = _SaveRequest(
            guild_id,
            member_id,
            mdt_id,
            callsign,
            status,
            officer_name,
            officer_badge,
            department,
            rank,
            actor_id,
            version,
            synced_version,
        )
        return await self._saves(request)

    async def _save_group(self, requests: list[_SaveRequest]) -> list[UnitStatus]:
        now = self.clock()
        saved = [
            UnitStatus(
                r.guild_id,
                r.member_id,
                r.mdt_id,
                r.callsign,
                r.status,
                r.officer_name,
                r.officer_badge,
                r.department,
                r.rank,
                r.version,
                r.synced_version,
                now,
                r.actor_id,
            )
            for r in requests
        ]
        # One row per officer (the newest version): PostgreSQL refuses an upsert touching a row twice.
        newest: dict[tuple[int, int], UnitStatus] = {}
        for unit in saved:
            key = (unit.guild_id, unit.member_id)
            if key not in newest or unit.version > newest[key].version:
                newest[key] = unit
        params = [value for unit in newest.values() for value in _SAVED_VALUES(unit)]
        values = ", ".join("(?,?,?,?,?,?,?,?,?,?,?,?)" for _ in newest)
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
        return saved

    async def get(self, guild_id: int, member_id: int) -> UnitStatus | None:
        rows = await self._rows("SELECT * FROM unit_status WHERE guild_id = ? AND member_id = ?", (guild_id, member_id))
        return UnitStatus.from_row(rows[0]) if rows else None

    async def in_guild(self, guild_id: int) -> list[UnitStatus]:
        """The current state of every unit of the guild (a record whose callsign went to another
        officer since is left out)."""
        cols = ", ".join(_UNIT_COLUMNS)
        rows = await self._rows(
            f"SELECT COALESCE(json_group_array(json_array({cols})), '[]') FROM (SELECT * FROM unit_status u"
            f" WHERE u.guild_id = ? AND {_CURRENT_UNIT} ORDER BY u.callsign) AS units",
            (guild_id,),
        )
        return sorted((UnitStatus(*item) for item in json.loads(rows[0][0])), key=lambda u: u.callsign)

    async def unsynced(self) -> list[UnitStatus]:
        """Records Northca has not acknowledged, except those of a unit id (callsign) that has a newer
        record of another officer: a released callsign's old state must never overwrite its new owner."""
        rows = await self._rows(
            f"SELECT * FROM unit_status u WHERE u.synced_version < u.version AND {_CURRENT_UNIT} ORDER BY u.version"
        )
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
            "UPDATE unit_status SET synced_version = GREATEST(unit_status.synced_version, s.v)"
            " FROM (SELECT column1 AS g, column2 AS m, MAX(column3) AS v"
            # PostgreSQL types the VALUES columns from the first row's casts (and needs the alias).
            " FROM (VALUES (CAST(? AS BIGINT), CAST(? AS BIGINT), CAST(? AS BIGINT))"
            f"{',(?,?,?)' * (len(rows) - 1)}) AS v"
            " GROUP BY column1, column2) AS s"
            " WHERE unit_status.guild_id = s.g AND unit_status.member_id = s.m",
            tuple(x for row in rows for x in row),
        )

    # --- the order of sends to Northca (several processes, or several servers, on one MDT) ---

    async def send_state(self, mdt_id: str, unit_ids: list[str]) -> dict[str, UnitSendState]:
        """Per unit id of the MDT: the newest version Northca acknowledged (from any process) and the newest
        stored record with that unit id (of whichever server linked to the MDT). One query."""
        if not unit_ids:
            return {}
        keys = ", ".join(["(CAST(? AS TEXT))"] + ["(?)"] * (len(unit_ids) - 1))
        rows = await self._rows(
            f"WITH k(unit_id) AS (VALUES {keys})"
            " SELECT k.unit_id AS unit_id, COALESCE(s.version, 0) AS sent_version, u.*"
            " FROM k"
            " LEFT JOIN unit_status_sent s ON s.mdt_id = ? AND s.unit_id = k.unit_id"
            " LEFT JOIN unit_status u ON u.mdt_id = ? AND u.callsign = k.unit_id"
            " AND NOT EXISTS (SELECT 1 FROM unit_status n WHERE n.mdt_id = u.mdt_id AND n.callsign = u.callsign"
            " AND n.version > u.version)",
            (*unit_ids, mdt_id, mdt_id),
        )
        state: dict[str, UnitSendState] = {}
        for row in rows:
            newest = UnitStatus.from_row(row) if row["version"] is not None else None
            known = state.get(row["unit_id"])
            if known is None or (
                newest is not None and (known.newest is None or newest.version > known.newest.version)
            ):
                state[row["unit_id"]] = UnitSendState(int(row["sent_version"]), newest)
        return state

    async def record_sent(self, mdt_id: str, changes: list[UnitChange]) -> None:
        """Northca acknowledged these units at these versions (one request: each unit once)."""
        newest: dict[str, int] = {}
        for change in changes:
            newest[change.unit_id] = max(newest.get(change.unit_id, 0), change.version)
        if not newest:
            return
        values = ", ".join("(?, ?, ?)" for _ in newest)
        await self.db.execute(
            f"INSERT INTO unit_status_sent (mdt_id, unit_id, version) VALUES {values}"
            " ON CONFLICT (mdt_id, unit_id)"
            " DO UPDATE SET version = GREATEST(unit_status_sent.version, excluded.version)",
            tuple(x for unit_id, version in newest.items() for x in (mdt_id, unit_id, version)),
        )

    async def take_turn(self, name: str, holder: str, stale: tuple[str, int] | None) -> tuple[bool, tuple[str, int]]:
        """Take the send turn `name` if it is free, ours, or still at `stale` (a holder and beat the caller has
        seen unchanged for a lease time: that holder died). Returns whether we hold it, and its holder and beat."""
        stale_holder, stale_beat = stale if stale is not None else ("", -1)
        rows = await self.db.execute_fetchall(
            "INSERT INTO unit_status_turns (name, holder, beat) VALUES (:name, :holder, 1)"
            " ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, beat = unit_status_turns.beat + 1"
            " WHERE unit_status_turns.holder IS NULL OR unit_status_turns.holder = excluded.holder"
            " OR (unit_status_turns.holder = :stale_holder AND unit_status_turns.beat = :stale_beat)"
            " RETURNING holder, beat",
            {"name": name, "holder": holder, "stale_holder": stale_holder, "stale_beat": stale_beat},
        )
        if rows:
            return True, (str(rows[0][0]), int(rows[0][1]))
        rows = await self._rows("SELECT holder, beat FROM unit_status_turns WHERE name = ?", (name,))
        if not rows:  # given up between the two statements: free now
            return False, ("", 0)
        return False, (str(rows[0][0] or ""), int(rows[0][1]))

    async def renew_turn(self, name: str, holder: str) -> bool:
        """A beat of the holder (while its request is out); False when the turn was taken over."""
        changed = await self.db.execute(
            "UPDATE unit_status_turns SET beat = beat + 1 WHERE name = ? AND holder = ?", (name, holder)
        )
        return changed > 0

    async def give_turn(self, name: str, holder: str) -> None:
        # The beat moves on too: a waiter never mistakes a later turn of the same holder for a stalled one.
        await self.db.execute(
            "UPDATE unit_status_turns SET holder = NULL, beat = beat + 1 WHERE name = ? AND holder = ?", (name, holder)
        )

    # --- panels ---

    async def add_panel(
        self, guild_id: int, channel_id: int, message_id: int, created_by: int | None
    ) -> list[StatusPanel]:
        """Remember a panel; returns the panels forgotten to stay within the per-guild limit."""
        await self.db.execute(
            "INSERT INTO status_panels (message_id, guild_id, channel_id, created_by, created_ms) VALUES (?,?,?,?,?)"
            " ON CONFLICT (message_id) DO UPDATE SET guild_id = excluded.guild_id, channel_id = excluded.channel_id,"
            " created_by = excluded.created_by, created_ms = excluded.created_ms",
            (message_id, guild_id, channel_id, created_by, self.clock()),
        )
        panels = await self.panels(guild_id)
        dropped = panels[:-MAX_PANELS_PER_GUILD] if len(panels) > MAX_PANELS_PER_GUILD else []
        for panel in dropped:
            await self.remove_panel(panel.message_id)
        return dropped

    async def panels(self, guild_id: int) -> list[StatusPanel]:
        rows = await self._rows(
            "SELECT * FROM status_panels WHERE guild_id = ? ORDER BY created_ms, message_id", (guild_id,)
        )
        return [StatusPanel(**dict(r)) for r in rows]

    async def panel_guilds(self) -> list[int]:
        return [r[0] for r in await self._rows("SELECT DISTINCT guild_id FROM status_panels")]

    async def remove_panel(self, message_id: int) -> None:
        await self.db.execute("DELETE FROM status_panels WHERE message_id = ?", (message_id,))
