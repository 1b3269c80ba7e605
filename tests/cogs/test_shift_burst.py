"""200 officers press /shift start at the same moment, through the offline Discord harness: each gets an answer, and
every officer told "You are on duty" has an open shift, also after a restart, even when the database refuses one of
the burst's rows (the group commit of bot/core/shifts/store.py)."""

from __future__ import annotations

import asyncio

import pytest

from tests.harness import builders
from tests.helpers.bot import link_guild
from tests.helpers.ids import GUILD, MEMBER_PERMS
from tests.helpers.shifts import refuse_inserts_of

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
