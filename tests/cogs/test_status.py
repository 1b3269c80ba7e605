"""/status and its panel buttons, driven as Discord would, against the sandbox."""

from __future__ import annotations

import asyncio
import itertools

import pytest

from tests.harness import ChannelOption, builders
from tests.helpers.bot import link_guild
from tests.helpers.ids import ADMIN_M, GUILD, MDT, MEMBER_PERMS, OFFICER, OFFICER_M
from tests.helpers.northca import unit_puts
from tests.helpers.status import panel_fields, post_panel, set_id, settle, wait_panel_edit

pytestmark = pytest.mark.asyncio

CODES = ["10-8", "10-6", "10-7", "10-23", "10-97"]


async def ready(start_bot, sandbox, officers=(OFFICER,), **status):
    """A started bot on a linked server whose officers have a callsign and are on duty
    (started as /shift start does, then settled)."""
    h = await start_bot(status=status) if status else await start_bot()
    await link_guild(h.bot, sandbox)
    for i, member_id in enumerate(officers):
        callsign = "ADAM-12" if member_id == OFFICER else f"UNIT-{i}"
        await h.bot.profiles.update(GUILD, member_id, callsign=callsign, badge="512", rank="PO", department="Patrol")
        await h.bot.shifts.start(
            GUILD, member_id, display_name="Ofc. Bubbleton" if member_id == OFFICER else f"Officer {i}"
        )
    await settle(h)
    return h


async def test_panel_lists_codes_with_one_button_each(start_bot, sandbox):
    h = await ready(start_bot, sandbox)
    panel = await post_panel(h)
    assert panel["flags"] == 0  # public, in the channel
    panic = "northca:dispatch:panic"
    assert [c["custom_id"] for row in panel["components"] for c in row["components"]] == [
        *(set_id(c) for c in CODES),
        panic,
    ]
    labels = [c["label"] for row in panel["components"] for c in row["components"]]
    assert labels == [
        "10-8 In service",
        "10-6 Busy",
        "10-7 Out of service",
        "10-23 On scene",
        "10-97 En route",
        "10-33 Panic",
    ]
    # The officer went 10-8 when their shift started.
    # Only the code someone is on has a field; the others are folded into one line.
    assert panel_fields(panel["embeds"][0]) == {"10-8 · In service (1)": "`ADAM-12`"}
    assert "Nobody on 10-6, 10-7, 10-23, 10-97." in panel["embeds"][0]["description"]


async def test_panel_needs_manage_server(start_bot, sandbox):
    h = await ready(start_bot, sandbox)
    reply = await h.slash("status panel", member=OFFICER_M, guild_id=GUILD)
    assert reply.ephemeral and "Manage Server" in reply.content
    assert await h.bot.unit_status.panels(GUILD) == []


async def test_panel_in_a_chosen_channel(start_bot, sandbox):
    h = await ready(start_bot, sandbox)
    dispatch = builders.channel(builders.snowflake(), guild_id=GUILD, name="dispatch")
    h.state.parse_channel_create(dispatch)  # the gateway's CHANNEL_CREATE: a channel of this server
    first = await h.slash("status panel", member=ADMIN_M, guild_id=GUILD, channel=ChannelOption(dispatch))
    done = await first.final()
    assert done.ephemeral and f"Status panel posted in <#{dispatch['id']}>" in done.content
    [panel] = await h.bot.unit_status.panels(GUILD)
    assert panel.channel_id == int(dispatch["id"])
    assert h.fake.find("POST", rf"^/channels/{dispatch['id']}/messages$")


async def test_panel_in_a_channel_of_another_server_is_refused_and_nothing_is_posted(start_bot, sandbox):
    h = await ready(start_bot, sandbox)
    elsewhere = builders.channel(builders.snowflake(), guild_id=GUILD + 1, name="their-dispatch")
    reply = await h.slash("status panel", member=ADMIN_M, guild_id=GUILD, channel=ChannelOption(elsewhere))
    assert reply.ephemeral and "of another server" in reply.content, reply.content
    assert await h.bot.unit_status.panels(GUILD) == []
    assert not h.fake.find("POST", rf"^/channels/{elsewhere['id']}/messages$")


async def test_panel_where_the_bot_may_not_post_says_what_to_do(start_bot, sandbox):
    h = await ready(start_bot, sandbox)
    h.fake.fail_next(r"^/channels/\d+/messages$", 403, method="POST")
    done = await (await h.slash("status panel", member=ADMIN_M, guild_id=GUILD)).final()
    assert done.ephemeral and "I can't post in" in done.content and "Send Messages" in done.content
    assert await h.bot.unit_status.panels(GUILD) == []


async def test_panel_needs_a_linked_server(start_bot, sandbox):
    h = await start_bot()
    reply = await h.slash("status panel", member=ADMIN_M, guild_id=GUILD)
    assert reply.ephemeral and "not linked to a Northca MDT" in reply.content
    assert await h.bot.unit_status.panels(GUILD) == []


async def test_click_answers_at_once_then_updates_northca_and_the_panel(start_bot, sandbox):
    h = await ready(start_bot, sandbox, batch_window_ms=100)
    panel = await post_panel(h)
    base = len(unit_puts(sandbox))
    sandbox.faults.latency = 1.0  # a slow Northca must not slow the answer

    reply = await h.click(set_id("10-23"), member=OFFICER_M, message=panel)

    assert reply.callback_type == 4 and reply.ephemeral
    assert reply.content == "You are now **10-23** On scene (unit `ADAM-12`)."
    assert reply.ack_time < 0.5 and unit_puts(sandbox, base) == []
    assert await h.bot.unit_status.coalescer.flush()
    unit = sandbox.units(MDT)["ADAM-12"]
    assert {k: unit[k] for k in ("officer_name", "officer_badge", "department", "rank", "status")} == {
        "officer_name": "Ofc. Bubbleton",
        "officer_badge": "512",
        "department": "Patrol",
        "rank": "PO",
        "status": "10-23",
    }
    edit = await wait_panel_edit(h, int(panel["id"]), lambda f: f.get("10-23 · On scene (1)") == "`ADAM-12`")
    assert list(panel_fields(edit.json["embeds"][0])) == ["10-23 · On scene (1)"]
    assert "Nobody on 10-8, " in edit.json["embeds"][0]["description"]


async def test_two_quick_clicks_send_only_the_latest(start_bot, sandbox):
    h = await ready(start_bot, sandbox, batch_window_ms=1000)
    panel = await post_panel(h)
    base = len(unit_puts(sandbox))
    first = await h.click(set_id("10-8"), member=OFFICER_M, message=panel)
    second = await h.click(set_id("10-97"), member=OFFICER_M, message=panel)
    assert "10-8" in first.content and "10-97" in second.content

    assert await h.bot.unit_status.coalescer.flush()

    assert [[u["status"] for u in units] for units in unit_puts(sandbox, base)] == [["10-97"]]
    assert sandbox.units(MDT)["ADAM-12"]["status"] == "10-97"
    # The clicks share one re-render: no panel ever showed the 10-8 in between. (A second
    # render, a window later, only clears the "not yet on Northca" mark once the PUT is acknowledged.)
    await wait_panel_edit(h, int(panel["id"]), lambda f: f.get("10-97 · En route (1)") == "`ADAM-12`")
    assert await h.bot.unit_status.wait_rendered()
    panel_edits = [r for r in h.fake.find("PATCH", rf"/messages/{panel['id']}$")]
    assert 1 <= len(panel_edits) <= 2
    assert all("10-8 · In service (1)" not in panel_fields(r.json["embeds"][0]) for r in panel_edits)
    assert all(b.time - a.time >= 0.9 for a, b in itertools.pairwise(panel_edits))  # at most one per window
    assert panel_fields(panel_edits[-1].json["embeds"][0])["10-97 · En route (1)"] == "`ADAM-12`"


async def test_a_burst_from_many_officers_becomes_few_puts(start_bot, sandbox):
    officers = [OFFICER + 1 + i for i in range(40)]
    h = await ready(start_bot, sandbox, officers=officers, batch_window_ms=500)
    panel = await post_panel(h)
    base = len(unit_puts(sandbox))
    picks = {member_id: CODES[i % len(CODES)] for i, member_id in enumerate(officers)}

    replies = await asyncio.gather(
        *(
            h.click(set_id(code), member=builders.member(member_id, permissions=MEMBER_PERMS), message=panel)
            for member_id, code in picks.items()
        )
    )
    assert all(r.ephemeral and r.content.startswith("You are now") for r in replies)
    assert await h.bot.unit_status.coalescer.flush()

    puts = unit_puts(sandbox, base)
    assert 1 <= len(puts) <= 2 and sum(len(units) for units in puts) == 40
    for units in puts:
        ids = [u["id"] for u in units]
        assert len(ids) == len(set(ids))
    state = sandbox.units(MDT)
    assert {f"UNIT-{i}": state[f"UNIT-{i}"]["status"] for i in range(40)} == {
        f"UNIT-{i}": picks[member_id] for i, member_id in enumerate(officers)
    }


async def test_a_panel_from_before_a_restart_still_works(start_bot, sandbox):
    h = await ready(start_bot, sandbox, batch_window_ms=50)
    panel = await post_panel(h)
    await h.bot.close()

    since = len(h.fake.requests)
    h2 = await start_bot(status={"batch_window_ms": 50})
    # After the restart the panel is re-rendered from what is stored.
    await wait_panel_edit(h2, int(panel["id"]), lambda f: f.get("10-8 · In service (1)") == "`ADAM-12`", since=since)
    reply = await h2.click(set_id("10-6"), member=OFFICER_M, message=panel)
    assert reply.ephemeral and reply.content == "You are now **10-6** Busy (unit `ADAM-12`)."
    assert await h2.bot.unit_status.coalescer.flush()
    assert sandbox.units(MDT)["ADAM-12"]["status"] == "10-6"
    await wait_panel_edit(h2, int(panel["id"]), lambda f: f.get("10-6 · Busy (1)") == "`ADAM-12`")


async def test_no_callsign_is_told_how_to_set_one(start_bot, sandbox):
    h = await ready(start_bot, sandbox)
    panel = await post_panel(h)
    base = len(unit_puts(sandbox))
    rookie = builders.member(OFFICER + 99, permissions=MEMBER_PERMS, username="rookie")
    reply = await h.click(set_id("10-8"), member=rookie, message=panel)
    assert reply.ephemeral and reply.content == "Set your callsign first: /profile set callsign:ADAM-12"
    assert await h.bot.unit_status.coalescer.flush()
    assert unit_puts(sandbox, base) == []


async def test_not_linked_is_told(start_bot, sandbox):
    h = await start_bot(status={"off_duty": "allow"})
    await h.bot.profiles.update(GUILD, OFFICER, callsign="ADAM-12")
    reply = await h.slash("status set", member=OFFICER_M, guild_id=GUILD, code="10-8")
    assert reply.ephemeral and "not linked to a Northca MDT" in reply.content
    assert len(sandbox.requests) == 0


async def test_status_set_command_and_its_autocomplete(start_bot, sandbox):
    h = await ready(start_bot, sandbox, batch_window_ms=50)
    choices = await h.autocomplete("status set", member=OFFICER_M, guild_id=GUILD, code="scene")
    assert choices == [{"name": "10-23 · On scene", "value": "10-23"}]

    reply = await h.slash("status set", member=OFFICER_M, guild_id=GUILD, code="10-97")
    assert reply.ephemeral and reply.content == "You are now **10-97** En route (unit `ADAM-12`)."
    unknown = await h.slash("status set", member=OFFICER_M, guild_id=GUILD, code="10-99")
    assert unknown.ephemeral and "Unknown status code `10-99`" in unknown.content
    assert await h.bot.unit_status.coalescer.flush()
    assert sandbox.units(MDT)["ADAM-12"]["status"] == "10-97"

    shown = await h.slash("status show", member=OFFICER_M, guild_id=GUILD)
    assert shown.ephemeral and shown.content == "Your status: 🔵 **10-97** En route (unit `ADAM-12`)."  # busy: blue
    assert panel_fields(shown.embeds[0])["10-97 · En route (1)"] == "`ADAM-12`"
    assert shown.custom_ids == [*(set_id(c) for c in CODES), "northca:dispatch:panic"]


async def test_northca_down_then_back_ends_with_the_latest_status(start_bot, sandbox):
    h = await ready(start_bot, sandbox, batch_window_ms=50)
    panel = await post_panel(h)
    coalescer = h.bot.unit_status.coalescer
    base = len(unit_puts(sandbox))
    sandbox.faults.latency = 0.2
    sandbox.faults.add("500", times=3, path="/units/active")

    sent_before = coalescer.puts_sent
    await h.click(set_id("10-6"), member=OFFICER_M, message=panel)
    assert await coalescer.wait_until(lambda c: c.puts_sent > sent_before)  # out, and about to fail
    late = await h.click(set_id("10-23"), member=OFFICER_M, message=panel)
    assert late.content.startswith("You are now **10-23**")  # answered while Northca is down

    assert await coalescer.flush()
    statuses = [[u["status"] for u in units] for units in unit_puts(sandbox, base)]
    assert statuses == [["10-6"], ["10-23"], ["10-23"], ["10-23"]]  # the older one is never retried
    assert sandbox.units(MDT)["ADAM-12"]["status"] == "10-23"
    assert (await h.bot.unit_status.status_of(GUILD, OFFICER)).synced


async def test_a_panel_deleted_in_discord_is_forgotten(start_bot, sandbox):
    h = await ready(start_bot, sandbox, batch_window_ms=50)
    panel = await post_panel(h)
    h.fake.fail_next(rf"/messages/{panel['id']}$", 404, method="PATCH", code=10008, message="Unknown Message")
    await h.click(set_id("10-8"), member=OFFICER_M, message=panel)
    await h.fake.wait_for(
        lambda r: r.method == "PATCH" and r.path.endswith(f"/messages/{panel['id']}") and r.status == 404
    )
    assert await h.bot.unit_status.wait_rendered()
    assert await h.bot.unit_status.panels(GUILD) == []


# --- on and off duty -------------------------------------------------------------------


async def test_off_duty_click_offers_a_button_that_starts_the_shift(start_bot, sandbox):
    h = await ready(start_bot, sandbox, officers=(), batch_window_ms=50)
    await h.bot.profiles.update(GUILD, OFFICER, callsign="ADAM-12")
    panel = await post_panel(h)

    prompt = await h.click(set_id("10-23"), member=OFFICER_M, message=panel)

    assert prompt.ephemeral and "You are off duty" in prompt.content and "/shift start" in prompt.content
    assert prompt.custom_ids == ["northca:status:shift-start"]
    assert await h.bot.unit_status.status_of(GUILD, OFFICER) is None

    started = await h.click("northca:status:shift-start", member=OFFICER_M, message=prompt)
    assert started.callback_type == 7 and started.components == []
    assert started.content.startswith("Shift started") and "**10-8** In service" in started.content
    assert await h.bot.shifts.open_shift(GUILD, OFFICER) is not None
    await settle(h)
    assert sandbox.units(MDT)["ADAM-12"]["status"] == "10-8"
    # Now on duty, the status the officer wanted goes through.
    reply = await h.click(set_id("10-23"), member=OFFICER_M, message=panel)
    assert reply.content == "You are now **10-23** On scene (unit `ADAM-12`)."


async def test_out_of_service_needs_no_shift(start_bot, sandbox):
    h = await ready(start_bot, sandbox, officers=(), batch_window_ms=50)
    await h.bot.profiles.update(GUILD, OFFICER, callsign="ADAM-12")
    reply = await h.slash("status set", member=OFFICER_M, guild_id=GUILD, code="10-7")
    assert reply.content == "You are now **10-7** Out of service (unit `ADAM-12`)."


async def test_off_duty_clicks_allowed_when_configured(start_bot, sandbox):
    h = await ready(start_bot, sandbox, officers=(), batch_window_ms=50, off_duty="allow")
    await h.bot.profiles.update(GUILD, OFFICER, callsign="ADAM-12")
    panel = await post_panel(h)
    reply = await h.click(set_id("10-97"), member=OFFICER_M, message=panel)
    assert reply.content == "You are now **10-97** En route (unit `ADAM-12`)."
    assert await h.bot.unit_status.coalescer.flush()
    assert sandbox.units(MDT)["ADAM-12"]["status"] == "10-97"


async def test_shift_start_and_end_set_in_and_out_of_service(start_bot, sandbox):
    h = await ready(start_bot, sandbox, officers=(), batch_window_ms=50)
    await h.bot.profiles.update(GUILD, OFFICER, callsign="ADAM-12", name="B. Bubbleton")
    panel = await post_panel(h)

    started = await h.slash("shift start", member=OFFICER_M, guild_id=GUILD)
    assert "on duty" in started.content
    await settle(h)
    assert sandbox.units(MDT)["ADAM-12"]["status"] == "10-8"
    assert sandbox.units(MDT)["ADAM-12"]["officer_name"] == "B. Bubbleton"
    await wait_panel_edit(h, int(panel["id"]), lambda f: f.get("10-8 · In service (1)") == "`ADAM-12`")

    await h.click(set_id("10-6"), member=OFFICER_M, message=panel)
    ended = await h.slash("shift end", member=OFFICER_M, guild_id=GUILD)
    assert "Shift ended" in (await ended.final()).content
    await settle(h)
    assert sandbox.units(MDT)["ADAM-12"]["status"] == "10-7"
    assert (await h.bot.unit_status.status_of(GUILD, OFFICER)).status == "10-7"


async def test_shift_without_callsign_sets_no_status(start_bot, sandbox):
    h = await ready(start_bot, sandbox, officers=(), batch_window_ms=50)
    await h.slash("shift start", member=OFFICER_M, guild_id=GUILD)
    await settle(h)
    assert unit_puts(sandbox) == [] and await h.bot.unit_status.status_of(GUILD, OFFICER) is None


async def test_a_refused_status_is_marked_on_the_panel_and_retried(start_bot, sandbox):
    h = await ready(start_bot, sandbox, resend_interval_seconds=0.3)
    panel = await post_panel(h)
    sandbox.unlink(GUILD, MDT)  # Northca now refuses: 403 MDT not linked to this guild
    since = len(h.fake.requests)
    await h.click(set_id("10-6"), member=OFFICER_M, guild_id=GUILD, message=panel)
    marked = await wait_panel_edit(h, int(panel["id"]), lambda f: "`ADAM-12`⏳" in f["10-6 · Busy (1)"], since)
    assert "MDT: saving… (1 status)" in marked.json["embeds"][0]["footer"]["text"]
    assert sandbox.units(MDT)["ADAM-12"]["status"] == "10-8"

    sandbox.link(GUILD, MDT)  # the admin fixed the link on Northca: the periodic pass sends it
    since = len(h.fake.requests)
    cleared = await wait_panel_edit(h, int(panel["id"]), lambda f: f["10-6 · Busy (1)"] == "`ADAM-12`", since)
    assert "MDT: saving…" not in cleared.json["embeds"][0]["footer"]["text"]
    assert sandbox.units(MDT)["ADAM-12"]["status"] == "10-6"
