"""Units that follow the game across processes: two service graphs (bot.services.build_services) on one database,
against the PRC sandbox and the Northca sandbox on loopback. One process's poll stalls, or the process dies,
between claiming the server and writing what it read; the other takes over and polls: nothing is doubled (one
history row per change, one shift, one unit move) and nothing is lost (the change the dead poll read is read
again), and the stalled poll writes nothing when its answer finally comes."""

from __future__ import annotations

import asyncio
from typing import Any

import aiohttp
import pytest

from bot.erlc.client import PrcClient
from bot.northca.client import NorthcaClient
from bot.northca.sandbox import NorthcaSandbox
from bot.storage import Database
from tests.erlc.conftest import SERVER_KEY
from tests.helpers.bot import link_guild_in, make_config
from tests.helpers.clock import Clock
from tests.helpers.erlc import game_services, v2_reads
from tests.helpers.ids import ADMIN, GUILD, MDT, OFFICER
from tests.helpers.waiting import until

pytestmark = pytest.mark.asyncio

ROBLOX_ID = 101


async def history_kinds(db: Database) -> list[str]:
    rows = await db.fetchall(
        "SELECT kind FROM erlc_presence_history WHERE guild_id = ? AND user_id = ? ORDER BY at_ms, id",
        (GUILD, ROBLOX_ID),
    )
    return [str(r["kind"]) for r in rows]


async def claim_of(db: Database) -> int:
    row = await db.fetchone("SELECT poll_claim FROM erlc_servers WHERE guild_id = ?", (GUILD,))
    assert row is not None
    return int(row["poll_claim"])


async def test_a_poll_stalled_or_killed_between_reading_and_writing_doubles_and_loses_nothing(
    sandbox: NorthcaSandbox, db_path, db: Database, client: NorthcaClient, prc, http: aiohttp.ClientSession
):
    other_db = Database(db_path)
    await other_db.open()
    clock = Clock()
    config = make_config(sandbox, db_path, game=prc)
    prc_client = PrcClient(http, prc.base_url, timeout=10.0)
    a = game_services(config, db, client, prc_client, clock)
    await link_guild_in(db, sandbox)
    await a.settings.start()
    await a.erlc.connect(GUILD, ADMIN, SERVER_KEY)
    await a.settings.set_erlc_gamelock_minutes(GUILD, ADMIN, 5)
    await a.settings.set_erlc_auto_duty(GUILD, ADMIN, True)
    await a.settings.set_erlc_status_from_game(GUILD, ADMIN, True)
    await a.erlc.staff_link(GUILD, ADMIN, OFFICER, ROBLOX_ID)
    b = game_services(config, other_db, client, prc_client, clock)
    await b.settings.start()
    for process in (a, b):
        await process.coalescer.start()
    try:
        # A claims the poll and reads; PRC answers it late (A stalls). B takes over, polls and writes the join.
        prc.join(SERVER_KEY, ROBLOX_ID, "OfficerBob", team="Police", callsign="1A-12")
        before, reads = await claim_of(db), len(v2_reads(prc, SERVER_KEY))
        prc.inject(hang_seconds=1.5, path=r"^/v2/server", key=SERVER_KEY)
        stalled = asyncio.create_task(a.erlc.poll(GUILD))
        await until(_claimed(db, before), 5, "A's claim")
        await until(lambda: len(v2_reads(prc, SERVER_KEY)) > reads, 5, "A's read out")
        clock.advance(1)
        assert (await b.erlc.poll(GUILD)).ok
        await b.gamelock.check(GUILD)
        shift = await b.shifts.open_shift(GUILD, OFFICER)
        assert shift is not None and shift.callsign == "1A-12"
        late = await stalled
        assert not late.ok and late.error == "claim_lost"
        # Both look at the guild (B's job, and A's should its lease have come back): one shift, one join row.
        await asyncio.gather(a.gamelock.check(GUILD), b.gamelock.check(GUILD))
        assert await history_kinds(db) == ["join"]
        assert [s.id for s in await a.shifts.open_in_guild(GUILD)] == [shift.id]
        await until(lambda: _units(sandbox) == {"1A-12": "10-8"}, 5, "10-8 under the in-game callsign")

        # A is killed while its poll of a callsign change is out (claimed, nothing written): B polls after it.
        clock.advance(60)
        prc.set_callsign(SERVER_KEY, ROBLOX_ID, "1A-13")
        before, reads = await claim_of(db), len(v2_reads(prc, SERVER_KEY))
        prc.inject(hang_seconds=5.0, path=r"^/v2/server", key=SERVER_KEY)
        killed = asyncio.create_task(a.erlc.poll(GUILD))
        await until(_claimed(db, before), 5, "A's claim")
        await until(lambda: len(v2_reads(prc, SERVER_KEY)) > reads, 5, "A's read out")
        killed.cancel()
        await asyncio.gather(killed, return_exceptions=True)
        assert await history_kinds(db) == ["join"]  # what A read is not written...
        clock.advance(1)
        assert (await b.erlc.poll(GUILD)).ok  # ...and not lost: B reads it again
        await asyncio.gather(a.gamelock.check(GUILD), b.gamelock.check(GUILD))
        assert await history_kinds(db) == ["join", "callsign"]
        assert (await b.shifts.open_shift(GUILD, OFFICER)).callsign == "1A-13"
        assert a.gamelock.units.moved + b.gamelock.units.moved == 1
        await until(lambda: _units(sandbox) == {"1A-12": "10-7", "1A-13": "10-8"}, 5, "the unit moved")

        # Out of the game past the grace: one end at the leave time, 10-7, one shift on Northca.
        clock.advance(60)
        prc.leave(SERVER_KEY, ROBLOX_ID)
        assert (await b.erlc.poll(GUILD)).ok
        left_ms = clock.ms
        clock.advance(5 * 60 + 1)
        results: list[Any] = await asyncio.gather(a.gamelock.check(GUILD), b.gamelock.check(GUILD))
        ended = [s for done, _ in results for s in done]
        assert [s.id for s in ended] == [shift.id] and ended[0].ended_ms == left_ms
        for process in (a, b):
            await process.shifts.drain()
        # Graph-level: no status cog here; the shift end's off-duty code is the cog's (the harness tests it).
        await b.unit_status.on_duty_changed(GUILD, OFFICER, False)
        await a.shift_worker.start()
        await b.shift_worker.start()
        await until(lambda: len(sandbox.shifts(MDT)) == 1, 10, "the shift on Northca")
        await asyncio.sleep(0.3)
        [remote] = sandbox.shifts(MDT)
        assert remote["id"] == shift.id and remote["duration_ms"] == left_ms - shift.started_ms
        await until(lambda: _units(sandbox) == {"1A-12": "10-7", "1A-13": "10-7"}, 5, "10-7 after the leave")
    finally:
        for process in (a, b):
            await process.shift_worker.stop()
            await process.coalescer.stop()
            await process.settings.stop()
            await process.shifts.drain()
        await other_db.close()


def _claimed(db: Database, before: int) -> Any:
    async def check() -> bool:
        return await claim_of(db) > before

    return check


def _units(sandbox: NorthcaSandbox) -> dict[str, str]:
    return {unit_id: str(unit["status"]) for unit_id, unit in sandbox.units(MDT).items()}
