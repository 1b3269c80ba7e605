"""What a member sees on the panels (issue 25, points 1-4 and 9), through the offline Discord harness: the shift
panel edited in place after each press (its colour, title, which buttons are enabled, Break becoming End break), the
status panel's colours by kind of status and its folded codes, the panic alert's Responding button and responder
list, the roster reminder's next steps, and one house style."""

from __future__ import annotations

from typing import Any

import pytest

from cogs.style import NEUTRAL, SUCCESS, WARNING
from tests.harness import builders
from tests.helpers import GUILD, MEMBER_PERMS, OFFICER, OFFICER_M, OTHER
from tests.shift_duty_helpers import boot

pytestmark = pytest.mark.asyncio

OTHER_M = builders.member(OTHER, permissions=MEMBER_PERMS, username="other")
PANEL_IDS = ["northca:shift:panel:start", "northca:shift:panel:break", "northca:shift:panel:end"]


def buttons(message: Any) -> dict[str, dict[str, Any]]:
    """The panel's buttons by custom id: label and whether Discord would let them be pressed."""
    return {
        c["custom_id"]: {"label": c.get("label"), "enabled": not c.get("disabled", False)}
        for row in message.components
        for c in row.get("components", [])
        if c.get("type") == 2
    }


def enabled(message: Any) -> list[str]:
    return [cid for cid, b in buttons(message).items() if b["enabled"]]


def field_names(message: Any) -> list[str]:
    return [f["name"] for f in message.embeds[0].get("fields", [])]


# --- 1. the shift panel --------------------------------------------------------------------


async def test_shift_panel_edits_itself_in_place_through_on_duty_break_end_break_and_off_duty(start_bot, sandbox):
    h = await boot(start_bot, sandbox)
    panel = await h.slash("shift", sub="panel", member=OFFICER_M, guild_id=GUILD)
    assert panel.ephemeral and panel.embeds[0]["title"] == "Off duty" and panel.embeds[0]["color"] == NEUTRAL.value
    assert enabled(panel) == ["northca:shift:panel:start"]  # Break and Off duty do not apply off duty
    footer = panel.embeds[0]["footer"]["text"]
    assert "whoever presses" not in footer and "Only you see this panel" in footer

    on = await h.click("northca:shift:panel:start", member=OFFICER_M, guild_id=GUILD, message=panel)
    on = await on.final()
    # The answer is the panel itself, changed (Discord's "update message"), not a new private message.
    assert on.callback_type in (6, 7) and on.message is not None and int(on.message["id"]) == int(panel.message["id"])
    assert on.embeds[0]["title"] == "On duty" and on.embeds[0]["color"] == SUCCESS.value
    assert enabled(on) == ["northca:shift:panel:break", "northca:shift:panel:end"]
    assert buttons(on)["northca:shift:panel:break"]["label"] == "Break"
    assert not on.followups

    brk = await (await h.click("northca:shift:panel:break", member=OFFICER_M, guild_id=GUILD, message=panel)).final()
    assert brk.embeds[0]["title"] == "On break" and brk.embeds[0]["color"] == WARNING.value
    assert buttons(brk)["northca:shift:panel:break"] == {"label": "End break", "enabled": True}
    assert enabled(brk) == ["northca:shift:panel:break", "northca:shift:panel:end"]
    assert (await h.bot.shifts.open_shift(GUILD, OFFICER)).on_break

    back = await (await h.click("northca:shift:panel:break", member=OFFICER_M, guild_id=GUILD, message=panel)).final()
    assert back.embeds[0]["title"] == "On duty" and buttons(back)["northca:shift:panel:break"]["label"] == "Break"
    assert not (await h.bot.shifts.open_shift(GUILD, OFFICER)).on_break

    off = await (await h.click("northca:shift:panel:end", member=OFFICER_M, guild_id=GUILD, message=panel)).final()
    assert off.embeds[0]["title"] == "Off duty" and off.embeds[0]["color"] == NEUTRAL.value
    assert enabled(off) == ["northca:shift:panel:start"]
    assert "Last shift" in field_names(off)
    assert await h.bot.shifts.open_shift(GUILD, OFFICER) is None
    # The same message all along: the fake Discord holds one panel, now showing off duty.
    assert h.fake.messages[int(panel.message["id"])]["embeds"][0]["title"] == "Off duty"


async def test_shift_panel_keeps_its_custom_ids_and_works_after_a_restart(start_bot, sandbox):
    h = await boot(start_bot, sandbox)
    panel = await h.slash("shift", sub="panel", member=OFFICER_M, guild_id=GUILD)
    assert [c for c in panel.custom_ids if c in PANEL_IDS] == PANEL_IDS
    assert "northca:shift:panel:dept" in panel.custom_ids
    await h.bot.close()
    h.close()
    h2 = await boot(start_bot, sandbox)
    picked = await h2.click(
        "northca:shift:panel:dept", member=OFFICER_M, guild_id=GUILD, message=panel, values=["Traffic"]
    )
    picked = await picked.final()
    assert picked.embeds[0]["title"] == "On duty" and "Traffic" in str(picked.embeds[0]["fields"])
    assert h2.fake.messages[int(panel.message["id"])]["components"][-1]["components"][0]["disabled"] is True


async def test_a_press_that_no_longer_applies_brings_the_panel_up_to_date_and_says_why(start_bot, sandbox):
    h = await boot(start_bot, sandbox)
    panel = await h.slash("shift", sub="panel", member=OFFICER_M, guild_id=GUILD)
    await h.bot.shifts.start(GUILD, OFFICER, display_name="officer")  # through /shift start elsewhere
    pressed = await h.click("northca:shift:panel:start", member=OFFICER_M, guild_id=GUILD, message=panel)
    refused = await pressed.followup()
    assert refused.ephemeral and "on duty since" in refused.content
    now = h.fake.messages[int(panel.message["id"])]
    assert now["embeds"][0]["title"] == "On duty"
