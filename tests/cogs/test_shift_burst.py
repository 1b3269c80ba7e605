"""200 officers press /shift start at the same moment, through the offline Discord harness: each gets an answer, and
every officer told "You are on duty" has an open shift, also after a restart, even when the database refuses one of
the burst's rows (the group commit of bot/core/shifts/store.py)."""

from __future__ import annotations

import asyncio

import pytest

from tests.harness import builders
from tests.helpers.bot import link_guild
from tests.helpers.ids import GUILD, MEMBER_PERMS
from tests.helpers.northca import shift_posts
from tests.helpers.shifts import refuse_inserts_of
from tests.helpers.waiting import until

pytestmark = pytest.mark.asyncio

FIRST = 910000000000000000
OFFICERS = [builders.member(FIRST + i, permissions=MEMBER_PERMS, username=f"officer{i:03d}") for i in range(200)]


async def open_members(h) -> set[int]:
    rows = await h.bot.db.fetchall("SELECT member_id FROM shifts WHERE guild_id = ? AND ended_ms IS NULL", (GUILD,))
    return {int(r["member_id"]) for r in rows}


async def test_two_hundred_simultaneous_starts_are_each_answered_and_all_stored(start_bot, sandbox):
    h = await start_bot()
    await link_guild(h.bot, sandbox)
    replies = await asyncio.gather(*(h.slash("shift", sub="start", member=m, guild_id=GUILD) for m in OFFICERS))
    # Each answered in time: at once, or (a slow moment of a loaded machine) "thinking…" then the answer edited in.
    assert all(r.callback_type in (4, 5) and r.ephemeral for r in replies)
    answers = [await r.final() for r in replies]
    assert all(a.content.startswith("You are on duty") for a in answers)
    assert await open_members(h) == {FIRST + i for i in range(200)}
    ids = await h.bot.db.fetchall("SELECT DISTINCT id FROM shifts WHERE guild_id = ?", (GUILD,))
    assert len(ids) == 200


async def test_a_start_the_database_refuses_in_a_burst_is_told_and_no_other_start_is_lost(start_bot, sandbox):
    h = await start_bot()
    await link_guild(h.bot, sandbox)
    refused_member = FIRST + 100
    await refuse_inserts_of(h.bot.db, refused_member)
    started = await asyncio.gather(*(h.slash("shift", sub="start", member=m, guild_id=GUILD) for m in OFFICERS))
    # Every officer gets an answer in time (at once, or "thinking…" then the answer edited in under load).
    assert all(r.callback_type in (4, 5) and r.ephemeral for r in started)
    replies = [await r.final() for r in started]
    on_duty = {FIRST + i for i, r in enumerate(replies) if r.content.startswith("You are on duty")}
    told_to_retry = {FIRST + i for i, r in enumerate(replies) if r.content.startswith("Something went wrong")}
    # Only the start the database refused failed, though it shared a statement with others (tried alone after).
    assert told_to_retry == {refused_member} and on_duty == {FIRST + i for i in range(200)} - {refused_member}
    assert await open_members(h) == on_duty  # nobody told "on duty" without a shift, no shift without telling

    await h.bot.db.execute("DROP TRIGGER refuse_one" + (" ON shifts" if h.bot.db.engine == "postgresql" else ""))
    retries = await asyncio.gather(
        *(
            h.slash("shift", sub="start", member=m, guild_id=GUILD)
            for m in OFFICERS
            if int(m["user"]["id"]) in told_to_retry
        )
    )
    assert all(r.content.startswith("You are on duty") for r in retries)
    await h.bot.close()
    h = await start_bot()  # a restart: every shift an officer was told about is still open
    assert await open_members(h) == {FIRST + i for i in range(200)}


def view_timers() -> list[asyncio.Task[object]]:
    """discord.py's timeout tasks of the views it keeps (one per stored view with a timeout)."""
    return [t for t in asyncio.all_tasks() if "timeout_task_impl" in getattr(t.get_coro(), "__qualname__", "")]


async def test_start_answers_keep_no_view_in_memory_and_their_buttons_still_work(start_bot, sandbox):
    h = await start_bot()
    await link_guild(h.bot, sandbox)
    replies = await asyncio.gather(*(h.slash("shift", sub="start", member=m, guild_id=GUILD) for m in OFFICERS[:20]))
    assert all(r.custom_ids for r in replies)  # each answer carries its Break / End shift buttons
    assert view_timers() == []  # and discord.py keeps no View (and no 15-minute timer) for any of them
    first = OFFICERS[0]
    pressed = await h.click(f"northca:shift:end:{FIRST}", member=first, guild_id=GUILD, message=replies[0])
    assert pressed.content.startswith("Shift ended")
    assert FIRST not in await open_members(h)


CALLBACKS = r"^/interactions/\d+/[^/]+/callback$"


async def test_a_burst_of_ends_is_answered_before_its_shifts_are_sent_to_northca(start_bot, sandbox):
    h = await start_bot()
    await link_guild(h.bot, sandbox)
    officers = OFFICERS[:10]
    await asyncio.gather(*(h.slash("shift", sub="start", member=m, guild_id=GUILD) for m in officers))
    h.bot.foreground.most = 30.0  # for as long as they wait: this test holds their answers at Discord itself
    held = h.fake.hold(CALLBACKS, method="POST", times=len(officers))
    ends = [asyncio.create_task(h.slash("shift", sub="end", member=m, guild_id=GUILD)) for m in officers]
    await held.wait_arrived(len(officers))
    # Every shift is ended (the answers on their way say so) and due at Northca; while the officers wait for those
    # answers, nothing goes to Northca ahead of them.
    ended = await h.bot.db.fetchall("SELECT id FROM shifts WHERE guild_id = ? AND ended_ms IS NOT NULL", (GUILD,))
    assert len(ended) == len(officers)
    await until(lambda: h.bot.foreground.held >= 1, what="the sync worker waiting for the first answers")
    assert shift_posts(sandbox) == []
    held.release()
    replies = await asyncio.gather(*ends)
    assert all(r.content.startswith("Shift ended") for r in replies)
    verdicts = [await r.followup() for r in replies]  # then each answer is edited: the MDT has the shift
    assert all(v.content.endswith("MDT: ✓ saved") for v in verdicts)
    assert len(shift_posts(sandbox)) == len(officers)  # each shift sent once


async def test_work_that_waits_for_first_answers_is_delayed_by_them_never_held_back(start_bot, sandbox):
    h = await start_bot()
    await link_guild(h.bot, sandbox)
    officer, other = OFFICERS[0], OFFICERS[1]
    await h.slash("shift", sub="start", member=officer, guild_id=GUILD)
    h.bot.foreground.most = 0.2
    # Someone's first answer hangs at Discord (a command that never gets its answer through) ...
    stuck = h.fake.hold(CALLBACKS, method="POST")
    waiting = asyncio.create_task(h.slash("shift", sub="start", member=other, guild_id=GUILD))
    await stuck.wait_arrived()
    # ... an ended shift still reaches Northca: the writes wait at most `most` for first answers, then go anyway.
    await h.slash("shift", sub="end", member=officer, guild_id=GUILD)
    await until(lambda: bool(shift_posts(sandbox)), timeout=10, what="the ended shift on Northca")
    assert h.bot.foreground.waiting == 1
    stuck.release()
    await waiting
    assert h.bot.foreground.waiting == 0
