"""/profile set and /profile show, driven as Discord would."""

from __future__ import annotations

import asyncio

import pytest

from tests.harness import UserOption, builders
from tests.helpers.bot import link_guild
from tests.helpers.ids import GUILD, MDT, MEMBER_PERMS, OFFICER, OFFICER_M, OTHER
from tests.helpers.status import fields
from tests.helpers.waiting import settled

pytestmark = pytest.mark.asyncio

OTHER_M = builders.member(OTHER, permissions=MEMBER_PERMS, username="smith")


async def test_set_stores_a_normalised_profile(start_bot):
    h = await start_bot()
    reply = await h.slash(
        "profile set",
        member=OFFICER_M,
        guild_id=GUILD,
        callsign="  adam-12 ",
        badge="512",
        rank="PO",
        department="patrol",
        name="  B.   Bubbleton ",
    )
    assert reply.callback_type == 4 and reply.ephemeral
    assert reply.content == "Profile updated (callsign, badge, rank, department, name)."
    shown = fields(reply.embeds[0])
    assert shown["Callsign"] == "`ADAM-12`" and shown["Department"] == "Patrol" and shown["Name"] == "B. Bubbleton"
    profile = await h.bot.profiles.get(GUILD, OFFICER)
    assert (profile.callsign, profile.badge, profile.rank, profile.department, profile.name) == (
        "ADAM-12",
        "512",
        "PO",
        "Patrol",
        "B. Bubbleton",
    )


@pytest.mark.parametrize(
    ("callsign", "message"),
    [
        ("ADAM 12", "letters, digits and single dashes"),
        ("ADAM--12", "letters, digits and single dashes"),
        ("A" * 17, "at most 16 characters"),
    ],
)
async def test_bad_callsign_is_refused_and_nothing_changes(start_bot, callsign, message):
    h = await start_bot()
    reply = await h.slash("profile set", member=OFFICER_M, guild_id=GUILD, callsign=callsign, badge="512")
    assert reply.ephemeral and message in reply.content
    assert (await h.bot.profiles.get(GUILD, OFFICER)).badge is None


async def test_a_callsign_belongs_to_one_officer(start_bot):
    h = await start_bot()
    await h.slash("profile set", member=OTHER_M, guild_id=GUILD, callsign="ADAM-12")
    reply = await h.slash("profile set", member=OFFICER_M, guild_id=GUILD, callsign="adam-12")
    assert reply.ephemeral and reply.content == "Callsign `ADAM-12` is already used by another officer in this server."
    assert (await h.bot.profiles.get(GUILD, OFFICER)).callsign is None


async def test_a_dash_clears_a_field_and_nothing_given_is_a_hint(start_bot):
    h = await start_bot()
    await h.slash("profile set", member=OFFICER_M, guild_id=GUILD, callsign="ADAM-12", rank="PO")
    cleared = await h.slash("profile set", member=OFFICER_M, guild_id=GUILD, rank="-")
    assert cleared.content == "Profile updated (rank)."
    assert fields(cleared.embeds[0])["Rank"] == "not set"
    assert (await h.bot.profiles.get(GUILD, OFFICER)).callsign == "ADAM-12"
    empty = await h.slash("profile set", member=OFFICER_M, guild_id=GUILD)
    assert empty.ephemeral and "Give at least one field" in empty.content


async def test_show_own_and_another_members_profile(start_bot):
    h = await start_bot()
    mine = await h.slash("profile show", member=OFFICER_M, guild_id=GUILD)
    assert mine.ephemeral and fields(mine.embeds[0])["Callsign"] == "not set"
    assert "/profile set callsign:ADAM-12" in mine.embeds[0]["footer"]["text"]

    await h.slash("profile set", member=OTHER_M, guild_id=GUILD, callsign="LINCOLN-3", department="Traffic")
    theirs = await h.slash("profile show", member=OFFICER_M, guild_id=GUILD, options={"member": UserOption(OTHER_M)})
    assert theirs.embeds[0]["description"] == f"<@{OTHER}>"
    assert fields(theirs.embeds[0])["Callsign"] == "`LINCOLN-3`" and fields(theirs.embeds[0])["Department"] == "Traffic"


async def test_department_autocomplete_offers_configured_departments(start_bot):
    h = await start_bot()
    choices = await h.autocomplete("profile set", member=OFFICER_M, guild_id=GUILD, department="tr")
    assert choices == [{"name": "Traffic", "value": "Traffic"}, {"name": "Patrol", "value": "Patrol"}]


async def test_a_profile_change_updates_the_unit_on_northca(start_bot, sandbox):
    h = await start_bot(status={"batch_window_ms": 50, "off_duty": "allow"})
    await link_guild(h.bot, sandbox)
    await h.slash("profile set", member=OFFICER_M, guild_id=GUILD, callsign="ADAM-12")
    await h.slash("status set", member=OFFICER_M, guild_id=GUILD, code="10-6")
    coalescer = h.bot.unit_status.coalescer
    assert await coalescer.flush()
    assert sandbox.units(MDT)["ADAM-12"]["rank"] == ""

    reply = await h.slash("profile set", member=OFFICER_M, guild_id=GUILD, rank="SGT", callsign="ADAM-15")
    assert fields(reply.embeds[0])["Status"] == "**10-6** Busy (unit `ADAM-15`)"
    assert await coalescer.flush()
    units = sandbox.units(MDT)
    assert units["ADAM-15"]["status"] == "10-6" and units["ADAM-15"]["rank"] == "SGT"
    assert units["ADAM-12"]["status"] == "10-7"  # the old callsign goes out of service

    cleared = await h.slash("profile set", member=OFFICER_M, guild_id=GUILD, callsign="-")
    assert cleared.content == "Profile updated (callsign)." and fields(cleared.embeds[0])["Callsign"] == "not set"
    assert await coalescer.flush()
    assert sandbox.units(MDT)["ADAM-15"]["status"] == "10-7"  # no callsign, no unit in service


# --- departments, clean text, concurrent changes ---------------------------------------------


async def test_profile_department_does_not_bypass_the_department_list(start_bot, sandbox):
    h = await start_bot()
    await link_guild(h.bot, sandbox)
    refused = await h.slash("profile set", member=OFFICER_M, guild_id=GUILD, callsign="ADAM-12", department="Mall Cops")
    assert refused.ephemeral and "Unknown department" in refused.content and "Patrol" in refused.content
    profile = await h.bot.profiles.get(GUILD, OFFICER)
    assert (profile.callsign, profile.department) == (None, None)  # nothing of a refused change is kept
    # The same rule as /shift start: a configured one is stored as configured.
    await h.slash("profile set", member=OFFICER_M, guild_id=GUILD, department="traffic")
    assert (await h.bot.profiles.get(GUILD, OFFICER)).department == "Traffic"

    # A department stored before the rule (or removed from the list since) is not written to Northca.
    await h.bot.db.execute(
        "UPDATE officer_profiles SET department = 'Mall Cops' WHERE guild_id = ? AND member_id = ?", (GUILD, OFFICER)
    )
    await h.slash("shift", sub="start", member=OFFICER_M, guild_id=GUILD)
    await h.slash("shift", sub="end", member=OFFICER_M, guild_id=GUILD)
    await h.bot.shifts.drain()
    shift = await h.bot.shifts.store.get(
        (await h.bot.db.fetchone("SELECT id FROM shifts WHERE member_id = ?", (OFFICER,)))["id"]
    )
    assert shift.department is None


async def test_text_sent_to_northca_is_cleaned_of_invisible_characters(start_bot, sandbox):
    h = await start_bot(status={"batch_window_ms": 50, "off_duty": "allow"})
    await link_guild(h.bot, sandbox)
    sneaky = "B.\u202e Bub\u200bble\u2066ton\u0007"
    reply = await h.slash(
        "profile set", member=OFFICER_M, guild_id=GUILD, callsign="ADAM-12", name=sneaky, rank="P\u200dO"
    )
    assert fields(reply.embeds[0])["Name"] == "B. Bubbleton"
    await h.slash("status set", member=OFFICER_M, guild_id=GUILD, code="10-8")
    assert await h.bot.unit_status.coalescer.flush()
    unit = sandbox.units(MDT)["ADAM-12"]
    assert (unit["officer_name"], unit["rank"]) == ("B. Bubbleton", "PO")
    # Also what never passed /profile set: a display name with bidi controls, on the shift written to Northca.
    other = builders.member(OTHER, permissions=MEMBER_PERMS, username="smith", nick="\u202eS\u200bmith\u2069")
    await h.slash("shift", sub="start", member=other, guild_id=GUILD, department="Patrol")
    await h.slash("shift", sub="end", member=other, guild_id=GUILD)
    row = await h.bot.db.fetchone("SELECT id FROM shifts WHERE member_id = ?", (OTHER,))
    assert (await settled(h.bot.shifts, row["id"])).synced
    [written] = sandbox.shifts(MDT)
    assert written["officer_name"] == "Smith"


async def test_two_profile_changes_sent_at_once_keep_each_others_fields(start_bot):
    h = await start_bot()

    first, second = await asyncio.gather(
        h.slash("profile set", member=OFFICER_M, guild_id=GUILD, badge="512"),
        h.slash("profile set", member=OFFICER_M, guild_id=GUILD, rank="Sgt"),
    )

    assert "Profile updated" in first.content and "Profile updated" in second.content
    shown = fields((await h.slash("profile show", member=OFFICER_M, guild_id=GUILD)).embeds[0])
    assert (shown["Badge"], shown["Rank"]) == ("512", "Sgt")
