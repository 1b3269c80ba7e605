"""All dispatch SQL (migration 021): the outbox, calls and panics; the panics' responders (migration 038)."""

from __future__ import annotations

import json
from typing import Any

from bot.core.dispatch.records import (
    CALL_CLOSED,
    CallRecord,
    OutboxEntry,
    OutboxKind,
    OutboxState,
    PanicRecord,
    PanicResponder,
)
from bot.storage import Database
from bot.storage.numbers import next_number
from bot.storage.rows import Row

_CALL_SELECT = (
    "SELECT c.*, o.mdt_id AS mdt_id, o.state AS create_state, o.number AS number FROM dispatch_calls c"
    " JOIN dispatch_outbox o ON o.id = c.id"
)
_PANIC_SELECT = (
    "SELECT p.*, o.state AS state, o.error AS error, o.number AS number FROM dispatch_panics p"
    " JOIN dispatch_outbox o ON o.id = p.id"
)


def _entry(row: Row) -> OutboxEntry:
    return OutboxEntry(
        id=row["id"],
        guild_id=row["guild_id"],
        mdt_id=row["mdt_id"],
        kind=row["kind"],
        body_json=row["body_json"],
        actor_id=row["actor_id"],
        state=row["state"],
        attempts=row["attempts"],
        maybe_written=bool(row["maybe_written"]),
        next_ms=row["next_ms"],
        error=row["error"],
        number=row["number"],
    )


def _call(row: Row) -> CallRecord:
    return CallRecord(
        id=row["id"],
        guild_id=row["guild_id"],
        mdt_id=row["mdt_id"],
        creator_id=row["creator_id"],
        classification=row["classification"],
        description=row["description"],
        location=row["location"],
        priority=row["priority"],
        call_type=row["call_type"],
        status=row["status"],
        units=tuple(json.loads(row["units_json"])),
        version=row["version"],
        sent_version=row["sent_version"],
        patch_error=row["patch_error"],
        channel_id=row["channel_id"],
        message_id=row["message_id"],
        create_state=row["create_state"],
        closed_by=row["closed_by"],
        number=row["number"],
    )


def _panic(row: Row) -> PanicRecord:
    return PanicRecord(
        id=row["id"],
        guild_id=row["guild_id"],
        member_id=row["member_id"],
        unit_id=row["unit_id"],
        location=row["location"],
        at_ms=row["at_ms"],
        channel_id=row["channel_id"],
        message_id=row["message_id"],
        cleared_by=row["cleared_by"],
        cleared_ms=row["cleared_ms"],
        state=row["state"],
        error=row["error"],
        number=row["number"],
    )


class DispatchStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- outbox ------------------------------------------------------------------------

    async def _add_entry(
        self,
        conn: Any,
        record_id: str,
        guild_id: int,
        mdt_id: str,
        kind: OutboxKind,
        body: str,
        actor_id: int,
        now: int,
    ) -> int:
        """The entry, with the server's next number of its kind (migration 039); that number."""
        number = await next_number(conn, guild_id, kind)
        await conn.execute(
            "INSERT INTO dispatch_outbox (id, guild_id, mdt_id, kind, body_json, actor_id, state, next_ms,"
            " created_ms, updated_ms, number) VALUES (?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?, ?)",
            (record_id, guild_id, mdt_id, kind, body, actor_id, now, now, now, number),
        )
        return number

    async def add_entry(
        self, record_id: str, guild_id: int, mdt_id: str, kind: OutboxKind, body: str, actor_id: int, now: int
    ) -> int:
        """The entry and its number (Ticket #5)."""
        async with self.db.transaction() as conn:
            return await self._add_entry(conn, record_id, guild_id, mdt_id, kind, body, actor_id, now)

    async def entry(self, record_id: str) -> OutboxEntry | None:
        row = await self.db.fetchone("SELECT * FROM dispatch_outbox WHERE id = ?", (record_id,))
        return _entry(row) if row is not None else None

    async def entry_by_number(self, guild_id: int, kind: OutboxKind, number: int) -> OutboxEntry | None:
        """The server's record of `kind` with this short number (migration 039's unique index)."""
        row = await self.db.fetchone(
            "SELECT * FROM dispatch_outbox WHERE guild_id = ? AND kind = ? AND number = ?", (guild_id, kind, number)
        )
        return _entry(row) if row is not None else None

    async def due(self, now: int, limit: int = 50) -> list[OutboxEntry]:
        rows = await self.db.fetchall(
            "SELECT * FROM dispatch_outbox WHERE state = 'pending' AND next_ms <= ? ORDER BY next_ms LIMIT ?",
            (now, limit),
        )
        return [_entry(r) for r in rows]

    async def settle(
        self,
        record_id: str,
        state: OutboxState,
        now: int,
        *,
        error: str | None = None,
        next_ms: int | None = None,
        maybe_written: bool = False,
        attempts: int | None = None,
    ) -> bool:
        """The outcome of an attempt. With `attempts` (as the entry was read before the attempt), only while the
        entry is still pending at that count: a sender stalled past the outbox lease whose successor settled the
        entry meanwhile changes nothing. Whether it was settled."""
        # maybe_written only ever goes from 0 to 1: once an answer was lost, it stays possibly written.
        sets = "state = ?, error = ?, attempts = attempts + 1, updated_ms = ?"
        params: list[Any] = [state, error, now]
        if next_ms is not None:
            sets += ", next_ms = ?"
            params.append(next_ms)
        if maybe_written:
            sets += ", maybe_written = 1"
        where = "id = ?"
        keys: list[Any] = [record_id]
        if attempts is not None:
            where += " AND state = 'pending' AND attempts = ?"
            keys.append(attempts)
        return await self.db.execute(f"UPDATE dispatch_outbox SET {sets} WHERE {where}", (*params, *keys)) > 0

    async def counts(self, guild_id: int) -> dict[str, int]:
        rows = await self.db.fetchall(
            "SELECT state, COUNT(*) AS n FROM dispatch_outbox WHERE guild_id = ? GROUP BY state", (guild_id,)
        )
        return {r["state"]: r["n"] for r in rows}

    # --- calls ---------------------------------------------------------------------------

    async def add_call(self, call: CallRecord, body: str, now: int) -> int:
        """The call and its create in the outbox, in one transaction; the call's number (Call #12)."""
        async with self.db.transaction() as conn:
            return await self._insert_call(conn, call, body, now)

    async def _insert_call(self, conn: Any, call: CallRecord, body: str, now: int) -> int:
        number = await self._add_entry(conn, call.id, call.guild_id, call.mdt_id, "call", body, call.creator_id, now)
        await conn.execute(
            "INSERT INTO dispatch_calls (id, guild_id, creator_id, classification, description, location,"
            " priority, call_type, status, units_json, version, sent_version, updated_ms)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, ?)",
            (
                call.id,
                call.guild_id,
                call.creator_id,
                call.classification,
                call.description,
                call.location,
                call.priority,
                call.call_type,
                call.status,
                json.dumps(list(call.units)),
                now,
            ),
        )
        return number

    # --- calls from the game (migration 033) ------------------------------------------------

    async def add_game_call(self, call: CallRecord, body: str, now: int, number: int, started_at_ms: int) -> int | None:
        """An in-game emergency call's CAD call, created once per (guild, call number, started at): the key's row,
        the call and its create in the outbox in one transaction; the CAD call's own number (Call #12). None
        (nothing written) when the key was seen before, in this process or any other."""
        async with self.db.transaction() as conn:
            claimed = await conn.execute(
                "INSERT INTO dispatch_game_calls (guild_id, call_number, started_at_ms, call_id, outcome, seen_ms)"
                " VALUES (?, ?, ?, ?, 'created', ?) ON CONFLICT (guild_id, call_number, started_at_ms) DO NOTHING",
                (call.guild_id, number, started_at_ms, call.id, now),
            )
            if claimed != 1:
                return None
            return await self._insert_call(conn, call, body, now)

    async def game_call_seen(self, guild_id: int, number: int, started_at_ms: int) -> bool:
        row = await self.db.fetchone(
            "SELECT 1 AS seen FROM dispatch_game_calls WHERE guild_id = ? AND call_number = ? AND started_at_ms = ?",
            (guild_id, number, started_at_ms),
        )
        return row is not None

    async def claim_game_card(self, guild_id: int, call_id: str, now: int) -> bool:
        """The right to post an in-game call's card, taken once of all processes."""
        claimed = await self.db.execute(
            "UPDATE dispatch_game_calls SET card_ms = ? WHERE guild_id = ? AND call_id = ? AND card_ms IS NULL",
            (now, guild_id, call_id),
        )
        return claimed == 1

    async def game_calls_without_card(self) -> list[tuple[int, str]]:
        """Relayed in-game calls whose card nobody took to post (the relaying process stopped before it)."""
        rows = await self.db.fetchall(
            "SELECT guild_id, call_id FROM dispatch_game_calls WHERE call_id IS NOT NULL AND card_ms IS NULL"
            " ORDER BY seen_ms LIMIT 100"
        )
        return [(int(r["guild_id"]), str(r["call_id"])) for r in rows]

    async def skip_game_call(self, guild_id: int, number: int, started_at_ms: int, outcome: str, now: int) -> bool:
        """The call was not relayed (`outcome` says why), recorded once: True the first time."""
        return (
            await self.db.execute(
                "INSERT INTO dispatch_game_calls (guild_id, call_number, started_at_ms, call_id, outcome, seen_ms)"
                " VALUES (?, ?, ?, NULL, ?, ?) ON CONFLICT (guild_id, call_number, started_at_ms) DO NOTHING",
                (guild_id, number, started_at_ms, outcome, now),
            )
            == 1
        )

    async def end_game_call(self, guild_id: int, number: int, started_at_ms: int, now: int) -> str | None:
        """Marks a relayed call ended, once: the CAD call's id the first time, None after (or when not relayed)."""
        row = await self.db.fetchone(
            "UPDATE dispatch_game_calls SET ended_ms = ? WHERE guild_id = ? AND call_number = ? AND started_at_ms = ?"
            " AND ended_ms IS NULL AND call_id IS NOT NULL RETURNING call_id",
            (now, guild_id, number, started_at_ms),
        )
        return None if row is None else str(row["call_id"])

    async def game_call_counts(self, guild_id: int) -> dict[str, int]:
        """How many in-game calls were relayed ('created') or skipped (by reason), and when the last one was seen."""
        rows = await self.db.fetchall(
            "SELECT outcome, COUNT(*) AS n FROM dispatch_game_calls WHERE guild_id = ? GROUP BY outcome", (guild_id,)
        )
        return {str(r["outcome"]): int(r["n"]) for r in rows}

    async def call(self, guild_id: int, call_id: str) -> CallRecord | None:
        row = await self.db.fetchone(f"{_CALL_SELECT} WHERE c.guild_id = ? AND c.id = ?", (guild_id, call_id))
        return _call(row) if row is not None else None

    async def change_call(
        self,
        guild_id: int,
        call_id: str,
        *,
        add: str | None = None,
        remove: str | None = None,
        status: str | None = None,
        actor_id: int | None = None,
        now: int,
    ) -> CallRecord | None:
        """Merge one change into the newest state in one transaction (two presses never lose one):
        returns the new state, or None when the call does not exist or nothing changed."""
        async with self.db.transaction() as conn:
            # Read through a no-op UPDATE: it locks the row until this transaction ends, so on PostgreSQL (where
            # other processes' transactions run side by side) a merge waits for the one before it and reads its
            # result; a plain SELECT would read the same old state in both and one change would be lost.
            row = await conn.fetchone(
                "UPDATE dispatch_calls SET version = version WHERE guild_id = ? AND id = ?"
                " RETURNING units_json, status",
                (guild_id, call_id),
            )
            if row is None:
                return None
            units: list[str] = json.loads(row[0])
            new_units = [u for u in units if u != remove]
            if add is not None and add not in new_units:
                new_units.append(add)
            new_status = status if status is not None else row[1]
            if new_units == units and new_status == row[1]:
                return None
            await conn.execute(
                "UPDATE dispatch_calls SET units_json = ?, status = ?, version = version + 1, updated_ms = ?"
                " WHERE id = ?",
                (json.dumps(new_units), new_status, now, call_id),
            )
            if new_status == CALL_CLOSED and row[1] != CALL_CLOSED:
                # Who closed it, and when: the audit of a close (by its creator or a supervisor).
                await conn.execute(
                    "UPDATE dispatch_calls SET closed_by = ?, closed_ms = ? WHERE id = ?", (actor_id, now, call_id)
                )
        return await self.call(guild_id, call_id)

    async def set_card(self, call_id: str, channel_id: int, message_id: int) -> None:
        await self.db.execute(
            "UPDATE dispatch_calls SET channel_id = ?, message_id = ? WHERE id = ?", (channel_id, message_id, call_id)
        )

    async def calls_to_patch(self, limit: int = 50) -> list[CallRecord]:
        rows = await self.db.fetchall(
            f"{_CALL_SELECT} WHERE c.version > c.sent_version AND o.state IN ('sent', 'unconfirmed')"
            " ORDER BY c.updated_ms LIMIT ?",
            (limit,),
        )
        return [_call(r) for r in rows]

    async def patched(self, call_id: str, version: int) -> None:
        # A later change may have come in meanwhile: sent_version only moves forward.
        await self.db.execute(
            "UPDATE dispatch_calls SET patch_error = NULL,"
            " sent_version = CASE WHEN ? > sent_version THEN ? ELSE sent_version END WHERE id = ?",
            (version, version, call_id),
        )

    async def patch_failed(self, call_id: str, error: str) -> None:
        await self.db.execute("UPDATE dispatch_calls SET patch_error = ? WHERE id = ?", (error, call_id))

    # --- panics --------------------------------------------------------------------------

    async def add_panic(self, panic: PanicRecord, mdt_id: str, body: str, cooldown_ms: int) -> int | None:
        """Record the panic and its outbox entry, unless the member's previous panic is less than `cooldown_ms`
        old: then nothing is written and the previous panic's time is returned (None: recorded).

        The database decides, not a read beforehand: the member's gate row moves to this panic's time in a
        conditional upsert, the first statement of the transaction. Two presses at once (two coroutines, two
        processes) cannot both move it: on SQLite the write transactions take turns, on PostgreSQL the second
        upsert waits for the first transaction's row and then sees its time (migration 029)."""
        async with self.db.transaction() as conn:
            moved = await conn.execute_fetchall(
                "INSERT INTO dispatch_panic_gates (guild_id, member_id, last_ms) VALUES (?, ?, ?)"
                " ON CONFLICT (guild_id, member_id) DO UPDATE SET last_ms = excluded.last_ms"
                " WHERE dispatch_panic_gates.last_ms <= excluded.last_ms - ? RETURNING last_ms",
                (panic.guild_id, panic.member_id, panic.at_ms, cooldown_ms),
            )
            if not moved:
                row = await conn.fetchone(
                    "SELECT last_ms FROM dispatch_panic_gates WHERE guild_id = ? AND member_id = ?",
                    (panic.guild_id, panic.member_id),
                )
                assert row is not None  # the upsert found it: it exists in this transaction
                return int(row[0])
            await self._add_entry(conn, panic.id, panic.guild_id, mdt_id, "panic", body, panic.member_id, panic.at_ms)
            await conn.execute(
                "INSERT INTO dispatch_panics (id, guild_id, member_id, unit_id, location, at_ms)"
                " VALUES (?, ?, ?, ?, ?, ?)",
                (panic.id, panic.guild_id, panic.member_id, panic.unit_id, panic.location, panic.at_ms),
            )
        return None

    async def panic(self, guild_id: int, panic_id: str) -> PanicRecord | None:
        row = await self.db.fetchone(f"{_PANIC_SELECT} WHERE p.guild_id = ? AND p.id = ?", (guild_id, panic_id))
        return _panic(row) if row is not None else None

    async def last_panic(self, guild_id: int, member_id: int) -> PanicRecord | None:
        row = await self.db.fetchone(
            f"{_PANIC_SELECT} WHERE p.guild_id = ? AND p.member_id = ? ORDER BY p.at_ms DESC LIMIT 1",
            (guild_id, member_id),
        )
        return _panic(row) if row is not None else None

    async def set_alert(self, panic_id: str, channel_id: int, message_id: int) -> None:
        await self.db.execute(
            "UPDATE dispatch_panics SET channel_id = ?, message_id = ? WHERE id = ?", (channel_id, message_id, panic_id)
        )

    async def clear_panic(self, guild_id: int, panic_id: str, actor_id: int, now: int) -> bool:
        changed = await self.db.execute(
            "UPDATE dispatch_panics SET cleared_by = ?, cleared_ms = ?"
            " WHERE guild_id = ? AND id = ? AND cleared_ms IS NULL",
            (actor_id, now, guild_id, panic_id),
        )
        return changed > 0

    # --- responders (migration 038) ---------------------------------------------------------------

    async def add_responder(self, responder: PanicResponder) -> bool:
        """Put the member on the panic's responders; False when they were on it already (nothing changes)."""
        added = await self.db.execute_fetchall(
            "INSERT INTO dispatch_panic_responders (panic_id, guild_id, member_id, unit_id, at_ms)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (panic_id, member_id) DO NOTHING RETURNING member_id",
            (responder.panic_id, responder.guild_id, responder.member_id, responder.unit_id, responder.at_ms),
        )
        return bool(added)

    async def responders(self, guild_id: int, panic_id: str) -> list[PanicResponder]:
        """The panic's responders, first to press first."""
        rows = await self.db.fetchall(
            "SELECT panic_id, guild_id, member_id, unit_id, at_ms FROM dispatch_panic_responders"
            " WHERE guild_id = ? AND panic_id = ? ORDER BY at_ms, member_id",
            (guild_id, panic_id),
        )
        return [PanicResponder(r["panic_id"], r["guild_id"], r["member_id"], r["unit_id"], r["at_ms"]) for r in rows]


__all__ = ["CALL_CLOSED", "DispatchStore"]
