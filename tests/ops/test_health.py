"""A health endpoint and `northca-bot health` report gateway, database, outbox and Northca;
an old outbox is logged as a warning."""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import urllib.error
import urllib.request
import uuid

import pytest

from bot.core.links import LinkStore
from bot.core.shifts import ShiftStore, now_ms
from bot.ops.health import HealthMonitor, NorthcaSuccessClock
from bot.storage import Database
from tests.harness import builders
from tests.helpers.dispatch import dispatch_ready
from tests.helpers.ids import ADMIN, ADMIN_PERMS, GUILD, MDT, OFFICER, OFFICER_M, OTHER, OWNER
from tests.helpers.waiting import until
from tests.ops.botproc import run_bot

pytestmark = pytest.mark.asyncio

TWO_HOURS_MS = 2 * 3_600_000


async def get_json(url: str) -> tuple[int, dict]:
    def fetch() -> tuple[int, dict]:
        try:
            with urllib.request.urlopen(url, timeout=10) as resp:
                return resp.status, json.loads(resp.read())
        except urllib.error.HTTPError as err:
            return err.code, json.loads(err.read())

    return await asyncio.to_thread(fetch)


async def test_health_reports_old_outbox_database_and_last_northca_success(start_bot, sandbox, caplog):
    h = await start_bot(health={"port": 0, "outbox_warn_after_seconds": 600})
    assert h.bot.health is not None and h.bot.health.url
    # A link Northca does not know: the shift write is refused and the shift stays in the outbox.
    await LinkStore(h.bot.db).save_request(GUILD, MDT, "req-1", "approved", OWNER, ADMIN, None)
    store = ShiftStore(h.bot.db)
    started = now_ms() - TWO_HOURS_MS
    await store.insert_open(
        shift_id=str(uuid.uuid4()),
        guild_id=GUILD,
        member_id=OTHER,
        mdt_id=MDT,
        officer_name="Officer",
        officer_badge=None,
        department=None,
        callsign=None,
        started_ms=started,
    )
    await store.end_open(
        GUILD,
        OTHER,
        end_ms=started + 60_000,
        reason="member",
        ended_by=OTHER,
        note=None,
        status="completed",
        now=now_ms(),
    )
    admin = builders.member(ADMIN, permissions=ADMIN_PERMS, username="admin")
    await (await h.slash("link", member=admin, guild_id=GUILD)).final()  # one successful Northca call

    status, body = await get_json(h.bot.health.url)
    assert status == 503 and body["healthy"] is False
    assert body["gateway_connected"] is False  # the offline harness has no gateway
    assert body["database_writable"] is True
    assert body["outbox_depth"] == 1 and body["oldest_unsynced_age_seconds"] > 7000
    assert body["seconds_since_northca_success"] is not None and body["seconds_since_northca_success"] < 600
    assert "gateway not connected" in body["problems"]

    result = await run_bot("health", "--url", h.bot.health.url)
    assert result.returncode == 1
    assert result.stderr.strip().startswith("unhealthy: gateway not connected; oldest unsynced shift is 11")

    caplog.clear()
    await h.bot.health.warn_if_outbox_old()
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and r.name == "bot.ops.health"]
    assert warnings and "1 shifts wait for Northca" in warnings[0].getMessage()


async def test_health_command_without_a_running_bot_says_so_in_one_line():
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]
        result = await run_bot("health", "--url", f"http://127.0.0.1:{port}/health")
    assert result.returncode == 1
    assert result.stderr.strip().startswith("unhealthy: no answer from the bot's health endpoint")
    assert len(result.stderr_lines) == 1


async def test_health_probe_never_rolls_back_a_concurrent_write(db_path):
    db = Database(db_path)
    await db.open()
    try:
        monitor = HealthMonitor(db, gateway_connected=lambda: True, northca=NorthcaSuccessClock("http://127.0.0.1:1"))
        store = LinkStore(db)
        writes = [store.save_request(GUILD + i, MDT, f"req-{i}", "approved", OWNER, ADMIN, None) for i in range(40)]
        reports = [monitor.report() for _ in range(10)]
        results = await asyncio.gather(
            *[x for pair in zip(reports, writes[:10], strict=False) for x in pair], *writes[10:]
        )
        assert all(r.database_writable for r in results if r is not None)
    finally:
        await db.close()
    check = Database(db_path)
    await check.open()
    try:
        rows = await check.fetchall("SELECT guild_id FROM guild_links")
    finally:
        await check.close()
    assert len(rows) == 40, "a health probe rolled back another coroutine's write"


async def test_health_outbox_depth_counts_a_panic_waiting_while_northca_is_down(start_bot, sandbox):
    h = await start_bot(health={"port": 0})
    assert h.bot.health is not None and h.bot.health.url
    await dispatch_ready(h, sandbox, {OFFICER: "ADAM-12"})
    sandbox.faults.add("500", times=1000, path="/panic$")
    ask = await h.slash("panic", member=OFFICER_M, guild_id=GUILD, location="Route 68")
    [confirm] = [c for c in ask.custom_ids if c.startswith("northca:dispatch:panic-ok:")]
    await (await h.click(confirm, member=OFFICER_M, message=ask)).final()
    await until(lambda: len([r for r in sandbox.requests if r.path.endswith("/panic")]) >= 1, 10, "a panic try")

    _, body = await get_json(h.bot.health.url)

    assert body["dispatch_outbox_depth"] == 1 and body["outbox_depth"] == 1
