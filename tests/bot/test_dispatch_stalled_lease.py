"""The dispatch outbox is sent by one process of all, under a 15 s lease. A holder starved past it (more bot
processes than cores) may still have an entry's request out when its successor sends the same entry. Northca keeps
one record (the id is the bot's); the stalled process's late failure must not make the sent entry pending again.

Two "processes": two services on their own Database connections to the same file (or PostgreSQL database)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from bot.northca.client import NorthcaClient
from bot.northca.models import CreateTicketBody
from bot.northca.sandbox import NorthcaSandbox
from bot.ops.services import build_services
from bot.storage import Database
from tests.helpers.bot import make_config
from tests.helpers.dispatch import dispatch_service
from tests.helpers.ids import GUILD, MDT, OFFICER

pytestmark = pytest.mark.asyncio


async def test_a_stalled_outbox_holders_late_failure_does_not_make_its_successors_sent_entry_pending_again(
    db: Database, db_path: Path, sandbox: NorthcaSandbox, client: NorthcaClient
) -> None:
    stalled = await dispatch_service(db, db_path, sandbox, client)
    successor_db = Database(db_path)
    await successor_db.open()
    try:
        successor = build_services(make_config(sandbox, db_path), successor_db, client).dispatch
        record_id = await stalled.create_ticket(GUILD, OFFICER, CreateTicketBody(title="t", description="d"))
        # The stalled holder's request is out but has not reached Northca yet...
        held = sandbox.faults.hold("/tickets$", method="POST")
        late = asyncio.create_task(stalled.process_due())
        async with asyncio.timeout(10):
            await held.arrived.wait()
        # ...when its lease runs out: the successor sends the entry.
        assert await successor.process_due() == 1
        assert (await successor.entry(record_id)).state == "sent"  # type: ignore[union-attr]
        held.release()  # the late request reaches Northca: refused, the id is taken
        await late

        entry = await successor.entry(record_id)
        assert entry is not None and entry.state == "sent"
        assert await successor.process_due() == 0  # nothing is sent again
        assert [t["id"] for t in sandbox.dispatch_records("tickets", MDT)] == [record_id]
    finally:
        await successor_db.close()
