"""The group commits of the shifts table (bot/core/shifts/groups.py): the shifts opened (/shift start) and the sync
verdicts marked in the same moment are written by one statement; each caller gets its own answer; a row the
database refuses fails only its own caller. On a real SQLite file or PostgreSQL database."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from bot.core.shifts.store import GROUP_INSERT_ROWS, GROUP_SYNCED_ROWS, ShiftStore
from bot.storage import Database
from tests.helpers.ids import GUILD
from tests.helpers.shifts import refuse_inserts_of

NOW = 1_700_000_000_000


async def open_shift(store: ShiftStore, member_id: int, callsign: str | None = None) -> object:
    """insert_open for one member; returns the stored shift, None (refused) or the exception."""
    try:
        return await store.insert_open(
            shift_id=str(uuid.uuid4()), guild_id=GUILD, member_id=member_id, mdt_id="mdt",
            officer_name=f"Officer {member_id}", officer_badge=None, department=None, callsign=callsign,
            started_ms=NOW,
        )  # fmt: skip
    except Exception as exc:
        return exc


WRITES = ("WITH v", "UPDATE shifts SET sync_state = 'synced'")


async def writing_transactions(db: Database, run: object) -> int:
    """How many transactions wrote the shifts `run` (a coroutine) opened or marked synced: PostgreSQL's xmin per row
    (the last writer of each); on SQLite the group statements its connection ran (each its own transaction)."""
    if db.engine == "postgresql":
        await run  # type: ignore[misc]
        row = await db.fetchone("SELECT COUNT(DISTINCT xmin::text) AS n FROM shifts")
        assert row is not None
        return int(row["n"])
    inserts: list[str] = []
    raw = db._raw  # the engine's own statement trace, on the connection every statement goes through
    await raw.set_trace_callback(lambda sql: inserts.append(sql) if sql.lstrip().startswith(WRITES) else None)
    try:
        await run  # type: ignore[misc]
    finally:
        await raw.set_trace_callback(None)
    return len(inserts)


async def test_starts_of_one_moment_are_written_by_one_statement_each_with_its_answer(db: Database) -> None:
    store = ShiftStore(db)
    members = range(1, GROUP_INSERT_ROWS + 1)
    results: list[object] = []

    async def burst() -> None:
        results.extend(await asyncio.gather(*(open_shift(store, m) for m in members)))

    assert await writing_transactions(db, burst()) == 1
    assert [getattr(r, "member_id", r) for r in results] == list(members)  # each caller its own shift
    rows = await db.fetchall("SELECT id, member_id FROM shifts WHERE ended_ms IS NULL ORDER BY member_id")
    assert [r["member_id"] for r in rows] == list(members)
    assert {r["id"] for r in rows} == {getattr(r, "id", None) for r in results}


async def test_a_member_or_callsign_twice_in_one_burst_is_stored_once(db: Database) -> None:
    store = ShiftStore(db)
    results = await asyncio.gather(
        open_shift(store, 1), open_shift(store, 1),  # the same member twice
        open_shift(store, 2, "ADAM-12"), open_shift(store, 3, "ADAM-12"),  # two members, one callsign
        open_shift(store, 4, "ADAM-13"),
    )  # fmt: skip
    assert [getattr(r, "member_id", r) for r in results] == [1, None, 2, None, 4]
    rows = await db.fetchall("SELECT member_id, callsign FROM shifts WHERE ended_ms IS NULL ORDER BY member_id")
    assert [(r["member_id"], r["callsign"]) for r in rows] == [(1, None), (2, "ADAM-12"), (4, "ADAM-13")]


def refused_not(member: int) -> list[int]:
    return [m for m in range(1, 51) if m != member]


async def test_a_row_the_database_refuses_mid_statement_fails_only_its_own_start(db: Database, db_path: str) -> None:
    store = ShiftStore(db)
    await refuse_inserts_of(db, 25)  # the 25th of 50: rows before it were written when the statement fails
    results = await asyncio.gather(*(open_shift(store, m) for m in range(1, 51)))
    # The group's statement failed as a whole (nothing of it kept); each row was then tried alone.
    refused = [m for m, r in zip(range(1, 51), results, strict=True) if isinstance(r, Exception)]
    assert refused == [25] and "could not extend file" in str(results[24])
    assert [getattr(r, "member_id", None) for r in results if not isinstance(r, Exception)] == refused_not(25)
    rows = await db.fetchall("SELECT member_id FROM shifts WHERE ended_ms IS NULL ORDER BY member_id")
    assert [r["member_id"] for r in rows] == [m for m in range(1, 51) if m != 25]
    # Once the database takes it again, the refused member goes on duty; everything is committed (another
    # connection, as after a restart, sees it).
    await db.execute("DROP TRIGGER refuse_one" + (" ON shifts" if db.engine == "postgresql" else ""))
    assert getattr(await open_shift(store, 25), "member_id", None) == 25
    other = Database(db_path)
    await other.open()
    try:
        assert len(await other.fetchall("SELECT id FROM shifts WHERE ended_ms IS NULL")) == 50
    finally:
        await other.close()


async def test_a_start_inside_a_transaction_is_written_in_it(db: Database) -> None:
    store = ShiftStore(db)
    with pytest.raises(RuntimeError, match="rolled back"):
        async with db.transaction():
            stored = await open_shift(store, 7)
            assert getattr(stored, "member_id", None) == 7
            raise RuntimeError("rolled back")
    assert await db.fetchall("SELECT id FROM shifts") == []  # it was part of the transaction, not a group of its own


async def test_verdicts_of_writes_that_came_back_together_are_marked_by_one_statement(db: Database) -> None:
    store = ShiftStore(db)
    opened = await asyncio.gather(*(open_shift(store, m) for m in range(1, 51)))
    ids = [getattr(s, "id", "") for s in opened]
    for shift_id in ids:
        await store.end_by_id(shift_id, end_ms=NOW + 60_000, reason="member", ended_by=None, note=None,
                              status="completed", now=NOW + 60_000)  # fmt: skip
    await store.mark_synced(ids[0], NOW + 61_000)  # already synced: the second verdict finds nothing to mark
    marked: list[object] = []

    async def verdicts() -> None:
        marked.extend(await asyncio.gather(*(store.mark_synced(i, NOW + 62_000 + n) for n, i in enumerate(ids))))

    assert len(ids) <= GROUP_SYNCED_ROWS
    if db.engine == "postgresql":
        await verdicts()
        row = await db.fetchone(
            f"SELECT COUNT(DISTINCT xmin::text) AS n FROM shifts WHERE id IN ({', '.join('?' for _ in ids[1:])})",
            ids[1:],
        )
        assert row is not None and row["n"] == 1  # one transaction marked them all
    else:
        assert await writing_transactions(db, verdicts()) == 1  # one statement marked them all
    assert marked[0] is None
    assert [getattr(m, "id", None) for m in marked[1:]] == ids[1:]
    assert all(getattr(m, "sync_state", None) == "synced" for m in marked[1:])
    rows = await db.fetchall("SELECT id, synced_ms FROM shifts WHERE sync_state = 'synced' ORDER BY synced_ms")
    assert len(rows) == 50 and rows[0]["id"] == ids[0]
    assert {r["synced_ms"] for r in rows[1:]} == {NOW + 62_000 + 49}  # the latest time of the group


async def test_given_roles_of_shifts_ending_together_are_read_by_one_statement_each_its_own(db: Database) -> None:
    """Every end reads the roles its shift was given (to take them back): a burst of ends makes one trip, and each
    end still gets exactly its own shift's roles (none for a shift that was given none)."""
    store = ShiftStore(db)
    opened = await asyncio.gather(*(open_shift(store, m) for m in range(1, 41)))
    ids = [getattr(s, "id", "") for s in opened]
    for n, shift_id in enumerate(ids[:30]):
        await store.record_given_role(shift_id, 1000 + n, "duty")
        if n % 3 == 0:
            await store.record_given_role(shift_id, 5000, "department")
    reads: list[str] = []
    if db.engine == "sqlite":
        await db._raw.set_trace_callback(lambda sql: reads.append(sql) if "FROM shift_roles" in sql else None)
    try:
        given = await asyncio.gather(*(store.given_roles(shift_id) for shift_id in [*ids, ids[0]]))
    finally:
        if db.engine == "sqlite":
            await db._raw.set_trace_callback(None)
    for n, roles in enumerate(given[:30]):
        assert roles == ({1000 + n: "duty", 5000: "department"} if n % 3 == 0 else {1000 + n: "duty"})
    assert given[30:40] == [{}] * 10
    assert given[40] == given[0] and given[40] is not given[0]  # the same shift twice: each caller its own copy
    if db.engine == "sqlite":
        assert len(reads) == 1
    async with db.transaction():  # inside a transaction the read runs in it (the group would wait for its end)
        assert await store.given_roles(ids[1]) == {1001: "duty"}
