"""/shift start callsign: is the unit for that shift: driven as Discord would,
against the sandbox. While the shift is open, the status panel and Northca use it; it is a callsign
like a profile's (validated, one officer per callsign in a server, among profiles and open shifts)."""

from __future__ import annotations

import pytest

from tests.harness import builders
from tests.helpers.bot import link_guild
from tests.helpers.ids import GUILD, MDT, MEMBER_PERMS, OFFICER, OFFICER_M, OTHER
from tests.helpers.status import fields, post_panel, set_id, settle, wait_panel_edit

pytestmark = pytest.mark.asyncio

OTHER_M = builders.member(OTHER, permissions=MEMBER_PERMS, username="smith")


async def test_shift_start_callsign_is_the_unit_while_the_shift_is_open(start_bot, sandbox):
    h = await start_bot(status={"batch_window_ms": 50})
    await link_guild(h.bot, sandbox)
    await h.slash("profile set", member=OFFICER_M, guild_id=GUILD, callsign="ADAM-12")
    panel = await post_panel(h)

    started = await h.slash("shift", sub="start", member=OFFICER_M, guild_id=GUILD, callsign="lincoln-3")
    assert started.ephemeral and fields(started.embeds[0])["Callsign"] == "`LINCOLN-3`"
    await settle(h)
    assert sandbox.units(MDT)["LINCOLN-3"]["status"] == "10-8"  # the on-duty code, on the shift's unit
    assert "ADAM-12" not in sandbox.units(MDT)

    since = len(h.fake.requests)
    await h.click(set_id("10-6"), member=OFFICER_M, guild_id=GUILD, message=panel)
    await wait_panel_edit(h, int(panel["id"]), lambda f: f["10-6 · Busy (1)"] == "`LINCOLN-3`", since)
    await settle(h)
    assert sandbox.units(MDT)["LINCOLN-3"]["status"] == "10-6"

    # Nobody else may take it while the shift is open: not as a profile callsign, not for a shift.
    taken = await h.slash("profile set", member=OTHER_M, guild_id=GUILD, callsign="LINCOLN-3")
    assert taken.ephemeral and "already used by another officer" in taken.content
    assert (await h.bot.profiles.get(GUILD, OTHER)).callsign is None
    also_taken = await h.slash("shift", sub="start", member=OTHER_M, guild_id=GUILD, callsign="LINCOLN-3")
    assert also_taken.ephemeral and "already used by another officer" in also_taken.content
    profile_taken = await h.slash("shift", sub="start", member=OTHER_M, guild_id=GUILD, callsign="ADAM-12")
    assert profile_taken.ephemeral and "already used by another officer" in profile_taken.content
    assert await h.bot.shifts.open_shift(GUILD, OTHER) is None
    bad = await h.slash("shift", sub="start", member=OTHER_M, guild_id=GUILD, callsign="LINCOLN 3")
    assert bad.ephemeral and "letters, digits and single dashes" in bad.content

    # The shift ends: its unit goes out of service; the callsign is free again.
    await h.slash("shift", sub="end", member=OFFICER_M, guild_id=GUILD)
    await settle(h)
    assert sandbox.units(MDT)["LINCOLN-3"]["status"] == "10-7"
    assert (await h.bot.unit_status.status_of(GUILD, OFFICER)).callsign == "ADAM-12"
    freed = await h.slash("profile set", member=OTHER_M, guild_id=GUILD, callsign="LINCOLN-3")
    assert freed.content == "Profile updated (callsign)."


async def test_shift_callsign_without_a_profile_callsign_is_taken_out_of_service_at_the_end(start_bot, sandbox):
    h = await start_bot(status={"batch_window_ms": 50})
    await link_guild(h.bot, sandbox)
    await h.slash("shift", sub="start", member=OFFICER_M, guild_id=GUILD, callsign="LINCOLN-3")
    await settle(h)
    assert sandbox.units(MDT)["LINCOLN-3"]["status"] == "10-8"
    await h.slash("shift", sub="end", member=OFFICER_M, guild_id=GUILD)
    await settle(h)
    assert sandbox.units(MDT)["LINCOLN-3"]["status"] == "10-7"


async def test_a_shift_on_the_profile_callsign_follows_a_profile_change(start_bot, sandbox):
    h = await start_bot(status={"batch_window_ms": 50})
    await link_guild(h.bot, sandbox)
    await h.slash("profile set", member=OFFICER_M, guild_id=GUILD, callsign="ADAM-12")
    await h.slash("shift", sub="start", member=OFFICER_M, guild_id=GUILD)  # no callsign: the profile's
    await settle(h)
    await h.slash("profile set", member=OFFICER_M, guild_id=GUILD, callsign="ADAM-15")
    await settle(h)
    units = sandbox.units(MDT)
    assert units["ADAM-15"]["status"] == "10-8" and units["ADAM-12"]["status"] == "10-7"
    assert (await h.bot.shifts.open_shift(GUILD, OFFICER)).callsign == "ADAM-15"
    # Clearing the callsign during the shift: no unit any more, the last one goes out of service.
    cleared = await h.slash("profile set", member=OFFICER_M, guild_id=GUILD, callsign="-")
    assert cleared.content == "Profile updated (callsign)."
    await settle(h)
    assert sandbox.units(MDT)["ADAM-15"]["status"] == "10-7"
