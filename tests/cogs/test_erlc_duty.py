"""Duty from the game, through the offline harness with the PRC sandbox and the Northca sandbox on loopback:
`/erlc in-game-required` makes /shift start and the panel's On duty button refuse an unverified member and one not
in the game server now (the presence store, filled by a poll the test runs), and let one in game on duty;
`/erlc team-department` gives a shift started from Discord the department of the member's in-game team."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator

import pytest

from bot.core.settings import ChannelFacts
from bot.erlc.sandbox import PrcSandbox
from bot.northca.sandbox import NorthcaSandbox
from tests.harness import Harness, builders
from tests.helpers.bot import BotStarter, link_guild
from tests.helpers.clock import Clock
from tests.helpers.erlc import connect_game, prc_sandbox
from tests.helpers.ids import ADMIN, ADMIN_M, GUILD, LOG_CH, MDT, OFFICER, OFFICER_M, OTHER
from tests.helpers.waiting import until

pytestmark = pytest.mark.asyncio

SERVER_KEY = "prc-duty-key-N3verL0gMe"
ROBLOX_ID = 101


@pytest.fixture
async def prc() -> AsyncIterator[PrcSandbox]:
    async with prc_sandbox(SERVER_KEY) as sandbox:
        yield sandbox


async def boot(start_bot: BotStarter, prc: PrcSandbox, sandbox: NorthcaSandbox, clock: Clock) -> Harness:
    h = await start_bot(game=prc, clock=clock)
    h.add_guild(
        GUILD, name="Test County RP", owner_id=ADMIN, members=[ADMIN_M, OFFICER_M],
        channels=[builders.channel(LOG_CH, guild_id=GUILD, name="shift-log")],
    )  # fmt: skip
    await h.bot.settings.set_channel(GUILD, ADMIN, "shift-log", ChannelFacts(LOG_CH, "shift-log"))
    await link_guild(h.bot, sandbox)
    done = await connect_game(h, SERVER_KEY)
    assert done.content.startswith("✅ Connected"), done.content
    return h


async def start(h, **options):
    return await h.slash("shift", sub="start", member=OFFICER_M, guild_id=GUILD, options=options)


async def test_in_game_required_refuses_unverified_and_out_of_game_members_and_lets_one_in_game_on_duty(
    start_bot, prc: PrcSandbox, sandbox
):
    clock = Clock()
    h = await boot(start_bot, prc, sandbox, clock)
    # Off by default: an unverified member goes on duty as before.
    assert (await start(h)).content.startswith("You are on duty since <t:")
    await h.bot.shifts.end(GUILD, OFFICER)

    not_admin = await h.slash("erlc in-game-required", member=OFFICER_M, guild_id=GUILD, options={"required": True})
    assert "Manage Server" in not_admin.content and not h.bot.settings.get(GUILD).erlc_in_game_required
    on = await h.slash("erlc in-game-required", member=ADMIN_M, guild_id=GUILD, options={"required": True})
    assert on.content.startswith("Going on duty now needs the member verified")

    unverified = await start(h)
    assert unverified.ephemeral and "verify first with /erlc verify" in unverified.content
    panel = await h.slash("shift", sub="panel", member=OFFICER_M, guild_id=GUILD)
    pressed = await h.click("northca:shift:panel:start", member=OFFICER_M, guild_id=GUILD, message=panel)
    assert "verify first with /erlc verify" in (await pressed.followup()).content  # after the panel's refresh
    assert await h.bot.shifts.open_shift(GUILD, OFFICER) is None

    # Verified, but not in the game server (another player is).
    await h.bot.erlc.staff_link(GUILD, ADMIN, OFFICER, ROBLOX_ID)
    prc.join(SERVER_KEY, 555, "SomeoneElse", team="Police")
    assert (await h.bot.erlc.poll(GUILD)).ok
    away = await start(h)
    assert "You are not in the ER:LC game server now" in away.content
    pressed = await h.click("northca:shift:panel:start", member=OFFICER_M, guild_id=GUILD, message=panel)
    assert "You are not in the ER:LC game server now" in (await pressed.followup()).content
    assert await h.bot.shifts.open_shift(GUILD, OFFICER) is None

    prc.join(SERVER_KEY, ROBLOX_ID, "OfficerBob", team="Sheriff", callsign="1A-12")
    clock.advance(5)
    assert (await h.bot.erlc.poll(GUILD)).ok
    pressed = await h.click("northca:shift:panel:start", member=OFFICER_M, guild_id=GUILD, message=panel)
    assert (await pressed.final()).embeds[0]["title"] == "On duty"  # the panel itself, edited in place
    assert (await h.bot.shifts.open_shift(GUILD, OFFICER)).started_ms == clock.ms

    # Shown and audited like every setting.
    show = await h.slash("settings show", member=ADMIN_M, guild_id=GUILD)
    fields = {f["name"]: f["value"] for f in show.embeds[0]["fields"]}
    assert "In game required for duty: yes" in fields["ER:LC (the game)"]
    assert len(show.embeds[0]["fields"]) <= 25
    history = await h.slash("settings history", member=ADMIN_M, guild_id=GUILD)
    assert (
        f"<@{ADMIN}> **In game required for duty**: no → yes (verified and in the ER:LC server)"
        in history.embeds[0]["description"]
    )


async def test_a_shift_started_in_game_on_a_mapped_team_carries_its_department(start_bot, prc: PrcSandbox, sandbox):
    clock = Clock()
    h = await boot(start_bot, prc, sandbox, clock)
    unknown = await h.slash(
        "erlc team-department", member=ADMIN_M, guild_id=GUILD, options={"team": "Police", "department": "SWAT"}
    )
    assert "“SWAT” is not one of this server's departments" in unknown.content
    mapped = await h.slash(
        "erlc team-department", member=ADMIN_M, guild_id=GUILD, options={"team": "Police", "department": "traffic"}
    )
    assert "on the Police team now carries **Traffic**" in mapped.content
    show = await h.slash("settings show", member=ADMIN_M, guild_id=GUILD)
    fields = {f["name"]: f["value"] for f in show.embeds[0]["fields"]}
    assert "ER:LC teams to departments: Police → Traffic" in fields["ER:LC (the game)"]

    await h.bot.erlc.staff_link(GUILD, ADMIN, OFFICER, ROBLOX_ID)
    prc.join(SERVER_KEY, ROBLOX_ID, "OfficerBob", team="Police", callsign="1A-12")
    assert (await h.bot.erlc.poll(GUILD)).ok
    assert (await start(h)).content.startswith("You are on duty since <t:")
    shift = await h.bot.shifts.open_shift(GUILD, OFFICER)
    assert shift.department == "Traffic"
    ended = await h.bot.shifts.end(GUILD, OFFICER)
    await until(lambda: [s["id"] for s in sandbox.shifts(MDT)] == [ended.id], 5, "the shift on Northca")
    assert sandbox.shifts(MDT)[0]["department"] == "Traffic"

    # The member's own choice wins over the team's.
    assert (await start(h, department="EMS")).content.startswith("You are on duty since <t:")
    assert (await h.bot.shifts.open_shift(GUILD, OFFICER)).department == "EMS"
    await h.bot.shifts.end(GUILD, OFFICER)
    # On an unmapped team (Fire): no department from the game.
    prc.set_team(SERVER_KEY, ROBLOX_ID, "Fire")
    clock.advance(5)
    assert (await h.bot.erlc.poll(GUILD)).ok
    await start(h)
    assert (await h.bot.shifts.open_shift(GUILD, OFFICER)).department is None
    await h.bot.shifts.end(GUILD, OFFICER)
    removed = await h.slash("erlc team-department", member=ADMIN_M, guild_id=GUILD, options={"team": "Police"})
    assert "no longer mapped" in removed.content and h.bot.settings.get(GUILD).erlc_team_departments == ()


# --- gamelock -----------------------------------------------------------------------------------------------


def dms_to(h, user_id: int) -> list[str]:
    channels = {c for c, u in h.fake.dm_channels.items() if u == user_id}
    return [
        str(r.json["content"])
        for r in h.fake.find("POST")
        if r.ok and (m := re.fullmatch(r"/channels/(\d+)/messages", r.path)) and int(m[1]) in channels
    ]


def log_posts(h) -> list[str]:
    return [str((r.json or {}).get("content") or "") for r in h.fake.find("POST", rf"^/channels/{LOG_CH}/messages$")]


async def gamelock_looked(h, before: int) -> None:
    """The gamelock job has looked since `before` passes, and nothing it was woken for is left."""
    lock = h.bot.services.gamelock
    await until(
        lambda: lock.passes > before and not lock.wake.is_set() and GUILD not in lock._changed and not lock.busy,
        5,
        "a look",
    )


async def poll_and_look(h) -> None:
    before = h.bot.services.gamelock.passes
    for _ in range(20):  # the bot's own poller may hold the claim a moment (it stores the same state, same clock)
        outcome = await h.bot.erlc.poll(GUILD)
        if outcome.ok:
            break
        assert outcome.error == "claim_lost", outcome
        await asyncio.sleep(0.05)
    else:
        raise AssertionError("no poll stored")
    await gamelock_looked(h, before)


async def test_gamelock_ends_the_shift_at_the_leave_time_after_the_grace_and_not_on_a_short_disconnect(
    start_bot, prc: PrcSandbox, sandbox
):
    clock = Clock()
    h = await boot(start_bot, prc, sandbox, clock)
    lock = h.bot.services.gamelock
    await until(lambda: lock.passes > 0, 10, "the gamelock job running under the scheduler lease")
    bad = await h.slash("erlc gamelock", member=ADMIN_M, guild_id=GUILD, options={"minutes": 5000})
    assert "1 to 1440" in bad.content and h.bot.settings.get(GUILD).erlc_gamelock_minutes == 0
    on = await h.slash("erlc gamelock", member=ADMIN_M, guild_id=GUILD, options={"minutes": 5})
    assert on.content.startswith("Gamelock is on")
    await h.bot.erlc.staff_link(GUILD, ADMIN, OFFICER, ROBLOX_ID)
    prc.join(SERVER_KEY, ROBLOX_ID, "OfficerBob", team="Police", callsign="1A-12")
    await poll_and_look(h)
    started = await start(h)
    assert started.content.startswith("You are on duty since <t:")
    started_ms = clock.ms

    # A disconnect of 2 minutes (grace 5): the shift stays open, even long after.
    clock.advance(60)
    prc.leave(SERVER_KEY, ROBLOX_ID)
    await poll_and_look(h)
    clock.advance(120)
    prc.join(SERVER_KEY, ROBLOX_ID, "OfficerBob", team="Police", callsign="1A-12")
    await poll_and_look(h)
    clock.advance(600)
    before = lock.passes
    lock.wake.set()  # the grace timer's moment (the test's clock does not move with real time)
    await gamelock_looked(h, before)
    assert (await h.bot.shifts.open_shift(GUILD, OFFICER)) is not None

    # Out of the game for longer than the grace: ended at the moment they left, not when it was noticed.
    clock.advance(60)
    prc.leave(SERVER_KEY, ROBLOX_ID)
    await poll_and_look(h)
    left_ms = clock.ms
    assert (await h.bot.shifts.open_shift(GUILD, OFFICER)) is not None  # within the grace yet
    clock.advance(5 * 60 + 1)
    lock.wake.set()
    await until(
        lambda: any("is off duty" in p and "(left the game)" in p for p in log_posts(h)), 5, "the shift-log line"
    )
    [row] = await h.bot.db.fetchall("SELECT id FROM shifts WHERE guild_id = ? AND member_id = ?", (GUILD, OFFICER))
    ended = await h.bot.shifts.store.get(str(row["id"]))
    assert ended.end_reason == "left_game" and ended.ended_ms == left_ms
    assert ended.duration_ms == left_ms - started_ms
    await until(lambda: any("because you left the game" in d for d in dms_to(h, OFFICER)), 5, "the member's DM")
    await until(lambda: len(sandbox.shifts(MDT)) == 1, 5, "the shift on Northca")
    [remote] = sandbox.shifts(MDT)
    assert remote["id"] == ended.id and remote["duration_ms"] == left_ms - started_ms
    # Looking again ends nothing more: one end, one line, one Northca shift.
    before = lock.passes
    lock.wake.set()
    await gamelock_looked(h, before)
    await h.bot.shifts.drain()
    assert sum("(left the game)" in p for p in log_posts(h)) == 1 and len(sandbox.shifts(MDT)) == 1


async def test_gamelock_leaves_alone_a_member_never_in_game_during_the_shift(start_bot, prc: PrcSandbox, sandbox):
    clock = Clock()
    h = await boot(start_bot, prc, sandbox, clock)
    await h.bot.settings.set_erlc_gamelock_minutes(GUILD, ADMIN, 1)
    await h.bot.erlc.staff_link(GUILD, ADMIN, OFFICER, ROBLOX_ID)
    prc.join(SERVER_KEY, ROBLOX_ID, "OfficerBob", team="Police")
    await poll_and_look(h)
    prc.leave(SERVER_KEY, ROBLOX_ID)
    clock.advance(30)
    await poll_and_look(h)
    clock.advance(30)
    assert (await start(h)).content.startswith("You are on duty since <t:")  # left before the shift started
    clock.advance(3600)
    prc.join(SERVER_KEY, 555, "SomeoneElse", team="Police")
    await poll_and_look(h)
    assert await h.bot.shifts.open_shift(GUILD, OFFICER) is not None


# --- automatic shifts -----------------------------------------------------------------------------------------


async def test_automatic_shifts_follow_the_duty_team_once_per_stay_and_respect_the_opt_out(
    start_bot, prc: PrcSandbox, sandbox
):
    clock = Clock()
    h = await boot(start_bot, prc, sandbox, clock)
    lock = h.bot.services.gamelock
    await until(lambda: lock.passes > 0, 10, "the gamelock job running under the scheduler lease")
    refused = await h.slash("erlc auto-duty", member=ADMIN_M, guild_id=GUILD, options={"enabled": True})
    assert "turn gamelock on first" in refused.content and not h.bot.settings.get(GUILD).erlc_auto_duty
    await h.slash("erlc gamelock", member=ADMIN_M, guild_id=GUILD, options={"minutes": 5})
    on = await h.slash("erlc auto-duty", member=ADMIN_M, guild_id=GUILD, options={"enabled": True})
    assert on.content.startswith("Automatic shifts are on")
    not_linked = await h.slash("erlc my-auto-duty", member=OFFICER_M, guild_id=GUILD, options={"enabled": False})
    assert "verify first with /erlc verify" in not_linked.content
    await h.bot.erlc.staff_link(GUILD, ADMIN, OFFICER, ROBLOX_ID)

    # Joining a duty team: on duty, told in the shift log.
    prc.join(SERVER_KEY, ROBLOX_ID, "OfficerBob", team="Police", callsign="1A-12")
    await poll_and_look(h)
    first = await h.bot.shifts.open_shift(GUILD, OFFICER)
    assert first is not None and first.started_ms == clock.ms
    await until(lambda: any(f"<@{OFFICER}> is on duty" in p for p in log_posts(h)), 5, "the shift-log line")

    # Ended by the member while still on the team: not started again for this stay.
    clock.advance(60)
    await h.bot.shifts.end(GUILD, OFFICER)
    before = lock.passes
    lock.wake.set()
    await gamelock_looked(h, before)
    assert await h.bot.shifts.open_shift(GUILD, OFFICER) is None

    # A new stay on a duty team (Sheriff): on duty again; leaving it for Civilian past the grace ends it then.
    clock.advance(60)
    prc.set_team(SERVER_KEY, ROBLOX_ID, "Sheriff")
    await poll_and_look(h)
    second = await h.bot.shifts.open_shift(GUILD, OFFICER)
    assert second is not None and second.id != first.id
    clock.advance(60)
    prc.set_team(SERVER_KEY, ROBLOX_ID, "Civilian")
    await poll_and_look(h)
    off_team_ms = clock.ms
    clock.advance(5 * 60 + 1)
    lock.wake.set()
    await until(lambda: sum("(left the game)" in p for p in log_posts(h)) == 1, 5, "the gamelock end")
    ended = await h.bot.shifts.store.get(second.id)
    assert ended.ended_ms == off_team_ms and ended.end_reason == "left_game"

    # Opted out: joining a duty team does nothing.
    out = await h.slash("erlc my-auto-duty", member=OFFICER_M, guild_id=GUILD, options={"enabled": False})
    assert out.content.startswith("You are no longer put on duty automatically")
    clock.advance(60)
    prc.set_team(SERVER_KEY, ROBLOX_ID, "Police")
    await poll_and_look(h)
    assert await h.bot.shifts.open_shift(GUILD, OFFICER) is None


# --- units on the MDT that follow the game ----------------------------------------------------------------------


def units(sandbox) -> dict[str, str]:
    """Northca's active-units board: unit id -> status."""
    return {unit_id: str(unit["status"]) for unit_id, unit in sandbox.units(MDT).items()}


async def test_a_member_joining_police_is_on_duty_10_8_under_the_game_callsign_the_unit_moves_and_leaving_ends_once(
    start_bot, prc: PrcSandbox, sandbox
):
    clock = Clock()
    h = await boot(start_bot, prc, sandbox, clock)
    lock = h.bot.services.gamelock
    await until(lambda: lock.passes > 0, 10, "the gamelock job running under the scheduler lease")
    await h.slash("erlc gamelock", member=ADMIN_M, guild_id=GUILD, options={"minutes": 5})
    await h.slash("erlc auto-duty", member=ADMIN_M, guild_id=GUILD, options={"enabled": True})
    not_admin = await h.slash("erlc status-from-game", member=OFFICER_M, guild_id=GUILD, options={"enabled": True})
    assert "Manage Server" in not_admin.content and not h.bot.settings.get(GUILD).erlc_status_from_game
    on = await h.slash("erlc status-from-game", member=ADMIN_M, guild_id=GUILD, options={"enabled": True})
    assert on.content.startswith("Status from the game is on") and "10-8" in on.content and "10-7" in on.content
    show = await h.slash("settings show", member=ADMIN_M, guild_id=GUILD)
    fields = {f["name"]: f["value"] for f in show.embeds[0]["fields"]}
    assert "Unit status from the game: yes" in fields["ER:LC (the game)"]
    history = await h.slash("settings history", member=ADMIN_M, guild_id=GUILD)
    assert f"<@{ADMIN}> **Unit status from the game**: no → yes" in history.embeds[0]["description"]
    await h.bot.erlc.staff_link(GUILD, ADMIN, OFFICER, ROBLOX_ID)

    # Joins the Police team with callsign 1A-12: on duty, 10-8 on Northca under that unit.
    prc.join(SERVER_KEY, ROBLOX_ID, "OfficerBob", team="Police", callsign="1a-12")
    await poll_and_look(h)
    shift = await h.bot.shifts.open_shift(GUILD, OFFICER)
    assert shift is not None and shift.callsign == "1A-12"
    started_ms = shift.started_ms
    await until(lambda: units(sandbox) == {"1A-12": "10-8"}, 5, "10-8 under the in-game callsign")

    # The officer chooses a status themselves: the game does not set it back while they stay on the team.
    chosen = await h.slash("status", sub="set", member=OFFICER_M, guild_id=GUILD, options={"code": "10-6"})
    assert "10-6" in (await chosen.final()).content
    await until(lambda: units(sandbox) == {"1A-12": "10-6"}, 5, "the officer's own status")
    clock.advance(30)
    prc.join(SERVER_KEY, 555, "SomeoneElse", team="Civilian")
    await poll_and_look(h)
    assert (await h.bot.unit_status.status_of(GUILD, OFFICER)).status == "10-6"

    # Changes callsign in game: the unit moves (the old one released with 10-7), the status goes with it.
    clock.advance(30)
    prc.set_callsign(SERVER_KEY, ROBLOX_ID, "1A-13")
    await poll_and_look(h)
    assert (await h.bot.shifts.open_shift(GUILD, OFFICER)).callsign == "1A-13"
    await until(lambda: units(sandbox) == {"1A-12": "10-7", "1A-13": "10-6"}, 5, "the unit moved")

    # A new stay on a duty team sets 10-8 again (the officer's choice was before it).
    clock.advance(30)
    prc.set_team(SERVER_KEY, ROBLOX_ID, "Sheriff")
    await poll_and_look(h)
    await until(lambda: units(sandbox) == {"1A-12": "10-7", "1A-13": "10-8"}, 5, "10-8 on joining Sheriff")

    # A disconnect shorter than the grace: nothing ends, the unit stays 10-8.
    clock.advance(60)
    prc.leave(SERVER_KEY, ROBLOX_ID)
    await poll_and_look(h)
    clock.advance(120)
    prc.join(SERVER_KEY, ROBLOX_ID, "OfficerBob", team="Sheriff", callsign="1A-13")
    await poll_and_look(h)
    clock.advance(600)
    before = lock.passes
    lock.wake.set()
    await gamelock_looked(h, before)
    assert (await h.bot.shifts.open_shift(GUILD, OFFICER)).id == shift.id
    assert (await h.bot.unit_status.status_of(GUILD, OFFICER)).status == "10-8"

    # Out of the game past the grace: the shift ends at the leave time, 10-7, one shift on Northca.
    clock.advance(60)
    prc.leave(SERVER_KEY, ROBLOX_ID)
    await poll_and_look(h)
    left_ms = clock.ms
    clock.advance(5 * 60 + 1)
    before = lock.passes
    lock.wake.set()
    await gamelock_looked(h, before)
    await until(lambda: len(sandbox.shifts(MDT)) == 1, 5, "the shift on Northca")
    [remote] = sandbox.shifts(MDT)
    assert remote["id"] == shift.id and remote["duration_ms"] == left_ms - started_ms
    await until(lambda: units(sandbox) == {"1A-12": "10-7", "1A-13": "10-7"}, 5, "10-7 after the leave")
    # Looking again changes nothing: one shift, the units as they are.
    puts = len(sandbox_puts(sandbox))
    before = lock.passes
    lock.wake.set()
    await gamelock_looked(h, before)
    await h.bot.shifts.drain()
    assert len(sandbox.shifts(MDT)) == 1 and units(sandbox) == {"1A-12": "10-7", "1A-13": "10-7"}
    assert len(sandbox_puts(sandbox)) == puts


def sandbox_puts(sandbox) -> list[object]:
    return [r for r in sandbox.requests if r.method == "PUT" and r.path.endswith("/units/active")]


async def test_status_from_game_without_gamelock_and_a_callsign_chosen_for_the_shift(
    start_bot, prc: PrcSandbox, sandbox
):
    clock = Clock()
    h = await boot(start_bot, prc, sandbox, clock)
    lock = h.bot.services.gamelock
    await until(lambda: lock.passes > 0, 10, "the gamelock job running under the scheduler lease")
    await h.bot.settings.set_erlc_status_from_game(GUILD, ADMIN, True)
    await h.bot.erlc.staff_link(GUILD, ADMIN, OFFICER, ROBLOX_ID)
    prc.join(SERVER_KEY, ROBLOX_ID, "OfficerBob", team="Civilian", callsign="1A-12")
    await poll_and_look(h)
    # Chosen for the shift: the in-game callsign does not take it over.
    assert (await start(h, callsign="ADAM-12")).content.startswith("You are on duty since <t:")
    await until(lambda: units(sandbox) == {"ADAM-12": "10-8"}, 5, "the chosen unit")
    await h.slash("status", sub="set", member=OFFICER_M, guild_id=GUILD, options={"code": "10-7"})
    await until(lambda: units(sandbox) == {"ADAM-12": "10-7"}, 5, "the officer's status")
    clock.advance(30)
    prc.set_team(SERVER_KEY, ROBLOX_ID, "Police")
    prc.set_callsign(SERVER_KEY, ROBLOX_ID, "1A-13")
    await poll_and_look(h)
    assert [p.callsign for p in await h.bot.erlc.presence(GUILD)] == ["1A-13"]  # the game has one for the member
    assert (await h.bot.shifts.open_shift(GUILD, OFFICER)).callsign == "ADAM-12"
    await until(lambda: units(sandbox) == {"ADAM-12": "10-8"}, 5, "10-8 on joining Police")
    # Gamelock off: leaving the game sets 10-7 at once (the shift stays open).
    clock.advance(30)
    prc.leave(SERVER_KEY, ROBLOX_ID)
    await poll_and_look(h)
    await until(lambda: units(sandbox) == {"ADAM-12": "10-7"}, 5, "10-7 on leaving the game")
    assert await h.bot.shifts.open_shift(GUILD, OFFICER) is not None

    # Off (the default): the game sets no status.
    await h.bot.settings.set_erlc_status_from_game(GUILD, ADMIN, False)
    clock.advance(30)
    prc.join(SERVER_KEY, ROBLOX_ID, "OfficerBob", team="Police", callsign="1A-13")
    await poll_and_look(h)
    assert (await h.bot.unit_status.status_of(GUILD, OFFICER)).status == "10-7"


async def test_a_profile_unit_moves_to_the_game_callsign_but_never_onto_another_officers(
    start_bot, prc: PrcSandbox, sandbox
):
    clock = Clock()
    h = await boot(start_bot, prc, sandbox, clock)
    lock = h.bot.services.gamelock
    await until(lambda: lock.passes > 0, 10, "the gamelock job running under the scheduler lease")
    await h.bot.profiles.update(GUILD, OTHER, callsign="1A-13")
    set_profile = await h.slash("profile", sub="set", member=OFFICER_M, guild_id=GUILD, options={"callsign": "ADAM-12"})
    assert (await set_profile.final()).content == "Profile updated (callsign)."
    await h.bot.erlc.staff_link(GUILD, ADMIN, OFFICER, ROBLOX_ID)
    assert (await start(h)).content.startswith("You are on duty since <t:")
    await until(lambda: units(sandbox) == {"ADAM-12": "10-8"}, 5, "the profile's unit")

    # Joins the game with callsign 1A-12: the unit follows the game, the profile's one is released.
    clock.advance(30)
    prc.join(SERVER_KEY, ROBLOX_ID, "OfficerBob", team="Police", callsign="1A-12")
    await poll_and_look(h)
    assert (await h.bot.shifts.open_shift(GUILD, OFFICER)).callsign == "1A-12"
    await until(lambda: units(sandbox) == {"ADAM-12": "10-7", "1A-12": "10-8"}, 5, "the unit moved to 1A-12")

    # 1A-13 is another officer's callsign here: the unit stays where it is.
    clock.advance(30)
    prc.set_callsign(SERVER_KEY, ROBLOX_ID, "1A-13")
    await poll_and_look(h)
    assert (await h.bot.shifts.open_shift(GUILD, OFFICER)).callsign == "1A-12"
    assert units(sandbox) == {"ADAM-12": "10-7", "1A-12": "10-8"}
