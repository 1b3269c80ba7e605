"""Duty management without Discord (bot/core/duty): the one duty-time rule, adjustments, periods split at
their boundaries, leaderboard, activity report, the report's exactly-once claim and the CSV export.
Shifts are made by the real shift service on a real SQLite file (the guild linked on the sandbox)."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator, Sequence
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.core.config import ShiftConfig
from bot.core.duty import DutyService, DutyStore, Period, page_of, period_for
from bot.core.duty.periods import activity_period, last_ended_activity_period
from bot.core.duty.rule import duty_ms
from bot.core.duty.service import MAX_ADJUSTMENT_MS, REPORT_LEASE_MS
from bot.core.errors import Conflict, ErrorKind, InvalidInput
from bot.core.links import LinkService, LinkStore
from bot.core.profiles import ProfileStore
from bot.core.shifts import ShiftRecord, ShiftService
from bot.core.timefmt import now_ms, to_ms
from bot.northca.client import NorthcaClient
from bot.ops.services import build_shift_service
from bot.storage import Database
from tests.helpers.ids import ADMIN, GUILD, OFFICER, OTHER, THIRD

UTC_ZONE = ZoneInfo("UTC")
WED = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)  # a Wednesday
H = timedelta(hours=1)
M = timedelta(minutes=1)


@pytest.fixture
async def shifts(db: Database, client: NorthcaClient, linked: None) -> AsyncIterator[ShiftService]:
    svc = build_shift_service(
        db, LinkService(LinkStore(db), client), ProfileStore(db), client, ShiftConfig(max_shift_hours=72)
    )
    yield svc
    await svc.drain()


@pytest.fixture
def duty(db: Database) -> DutyService:
    return DutyService(DutyStore(db))


async def worked(
    svc: ShiftService,
    member: int,
    start: datetime,
    end: datetime | None,
    breaks: Sequence[tuple[datetime, datetime | None]] = (),
    department: str | None = None,
) -> ShiftRecord:
    """A shift made through the real service: start, each break on and off, end (None: left open)."""
    shift = await svc.start(GUILD, member, display_name=f"m{member}", department=department, at=start)
    for on, off in breaks:
        shift = await svc.toggle_break(GUILD, member, at=on)
        if off is not None:
            shift = await svc.toggle_break(GUILD, member, at=off)
    if end is not None:
        shift = await svc.end(GUILD, member, at=end)
    return shift


def utc_week(now: datetime, which: str = "this_week") -> Period:
    return period_for(which, to_ms(now), UTC_ZONE, 0)  # type: ignore[arg-type]


def rows_of(data: bytes) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(data.decode())))


# --- the one rule -----------------------------------------------------------------


async def test_status_leaderboard_activity_and_export_agree_to_the_second(
    shifts: ShiftService, duty: DutyService
) -> None:
    await worked(shifts, OFFICER, WED - 4 * H, WED - 2 * H + 17 * M, [(WED - 3 * H, WED - 3 * H + 13 * M)])
    await worked(shifts, OFFICER, WED - 90 * H, WED - 88 * H)  # Sunday before: another week
    open_shift = await worked(shifts, OFFICER, WED - 1 * H, None, [(WED - 20 * M, None)])  # on break now
    status = await shifts.totals(GUILD, OFFICER, now=WED)
    week = utc_week(WED)

    board = await duty.leaderboard(GUILD, week, now=to_ms(WED))
    report = await duty.activity(GUILD, week, {OFFICER: [1]}, {1: 3_600_000}, set(), now=to_ms(WED))
    export = await duty.export_csv(GUILD, week, now=to_ms(WED))
    exported_s = sum(int(r["duty_s"]) for r in rows_of(export.data) if r["record"] == "shift")

    expected = (2 * 3600 + 17 * 60 - 13 * 60) + (40 * 60)  # ended: 2h17 − 13 min break; open: 1 h − 20 min break
    assert status.week_ms // 1000 == expected
    assert open_shift.duty_ms(to_ms(WED)) == duty_ms(to_ms(WED - H), to_ms(WED), 20 * 60_000)
    assert board[0].duty_ms // 1000 == report[0].duty_ms // 1000 == exported_s == expected
    assert board[0].open and report[0].open


# --- adjustments ------------------------------------------------------------------


async def test_adjustments_change_totals_and_are_listed_in_history(shifts: ShiftService, duty: DutyService) -> None:
    await worked(shifts, OFFICER, WED - 3 * H, WED - H)
    added = await duty.add_time(GUILD, OFFICER, 30 * 60_000, "  forgot to clock in  ", ADMIN)
    await duty.subtract_time(GUILD, OFFICER, 10 * 60_000, "long lunch", ADMIN)
    board = await duty.leaderboard(GUILD, Period("All time", None, None))
    assert board[0].duty_ms == 2 * 3_600_000 + 20 * 60_000

    history = await duty.history(GUILD, OFFICER)
    assert [(a.kind, a.amount_ms, a.reason, a.actor_id) for a in history] == [
        ("subtract", 600_000, "long lunch", ADMIN),
        ("add", 1_800_000, "forgot to clock in", ADMIN),
    ]
    assert added.signed_ms == 1_800_000 and history[0].signed_ms == -600_000


@pytest.mark.parametrize(
    ("amount_ms", "reason", "kind", "data"),
    [
        (0, "x", ErrorKind.DURATION_TOO_SHORT, {}),
        (-60_000, "x", ErrorKind.DURATION_TOO_SHORT, {}),
        (MAX_ADJUSTMENT_MS + 1, "x", ErrorKind.ADJUSTMENT_TOO_LARGE, {"most_ms": MAX_ADJUSTMENT_MS}),
        (60_000, "   ", ErrorKind.REASON_MISSING, {}),
        (60_000, "r" * 301, ErrorKind.REASON_TOO_LONG, {"length": 301, "most": 300}),
    ],
)
async def test_bad_adjustment_is_refused_with_what_to_do_and_stores_nothing(
    db: Database, duty: DutyService, amount_ms: int, reason: str, kind: ErrorKind, data: dict[str, int]
) -> None:
    with pytest.raises(InvalidInput) as refused:
        await duty.add_time(GUILD, OFFICER, amount_ms, reason, ADMIN)
    assert refused.value.kind is kind and refused.value.data == data
    assert await duty.history(GUILD, OFFICER) == []


async def test_voided_shift_is_kept_but_counted_nowhere(shifts: ShiftService, duty: DutyService) -> None:
    bad = await worked(shifts, OFFICER, WED - 5 * H, WED - 4 * H)
    await worked(shifts, OFFICER, WED - 3 * H, WED - 2 * H)
    await duty.void_shift(GUILD, bad.id, "clocked in by mistake", ADMIN)

    assert (await duty.leaderboard(GUILD, utc_week(WED), now=to_ms(WED)))[0].duty_ms == 3_600_000
    assert (await shifts.totals(GUILD, OFFICER, now=WED)).week_ms == 3_600_000
    kept = await shifts.store.get(bad.id)
    assert kept is not None and kept.duration_ms == 3_600_000
    rows = {r["shift_id"]: r for r in rows_of((await duty.export_csv(GUILD, utc_week(WED), now=to_ms(WED))).data)
            if r["record"] == "shift"}  # fmt: skip
    assert rows[bad.id]["voided"] == "1"
    with pytest.raises(Conflict) as again:
        await duty.void_shift(GUILD, bad.id, "again", ADMIN)
    assert again.value.kind is ErrorKind.SHIFT_ALREADY_VOIDED


async def test_void_refuses_open_or_unknown_or_other_guilds_shift(shifts: ShiftService, duty: DutyService) -> None:
    open_shift = await worked(shifts, OFFICER, datetime.now(UTC) - H, None)
    with pytest.raises(Conflict) as still_open:
        await duty.void_shift(GUILD, open_shift.id, "x", ADMIN)
    assert still_open.value.kind is ErrorKind.SHIFT_STILL_OPEN
    with pytest.raises(InvalidInput) as other_guild:
        await duty.void_shift(GUILD + 1, open_shift.id, "x", ADMIN)
    assert other_guild.value.kind is ErrorKind.NO_SUCH_SHIFT and other_guild.value.data == {"shift_id": open_shift.id}
    with pytest.raises(InvalidInput) as unknown:
        await duty.void_shift(GUILD, "nope", "x", ADMIN)
    assert unknown.value.kind is ErrorKind.NO_SUCH_SHIFT and unknown.value.data == {"shift_id": "nope"}


# --- periods and splitting --------------------------------------------------------


async def test_shift_crossing_week_boundary_is_split_with_each_break_on_its_side(
    shifts: ShiftService, duty: DutyService
) -> None:
    monday = datetime(2025, 1, 20, tzinfo=UTC)
    shift = await worked(shifts, OFFICER, monday - 2 * H, monday + 2 * H, [(monday - H, monday - 30 * M)])
    now = monday + 10 * H
    last = (await duty.totals(GUILD, utc_week(now, "last_week"), now=to_ms(now)))[OFFICER].duty_ms
    this = (await duty.totals(GUILD, utc_week(now), now=to_ms(now)))[OFFICER].duty_ms
    assert (last, this) == (90 * 60_000, 2 * 3_600_000)
    assert last + this == shift.duration_ms


async def test_old_shift_without_break_intervals_is_split_proportionally(
    db: Database, shifts: ShiftService, duty: DutyService
) -> None:
    monday = datetime(2025, 1, 20, tzinfo=UTC)
    await worked(shifts, OFFICER, monday - 2 * H, monday + 2 * H, [(monday - H, monday - 30 * M)])
    await db.execute("DELETE FROM shift_breaks")  # as a shift recorded before intervals existed
    now = monday + 10 * H
    last = (await duty.totals(GUILD, utc_week(now, "last_week"), now=to_ms(now)))[OFFICER].duty_ms
    this = (await duty.totals(GUILD, utc_week(now), now=to_ms(now)))[OFFICER].duty_ms
    assert (last, this) == (105 * 60_000, 105 * 60_000)


async def test_shift_crossing_month_boundary_is_split_in_guild_time_zone(
    shifts: ShiftService, duty: DutyService
) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    midnight = datetime(2025, 2, 1, tzinfo=berlin)  # 23:00 UTC on Jan 31
    await worked(shifts, OFFICER, midnight - H, midnight + 3 * H)
    now = to_ms(midnight + 5 * H)
    this = await duty.totals(GUILD, period_for("this_month", now, berlin, 0), now=now)
    last = await duty.totals(GUILD, period_for("last_month", now, berlin, 0), now=now)
    assert (last[OFFICER].duty_ms, this[OFFICER].duty_ms) == (3_600_000, 3 * 3_600_000)


async def test_dst_week_in_new_york_runs_local_midnight_to_local_midnight(
    shifts: ShiftService, duty: DutyService
) -> None:
    ny = ZoneInfo("America/New_York")
    monday = datetime(2025, 3, 10, tzinfo=ny)  # clocks went forward on Sunday March 9
    await worked(shifts, OFFICER, monday - 2 * H, monday + H)
    now = to_ms(monday + 6 * H)
    last = period_for("last_week", now, ny, 0)
    assert last.start_ms is not None and last.end_ms is not None
    assert last.end_ms - last.start_ms == 167 * 3_600_000
    assert last.end_ms == to_ms(monday)
    split = [
        (await duty.totals(GUILD, p, now=now))[OFFICER].duty_ms for p in (last, period_for("this_week", now, ny, 0))
    ]
    assert split == [2 * 3_600_000, 3_600_000]


def test_weeks_start_on_the_guilds_week_start_and_biweekly_periods_follow_their_anchor() -> None:
    wed = to_ms(WED)
    sunday_week = period_for("this_week", wed, UTC_ZONE, 6)
    assert sunday_week.start_ms == to_ms(datetime(2025, 1, 12, tzinfo=UTC))
    anchored = activity_period(wed, "biweekly", UTC_ZONE, 0, date(2025, 1, 6))
    assert (anchored.start_ms, anchored.end_ms) == (
        to_ms(datetime(2025, 1, 6, tzinfo=UTC)),
        to_ms(datetime(2025, 1, 20, tzinfo=UTC)),
    )
    shifted = activity_period(wed, "biweekly", UTC_ZONE, 0, date(2025, 1, 13))
    assert shifted.start_ms == to_ms(datetime(2025, 1, 13, tzinfo=UTC))
    ended = last_ended_activity_period(wed, "monthly", UTC_ZONE, 0)
    assert ended.start_ms == to_ms(datetime(2024, 12, 1, tzinfo=UTC))


async def test_open_shift_counts_up_to_now_minus_running_break_and_is_marked(
    shifts: ShiftService, duty: DutyService
) -> None:
    await worked(shifts, OFFICER, WED - 2 * H, None, [(WED - 30 * M, None)])
    board = await duty.leaderboard(GUILD, utc_week(WED), now=to_ms(WED))
    assert [(b.member_id, b.duty_ms, b.open) for b in board] == [(OFFICER, 90 * 60_000, True)]


async def test_open_shift_crossing_week_start_counts_in_both_weeks_up_to_now(
    shifts: ShiftService, duty: DutyService
) -> None:
    monday = datetime(2025, 1, 20, tzinfo=UTC)
    await worked(shifts, OFFICER, monday - H, None, [(monday + 30 * M, None)])  # on break since 00:30
    now = to_ms(monday + H)
    last = (await duty.totals(GUILD, utc_week(monday + H, "last_week"), now=now))[OFFICER]
    this = (await duty.totals(GUILD, utc_week(monday + H), now=now))[OFFICER]
    assert (last.duty_ms, last.open, this.duty_ms, this.open) == (3_600_000, True, 30 * 60_000, True)


# --- leaderboard and activity ------------------------------------------------------


async def test_leaderboard_orders_by_duty_and_filters_by_department(shifts: ShiftService, duty: DutyService) -> None:
    await worked(shifts, OFFICER, WED - 10 * H, WED - 9 * H, department="Patrol")
    await worked(shifts, OTHER, WED - 10 * H, WED - 7 * H, department="Traffic")
    await worked(shifts, THIRD, WED - 10 * H, WED - 8 * H, department="Patrol")
    await duty.add_time(GUILD, OFFICER, 5 * 3_600_000, "court duty", ADMIN)
    everyone = await duty.leaderboard(GUILD, Period("All time", None, None))
    assert [b.member_id for b in everyone] == [OFFICER, OTHER, THIRD]
    patrol = await duty.leaderboard(GUILD, utc_week(WED), department="Patrol", now=to_ms(WED))
    assert [(b.member_id, b.duty_ms) for b in patrol] == [(THIRD, 2 * 3_600_000), (OFFICER, 3_600_000)]
    page = page_of(everyone, 5, 2)
    assert (page.number, page.pages, [b.member_id for b in page.items]) == (1, 2, [THIRD])


async def test_activity_report_shows_quota_met_not_met_and_on_leave(shifts: ShiftService, duty: DutyService) -> None:
    await worked(shifts, OFFICER, WED - 10 * H, WED - 6 * H)
    await worked(shifts, OTHER, WED - 10 * H, WED - 9 * H)
    roles = {OFFICER: [1, 2], OTHER: [1], THIRD: [2], 777: [99]}
    quotas = {1: 2 * 3_600_000, 2: 4 * 3_600_000}
    lines = await duty.activity(GUILD, utc_week(WED), roles, quotas, {THIRD}, now=to_ms(WED))
    got = [(line.member_id, line.duty_ms // 3_600_000, line.quota_ms // 3_600_000, line.met, line.on_leave)
           for line in lines]  # fmt: skip
    assert got == [(OTHER, 1, 2, False, False), (OFFICER, 4, 4, True, False), (THIRD, 0, 4, True, True)]


# --- activity report: exactly once -------------------------------------------------


async def test_activity_report_is_claimed_once_and_not_again_after_restart(db_path: Path) -> None:
    now = to_ms(WED)
    first = Database(db_path)
    await first.open()
    duty = DutyService(DutyStore(first))
    due = await duty.report_due(GUILD, "weekly", UTC_ZONE, 0, now=now)
    assert due.period.end_ms == to_ms(datetime(2025, 1, 13, tzinfo=UTC)) and due.claim is not None
    assert (await duty.report_due(GUILD, "weekly", UTC_ZONE, 0, now=now + 1000)).claim is None
    assert await duty.report_posted(due.claim, channel_id=1, message_id=2)
    await first.close()

    again = Database(db_path)  # a restart
    await again.open()
    try:
        later = DutyService(DutyStore(again))
        assert (await later.report_due(GUILD, "weekly", UTC_ZONE, 0, now=now + REPORT_LEASE_MS * 10)).claim is None
        assert (await later.report_due(GUILD + 1, "weekly", UTC_ZONE, 0, now=now)).claim is not None
    finally:
        await again.close()


async def test_report_claimed_by_a_bot_that_died_before_posting_is_posted_late(duty: DutyService) -> None:
    now = to_ms(WED)
    assert (await duty.report_due(GUILD, "weekly", UTC_ZONE, 0, now=now)).claim is not None
    assert (await duty.report_due(GUILD, "weekly", UTC_ZONE, 0, now=now + REPORT_LEASE_MS - 1)).claim is None
    retry = await duty.report_due(GUILD, "weekly", UTC_ZONE, 0, now=now + REPORT_LEASE_MS)
    assert retry.claim is not None and await duty.report_posted(retry.claim)
    assert not await duty.report_posted(retry.claim)


async def test_dead_claim_is_taken_over_by_one_of_two_processes_on_the_same_database(db_path: Path) -> None:
    now = to_ms(WED)
    first, second = Database(db_path), Database(db_path)
    await first.open()
    await second.open()
    try:
        a, b = DutyService(DutyStore(first)), DutyService(DutyStore(second))
        dead = (await a.report_due(GUILD, "weekly", UTC_ZONE, 0, now=now)).claim
        assert dead is not None and dead.earlier_claim_ms is None
        later = now + REPORT_LEASE_MS
        dues = await asyncio.gather(*(s.report_due(GUILD, "weekly", UTC_ZONE, 0, now=later) for s in (b, a)))
        claims = [due.claim for due in dues]
        [taken] = [c for c in claims if c is not None]
        assert taken.earlier_claim_ms == now  # a takeover: the earlier claimer may have posted
        # The earlier claimer, alive after all, cannot renew a claim taken over; the new claimer can.
        assert await a.renew_report(dead, later) is None
        renewed = await b.renew_report(taken, later + 5000)
        assert renewed is not None and renewed.claimed_at_ms == later + 5000
        assert (await a.report_due(GUILD, "weekly", UTC_ZONE, 0, now=later + REPORT_LEASE_MS)).claim is None
        assert await b.report_posted(renewed, channel_id=1, message_id=2)
        assert await b.renew_report(renewed, later + 6000) is None  # posted: nothing left to hold
    finally:
        await first.close()
        await second.close()


# --- export -------------------------------------------------------------------------


async def test_csv_export_has_shift_and_adjustment_rows_and_neutralises_formulas(
    shifts: ShiftService, duty: DutyService
) -> None:
    await worked(shifts, OFFICER, WED - 3 * H, WED - H, [(WED - 2 * H, WED - 2 * H + 10 * M)], department="Patrol")
    await duty.add_time(GUILD, OFFICER, 60_000, '=HYPERLINK("http://x","click"), then "quoted"\nnext', ADMIN)
    await duty.subtract_time(GUILD, OTHER, 60_000, "@SUM(A1)", ADMIN)
    export = await duty.export_csv(GUILD, Period("All time", None, None), now=now_ms())
    rows = rows_of(export.data)
    shift_row = next(r for r in rows if r["record"] == "shift")
    assert (shift_row["member_id"], shift_row["department"], shift_row["breaks_s"], shift_row["duty_s"]) == (
        str(OFFICER), "Patrol", "600", str(110 * 60))  # fmt: skip
    assert shift_row["sync_state"] == "pending" and shift_row["voided"] == "0"
    reasons = [r["reason"] for r in rows if r["record"] == "adjustment"]
    assert reasons == ['\'=HYPERLINK("http://x","click"), then "quoted" next', "'@SUM(A1)"]
    assert [(r["kind"], r["amount_s"]) for r in rows if r["record"] == "adjustment"] == [
        ("add", "60"),
        ("subtract", "60"),
    ]
    assert (export.shifts, export.adjustments, export.truncated) == (1, 2, False)

    mine = await duty.export_csv(GUILD, Period("All time", None, None), member_id=OTHER)
    assert [r["record"] for r in rows_of(mine.data)] == ["adjustment"]
    small = await duty.export_csv(GUILD, Period("All time", None, None), max_bytes=len(export.data) - 10)
    assert small.truncated and len(small.data) <= len(export.data) - 10 and small.adjustments == 1
