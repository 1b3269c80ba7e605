"""Leases (bot/storage/leases.py): scheduled work done by exactly one of several processes on one database.

Each "process" here is its own Database connection on the same file (or PostgreSQL database), as two bot
processes would have."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.storage import Database
from bot.storage.leases import LeasedServices, LeaseStore

TTL = 10_000


@pytest.fixture
async def second_db(db_path: Path, db: Database) -> AsyncIterator[Database]:
    """A second connection to the same database: another process's view."""
    other = Database(db_path)
    await other.open()
    yield other
    await other.close()


async def test_only_one_process_holds_a_lease_until_it_expires(db: Database, second_db: Database) -> None:
    first, second = LeaseStore(db), LeaseStore(second_db)
    assert await first.acquire("scheduler", "proc-a", TTL, now=1_000)
    assert not await second.acquire("scheduler", "proc-b", TTL, now=2_000)
    assert await first.acquire("scheduler", "proc-a", TTL, now=5_000)  # renewed: now until 15 000
    assert not await second.acquire("scheduler", "proc-b", TTL, now=14_999)
    assert await second.holder("scheduler", now=14_999) == "proc-a"
    # proc-a stopped renewing (it died): once expired, proc-b takes over, and proc-a cannot take it back.
    assert await second.acquire("scheduler", "proc-b", TTL, now=15_000)
    assert not await first.acquire("scheduler", "proc-a", TTL, now=15_001)
    assert await first.holder("scheduler", now=15_001) == "proc-b"


async def test_many_processes_racing_for_a_free_lease_give_it_to_exactly_one(
    db: Database, second_db: Database, db_path: Path
) -> None:
    extra = [Database(db_path) for _ in range(3)]
    for database in extra:
        await database.open()
    try:
        stores = [LeaseStore(d) for d in (db, second_db, *extra)]
        won = await asyncio.gather(*(s.acquire("scheduler", f"proc-{i}", TTL, now=1_000) for i, s in enumerate(stores)))
        assert sum(won) == 1
    finally:
        for database in extra:
            await database.close()


async def test_a_released_lease_is_taken_over_at_once(db: Database, second_db: Database) -> None:
    first, second = LeaseStore(db), LeaseStore(second_db)
    assert await first.acquire("scheduler", "proc-a", TTL, now=1_000)
    assert not await second.release("scheduler", "proc-b")  # not its lease: nothing happens
    assert await first.release("scheduler", "proc-a")
    assert await second.acquire("scheduler", "proc-b", TTL, now=1_001)


class Recorder:
    def __init__(self) -> None:
        self.running = False
        self.starts = 0

    async def start(self) -> None:
        self.running = True
        self.starts += 1

    async def stop(self) -> None:
        self.running = False


async def test_scheduled_work_runs_in_one_process_and_moves_when_it_stops(db: Database, second_db: Database) -> None:
    work_a, work_b = Recorder(), Recorder()
    a = LeasedServices(LeaseStore(db), "scheduler", [work_a], holder="proc-a", ttl_ms=TTL)
    b = LeasedServices(LeaseStore(second_db), "scheduler", [work_b], holder="proc-b", ttl_ms=TTL)
    await a.start()
    await b.start()
    try:
        assert (work_a.running, work_b.running) == (True, False)
        changed = b.changed
        await a.stop()  # a clean stop releases the lease: b takes over at its next try
        assert not work_a.running
        await b._tick()
        await asyncio.wait_for(changed.wait(), 10)
        assert work_b.running and work_b.starts == 1
    finally:
        await b.stop()
    assert not work_b.running
