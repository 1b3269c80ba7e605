"""/shift start without a read of the open shift before its insert: an officer already on duty is still told so
first, also when the server's leave rule would refuse the start (bot/core/shifts/service.py)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from bot.core.config import Config
from bot.core.errors import Conflict, ErrorKind
from bot.core.events import EventHub
from bot.core.leave import LeaveService, LeaveStore
from bot.northca.client import NorthcaClient
from bot.ops.services import build_settings_service
from bot.storage import Database
from tests.helpers.clock import Clock
from tests.helpers.ids import ADMIN, GUILD, OFFICER, SUPERVISOR
from tests.helpers.shifts import make_service


async def test_an_officer_on_duty_and_on_leave_is_told_they_are_on_duty(
    db: Database, client: NorthcaClient, linked: None
) -> None:
    service = make_service(db, client)
    first = await service.start(GUILD, OFFICER, display_name="A")
    settings = build_settings_service(Config(), db, EventHub())
    await settings.load()
    leave = LeaveService(LeaveStore(db), settings, Clock(datetime.now(UTC)))
    taken = await leave.request(GUILD, OFFICER, "today", "today", "appointment")
    await leave.decide(GUILD, taken.id, SUPERVISOR, approve=True)
    await settings.set_shifts(GUILD, ADMIN, leave_blocks_duty=True)
    service.duty_gate = leave

    with pytest.raises(Conflict) as on_duty:
        await service.start(GUILD, OFFICER, display_name="A")
    assert on_duty.value.kind is ErrorKind.ALREADY_ON_DUTY and on_duty.value.data == {"started_ms": first.started_ms}
    await service.end(GUILD, OFFICER)
    with pytest.raises(Conflict) as on_leave:  # off duty now: the leave rule is what holds it back
        await service.start(GUILD, OFFICER, display_name="A")
    assert on_leave.value.kind is ErrorKind.ON_LEAVE
    assert on_leave.value.data == {"until_ms": taken.end_ms, "leave_id": taken.id}
    assert await service.open_shift(GUILD, OFFICER) is None and first.id
    await service.drain()
