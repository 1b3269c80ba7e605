"""Rosters on a real SQLite file, built as bot/ops/services.py builds them, with a clock the test moves:
templates and assignments per server, reminders exactly once across a restart, attendance from the
shifts the bot recorded."""

from __future__ import annotations

import asyncio
from datetime import date
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.core.errors import Conflict, ErrorKind, InvalidInput
from bot.core.rosters import REMINDER_CUTOFF_MS, DueReminder, RosterService, TemplateDraft, parse_days
from bot.core.rosters.service import REMINDER_LEASE_MS
from bot.ops.services import build_roster_service
from bot.storage import Database
from tests.helpers.bot import BotStarter
from tests.helpers.clock import Clock, utc_ms
from tests.helpers.ids import ADMIN, GUILD, OTHER_GUILD
from tests.helpers.roster import MIN, PATROL_ROLE, record_shift

LONDON = ZoneInfo("Europe/London")


@pytest.fixture
def clock() -> Clock:
    return Clock(utc_ms(2026, 12, 1, 12, 0))


@pytest.fixture
async def rosters(db: Database, clock: Clock) -> RosterService:
    return build_roster_service(db, clock)


async def claim_and_send(rosters: RosterService, reminder: DueReminder) -> None:
    """Claims the reminder and marks it sent, as the worker does once the DM went out."""
    claim = await rosters.claim_reminder(reminder)
    assert claim is not None
    assert await rosters.reminder_sent(claim, 1, 2)


async def evening(rosters: RosterService, guild: int = GUILD, name: str = "Evening patrol") -> int:
    """20:00 for 4 hours, every day."""
    template = await rosters.create(guild, ADMIN, TemplateDraft(name, "Patrol", 20 * 60, 240))
    return template.id


# -- templates --


async def test_server_may_not_have_more_than_the_template_limit(db: Database, clock: Clock) -> None:
    rosters = RosterService(build_roster_service(db, clock).store, max_templates=2, clock=clock)
    await evening(rosters, name="One")
    await evening(rosters, name="Two")
    with pytest.raises(Conflict) as full:
        await evening(rosters, name="Three")
    assert full.value.kind is ErrorKind.ROSTER_TOO_MANY and full.value.data == {"most": 2}
    await evening(rosters, OTHER_GUILD, name="Three")  # another server has its own allowance
    assert [t.name for t in await rosters.templates(GUILD)] == ["One", "Two"]


async def test_creates_at_once_from_six_processes_never_pass_the_template_limit(
    db_path: Path, db: Database, clock: Clock
) -> None:
    """Six processes (a connection each) create a template in each of eight servers at once, each server one
    below its limit: one create per server goes through (PostgreSQL runs the six side by side)."""
    others = [Database(db_path) for _ in range(5)]
    for other in others:
        await other.open()
    try:
        services = [
            RosterService(build_roster_service(d, clock).store, max_templates=2, clock=clock) for d in (db, *others)
        ]
        guilds = [GUILD + n for n in range(8)]
        for guild in guilds:
            await evening(services[0], guild, name="First")

        outcomes = await asyncio.gather(
            *(evening(svc, guild, name=f"Second {n}") for guild in guilds for n, svc in enumerate(services)),
            return_exceptions=True,
        )

        refused = [o for o in outcomes if isinstance(o, Conflict)]
        assert len(refused) == len(outcomes) - len(guilds), outcomes
        assert all(isinstance(r, Conflict) and r.kind is ErrorKind.ROSTER_TOO_MANY for r in refused)
        for guild in guilds:
            assert len(await services[0].templates(guild)) == 2
    finally:
        for other in others:
            await other.close()


async def test_second_template_with_the_same_name_is_refused(rosters: RosterService) -> None:
    await evening(rosters)
    with pytest.raises(Conflict) as same:
        await evening(rosters)
    assert same.value.kind is ErrorKind.ROSTER_NAME_TAKEN and same.value.data == {"name": "Evening patrol"}
    with pytest.raises(Conflict) as other_case:
        await evening(rosters, name="evening PATROL")
    assert other_case.value.kind is ErrorKind.ROSTER_NAME_TAKEN and other_case.value.data == {"name": "evening PATROL"}
    await evening(rosters, OTHER_GUILD)  # names are per server


async def test_another_servers_template_cannot_be_edited_deleted_or_assigned(rosters: RosterService) -> None:
    theirs = await evening(rosters, OTHER_GUILD)
    with pytest.raises(InvalidInput) as edit:
        await rosters.edit(GUILD, ADMIN, theirs, TemplateDraft("Mine now", None, 0, 60))
    with pytest.raises(InvalidInput) as delete:
        await rosters.delete(GUILD, ADMIN, theirs)
    with pytest.raises(InvalidInput) as assign:
        await rosters.assign(GUILD, ADMIN, theirs, "member", 101)
    assert {e.value.kind for e in (edit, delete, assign)} == {ErrorKind.ROSTER_NO_SUCH_TEMPLATE}
    assert (await rosters.template(OTHER_GUILD, theirs)).name == "Evening patrol"


async def test_edit_changes_the_schedule_and_delete_drops_its_assignments(rosters: RosterService) -> None:
    template_id = await evening(rosters)
    assert await rosters.assign(GUILD, ADMIN, template_id, "member", 101)
    assert not await rosters.assign(GUILD, ADMIN, template_id, "member", 101)  # already assigned
    edited = await rosters.edit(
        GUILD, ADMIN, template_id, TemplateDraft("Weekend patrol", None, 21 * 60, 60, parse_days("sat,sun"))
    )
    assert (edited.name, edited.start_minute, edited.days_mask) == ("Weekend patrol", 1260, 0b1100000)
    await rosters.delete(GUILD, ADMIN, template_id)
    assert await rosters.templates(GUILD) == []
    assert await rosters.store.assignments(GUILD) == []


async def test_week_includes_last_sundays_night_that_runs_into_monday(rosters: RosterService) -> None:
    await rosters.create(GUILD, ADMIN, TemplateDraft("Sunday night", None, 22 * 60, 480, parse_days("sun")))
    week = await rosters.week(GUILD, LONDON, date(2026, 12, 2))
    assert [(o.name, o.day) for o in week] == [
        ("Sunday night", date(2026, 11, 29)),
        ("Sunday night", date(2026, 12, 6)),
    ]


async def test_mine_lists_the_members_next_shifts_directly_or_through_a_role(
    rosters: RosterService, clock: Clock
) -> None:
    direct = await evening(rosters, name="Direct")
    by_role = await evening(rosters, name="By role")
    await evening(rosters, name="Not mine")
    await rosters.assign(GUILD, ADMIN, direct, "member", 101)
    await rosters.assign(GUILD, ADMIN, by_role, "role", PATROL_ROLE)
    clock.set(utc_ms(2026, 12, 1, 21, 0))  # today's are under way (not ended): still listed
    upcoming = await rosters.upcoming_for(GUILD, LONDON, 101, {PATROL_ROLE}, limit=3)
    assert [(o.name, o.day) for o in upcoming] == [
        ("By role", date(2026, 12, 1)), ("Direct", date(2026, 12, 1)), ("By role", date(2026, 12, 2)),
    ]  # fmt: skip


async def test_bot_keeps_its_scheduled_shifts_and_sent_reminders_across_a_restart(start_bot: BotStarter) -> None:
    clock = Clock(utc_ms(2026, 12, 1, 21, 0))
    first = await start_bot(clock=clock)
    created = await first.bot.rosters.create(GUILD, ADMIN, TemplateDraft("Night patrol", None, 22 * 60, 480))
    await first.bot.rosters.assign(GUILD, ADMIN, created.id, "member", 101)
    clock.set(utc_ms(2026, 12, 1, 21, 45))
    [reminder] = await first.bot.rosters.due_reminders(GUILD, LONDON, 30 * MIN, {})
    await claim_and_send(first.bot.rosters, reminder)
    await first.bot.close()

    second = await start_bot(clock=clock)
    assert [t.name for t in await second.bot.rosters.templates(GUILD)] == ["Night patrol"]
    clock.set(utc_ms(2026, 12, 1, 21, 50))
    assert await second.bot.rosters.due_reminders(GUILD, LONDON, 30 * MIN, {}) == []


# -- reminders --


async def test_reminder_is_sent_once_even_across_a_restart(db_path: Path, db: Database, clock: Clock) -> None:
    rosters = build_roster_service(db, clock)
    template_id = await evening(rosters)
    await rosters.assign(GUILD, ADMIN, template_id, "member", 101)
    await rosters.assign(GUILD, ADMIN, template_id, "role", PATROL_ROLE)
    roles = {PATROL_ROLE: [101, 102]}
    clock.set(utc_ms(2026, 12, 1, 19, 29))
    assert await rosters.due_reminders(GUILD, LONDON, 30 * MIN, roles) == []  # not yet
    clock.set(utc_ms(2026, 12, 1, 19, 30))
    due = await rosters.due_reminders(GUILD, LONDON, 30 * MIN, roles)
    assert [(r.occurrence.start_ms, r.member_id) for r in due] == [
        (utc_ms(2026, 12, 1, 20, 0), 101),
        (utc_ms(2026, 12, 1, 20, 0), 102),
    ]
    await claim_and_send(rosters, due[0])  # 101 claimed and sent; then the bot stops

    await db.close()
    restarted_db = Database(db_path)
    await restarted_db.open()
    try:
        restarted = build_roster_service(restarted_db, clock)
        clock.set(utc_ms(2026, 12, 1, 19, 35))
        again = await restarted.due_reminders(GUILD, LONDON, 30 * MIN, roles)
        assert [r.member_id for r in again] == [102]  # 101 is not reminded a second time
        assert await restarted.claim_reminder(due[0]) is None
        await claim_and_send(restarted, again[0])
        assert await restarted.due_reminders(GUILD, LONDON, 30 * MIN, roles) == []
    finally:
        await restarted_db.close()
        await db.open()  # the fixture closes it


async def test_two_workers_claiming_the_same_reminder_send_it_once(db: Database, clock: Clock) -> None:
    first, second = build_roster_service(db, clock), build_roster_service(db, clock)
    template_id = await evening(first)
    await first.assign(GUILD, ADMIN, template_id, "member", 101)
    clock.set(utc_ms(2026, 12, 1, 19, 45))
    seen_by_first = await first.due_reminders(GUILD, LONDON, 30 * MIN, {})
    seen_by_second = await second.due_reminders(GUILD, LONDON, 30 * MIN, {})
    assert seen_by_first == seen_by_second and len(seen_by_first) == 1
    claims = [await first.claim_reminder(seen_by_first[0]), await second.claim_reminder(seen_by_second[0])]
    assert claims[0] is not None and claims[1] is None


async def test_dead_senders_reminder_claim_is_taken_over_by_one_of_two_workers_after_its_lease(
    db: Database, clock: Clock
) -> None:
    dead, first, second = (build_roster_service(db, clock) for _ in range(3))
    template_id = await evening(dead)
    await dead.assign(GUILD, ADMIN, template_id, "member", 101)
    clock.set(utc_ms(2026, 12, 1, 19, 45))
    [reminder] = await dead.due_reminders(GUILD, LONDON, 30 * MIN, {})
    dead_claim = await dead.claim_reminder(reminder)
    assert dead_claim is not None  # and then its process dies
    clock.advance(ms=REMINDER_LEASE_MS - 1)
    assert await first.due_reminders(GUILD, LONDON, 30 * MIN, {}) == []
    assert await first.claim_reminder(reminder) is None
    clock.advance(ms=1)
    assert await first.due_reminders(GUILD, LONDON, 30 * MIN, {}) == [reminder]
    claims = [await first.claim_reminder(reminder), await second.claim_reminder(reminder)]
    assert claims[1] is None and claims[0] is not None and claims[0].earlier_claim_ms == dead_claim.claimed_at_ms
    assert await dead.renew_reminder(dead_claim) is None  # alive after all, it cannot renew a claim taken over
    assert await first.renew_reminder(claims[0]) is not None


async def test_reminder_is_sent_late_after_downtime_but_not_for_a_shift_long_under_way(
    rosters: RosterService, clock: Clock
) -> None:
    template_id = await evening(rosters)
    await rosters.assign(GUILD, ADMIN, template_id, "member", 101)
    clock.set(utc_ms(2026, 12, 1, 20, 5))  # the bot was down from 19:00 to 20:05
    assert [r.member_id for r in await rosters.due_reminders(GUILD, LONDON, 30 * MIN, {})] == [101]
    clock.set(utc_ms(2026, 12, 1, 20, 0) + REMINDER_CUTOFF_MS)  # down until 15 minutes into the shift
    assert await rosters.due_reminders(GUILD, LONDON, 30 * MIN, {}) == []


async def test_pruning_forgets_only_reminders_that_can_never_be_due_again(rosters: RosterService, clock: Clock) -> None:
    template_id = await evening(rosters)
    await rosters.assign(GUILD, ADMIN, template_id, "member", 101)
    clock.set(utc_ms(2026, 12, 1, 19, 40))
    [tuesday] = await rosters.due_reminders(GUILD, LONDON, 30 * MIN, {})
    await claim_and_send(rosters, tuesday)
    clock.set(utc_ms(2026, 12, 1, 20, 10))  # still within the late window: the claim must stay
    assert await rosters.prune_reminders() == 0
    assert await rosters.due_reminders(GUILD, LONDON, 30 * MIN, {}) == []
    clock.set(utc_ms(2026, 12, 2, 19, 40))
    assert await rosters.prune_reminders() == 1
    assert [r.occurrence.day for r in await rosters.due_reminders(GUILD, LONDON, 30 * MIN, {})] == [date(2026, 12, 2)]


# -- attendance --


async def test_attendance_marks_present_late_left_early_absent_and_excused(
    db: Database, rosters: RosterService, clock: Clock
) -> None:
    template_id = await evening(rosters)
    for member in (101, 102, 103, 104, 105):
        await rosters.assign(GUILD, ADMIN, template_id, "member", member)
    await rosters.assign(GUILD, ADMIN, template_id, "role", PATROL_ROLE)
    start, end = utc_ms(2026, 12, 1, 20, 0), utc_ms(2026, 12, 2, 0, 0)
    await record_shift(db, 101, start - 5 * MIN, end + 5 * MIN)  # on time, whole shift
    await record_shift(db, 102, start + 30 * MIN, end)  # after the 10-minute grace
    await record_shift(db, 103, start, end, breaks=((start + 60 * MIN, start + 150 * MIN),))  # 90 min break
    await record_shift(db, 104, start, end, guild=OTHER_GUILD)  # on duty, but on another server
    await record_shift(db, 106, start + 5 * MIN, end - 30 * MIN)  # via the role: 205 of 240 min
    clock.set(utc_ms(2026, 12, 2, 1, 0))

    results = await rosters.attendance(
        GUILD, LONDON, utc_ms(2026, 12, 1, 0, 0), utc_ms(2026, 12, 2, 0, 0), {PATROL_ROLE: [106]}, excused={105}
    )

    assert [r.occurrence.day for r in results] == [date(2026, 12, 1)]  # only finished occurrences
    statuses = {a.member_id: a.status for a in results[0].members}
    assert statuses == {101: "present", 102: "late", 103: "left_early", 104: "absent", 105: "excused", 106: "present"}
    assert {a.member_id: a.on_duty_ms for a in results[0].members}[103] == 150 * MIN


async def test_attendance_leaves_out_the_occurrence_still_running(rosters: RosterService, clock: Clock) -> None:
    template_id = await evening(rosters)
    await rosters.assign(GUILD, ADMIN, template_id, "member", 101)
    clock.set(utc_ms(2026, 12, 1, 22, 0))
    assert await rosters.attendance(GUILD, LONDON, utc_ms(2026, 12, 1, 0, 0), utc_ms(2026, 12, 2, 0, 0), {}) == []


async def test_attendance_over_several_days_judges_each_occurrence_by_its_own_shifts(
    db: Database, rosters: RosterService, clock: Clock
) -> None:
    template_id = await evening(rosters)
    await rosters.assign(GUILD, ADMIN, template_id, "member", 101)
    await record_shift(db, 101, utc_ms(2026, 12, 1, 19, 58), utc_ms(2026, 12, 2, 0, 1))  # Tuesday: whole shift
    await record_shift(db, 101, utc_ms(2026, 12, 3, 21, 0), utc_ms(2026, 12, 4, 0, 0))  # Thursday: an hour late
    clock.set(utc_ms(2026, 12, 5, 12, 0))

    results = await rosters.attendance(GUILD, LONDON, utc_ms(2026, 12, 1, 0, 0), utc_ms(2026, 12, 5, 0, 0), {})

    assert [(r.occurrence.day.day, [a.status for a in r.members]) for r in results] == [
        (1, ["present"]), (2, ["absent"]), (3, ["late"]), (4, ["absent"]),
    ]  # fmt: skip
