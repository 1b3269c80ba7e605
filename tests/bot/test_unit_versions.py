"""Unit status versions with several processes on one database: a change made later in another process is
newer, whatever each process counted before (UnitStatusStore shared)."""

from __future__ import annotations

import asyncio
from pathlib import Path

from bot.storage import Database
from bot.timefmt import now_ms
from bot.unit_status import UnitStatusStore


async def later_ms(than: int) -> None:
    while now_ms() <= than:
        await asyncio.sleep(0.001)


async def test_a_change_made_later_in_another_process_has_the_newer_version(db_path: Path, db: Database) -> None:
    other = Database(db_path)
    await other.open()
    try:
        busy, quiet = UnitStatusStore(db, shared=True), UnitStatusStore(other, shared=True)
        await busy.count_versions()
        await quiet.count_versions()
        for _ in range(500):  # a process that handled many clicks counted far ahead of the other
            last_busy = await busy.next_version()
        await later_ms(last_busy // 1000)
        later = quiet.take_version_nowait()
        assert later is not None and later > last_busy
        # and each process still never repeats one
        assert await quiet.next_version() > later
    finally:
        await other.close()


async def test_one_process_keeps_its_plain_count(db: Database) -> None:
    store = UnitStatusStore(db)
    assert [await store.next_version() for _ in range(3)] == [1, 2, 3]
