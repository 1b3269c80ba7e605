"""The dashboard's duty reads without a browser (bot/core/duty): the shift list (filters, keyset pages, one guild
only, voids shown), the weekly duty totals the chart draws (the leaderboard's own rule), officer names, and the
audit source stored with each change. Shifts are made by the real shift service on a real database."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.audit import acting_from
from bot.core.changes import ChangeNotices
from bot.core.config import ShiftConfig
from bot.core.duty import DutyService, DutyStore, period_for
from bot.core.duty.periods import recent_weeks
from bot.core.duty.records import DutyAdjusted, ShiftCursor, ShiftFilter
from bot.core.errors import InvalidInput
from bot.core.events import EventHub
from bot.core.leave import LeaveService, LeaveStore
from bot.core.leave.records import LeaveDecided
from bot.core.links import LinkService, LinkStore
from bot.core.profiles import ProfileStore
from bot.core.rosters import RosterService, RosterStore
from bot.core.rosters.records import RosterAssignmentChanged, TemplateDraft
from bot.core.settings.records import GuildSettings, StaticSettings
from bot.core.shifts import ShiftService
from bot.core.timefmt import to_ms
from bot.northca.client import NorthcaClient
from bot.ops.services import build_shift_service
from bot.storage import Database
from tests.bot.test_duty import worked
from tests.helpers.ids import ADMIN, GUILD, OFFICER, OTHER

UTC_ZONE = ZoneInfo("UTC")
MON = datetime(2025, 1, 13, 9, 0, tzinfo=UTC)  # a Monday
H = timedelta(hours=1)
OTHER_GUILD = 999999999999999999


@pytest.fixture
async def shifts(db: Database, client: NorthcaClient, linked: None) -> AsyncIterator[ShiftService]:
    svc = build_shift_service(
        db, LinkService(LinkStore(db), client), ProfileStore(db), client, ShiftConfig(max_shift_hours=72)
    )
    yield svc
    await svc.drain()


@pytest.fixture
def duty(db: Database) -> DutyService:
    return DutyService(DutyStore(db), clock=lambda: to_ms(MON + 24 * 7 * H))


async def test_shift_pages_walk_every_shift_once_newest_first_with_ties(
    shifts: ShiftService, duty: DutyService
) -> None:
    made = []
    for day in range(5):
        start = MON + day * 24 * H
        # Two members starting at the same millisecond: the id breaks the tie, so no page skips or repeats one.
        made.append(await worked(shifts, OFFICER, start, start + 2 * H, department="Patrol"))
        made.append(await worked(shifts, OTHER, start, start + 3 * H, department="Traffic"))
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        page = await duty.shift_page(GUILD, ShiftFilter(), cursor, limit=3)
        seen.extend(item.span.id for item in page.items)
        pages += 1
        if page.next_cursor is None:
            break
        cursor = ShiftCursor.parse(page.next_cursor.text())
    assert pages == 4
    assert len(seen) == len(set(seen)) == 10
    order = sorted(made, key=lambda s: (s.started_ms, s.id), reverse=True)
    assert seen == [s.id for s in order]


async def test_shift_filters_member_department_dates(shifts: ShiftService, duty: DutyService) -> None:
    for day in range(4):
        start = MON + day * 24 * H
        await worked(shifts, OFFICER, start, start + 2 * H, department="Patrol")
        await worked(shifts, OTHER, start + H, start + 3 * H, department="Traffic")
    mine = await duty.shift_page(GUILD, ShiftFilter(member_id=OFFICER))
    assert {i.span.member_id for i in mine.items} == {OFFICER} and len(mine.items) == 4
    traffic = await duty.shift_page(GUILD, ShiftFilter(department="Traffic"))
    assert {i.span.department for i in traffic.items} == {"Traffic"} and len(traffic.items) == 4
    tue_wed = ShiftFilter(start_ms=to_ms(MON + 24 * H - 9 * H), end_ms=to_ms(MON + 72 * H - 9 * H))
    days = await duty.shift_page(GUILD, tue_wed)
    assert sorted({i.span.started_ms for i in days.items}) == sorted(
        to_ms(MON + d * 24 * H + extra) for d in (1, 2) for extra in (timedelta(0), H)
    )
    both = await duty.shift_page(GUILD, ShiftFilter(member_id=OTHER, department="Patrol"))
    assert both.items == [] and both.next_cursor is None


async def test_shift_list_is_one_guild_only_and_shows_voids(shifts: ShiftService, duty: DutyService) -> None:
    shift = await worked(shifts, OFFICER, MON, MON + 2 * H)
    assert (await duty.shift_page(OTHER_GUILD, ShiftFilter())).items == []
    await duty.void_shift(GUILD, shift.id, "duplicate", ADMIN)
    [listed] = (await duty.shift_page(GUILD, ShiftFilter())).items
    assert listed.voided and listed.officer_name == f"m{OFFICER}" and listed.span.id == shift.id
    assert listed.span.ended_ms == to_ms(MON + 2 * H) and listed.end_reason == "member"


def test_cursor_from_a_url_is_checked() -> None:
    assert ShiftCursor.parse("1736758800000.0c7f6a0c-2c4f") == ShiftCursor(1736758800000, "0c7f6a0c-2c4f")
    for bad in ("", "abc", "1.", ".x", "1.a b", "1." + "x" * 65, "9" * 16 + ".a", "1.a'--"):
        with pytest.raises(InvalidInput):
            ShiftCursor.parse(bad)


async def test_weekly_totals_are_the_leaderboards(shifts: ShiftService, duty: DutyService) -> None:
    # Shifts crossing the week boundary (Sunday 22:00 to Monday 04:00 and 02:00) count on both sides, as on the board.
    await worked(shifts, OFFICER, MON, MON + 2 * H)
    await worked(shifts, OTHER, MON + 6 * 24 * H + 13 * H, MON + 7 * 24 * H - 5 * H)
    await worked(shifts, OFFICER, MON + 7 * 24 * H - 11 * H, MON + 7 * 24 * H - 7 * H)
    await duty.add_time(GUILD, OTHER, 3600_000, "court", ADMIN)  # made "now": the next week
    now = to_ms(MON + 7 * 24 * H + 12 * H)
    weeks = recent_weeks(now, UTC_ZONE, 0, 3)
    assert [w[0] for w in weeks] == [date(2025, 1, 6), date(2025, 1, 13), date(2025, 1, 20)]
    found = await duty.weekly(GUILD, weeks, now=now)
    this_week = period_for("this_week", now, UTC_ZONE, 0)
    last_week = period_for("last_week", now, UTC_ZONE, 0)
    board_now = sum(m.duty_ms for m in await duty.leaderboard(GUILD, this_week, now=now))
    board_last = sum(m.duty_ms for m in await duty.leaderboard(GUILD, last_week, now=now))
    assert [w.duty_ms for w in found] == [0, board_last, board_now]
    assert board_last == (2 + 2 + 2) * 3600_000 and board_now == (4 + 2 + 1) * 3600_000
    officer = await duty.weekly(GUILD, weeks, member_id=OFFICER, now=now)
    assert [w.duty_ms for w in officer] == [0, 4 * 3600_000, 2 * 3600_000]


async def test_member_names_are_the_latest_shift_names_of_this_guild(shifts: ShiftService, duty: DutyService) -> None:
    await shifts.start(GUILD, OFFICER, display_name="Old Name", at=MON)
    await shifts.end(GUILD, OFFICER, at=MON + H)
    await shifts.start(GUILD, OFFICER, display_name="New <b>Name</b>", at=MON + 2 * H)
    await shifts.end(GUILD, OFFICER, at=MON + 3 * H)
    assert await duty.member_names(GUILD, [OFFICER, OTHER]) == {OFFICER: "New <b>Name</b>"}
    assert await duty.member_names(OTHER_GUILD, [OFFICER]) == {}


async def test_each_change_is_published_with_where_it_was_made(db: Database, shifts: ShiftService) -> None:
    """The hub's `changes` topic (the shift log in Discord follows it): each service publishes its audited change,
    with the front door it came from (the dashboard marks its requests with `acting_from`)."""
    events = EventHub()
    seen: list[object] = []

    async def keep(change: object) -> None:
        seen.append(change)

    events.changes.subscribe(keep)
    changes = ChangeNotices(events.changes)
    duty = DutyService(DutyStore(db), clock=lambda: to_ms(MON), changes=changes)
    with acting_from("dashboard"):
        web = await duty.add_time(GUILD, OFFICER, 60_000, "court", ADMIN)
    bot = await duty.subtract_time(GUILD, OFFICER, 60_000, "typo", ADMIN)
    leave = LeaveService(LeaveStore(db), StaticSettings(GuildSettings(0)), clock=lambda: to_ms(MON), changes=changes)
    asked = await leave.request(GUILD, OFFICER, "2025-01-20", "2025-01-21", "exams")
    with acting_from("dashboard"):
        decided = await leave.decide(GUILD, asked.id, ADMIN, approve=True)
    rosters = RosterService(RosterStore(db), clock=lambda: to_ms(MON), changes=changes)
    template = await rosters.create(GUILD, ADMIN, TemplateDraft("Morning", None, 480, 240))
    with acting_from("dashboard"):
        await rosters.assign(GUILD, ADMIN, template.id, "member", OFFICER)
        assert not await rosters.assign(GUILD, ADMIN, template.id, "member", OFFICER)  # unchanged: nothing published
    await changes.drain()
    assert seen == [
        DutyAdjusted(GUILD, web, "dashboard"),
        DutyAdjusted(GUILD, bot, "discord"),
        LeaveDecided(GUILD, decided, ADMIN, "dashboard"),
        RosterAssignmentChanged(GUILD, ADMIN, template, "member", OFFICER, True, "dashboard"),
    ]
