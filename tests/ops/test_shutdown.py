"""SIGTERM / SIGINT shut a real bot process down gracefully: the in-flight Northca write finishes,
the database is closed cleanly, the process exits 0."""

from __future__ import annotations

import asyncio
import signal
import uuid
from pathlib import Path

import pytest
from discord.state import ConnectionState

from bot.core.links import LinkStore
from bot.core.shifts import ShiftStore, now_ms
from bot.discord.bot import RESTARTING
from bot.northca.sandbox import NorthcaSandbox
from bot.storage import Database
from tests.harness import builders
from tests.helpers.ids import ADMIN, ADMIN_M, GUILD, KEY, MDT, MEMBER_PERMS, OFFICER, OWNER
from tests.ops.botproc import DEADLINE, finish, spawn, write_config

pytestmark = pytest.mark.asyncio


async def seed_ended_shift(db_path: Path) -> str:
    """A linked server with one shift ended and awaiting sync, as a previous run left it."""
    db = Database(db_path)
    await db.open()
    try:
        await LinkStore(db).save_request(GUILD, MDT, "req-1", "approved", OWNER, ADMIN, None)
        store = ShiftStore(db)
        shift_id = str(uuid.uuid4())
        start = now_ms() - 3_600_000
        await store.insert_open(
            shift_id=shift_id,
            guild_id=GUILD,
            member_id=OFFICER,
            mdt_id=MDT,
            officer_name="Officer",
            officer_badge=None,
            department="Patrol",
            callsign=None,
            started_ms=start,
        )
        await store.end_open(
            GUILD,
            OFFICER,
            end_ms=start + 1_800_000,
            reason="member",
            ended_by=OFFICER,
            note=None,
            status="completed",
            now=now_ms(),
        )
    finally:
        await db.close()
    return shift_id


async def wait_until(condition, what: str, proc: asyncio.subprocess.Process) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE
    while not condition():
        if proc.returncode is not None:
            raise AssertionError(f"the bot exited ({proc.returncode}) before {what}")
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)


@pytest.mark.sqlite_only("checks the SQLite WAL file is gone after a clean close")
@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
async def test_signal_lets_in_flight_northca_write_finish_and_closes_database(
    tmp_path: Path, sandbox: NorthcaSandbox, fake_discord, signum: signal.Signals
):
    db_path = tmp_path / "bot.sqlite3"
    shift_id = await seed_ended_shift(db_path)
    sandbox.link(GUILD, MDT)
    sandbox.faults.latency = 2.0  # the write is still on its way when the signal arrives
    config = write_config(
        tmp_path / "config.toml",
        db_path,
        northca={"base_url": sandbox.base_url, "partner_key": KEY, "timeout_seconds": 10.0, "deadline_seconds": 20.0},
    )
    proc = await spawn("run", "--config", str(config), discord_api=fake_discord.base_url)
    try:
        await wait_until(
            lambda: any(r.method == "POST" and r.path.endswith("/shifts") for r in sandbox.requests),
            "the shift write reached Northca",
            proc,
        )
        proc.send_signal(signum)
        result = await finish(proc)
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()

    assert result.returncode == 0, result.stderr
    assert f"{signum.name} received: shutting down" in result.stderr
    assert "shut down cleanly" in result.stderr
    assert [s["id"] for s in sandbox.shifts(MDT)] == [shift_id]
    assert not Path(f"{db_path}-wal").exists(), "the database was not closed cleanly"
    db = Database(db_path)
    await db.open()
    try:
        stored = await ShiftStore(db).get(shift_id)
    finally:
        await db.close()
    assert stored is not None and stored.synced_ms is not None


async def test_commands_during_shutdown_are_told_to_retry_instead_of_starting_work(start_bot, sandbox, db_path):
    h = await start_bot()
    await seed_link_and_pending_write(h.bot.db, sandbox)
    sandbox.faults.latency = 2.0  # the write is out while the bot shuts down
    h.bot.shifts.sync.wake.set()
    await wait_in_process(lambda: any(r.method == "POST" and r.path.endswith("/shifts") for r in sandbox.requests))
    closing = asyncio.create_task(h.bot.close())
    await wait_in_process(lambda: h.bot.shutting_down)
    member = builders.member(OFFICER, permissions=MEMBER_PERMS, username="officer")
    reply = await h.slash("shift", sub="start", member=member, guild_id=GUILD)
    assert reply.content == RESTARTING and reply.ephemeral
    await closing
    assert [s["officer_name"] for s in sandbox.shifts(MDT)] == ["Officer"]  # the write in flight finished
    db = Database(db_path)
    await db.open()
    try:
        assert await ShiftStore(db).open_for(GUILD, OFFICER) is None  # no shift was started
    finally:
        await db.close()


async def test_buttons_during_shutdown_are_told_to_retry_and_change_nothing(start_bot, sandbox):
    h = await start_bot()
    await h.slash("settings", sub="roster", member=ADMIN_M, reminder_minutes=45)
    asking = await h.slash("settings", sub="reset", member=ADMIN_M)
    sandbox.faults.latency = 2.0  # a service stopping keeps the bot in its shutdown a while
    await seed_link_and_pending_write(h.bot.db, sandbox)
    h.bot.shifts.sync.wake.set()
    await wait_in_process(lambda: any(r.method == "POST" and r.path.endswith("/shifts") for r in sandbox.requests))
    closing = asyncio.create_task(h.bot.close())
    await wait_in_process(lambda: h.bot.shutting_down)
    reply = await h.click("northca:settings:confirm:reset", message=asking, member=ADMIN_M)
    assert reply.content == RESTARTING and reply.ephemeral
    assert h.bot.settings.get(GUILD).roster_reminder_minutes == 45  # not reset
    await closing


async def test_shutdown_refusal_uses_discord_py_hooks_not_a_replaced_gateway_parser(start_bot):
    """The refusal lives in the command tree's `interaction_check` and the buttons' `guarded` wrapper: discord.py's
    INTERACTION_CREATE parser stays its own, so a discord.py release that renames it changes nothing here."""
    h = await start_bot()
    state = h.bot._connection
    assert "parse_interaction_create" not in vars(state)
    assert state.parsers["INTERACTION_CREATE"].__func__ is ConnectionState.parse_interaction_create


async def seed_link_and_pending_write(db: Database, sandbox: NorthcaSandbox) -> None:
    sandbox.link(GUILD, MDT)
    await LinkStore(db).save_request(GUILD, MDT, "req-1", "approved", OWNER, ADMIN, None)
    store = ShiftStore(db)
    start = now_ms() - 3_600_000
    await store.insert_open(
        shift_id=str(uuid.uuid4()),
        guild_id=GUILD,
        member_id=OFFICER,
        mdt_id=MDT,
        officer_name="Officer",
        officer_badge=None,
        department="Patrol",
        callsign=None,
        started_ms=start,
    )
    await store.end_open(
        GUILD,
        OFFICER,
        end_ms=start + 1_800_000,
        reason="member",
        ended_by=OFFICER,
        note=None,
        status="completed",
        now=now_ms(),
    )


async def wait_in_process(condition) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE
    while not condition():
        assert loop.time() < deadline, "timed out"
        await asyncio.sleep(0.02)
