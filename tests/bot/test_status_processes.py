"""Unit status with two bot processes on one database (sharded), each serving a server linked to the same MDT.

Each "process" is the bot's whole service graph (bot/ops/services.py, as NorthcaBot builds it, background services
started) on its own Database connection to one database; the Northca sandbox is shared over loopback."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from bot.core.sharding import shard_of
from bot.core.timefmt import now_ms
from bot.core.unit_status import UnitStatusStore
from bot.core.unit_status.order import UnitSendOrder
from bot.northca.client import NorthcaClient
from bot.northca.sandbox import NorthcaSandbox
from bot.ops.services import Services, build_services
from bot.storage import Database
from tests.helpers.bot import link_guild_in, make_config
from tests.helpers.ids import GUILD, MDT, OFFICER, OTHER

# A second server, on the other shard of two (GUILD is on shard 1), linked to the same MDT as GUILD.
GUILD_ON_SHARD_0 = GUILD + (1 << 22)
HOUR_MS = 3_600_000
UNITS = "/units/active$"


@asynccontextmanager
async def bot_process(
    db_path: Path | str,
    sandbox: NorthcaSandbox,
    client: NorthcaClient,
    guild: int,
    clock: Callable[[], int] = now_ms,
    *,
    sharded: bool = True,
) -> AsyncIterator[Services]:
    """One bot process running the shard of `guild` (of two), with its background services; unsharded: the
    only process, serving every server."""
    discord: dict[str, object] = {"shard_count": 2, "shard_ids": [shard_of(guild, 2)]} if sharded else {}
    config = make_config(sandbox, db_path, discord=discord, status={"batch_window_ms": 30, "off_duty": "allow"})
    db = Database(db_path)
    await db.open()
    services = build_services(config, db, client, clock=clock)
    started = []
    try:
        for service in services.background:
            await service.start()
            started.append(service)
        yield services
    finally:
        for service in reversed(started):
            await service.stop()
        await db.close()


async def within(awaitable: Awaitable[object], seconds: float = 10.0) -> None:
    async with asyncio.timeout(seconds):
        await awaitable


def an_hour_behind() -> int:
    return now_ms() - HOUR_MS


async def test_callsign_released_in_one_server_and_taken_in_another_ends_on_the_new_owner_on_northca(
    db: Database, db_path: Path, sandbox: NorthcaSandbox, client: NorthcaClient
) -> None:
    await link_guild_in(db, sandbox, GUILD)
    await link_guild_in(db, sandbox, GUILD_ON_SHARD_0)
    # Process B's clock is an hour behind: versions must not care.
    async with (
        bot_process(db_path, sandbox, client, GUILD) as a,
        bot_process(db_path, sandbox, client, GUILD_ON_SHARD_0, clock=an_hour_behind) as b,
    ):
        await a.profiles.update(GUILD, OFFICER, callsign="ADAM-12", name="X-Ray")
        await a.unit_status.set_status(GUILD, OFFICER, "10-8", actor_id=OFFICER)
        assert await a.coalescer.flush()

        # X-Ray gives ADAM-12 up (out of service); process A's request is held on its way to Northca...
        held = sandbox.faults.hold(UNITS, method="PUT")
        await a.profiles.update(GUILD, OFFICER, callsign=None)
        await a.unit_status.refresh_profile(GUILD, OFFICER)
        await within(held.arrived.wait())
        # ... while Yankee takes ADAM-12 in the other server, served by process B.
        await b.profiles.update(GUILD_ON_SHARD_0, OTHER, callsign="ADAM-12", name="Yankee")
        taken = await b.unit_status.set_status(GUILD_ON_SHARD_0, OTHER, "10-8", actor_id=OTHER)
        # B's request is due: it waits for A's to finish (or, unordered, has been answered already).
        assert await b.coalescer.wait_until(lambda c: c.units_sent + c.turn_waits >= 1)
        held.release()
        assert await a.coalescer.flush() and await b.coalescer.flush()

        released = await a.unit_status.status_of(GUILD, OFFICER)
        assert released is not None and released.status == "10-7"
        assert taken.status.version > released.version  # taken later, in the process with the slow clock
        unit = sandbox.units(MDT)["ADAM-12"]
        assert (unit["officer_name"], unit["status"]) == ("Yankee", "10-8")
        # Still one request per MDT per window per process: A's two states, B's one.
        assert (a.coalescer.puts_sent, b.coalescer.puts_sent) == (2, 1)


async def test_older_state_resent_by_one_process_does_not_overwrite_a_newer_one_another_process_sent(
    db: Database, db_path: Path, sandbox: NorthcaSandbox, client: NorthcaClient
) -> None:
    """The other order: B's newer state reaches Northca first; A's older one, refused for a while and resent
    afterwards, must not land after it."""
    await link_guild_in(db, sandbox, GUILD)
    await link_guild_in(db, sandbox, GUILD_ON_SHARD_0)
    async with (
        bot_process(db_path, sandbox, client, GUILD, clock=an_hour_behind) as a,
        bot_process(db_path, sandbox, client, GUILD_ON_SHARD_0) as b,
    ):
        await a.profiles.update(GUILD, OFFICER, callsign="ADAM-12", name="X-Ray")
        await b.profiles.update(GUILD_ON_SHARD_0, OTHER, callsign="ADAM-12", name="Yankee")
        sandbox.unlink(GUILD, MDT)  # Northca refuses server A's unit updates for a while
        await a.unit_status.set_status(GUILD, OFFICER, "10-6", actor_id=OFFICER)
        assert await a.coalescer.flush() and a.coalescer.units_refused == 1
        await b.unit_status.set_status(GUILD_ON_SHARD_0, OTHER, "10-8", actor_id=OTHER)  # newer
        assert await b.coalescer.flush()
        sandbox.link(GUILD, MDT)
        await a.unit_status.resend_unsynced()  # the periodic pass
        assert await a.coalescer.flush()

        unit = sandbox.units(MDT)["ADAM-12"]
        assert (unit["officer_name"], unit["status"]) == ("Yankee", "10-8")
        # X-Ray's older state has nothing left to send: it does not wait for Northca forever.
        older = await a.unit_status.status_of(GUILD, OFFICER)
        assert older is not None and older.synced


async def test_unsent_states_are_resent_by_one_process_after_a_restart(
    db: Database, db_path: Path, sandbox: NorthcaSandbox, client: NorthcaClient
) -> None:
    await link_guild_in(db, sandbox, GUILD)
    await link_guild_in(db, sandbox, GUILD_ON_SHARD_0)
    sandbox.faults.add("500", times=1000, path=UNITS)  # Northca is down
    async with bot_process(db_path, sandbox, client, GUILD) as a:
        await a.profiles.update(GUILD, OFFICER, callsign="ADAM-12")
        await a.unit_status.set_status(GUILD, OFFICER, "10-97", actor_id=OFFICER)
        assert await a.coalescer.wait_until(lambda c: c.puts_failed >= 1)
    sandbox.faults.clear()  # Northca is back; both processes start again
    held = sandbox.faults.hold(UNITS, method="PUT")  # the first resend stays out until both have started
    async with (
        bot_process(db_path, sandbox, client, GUILD) as a,
        bot_process(db_path, sandbox, client, GUILD_ON_SHARD_0) as b,
    ):
        await within(held.arrived.wait())
        held.release()
        assert await a.coalescer.flush() and await b.coalescer.flush()
        state = await a.unit_status.status_of(GUILD, OFFICER)
        assert state is not None and state.synced
        assert sandbox.units(MDT)["ADAM-12"]["status"] == "10-97"
        assert a.coalescer.puts_sent + b.coalescer.puts_sent == 1


async def test_callsign_moved_between_two_servers_of_one_process_ends_on_the_new_owner_on_northca(
    db: Database, db_path: Path, sandbox: NorthcaSandbox, client: NorthcaClient
) -> None:
    """One process alone on its database, serving both servers: their requests to the MDT take turns too."""
    await link_guild_in(db, sandbox, GUILD)
    await link_guild_in(db, sandbox, GUILD_ON_SHARD_0)
    async with bot_process(db_path, sandbox, client, GUILD, sharded=False) as bot:
        await bot.profiles.update(GUILD, OFFICER, callsign="ADAM-12", name="X-Ray")
        await bot.unit_status.set_status(GUILD, OFFICER, "10-8", actor_id=OFFICER)
        assert await bot.coalescer.flush()
        held = sandbox.faults.hold(UNITS, method="PUT")
        await bot.profiles.update(GUILD, OFFICER, callsign=None)
        await bot.unit_status.refresh_profile(GUILD, OFFICER)
        await within(held.arrived.wait())
        await bot.profiles.update(GUILD_ON_SHARD_0, OTHER, callsign="ADAM-12", name="Yankee")
        await bot.unit_status.set_status(GUILD_ON_SHARD_0, OTHER, "10-8", actor_id=OTHER)
        assert await bot.coalescer.wait_until(lambda c: c.units_sent >= 2 or c.turn_waits >= 1)
        held.release()
        assert await bot.coalescer.flush()
        unit = sandbox.units(MDT)["ADAM-12"]
        assert (unit["officer_name"], unit["status"]) == ("Yankee", "10-8")


async def test_mdt_turn_of_a_process_that_died_while_sending_is_taken_over_once_it_stops_beating(
    db: Database, db_path: Path
) -> None:
    short = 200  # ms: the lease time of the turn, short so the test does not wait long
    dead = UnitSendOrder(UnitStatusStore(db, shared=True), shared=True, ttl_ms=short)
    name = f"unit-status:{MDT}"
    # It took the MDT's turn and was SIGKILLed with its request out: no beats, never given up.
    assert (await dead.store.take_turn(name, dead.holder, None))[0]
    other = Database(db_path)
    await other.open()
    try:
        alive = UnitSendOrder(UnitStatusStore(other, shared=True), shared=True, ttl_ms=short)
        waited: list[str] = []

        async def waiting() -> None:
            waited.append(MDT)

        async with asyncio.timeout(10), alive.turn(MDT, waiting):
            held, (holder, _) = await dead.store.take_turn(name, dead.holder, None)
            assert not held and holder == alive.holder
        assert waited == [MDT]
        # Given up after the request: the next sender takes it at once.
        assert (await dead.store.take_turn(name, "next-sender", None))[0]
    finally:
        await other.close()
