"""Unit status without Discord: the coalescer against the real sandbox over HTTP, and the
status service on a real SQLite file."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.core.config import ShiftConfig, StatusConfig
from bot.core.errors import ErrorKind, InvalidInput, NotLinked
from bot.core.links import LinkService, LinkStore
from bot.core.profiles import ProfileStore
from bot.core.shifts import DutyChanged, ShiftService
from bot.core.unit_status import OffDuty, PanelsStale, UnitChange, UnitCoalescer
from bot.northca.client import NorthcaClient
from bot.northca.models import ActiveUnitUpsert
from bot.northca.sandbox import NorthcaSandbox
from bot.ops.services import build_shift_service, build_status_service
from bot.storage import Database
from tests.helpers.bot import link_guild_in
from tests.helpers.ids import GUILD, MDT, OFFICER, OTHER
from tests.helpers.northca import unit_puts


def change(
    version: int, unit_id: str = "ADAM-12", status: str = "10-8", member: int = OFFICER, guild: int = GUILD
) -> UnitChange:
    unit = ActiveUnitUpsert(
        id=unit_id, officer_name="B. Bubbleton", officer_badge="512", department="Patrol", rank="PO", status=status
    )
    return UnitChange(guild, MDT, member, version, unit, actor_id=member)


@pytest.fixture
async def coalescer(client: NorthcaClient, sandbox: NorthcaSandbox) -> AsyncIterator[UnitCoalescer]:
    sandbox.link(GUILD, MDT)
    c = UnitCoalescer(client, 0.05, backoff_base=0.02, backoff_max=0.1)
    await c.start()
    yield c
    await c.stop()


# --- the coalescer ------------------------------------------------------------------


async def test_changes_in_one_window_become_one_put_with_each_unit_once(coalescer, sandbox):
    for version, status in enumerate(["10-8", "10-6", "10-23"], start=1):
        coalescer.submit(change(version, status=status))
    coalescer.submit(change(4, unit_id="LINCOLN-3", status="10-97", member=OTHER))

    assert await coalescer.flush()

    assert coalescer.puts_sent == 1 and coalescer.largest_put == 2
    [units] = unit_puts(sandbox)
    assert sorted(u["id"] for u in units) == ["ADAM-12", "LINCOLN-3"]
    state = sandbox.units(MDT)
    assert state["ADAM-12"]["status"] == "10-23" and state["LINCOLN-3"]["status"] == "10-97"
    assert state["ADAM-12"]["officer_name"] == "B. Bubbleton" and state["ADAM-12"]["rank"] == "PO"


async def test_an_older_change_arriving_late_is_ignored(coalescer, sandbox):
    assert coalescer.submit(change(7, status="10-6"))
    assert not coalescer.submit(change(6, status="10-8"))
    assert await coalescer.flush()
    assert sandbox.units(MDT)["ADAM-12"]["status"] == "10-6"
    # Also once the newer one has been sent: the late one never goes out.
    assert not coalescer.submit(change(5, status="10-97"))
    assert await coalescer.flush()
    assert [u["status"] for units in unit_puts(sandbox) for u in units] == ["10-6"]


async def test_a_change_made_while_a_put_is_out_goes_in_the_next_one(coalescer, sandbox):
    sandbox.faults.latency = 0.3
    coalescer.submit(change(1, status="10-8"))
    assert await coalescer.wait_until(lambda c: c.puts_sent == 1)
    coalescer.submit(change(2, status="10-6"))  # the first PUT is still out

    assert await coalescer.flush()

    assert [[u["status"] for u in units] for units in unit_puts(sandbox)] == [["10-8"], ["10-6"]]
    assert sandbox.units(MDT)["ADAM-12"]["status"] == "10-6"


async def test_at_most_one_put_per_window(client, sandbox):
    sandbox.link(GUILD, MDT)
    coalescer = UnitCoalescer(client, 0.2)
    await coalescer.start()
    try:
        coalescer.submit(change(1))
        assert await coalescer.wait_until(lambda c: c.puts_sent == 1 and c.pending_units == 0)
        coalescer.submit(change(2, status="10-6"))  # right after the first PUT: waits for the window
        assert await coalescer.flush()
    finally:
        await coalescer.stop()
    assert [ids for _, ids in coalescer.sent_log] == [["ADAM-12"], ["ADAM-12"]]
    (first, _), (second, _) = coalescer.sent_log
    assert second - first >= 0.2
    assert sandbox.units(MDT)["ADAM-12"]["status"] == "10-6"


async def test_failures_are_retried_with_the_newest_state(coalescer, sandbox):
    sandbox.faults.latency = 0.2
    sandbox.faults.add("500", times=2, path="/units/active")
    coalescer.submit(change(1, status="10-8"))
    assert await coalescer.wait_until(lambda c: c.puts_sent == 1)
    coalescer.submit(change(2, status="10-97"))  # made while the request that will fail is out

    assert await coalescer.flush()

    # The failed 10-8 is never sent again once 10-97 exists: every retry carries 10-97.
    assert [[u["status"] for u in units] for units in unit_puts(sandbox)] == [["10-8"], ["10-97"], ["10-97"]]
    assert sandbox.units(MDT)["ADAM-12"]["status"] == "10-97"
    assert coalescer.puts_failed == 2 and coalescer.units_sent == 1


async def test_answer_lost_after_commit_is_sent_again(coalescer, sandbox):
    sandbox.faults.add("commit_then_500", times=1, path="/units/active")
    coalescer.submit(change(1, status="10-23"))
    assert await coalescer.flush()
    assert coalescer.puts_sent == 2 and coalescer.units_sent == 1
    assert sandbox.units(MDT)["ADAM-12"]["status"] == "10-23"


async def test_rate_limit_waits_as_told(coalescer, sandbox):
    sandbox.faults.add("429", times=1, path="/units/active", retry_after=0.3)
    coalescer.submit(change(1))
    assert await coalescer.wait_until(lambda c: c.puts_failed == 1)
    failed_at = next(r for r in sandbox.requests if r.method == "PUT")
    assert await coalescer.flush()
    assert sandbox.units(MDT)["ADAM-12"]["status"] == "10-8"
    assert coalescer.puts_sent == 2 and failed_at.status == 429


async def test_a_refusal_is_not_retried(coalescer, sandbox):
    sandbox.unlink(GUILD, MDT)
    coalescer.submit(change(1))
    assert await coalescer.flush()
    assert coalescer.puts_sent == 1 and coalescer.units_refused == 1
    assert sandbox.units(MDT) == {}


async def test_without_batching_every_change_is_its_own_put_in_order(client, sandbox):
    sandbox.link(GUILD, MDT)
    coalescer = UnitCoalescer(client, 0)
    await coalescer.start()
    try:
        sandbox.faults.latency = 0.05
        coalescer.submit(change(1, status="10-8"))
        coalescer.submit(change(2, unit_id="LINCOLN-3", member=OTHER, status="10-6"))
        assert await coalescer.wait_until(lambda c: c.puts_sent == 2)
        coalescer.submit(change(3, status="10-23"))
        assert await coalescer.flush()
    finally:
        await coalescer.stop()
    assert coalescer.puts_sent == 3 and coalescer.largest_put == 1
    assert sandbox.units(MDT)["ADAM-12"]["status"] == "10-23"
    assert sandbox.units(MDT)["LINCOLN-3"]["status"] == "10-6"


# --- the status service ---------------------------------------------------------------


class Env:
    def __init__(
        self,
        db: Database,
        client: NorthcaClient,
        sandbox: NorthcaSandbox,
        config: StatusConfig,
        shifts: ShiftService | None,
        sharded: bool = False,
    ):
        self.db, self.client, self.sandbox, self.config = db, client, sandbox, config
        self.links = LinkService(LinkStore(db), client)
        self.profiles = ProfileStore(db)
        self.coalescer = UnitCoalescer(client, config.batch_window_ms / 1000, backoff_base=0.02, backoff_max=0.1)
        self.svc = build_status_service(
            db, self.links, self.profiles, config, self.coalescer, shifts=shifts, sharded=sharded
        )

    async def start(self) -> None:
        await self.coalescer.start()
        await self.svc.start()

    async def stop(self) -> None:
        await self.svc.stop()
        await self.coalescer.stop()


@pytest.fixture
async def env(db, client, sandbox, linked) -> AsyncIterator[Env]:
    e = Env(db, client, sandbox, StatusConfig(batch_window_ms=30), None)
    await e.start()
    yield e
    await e.stop()


async def test_set_status_records_and_sends_the_officer_unit(env, sandbox):
    await env.profiles.update(
        GUILD, OFFICER, callsign="ADAM-12", badge="512", rank="PO", department="Patrol", name="B. Bubbleton"
    )

    result = await env.svc.set_status(GUILD, OFFICER, "10-23", display_name="bubbles", actor_id=OFFICER)

    assert (result.code.code, result.code.label, result.status.callsign) == ("10-23", "On scene", "ADAM-12")
    stored = await env.svc.status_of(GUILD, OFFICER)
    assert (stored.status, stored.callsign, stored.synced) == ("10-23", "ADAM-12", False)
    assert await env.coalescer.flush()
    unit = sandbox.units(MDT)["ADAM-12"]
    assert {k: unit[k] for k in ("id", "officer_name", "officer_badge", "department", "rank", "status")} == {
        "id": "ADAM-12",
        "officer_name": "B. Bubbleton",
        "officer_badge": "512",
        "department": "Patrol",
        "rank": "PO",
        "status": "10-23",
    }
    assert (await env.svc.status_of(GUILD, OFFICER)).synced
    put = [r for r in sandbox.requests if r.method == "PUT"][-1]
    assert put.headers["x-discord-guild"] == str(GUILD) and put.headers["x-discord-actor"] == str(OFFICER)


async def test_unset_profile_fields_are_sent_as_unset(env, sandbox):
    await env.profiles.update(GUILD, OFFICER, callsign="ADAM-12")
    await env.svc.set_status(GUILD, OFFICER, "10-8", display_name="Bubbles")
    assert await env.coalescer.flush()
    [units] = unit_puts(sandbox)
    assert units == [
        {
            "id": "ADAM-12",
            "officer_name": "Bubbles",
            "officer_badge": "",
            "department": "",
            "rank": "",
            "status": "10-8",
        }
    ]


async def test_no_callsign_says_what_to_do(env, sandbox):
    with pytest.raises(InvalidInput) as info:
        await env.svc.set_status(GUILD, OFFICER, "10-8")
    assert info.value.kind is ErrorKind.CALLSIGN_NEEDED
    assert await env.svc.status_of(GUILD, OFFICER) is None and len(sandbox.requests) == 0


async def test_unknown_code_and_unlinked_server_are_refused(env, db):
    await env.profiles.update(GUILD, OFFICER, callsign="ADAM-12")
    with pytest.raises(InvalidInput) as unknown:
        await env.svc.set_status(GUILD, OFFICER, "10-99")
    assert unknown.value.kind is ErrorKind.UNKNOWN_STATUS_CODE
    assert unknown.value.data == {"value": "10-99", "known": ("10-8", "10-6", "10-7", "10-23", "10-97")}
    await LinkStore(db).delete(GUILD)
    with pytest.raises(NotLinked):
        await env.svc.set_status(GUILD, OFFICER, "10-8")


async def test_versions_grow_and_the_newest_wins(env, sandbox):
    await env.profiles.update(GUILD, OFFICER, callsign="ADAM-12")
    first = await env.svc.set_status(GUILD, OFFICER, "10-8")
    second = await env.svc.set_status(GUILD, OFFICER, "10-6")
    assert second.status.version > first.status.version and second.previous == "10-8"
    assert await env.coalescer.flush()
    assert sandbox.units(MDT)["ADAM-12"]["status"] == "10-6"
    assert unit_puts(sandbox) == [[{**unit_puts(sandbox)[0][0], "status": "10-6"}]]


async def test_unsent_statuses_are_sent_after_a_restart(db, client, sandbox):
    await link_guild_in(db, sandbox)
    config = StatusConfig(batch_window_ms=30)
    first = Env(db, client, sandbox, config, None)
    await first.start()
    await first.profiles.update(GUILD, OFFICER, callsign="ADAM-12")
    await first.profiles.update(GUILD, OTHER, callsign="LINCOLN-3")
    sandbox.faults.add("500", times=1000, path="/units/active")  # Northca is down
    await first.svc.set_status(GUILD, OFFICER, "10-97")
    await first.svc.set_status(GUILD, OTHER, "10-6")
    assert await first.coalescer.wait_until(lambda c: c.puts_failed >= 2)
    await first.stop()
    assert sandbox.units(MDT) == {}
    assert not (await first.svc.status_of(GUILD, OFFICER)).synced

    sandbox.faults.clear()  # Northca is back
    second = Env(db, client, sandbox, config, None)
    await second.start()
    try:
        assert await second.coalescer.flush()
        assert second.coalescer.puts_sent == 1
        assert {k: v["status"] for k, v in sandbox.units(MDT).items()} == {"ADAM-12": "10-97", "LINCOLN-3": "10-6"}
        assert (await second.svc.status_of(GUILD, OTHER)).synced
    finally:
        await second.stop()


async def test_off_duty_officer_is_asked_to_start_a_shift(db, client, sandbox):
    await link_guild_in(db, sandbox)
    links, profiles = LinkService(LinkStore(db), client), ProfileStore(db)
    shifts = build_shift_service(db, links, profiles, client, ShiftConfig())
    e = Env(db, client, sandbox, StatusConfig(batch_window_ms=30), shifts)
    await e.start()
    try:
        await profiles.update(GUILD, OFFICER, callsign="ADAM-12")
        with pytest.raises(OffDuty) as info:
            await e.svc.set_status(GUILD, OFFICER, "10-23")
        assert info.value.kind is ErrorKind.OFF_DUTY_STATUS and info.value.data == {
            "code": "10-23",
            "label": "On scene",
        }
        # Out of service needs no shift.
        await e.svc.set_status(GUILD, OFFICER, "10-7")
        await shifts.start(GUILD, OFFICER, display_name="Bubbles", department="Traffic")
        result = await e.svc.set_status(GUILD, OFFICER, "10-23")
        assert result.status.department == "Traffic"  # the shift's department is the current one
    finally:
        await e.stop()


@pytest.mark.parametrize("sharded", [False, True], ids=["versions-counted-in-process", "versions-from-database"])
async def test_the_change_made_last_wins_even_when_checked_faster(db, client, sandbox, sharded):
    """10-7 needs no shift check, so it is checked faster than the 10-23 made just before it:
    still 10-7 is the officer's status, locally and on Northca."""
    await link_guild_in(db, sandbox)
    links, profiles = LinkService(LinkStore(db), client), ProfileStore(db)
    shifts = build_shift_service(db, links, profiles, client, ShiftConfig())
    e = Env(db, client, sandbox, StatusConfig(batch_window_ms=30), shifts, sharded)
    await e.start()
    try:
        await profiles.update(GUILD, OFFICER, callsign="ADAM-12")
        await shifts.start(GUILD, OFFICER, display_name="Bubbles")
        scene, out = await asyncio.gather(
            e.svc.set_status(GUILD, OFFICER, "10-23"), e.svc.set_status(GUILD, OFFICER, "10-7")
        )
        assert scene.status.version < out.status.version
        assert (await e.svc.status_of(GUILD, OFFICER)).status == "10-7"
        assert await e.coalescer.flush()
        assert sandbox.units(MDT)["ADAM-12"]["status"] == "10-7"
    finally:
        await e.stop()


async def test_off_duty_rule_can_be_switched_off(db, client, sandbox):
    await link_guild_in(db, sandbox)
    links, profiles = LinkService(LinkStore(db), client), ProfileStore(db)
    shifts = build_shift_service(db, links, profiles, client, ShiftConfig())
    e = Env(db, client, sandbox, StatusConfig(batch_window_ms=30, off_duty="allow"), shifts)
    await e.start()
    try:
        await profiles.update(GUILD, OFFICER, callsign="ADAM-12")
        assert (await e.svc.set_status(GUILD, OFFICER, "10-23")).status.status == "10-23"
    finally:
        await e.stop()


async def test_shift_start_and_end_set_the_duty_codes(env, sandbox):
    await env.profiles.update(GUILD, OFFICER, callsign="ADAM-12")
    assert await env.svc.on_duty_changed(GUILD, OTHER, True) is None  # no callsign: nothing to set
    await env.svc.on_duty_changed(GUILD, OFFICER, True, "Bubbles")
    assert (await env.svc.status_of(GUILD, OFFICER)).status == "10-8"
    await env.svc.on_duty_changed(GUILD, OFFICER, False)
    assert (await env.svc.status_of(GUILD, OFFICER)).status == "10-7"
    assert await env.coalescer.flush()
    assert sandbox.units(MDT)["ADAM-12"]["status"] == "10-7"
    assert sandbox.units(MDT)["ADAM-12"]["officer_name"] == "Bubbles"  # kept from the last change


async def test_a_burst_of_shift_starts_and_ends_reads_the_unit_context_once_per_group(env, sandbox):
    """The duty listener reads what a change needs (link, profile, open shift, current record) in one grouped query:
    a burst of starts and ends of many officers costs one read for all of them, and each still gets its own code."""
    officers = range(OFFICER + 1, OFFICER + 41)
    for n, member in enumerate(officers):
        if n % 2 == 0:  # half of them have a unit; the others' starts and ends set nothing
            await env.profiles.update(GUILD, member, callsign=f"UNIT-{n}")
    reads: list[str] = []
    if env.db.engine == "sqlite":
        await env.db._raw.set_trace_callback(
            lambda sql: reads.append(sql) if sql.lstrip().startswith(("SELECT", "WITH")) else None
        )
    try:
        started = await asyncio.gather(*(env.svc.on_duty_changed(GUILD, m, True) for m in officers))
    finally:
        if env.db.engine == "sqlite":
            await env.db._raw.set_trace_callback(None)
    assert [c is not None for c in started] == [n % 2 == 0 for n in range(40)]
    assert {c.status.status for c in started if c is not None} == {"10-8"}
    if env.db.engine == "sqlite":
        assert len(reads) == 1
    ended = await asyncio.gather(*(env.svc.on_duty_changed(GUILD, m, False) for m in officers))
    assert {c.status.status for c in ended if c is not None} == {"10-7"}
    assert await env.coalescer.flush()
    assert {u["status"] for unit_id, u in sandbox.units(MDT).items() if unit_id.startswith("UNIT-")} == {"10-7"}


async def test_new_callsign_retires_the_old_unit(env, sandbox):
    await env.profiles.update(GUILD, OFFICER, callsign="ADAM-12")
    await env.svc.set_status(GUILD, OFFICER, "10-8")
    assert await env.coalescer.flush()
    await env.profiles.update(GUILD, OFFICER, callsign="ADAM-15", rank="SGT")
    await env.svc.refresh_profile(GUILD, OFFICER)
    assert await env.coalescer.flush()
    units = sandbox.units(MDT)
    assert units["ADAM-12"]["status"] == "10-7"
    assert units["ADAM-15"]["status"] == "10-8" and units["ADAM-15"]["rank"] == "SGT"
    assert (await env.svc.status_of(GUILD, OFFICER)).synced


async def test_panels_are_rendered_at_most_once_per_window(env):
    rendered: list[int] = []

    async def renderer(event: PanelsStale) -> None:
        rendered.append(event.guild_id)

    env.svc.events.panels.subscribe(renderer)
    await env.profiles.update(GUILD, OFFICER, callsign="ADAM-12")
    for code in ["10-8", "10-6", "10-23", "10-97", "10-8"]:
        await env.svc.set_status(GUILD, OFFICER, code)
    assert await env.svc.wait_rendered()
    assert rendered == [GUILD] and env.svc.renders == 1
    board = await env.svc.board(GUILD)
    assert [u.callsign for u in board["10-8"]] == ["ADAM-12"] and board["10-6"] == []


# --- ordering across restarts, duty codes, rate limits, shift units ---------------


async def test_released_callsign_stale_status_does_not_overwrite_new_owner_after_restart(db, client, sandbox):
    await link_guild_in(db, sandbox)
    config = StatusConfig(batch_window_ms=30)
    first = Env(db, client, sandbox, config, None)
    await first.start()
    await first.profiles.update(GUILD, OFFICER, callsign="ADAM-12", name="X Ray")
    await first.svc.set_status(GUILD, OFFICER, "10-8")
    assert await first.coalescer.flush()
    sandbox.unlink(GUILD, MDT)  # Northca refuses unit updates
    await first.profiles.update(GUILD, OFFICER, callsign=None)  # X drops ADAM-12: recorded as 10-7, refused
    await first.svc.refresh_profile(GUILD, OFFICER)
    assert await first.coalescer.flush()
    assert not (await first.svc.status_of(GUILD, OFFICER)).synced
    sandbox.link(GUILD, MDT)
    await first.profiles.update(GUILD, OTHER, callsign="ADAM-12", name="Yankee")  # Y takes ADAM-12
    await first.svc.set_status(GUILD, OTHER, "10-8")
    assert await first.coalescer.flush()
    assert (await first.svc.status_of(GUILD, OTHER)).synced
    await first.stop()
    puts_before_restart = len(unit_puts(sandbox))

    second = Env(db, client, sandbox, config, None)
    await second.start()
    try:
        assert await second.coalescer.flush()
        await second.svc.resend_unsynced()  # the periodic pass decides the same way
        assert await second.coalescer.flush()
        # ADAM-12 is Yankee's: X's old record is neither waiting for Northca nor on the board.
        assert (await second.svc.status_of(GUILD, OFFICER)).synced
        board = await second.svc.board(GUILD)
        assert [(u.callsign, u.member_id) for u in board["10-8"]] == [("ADAM-12", OTHER)] and board["10-7"] == []
    finally:
        await second.stop()
    unit = sandbox.units(MDT)["ADAM-12"]
    assert (unit["officer_name"], unit["status"]) == ("Yankee", "10-8")
    assert unit_puts(sandbox)[puts_before_restart:] == []


async def test_retry_after_does_not_freeze_the_lane_beyond_the_cap(coalescer, sandbox):
    sandbox.faults.add("429", times=1, path="/units/active", retry_after=86400)
    coalescer.submit(change(1))
    assert await coalescer.wait_until(lambda c: c.puts_failed == 1)
    assert 0 < coalescer.wait_left(MDT) <= 300


async def test_a_later_success_on_the_same_mdt_releases_a_rate_limited_lane(client, sandbox):
    sandbox.link(GUILD, MDT)
    coalescer = UnitCoalescer(client, 0)  # one lane per unit: another unit's request can succeed meanwhile
    await coalescer.start()
    try:
        sandbox.faults.add("429", times=1, path="/units/active", retry_after=86400)
        coalescer.submit(change(1, status="10-97"))
        assert await coalescer.wait_until(lambda c: c.puts_failed == 1)
        assert coalescer.wait_left(MDT) > 60  # held back by the (capped) Retry-After
        coalescer.submit(change(2, unit_id="LINCOLN-3", member=OTHER, status="10-6"))
        assert await coalescer.flush(timeout=10)  # the success on the MDT released the lane at once
    finally:
        await coalescer.stop()
    assert sandbox.units(MDT)["ADAM-12"]["status"] == "10-97"
    assert sandbox.units(MDT)["LINCOLN-3"]["status"] == "10-6"


@pytest.mark.parametrize("sharded", [False, True], ids=["versions-counted-in-process", "versions-from-database"])
async def test_officer_click_is_not_overwritten_by_the_automatic_on_duty_code(db, client, sandbox, sharded):
    await link_guild_in(db, sandbox)
    links, profiles = LinkService(LinkStore(db), client), ProfileStore(db)
    shifts = build_shift_service(db, links, profiles, client, ShiftConfig())
    e = Env(db, client, sandbox, StatusConfig(batch_window_ms=30), shifts, sharded)
    await e.start()
    listener_may_run = asyncio.Event()

    async def busy_listener(event: DutyChanged) -> None:
        await listener_may_run.wait()  # the duty listeners run later than the officer's click

    async def status_listener(event: DutyChanged) -> None:
        await e.svc.on_duty_changed(event.guild_id, event.member_id, event.on_duty, "Bubbles")

    # The status service stamps the duty events itself (subscribed when built, as build_services does).
    shifts.events.duty.subscribe(busy_listener)
    shifts.events.duty.subscribe(status_listener)
    try:
        await profiles.update(GUILD, OFFICER, callsign="ADAM-12")
        await shifts.start(GUILD, OFFICER, display_name="Bubbles")
        click = await e.svc.set_status(GUILD, OFFICER, "10-97", actor_id=OFFICER)
        assert click.code.code == "10-97"
        listener_may_run.set()
        await shifts.drain()
        assert (await e.svc.status_of(GUILD, OFFICER)).status == "10-97"
        assert await e.coalescer.flush()
        assert sandbox.units(MDT)["ADAM-12"]["status"] == "10-97"
        # A later end still sets the off-duty code.
        await shifts.end(GUILD, OFFICER)
        await shifts.drain()
        assert (await e.svc.status_of(GUILD, OFFICER)).status == "10-7"
    finally:
        await e.stop()
