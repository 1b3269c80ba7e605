"""Shifts without Discord: the service and its sync worker on a real SQLite file,
against the real sandbox over HTTP (every request is checked against the spec)."""

from __future__ import annotations

import asyncio
import dataclasses
import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest
from aiohttp import web

from bot.core.config import ShiftConfig
from bot.core.errors import Conflict, ErrorKind, InvalidInput, NotLinked
from bot.core.links import LinkService, LinkStore
from bot.core.profiles import OfficerProfile, ProfileStore
from bot.core.shifts import DutyChanged, ShiftAutoEnder, ShiftEvent, ShiftRecord, ShiftService, ShiftWorker, now_ms
from bot.core.timefmt import duration_text
from bot.northca.client import NorthcaClient
from bot.northca.sandbox import NorthcaSandbox
from bot.ops.services import build_shift_service
from bot.storage import INTEGRITY_ERRORS, Database
from tests.helpers.ids import ADMIN, GUILD, KEY, MDT, OFFICER, OTHER, OWNER
from tests.helpers.northca import iso_z, plant_backlog, shift_gets, shift_posts
from tests.helpers.shifts import make_service
from tests.helpers.waiting import settled, until
from tests.spec import validate_request

T0 = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)  # a Wednesday
MIN = timedelta(minutes=1)


def recent() -> datetime:
    """A start time 3 h ago on a whole second: recent enough for the auto-end to leave alone."""
    return (datetime.now(UTC) - timedelta(hours=3)).replace(microsecond=0)


# --- helpers ---------------------------------------------------------------------


@pytest.fixture
async def service(db: Database, client: NorthcaClient, linked: None) -> AsyncIterator[ShiftService]:
    svc = make_service(db, client)
    yield svc
    await svc.drain()


@pytest.fixture
async def worker(service: ShiftService) -> AsyncIterator[ShiftWorker]:
    w = ShiftWorker(service)
    await w.start()
    yield w
    await w.stop()


class RefusingNorthca:
    """A pass-through in front of the sandbox that can answer shift writes with a 400 of
    its own (the sandbox has no 400 fault). What it refuses is checked against the spec."""

    def __init__(self, sandbox: NorthcaSandbox) -> None:
        self.sandbox = sandbox
        self.refusal: str | None = None
        self.refused = 0
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self.base_url = ""

    async def start(self) -> str:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self._session = aiohttp.ClientSession()
        self.base_url = f"http://127.0.0.1:{self._runner.addresses[0][1]}/v1"
        return self.base_url

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.read()
        if self.refusal and request.method == "POST" and request.path.endswith("/shifts"):
            validate_request(
                request.method,
                request.path,
                dict(request.query),
                {k.lower(): v for k, v in request.headers.items()},
                body,
            )
            self.refused += 1
            payload = json.dumps({"ok": False, "error": self.refusal}).encode()
            return web.Response(status=400, body=payload, content_type="application/json")
        assert self._session is not None and self.sandbox.base_url
        target = self.sandbox.base_url[: -len("/v1")] + request.path_qs
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        async with self._session.request(request.method, target, data=body or None, headers=headers) as resp:
            raw = await resp.read()
            return web.Response(status=resp.status, body=raw, content_type=resp.content_type)


@pytest.fixture
async def refusing(sandbox: NorthcaSandbox) -> AsyncIterator[RefusingNorthca]:
    proxy = RefusingNorthca(sandbox)
    await proxy.start()
    yield proxy
    await proxy.stop()


# --- lifecycle and maths ----------------------------------------------------------------


async def test_start_break_end_duration_and_the_one_complete_write(service, worker, sandbox, db):
    await ProfileStore(db).update(GUILD, OFFICER, badge="512", callsign="ADAM-12")
    t0 = recent()
    shift = await service.start(GUILD, OFFICER, display_name="Bubbleton", department="patrol", at=t0)
    assert (shift.department, shift.officer_name, shift.officer_badge, shift.callsign) == (
        "Patrol",
        "Bubbleton",
        "512",
        "ADAM-12",
    )
    assert (await service.toggle_break(GUILD, OFFICER, at=t0 + 10 * MIN)).on_break
    assert not (await service.toggle_break(GUILD, OFFICER, at=t0 + 25 * MIN)).on_break
    assert (await service.toggle_break(GUILD, OFFICER, at=t0 + 60 * MIN)).on_break
    # Ending on a break closes the break at the end: 70 min - 15 - 10 = 45 min on duty.
    ended = await service.end(GUILD, OFFICER, at=t0 + 70 * MIN)
    assert ended.duration_ms == 45 * 60_000 and ended.break_ms == 25 * 60_000 and ended.break_count == 2
    assert ended.sync_state == "pending" and not ended.on_break
    assert duration_text(ended.duration_ms) == "45 min"

    done = await settled(service, shift.id)
    assert done.sync_state == "synced"
    [stored] = sandbox.shifts(MDT)
    assert stored["id"] == shift.id
    assert stored["start_time"] == iso_z(t0) and stored["end_time"] == iso_z(t0 + 70 * MIN)
    assert stored["duration_ms"] == 45 * 60_000
    assert (stored["status"], stored["officer_name"], stored["officer_badge"], stored["department"]) == (
        "completed",
        "Bubbleton",
        "512",
        "Patrol",
    )
    assert stored["created_by_discord_id"] == str(OFFICER)
    assert len(shift_posts(sandbox)) == 1


async def test_profile_name_wins_over_display_name_and_end_status_is_configurable(db, client, linked, sandbox):
    await ProfileStore(db).update(GUILD, OFFICER, name="B. Bubbleton", department="Traffic")
    svc = make_service(db, client, end_status="closed")
    w = ShiftWorker(svc)
    await w.start()
    try:
        shift = await svc.start(GUILD, OFFICER, display_name="bubbles99")
        assert (shift.officer_name, shift.department) == ("B. Bubbleton", "Traffic")
        await svc.end(GUILD, OFFICER)
        assert (await settled(svc, shift.id)).synced
    finally:
        await w.stop()
    [stored] = sandbox.shifts(MDT)
    assert (stored["status"], stored["officer_name"]) == ("closed", "B. Bubbleton")
    assert "officer_badge" not in json.loads(shift_posts(sandbox)[0].body)  # unset: left out, never null


async def test_second_start_refused_even_when_both_race(service):
    results = await asyncio.gather(
        service.start(GUILD, OFFICER, display_name="A"),
        service.start(GUILD, OFFICER, display_name="A"),
        return_exceptions=True,
    )
    assert sum(isinstance(r, ShiftRecord) for r in results) == 1
    [refusal] = [r for r in results if isinstance(r, Exception)]
    [started] = [r for r in results if isinstance(r, ShiftRecord)]
    assert isinstance(refusal, Conflict) and refusal.kind is ErrorKind.ALREADY_ON_DUTY
    assert refusal.data == {"started_ms": started.started_ms}  # the front door words it (tests/cogs/test_shift.py)
    # Another member, or the same member in another guild, is not affected.
    await service.start(GUILD, OTHER, display_name="B")


async def test_database_itself_refuses_a_second_open_shift(service, db):
    shift = await service.start(GUILD, OFFICER, display_name="A")
    with pytest.raises(INTEGRITY_ERRORS):
        await db.execute(
            "INSERT INTO shifts (id, guild_id, member_id, mdt_id, officer_name, started_ms)"
            " VALUES ('x', ?, ?, ?, 'A', 1)",
            (GUILD, OFFICER, MDT),
        )
    await service.end(GUILD, OFFICER)
    again = await service.start(GUILD, OFFICER, display_name="A")  # ended shifts do not count
    assert again.id != shift.id


async def test_end_or_break_without_open_shift_and_bad_department(service):
    with pytest.raises(Conflict) as ended:
        await service.end(GUILD, OFFICER)
    assert ended.value.kind is ErrorKind.NOT_ON_DUTY and ended.value.data == {}
    with pytest.raises(Conflict) as other:
        await service.end(GUILD, OTHER, ended_by=OFFICER)
    assert other.value.kind is ErrorKind.NOT_ON_DUTY and other.value.data == {"member_id": OTHER}
    with pytest.raises(Conflict) as no_break:
        await service.toggle_break(GUILD, OFFICER)
    assert no_break.value.kind is ErrorKind.NO_BREAK_OFF_DUTY
    with pytest.raises(InvalidInput) as unknown:
        await service.start(GUILD, OFFICER, display_name="A", department="Mall Cops")
    assert unknown.value.kind is ErrorKind.UNKNOWN_DEPARTMENT
    assert unknown.value.data["value"] == "Mall Cops" and "Patrol" in unknown.value.data["names"]
    assert await service.open_shift(GUILD, OFFICER) is None


async def test_not_linked_guild_cannot_start(db, client):
    svc = make_service(db, client)
    with pytest.raises(NotLinked):
        await svc.start(GUILD, OFFICER, display_name="A")
    assert await svc.open_shift(GUILD, OFFICER) is None


async def test_totals_today_and_this_week(service):
    monday = T0 - timedelta(days=2)
    await service.start(GUILD, OFFICER, display_name="A", at=monday - 60 * MIN)  # Monday 11:00
    await service.end(GUILD, OFFICER, at=monday)  # 1 h, this week
    await service.start(GUILD, OFFICER, display_name="A", at=T0 - timedelta(days=3))  # Sunday: last week
    await service.end(GUILD, OFFICER, at=T0 - timedelta(days=3) + 120 * MIN)
    await service.start(GUILD, OFFICER, display_name="A", at=T0 - 240 * MIN)  # today 08:00
    await service.end(GUILD, OFFICER, at=T0 - 150 * MIN)  # 1.5 h
    await service.start(GUILD, OFFICER, display_name="A", at=T0 - 60 * MIN)  # open since 11:00
    totals = await service.totals(GUILD, OFFICER, now=T0)
    assert totals.today_ms == 150 * 60_000
    assert totals.week_ms == 210 * 60_000
    assert totals.week_start == datetime(2025, 1, 13, tzinfo=UTC)


# --- every exit path closes the shift, and tells the duty listeners ------------------------


async def test_duty_listeners_hear_every_start_and_every_kind_of_end(service, worker, sandbox):
    heard: list[tuple[int, int, bool]] = []

    async def listener(event: DutyChanged) -> None:
        heard.append((event.guild_id, event.member_id, event.on_duty))

    service.events.duty.subscribe(listener)
    await service.start(GUILD, OFFICER, display_name="A")
    await service.end(GUILD, OFFICER)
    await service.start(GUILD, OFFICER, display_name="A")
    admin_ended = await service.end(GUILD, OFFICER, reason="admin", ended_by=ADMIN, note="forgot to clock off")
    assert (admin_ended.end_reason, admin_ended.ended_by, admin_ended.end_note) == (
        "admin",
        ADMIN,
        "forgot to clock off",
    )
    await service.start(GUILD, OFFICER, display_name="A")
    left = await service.end_if_open(GUILD, OFFICER, reason="left")
    assert left is not None and left.end_reason == "left"
    assert await service.end_if_open(GUILD, OFFICER, reason="left") is None
    await service.start(GUILD, OFFICER, display_name="A")
    await service.start(GUILD, OTHER, display_name="B")
    removed = await service.end_all_in_guild(GUILD, "bot_removed")
    assert {s.member_id for s in removed} == {OFFICER, OTHER} and {s.end_reason for s in removed} == {"bot_removed"}
    await service.drain()
    assert heard == [
        (GUILD, OFFICER, True),
        (GUILD, OFFICER, False),
        (GUILD, OFFICER, True),
        (GUILD, OFFICER, False),
        (GUILD, OFFICER, True),
        (GUILD, OFFICER, False),
        (GUILD, OFFICER, True),
        (GUILD, OTHER, True),
        (GUILD, OFFICER, False),
        (GUILD, OTHER, False),
    ]
    for shift in removed:
        assert (await settled(service, shift.id)).synced
    await until(lambda: len(sandbox.shifts(MDT)) == 5, what="all five shifts on Northca")


async def test_auto_end_at_the_maximum_length(service, worker, sandbox):
    shift = await service.start(GUILD, OFFICER, display_name="A", at=datetime.now(UTC) - timedelta(hours=13))
    [ended] = await service.auto_end_overdue()
    assert ended.id == shift.id and ended.end_reason == "auto" and "maximum shift length" in (ended.end_note or "")
    assert ended.ended_ms - ended.started_ms == 12 * 3_600_000 and ended.duration_ms == 12 * 3_600_000
    assert await service.auto_end_overdue() == []
    assert (await settled(service, shift.id)).synced
    [stored] = sandbox.shifts(MDT)
    assert stored["duration_ms"] == 12 * 3_600_000


async def test_overdue_shifts_end_by_themselves(db, client, linked, sandbox):
    svc = make_service(db, client, max_shift_hours=0.0002)  # 0.72 s
    ended = asyncio.Event()

    async def listener(event: DutyChanged) -> None:
        if not event.on_duty:
            ended.set()

    svc.events.duty.subscribe(listener)
    w, auto_end = ShiftWorker(svc), ShiftAutoEnder(svc)
    await w.start()
    await auto_end.start()
    try:
        shift = await svc.start(GUILD, OFFICER, display_name="A")
        await asyncio.wait_for(ended.wait(), 5)
        done = await settled(svc, shift.id)
        assert done.end_reason == "auto" and done.duration_ms == 720
    finally:
        await auto_end.stop()
        await w.stop()


# --- sync: nothing lost, nothing twice -----------------------------------------------------


async def test_northca_down_at_end_then_back_is_synced_exactly_once(service, worker, sandbox):
    sandbox.faults.add("500", times=10_000, path=r"/shifts$")
    shift = await service.start(GUILD, OFFICER, display_name="A")
    await service.end(GUILD, OFFICER)
    first = await service.wait_for_sync(shift.id, 5)
    assert first is not None and first.sync_state == "pending" and first.last_error == "Internal server error"
    assert first.sent_unconfirmed == 1  # a 500 may have been applied: look before writing again
    assert sandbox.shifts(MDT) == []
    sandbox.faults.clear()
    done = await settled(service, shift.id)
    assert done.synced and done.last_error is None
    assert [s["id"] for s in sandbox.shifts(MDT)] == [shift.id]


async def test_commit_then_500_is_found_not_written_again(service, worker, sandbox):
    sandbox.faults.add("commit_then_500", times=1, method="POST", path=r"/shifts$")
    shift = await service.start(GUILD, OFFICER, display_name="A")
    await service.end(GUILD, OFFICER)
    done = await settled(service, shift.id)
    assert done.synced
    assert [s["id"] for s in sandbox.shifts(MDT)] == [shift.id]
    assert len(shift_posts(sandbox)) == 1, "no second write after an ambiguous failure"
    assert len(shift_gets(sandbox)) >= 1, "it was looked up instead"


async def test_bot_stopping_while_the_write_is_out_is_looked_up_after_restart(db, client, linked, sandbox):
    svc = make_service(db, client)
    w = ShiftWorker(svc)
    await w.start()
    sandbox.faults.latency = 0.4  # the write is applied after the bot has gone
    shift = await svc.start(GUILD, OFFICER, display_name="A")
    await svc.end(GUILD, OFFICER)
    await until(lambda: len(shift_posts(sandbox)) == 1, what="the write to reach Northca")
    await w.stop(grace=0)  # the bot is stopped with the write out and no time to let it finish
    await until(lambda: len(sandbox.shifts(MDT)) == 1, what="Northca to apply the write")
    sandbox.faults.latency = 0
    assert (await svc.store.get(shift.id)).sync_state == "pending"

    restarted = make_service(db, client)
    w2 = ShiftWorker(restarted)
    await w2.start()
    try:
        assert (await settled(restarted, shift.id)).synced
    finally:
        await w2.stop()
    assert len(shift_posts(sandbox)) == 1 and len(sandbox.shifts(MDT)) == 1


async def test_restart_between_start_and_end_keeps_the_real_duration(db_path, client, linked, sandbox):
    first_db = Database(db_path)
    await first_db.open()
    first = make_service(first_db, client)
    t0 = recent()
    shift = await first.start(GUILD, OFFICER, display_name="A", at=t0)
    await first_db.close()  # the bot goes down with the shift open

    second_db = Database(db_path)
    await second_db.open()
    try:
        second = make_service(second_db, client)
        assert (await second.open_shift(GUILD, OFFICER)).id == shift.id
        ended = await second.end(GUILD, OFFICER, at=t0 + 150 * MIN)
        assert ended.id == shift.id and ended.duration_ms == 150 * 60_000
        w = ShiftWorker(second)
        await w.start()
        try:
            assert (await settled(second, shift.id)).synced
        finally:
            await w.stop()
    finally:
        await second_db.close()
    [stored] = sandbox.shifts(MDT)
    assert stored["duration_ms"] == 150 * 60_000


async def test_restart_between_end_and_sync_sends_it_once(db, client, linked, sandbox):
    sandbox.faults.add("500", times=10_000, path=r"/shifts$")
    svc = make_service(db, client)
    w = ShiftWorker(svc)
    await w.start()
    shift = await svc.start(GUILD, OFFICER, display_name="A")
    await svc.end(GUILD, OFFICER)
    assert (await svc.wait_for_sync(shift.id, 5)).sync_state == "pending"
    await w.stop()
    sandbox.faults.clear()
    restarted = make_service(db, client)
    w2 = ShiftWorker(restarted)
    await w2.start()
    try:
        assert (await settled(restarted, shift.id)).synced
    finally:
        await w2.stop()
    assert [s["id"] for s in sandbox.shifts(MDT)] == [shift.id]


async def test_permanent_refusal_is_kept_failed_listed_and_retry_works(db, sandbox, refusing, http, linked):
    client = NorthcaClient(http, refusing.base_url, KEY, timeout=2.0, deadline=6.0, backoff_base=0.02, backoff_max=0.2)
    svc = make_service(db, client)
    failed_events: list[ShiftRecord] = []

    async def on_shift(event: ShiftEvent) -> None:
        if event.kind == "sync_failed":
            failed_events.append(event.shift)

    svc.events.shifts.subscribe(on_shift)
    w = ShiftWorker(svc)
    await w.start()
    try:
        refusing.refusal = "Invalid department"
        shift = await svc.start(GUILD, OFFICER, display_name="A")
        await svc.end(GUILD, OFFICER)
        failed = await settled(svc, shift.id)
        assert failed.sync_state == "failed" and failed.last_error == "Invalid department"
        assert refusing.refused == 1, "a 400 is not retried by itself"
        assert [s.id for s in await svc.outbox(GUILD)] == [shift.id]
        await svc.drain()
        assert [s.id for s in failed_events] == [shift.id]
        assert sandbox.shifts(MDT) == []

        refusing.refusal = None  # fixed
        since = (await svc.store.get(shift.id)).last_attempt_ms + 1
        [retried] = await svc.retry(GUILD)
        assert retried.id == shift.id and retried.sync_state == "pending"
        done = await svc.wait_for_sync(shift.id, 5, since_ms=since)
        assert done is not None and done.synced
        assert await svc.outbox(GUILD) == []
    finally:
        await w.stop()
    assert [s["id"] for s in sandbox.shifts(MDT)] == [shift.id]


async def test_not_linked_on_northca_is_failed_then_retried_after_relink(service, worker, sandbox):
    shift = await service.start(GUILD, OFFICER, display_name="A")
    sandbox.unlink(GUILD, MDT)
    await service.end(GUILD, OFFICER)
    failed = await settled(service, shift.id)
    assert failed.sync_state == "failed" and failed.last_error == "MDT not linked to this guild"
    sandbox.link(GUILD, MDT)
    await service.retry(GUILD, shift.id)
    assert (await settled(service, shift.id)).synced
    assert len(sandbox.shifts(MDT)) == 1


async def test_many_ends_at_once_are_each_written_once(service, worker, sandbox):
    members = [600000000000000000 + i for i in range(60)]
    for m in members:
        await service.start(GUILD, m, display_name=f"Officer {m % 100}")
    sandbox.faults.latency = 0.05
    ended = await asyncio.gather(*(service.end(GUILD, m) for m in members))
    for shift in ended:
        assert (await settled(service, shift.id)).synced
    ids = [s["id"] for s in sandbox.shifts(MDT)]
    assert len(ids) == 60 and set(ids) == {s.id for s in ended}
    assert len(shift_posts(sandbox)) == 60


# --- a maybe-applied shift is never written twice -----------------------------------


def copies(sandbox: NorthcaSandbox, shift_id: str) -> int:
    return sum(s["id"] == shift_id for s in sandbox.shifts(MDT))


async def first_verdict(service: ShiftService, shift_id: str) -> ShiftRecord:
    shift = await service.wait_for_sync(shift_id, 10)
    assert shift is not None, "no verdict on the first attempt"
    return shift


async def test_committed_shift_not_rewritten_when_lookup_window_is_full(db, client, linked, sandbox):
    # A Northca without the assumed duplicate-id refusal: only the bot can prevent a double.
    sandbox.accept_duplicate_shift_ids()
    svc = make_service(db, client)
    events: list[tuple[str, str]] = []

    async def on_shift(event: ShiftEvent) -> None:
        events.append((event.kind, event.shift.id))

    svc.events.shifts.subscribe(on_shift)
    w = ShiftWorker(svc)
    await w.start()
    try:
        sandbox.faults.add("commit_then_500", times=1, method="POST", path=r"/shifts$")
        sandbox.faults.add("500", times=10_000, method="GET", path=r"/shifts$")  # the lookups fail too
        shift = await svc.start(GUILD, OFFICER, display_name="A", department="Patrol")
        await svc.end(GUILD, OFFICER)
        assert (await first_verdict(svc, shift.id)).sync_state == "pending"
        assert copies(sandbox, shift.id) == 1  # committed, though the answer said 500
        plant_backlog(sandbox, 210)  # meanwhile 210 newer shifts, same status and department
        sandbox.faults.clear()
        held = await settled(svc, shift.id)
        assert held.sync_state == "failed" and held.unconfirmed
        assert "cannot tell whether this one is there" in (held.unconfirmed_reason or "")
        assert [s.id for s in await svc.outbox(GUILD)] == [shift.id]
        assert (await svc.store.outbox_count(GUILD)) == (0, 0, 1)
        await svc.drain()
        assert ("sync_unconfirmed", shift.id) in events
        # Retry now leaves it alone: only a supervisor's decision moves it.
        assert await svc.retry(GUILD) == []
    finally:
        await w.stop()
    assert copies(sandbox, shift.id) == 1 and len(shift_posts(sandbox)) == 1

    # It stays held across a restart, and is not written by the restarted worker either.
    restarted = make_service(db, client)
    w2 = ShiftWorker(restarted)
    await w2.start()
    try:
        await asyncio.wait_for(restarted.sync.idle.wait(), 10)
        assert (await restarted.store.get(shift.id)).unconfirmed
    finally:
        await w2.stop()
    assert copies(sandbox, shift.id) == 1 and len(shift_posts(sandbox)) == 1


async def test_lookup_reaching_back_past_the_first_attempt_proves_absence(service, worker, sandbox):
    # A full window, but its oldest shift is a day older than the first attempt: a shift written
    # at that attempt would be in it, so it is provably not on Northca and is written again.
    plant_backlog(sandbox, 210, updated_at=datetime.now(UTC) - timedelta(days=1))
    sandbox.faults.add("500", times=1, method="POST", path=r"/shifts$")  # refused, not committed
    shift = await service.start(GUILD, OFFICER, display_name="A", department="Patrol")
    await service.end(GUILD, OFFICER)
    done = await settled(service, shift.id)
    assert done.synced and not done.unconfirmed
    assert copies(sandbox, shift.id) == 1 and len(shift_posts(sandbox)) == 2


async def test_supervisor_decisions_on_unconfirmed_shifts_are_audited(db, client, linked, sandbox):
    sandbox.accept_duplicate_shift_ids()
    svc = make_service(db, client)
    w = ShiftWorker(svc)
    await w.start()
    try:
        sandbox.faults.add("500", times=10_000, method="GET", path=r"/shifts$")
        sandbox.faults.add("commit_then_500", times=1, method="POST", path=r"/shifts$")
        on_northca = await svc.start(GUILD, OFFICER, display_name="A", department="Patrol")
        await svc.end(GUILD, OFFICER)
        await first_verdict(svc, on_northca.id)
        sandbox.faults.add("500", times=1, method="POST", path=r"/shifts$")
        not_there = await svc.start(GUILD, OTHER, display_name="B", department="Patrol")
        await svc.end(GUILD, OTHER)
        await first_verdict(svc, not_there.id)
        plant_backlog(sandbox, 205)
        sandbox.faults.clear()
        assert (await settled(svc, on_northca.id)).unconfirmed and (await settled(svc, not_there.id)).unconfirmed

        found = await svc.decide(GUILD, on_northca.id, ADMIN, "on_northca")
        assert found.synced and not found.unconfirmed
        since = now_ms()
        await svc.decide(GUILD, not_there.id, OWNER, "send_anyway")
        sent = await svc.wait_for_sync(not_there.id, 10, since_ms=since)
        assert sent is not None and sent.synced and sent.write_approved_by is None
        with pytest.raises(Conflict) as decided:
            await svc.decide(GUILD, not_there.id, OWNER, "send_anyway")
        assert decided.value.kind is ErrorKind.SHIFT_NOT_PENDING
        with pytest.raises(Conflict):  # another guild cannot decide about this guild's shift
            await svc.decide(GUILD + 1, on_northca.id, ADMIN, "send_anyway")
    finally:
        await w.stop()
    assert copies(sandbox, on_northca.id) == 1 and copies(sandbox, not_there.id) == 1
    [(actor, action, at, detail)] = await svc.store.audit_of(GUILD, on_northca.id)
    assert (actor, action) == (ADMIN, "on_northca") and at > 0 and "cannot tell whether this one is there" in detail
    assert [(a, act) for a, act, _, _ in await svc.store.audit_of(GUILD, not_there.id)] == [(OWNER, "send_anyway")]


async def test_one_malformed_item_does_not_block_confirming(service, worker, sandbox):
    sandbox.faults.add("commit_then_500", times=1, method="POST", path=r"/shifts$")
    shift = await service.start(GUILD, OFFICER, display_name="A", department="Patrol")
    # A badly typed record among the newest, with the same status and department.
    sandbox.plant_shift(MDT, {"id": "bad-1", "status": "completed", "department": "Patrol", "duration_ms": "two hours"})
    await service.end(GUILD, OFFICER)
    done = await settled(service, shift.id)
    assert done.synced
    assert copies(sandbox, shift.id) == 1 and len(shift_posts(sandbox)) == 1


async def test_retry_after_of_a_day_schedules_the_shift_within_the_cap(service, worker, sandbox):
    sandbox.faults.add("429", times=1, method="POST", path=r"/shifts$", retry_after=86400)
    shift = await service.start(GUILD, OFFICER, display_name="A")
    await service.end(GUILD, OFFICER)
    waiting = await first_verdict(service, shift.id)
    assert waiting.sync_state == "pending" and waiting.next_attempt_ms is not None
    assert waiting.next_attempt_ms - waiting.last_attempt_ms <= 5 * 60 * 1000
    # And once the wait is over (brought forward here) it goes out.
    await service.retry(GUILD, shift.id)
    assert (await settled(service, shift.id)).synced


async def test_send_anyway_allows_one_write_only(db, client, linked, sandbox):
    svc = make_service(db, client)
    w = ShiftWorker(svc)
    await w.start()
    try:
        sandbox.faults.add("500", times=10_000, method="GET", path=r"/shifts$")
        sandbox.faults.add("500", times=1, method="POST", path=r"/shifts$")
        shift = await svc.start(GUILD, OFFICER, display_name="A", department="Patrol")
        await svc.end(GUILD, OFFICER)
        await first_verdict(svc, shift.id)
        plant_backlog(sandbox, 205)
        sandbox.faults.clear()
        assert (await settled(svc, shift.id)).unconfirmed
        # The approved write fails ambiguously too: the bot cannot tell again, so it asks again.
        sandbox.faults.add("500", times=1, method="POST", path=r"/shifts$")
        since = now_ms()
        await svc.decide(GUILD, shift.id, ADMIN, "send_anyway")
        again = await svc.wait_for_sync(shift.id, 10, since_ms=since)
        assert again is not None and again.unconfirmed and again.write_approved_by is None
    finally:
        await w.stop()
    assert len(shift_posts(sandbox)) == 2 and copies(sandbox, shift.id) == 0


async def test_totals_follow_the_guilds_week_start_and_time_zone(db, client, linked):
    from bot.core.config import StatusConfig
    from bot.core.settings.records import StaticSettings, defaults_from

    base = defaults_from(ShiftConfig(), StatusConfig())
    sunday_weeks = StaticSettings(dataclasses.replace(base, week_start="sunday", timezone="America/Chicago"))
    svc = build_shift_service(
        db, LinkService(LinkStore(db), client), ProfileStore(db), client, ShiftConfig(), settings=sunday_weeks
    )
    await svc.start(GUILD, OFFICER, display_name="A", at=T0 - timedelta(days=3))  # Sunday: this week from Sunday
    await svc.end(GUILD, OFFICER, at=T0 - timedelta(days=3) + 120 * MIN)
    totals = await svc.totals(GUILD, OFFICER, now=T0)
    assert totals.week_ms == 120 * 60_000
    assert totals.week_start.weekday() == 6 and str(totals.week_start.tzinfo) == "America/Chicago"
    await svc.drain()


async def test_one_callsign_taken_at_once_by_starts_in_five_processes_and_a_profile_goes_to_one(processes) -> None:
    """The "callsign not in use" check of a start is raced by another process's start or /profile change on
    PostgreSQL (transactions side by side) unless both hold the callsign's turn."""
    for round_ in range(12):
        callsign = f"ADAM-{round_}"
        starts = [
            store.insert_open(
                shift_id=str(uuid.uuid4()), guild_id=GUILD, member_id=OFFICER + 10 * round_ + n, mdt_id=MDT,
                officer_name="Officer", officer_badge=None, department=None, callsign=callsign, started_ms=1,
            )
            for n, store in enumerate(processes)
        ]  # fmt: skip
        profile = ProfileStore(processes[0].db).update(GUILD, OTHER + round_, callsign=callsign)

        outcomes = await asyncio.gather(*starts, profile, return_exceptions=True)

        opened = [o for o in outcomes[:-1] if isinstance(o, ShiftRecord)]
        profile_set = not isinstance(outcomes[-1], BaseException)
        assert all(o is None or isinstance(o, ShiftRecord) for o in outcomes[:-1]), outcomes
        assert isinstance(outcomes[-1], OfficerProfile | Conflict), outcomes
        # One of the six holds the callsign: one shift opened, or the profile set; never two.
        assert len(opened) + int(profile_set) == 1, (round_, outcomes)


@pytest.mark.sqlite_only("builds a database as the bot left it before migration 031, with sqlite3")
async def test_a_shift_open_before_roles_were_recorded_gives_back_the_roles_the_settings_name(tmp_path, client):
    import sqlite3

    from bot.core.shifts.records import RoleChange
    from bot.storage import _migrations, _statements

    path = tmp_path / "old.sqlite3"
    old = sqlite3.connect(path)
    old.execute("CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT)")
    for version, name, sql in _migrations():
        if version < 31:
            for statement in _statements(sql):
                old.execute(statement)
            old.execute("INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, 'x')", (version, name))
    old.execute(
        "INSERT INTO shifts (id, guild_id, member_id, mdt_id, officer_name, started_ms) VALUES ('s1', ?, ?, ?, 'O', 1)",
        (GUILD, OFFICER, MDT),
    )
    old.commit()
    old.close()

    db = Database(path)
    await db.open()  # migration 031 marks the open shift
    try:
        service = make_service(db, client, on_duty_role_id=7001)
        shift = await service.store.get("s1")
        assert shift is not None
        assert await service.role_changes(shift, "end") == [RoleChange(7001, False, "duty")]
        # A shift started now is recorded: the end takes back what was recorded, not the setting.
        await service.store.insert_open(
            shift_id="s2", guild_id=GUILD, member_id=OTHER, mdt_id=MDT, officer_name="O", officer_badge=None,
            department=None, callsign=None, started_ms=2,
        )  # fmt: skip
        s2 = await service.store.get("s2")
        assert s2 is not None
        [give] = await service.role_changes(s2, "start")
        assert give == RoleChange(7001, True, "duty")
        await service.record_given_role("s2", give)
        # The On Duty role is another one now, in a restarted (or another) process.
        switched = make_service(db, client, on_duty_role_id=7002)
        assert await switched.role_changes(s2, "end") == [RoleChange(7001, False, "duty")]
    finally:
        await db.close()
