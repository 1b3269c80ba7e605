"""Gamelock across processes: two service graphs (bot.services.build_services) on one database, against the PRC
sandbox and the Northca sandbox on loopback, both looking at once at a member out of the game past the grace:
the shift is ended once, at the leave time, announced once, and on Northca once."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from bot.core.shifts import ShiftEvent
from bot.erlc.client import PrcClient
from bot.northca.client import NorthcaClient
from bot.northca.sandbox import NorthcaSandbox
from bot.storage import Database
from tests.erlc.conftest import SERVER_KEY
from tests.helpers.bot import link_guild_in, make_config
from tests.helpers.clock import Clock
from tests.helpers.erlc import game_services
from tests.helpers.ids import ADMIN, GUILD, MDT, OFFICER
from tests.helpers.northca import shift_posts
from tests.helpers.waiting import until

pytestmark = pytest.mark.asyncio

ROBLOX_ID = 101


async def test_two_processes_looking_at_once_end_a_gamelocked_shift_once_at_the_leave_time(
    sandbox: NorthcaSandbox, db_path, db: Database, client: NorthcaClient, prc, http: aiohttp.ClientSession
):
    other_db = Database(db_path)
    await other_db.open()
    clock = Clock()
    config = make_config(sandbox, db_path, game=prc)
    prc_client = PrcClient(http, prc.base_url, timeout=2.0)
    a = game_services(config, db, client, prc_client, clock)
    await link_guild_in(db, sandbox)
    await a.settings.start()
    await a.erlc.connect(GUILD, ADMIN, SERVER_KEY)
    await a.settings.set_erlc_gamelock_minutes(GUILD, ADMIN, 5)
    await a.erlc.staff_link(GUILD, ADMIN, OFFICER, ROBLOX_ID)
    b = game_services(config, other_db, client, prc_client, clock)
    await b.settings.start()
    assert b.settings.get(GUILD).erlc_gamelock_minutes == 5
    ends: list[ShiftEvent] = []

    async def record(event: ShiftEvent) -> None:
        if event.kind == "end":
            ends.append(event)

    for process in (a, b):
        process.events.shifts.subscribe(record)
    try:
        prc.join(SERVER_KEY, ROBLOX_ID, "OfficerBob", team="Police", callsign="1A-12")
        assert (await a.erlc.poll(GUILD)).ok
        shift = await a.shifts.start(GUILD, OFFICER, display_name="Bob")
        clock.advance(600)
        prc.leave(SERVER_KEY, ROBLOX_ID)
        assert (await b.erlc.poll(GUILD)).ok
        left_ms = clock.ms
        clock.advance(5 * 60 + 1)

        results: list[Any] = await asyncio.gather(a.gamelock.check(GUILD), b.gamelock.check(GUILD))
        ended = [s for done, _ in results for s in done]
        assert len(ended) == 1 and ended[0].id == shift.id
        assert ended[0].ended_ms == left_ms and ended[0].end_reason == "left_game"
        await a.shifts.drain()
        await b.shifts.drain()
        assert [e.shift.id for e in ends] == [shift.id]

        await a.shift_worker.start()
        await b.shift_worker.start()
        await until(lambda: len(sandbox.shifts(MDT)) == 1, 10, "the shift on Northca")
        await asyncio.sleep(0.3)
        assert [s["id"] for s in sandbox.shifts(MDT)] == [shift.id] and len(shift_posts(sandbox)) == 1
        assert sandbox.shifts(MDT)[0]["duration_ms"] == left_ms - shift.started_ms
    finally:
        for process in (a, b):
            await process.shift_worker.stop()
            await process.settings.stop()
            await process.shifts.drain()
        await other_db.close()


async def test_migration_034_keeps_every_shift_and_what_points_at_it_and_allows_left_game(tmp_path):
    """An SQLite database at 032 with an ended shift, its break, its audit row and a void: 034 rebuilds the shifts
    table (its CHECK cannot be changed in place) and everything is kept, the foreign keys whole."""
    import sqlite3

    from bot.storage import _migrations

    path = tmp_path / "at-032.db"
    raw = sqlite3.connect(path, isolation_level=None)
    raw.execute("PRAGMA foreign_keys=ON")
    raw.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT)")
    for version, name, sql in _migrations("sqlite"):
        if version <= 32:
            raw.executescript(sql)
            raw.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, 'x')", (version, name))
    raw.execute(
        "INSERT INTO shifts (id, guild_id, member_id, mdt_id, officer_name, started_ms, ended_ms, duration_ms,"
        " end_reason, sync_state) VALUES ('s1', ?, ?, 'mdt', 'Bob', 1000, 5000, 3000, 'member', 'synced')",
        (GUILD, OFFICER),
    )
    raw.execute("INSERT INTO shift_breaks (shift_id, started_ms, ended_ms) VALUES ('s1', 2000, 3000)")
    raw.execute(
        "INSERT INTO shift_audit (guild_id, shift_id, actor_id, action, at_ms) VALUES (?, 's1', 1, 'x', 1)", (GUILD,)
    )
    raw.execute(
        "INSERT INTO duty_adjustments (guild_id, member_id, kind, amount_ms, shift_id, reason, actor_id, at_ms)"
        " VALUES (?, ?, 'void', 0, 's1', 'test', 1, 1)",
        (GUILD, OFFICER),
    )
    raw.close()

    db = Database(path)
    await db.open()
    try:
        applied = await db.fetchone("SELECT 1 AS one FROM schema_migrations WHERE name = '034_shift_end_left_game.sql'")
        assert applied is not None
        row = await db.fetchone("SELECT * FROM shifts WHERE id = 's1'")
        assert (row["duration_ms"], row["end_reason"], row["sync_state"]) == (3000, "member", "synced")
        for table in ("shift_breaks", "shift_audit", "duty_adjustments"):
            assert (await db.fetchone(f"SELECT COUNT(*) AS n FROM {table} WHERE shift_id = 's1'"))["n"] == 1
        assert await db.fetchall("PRAGMA foreign_key_check") == []
        await db.execute("UPDATE shifts SET end_reason = 'left_game' WHERE id = 's1'")
        with pytest.raises(Exception, match="FOREIGN KEY"):
            await db.execute("INSERT INTO shift_breaks (shift_id, started_ms) VALUES ('no-such-shift', 1)")
        with pytest.raises(Exception, match="CHECK"):
            await db.execute("UPDATE shifts SET end_reason = 'whatever' WHERE id = 's1'")
    finally:
        await db.close()
