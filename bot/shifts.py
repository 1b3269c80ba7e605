"""Shifts: going on and off duty, breaks, and the sync to Northca that loses
nothing and counts nothing twice.

Northca has no endpoint to update or end a shift, so a shift lives in SQLite
while it is open and is written to Northca once, complete, when it ends, under
the id (a UUID) chosen when it started:

- every write here is one SQL statement, so each is its own transaction and
  concurrent interactions never interleave inside one (the connection is shared);
- ending a shift commits it as "ended, awaiting sync" before anything else
  happens; the background worker then sends it;
- a write that failed ambiguously (timeout, 5xx, dropped connection), or that
  was out when the bot stopped, may have been applied: every later attempt
  first looks the id up on Northca and only writes again when a lookup that
  provably reaches back past the first write attempt says it is not there (the
  answer is not full, or its oldest shift is older than that attempt);
- when the lookup cannot tell (more newer shifts than one answer holds), the
  shift is held "unconfirmed: check on Northca" and never sent by itself: a
  supervisor chooses "Send anyway" or "It is on Northca" (both audited);
- a permanent refusal (400, 401, 403) marks the shift failed with Northca's
  reason, until an admin retries it.

Nothing here knows about Discord: the cog turns these calls into interactions,
and listeners (duty listeners, shift listeners) carry the side effects.
"""

from __future__ import annotations

import asyncio
import logging
import random
import sqlite3
import time
import uuid
from dataclasses import dataclass, fields
from datetime import datetime, timedelta, timezone
from typing import Any, Awaitable, Callable, Iterable, Literal, Mapping

Params = Iterable[Any] | Mapping[str, Any]

from bot.config import ShiftConfig
from bot.errors import Conflict, InvalidInput
from bot.links import LinkService
from bot.departments import Departments
from bot.northca.client import RETRY_AFTER_CAP_SECONDS, NorthcaClient
from bot.northca.errors import NorthcaAnswerTooLarge, NorthcaError, NorthcaRateLimited
from bot.northca.models import CreateShiftBody, Shift, ShiftWindow
from bot.profiles import ProfileStore, normalise_callsign
from bot.sanitize import northca_text
from bot.storage import Database
from bot.timefmt import discord_ts, duration_text

log = logging.getLogger(__name__)

EndReason = Literal["member", "admin", "auto", "left", "bot_removed"]
ShiftEvent = Literal["start", "end", "sync_failed", "sync_unconfirmed"]
Decision = Literal["send_anyway", "on_northca"]
DutyListener = Callable[[int, int, bool], Awaitable[None]]
DutyStamp = Callable[[int, int, bool], None]
ShiftListener = Callable[[ShiftEvent, "ShiftRecord"], Awaitable[None]]

# The spec caps `GET /shifts?limit=` at 200.
LOOKUP_LIMIT = 200
# No shift waits longer than this between attempts, a Retry-After included.
MAX_BACKOFF_SECONDS = RETRY_AFTER_CAP_SECONDS
# Northca's clock and ours may differ: a lookup must reach back this much further to prove absence.
LOOKUP_CLOCK_SKEW_MS = 5 * 60 * 1000
# A claimed shift is not picked again for this long (only matters if a task dies without a verdict).
CLAIM_LEASE_MS = 5 * 60 * 1000
OFFICER_NAME_MAX = 64


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def to_ms(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return int(value.timestamp() * 1000)


def from_ms(value: int | None) -> datetime | None:
    if value is None:
        return None
    return datetime.fromtimestamp(value / 1000, tz=timezone.utc)


@dataclass(frozen=True)
class ShiftRecord:
    id: str
    guild_id: int
    member_id: int
    mdt_id: str
    officer_name: str
    officer_badge: str | None
    department: str | None
    callsign: str | None
    started_ms: int
    break_started_ms: int | None
    break_ms: int
    break_count: int
    ended_ms: int | None
    duration_ms: int | None
    end_reason: str | None
    ended_by: int | None
    end_note: str | None
    status: str | None
    sync_state: str | None
    sync_attempts: int
    next_attempt_ms: int | None
    attempt_started_ms: int | None
    last_attempt_ms: int | None
    sent_unconfirmed: int
    last_error: str | None
    synced_ms: int | None
    first_attempt_ms: int | None
    unconfirmed_reason: str | None
    write_approved_by: int | None

    @classmethod
    def from_row(cls, row: Any) -> "ShiftRecord":
        return cls(**{f.name: row[f.name] for f in fields(cls)})

    @property
    def is_open(self) -> bool:
        return self.ended_ms is None

    @property
    def on_break(self) -> bool:
        return self.break_started_ms is not None

    @property
    def started_at(self) -> datetime:
        return from_ms(self.started_ms)  # type: ignore[return-value]

    @property
    def ended_at(self) -> datetime | None:
        return from_ms(self.ended_ms)

    @property
    def break_started_at(self) -> datetime | None:
        return from_ms(self.break_started_ms)

    def break_total_ms(self, at_ms: int | None = None) -> int:
        """Break time so far, an open break counted up to `at_ms` (or the end)."""
        total = self.break_ms
        if self.break_started_ms is not None:
            until = self.ended_ms if self.ended_ms is not None else (at_ms if at_ms is not None else now_ms())
            total += max(0, until - self.break_started_ms)
        return total

    def duty_ms(self, at_ms: int | None = None) -> int:
        """On-duty time: the stored duration once ended, else elapsed minus breaks so far."""
        if self.duration_ms is not None:
            return self.duration_ms
        at = at_ms if at_ms is not None else now_ms()
        return max(0, at - self.started_ms - self.break_total_ms(at))

    @property
    def synced(self) -> bool:
        return self.sync_state == "synced"

    @property
    def unconfirmed(self) -> bool:
        """Held: it may be on Northca, the bot cannot tell, a supervisor decides."""
        return self.unconfirmed_reason is not None

    def to_northca(self) -> CreateShiftBody:
        """The one complete write: only fields with a value (no accidental nulls)."""
        assert self.ended_ms is not None and self.duration_ms is not None
        values: dict[str, Any] = {
            "id": self.id,
            "officer_name": self.officer_name,
            "status": self.status,
            "start_time": self.started_at,
            "end_time": self.ended_at,
            "duration_ms": self.duration_ms,
        }
        if self.officer_badge:
            values["officer_badge"] = self.officer_badge
        if self.department:
            values["department"] = self.department
        return CreateShiftBody(**{k: v for k, v in values.items() if v is not None})


@dataclass(frozen=True)
class Lookup:
    """What a lookup on Northca says about one shift."""

    present: bool = False
    # Proven: the lookup reaches back past the first write attempt and the shift is not in it.
    absent: bool = False
    # Why neither could be decided.
    reason: str = ""


@dataclass(frozen=True)
class RemoteShifts:
    """Shifts read from Northca, and how many records it sent that could not be read."""

    shifts: list[Shift]
    skipped: int = 0


@dataclass(frozen=True)
class DutyTotals:
    today_ms: int
    week_ms: int
    today_start: datetime
    week_start: datetime


# --- storage --------------------------------------------------------------------

_OPEN_BREAK = "(CASE WHEN break_started_ms IS NULL THEN 0 ELSE MAX(0, {end} - break_started_ms) END)"


class ShiftStore:
    """The shifts table. Every method is one SQL statement (its own transaction)."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def _rows(self, sql: str, params: Params = ()) -> list[ShiftRecord]:
        # execute_fetchall: one hop to the database thread; the statement (and with it an
        # UPDATE ... RETURNING) is finished, hence committed, before it returns.
        rows = await self.db.execute_fetchall(sql, params)
        return [ShiftRecord.from_row(r) for r in rows]

    async def _scalars(self, sql: str, params: Iterable[Any] = ()) -> tuple[Any, ...]:
        rows = await self.db.execute_fetchall(sql, params)
        return tuple(rows[0]) if rows else ()

    async def _one(self, sql: str, params: Params = ()) -> ShiftRecord | None:
        rows = await self._rows(sql, params)
        return rows[0] if rows else None

    async def insert_open(
        self, *, shift_id: str, guild_id: int, member_id: int, mdt_id: str, officer_name: str,
        officer_badge: str | None, department: str | None, callsign: str | None, started_ms: int,
    ) -> ShiftRecord | None:
        """Raises sqlite3.IntegrityError when the member already has an open shift here; None (nothing
        written) when the callsign is another member's: in a profile or as the unit of an open shift.
        One statement, so two starts at once cannot both take a callsign."""
        return await self._one(
            "INSERT INTO shifts (id, guild_id, member_id, mdt_id, officer_name, officer_badge, department, callsign,"
            " started_ms) SELECT ?,?,?,?,?,?,?,?,? WHERE ?8 IS NULL OR ("
            " NOT EXISTS (SELECT 1 FROM officer_profiles p WHERE p.guild_id = ?2 AND p.callsign = ?8"
            " AND p.member_id != ?3)"
            " AND NOT EXISTS (SELECT 1 FROM shifts o WHERE o.guild_id = ?2 AND o.callsign = ?8 AND o.member_id != ?3"
            " AND o.ended_ms IS NULL)) RETURNING *",
            (shift_id, guild_id, member_id, mdt_id, officer_name, officer_badge, department, callsign, started_ms),
        )

    async def get(self, shift_id: str) -> ShiftRecord | None:
        return await self._one("SELECT * FROM shifts WHERE id = ?", (shift_id,))

    async def open_for(self, guild_id: int, member_id: int) -> ShiftRecord | None:
        return await self._one(
            "SELECT * FROM shifts WHERE guild_id = ? AND member_id = ? AND ended_ms IS NULL", (guild_id, member_id)
        )

    async def open_in_guild(self, guild_id: int) -> list[ShiftRecord]:
        return await self._rows("SELECT * FROM shifts WHERE guild_id = ? AND ended_ms IS NULL ORDER BY started_ms", (guild_id,))

    async def toggle_break(self, guild_id: int, member_id: int, at_ms: int) -> ShiftRecord | None:
        return await self._one(
            "UPDATE shifts SET"
            f" break_ms = break_ms + {_OPEN_BREAK.format(end=':at')},"
            " break_count = break_count + (CASE WHEN break_started_ms IS NULL THEN 1 ELSE 0 END),"
            " break_started_ms = (CASE WHEN break_started_ms IS NULL THEN MAX(:at, started_ms) ELSE NULL END)"
            " WHERE guild_id = :guild AND member_id = :member AND ended_ms IS NULL RETURNING *",
            {"at": at_ms, "guild": guild_id, "member": member_id},
        )

    _END_SET = (
        "UPDATE shifts SET"
        " ended_ms = MAX(:end, started_ms),"
        " break_ms = break_ms + {open_break},"
        " break_started_ms = NULL,"
        " duration_ms = MAX(0, MAX(:end, started_ms) - started_ms - break_ms - {open_break}),"
        " end_reason = :reason, ended_by = :ended_by, end_note = :note, status = :status,"
        " sync_state = 'pending', next_attempt_ms = :now"
    ).format(open_break=_OPEN_BREAK.format(end="MAX(:end, started_ms)"))

    async def end_open(
        self, guild_id: int, member_id: int, *, end_ms: int, reason: str, ended_by: int | None, note: str | None,
        status: str, now: int,
    ) -> ShiftRecord | None:
        """Close the member's open shift as "ended, awaiting sync", in one statement."""
        return await self._one(
            self._END_SET + " WHERE guild_id = :guild AND member_id = :member AND ended_ms IS NULL RETURNING *",
            {"end": end_ms, "reason": reason, "ended_by": ended_by, "note": note, "status": status, "now": now,
             "guild": guild_id, "member": member_id},
        )

    async def end_by_id(
        self, shift_id: str, *, end_ms: int, reason: str, ended_by: int | None, note: str | None, status: str, now: int,
    ) -> ShiftRecord | None:
        return await self._one(
            self._END_SET + " WHERE id = :id AND ended_ms IS NULL RETURNING *",
            {"end": end_ms, "reason": reason, "ended_by": ended_by, "note": note, "status": status, "now": now,
             "id": shift_id},
        )

    async def overdue_open(self, started_before_ms: int) -> list[ShiftRecord]:
        return await self._rows(
            "SELECT * FROM shifts WHERE ended_ms IS NULL AND started_ms <= ? ORDER BY started_ms", (started_before_ms,)
        )

    async def earliest_open_start(self) -> int | None:
        row = await self._scalars("SELECT MIN(started_ms) FROM shifts WHERE ended_ms IS NULL")
        return row[0] if row else None

    async def ended_duty_ms(self, guild_id: int, member_id: int, started_from_ms: int) -> int:
        row = await self._scalars(
            "SELECT COALESCE(SUM(duration_ms), 0) FROM shifts WHERE guild_id = ? AND member_id = ?"
            " AND ended_ms IS NOT NULL AND started_ms >= ?",
            (guild_id, member_id, started_from_ms),
        )
        return int(row[0]) if row else 0

    # --- the outbox ---

    async def release_claims(self, now: int) -> int:
        """After a restart: shifts whose write was out are due now (and will be looked up first)."""
        rows = await self.db.execute_fetchall(
            "UPDATE shifts SET next_attempt_ms = ? WHERE sync_state = 'pending' AND attempt_started_ms IS NOT NULL"
            " RETURNING id", (now,),
        )
        return len(rows)

    async def claim_due(self, now: int, limit: int) -> list[ShiftRecord]:
        """Take up to `limit` due shifts. A shift whose previous attempt never reported back
        (the bot stopped while its write was out) becomes `sent_unconfirmed`."""
        return await self._rows(
            "UPDATE shifts SET"
            " sent_unconfirmed = (CASE WHEN attempt_started_ms IS NOT NULL THEN 1 ELSE sent_unconfirmed END),"
            " attempt_started_ms = :now, next_attempt_ms = :lease, sync_attempts = sync_attempts + 1,"
            " first_attempt_ms = COALESCE(first_attempt_ms, :now)"
            " WHERE id IN (SELECT id FROM shifts WHERE sync_state = 'pending' AND next_attempt_ms <= :now"
            " ORDER BY next_attempt_ms LIMIT :limit) RETURNING *",
            {"now": now, "lease": now + CLAIM_LEASE_MS, "limit": limit},
        )

    async def next_due_ms(self) -> int | None:
        row = await self._scalars("SELECT MIN(next_attempt_ms) FROM shifts WHERE sync_state = 'pending'")
        return row[0] if row else None

    async def mark_synced(self, shift_id: str, now: int) -> ShiftRecord | None:
        return await self._one(
            "UPDATE shifts SET sync_state = 'synced', synced_ms = ?, last_attempt_ms = ?, attempt_started_ms = NULL,"
            " next_attempt_ms = NULL, last_error = NULL, write_approved_by = NULL"
            " WHERE id = ? AND sync_state = 'pending' RETURNING *",
            (now, now, shift_id),
        )

    async def mark_retry(self, shift_id: str, now: int, next_ms: int, error: str, maybe_applied: bool) -> ShiftRecord | None:
        return await self._one(
            "UPDATE shifts SET last_attempt_ms = ?, attempt_started_ms = NULL, next_attempt_ms = ?, last_error = ?,"
            " sent_unconfirmed = MAX(sent_unconfirmed, ?) WHERE id = ? AND sync_state = 'pending' RETURNING *",
            (now, next_ms, error, int(maybe_applied), shift_id),
        )

    async def mark_failed(self, shift_id: str, now: int, error: str, maybe_applied: bool) -> ShiftRecord | None:
        return await self._one(
            "UPDATE shifts SET sync_state = 'failed', last_attempt_ms = ?, attempt_started_ms = NULL,"
            " next_attempt_ms = NULL, last_error = ?, sent_unconfirmed = MAX(sent_unconfirmed, ?)"
            " WHERE id = ? AND sync_state = 'pending' RETURNING *",
            (now, error, int(maybe_applied), shift_id),
        )

    async def retry(self, guild_id: int, now: int, shift_id: str | None = None, mdt_id: str | None = None) -> list[ShiftRecord]:
        """Failed and waiting shifts of a guild become due now, with a fresh backoff. A shift
        that never may have reached Northca follows the guild's current MDT (`mdt_id`)."""
        sql = (
            "UPDATE shifts SET sync_state = 'pending', next_attempt_ms = :now, sync_attempts = 0,"
            " mdt_id = (CASE WHEN :mdt IS NOT NULL AND sent_unconfirmed = 0 THEN :mdt ELSE mdt_id END)"
            " WHERE guild_id = :guild AND sync_state IN ('failed', 'pending') AND attempt_started_ms IS NULL"
            # An unconfirmed shift waits for a supervisor's decision, not for a retry.
            " AND unconfirmed_reason IS NULL"
        )
        params: dict[str, Any] = {"now": now, "mdt": mdt_id, "guild": guild_id}
        if shift_id is not None:
            sql += " AND id = :id"
            params["id"] = shift_id
        return await self._rows(sql + " RETURNING *", params)

    async def outbox(self, guild_id: int, limit: int = 25) -> list[ShiftRecord]:
        """Unconfirmed first (they need a decision), then failed, then waiting."""
        return await self._rows(
            "SELECT * FROM shifts WHERE guild_id = ? AND sync_state IN ('pending', 'failed')"
            " ORDER BY unconfirmed_reason IS NOT NULL DESC, sync_state = 'failed' DESC, ended_ms LIMIT ?",
            (guild_id, limit),
        )

    async def outbox_count(self, guild_id: int) -> tuple[int, int, int]:
        """(waiting, failed, unconfirmed) of a guild."""
        row = await self._scalars(
            "SELECT COALESCE(SUM(sync_state = 'pending'), 0),"
            " COALESCE(SUM(sync_state = 'failed' AND unconfirmed_reason IS NULL), 0),"
            " COALESCE(SUM(unconfirmed_reason IS NOT NULL), 0) FROM shifts"
            " WHERE guild_id = ? AND sync_state IN ('pending', 'failed')",
            (guild_id,),
        )
        return (int(row[0]), int(row[1]), int(row[2])) if row else (0, 0, 0)

    async def mark_unconfirmed(self, shift_id: str, now: int, reason: str, error: str | None) -> ShiftRecord | None:
        return await self._one(
            "UPDATE shifts SET sync_state = 'failed', unconfirmed_reason = ?, last_attempt_ms = ?,"
            " attempt_started_ms = NULL, next_attempt_ms = NULL, last_error = COALESCE(?, last_error),"
            " sent_unconfirmed = 1 WHERE id = ? AND sync_state = 'pending' RETURNING *",
            (reason, now, error, shift_id),
        )

    async def consume_write_approval(self, shift_id: str) -> None:
        """Committed before the approved write goes out: one "Send anyway" allows one write."""
        await self.db.execute("UPDATE shifts SET write_approved_by = NULL WHERE id = ?", (shift_id,))

    _DECISIONS: dict[str, str] = {
        # The supervisor checked Northca and found it: synced, never written again.
        "on_northca": "UPDATE shifts SET sync_state = 'synced', synced_ms = :now, unconfirmed_reason = NULL,"
        " next_attempt_ms = NULL, last_error = NULL",
        # The supervisor checked Northca and it is not there: one write, even if the lookup cannot tell.
        "send_anyway": "UPDATE shifts SET sync_state = 'pending', next_attempt_ms = :now, sync_attempts = 0,"
        " unconfirmed_reason = NULL, write_approved_by = :actor",
    }

    async def decide_unconfirmed(
        self, guild_id: int, shift_id: str, actor_id: int, decision: Decision, now: int
    ) -> ShiftRecord | None:
        """Apply a supervisor's decision to an unconfirmed shift of this guild and audit it, in one
        transaction. None when the shift is not (or no longer) waiting for a decision."""
        async with self.db.transaction() as conn:
            rows = list(await conn.execute_fetchall(
                "SELECT unconfirmed_reason FROM shifts"
                " WHERE id = ? AND guild_id = ? AND unconfirmed_reason IS NOT NULL",
                (shift_id, guild_id),
            ))
            if not rows:
                return None
            changed = list(await conn.execute_fetchall(
                self._DECISIONS[decision] + " WHERE id = :id AND guild_id = :guild AND unconfirmed_reason IS NOT NULL"
                " RETURNING *",
                {"now": now, "actor": actor_id, "id": shift_id, "guild": guild_id},
            ))
            if not changed:
                return None
            await conn.execute(
                "INSERT INTO shift_audit (guild_id, shift_id, actor_id, action, at_ms, detail)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (guild_id, shift_id, actor_id, decision, now, f"was unconfirmed: {rows[0][0]}"),
            )
        return ShiftRecord.from_row(changed[0])

    async def audit_of(self, guild_id: int, shift_id: str) -> list[tuple[int, str, int, str | None]]:
        """(actor, action, at_ms, detail) of every decision about a shift, oldest first."""
        rows = await self.db.execute_fetchall(
            "SELECT actor_id, action, at_ms, detail FROM shift_audit WHERE guild_id = ? AND shift_id = ? ORDER BY id",
            (guild_id, shift_id),
        )
        return [(int(r[0]), str(r[1]), int(r[2]), r[3]) for r in rows]


# --- the service --------------------------------------------------------------------


class ShiftService:
    """The rules behind /shift. Times can be given (`at=`) so the maths can be tested exactly."""

    def __init__(
        self,
        db: Database,
        links: LinkService,
        profiles: ProfileStore,
        northca: NorthcaClient,
        config: ShiftConfig,
    ) -> None:
        self.db = db
        self.store = ShiftStore(db)
        self.links = links
        self.profiles = profiles
        self.northca = northca
        # Writes go through a client that never repeats a POST on its own: after an ambiguous
        # failure the next write must come after a lookup, which only the worker does.
        self.writer = northca.single_attempt()
        self.config = config
        self._duty_listeners: list[DutyListener] = []
        self._duty_stamps: list[DutyStamp] = []
        self._shift_listeners: list[ShiftListener] = []
        self._member_locks: dict[tuple[int, int], list[Any]] = {}
        self._listener_tasks: set[asyncio.Task[None]] = set()
        self._sync_waiters: dict[str, list[asyncio.Future[ShiftRecord]]] = {}
        # Signals for the worker (see ShiftWorker).
        self.sync_wake = asyncio.Event()
        self.auto_end_wake = asyncio.Event()
        self.sync_idle = asyncio.Event()
        self.sync_idle.set()

    # --- listeners ---

    def add_duty_listener(self, callback: DutyListener) -> None:
        """`await callback(guild_id, member_id, on_duty)` after every start (True) and every end
        (False), whatever ended it. Run in the background, in order per member."""
        self._duty_listeners.append(callback)

    def add_duty_stamp(self, callback: DutyStamp) -> None:
        """`callback(guild_id, member_id, on_duty)` at the moment of every start and end, before any
        listener runs (synchronous: it must not wait). Lets a duty listener's work be ordered by the
        event that caused it rather than by when the listener gets to run."""
        self._duty_stamps.append(callback)

    def add_shift_listener(self, callback: ShiftListener) -> None:
        """`await callback(event, shift)` for "start", "end" and "sync_failed" (same ordering)."""
        self._shift_listeners.append(callback)

    def _emit(self, event: ShiftEvent, shift: ShiftRecord) -> None:
        if event in ("start", "end"):
            for stamp in self._duty_stamps:
                try:
                    stamp(shift.guild_id, shift.member_id, event == "start")
                except Exception:  # noqa: BLE001 - the shift itself stands
                    log.exception("duty stamp %r failed for shift %s", stamp, shift.id)
        if not self._duty_listeners and not self._shift_listeners:
            return
        task = asyncio.get_running_loop().create_task(self._run_listeners(event, shift), name=f"shift-{event}-{shift.id}")
        self._listener_tasks.add(task)
        task.add_done_callback(self._listener_tasks.discard)

    async def _run_listeners(self, event: ShiftEvent, shift: ShiftRecord) -> None:
        key = (shift.guild_id, shift.member_id)
        # One lock per member, kept while anyone uses or waits for it: events run in order.
        entry = self._member_locks.setdefault(key, [asyncio.Lock(), 0])
        entry[1] += 1
        try:
            async with entry[0]:
                if event in ("start", "end"):
                    for duty in self._duty_listeners:
                        try:
                            await duty(shift.guild_id, shift.member_id, event == "start")
                        except Exception:  # noqa: BLE001 - one listener must not stop the others
                            log.exception("duty listener %r failed for shift %s", duty, shift.id)
                for listener in self._shift_listeners:
                    try:
                        await listener(event, shift)
                    except Exception:  # noqa: BLE001
                        log.exception("shift listener %r failed on %s of shift %s", listener, event, shift.id)
        finally:
            entry[1] -= 1
            if entry[1] == 0:
                del self._member_locks[key]

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait for the listeners already started (tests, shutdown)."""
        pending = set(self._listener_tasks)
        if pending:
            await asyncio.wait(pending, timeout=timeout)

    # --- helpers ---

    @property
    def departments(self) -> list[str]:
        return self.department_rule.names

    @property
    def department_rule(self) -> Departments:
        return Departments(self.config.departments)

    def department_choices(self, current: str, limit: int = 25) -> list[str]:
        return self.department_rule.choices(current, limit)

    def match_department(self, raw: str | None, *, strict: bool = True) -> str | None:
        """See Departments.match: the one rule, shared with /profile set."""
        return self.department_rule.match(raw, strict=strict)

    @property
    def max_shift_ms(self) -> int:
        return int(self.config.max_shift_hours * 3_600_000)

    def _wake_sync(self) -> None:
        self.sync_idle.clear()
        self.sync_wake.set()

    # --- lifecycle ---

    async def open_shift(self, guild_id: int, member_id: int) -> ShiftRecord | None:
        return await self.store.open_for(guild_id, member_id)

    async def start(
        self,
        guild_id: int,
        member_id: int,
        *,
        display_name: str,
        department: str | None = None,
        callsign: str | None = None,
        at: datetime | None = None,
    ) -> ShiftRecord:
        dept = self.match_department(department)
        sign = normalise_callsign(callsign) if callsign is not None else None
        current = await self.store.open_for(guild_id, member_id)
        if current is not None:
            raise self._already_on_duty(current)
        link = await self.links.require_linked(guild_id)
        profile = await self.profiles.get(guild_id, member_id)
        name = (profile.name or northca_text(display_name or "") or f"Member {member_id}")[:OFFICER_NAME_MAX]
        try:
            shift = await self.store.insert_open(
                shift_id=str(uuid.uuid4()), guild_id=guild_id, member_id=member_id, mdt_id=link.mdt_id,
                officer_name=name, officer_badge=profile.badge,
                department=dept or self.department_rule.known(profile.department),
                callsign=sign or profile.callsign, started_ms=to_ms(at) if at else now_ms(),
            )
        except sqlite3.IntegrityError:
            # Two starts at once: the unique index let one through.
            current = await self.store.open_for(guild_id, member_id)
            if current is None:
                raise
            raise self._already_on_duty(current) from None
        if shift is None:
            raise Conflict(
                f"Callsign `{sign or profile.callsign}` is already used by another officer in this server. "
                "Pick another one with /shift start callsign:"
            )
        log.info("shift %s started: member %s in guild %s (%s)", shift.id, member_id, guild_id, shift.department)
        self.auto_end_wake.set()
        self._emit("start", shift)
        return shift

    @staticmethod
    def _already_on_duty(shift: ShiftRecord) -> Conflict:
        return Conflict(f"You have been on duty since {discord_ts(shift.started_at)}. Use /shift end to go off duty first.")

    async def toggle_break(self, guild_id: int, member_id: int, *, at: datetime | None = None) -> ShiftRecord:
        shift = await self.store.toggle_break(guild_id, member_id, to_ms(at) if at else now_ms())
        if shift is None:
            raise Conflict("You are not on duty, so there is no break to take. Use /shift start first.")
        log.info("shift %s: break %s", shift.id, "started" if shift.on_break else "ended")
        return shift

    async def end(
        self,
        guild_id: int,
        member_id: int,
        *,
        reason: EndReason = "member",
        ended_by: int | None = None,
        note: str | None = None,
        at: datetime | None = None,
    ) -> ShiftRecord:
        shift = await self.end_if_open(guild_id, member_id, reason=reason, ended_by=ended_by, note=note, at=at)
        if shift is None:
            if ended_by is not None and ended_by != member_id:
                raise Conflict(f"<@{member_id}> is not on duty: there is no open shift to end.")
            raise Conflict("You are not on duty: there is no open shift to end. Use /shift start to go on duty.")
        return shift

    async def end_if_open(
        self,
        guild_id: int,
        member_id: int,
        *,
        reason: EndReason = "member",
        ended_by: int | None = None,
        note: str | None = None,
        at: datetime | None = None,
    ) -> ShiftRecord | None:
        now = now_ms()
        shift = await self.store.end_open(
            guild_id, member_id, end_ms=to_ms(at) if at else now, reason=reason, ended_by=ended_by, note=note,
            status=self.config.end_status, now=now,
        )
        if shift is not None:
            self._ended(shift)
        return shift

    def _ended(self, shift: ShiftRecord) -> None:
        log.info(
            "shift %s ended (%s%s): %s on duty, awaiting sync", shift.id, shift.end_reason,
            f" by {shift.ended_by}" if shift.ended_by and shift.ended_by != shift.member_id else "",
            duration_text(shift.duration_ms or 0),
        )
        self._wake_sync()
        self.auto_end_wake.set()
        self._emit("end", shift)

    async def end_all_in_guild(self, guild_id: int, reason: EndReason, note: str | None = None) -> list[ShiftRecord]:
        ended = []
        for shift in await self.store.open_in_guild(guild_id):
            now = now_ms()
            done = await self.store.end_by_id(
                shift.id, end_ms=now, reason=reason, ended_by=None, note=note, status=self.config.end_status, now=now
            )
            if done is not None:
                self._ended(done)
                ended.append(done)
        return ended

    async def auto_end_overdue(self, *, now: datetime | None = None) -> list[ShiftRecord]:
        """End every shift that reached the maximum length, at exactly that length."""
        current = to_ms(now) if now else now_ms()
        limit = self.max_shift_ms
        ended = []
        for shift in await self.store.overdue_open(current - limit):
            done = await self.store.end_by_id(
                shift.id, end_ms=shift.started_ms + limit, reason="auto", ended_by=None,
                note=f"reached the maximum shift length ({self.config.max_shift_hours:g} h)",
                status=self.config.end_status, now=current,
            )
            if done is not None:
                self._ended(done)
                ended.append(done)
        return ended

    async def totals(self, guild_id: int, member_id: int, *, now: datetime | None = None) -> DutyTotals:
        """On-duty time of shifts started today and this week (UTC, weeks from Monday),
        the open shift counted up to now."""
        current = now or datetime.now(timezone.utc)
        current_ms = to_ms(current)
        day = current.astimezone(timezone.utc).replace(hour=0, minute=0, second=0, microsecond=0)
        week = day - timedelta(days=day.weekday())
        today = await self.store.ended_duty_ms(guild_id, member_id, to_ms(day))
        this_week = await self.store.ended_duty_ms(guild_id, member_id, to_ms(week))
        open_shift = await self.store.open_for(guild_id, member_id)
        if open_shift is not None:
            running = open_shift.duty_ms(current_ms)
            if open_shift.started_ms >= to_ms(day):
                today += running
            if open_shift.started_ms >= to_ms(week):
                this_week += running
        return DutyTotals(today, this_week, day, week)

    # --- Northca ---

    async def list_remote(
        self,
        guild_id: int,
        actor_id: int | None,
        *,
        limit: int = 25,
        department: str | None = None,
        member_id: int | None = None,
    ) -> RemoteShifts:
        """The MDT's recent shifts, most recently updated first. Northca cannot filter by
        member, so for one member the newest 200 are fetched and filtered here. Records that
        do not parse are left out and counted."""
        link = await self.links.require_linked(guild_id)
        dept = self.match_department(department, strict=False)
        fetch = LOOKUP_LIMIT if member_id is not None else max(1, min(LOOKUP_LIMIT, limit))
        window = await self.northca.list_shift_window(link.mdt_id, guild_id, actor_id, limit=fetch, department=dept)
        shifts = window.items
        if member_id is not None:
            shifts = [s for s in shifts if s.created_by_discord_id == str(member_id)]
        return RemoteShifts(shifts[:limit], window.skipped)

    async def outbox(self, guild_id: int, limit: int = 25) -> list[ShiftRecord]:
        return await self.store.outbox(guild_id, limit)

    async def decide(self, guild_id: int, shift_id: str, actor_id: int, decision: Decision) -> ShiftRecord:
        """A supervisor's decision about an unconfirmed shift: "send_anyway" (one write, even if
        the lookup cannot tell) or "on_northca" (marked synced, never written). Audited."""
        done = await self.store.decide_unconfirmed(guild_id, shift_id, actor_id, decision, now_ms())
        if done is None:
            raise Conflict(
                "That shift is no longer waiting for a decision (someone already chose, or it was synced)."
                " /shift admin pending shows what is left."
            )
        log.info(
            "audit: supervisor %s chose %s for shift %s of member %s in guild %s",
            actor_id, "Send anyway" if decision == "send_anyway" else "It is on Northca", shift_id, done.member_id,
            guild_id,
        )
        if decision == "send_anyway":
            self._wake_sync()
        else:
            self._verdict(done)
        return done

    async def retry(self, guild_id: int, shift_id: str | None = None) -> list[ShiftRecord]:
        """Send failed (and waiting) shifts again now, e.g. after the link was fixed."""
        mdt = await self.links.approved_mdt(guild_id)
        rows = await self.store.retry(guild_id, now_ms(), shift_id, mdt)
        if rows:
            log.info("retrying %d shifts of guild %s", len(rows), guild_id)
            self._wake_sync()
        return rows

    async def wait_for_sync(self, shift_id: str, timeout: float, *, since_ms: int = 0) -> ShiftRecord | None:
        """The shift once an attempt made at or after `since_ms` has a verdict (synced, failed,
        or retry scheduled); None if there is none within `timeout` seconds."""
        future: asyncio.Future[ShiftRecord] = asyncio.get_running_loop().create_future()
        waiters = self._sync_waiters.setdefault(shift_id, [])
        waiters.append(future)
        try:
            # Registered before reading, so a verdict in between cannot be missed.
            current = await self.store.get(shift_id)
            if current is None:
                return None
            if self._has_verdict(current, since_ms):
                return current
            async with asyncio.timeout(timeout):
                return await future
        except TimeoutError:
            return None
        finally:
            if future in waiters:
                waiters.remove(future)
            if not waiters:
                self._sync_waiters.pop(shift_id, None)

    @staticmethod
    def _has_verdict(shift: ShiftRecord, since_ms: int) -> bool:
        if shift.sync_state == "synced":
            return True
        if shift.sync_state is None:
            return False
        return shift.last_attempt_ms is not None and shift.last_attempt_ms >= since_ms and shift.attempt_started_ms is None

    def _verdict(self, shift: ShiftRecord | None) -> None:
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
        except Exception as exc:  # noqa: BLE001 - a bug must not lose the shift: it is retried
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
        assert since is not None
        departments = [None, shift.department] if shift.department else [None]
        window: ShiftWindow | None = None
        for department in departments:
            window = await self.northca.list_shift_window(
                shift.mdt_id, shift.guild_id, shift.member_id, limit=LOOKUP_LIMIT, status=shift.status,
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
            return f"Northca's newest {window.raw_count} shifts ({what}) carry no readable update time"
        return (
            f"Northca's newest {window.raw_count} shifts ({what}) only reach back to {discord_ts(oldest, 'f')},"
            f" not to the first write attempt {discord_ts(from_ms(first_ms), 'f')}"  # type: ignore[arg-type]
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
        done = await self.store.mark_unconfirmed(shift.id, now_ms(), reason[:500], exc.message if exc else None)
        log.warning("shift %s held as unconfirmed (check on Northca): %s", shift.id, reason)
        self._verdict(done)
        if done is not None:
            self._emit("sync_unconfirmed", done)
        return done

    async def _synced(self, shift: ShiftRecord, how: str) -> ShiftRecord | None:
        done = await self.store.mark_synced(shift.id, now_ms())
        log.info("shift %s synced to Northca (%s, attempt %d)", shift.id, how, shift.sync_attempts)
        self._verdict(done)
        return done

    async def _refused(self, shift: ShiftRecord, exc: NorthcaError, *, maybe_applied: bool) -> ShiftRecord | None:
        # Not retryable (400, 401, 403, …): it will not change by itself; kept as failed until retried.
        if not exc.retryable:
            done = await self.store.mark_failed(shift.id, now_ms(), exc.message, maybe_applied)
            log.warning("shift %s refused by Northca, kept as failed: %s", shift.id, exc)
            self._verdict(done)
            if done is not None:
                self._emit("sync_failed", done)
            return done
        return await self._retry_later(shift, exc.message, maybe_applied=maybe_applied, exc=exc)

    async def _retry_later(
        self, shift: ShiftRecord, error: str, *, maybe_applied: bool, exc: NorthcaError | None = None
    ) -> ShiftRecord | None:
        now = now_ms()
        delay = self.backoff_seconds(shift.sync_attempts, exc)
        done = await self.store.mark_retry(shift.id, now, now + int(delay * 1000), error, maybe_applied)
        log.info("shift %s not synced (%s); retry %d in %.1f s", shift.id, error, shift.sync_attempts + 1, delay)
        self._verdict(done)
        return done

    def backoff_seconds(self, attempts: int, exc: NorthcaError | None = None) -> float:
        base = self.config.sync_interval_seconds
        cap = max(base, MAX_BACKOFF_SECONDS)
        delay = min(cap, base * 2 ** max(0, min(attempts - 1, 30)))
        delay *= random.uniform(0.8, 1.0)
        if isinstance(exc, NorthcaRateLimited) and exc.retry_after:
            # The client caps retry_after already; capped again so no caller can schedule past it.
            delay = max(delay, min(exc.retry_after, RETRY_AFTER_CAP_SECONDS))
        return min(delay, cap)


# --- the background worker ----------------------------------------------------------


async def _wait_event(event: asyncio.Event, timeout: float) -> None:
    # asyncio.timeout, not wait_for: on 3.11 wait_for loses a cancellation that arrives
    # together with the event, and the loop would then never stop.
    try:
        async with asyncio.timeout(timeout):
            await event.wait()
    except TimeoutError:
        pass


class ShiftWorker:
    """Sends ended shifts to Northca (several at once, with backoff, across restarts) and
    ends shifts that reach the maximum length. A bot background service."""

    def __init__(self, service: ShiftService, *, concurrency: int = 32, max_idle_sleep: float = 60.0) -> None:
        self.service = service
        self.concurrency = concurrency
        self.max_idle_sleep = max_idle_sleep
        self._inflight: dict[str, asyncio.Task[Any]] = {}
        self._tasks: list[asyncio.Task[None]] = []
        self._stopping = False

    @property
    def running(self) -> bool:
        return any(not t.done() for t in self._tasks)

    async def start(self) -> None:
        if self.running:
            return
        released = await self.service.store.release_claims(now_ms())
        if released:
            log.info("%d shifts were being sent when the bot stopped: they will be looked up first", released)
        self.service.sync_idle.clear()
        self._stopping = False
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._sync_loop(), name="shift-sync"),
            loop.create_task(self._auto_end_loop(), name="shift-auto-end"),
        ]

    async def stop(self, grace: float = 5.0) -> None:
        self._stopping = True
        for task in self._tasks:  # no new claims
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        # Writes already sent may finish within `grace`; the rest are parked (claims released, looked up at start).
        inflight = list(self._inflight.values())
        if inflight:
            _, unfinished = await asyncio.wait(inflight, timeout=grace)
            for task in unfinished:
                task.cancel()
            await asyncio.gather(*unfinished, return_exceptions=True)
            if unfinished:
                log.warning("%d shift writes unfinished at shutdown: looked up on Northca at the next start",
                            len(unfinished))
        self._inflight.clear()
        await self.service.drain(timeout=5.0)

    async def _sync_loop(self) -> None:
        service = self.service
        while True:
            service.sync_wake.clear()
            try:
                claimed: list[ShiftRecord] = []
                free = self.concurrency - len(self._inflight)
                if free > 0:
                    claimed = await service.store.claim_due(now_ms(), free)
                    for shift in claimed:
                        self._spawn(shift)
                if len(self._inflight) >= self.concurrency:
                    # Every slot busy: the next finished attempt wakes the loop.
                    timeout = self.max_idle_sleep
                else:
                    # Everything due is claimed; sleep until the next backoff ends (or a wake).
                    if not self._inflight and not claimed:
                        service.sync_idle.set()
                    next_due = await service.store.next_due_ms()
                    timeout = self.max_idle_sleep
                    if next_due is not None:
                        timeout = min(timeout, max(0.0, (next_due - now_ms()) / 1000))
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001 - the loop must survive a bad moment of the database
                log.exception("shift sync loop failed; trying again shortly")
                timeout = 1.0
            if self._stopping:
                return
            if timeout > 0:
                await _wait_event(service.sync_wake, timeout)

    def _spawn(self, shift: ShiftRecord) -> None:
        task = asyncio.get_running_loop().create_task(self.service.sync_one(shift), name=f"shift-sync-{shift.id}")
        self._inflight[shift.id] = task

        def done(_: asyncio.Task[Any], shift_id: str = shift.id) -> None:
            self._inflight.pop(shift_id, None)
            self.service.sync_wake.set()

        task.add_done_callback(done)

    async def _auto_end_loop(self) -> None:
        service = self.service
        while True:
            service.auto_end_wake.clear()
            timeout = self.max_idle_sleep
            try:
                await service.auto_end_overdue()
                earliest = await service.store.earliest_open_start()
                if earliest is not None:
                    timeout = min(timeout, max(0.0, (earliest + service.max_shift_ms - now_ms()) / 1000))
            except asyncio.CancelledError:
                raise
            except Exception:  # noqa: BLE001
                log.exception("auto-end of long shifts failed; trying again shortly")
                timeout = 5.0
            if self._stopping:
                return
            await _wait_event(service.auto_end_wake, timeout + 0.001)
