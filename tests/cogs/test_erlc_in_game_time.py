"""In-game time through the offline harness with the PRC sandbox on loopback: `/shift
leaderboard`, `/shift activity` and the CSV export show, of the duty time, the time the member was actually in the
game server (from the presence history the polls wrote), breaks taken off; `/erlc quota-in-game` makes quotas
count it instead of the duty time."""

from __future__ import annotations

import asyncio
import csv
import io
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.duty.periods import Period
from bot.erlc.sandbox import PrcSandbox, PrcSandboxConfig
from tests.helpers.bot import KEK
from tests.helpers.clock import Clock
from tests.helpers.duty_ui import QUOTA_ROLE, boot_duty_guild
from tests.helpers.ids import ADMIN, ADMIN_M, GUILD, OFFICER, OTHER, SUPERVISOR_M, SUPERVISOR_ROLE, member_m

pytestmark = pytest.mark.asyncio

SERVER_KEY = "prc-time-key-N3verL0gMe"
# Monday 2025-01-13 00:00 UTC: the start of a week (weeks start on Monday, UTC).
WEEK = datetime(2025, 1, 13, tzinfo=UTC)
H = timedelta(hours=1)
M = timedelta(minutes=1)


@pytest.fixture
async def prc() -> AsyncIterator[PrcSandbox]:
    sandbox = PrcSandbox(PrcSandboxConfig())
    await sandbox.start()
    sandbox.add_server(SERVER_KEY, name="Sunset County RP", owner_id=7001, max_players=40)
    yield sandbox
    await sandbox.stop()


async def polled(h) -> None:
    """One poll stored (the bot's own poller may hold the claim a moment: it stores the same state, same clock)."""
    for _ in range(20):
        outcome = await h.bot.erlc.poll(GUILD)
        if outcome.ok:
            return
        assert outcome.error == "claim_lost", outcome
        await asyncio.sleep(0.05)
    raise AssertionError("no poll stored")


async def test_leaderboard_activity_and_export_show_the_time_in_game_and_quotas_may_count_it(
    start_bot, sandbox, prc: PrcSandbox
):
    clock = Clock(WEEK + H)
    h = await start_bot(
        shifts={"supervisor_role_ids": [SUPERVISOR_ROLE], "sync_interval_seconds": 0.05},
        erlc={"key_encryption_key": KEK, "base_url": prc.base_url, "webhook_public_key": prc.public_key_b64},
        clock=clock,
    )
    members = [member_m(OFFICER, QUOTA_ROLE), member_m(OTHER, QUOTA_ROLE)]
    await boot_duty_guild(start_bot, sandbox, members, clock=clock, harness=h, quotas=[(QUOTA_ROLE, 2.0)])
    await h.bot.erlc.connect(GUILD, ADMIN, SERVER_KEY)

    # Before anyone is linked, nothing is said about the game.
    await h.bot.shifts.start(GUILD, OTHER, display_name="Other")
    clock.set(WEEK + H + 10 * M)
    await h.bot.shifts.end(GUILD, OTHER)
    board = await h.slash(
        "shift", sub="leaderboard", member=SUPERVISOR_M, guild_id=GUILD, options={"period": "this_week"}
    )
    assert "in game" not in board.embeds[0]["description"]
    await h.bot.duty.void_shift(GUILD, (await h.bot.db.fetchone("SELECT id FROM shifts"))["id"], "test", ADMIN)

    await h.bot.erlc.staff_link(GUILD, ADMIN, OFFICER, 101)
    await h.bot.erlc.staff_link(GUILD, ADMIN, OTHER, 102)

    async def at(when: datetime) -> None:
        clock.set(when)
        await polled(h)

    # The officer: on duty 01:00-03:00, in game 01:00-02:00 and 02:30-04:00: 2 h on duty, 1 h 30 min in game.
    prc.join(SERVER_KEY, 101, "OfficerBob", team="Police", callsign="1A-12")
    await at(WEEK + H)
    await h.bot.shifts.start(GUILD, OFFICER, display_name="Bob")
    prc.leave(SERVER_KEY, 101)
    await at(WEEK + 2 * H)
    prc.join(SERVER_KEY, 101, "OfficerBob", team="Sheriff", callsign="1A-12")
    await at(WEEK + 2 * H + 30 * M)
    prc.set_callsign(SERVER_KEY, 101, "1A-13")  # a change while in game is no leave
    await at(WEEK + 2 * H + 40 * M)
    clock.set(WEEK + 3 * H)
    await h.bot.shifts.end(GUILD, OFFICER)
    prc.leave(SERVER_KEY, 101)
    await at(WEEK + 4 * H)

    # The other: in game 04:00-06:00, on duty 05:00-08:00 with a break 05:30-05:45: 2 h 45 min, 45 min in game.
    prc.join(SERVER_KEY, 102, "OtherAnn", team="Fire")
    await at(WEEK + 4 * H + M)
    clock.set(WEEK + 5 * H)
    await h.bot.shifts.start(GUILD, OTHER, display_name="Ann")
    clock.set(WEEK + 5 * H + 30 * M)
    await h.bot.shifts.toggle_break(GUILD, OTHER)
    clock.set(WEEK + 5 * H + 45 * M)
    await h.bot.shifts.toggle_break(GUILD, OTHER)
    prc.leave(SERVER_KEY, 102)
    await at(WEEK + 6 * H)
    clock.set(WEEK + 8 * H)
    await h.bot.shifts.end(GUILD, OTHER)
    clock.set(WEEK + 10 * H)

    board = await h.slash(
        "shift", sub="leaderboard", member=SUPERVISOR_M, guild_id=GUILD, options={"period": "this_week"}
    )
    text = board.embeds[0]["description"]
    assert f"<@{OTHER}> · **2 h 45 min** · 🎮 45 min in game" in text, text
    assert f"<@{OFFICER}> · **2 h** · 🎮 1 h 30 min in game" in text, text

    activity = await h.slash("shift activity", member=SUPERVISOR_M, guild_id=GUILD)
    text = activity.embeds[0]["description"]
    assert f"<@{OFFICER}>: 2 h (1 h 30 min in game) of 2 h — ✅ met" in text, text
    assert f"<@{OTHER}>: 2 h 45 min (45 min in game) of 2 h — ✅ met" in text, text

    on = await h.slash("erlc quota-in-game", member=ADMIN_M, guild_id=GUILD, options={"enabled": True})
    assert on.content.startswith("Quotas now count the time in game")
    show = await h.slash("settings show", member=ADMIN_M, guild_id=GUILD)
    fields = {f["name"]: f["value"] for f in show.embeds[0]["fields"]}
    assert "Quotas count time in game: yes" in fields["ER:LC (the game)"]
    activity = await h.slash("shift activity", member=SUPERVISOR_M, guild_id=GUILD)
    text = activity.embeds[0]["description"]
    assert f"<@{OFFICER}>: 1 h 30 min in game of 2 h (2 h on duty) — ❌ not met" in text, text
    assert f"<@{OTHER}>: 45 min in game of 2 h (2 h 45 min on duty) — ❌ not met" in text, text

    reply = await h.slash("shift", sub="export", member=SUPERVISOR_M, guild_id=GUILD, options={"period": "this_week"})
    done = await reply.final()
    rows = [r for r in csv.DictReader(io.StringIO(done.request.files[0]["data"].decode())) if r["record"] == "shift"]
    in_game = {(int(r["member_id"]), r["voided"]): r["in_game_s"] for r in rows}
    assert in_game == {(OTHER, "1"): "0", (OFFICER, "0"): "5400", (OTHER, "0"): "2700"}


async def test_in_game_time_splits_at_the_period_bounds_and_knows_who_was_in_game_before_them(
    start_bot, sandbox, prc: PrcSandbox
):
    """In game since the day before; a shift 23:00-02:00 across midnight with an open break at the end; in game until
    01:00: of the first day 1 h, of the second 1 h minus nothing (the break starts 01:30, after the leave)."""
    clock = Clock(WEEK - 2 * H)
    h = await start_bot(
        erlc={"key_encryption_key": KEK, "base_url": prc.base_url, "webhook_public_key": prc.public_key_b64},
        clock=clock,
    )
    await boot_duty_guild(start_bot, sandbox, [member_m(OFFICER)], clock=clock, harness=h, quotas=[])
    await h.bot.erlc.connect(GUILD, ADMIN, SERVER_KEY)
    await h.bot.erlc.staff_link(GUILD, ADMIN, OFFICER, 101)
    prc.join(SERVER_KEY, 101, "OfficerBob", team="Police")
    await polled(h)  # 22:00 the day before: in game since
    clock.set(WEEK - H)
    await h.bot.shifts.start(GUILD, OFFICER, display_name="Bob")  # 23:00
    prc.leave(SERVER_KEY, 101)
    clock.set(WEEK + H)
    await polled(h)  # left at 01:00
    clock.set(WEEK + H + 30 * M)
    await h.bot.shifts.toggle_break(GUILD, OFFICER)  # on break from 01:30
    clock.set(WEEK + 2 * H)

    day = 24 * 3_600_000
    week_ms = int(WEEK.timestamp() * 1000)
    before = await h.bot.duty.totals(GUILD, Period("day before", week_ms - day, week_ms), in_game=True)
    after = await h.bot.duty.totals(GUILD, Period("day", week_ms, week_ms + day), in_game=True)
    whole = await h.bot.duty.totals(GUILD, Period("all", None, None), in_game=True)
    assert (before[OFFICER].duty_ms, before[OFFICER].in_game_ms) == (3_600_000, 3_600_000)
    assert (after[OFFICER].duty_ms, after[OFFICER].in_game_ms) == (5_400_000, 3_600_000)
    assert (whole[OFFICER].duty_ms, whole[OFFICER].in_game_ms) == (9_000_000, 7_200_000)
    # In game during the break: taken off (rejoined at 01:40, the break runs on to now, 02:00).
    prc.join(SERVER_KEY, 101, "OfficerBob", team="Police")
    clock.set(WEEK + H + 40 * M)
    await polled(h)
    clock.set(WEEK + 2 * H)
    whole = await h.bot.duty.totals(GUILD, Period("all", None, None), in_game=True)
    assert (whole[OFFICER].duty_ms, whole[OFFICER].in_game_ms) == (9_000_000, 7_200_000)
