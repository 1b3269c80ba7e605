"""bot/core/leave without Discord: dates in the guild's time zone, exactly-once role actions, the duty gate."""

from __future__ import annotations

import asyncio
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.config import Config
from bot.core.errors import Conflict, ErrorKind, InvalidInput
from bot.core.events import EventHub
from bot.core.leave import LeaveService, LeaveStore, LeaveWorker, RoleAction, parse_day
from bot.core.settings import SettingsService
from bot.core.timefmt import to_ms
from bot.ops.services import build_settings_service
from bot.storage import Database
from tests.helpers.clock import Clock
from tests.helpers.ids import ADMIN, GUILD, OFFICER, SUPERVISOR

WED = datetime(2025, 1, 15, 10, tzinfo=UTC)


@pytest.fixture
async def settings(db: Database) -> SettingsService:
    service = build_settings_service(Config(), db, EventHub())
    await service.load()
    return service


def test_dates_are_iso_days_or_today_or_tomorrow() -> None:
    today = date(2025, 1, 15)
    assert parse_day("today", today) == today
    assert parse_day(" Tomorrow ", today) == date(2025, 1, 16)
    assert parse_day("2025-02-01", today) == date(2025, 2, 1)
    with pytest.raises(InvalidInput) as refused:
        parse_day("01/02/2025", today)
    assert refused.value.kind is ErrorKind.LEAVE_NOT_A_DATE and refused.value.data == {
        "text": "01/02/2025",
        "today": today,
    }


async def test_leave_days_are_local_midnights_in_the_guilds_time_zone(db: Database, settings: SettingsService) -> None:
    await settings.set_shifts(GUILD, ADMIN, timezone="America/New_York")
    # 03:00 UTC on the 15th is still the 14th in New York: "today" is the 14th there.
    leave = await LeaveService(LeaveStore(db), settings, Clock(datetime(2025, 1, 15, 3, tzinfo=UTC))).request(
        GUILD, OFFICER, "today", "today", "appointment"
    )
    assert leave.start_ms == to_ms(datetime(2025, 1, 14, 5, tzinfo=UTC))
    assert leave.end_ms == to_ms(datetime(2025, 1, 15, 5, tzinfo=UTC))


async def test_role_is_given_and_taken_back_exactly_once_by_two_workers_on_one_database(
    db_path: Path, db: Database, settings: SettingsService
) -> None:
    clock = Clock(WED)
    first = LeaveService(LeaveStore(db), settings, clock)
    leave = await first.request(GUILD, OFFICER, "today", "2025-01-16", "exams")
    await first.decide(GUILD, leave.id, SUPERVISOR, approve=True)
    other_db = Database(db_path)  # another process on the same file
    await other_db.open()
    try:
        second = LeaveService(LeaveStore(other_db), settings, clock)
        gives = [*(await first.due_role_actions()), *(await second.due_role_actions())]
        assert [(a.kind, a.leave.id) for a in gives] == [("give", leave.id)]
        clock.set(WED + timedelta(days=2))
        takes = [*(await second.due_role_actions()), *(await first.due_role_actions())]
        assert [(a.kind, a.leave.id) for a in takes] == [("remove", leave.id)]
    finally:
        await other_db.close()


async def test_duty_gate_holds_back_only_during_approved_leave_when_the_server_blocks(
    db: Database, settings: SettingsService
) -> None:
    clock = Clock(WED)
    service = LeaveService(LeaveStore(db), settings, clock)
    leave = await service.request(GUILD, OFFICER, "tomorrow", "tomorrow", "trip")
    await settings.set_shifts(GUILD, ADMIN, leave_blocks_duty=True)
    clock.set(WED + timedelta(days=1))
    assert await service.blocking_reason(GUILD, OFFICER) is None  # pending is not leave yet
    await service.decide(GUILD, leave.id, SUPERVISOR, approve=True)
    refusal = await service.blocking_reason(GUILD, OFFICER)
    assert refusal is not None and refusal.kind is ErrorKind.ON_LEAVE and refusal.data["until_ms"] == leave.end_ms
    assert await service.blocking_reason(GUILD + 1, OFFICER) is None
    await settings.set_shifts(GUILD, ADMIN, leave_blocks_duty=False)
    assert await service.blocking_reason(GUILD, OFFICER) is None


async def test_overlapping_requests_at_once_from_three_processes_store_one_leave(
    db_path: Path, db: Database, settings: SettingsService
) -> None:
    clock = Clock(WED)
    others = [Database(db_path) for _ in range(2)]  # two more processes on the same database
    for other in others:
        await other.open()
    try:
        services = [LeaveService(LeaveStore(d), settings, clock) for d in (db, *others)]

        outcomes = await asyncio.gather(
            *(svc.request(GUILD, OFFICER, "2025-01-20", "2025-01-24", "exams") for svc in services),
            return_exceptions=True,
        )

        refused = [o for o in outcomes if isinstance(o, Conflict)]
        assert len(refused) == 2 and all(
            isinstance(r, Conflict) and (r.kind, r.data["status"]) == (ErrorKind.LEAVE_OVERLAPS, "pending")
            for r in refused
        ), outcomes
        assert len(await LeaveStore(db).listed(GUILD, 0, OFFICER)) == 1
        # Another member's leave on the same dates, and this member's on other dates, are not held back.
        await services[1].request(GUILD, OFFICER + 1, "2025-01-20", "2025-01-24", "exams")
        await services[2].request(GUILD, OFFICER, "2025-01-25", "2025-01-26", "trip")
        assert len(await LeaveStore(db).listed(GUILD, 0)) == 3
    finally:
        for other in others:
            await other.close()


async def test_the_on_leave_role_given_is_recorded_and_taken_back_whatever_the_setting_says_by_then(
    db: Database, settings: SettingsService
) -> None:
    from bot.core.settings.service import RoleFacts

    clock = Clock(WED)
    service = LeaveService(LeaveStore(db), settings, clock)
    await settings.set_role(GUILD, ADMIN, "on-leave", RoleFacts(9001, "On Leave"))
    recorded = await service.request(GUILD, OFFICER, "today", "today", "exams")
    await service.decide(GUILD, recorded.id, SUPERVISOR, approve=True)
    legacy = await service.request(GUILD, SUPERVISOR, "today", "today", "exams")
    await service.decide(GUILD, legacy.id, ADMIN, approve=True)
    gives = await service.due_role_actions()
    assert sorted((a.kind, a.leave.id, a.role_id) for a in gives) == sorted(
        [("give", recorded.id, 9001), ("give", legacy.id, 9001)]
    )
    # A leave given its role before migration 031 has nothing recorded.
    await db.execute("UPDATE leaves SET given_role_id = NULL, given_role_recorded = 0 WHERE id = ?", (legacy.id,))

    await settings.set_role(GUILD, ADMIN, "on-leave", RoleFacts(9002, "Away"))
    assert await service.due_role_actions() == []  # the new role is not given to who is already on leave
    clock.set(WED + timedelta(days=2))
    takes = {a.leave.id: (a.kind, a.role_id) for a in await service.due_role_actions()}
    assert takes == {recorded.id: ("remove", 9001), legacy.id: ("remove", 9002)}


class RecordedRoles:
    """A `RoleApplier` port (bot/core/ports.py): what the worker asked the front door to do."""

    def __init__(self) -> None:
        self.actions: list[RoleAction] = []

    async def apply_role(self, action: RoleAction) -> bool:
        self.actions.append(action)
        return True


async def test_without_its_port_the_leave_worker_claims_nothing_and_with_it_acts_once(
    db: Database, settings: SettingsService
) -> None:
    # The worker reaches the outside only through the port it was built with: without one (no front door that
    # can give a role), the due action stays due rather than being spent; the worker given the port does it once.
    clock = Clock(WED)
    service = LeaveService(LeaveStore(db), settings, clock)
    leave = await service.request(GUILD, OFFICER, "today", "tomorrow", "exams")
    await service.decide(GUILD, leave.id, SUPERVISOR, approve=True)
    assert await LeaveWorker(service).run_once() == 0
    roles = RecordedRoles()
    with_port = LeaveWorker(service, roles=roles)
    assert await with_port.run_once() == 1
    assert await with_port.run_once() == 0
    assert [(a.kind, a.leave.id) for a in roles.actions] == [("give", leave.id)]
