"""The scale benchmark's exactly-once check finds what it is there to find: a shift stored twice on Northca, an ended
shift missing from Northca, a shift on Northca the database never ended, and an ended shift not yet synced."""

from __future__ import annotations

import uuid

import pytest

from bench.cluster_scale import Scale, check_exactly_once
from bot.core.shifts import ShiftStore, now_ms
from bot.storage import Database
from tests.helpers.ids import MDT

pytestmark = pytest.mark.asyncio


async def ended_shifts(db: Database, count: int, *, synced: bool) -> list[str]:
    store, ids, start = ShiftStore(db), [], now_ms() - 3_600_000
    for member in range(1, count + 1):
        shift_id = str(uuid.uuid4())
        await store.insert_open(
            shift_id=shift_id, guild_id=1, member_id=member, mdt_id=MDT, officer_name=f"Officer {member}",
            officer_badge=None, department="Patrol", callsign=None, started_ms=start,
        )  # fmt: skip
        await store.end_open(
            1, member, end_ms=start + 1_800_000, reason="member", ended_by=member, note=None, status="completed",
            now=now_ms(),
        )  # fmt: skip
        ids.append(shift_id)
    if synced:
        await db.execute("UPDATE shifts SET sync_state = 'synced'")
    return ids


async def test_exactly_once_holds_when_every_ended_shift_is_on_northca_once(db: Database) -> None:
    ids = await ended_shifts(db, 3, synced=True)
    once = await check_exactly_once(db, Scale(servers=1, officers=3), {"shift_ids": {MDT: ids}}, 1.0)
    assert once.ok and (once.ended_in_db, once.synced_in_db, once.on_northca) == (3, 3, 3)


async def test_exactly_once_fails_for_a_shift_written_twice_or_lost_or_unknown(db: Database) -> None:
    a, b, c = await ended_shifts(db, 3, synced=True)
    stranger = str(uuid.uuid4())
    once = await check_exactly_once(db, Scale(servers=1, officers=3), {"shift_ids": {MDT: [a, a, b, stranger]}}, 1.0)
    assert (once.twice, once.lost, once.unknown) == ([a], [c], [stranger])
    assert not once.ok


async def test_exactly_once_fails_for_a_shift_on_another_mdt(db: Database) -> None:
    ids = await ended_shifts(db, 2, synced=True)
    other = str(uuid.uuid4())
    stored = {"shift_ids": {MDT: ids[:1], other: ids[1:]}}
    once = await check_exactly_once(db, Scale(servers=1, officers=2), stored, 1.0)
    assert once.wrong_mdt == ids[1:] and not once.ok


async def test_exactly_once_fails_while_an_ended_shift_is_not_synced(db: Database) -> None:
    ids = await ended_shifts(db, 2, synced=False)
    once = await check_exactly_once(db, Scale(servers=1, officers=2), {"shift_ids": {MDT: ids}}, float("nan"))
    assert once.synced_in_db == 0 and not once.ok
