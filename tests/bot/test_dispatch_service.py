"""The dispatch rules without Discord: the service built as the bot builds it, a real SQLite file and the
sandbox over loopback; the outbox is driven pass by pass (`process_due`) instead of by its background loop."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime

import pytest

from bot.core.dispatch import DispatchService
from bot.core.dispatch.records import report_when
from bot.core.errors import Conflict, ErrorKind, InvalidInput
from bot.northca.models import CreateTicketBody
from bot.ops.services import build_services
from bot.storage import Database
from tests.helpers.bot import make_config
from tests.helpers.clock import Clock
from tests.helpers.dispatch import dispatch_service
from tests.helpers.ids import GUILD, MDT, OFFICER

pytestmark = pytest.mark.asyncio


def patches(sandbox) -> list[dict]:
    return [json.loads(r.body) for r in sandbox.requests if r.method == "PATCH"]


async def new_call(svc: DispatchService) -> str:
    call = await svc.create_call(
        GUILD, OFFICER, classification="10-50", description="collision", location="Main", priority="P1", call_type="x"
    )
    assert await svc.process_due() == 1
    return call.id


async def test_twenty_concurrent_attaches_all_end_in_units_assigned(db, db_path, sandbox, client):
    svc = await dispatch_service(db, db_path, sandbox, client, officers=20)
    call_id = await new_call(svc)

    await asyncio.gather(*(svc.attach(GUILD, call_id, OFFICER + i) for i in range(20)))
    await svc.process_due()

    expected = sorted(f"UNIT-{i}" for i in range(20))
    assert sorted((await svc.call(GUILD, call_id)).units) == expected
    assert sorted(sandbox.calls(MDT)[0]["units_assigned"]) == expected
    assert (await svc.call(GUILD, call_id)).synced


async def test_a_later_change_supersedes_an_unsent_one(db, db_path, sandbox, client):
    svc = await dispatch_service(db, db_path, sandbox, client)
    call_id = await new_call(svc)

    await svc.attach(GUILD, call_id, OFFICER)
    await svc.detach(GUILD, call_id, OFFICER)
    await svc.process_due()

    # One PATCH, with the newest full state; the attach in between was never sent on its own.
    assert [p["units_assigned"] for p in patches(sandbox)] == [[]]
    assert sandbox.calls(MDT)[0]["units_assigned"] == []


async def test_a_refused_ticket_is_failed_and_never_sent_again(db, db_path, sandbox, client):
    svc = await dispatch_service(db, db_path, sandbox, client)
    sandbox.faults.add("error", times=1, path="/tickets$", status=400, message="Invalid title")
    record_id = await svc.create_ticket(GUILD, OFFICER, CreateTicketBody(title="t", description="d"))
    await svc.process_due()
    entry = await svc.entry(record_id)
    assert entry is not None and (entry.state, entry.error) == ("failed", "Invalid title")
    assert await svc.process_due() == 0
    assert sandbox.dispatch_records("tickets", MDT) == []


async def test_a_ticket_whose_first_answer_was_lost_is_sent_again_with_the_same_id_only(db, db_path, sandbox, client):
    svc = await dispatch_service(db, db_path, sandbox, client)
    sandbox.faults.add("500", times=1, path="/tickets$")  # refused before writing: the retry writes it
    svc.retry_base_ms = 0
    record_id = await svc.create_ticket(GUILD, OFFICER, CreateTicketBody(title="t", description="d"))
    await svc.process_due()
    assert (await svc.entry(record_id)).state == "pending"  # type: ignore[union-attr]
    await svc.process_due()
    assert (await svc.entry(record_id)).state == "sent"  # type: ignore[union-attr]
    assert [t["id"] for t in sandbox.dispatch_records("tickets", MDT)] == [record_id]


async def test_a_blank_report_date_is_now_in_the_guilds_time_zone():
    now = datetime(2026, 11, 29, 3, 5, tzinfo=UTC)
    assert report_when("", "America/New_York", now) == ("2026-11-28", "22:05")
    assert report_when("2026-02-03 7:09", "UTC", now) == ("2026-02-03", "07:09")
    for bad in ("2026-02-30", "2026-01-01 24:00", "soon"):
        with pytest.raises(InvalidInput):
            report_when(bad, "UTC", now)


async def test_panics_pressed_at_once_in_four_processes_store_one_panic(db, db_path, sandbox, client):
    """Four processes (a service graph and a database connection each) record the same officer's panic at the
    same moment: the database lets one through, the others are told the alert is out."""
    first = await dispatch_service(db, db_path, sandbox, client)
    others = [Database(db_path) for _ in range(3)]
    for other in others:
        await other.open()
    try:
        services = [first, *(build_services(make_config(sandbox, db_path), o, client).dispatch for o in others)]
        clock = Clock(1_800_000_000_000)
        for svc in services:
            svc.clock = clock

        outcomes = await asyncio.gather(
            *(svc.panic(GUILD, OFFICER, "Route 68") for svc in services), return_exceptions=True
        )

        refused = [o for o in outcomes if isinstance(o, Conflict)]
        assert len(refused) == 3 and all(
            isinstance(r, Conflict) and r.kind is ErrorKind.PANIC_COOLING_DOWN for r in refused
        ), outcomes
        stored = await db.fetchall(
            "SELECT id FROM dispatch_panics WHERE guild_id = ? AND member_id = ?", (GUILD, OFFICER)
        )
        assert len(stored) == 1
        # The cooldown runs from the panic that went through: a minute later the officer may press again.
        clock.advance(60)
        await services[2].panic(GUILD, OFFICER, None)
        assert len(await db.fetchall("SELECT id FROM dispatch_panics WHERE member_id = ?", (OFFICER,))) == 2
    finally:
        for other in others:
            await other.close()


async def test_attaches_at_once_from_four_processes_all_end_in_units_assigned(db, db_path, sandbox, client):
    """A call's change is read, merged and written back in one transaction; on PostgreSQL transactions of other
    processes run side by side, so without a lock two merges from the same state would lose one unit."""
    first = await dispatch_service(db, db_path, sandbox, client, officers=16)
    call_id = await new_call(first)
    others = [Database(db_path) for _ in range(3)]
    for other in others:
        await other.open()
    try:
        services = [first, *(build_services(make_config(sandbox, db_path), o, client).dispatch for o in others)]

        await asyncio.gather(*(services[i % 4].attach(GUILD, call_id, OFFICER + i) for i in range(16)))

        expected = sorted(f"UNIT-{i}" for i in range(16))
        assert sorted((await first.call(GUILD, call_id)).units) == expected
        await first.process_due()
        assert sorted(sandbox.calls(MDT)[0]["units_assigned"]) == expected
    finally:
        for other in others:
            await other.close()
