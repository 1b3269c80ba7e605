"""Dispatch from Discord (/panic, call cards, /ticket, /report) driven as Discord would, against the sandbox."""

from __future__ import annotations

import asyncio
import re

import pytest

from tests.harness import builders
from tests.helpers.clock import Clock
from tests.helpers.dispatch import (
    RESPONDER,
    add_dispatch_guild,
    body,
    card_edit,
    created,
    dispatch_ready,
    field,
    posts_in,
)
from tests.helpers.ids import (
    ADMIN,
    ALERTS_CH,
    DISPATCH_CH,
    GUILD,
    LOG_CH,
    MDT,
    MEMBER_PERMS,
    OFFICER,
    OFFICER_M,
    OTHER,
    SUPERVISOR_ROLE,
    THIRD,
)
from tests.helpers.status import post_panel
from tests.helpers.waiting import until

pytestmark = pytest.mark.asyncio

OTHER_M = builders.member(OTHER, permissions=MEMBER_PERMS, username="other", nick="Ofc. Other")
THIRD_M = builders.member(THIRD, permissions=MEMBER_PERMS, username="third")


async def press_panic(h, member=OFFICER_M, location="Route 68 mile 4"):
    ask = await h.slash("panic", member=member, guild_id=GUILD, location=location)
    assert ask.ephemeral
    [confirm] = [c for c in ask.custom_ids if c.startswith("northca:dispatch:panic-ok:")]
    return await h.click(confirm, member=member, message=ask)


def create_call(h, member=OFFICER_M):
    return h.slash(
        "call create",
        member=member,
        guild_id=GUILD,
        classification="10-50 collision",
        description="Two cars, one on its roof",
        location="Main St / 5th",
        priority="P1",
        call_type="police",
    )


async def new_call(h, member=OFFICER_M):
    reply = await create_call(h, member)
    assert reply.ephemeral and f"<#{DISPATCH_CH}>" in reply.content, reply.content
    [card] = posts_in(h, DISPATCH_CH)
    # People read the call's short number; the id is only in the buttons' custom ids.
    assert re.fullmatch(r"Call #\d+ · MDT: .+", card.response["embeds"][0]["footer"]["text"])
    [call_id] = {c["custom_id"].rsplit(":", 1)[1] for row in card.response["components"] for c in row["components"]}
    assert call_id not in str(card.response["embeds"])
    return card.response, call_id


async def test_panic_alert_goes_out_at_once_while_northca_is_down_and_the_outcome_is_edited_after_recovery(
    start_bot, sandbox
):
    h = await start_bot()
    await dispatch_ready(h, sandbox, {OFFICER: "ADAM-12"})
    sandbox.faults.add("500", times=1000, path="/panic$")

    done = await press_panic(h)

    # The alert is out although Northca answers nothing but errors.
    [alert] = posts_in(h, ALERTS_CH)
    assert alert.json["content"].startswith(f"<@&{RESPONDER}> **10-33 PANIC**")
    # Only the responder role may be pinged: no @everyone, no users, no other role.
    assert alert.json["allowed_mentions"] == {"parse": [], "roles": [RESPONDER]}
    embed = alert.json["embeds"][0]
    # Unit and location in the title, read at a glance; the MDT's state as one short word.
    assert embed["title"] == "🚨 10-33 · ADAM-12 · Route 68 mile 4"
    assert embed["description"].startswith(f"<@{OFFICER}> needs help") and embed["footer"]["text"] == "MDT: saving…"
    final = await done.final()
    assert "10-33 sent" in final.content
    assert sandbox.panics(MDT) == []
    # Northca comes back: the retried panic lands and the alert says so.
    await until(lambda: len([r for r in sandbox.requests if r.path.endswith("/panic")]) >= 2, 10, "a retry")
    sandbox.faults.clear()
    await card_edit(h, alert.response["id"], lambda e: e["footer"]["text"] == "MDT: ✓ saved")
    [panic] = sandbox.panics(MDT)
    assert (panic["unit_id"], panic["address"]) == ("ADAM-12", "Route 68 mile 4")


async def test_panic_without_an_alerts_channel_says_to_set_it_and_sends_nothing(start_bot, sandbox):
    h = await start_bot()
    await dispatch_ready(h, sandbox, {OFFICER: "ADAM-12"})
    await h.bot.settings.set_channel(GUILD, 1, "alerts", None)
    reply = await h.slash("panic", member=OFFICER_M, guild_id=GUILD)
    assert reply.ephemeral and "/settings channel alerts" in reply.content
    assert posts_in(h, ALERTS_CH) == [] and sandbox.panics(MDT) == []


async def test_second_panic_within_the_cooldown_is_refused(start_bot, sandbox):
    h = await start_bot()
    await dispatch_ready(h, sandbox, {OFFICER: "ADAM-12"})
    await (await press_panic(h)).final()
    again = await press_panic(h)
    assert again.ephemeral and "moments ago" in (await again.final()).content
    assert len(posts_in(h, ALERTS_CH)) == 1


async def test_panic_clear_by_another_officer_is_refused_and_by_the_officer_works(start_bot, sandbox):
    h = await start_bot()
    await dispatch_ready(h, sandbox, {OFFICER: "ADAM-12", OTHER: "ADAM-13"})
    await (await press_panic(h)).final()
    [alert] = posts_in(h, ALERTS_CH)
    [clear] = [c for c in alert.response["components"][0]["components"] if "panic-clear" in c["custom_id"]]
    refused = await h.click(clear["custom_id"], member=OTHER_M, message=alert.response)
    assert refused.ephemeral and "Only the officer who pressed panic or a supervisor" in refused.content
    cleared = await h.click(clear["custom_id"], member=OFFICER_M, message=alert.response)
    assert cleared.callback_type == 7
    assert cleared.embeds[0]["title"] == "10-33 · ADAM-12 · Route 68 mile 4 (cleared)"


async def test_two_officers_pressing_attach_at_once_both_end_in_units_assigned(start_bot, sandbox):
    h = await start_bot()
    await dispatch_ready(h, sandbox, {OFFICER: "ADAM-12", OTHER: "ADAM-13"})
    card, call_id = await new_call(h)
    await until(lambda: len(sandbox.calls(MDT)) == 1, 10, "the call on Northca")
    attach = f"northca:dispatch:call:attach:{call_id}"

    first, second = await asyncio.gather(
        h.click(attach, member=OFFICER_M, message=card), h.click(attach, member=OTHER_M, message=card)
    )

    assert first.callback_type == 7 and second.callback_type == 7
    await until(
        lambda: sorted(sandbox.calls(MDT)[0]["units_assigned"] or []) == ["ADAM-12", "ADAM-13"], 10, "both units"
    )
    call = await h.bot.dispatcher.call(GUILD, call_id)
    assert sorted(call.units) == ["ADAM-12", "ADAM-13"]
    # Both, in the order their presses were stored (on PostgreSQL two presses of one moment may commit either way).
    both = {"`ADAM-12`, `ADAM-13`", "`ADAM-13`, `ADAM-12`"}
    await card_edit(h, card["id"], lambda e: field(e, "Units assigned") in both)


async def test_call_card_buttons_work_after_a_restart(start_bot, sandbox):
    h = await start_bot()
    await dispatch_ready(h, sandbox, {OFFICER: "ADAM-12"})
    card, call_id = await new_call(h)
    await h.bot.close()

    h2 = await start_bot()
    reply = await h2.click(f"northca:dispatch:call:onscene:{call_id}", member=OFFICER_M, message=card)

    assert reply.callback_type == 7 and field(reply.embeds[0], "Units assigned") == "`ADAM-12`"
    await until(lambda: (sandbox.calls(MDT) or [{}])[0].get("units_assigned") == ["ADAM-12"], 10, "the PATCH")
    assert (await h2.bot.unit_status.status_of(GUILD, OFFICER)).status == "10-23"  # type: ignore[union-attr]


async def test_close_by_a_non_creator_non_supervisor_is_refused_and_nothing_changes(start_bot, sandbox):
    h = await start_bot()
    await dispatch_ready(h, sandbox, {OFFICER: "ADAM-12", OTHER: "ADAM-13"})
    card, call_id = await new_call(h)
    close = f"northca:dispatch:call:close:{call_id}"
    refused = await h.click(close, member=OTHER_M, message=card)
    assert refused.ephemeral and "created this call or a supervisor" in refused.content
    assert not (await h.bot.dispatcher.call(GUILD, call_id)).closed
    closed = await h.click(close, member=OFFICER_M, message=card)
    assert closed.callback_type == 7 and closed.components == []
    call = await h.bot.dispatcher.call(GUILD, call_id)
    assert call.closed and call.closed_by == OFFICER
    assert posts_in(h, LOG_CH) == []  # the creator closing their own call is not a supervisor action
    await until(lambda: (sandbox.calls(MDT) or [{}])[0].get("status") == "closed", 10, "closed on Northca")


async def test_call_create_without_a_dispatch_channel_says_to_set_it(start_bot, sandbox):
    h = await start_bot()
    await dispatch_ready(h, sandbox, {OFFICER: "ADAM-12"})
    await h.bot.settings.set_channel(GUILD, 1, "dispatch", None)
    reply = await create_call(h)
    assert reply.ephemeral and "/settings channel dispatch" in reply.content
    assert created(sandbox, "calls") == []


async def test_ticket_form_writes_once_with_the_officer_from_the_profile(start_bot, sandbox):
    h = await start_bot()
    await dispatch_ready(h, sandbox, {OFFICER: "ADAM-12"})
    form = await h.slash("ticket", member=OFFICER_M, guild_id=GUILD)
    assert form.modal is not None and len(form.modal["components"]) <= 5
    done = await (
        await h.submit_modal(
            form, {"Title": "Speeding", "Description": "80 in a 35", "Priority (optional)": "low"}, member=OFFICER_M
        )
    ).final()
    assert "**Ticket #1** Speeding" in done.content and "MDT: ✓ saved" in done.content
    [post] = created(sandbox, "tickets")
    sent = body(post)
    assert (sent["officer_name"], sent["officer_badge"], sent["officer_callsign"]) == ("Ofc ADAM-12", "512", "ADAM-12")
    assert re.fullmatch(r"[0-9a-f-]{36}", sent["id"]) and sent["id"] not in done.content


async def test_ticket_under_commit_then_500_is_written_once_and_shown_unconfirmed(start_bot, sandbox):
    h = await start_bot()
    await dispatch_ready(h, sandbox, {OFFICER: "ADAM-12"})
    sandbox.faults.add("commit_then_500", times=1, path="/tickets$")
    form = await h.slash("ticket", member=OFFICER_M, guild_id=GUILD)
    await (await h.submit_modal(form, {"Title": "Parking", "Description": "Hydrant"}, member=OFFICER_M)).final()
    [record_id] = [e.id for e in [await _only_entry(h)]]
    entry = await h.bot.dispatcher.wait_settled(record_id, 10)
    assert entry is not None and entry.state == "unconfirmed"
    posts = created(sandbox, "tickets")
    # Retried with the same id only (refused as a duplicate), never under a new one: one ticket exists.
    assert len(posts) == 2 and {body(p)["id"] for p in posts} == {record_id}
    assert len(sandbox.dispatch_records("tickets", MDT)) == 1
    assert (await h.bot.dispatcher.process_due()) == 0  # nothing is sent again


async def _only_entry(h):
    rows = await h.bot.db.fetchall("SELECT id FROM dispatch_outbox WHERE kind = 'ticket'")
    assert len(rows) == 1
    return await h.bot.dispatcher.entry(rows[0]["id"])


async def test_report_from_the_call_card_is_linked_to_the_call(start_bot, sandbox):
    h = await start_bot()
    await dispatch_ready(h, sandbox, {OFFICER: "ADAM-12"})
    card, call_id = await new_call(h)
    form = await h.click(f"northca:dispatch:call:report:{call_id}", member=OFFICER_M, message=card)
    assert form.modal is not None
    assert all(len(c["components"][0]["label"]) <= 45 for c in form.modal["components"])
    done = await (
        await h.submit_modal(
            form, {"Title": "Collision", "What happened": "Two cars", "Location": "Main St"}, member=OFFICER_M
        )
    ).final()
    assert "**Scene report #1** Collision" in done.content
    assert "Linked to call #1" in done.content and call_id not in done.content
    await until(lambda: len(sandbox.dispatch_records("scene_reports", MDT)) == 1, 10, "the report")
    [report] = sandbox.dispatch_records("scene_reports", MDT)
    assert (report["dispatch_call_id"], report["officer_name"]) == (call_id, "Ofc ADAM-12")


async def test_dispatch_in_two_guilds_is_isolated(start_bot, sandbox):
    h = await start_bot()
    await dispatch_ready(h, sandbox, {OFFICER: "ADAM-12"})
    card, call_id = await new_call(h)
    other_guild = 121212121212121212
    h.add_guild(other_guild, name="Other", owner_id=OTHER)
    reply = await h.click(
        f"northca:dispatch:call:attach:{call_id}", member=OFFICER_M, message=card, guild_id=other_guild
    )
    assert reply.ephemeral and "not known on this server" in reply.content
    assert (await h.bot.dispatcher.call(GUILD, call_id)).units == ()


async def test_panic_button_on_a_status_panel_asks_to_confirm_then_marks_the_unit_10_33(start_bot, sandbox):
    h = await start_bot()
    await dispatch_ready(h, sandbox, {OFFICER: "ADAM-12"})
    await h.bot.settings.add_code(GUILD, ADMIN, "10-33", "Emergency", "danger")
    panel = await post_panel(h)

    ask = await h.click("northca:dispatch:panic", member=OFFICER_M, message=panel)

    # One press sends nothing: it asks to confirm.
    assert ask.ephemeral and "Press the button to confirm" in ask.content and posts_in(h, ALERTS_CH) == []
    done = await h.click("northca:dispatch:panic-ok:", member=OFFICER_M, message=ask)
    assert "10-33 sent" in (await done.final()).content
    [alert] = posts_in(h, ALERTS_CH)
    assert alert.json["embeds"][0]["title"] == "🚨 10-33 · ADAM-12"  # no location given
    assert (await h.bot.unit_status.status_of(GUILD, OFFICER)).status == "10-33"  # type: ignore[union-attr]
    await until(lambda: len(sandbox.panics(MDT)) == 1, 10, "the panic on Northca")
    assert sandbox.panics(MDT)[0]["address"] is None


async def fill_codes_to_the_limit(h) -> list[str]:
    """Codes added until the server holds 25 (the most a server may have); returns every code in panel order."""
    have = list(h.bot.unit_status.codes(GUILD))
    for n in range(25 - len(have)):
        await h.bot.settings.add_code(GUILD, ADMIN, f"10-{50 + n}", f"Extra {n}")
    codes = list(h.bot.unit_status.codes(GUILD))
    assert len(codes) == 25
    return codes


def panel_components(panel) -> list[dict]:
    return [c for row in panel["components"] for c in row["components"]]


async def test_panel_of_a_server_with_25_codes_still_has_panic_and_pressing_it_raises_the_panic(start_bot, sandbox):
    h = await start_bot()
    await dispatch_ready(h, sandbox, {OFFICER: "ADAM-12"})
    codes = await fill_codes_to_the_limit(h)
    panel = await post_panel(h)

    # Discord's 5 rows: 4 of buttons (19 codes and Panic), the last a select with the other 6 codes.
    assert len(panel["components"]) == 5
    items = panel_components(panel)
    buttons = [c["custom_id"] for c in items if c["type"] == 2]
    assert buttons == [*(f"northca:status:set:{c}" for c in codes[:19]), "northca:dispatch:panic"]
    [more] = [c for c in items if c["type"] == 3]
    assert [o["value"] for o in more["options"]] == codes[19:]

    ask = await h.click("northca:dispatch:panic", member=OFFICER_M, message=panel)
    assert ask.ephemeral and "Press the button to confirm" in ask.content and posts_in(h, ALERTS_CH) == []
    done = await h.click("northca:dispatch:panic-ok:", member=OFFICER_M, message=ask)
    assert "10-33 sent" in (await done.final()).content
    [alert] = posts_in(h, ALERTS_CH)
    assert "unit `ADAM-12`" in alert.json["content"]
    assert (await h.bot.unit_status.status_of(GUILD, OFFICER)).status == "10-33"  # type: ignore[union-attr]
    await until(lambda: len(sandbox.panics(MDT)) == 1, 10, "the panic on Northca")


async def test_a_code_in_the_more_codes_select_of_a_full_panel_sets_the_status_also_after_a_restart(start_bot, sandbox):
    h = await start_bot()
    await dispatch_ready(h, sandbox, {OFFICER: "ADAM-12"})
    codes = await fill_codes_to_the_limit(h)
    panel = await post_panel(h)
    await h.bot.close()

    h2 = await start_bot()
    picked = await h2.click("northca:status:more", member=OFFICER_M, message=panel, values=[codes[-1]])

    assert picked.ephemeral and picked.content.startswith(f"You are now **{codes[-1]}** Extra 19")
    assert (await h2.bot.unit_status.status_of(GUILD, OFFICER)).status == codes[-1]  # type: ignore[union-attr]
    # A code removed since the panel was drawn is answered plainly, as its button would be.
    await h2.bot.settings.remove_code(GUILD, ADMIN, codes[-2])
    gone = await h2.click("northca:status:more", member=OFFICER_M, message=panel, values=[codes[-2]])
    assert gone.ephemeral and "no longer exists" in gone.content


async def test_supervisor_clears_another_officers_panic_after_a_restart(start_bot, sandbox):
    h = await start_bot()
    await dispatch_ready(h, sandbox, {OFFICER: "ADAM-12"})
    await (await press_panic(h)).final()
    [alert] = posts_in(h, ALERTS_CH)
    await h.bot.close()

    h2 = await start_bot()
    add_dispatch_guild(h2)
    supervisor = builders.member(THIRD, permissions=MEMBER_PERMS, username="sgt", roles=[SUPERVISOR_ROLE])
    clear = next(c["custom_id"] for c in alert.response["components"][0]["components"] if "clear" in c["custom_id"])
    cleared = await h2.click(clear, member=supervisor, message=alert.response)

    assert cleared.callback_type == 7 and cleared.embeds[0]["title"] == "10-33 · ADAM-12 · Route 68 mile 4 (cleared)"
    assert field(cleared.embeds[0], "Cleared").startswith(f"by <@{THIRD}>")
    await until(lambda: posts_in(h2, LOG_CH), 10, "the audit line")
    [line] = posts_in(h2, LOG_CH)
    assert line.json["content"] == f"🛡️ <@{THIRD}> cleared the 10-33 of <@{OFFICER}>."
    assert (await h2.bot.dispatcher.panic_record(GUILD, clear.rsplit(":", 1)[1])).cleared_by == THIRD  # type: ignore[union-attr]


async def test_call_under_commit_then_500_is_created_once_shown_unconfirmed_and_still_patched(start_bot, sandbox):
    h = await start_bot()
    await dispatch_ready(h, sandbox, {OFFICER: "ADAM-12"})
    sandbox.faults.add("commit_then_500", times=1, path="/calls$")
    card, call_id = await new_call(h)

    await card_edit(h, card["id"], lambda e: e["footer"]["text"].endswith("MDT: check needed"))
    posts = created(sandbox, "calls")
    assert len(posts) == 2 and {body(p)["id"] for p in posts} == {call_id}
    assert [c["id"] for c in sandbox.calls(MDT)] == [call_id]
    # The call Northca may have is the one the card drives: an Attach reaches it, nothing new is created.
    await h.click(f"northca:dispatch:call:attach:{call_id}", member=OFFICER_M, message=card)
    await until(lambda: sandbox.calls(MDT)[0]["units_assigned"] == ["ADAM-12"], 10, "the PATCH")
    assert len(created(sandbox, "calls")) == 2


async def test_report_with_a_bad_date_is_refused_with_what_was_typed_and_nothing_sent(start_bot, sandbox):
    h = await start_bot()
    await dispatch_ready(h, sandbox, {OFFICER: "ADAM-12"})
    form = await h.slash("report", member=OFFICER_M, guild_id=GUILD)
    values = {"Title": "Fire", "What happened": "Kitchen fire, contained", "Location": "Elm St"}
    when = next(c["components"][0]["label"] for c in form.modal["components"] if "Date" in c["components"][0]["label"])
    refused = await h.submit_modal(form, {**values, when: "yesterday"}, member=OFFICER_M)
    assert refused.ephemeral and "YYYY-MM-DD HH:MM" in refused.content
    assert "Kitchen fire, contained" in refused.content  # nothing typed is lost
    assert created(sandbox, "scene-reports") == []
    done = await (await h.submit_modal(form, {**values, when: "2026-11-28 21:30"}, member=OFFICER_M)).final()
    assert "2026-11-28 21:30" in done.content
    [sent] = created(sandbox, "scene-reports")
    assert (body(sent)["date"], body(sent)["time"], body(sent)["dispatch_call_id"]) == ("2026-11-28", "21:30", None)


def panel_embed_edit(h, panel, predicate, since=0):
    def matches(rec):
        embeds = (rec.json.get("embeds") or []) if isinstance(rec.json, dict) else []
        return (
            rec.method == "PATCH"
            and rec.path.endswith(f"/messages/{panel['id']}")
            and rec.ok
            and bool(embeds)
            and predicate(embeds[0])
        )

    return h.fake.wait_for(matches, timeout=10, since=since)


async def test_panic_marks_the_unit_10_33_on_panels_and_northca_when_the_server_has_no_10_33_code(start_bot, sandbox):
    h = await start_bot()
    await dispatch_ready(h, sandbox, {OFFICER: "ADAM-12"})
    assert "10-33" not in h.bot.unit_status.codes(GUILD)
    panel = await post_panel(h)
    # The code is the panic path's only: /status set cannot choose it.
    refused = await h.slash("status set", member=OFFICER_M, guild_id=GUILD, code="10-33")
    assert refused.ephemeral and "Unknown status code" in refused.content

    await (await press_panic(h)).final()

    assert (await h.bot.unit_status.status_of(GUILD, OFFICER)).status == "10-33"  # type: ignore[union-attr]
    # Units in panic head the panel (its first field), also when 10-33 is not one of the server's codes.
    edit = await panel_embed_edit(
        h, panel, lambda e: e.get("fields") and e["fields"][0] == {"name": "🚨 10-33 · Panic (1)", "value": "`ADAM-12`",
                                                                   "inline": False}
    )  # fmt: skip
    await until(lambda: sandbox.units(MDT).get("ADAM-12", {}).get("status") == "10-33", 10, "10-33 on Northca")

    [alert] = posts_in(h, ALERTS_CH)
    clear = next(c["custom_id"] for c in alert.response["components"][0]["components"] if "clear" in c["custom_id"])
    mark = len(h.fake.requests)
    await h.click(clear, member=OFFICER_M, message=alert.response)
    on_duty = h.bot.unit_status.config.on_duty_code
    assert (await h.bot.unit_status.status_of(GUILD, OFFICER)).status == on_duty  # type: ignore[union-attr]
    await panel_embed_edit(h, panel, lambda e: "10-33" not in str(e.get("fields")), since=mark)
    await until(lambda: sandbox.units(MDT).get("ADAM-12", {}).get("status") == on_duty, 10, "back on duty on Northca")
    assert edit.ok


async def test_second_press_of_the_panel_panic_button_within_seconds_sends_the_panic_without_the_confirm_button(
    start_bot, sandbox
):
    clock = Clock(1_800_000_000_000)
    h = await start_bot(clock=clock)
    await dispatch_ready(h, sandbox, {OFFICER: "ADAM-12"})
    panel = await post_panel(h)

    first = await h.click("northca:dispatch:panic", member=OFFICER_M, message=panel)
    assert first.ephemeral and "press Panic again within a few seconds" in first.content
    clock.advance(ms=6_000)  # too late: this press asks again, nothing is sent
    late = await h.click("northca:dispatch:panic", member=OFFICER_M, message=panel)
    assert "Press the button to confirm" in late.content and posts_in(h, ALERTS_CH) == []
    # Another officer's press does not confirm this one's.
    other = await h.click("northca:dispatch:panic", member=OTHER_M, message=panel)
    assert "Press the button to confirm" in other.content and posts_in(h, ALERTS_CH) == []

    clock.advance(ms=2_000)
    second = await h.click("northca:dispatch:panic", member=OFFICER_M, message=panel)

    assert "10-33 sent" in (await second.final()).content
    [alert] = posts_in(h, ALERTS_CH)
    assert "unit `ADAM-12`" in alert.json["content"]
    await until(lambda: len(sandbox.panics(MDT)) == 1, 10, "the panic on Northca")


async def test_unit_in_panic_stays_10_33_after_a_profile_change_and_status_show_says_so(start_bot, sandbox):
    h = await start_bot()
    await dispatch_ready(h, sandbox, {OFFICER: "ADAM-12"})
    await (await press_panic(h)).final()

    await h.slash("profile set", member=OFFICER_M, guild_id=GUILD, badge="777")

    await until(
        lambda: sandbox.units(MDT).get("ADAM-12", {}).get("officer_badge") == "777", 10, "the new badge on Northca"
    )
    assert sandbox.units(MDT)["ADAM-12"]["status"] == "10-33"
    shown = await h.slash("status show", member=OFFICER_M, guild_id=GUILD)
    assert shown.content.startswith("Your status: 🚨 **10-33**")
    assert shown.embeds[0]["fields"][0]["name"] == "🚨 10-33 · Panic (1)"  # units in panic head the panel
    assert shown.embeds[0]["fields"][0]["value"].startswith("`ADAM-12`")  # ⏳ after it until Northca has it


async def test_panic_pressed_at_once_from_the_confirm_button_and_the_panel_is_one_panic_and_one_alert(
    start_bot, sandbox
):
    h = await start_bot()
    await dispatch_ready(h, sandbox, {OFFICER: "ADAM-12"})
    panel = await post_panel(h)
    ask = await h.slash("panic", member=OFFICER_M, guild_id=GUILD, location="Route 68 mile 4")
    [confirm] = [c for c in ask.custom_ids if c.startswith("northca:dispatch:panic-ok:")]
    # A first press of the panel's button, so that its next press sends at once.
    first = await h.click("northca:dispatch:panic", member=OFFICER_M, message=panel)
    assert "press Panic again" in first.content

    presses = await asyncio.gather(
        *(h.click(confirm, member=OFFICER_M, message=ask) for _ in range(3)),
        h.click("northca:dispatch:panic", member=OFFICER_M, message=panel),
    )

    answers = [(await press.final()).content for press in presses]
    assert sum("10-33 sent" in a for a in answers) == 1, answers
    assert sum("your alert is out" in a for a in answers) == 3, answers
    [alert] = posts_in(h, ALERTS_CH)
    assert alert.json["content"].startswith(f"<@&{RESPONDER}> **10-33 PANIC**")
    stored = await h.bot.db.fetchall("SELECT id FROM dispatch_panics WHERE guild_id = ?", (GUILD,))
    assert len(stored) == 1
    await until(lambda: len(sandbox.panics(MDT)) == 1, 10, "the panic on Northca")
    assert len([r for r in sandbox.requests if r.path.endswith("/panic")]) == 1
