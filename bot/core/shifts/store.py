"""The shifts table: every SQL statement about shifts, and nothing else.

Every method is one SQL statement (so its own transaction: the connection is shared and
concurrent interactions never interleave inside one), except `decide_unconfirmed`, which
writes the decision and its audit row in one transaction. `insert_open` and `mark_synced`
are group commits (bot/core/shifts/groups.py): the writes of the same moment share one statement.
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping
from dataclasses import fields
from typing import Any, ClassVar

from bot.core.sharding import ShardSet
from bot.core.shifts.groups import GroupWriter
from bot.core.shifts.records import Decision, GivenRoleKind, NewShift, ShiftRecord
from bot.storage import Database
from bot.storage.grouped import GROUP_READ_KEYS, GroupReader
from bot.storage.shards import shard_condition, shard_expression
from bot.storage.turns import callsign_turn, take_turns

Params = Iterable[Any] | Mapping[str, Any]

# A claimed shift is not picked again for this long: the claiming worker renews it while the write is out
# (ShiftWorker), so it runs out only when that process died (SIGKILL, power) or stalled; then any process
# takes the shift over, and looks it up on Northca before writing again.
CLAIM_LEASE_MS = 30 * 1000
# Several processes: a due shift of another process's guild is left to that process (its cache has the guild's
# shift log, where the sync verdict is announced) for this long; then any process takes it (that one seems down).
OTHER_SHARDS_CLAIM_DELAY_MS = 30 * 1000

_OPEN_BREAK = "(CASE WHEN break_started_ms IS NULL THEN 0 ELSE GREATEST(0, {end} - break_started_ms) END)"


_NEW_SHIFT_FIELDS = tuple(f.name for f in fields(NewShift))
_NEW_SHIFT_COLUMNS = ", ".join(_NEW_SHIFT_FIELDS)
# At most this many shifts opened by one statement (9 parameters each: far within both engines' limits).
GROUP_INSERT_ROWS = 100
# At most this many sync verdicts marked by one statement.
GROUP_SYNCED_ROWS = 200


def _ours(claim: int | None) -> str:
    """The condition that an attempt's claim (its attempt_started_ms) still holds the shift: a worker that stalled
    past the lease while its write was out finds the claim taken over, and must not end the new holder's claim (a
    third claim could then send the shift while the new holder's write is out). None: no condition."""
    return "" if claim is None else " AND attempt_started_ms = ?"


def _claim_param(claim: int | None) -> tuple[int, ...]:
    return () if claim is None else (claim,)


def _start_clashes(new: NewShift) -> list[tuple[object, ...]]:
    """A member, or a callsign in a guild, is opened at most once per statement."""
    member: tuple[object, ...] = ("member", new.guild_id, new.member_id)
    return [member, ("callsign", new.guild_id, new.callsign)] if new.callsign is not None else [member]


class ShiftStore:
    """The shifts table. Every method is one SQL statement (its own transaction)."""

    def __init__(self, db: Database) -> None:
        self.db = db
        # Group commits (bot/core/shifts/groups.py): the shifts opened, and the verdicts "synced", of the same moment.
        self._opens: GroupWriter[NewShift, ShiftRecord] = GroupWriter(
            db, self._insert_group, key=lambda new: new.id, clashes=_start_clashes, max_items=GROUP_INSERT_ROWS,
            name="shift-group-insert",
        )  # fmt: skip
        self._roles: GroupReader[str, dict[int, str]] = GroupReader(
            db, self._given_roles_group, missing=dict, max_items=GROUP_READ_KEYS, name="shift-group-roles"
        )
        self._synced: GroupWriter[tuple[str, int], ShiftRecord] = GroupWriter(
            db, self._mark_synced_group, key=lambda item: item[0], clashes=lambda item: [item[0]],
            max_items=GROUP_SYNCED_ROWS, name="shift-group-synced",
        )  # fmt: skip

    async def _rows(self, sql: str, params: Params = ()) -> list[ShiftRecord]:
        # execute_fetchall: one hop to the database thread; the statement (and with it an
        # UPDATE ... RETURNING) is finished, hence committed, before it returns.
        rows = await self.db.execute_fetchall(sql, params)
        return [ShiftRecord.from_row(r) for r in rows]

    async def _scalars(self, sql: str, params: Params = ()) -> tuple[Any, ...]:
        rows = await self.db.execute_fetchall(sql, params)
        return tuple(rows[0]) if rows else ()

    async def _one(self, sql: str, params: Params = ()) -> ShiftRecord | None:
        rows = await self._rows(sql, params)
        return rows[0] if rows else None

    async def insert_open(
        self,
        *,
        shift_id: str,
        guild_id: int,
        member_id: int,
        mdt_id: str,
        officer_name: str,
        officer_badge: str | None,
        department: str | None,
        callsign: str | None,
        started_ms: int,
    ) -> ShiftRecord | None:
        """Open a shift; None (nothing written) when the member already has an open shift here, or when the
        callsign is another member's: in a profile or as the unit of an open shift.

        Group commit: the shifts opened in the same moment (a burst of /shift start) are written by one statement,
        so one commit, and each caller gets its own answer once it is committed. A statement is all or nothing: when
        the database fails it, none of its shifts is stored, and each is tried again alone, so a row the database
        refuses fails only its own caller."""
        return await self._opens.write(
            NewShift(shift_id, guild_id, member_id, mdt_id, officer_name, officer_badge, department, callsign,
                     started_ms)
        )  # fmt: skip

    async def _insert_group(self, group: list[NewShift]) -> dict[Hashable, ShiftRecord]:
        """The group's shifts, holding the turns of their callsigns (bot/storage/turns.py; /profile takes the same
        one): the statement's "callsign not in use" checks then cannot be raced by another process's start or
        profile change (PostgreSQL runs those side by side; SQLite's writers take turns anyway)."""
        turns = [(new.guild_id, callsign_turn(new.callsign)) for new in group if new.callsign is not None]
        if not turns:
            return await self._insert_rows(group)
        if self.db.in_transaction:  # a caller's transaction (GroupWriter.write): the turns join it
            await take_turns(self.db, turns)
            return await self._insert_rows(group)
        async with self.db.transaction() as tx:
            await take_turns(tx, turns)
            return await self._insert_rows(group)

    async def _insert_rows(self, group: list[NewShift]) -> dict[Hashable, ShiftRecord]:
        values = ", ".join("(?, ?, ?, ?, ?, ?, ?, ?, ?)" for _ in group)
        params = [getattr(new, name) for new in group for name in _NEW_SHIFT_FIELDS]
        rows = await self._rows(
            f"WITH v ({_NEW_SHIFT_COLUMNS}) AS (VALUES {values})"
            f" INSERT INTO shifts ({_NEW_SHIFT_COLUMNS}) SELECT {', '.join(f'v.{c}' for c in _NEW_SHIFT_FIELDS)}"
            " FROM v WHERE v.callsign IS NULL OR ("
            " NOT EXISTS (SELECT 1 FROM officer_profiles p WHERE p.guild_id = v.guild_id AND p.callsign = v.callsign"
            " AND p.member_id != v.member_id)"
            " AND NOT EXISTS (SELECT 1 FROM shifts o WHERE o.guild_id = v.guild_id AND o.callsign = v.callsign"
            " AND o.member_id != v.member_id AND o.ended_ms IS NULL))"
            # The member's open shift (one per member, a unique index): left alone, nothing written.
            " ON CONFLICT (guild_id, member_id) WHERE ended_ms IS NULL DO NOTHING RETURNING *",
            params,
        )
        return {row.id: row for row in rows}

    async def move_callsign(self, shift_id: str, old: str | None, new: str) -> ShiftRecord | None:
        """The open shift's unit becomes `new` (the member's callsign in game), only while its callsign is still
        `old` (compare and set: two processes move it once) and `new` is nobody else's, in a profile or as the unit
        of an open shift (under the callsign's turn, as a start takes it). None: nothing changed."""
        async with self.db.transaction() as tx:
            guild = await tx.fetchone("SELECT guild_id FROM shifts WHERE id = ?", (shift_id,))
            if guild is None:
                return None
            await take_turns(tx, [(int(guild["guild_id"]), callsign_turn(new))])
            rows = await tx.execute_fetchall(
                "UPDATE shifts SET callsign = ? WHERE id = ? AND ended_ms IS NULL"
                " AND (callsign = CAST(? AS TEXT) OR (callsign IS NULL AND CAST(? AS TEXT) IS NULL))"
                " AND NOT EXISTS (SELECT 1 FROM officer_profiles p WHERE p.guild_id = shifts.guild_id"
                " AND p.callsign = ? AND p.member_id != shifts.member_id)"
                " AND NOT EXISTS (SELECT 1 FROM shifts o WHERE o.guild_id = shifts.guild_id AND o.callsign = ?"
                " AND o.member_id != shifts.member_id AND o.ended_ms IS NULL) RETURNING *",
                (new, shift_id, old, old, new, new),
            )
        return ShiftRecord.from_row(rows[0]) if rows else None

    async def get(self, shift_id: str) -> ShiftRecord | None:
        return await self._one("SELECT * FROM shifts WHERE id = ?", (shift_id,))

    async def open_for(self, guild_id: int, member_id: int) -> ShiftRecord | None:
        return await self._one(
            "SELECT * FROM shifts WHERE guild_id = ? AND member_id = ? AND ended_ms IS NULL", (guild_id, member_id)
        )

    async def open_in_guild(self, guild_id: int) -> list[ShiftRecord]:
        return await self._rows(
            "SELECT * FROM shifts WHERE guild_id = ? AND ended_ms IS NULL ORDER BY started_ms", (guild_id,)
        )

    async def toggle_break(self, guild_id: int, member_id: int, at_ms: int) -> ShiftRecord | None:
        shift = await self._one(
            "UPDATE shifts SET"
            f" break_ms = break_ms + {_OPEN_BREAK.format(end=':at')},"
            " break_count = break_count + (CASE WHEN break_started_ms IS NULL THEN 1 ELSE 0 END),"
            " break_started_ms = (CASE WHEN break_started_ms IS NULL THEN GREATEST(:at, started_ms) ELSE NULL END)"
            " WHERE guild_id = :guild AND member_id = :member AND ended_ms IS NULL RETURNING *",
            {"at": at_ms, "guild": guild_id, "member": member_id},
        )
        if shift is not None:
            # Each break's interval, for splitting a shift at a period boundary (bot/core/duty/rule.py). A crash
            # between the two statements leaves fewer intervals than break_count: then split proportionally.
            if shift.break_started_ms is not None:
                await self.db.execute(
                    "INSERT INTO shift_breaks (shift_id, started_ms) VALUES (?, ?) ON CONFLICT DO NOTHING",
                    (shift.id, shift.break_started_ms),
                )
            else:
                await self.db.execute(
                    "UPDATE shift_breaks SET ended_ms = GREATEST(?, started_ms)"
                    " WHERE shift_id = ? AND ended_ms IS NULL",
                    (at_ms, shift.id),
                )
        return shift

    # --- the roles given for a shift (migration 031) ---

    async def given_roles(self, shift_id: str) -> dict[int, str]:
        """The roles recorded as given for this shift, with what for ('duty', 'department', 'break'; 'legacy' with
        role 0: a shift open before roles were recorded). Read together with the other shifts' of the same moment
        (every end reads them: a burst of ends makes one trip)."""
        return dict(await self._roles.read(shift_id))  # the caller's own copy (two reads of a shift share a result)

    async def _given_roles_group(self, shift_ids: list[str]) -> dict[str, dict[int, str]]:
        marks = ", ".join("?" for _ in shift_ids)
        rows = await self.db.execute_fetchall(
            f"SELECT shift_id, role_id, kind FROM shift_roles WHERE shift_id IN ({marks})", tuple(shift_ids)
        )
        given: dict[str, dict[int, str]] = {}
        for r in rows:
            given.setdefault(str(r["shift_id"]), {})[int(r["role_id"])] = str(r["kind"])
        return given

    async def record_given_role(self, shift_id: str, role_id: int, kind: GivenRoleKind) -> None:
        await self.db.execute(
            "INSERT INTO shift_roles (shift_id, role_id, kind) VALUES (?, ?, ?)"
            " ON CONFLICT (shift_id, role_id) DO NOTHING",
            (shift_id, role_id, kind),
        )

    async def forget_given_roles(self, shift_id: str, role_ids: Iterable[int]) -> None:
        for role_id in role_ids:
            await self.db.execute("DELETE FROM shift_roles WHERE shift_id = ? AND role_id = ?", (shift_id, role_id))

    _END_SET = (
        "UPDATE shifts SET"
        " ended_ms = GREATEST(:end, started_ms),"
        " break_ms = break_ms + {open_break},"
        " break_started_ms = NULL,"
        " duration_ms = GREATEST(0, GREATEST(:end, started_ms) - started_ms - break_ms - {open_break}),"
        " end_reason = :reason, ended_by = :ended_by, end_note = :note, status = :status,"
        " sync_state = 'pending', next_attempt_ms = :now"
    ).format(open_break=_OPEN_BREAK.format(end="GREATEST(:end, started_ms)"))

    async def end_open(
        self, guild_id: int, member_id: int, *, end_ms: int, reason: str, ended_by: int | None, note: str | None,
        status: str, now: int,
    ) -> ShiftRecord | None:  # fmt: skip
        """Close the member's open shift as "ended, awaiting sync", in one statement."""
        where = {"guild": guild_id, "member": member_id}
        return await self._end("guild_id = :guild AND member_id = :member", where, end_ms, reason, ended_by, note,
                               status, now)  # fmt: skip

    async def end_by_id(
        self, shift_id: str, *, end_ms: int, reason: str, ended_by: int | None, note: str | None, status: str, now: int
    ) -> ShiftRecord | None:
        return await self._end("id = :id", {"id": shift_id}, end_ms, reason, ended_by, note, status, now)

    async def _end(
        self, where: str, where_params: dict[str, Any], end_ms: int, reason: str, ended_by: int | None,
        note: str | None, status: str, now: int,
    ) -> ShiftRecord | None:  # fmt: skip
        return await self._one(
            self._END_SET + f" WHERE {where} AND ended_ms IS NULL RETURNING *",
            {"end": end_ms, "reason": reason, "ended_by": ended_by, "note": note, "status": status, "now": now,
             **where_params},
        )  # fmt: skip

    async def overdue_open(self, started_before_ms: int, shards: ShardSet | None = None) -> list[ShiftRecord]:
        """Open shifts started at or before the time (of the guilds of `shards`; None: every guild)."""
        return await self._rows(
            f"SELECT * FROM shifts WHERE ended_ms IS NULL AND started_ms <= ?{shard_condition('guild_id', shards)}"
            " ORDER BY started_ms",
            (started_before_ms,),
        )

    async def earliest_open_start(self) -> int | None:
        row = await self._scalars("SELECT MIN(started_ms) FROM shifts WHERE ended_ms IS NULL")
        return row[0] if row else None

    async def earliest_open_start_per_guild(self, shards: ShardSet | None = None) -> dict[int, int]:
        rows = await self.db.execute_fetchall(
            "SELECT guild_id, MIN(started_ms) AS started_ms FROM shifts WHERE ended_ms IS NULL"
            f"{shard_condition('guild_id', shards)} GROUP BY guild_id"
        )
        return {int(r["guild_id"]): int(r["started_ms"]) for r in rows}

    async def last_end_ms(self, guild_id: int, member_id: int) -> int | None:
        """When the member's latest ended shift here ended (None: none)."""
        row = await self._scalars(
            "SELECT MAX(ended_ms) FROM shifts WHERE guild_id = ? AND member_id = ? AND ended_ms IS NOT NULL",
            (guild_id, member_id),
        )
        return None if not row or row[0] is None else int(row[0])

    async def ended_duty_ms(self, guild_id: int, member_id: int, started_from_ms: int) -> int:
        row = await self._scalars(
            "SELECT CAST(COALESCE(SUM(duration_ms), 0) AS BIGINT) FROM shifts WHERE guild_id = ? AND member_id = ?"
            " AND ended_ms IS NOT NULL AND started_ms >= ?"
            # A voided shift (bot/core/duty) counts nowhere.
            " AND NOT EXISTS (SELECT 1 FROM duty_adjustments v WHERE v.shift_id = shifts.id AND v.kind = 'void')",
            (guild_id, member_id, started_from_ms),
        )
        return int(row[0]) if row else 0

    # --- the outbox ---

    async def release_claims(self, now: int) -> int:
        """After a restart: shifts whose write was out are due now (and will be looked up first)."""
        rows = await self.db.execute_fetchall(
            "UPDATE shifts SET next_attempt_ms = ? WHERE sync_state = 'pending' AND attempt_started_ms IS NOT NULL"
            " RETURNING id",
            (now,),
        )
        return len(rows)

    async def claim_due(self, now: int, limit: int, shards: ShardSet | None = None) -> list[ShiftRecord]:
        """Take up to `limit` due shifts, for CLAIM_LEASE_MS (renew_claims extends it). A shift whose previous
        attempt never reported back (its process stopped while the write was out) becomes `sent_unconfirmed`.

        With `shards`, a shift of another process's guild is taken only once it has been due for
        OTHER_SHARDS_CLAIM_DELAY_MS (that process seems down): its sync verdict is then announced by the process
        whose cache has the guild's shift log.

        Atomic across processes on one database: the outer WHERE repeats the due test, so a shift another
        process claimed meanwhile (PostgreSQL re-checks a row it waited for against its newest version) is
        left alone; on PostgreSQL, rows another claim holds are skipped rather than waited for."""
        skip_locked = " FOR UPDATE SKIP LOCKED" if self.db.engine == "postgresql" else ""
        params = {"now": now, "lease": now + CLAIM_LEASE_MS, "limit": limit}
        due = "sync_state = 'pending' AND next_attempt_ms <= :now"
        if shards is not None:
            due += f" AND ({shard_expression('guild_id', shards)} OR next_attempt_ms <= :others_due)"
            params["others_due"] = now - OTHER_SHARDS_CLAIM_DELAY_MS
        # The due rows are chosen once, in a CTE: PostgreSQL may re-run a LIMIT subquery of `id IN (...)` for
        # each row it scans, and with SKIP LOCKED each run finds other rows (a claim of every due shift).
        return await self._rows(
            f"WITH due AS (SELECT id FROM shifts WHERE {due} ORDER BY next_attempt_ms LIMIT :limit{skip_locked})"
            " UPDATE shifts SET"
            " sent_unconfirmed = (CASE WHEN attempt_started_ms IS NOT NULL THEN 1 ELSE sent_unconfirmed END),"
            " attempt_started_ms = :now, next_attempt_ms = :lease, sync_attempts = sync_attempts + 1,"
            " first_attempt_ms = COALESCE(first_attempt_ms, :now)"
            f" WHERE id IN (SELECT id FROM due) AND {due} RETURNING *",
            params,
        )

    async def renew_claims(self, claims: Iterable[tuple[str, int]], now: int) -> int:
        """Extend this worker's claims, each named by (shift id, its attempt_started_ms: the claim's token, so a
        claim another process took over after an expiry is never extended); how many were still ours."""
        renewed = 0
        for shift_id, claimed_ms in claims:
            renewed += await self.db.execute(
                "UPDATE shifts SET next_attempt_ms = ? WHERE id = ? AND attempt_started_ms = ?"
                " AND sync_state = 'pending'",
                (now + CLAIM_LEASE_MS, shift_id, claimed_ms),
            )
        return renewed

    async def next_due_ms(self, shards: ShardSet | None = None) -> int | None:
        """When `claim_due` (with the same `shards`) next has a shift to take."""
        due = "next_attempt_ms"
        if shards is not None:
            own = shard_expression("guild_id", shards)
            due = f"(CASE WHEN {own} THEN next_attempt_ms ELSE next_attempt_ms + {OTHER_SHARDS_CLAIM_DELAY_MS} END)"
        row = await self._scalars(f"SELECT MIN({due}) FROM shifts WHERE sync_state = 'pending'")
        return row[0] if row else None

    async def mark_synced(self, shift_id: str, now: int) -> ShiftRecord | None:
        """The shift, marked synced; None when it is no longer waiting. A group commit: the verdicts of writes
        that came back in the same moment are marked by one statement (at the latest of their times)."""
        return await self._synced.write((shift_id, now))

    async def _mark_synced_group(self, group: list[tuple[str, int]]) -> dict[Hashable, ShiftRecord]:
        now = max(at for _, at in group)
        rows = await self._rows(
            "UPDATE shifts SET sync_state = 'synced', synced_ms = ?, last_attempt_ms = ?, attempt_started_ms = NULL,"
            " next_attempt_ms = NULL, last_error = NULL, write_approved_by = NULL"
            f" WHERE id IN ({', '.join('?' for _ in group)}) AND sync_state = 'pending' RETURNING *",
            (now, now, *(shift_id for shift_id, _ in group)),
        )
        return {row.id: row for row in rows}

    async def mark_retry(
        self, shift_id: str, now: int, next_ms: int, error: str, maybe_applied: bool, claim: int | None = None
    ) -> ShiftRecord | None:
        """`claim` (the attempt's attempt_started_ms): only while the attempt still holds the shift (see _ours)."""
        return await self._one(
            "UPDATE shifts SET last_attempt_ms = ?, attempt_started_ms = NULL, next_attempt_ms = ?, last_error = ?,"
            " sent_unconfirmed = GREATEST(sent_unconfirmed, ?) WHERE id = ? AND sync_state = 'pending'"
            f"{_ours(claim)} RETURNING *",
            (now, next_ms, error, int(maybe_applied), shift_id, *_claim_param(claim)),
        )

    async def mark_failed(
        self, shift_id: str, now: int, error: str, maybe_applied: bool, claim: int | None = None
    ) -> ShiftRecord | None:
        return await self._one(
            "UPDATE shifts SET sync_state = 'failed', last_attempt_ms = ?, attempt_started_ms = NULL,"
            " next_attempt_ms = NULL, last_error = ?, sent_unconfirmed = GREATEST(sent_unconfirmed, ?)"
            f" WHERE id = ? AND sync_state = 'pending'{_ours(claim)} RETURNING *",
            (now, error, int(maybe_applied), shift_id, *_claim_param(claim)),
        )

    async def retry(
        self, guild_id: int, now: int, shift_id: str | None = None, mdt_id: str | None = None
    ) -> list[ShiftRecord]:
        """Failed and waiting shifts of a guild become due now, with a fresh backoff. A shift
        that never may have reached Northca follows the guild's current MDT (`mdt_id`)."""
        sql = (
            "UPDATE shifts SET sync_state = 'pending', next_attempt_ms = :now, sync_attempts = 0,"
            " mdt_id = (CASE WHEN CAST(:mdt AS TEXT) IS NOT NULL AND sent_unconfirmed = 0 THEN :mdt ELSE mdt_id END)"
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
            "SELECT COUNT(CASE WHEN sync_state = 'pending' THEN 1 END),"
            " COUNT(CASE WHEN sync_state = 'failed' AND unconfirmed_reason IS NULL THEN 1 END),"
            " COUNT(unconfirmed_reason) FROM shifts"
            " WHERE guild_id = ? AND sync_state IN ('pending', 'failed')",
            (guild_id,),
        )
        return (int(row[0]), int(row[1]), int(row[2])) if row else (0, 0, 0)

    async def mark_unconfirmed(
        self, shift_id: str, now: int, reason: str, error: str | None, claim: int | None = None
    ) -> ShiftRecord | None:
        return await self._one(
            "UPDATE shifts SET sync_state = 'failed', unconfirmed_reason = ?, last_attempt_ms = ?,"
            " attempt_started_ms = NULL, next_attempt_ms = NULL, last_error = COALESCE(?, last_error),"
            f" sent_unconfirmed = 1 WHERE id = ? AND sync_state = 'pending'{_ours(claim)} RETURNING *",
            (reason, now, error, shift_id, *_claim_param(claim)),
        )

    async def consume_write_approval(self, shift_id: str) -> None:
        """Committed before the approved write goes out: one "Send anyway" allows one write."""
        await self.db.execute("UPDATE shifts SET write_approved_by = NULL WHERE id = ?", (shift_id,))

    _DECISIONS: ClassVar[dict[str, str]] = {
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
            rows = list(
                await conn.execute_fetchall(
                    "SELECT unconfirmed_reason FROM shifts"
                    " WHERE id = ? AND guild_id = ? AND unconfirmed_reason IS NOT NULL",
                    (shift_id, guild_id),
                )
            )
            if not rows:
                return None
            changed = list(
                await conn.execute_fetchall(
                    self._DECISIONS[decision]
                    + " WHERE id = :id AND guild_id = :guild AND unconfirmed_reason IS NOT NULL"
                    " RETURNING *",
                    {"now": now, "actor": actor_id, "id": shift_id, "guild": guild_id},
                )
            )
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
