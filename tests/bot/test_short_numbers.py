"""Short per-server numbers (migration 039, bot/storage/numbers.py): each kind counts from 1 per server, two
processes numbering at once never share a number, and rows made before the migration are numbered in the order
they were made, the counters continuing after them. Real SQLite files and a real PostgreSQL."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest

import bot.storage as storage
from bot.core.dispatch.store import DispatchStore
from bot.core.leave.store import LeaveStore
from bot.storage import Database
from tests.postgres import PostgresServer, wants_postgresql

GUILD, OTHER_GUILD = 111, 222


async def test_numbers_from_two_processes_at_once_are_unique_and_consecutive_per_server_and_kind(db_path):
    first, second = Database(db_path), Database(db_path)  # two processes' connections to one database
    await first.open()
    await second.open()
    try:
        stores = [(LeaveStore(first), DispatchStore(first)), (LeaveStore(second), DispatchStore(second))]

        async def leave(i: int, guild: int) -> int:
            leaves, _ = stores[i % 2]
            made, inserted = await leaves.insert_unless_overlapping(
                f"leave-{guild}-{i}", guild, 1000 + i, 0, 86_400_000, "away", i
            )
            assert inserted and made.number is not None
            return made.number

        async def ticket(i: int, guild: int) -> int:
            _, dispatch = stores[i % 2]
            return await dispatch.add_entry(f"ticket-{guild}-{i}", guild, "mdt", "ticket", "{}", 1, i)

        runs = [leave(i, g) for i in range(12) for g in (GUILD, OTHER_GUILD)]
        runs += [ticket(i, g) for i in range(12) for g in (GUILD, OTHER_GUILD)]
        numbers = await asyncio.gather(*runs)
        leave_numbers, ticket_numbers = numbers[:24], numbers[24:]
        for got in (leave_numbers, ticket_numbers):
            assert sorted(got[0::2]) == list(range(1, 13))  # GUILD
            assert sorted(got[1::2]) == list(range(1, 13))  # OTHER_GUILD: its own count
        # A call is numbered apart from the tickets.
        assert await stores[0][1].add_entry("call-1", GUILD, "mdt", "call", "{}", 1, 99) == 1
    finally:
        await first.close()
        await second.close()


@pytest.fixture
async def empty_database(tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """A database never opened: a SQLite file not yet created, or an empty PostgreSQL database."""
    if not wants_postgresql():
        return str(tmp_path / "fresh.sqlite3")
    server: PostgresServer = request.getfixturevalue("postgres")
    return await server.empty_database()


async def test_rows_made_before_the_migration_are_numbered_in_order_and_the_count_continues(
    empty_database: str, monkeypatch: pytest.MonkeyPatch
):
    db_path = empty_database
    every = storage._migrations
    monkeypatch.setattr(storage, "_migrations", lambda engine="sqlite": [m for m in every(engine) if m[0] < 39])
    db = Database(db_path)
    await db.open()  # the database as it was before migration 039
    for i, (guild, made_ms) in enumerate([(GUILD, 300), (GUILD, 100), (OTHER_GUILD, 200), (GUILD, 200)]):
        await db.execute(
            "INSERT INTO leaves (id, guild_id, member_id, start_ms, end_ms, planned_end_ms, reason, status,"
            " requested_ms) VALUES (?, ?, ?, 0, 1, 1, 'r', 'pending', ?)",
            (f"old-{i}", guild, 10 + i, made_ms),
        )
        await db.execute(
            "INSERT INTO dispatch_outbox (id, guild_id, mdt_id, kind, body_json, actor_id, state, next_ms,"
            " created_ms, updated_ms) VALUES (?, ?, 'mdt', 'ticket', ?, 1, 'sent', 0, ?, ?)",
            (f"old-t{i}", guild, json.dumps({}), made_ms, made_ms),
        )
    monkeypatch.setattr(storage, "_migrations", every)
    assert 39 in await db.migrate()
    try:
        rows = await db.fetchall("SELECT id, number FROM leaves ORDER BY id")
        assert {r["id"]: r["number"] for r in rows} == {"old-0": 3, "old-1": 1, "old-2": 1, "old-3": 2}
        rows = await db.fetchall("SELECT id, number FROM dispatch_outbox ORDER BY id")
        assert {r["id"]: r["number"] for r in rows} == {"old-t0": 3, "old-t1": 1, "old-t2": 1, "old-t3": 2}
        made, _ = await LeaveStore(db).insert_unless_overlapping("new", GUILD, 99, 0, 1, "r", 400)
        assert made.number == 4
        assert await DispatchStore(db).add_entry("new-t", OTHER_GUILD, "mdt", "ticket", "{}", 1, 400) == 2
    finally:
        await db.close()
