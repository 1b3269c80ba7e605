"""What a member sees on the panels, through the offline Discord harness: the shift
panel edited in place after each press (its colour, title, which buttons are enabled, Break becoming End break), the
status panel's colours by kind of status and its folded codes, the panic alert's Responding button and responder
list, the roster reminder's next steps, and one house style."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import Any

from cogs.status import FOLDED_LIMIT
from cogs.style import BRAND, ERROR, NEUTRAL, PANIC, SUCCESS, WARNING
from tests.harness import builders
from tests.helpers.bot import link_guild
from tests.helpers.dispatch import RESPONDER, add_dispatch_guild, dispatch_ready, field, posts_in
from tests.helpers.ids import ADMIN, ADMIN_M, ALERTS_CH, DISPATCH_CH, GUILD, MEMBER_PERMS, OFFICER, OFFICER_M, OTHER
from tests.helpers.shift_duty import boot_shift_duty
from tests.helpers.status import post_panel, settle, wait_panel_edit
from tests.helpers.waiting import until

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
    h = await boot_shift_duty(start_bot, sandbox)
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
    h = await boot_shift_duty(start_bot, sandbox)
    panel = await h.slash("shift", sub="panel", member=OFFICER_M, guild_id=GUILD)
    assert [c for c in panel.custom_ids if c in PANEL_IDS] == PANEL_IDS
    assert "northca:shift:panel:dept" in panel.custom_ids
    await h.bot.close()
    h.close()
    h2 = await boot_shift_duty(start_bot, sandbox)
    picked = await h2.click(
        "northca:shift:panel:dept", member=OFFICER_M, guild_id=GUILD, message=panel, values=["Traffic"]
    )
    picked = await picked.final()
    assert picked.embeds[0]["title"] == "On duty" and "Traffic" in str(picked.embeds[0]["fields"])
    assert h2.fake.messages[int(panel.message["id"])]["components"][-1]["components"][0]["disabled"] is True


async def test_a_press_that_no_longer_applies_brings_the_panel_up_to_date_and_says_why(start_bot, sandbox):
    h = await boot_shift_duty(start_bot, sandbox)
    panel = await h.slash("shift", sub="panel", member=OFFICER_M, guild_id=GUILD)
    await h.bot.shifts.start(GUILD, OFFICER, display_name="officer")  # through /shift start elsewhere
    pressed = await h.click("northca:shift:panel:start", member=OFFICER_M, guild_id=GUILD, message=panel)
    refused = await pressed.followup()
    assert refused.ephemeral and "on duty since" in refused.content
    now = h.fake.messages[int(panel.message["id"])]
    assert now["embeds"][0]["title"] == "On duty"


# --- 2. the status panel -------------------------------------------------------------------


async def status_ready(start_bot: Any, sandbox: Any) -> Any:
    h = await start_bot()
    await link_guild(h.bot, sandbox)
    await h.bot.profiles.update(GUILD, OFFICER, callsign="ADAM-12", badge="512", rank="PO", department="Patrol")
    await h.bot.shifts.start(GUILD, OFFICER, display_name="Ofc. Bubbleton")
    await settle(h)
    return h


def styles(message: dict[str, Any]) -> dict[str, int]:
    return {c["label"]: c["style"] for row in message["components"] for c in row["components"] if c["type"] == 2}


async def test_status_panel_red_only_for_panic_one_colour_per_kind_and_codes_nobody_is_on_folded(start_bot, sandbox):
    h = await status_ready(start_bot, sandbox)
    panel = await post_panel(h)
    by_label = styles(panel)
    # Discord's button styles: 1 blue (primary), 2 grey (secondary), 3 green (success), 4 red (danger).
    assert by_label["10-33 Panic"] == 4
    assert [label for label, style in by_label.items() if style == 4] == ["10-33 Panic"]  # red: panic only
    assert by_label["10-7 Out of service"] == 2  # out of service: grey, no longer the red of panic
    assert by_label["10-8 In service"] == 3
    assert by_label["10-6 Busy"] == by_label["10-23 On scene"] == by_label["10-97 En route"] == 1  # busy: blue
    embed = panel["embeds"][0]
    assert embed["color"] == BRAND.value
    # Only the code someone is on gets a field (marked with its kind); the others fit in one line.
    assert [f["name"] for f in embed["fields"]] == ["🟢 10-8 · In service (1)"]
    assert "Nobody on 10-6, 10-7, 10-23, 10-97." in embed["description"]
    assert "(0)" not in str(embed) and "—" not in str(embed)

    await h.click("northca:status:set:10-23", member=OFFICER_M, message=panel)
    edit = await wait_panel_edit(h, int(panel["id"]), lambda f: f.get("10-23 · On scene (1)") == "`ADAM-12`")
    assert [f["name"] for f in edit.json["embeds"][0]["fields"]] == ["🔵 10-23 · On scene (1)"]


async def test_status_panel_of_a_server_with_25_codes_stays_short_and_turns_red_for_a_panic(start_bot, sandbox):
    h = await status_ready(start_bot, sandbox)
    for i in range(20):
        await h.bot.settings.add_code(GUILD, ADMIN, f"10-{50 + i}", f"Extra {i}")
    panel = await post_panel(h)
    embed = panel["embeds"][0]
    assert len(embed["fields"]) == 1  # not 25 fields of "10-50 · Extra 0 (0) —"
    assert len(embed["description"]) <= FOLDED_LIMIT + 50 and embed["description"].count("\n") <= 2
    assert "10-50" in embed["description"] and "10-69." in embed["description"]

    await h.bot.dispatcher.panic(GUILD, OFFICER, "Main St")
    await settle(h)
    red = await h.fake.wait_for(
        lambda r: (
            r.method == "PATCH"
            and r.path.endswith(f"/messages/{panel['id']}")
            and (r.json.get("embeds") or [{}])[0].get("color") == PANIC.value
        )
    )
    names = [f["name"] for f in red.json["embeds"][0]["fields"]]
    assert names[0] == "🚨 10-33 · Panic (1)"


# --- 3. the panic alert --------------------------------------------------------------------

RESPONDER_A = 930000000000000001
RESPONDER_B = 930000000000000002


def responder(member_id: int, name: str) -> dict[str, Any]:
    return builders.member(member_id, permissions=MEMBER_PERMS, username=name, roles=[RESPONDER])


async def press_panic(h: Any, location: str = "Route 68 mile 4") -> Any:
    ask = await h.slash("panic", member=OFFICER_M, guild_id=GUILD, location=location)
    [confirm] = [c for c in ask.custom_ids if c.startswith("northca:dispatch:panic-ok:")]
    return await (await h.click(confirm, member=OFFICER_M, message=ask)).final()


def alert_buttons(message: dict[str, Any]) -> dict[str, str]:
    return {c["label"]: c["custom_id"] for row in message["components"] for c in row["components"]}


async def test_panic_alert_reads_at_a_glance_and_has_a_responding_button_for_responders(start_bot, sandbox):
    h = await start_bot()
    await dispatch_ready(h, sandbox, {OFFICER: "ADAM-12", RESPONDER_A: "LINCOLN-4", OTHER: "ADAM-13"})
    sandbox.faults.add("500", times=1000, path="/panic$")  # Northca answers errors: nothing technical on the alert
    await press_panic(h)
    [posted] = posts_in(h, ALERTS_CH)
    alert = posted.response
    embed = alert["embeds"][0]
    assert embed["title"] == "🚨 10-33 · ADAM-12 · Route 68 mile 4"
    assert embed["color"] == PANIC.value
    assert embed["footer"]["text"] == "MDT: saving…"
    assert "Northca" not in str(embed) and "error" not in str(embed).lower()
    assert [f["name"] for f in embed["fields"]] == ["Responding (0)"]
    respond = alert_buttons(alert)["Responding"]
    assert respond.startswith("northca:dispatch:panic-respond:") and "Clear panic" in alert_buttons(alert)

    # Not a responder (no responder role, not a supervisor): refused, the list unchanged.
    refused = await h.click(respond, member=builders.member(OTHER, permissions=MEMBER_PERMS), message=alert)
    assert refused.ephemeral and "responder role" in refused.content
    assert await h.bot.dispatcher.responders(GUILD, respond.rsplit(":", 1)[1]) == ()

    pressed = await h.click(respond, member=responder(RESPONDER_A, "lincoln"), message=alert)
    assert pressed.callback_type == 7 and not pressed.followups  # the alert itself shows it
    assert field(pressed.embeds[0], "Responding (1)") == f"<@{RESPONDER_A}> · `LINCOLN-4`"
    # A second press by the same member is a no-op: the list is the same, and they are told privately.
    again = await h.click(respond, member=responder(RESPONDER_A, "lincoln"), message=alert)
    assert field(again.embeds[0], "Responding (1)") == f"<@{RESPONDER_A}> · `LINCOLN-4`"
    told = await again.followup()
    assert told.ephemeral and "already" in told.content


async def test_the_responders_survive_a_restart_and_show_after_the_panic_is_cleared(start_bot, sandbox):
    h = await start_bot()
    await dispatch_ready(h, sandbox, {OFFICER: "ADAM-12", RESPONDER_A: "LINCOLN-4"})
    await press_panic(h)
    [posted] = posts_in(h, ALERTS_CH)
    alert = posted.response
    respond = alert_buttons(alert)["Responding"]
    await h.click(respond, member=responder(RESPONDER_A, "lincoln"), message=alert)
    await h.bot.close()
    h.close()

    h2 = await start_bot()
    add_dispatch_guild(h2)
    second = await h2.click(respond, member=responder(RESPONDER_B, "mary"), message=alert)
    assert field(second.embeds[0], "Responding (2)") == f"<@{RESPONDER_A}> · `LINCOLN-4`\n<@{RESPONDER_B}> · no unit"
    cleared = await h2.click(alert_buttons(alert)["Clear panic"], member=OFFICER_M, message=alert)
    assert cleared.embeds[0]["title"] == "10-33 · ADAM-12 · Route 68 mile 4 (cleared)"
    assert cleared.embeds[0]["color"] == NEUTRAL.value and cleared.components == []
    assert "Responded (2)" in [f["name"] for f in cleared.embeds[0]["fields"]]


# --- 4. notices with a next step -------------------------------------------------------------


async def test_a_closed_call_card_says_closed_and_by_whom_not_units_assigned_none_yet(start_bot, sandbox):
    h = await start_bot()
    await dispatch_ready(h, sandbox, {OFFICER: "ADAM-12"})
    made = await h.slash(
        "call create", member=OFFICER_M, guild_id=GUILD, classification="10-50 collision", description="Two cars",
        location="Main St / 5th", priority="P1", call_type="police",
    )  # fmt: skip
    await made.final()
    [card] = posts_in(h, DISPATCH_CH)
    [call_id] = {c["custom_id"].rsplit(":", 1)[1] for row in card.response["components"] for c in row["components"]}
    open_card = card.response["embeds"][0]
    assert open_card["color"] == BRAND.value and field(open_card, "Units assigned (0)") == "None yet: press Attach."
    closed = await h.click(f"northca:dispatch:call:close:{call_id}", member=OFFICER_M, message=card.response)
    embed = closed.embeds[0]
    assert field(embed, "Closed") == f"This call is closed by <@{OFFICER}>."
    assert "Units assigned" not in str(embed) and "none yet" not in str(embed).lower()
    assert embed["color"] == NEUTRAL.value and closed.components == []


# --- 9. one house style ----------------------------------------------------------------------

COGS = Path(__file__).resolve().parents[2] / "cogs"
AD_HOC_COLOUR = re.compile(r"discord\.Colou?r\b|Colou?r\(|colou?r\s*=\s*0x")


def test_every_cog_takes_its_colours_from_the_house_style():
    offenders = [
        f"{path.relative_to(COGS.parent)}:{number}"
        for path in sorted(COGS.rglob("*.py"))
        if path.name != "style.py"
        for number, line in enumerate(path.read_text().splitlines(), 1)
        if AD_HOC_COLOUR.search(line)
    ]
    assert offenders == []


async def test_answers_members_see_use_the_brand_and_the_fixed_colours_and_red_only_for_errors(start_bot, sandbox):
    h = await boot_shift_duty(start_bot, sandbox)
    profile = await h.slash("profile", sub="show", member=OFFICER_M, guild_id=GUILD)
    settings = await h.slash("settings show", member=ADMIN_M, guild_id=GUILD)
    status = await h.slash("shift", sub="status", member=OFFICER_M, guild_id=GUILD)
    board = await h.slash("shift", sub="leaderboard", member=OFFICER_M, guild_id=GUILD)
    colours = [r.embeds[0]["color"] for r in (profile, settings, board)]
    assert colours == [BRAND.value] * 3
    assert status.embeds[0]["color"] == NEUTRAL.value  # off duty
    assert PANIC.value == ERROR.value  # one red, for errors and panic


async def test_two_responders_pressing_at_once_both_end_on_the_alert(start_bot, sandbox):
    h = await start_bot()
    await dispatch_ready(h, sandbox, {OFFICER: "ADAM-12", RESPONDER_A: "LINCOLN-4", RESPONDER_B: "MARY-2"})
    await press_panic(h)
    [posted] = posts_in(h, ALERTS_CH)
    alert = posted.response
    respond = alert_buttons(alert)["Responding"]
    await asyncio.gather(
        h.click(respond, member=responder(RESPONDER_A, "lincoln"), message=alert),
        h.click(respond, member=responder(RESPONDER_B, "mary"), message=alert),
    )
    await until(lambda: "Responding (2)" in str(h.fake.messages[int(alert["id"])]["embeds"]), 5, "both on the alert")
    shown = field(h.fake.messages[int(alert["id"])]["embeds"][0], "Responding (2)")
    assert f"<@{RESPONDER_A}> · `LINCOLN-4`" in shown and f"<@{RESPONDER_B}> · `MARY-2`" in shown


async def test_off_duty_from_the_panel_says_something_new_only_when_northca_refuses_the_shift(start_bot, sandbox):
    h = await boot_shift_duty(start_bot, sandbox)
    panel = await h.slash("shift", sub="panel", member=OFFICER_M, guild_id=GUILD)
    await (await h.click("northca:shift:panel:start", member=OFFICER_M, guild_id=GUILD, message=panel)).final()
    sandbox.faults.add("error", times=1, method="POST", path=r"/shifts$", status=400, message="Invalid mdt_id")
    off = await h.click("northca:shift:panel:end", member=OFFICER_M, guild_id=GUILD, message=panel)
    await off.final()
    warned = await off.followup()
    while warned.kind == "edit":  # the panel's own edits (off duty at once, then with the verdict)
        warned = await off.followup()
    assert (
        warned.kind == "followup"
        and warned.ephemeral
        and warned.content.startswith("⚠️ MDT: check needed: the MDT refused it")
    )
    now = h.fake.messages[int(panel.message["id"])]
    last = next(f["value"] for f in now["embeds"][0]["fields"] if f["name"] == "Last shift")
    assert now["embeds"][0]["title"] == "Off duty" and "the MDT refused it" in last
