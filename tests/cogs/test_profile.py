"""/profile set and /profile show, driven as Discord would."""

from __future__ import annotations

import pytest

from tests.conftest import GUILD, MDT, MEMBER_PERMS, link_guild
from tests.harness import UserOption, builders

pytestmark = pytest.mark.asyncio

OFFICER = 444444444444444444
OTHER = 555555555555555555
OFFICER_M = builders.member(OFFICER, permissions=MEMBER_PERMS, username="officer", nick="Ofc. Bubbleton")
OTHER_M = builders.member(OTHER, permissions=MEMBER_PERMS, username="smith")


def fields(embed: dict) -> dict[str, str]:
    return {f["name"]: f["value"] for f in embed["fields"]}


async def test_set_stores_a_normalised_profile(start_bot):
    h = await start_bot()
    reply = await h.slash(
        "profile set", member=OFFICER_M, guild_id=GUILD,
        callsign="  adam-12 ", badge="512", rank="PO", department="patrol", name="  B.   Bubbleton ",
    )
    assert reply.callback_type == 4 and reply.ephemeral
    assert reply.content == "Profile updated (callsign, badge, rank, department, name)."
    shown = fields(reply.embeds[0])
    assert shown["Callsign"] == "`ADAM-12`" and shown["Department"] == "Patrol" and shown["Name"] == "B. Bubbleton"
    profile = await h.bot.profiles.get(GUILD, OFFICER)
    assert (profile.callsign, profile.badge, profile.rank, profile.department, profile.name) == (
        "ADAM-12", "512", "PO", "Patrol", "B. Bubbleton"
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
