"""Shift claims across processes on one database: each ended shift is taken by exactly one worker, a live
claim is never taken over, and a dead process's claim is taken over once its lease ran out (looked up first).

Each "process" is its own Database connection on the same file (or PostgreSQL database)."""

from __future__ import annotations

import asyncio
import uuid

import pytest

from bot.core.shifts.store import CLAIM_LEASE_MS, ShiftStore
from bot.storage import Database
from tests.helpers.ids import GUILD

NOW = 1_700_000_000_000


async def ended_shifts(store: ShiftStore, count: int) -> list[str]:
    ids = []
    for member in range(count):
        shift_id = str(uuid.uuid4())
        await store.insert_open(
            shift_id=shift_id, guild_id=GUILD, member_id=member + 1, mdt_id="mdt", officer_name=f"Officer {member}",
            officer_badge=None, department=None, callsign=None, started_ms=NOW - 3_600_000,
        )  # fmt: skip
        ended = await store.end_by_id(
            shift_id, end_ms=NOW - 1_000, reason="member", ended_by=None, note=None, status="completed", now=NOW - 1_000
        )
        assert ended is not None and ended.sync_state == "pending"
        ids.append(shift_id)
    return ids


async def test_five_processes_claiming_at_once_take_each_shift_exactly_once(processes: list[ShiftStore]) -> None:
    ids = await ended_shifts(processes[0], 60)
    taken: list[str] = []
    for _ in range(3):  # several rounds, every process at once, each asking for more than there is
        rounds = await asyncio.gather(*(p.claim_due(NOW, 60) for p in processes))
        taken += [shift.id for batch in rounds for shift in batch]
    assert sorted(taken) == sorted(ids)  # every shift once: none twice, none left


async def test_a_worker_claims_no_more_shifts_than_it_has_room_for(processes: list[ShiftStore]) -> None:
    await ended_shifts(processes[0], 40)
    assert len(await processes[0].claim_due(NOW, 10)) == 10
    assert len(await processes[1].claim_due(NOW, 25)) == 25
    assert len(await processes[2].claim_due(NOW, 25)) == 5


async def test_a_live_claim_is_renewed_and_never_taken_over(processes: list[ShiftStore]) -> None:
    first, second = processes[0], processes[1]
    [shift_id] = await ended_shifts(first, 1)
    [claimed] = await first.claim_due(NOW, 10)
    assert claimed.attempt_started_ms is not None
    later = NOW + CLAIM_LEASE_MS - 1
    assert await first.renew_claims([(shift_id, claimed.attempt_started_ms)], later) == 1
    # Past the first lease, but renewed: the other process leaves it alone.
    assert await second.claim_due(NOW + CLAIM_LEASE_MS + 1, 10) == []


async def test_a_dead_processes_claim_is_taken_over_after_its_lease_and_looked_up_first(
    processes: list[ShiftStore],
) -> None:
    first, second = processes[0], processes[1]
    [shift_id] = await ended_shifts(first, 1)
    [claimed] = await first.claim_due(NOW, 10)  # then the process dies: no renewal, no verdict
    assert await second.claim_due(NOW + CLAIM_LEASE_MS - 1, 10) == []
    [taken] = await second.claim_due(NOW + CLAIM_LEASE_MS, 10)
    assert taken.id == shift_id
    assert taken.sent_unconfirmed  # its write may have gone out: the new attempt looks it up before writing
    # The dead process's stale claim token renews nothing.
    assert claimed.attempt_started_ms is not None
    assert await first.renew_claims([(shift_id, claimed.attempt_started_ms)], NOW + CLAIM_LEASE_MS + 5) == 0


async def add_synced_history(db: Database, count: int) -> None:
    """`count` old shifts already on Northca: a server's history, which the worker has no reason to read."""
    await db.executemany(
        "INSERT INTO shifts (id, guild_id, member_id, mdt_id, officer_name, started_ms, break_ms, break_count,"
        " ended_ms, duration_ms, end_reason, status, sync_state, synced_ms)"
        " VALUES (?, ?, ?, 'mdt', 'Officer', ?, 0, 0, ?, 3600000, 'member', 'completed', 'synced', ?)",
        [(str(uuid.uuid4()), GUILD, 10_000 + i, NOW - 9_000_000 - i, NOW - 5_400_000 - i, NOW) for i in range(count)],
    )


async def claim_work(db: Database, store: ShiftStore) -> int:
    """SQLite's virtual-machine steps (a count, not a time) of the worker's claim of every due shift and its read of
    the next wake-up."""
    steps = 0

    def step() -> int:
        nonlocal steps
        steps += 1
        return 0  # go on

    raw = db._raw  # the connection every statement goes through, as the statement-trace tests use it
    await raw.set_progress_handler(step, 10)
    try:
        claimed = await store.claim_due(NOW, 50)
        await store.next_due_ms()
    finally:
        await raw.set_progress_handler(None, 0)  # type: ignore[arg-type]  # sqlite3 takes None to remove it
    assert len(claimed) == 3
    return steps


@pytest.mark.sqlite_only("SQLite's query planner: a partial index serves only a query naming the index's condition")
async def test_the_workers_claim_reads_the_waiting_shifts_not_the_servers_history(db: Database) -> None:
    """The claim and the wake-up read cost the same with a short history and with a long one: they read the shifts
    waiting to be sent, through their index (migration 042), not the whole table (they did: 28.6 ms per claim at
    200,000 shifts in bench/duty_scale.py)."""
    costs = []
    for history in (10, 3_000):
        await db.execute("DELETE FROM shifts")
        await add_synced_history(db, history)
        store = ShiftStore(db)
        await ended_shifts(store, 3)
        costs.append(await claim_work(db, store))
    short, long = costs
    assert long < short * 2, f"the claim read the history: {short} steps with 10 old shifts, {long} with 3,000"
