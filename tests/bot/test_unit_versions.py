"""Unit status versions with several processes on one database: a change made later in another process is
newer, whatever each process counted before and whatever its clock says (UnitStatusStore shared: versions come
from the database's counter). Each "process" is its own Database connection to the same database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.timefmt import now_ms
from bot.core.unit_status import UnitStatusStore
from bot.storage import Database

HOUR_MS = 3_600_000


@pytest.fixture
async def other_db(db_path: Path, db: Database) -> AsyncIterator[Database]:
    """A second connection to the same database: another process's view."""
    other = Database(db_path)
    await other.open()
    yield other
    await other.close()


def an_hour_behind() -> int:
    return now_ms() - HOUR_MS


async def save(store: UnitStatusStore, version: int) -> None:
    await store.save(
        guild_id=1,
        member_id=2,
        mdt_id="mdt",
        callsign="ADAM-12",
        status="10-8",
        officer_name="B. Bubbleton",
        officer_badge=None,
        department=None,
        rank=None,
        actor_id=2,
        version=version,
    )


async def test_versions_rise_across_processes_even_when_one_clock_is_far_behind(
    db: Database, other_db: Database
) -> None:
    on_time = UnitStatusStore(db, shared=True)
    behind = UnitStatusStore(other_db, shared=True, clock=an_hour_behind)
    taken = []
    for _ in range(3):  # clicks alternating between the two processes, each after the other
        taken.append(await on_time.next_version())
        taken.append(await behind.next_version())
    assert taken == sorted(set(taken))


async def test_a_change_made_later_in_another_process_has_the_newer_version(db: Database, other_db: Database) -> None:
    busy, quiet = UnitStatusStore(db, shared=True), UnitStatusStore(other_db, shared=True)
    for _ in range(500):  # a process that handled many clicks
        last_busy = await busy.next_version()
    later = await quiet.next_version()
    assert later > last_busy
    # and a process never repeats one, however many arrive at once
    burst = [quiet.reserve_version() for _ in range(50)]
    assert [await v for v in burst] == list(range(later + 1, later + 51))


async def test_one_process_keeps_its_plain_count(db: Database) -> None:
    store = UnitStatusStore(db)
    assert [await store.next_version() for _ in range(3)] == [1, 2, 3]


async def test_one_process_counts_on_above_versions_processes_handed_out_before(
    db: Database, other_db: Database
) -> None:
    sharded = UnitStatusStore(db, shared=True)
    for _ in range(20):  # handed out, some never saved (a click refused after taking its version)
        last = await sharded.next_version()
    await save(sharded, last - 5)
    alone = UnitStatusStore(other_db)  # the bot restarted unsharded on the same database
    assert await alone.next_version() == last + 1


async def test_sharded_processes_count_above_what_an_unsharded_bot_stored(db: Database, other_db: Database) -> None:
    alone = UnitStatusStore(db)
    for _ in range(30):
        last = await alone.next_version()
    await save(alone, last)
    sharded = UnitStatusStore(other_db, shared=True)  # the operator moved to several processes
    assert await sharded.next_version() == last + 1
