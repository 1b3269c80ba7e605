"""/roster driven as Discord would (offline harness, real SQLite file, real sandbox), with a clock
the test moves: scheduled shifts, the week picture and its text version, reminders by DM or in
the reports channel (also across a restart), attendance from recorded shifts."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import struct
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from bot.core.rosters import TemplateDraft
from bot.core.rosters.render import GRID_BOTTOM, MINE
from bot.core.rosters.service import REMINDER_LEASE_MS
from bot.core.settings import ChannelFacts
from tests.harness import Harness, Hold, RoleOption, UserOption, builders
from tests.helpers.bot import BotStarter, link_guild
from tests.helpers.clock import Clock, utc_ms
from tests.helpers.forged import click_forged
from tests.helpers.ids import (
    ADMIN,
    ADMIN_M,
    GUILD,
    LOG_CH,
    OFFICER,
    OFFICER_M,
    OTHER,
    OTHER_GUILD,
    REPORTS_CH,
    SUPERVISOR,
    SUPERVISOR_M,
    SUPERVISOR_ROLE,
)
from tests.helpers.posts import log_line
from tests.helpers.roster import MIN, OTHER_ON_PATROL_M, PATROL_ROLE, boot_roster, record_shift
from tests.helpers.waiting import until

pytestmark = pytest.mark.asyncio

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


async def create(h: Harness, member: Any = SUPERVISOR_M, **options: Any) -> Any:
    return await h.slash("roster", sub="create", member=member, guild_id=GUILD, **options)


async def assign(h: Harness, shift: str, member: Any = None, role: Any = None) -> None:
    target = {"member": UserOption(member)} if member is not None else {"role": RoleOption(role)}
    reply = await h.slash("roster", sub="assign", member=SUPERVISOR_M, guild_id=GUILD, shift=shift, options=target)
    assert " is on " in reply.content, reply.content


async def template_id(h: Harness, name: str, guild_id: int = GUILD) -> int:
    return next(t.id for t in await h.bot.rosters.templates(guild_id) if t.name == name)


def dms_to(h: Harness, user_id: int) -> list[str]:
    channels = {c for c, u in h.fake.dm_channels.items() if u == user_id}
    return [
        r.json["content"]
        for r in h.fake.find("POST")
        if r.status == 200 and (m := re.fullmatch(r"/channels/(\d+)/messages", r.path)) and int(m[1]) in channels
    ]


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    return width, height


def highlighted_pixels(data: bytes) -> int:
    """How many pixels of the timetable (above the legend, which shows a sample of each block) have the colour of
    the viewer's own blocks."""
    image = Image.open(io.BytesIO(data)).convert("RGB")
    image = image.crop((0, 0, image.width, GRID_BOTTOM))
    return sum(count for count, colour in image.getcolors(maxcolors=1 << 20) or [] if colour == MINE)


# --- scheduled shifts --------------------------------------------------------------------------


async def test_supervisor_schedules_a_shift_in_the_servers_time_zone_and_it_is_logged(start_bot):
    clock = Clock(utc_ms(2026, 12, 1, 12, 0))
    h = await boot_roster(start_bot, clock, timezone="America/New_York")
    reply = await create(h, name="Night patrol", start="10pm", duration="8h", days="mon-fri", valid_from="2026-12-01")
    assert reply.ephemeral and "**Night patrol**: 22:00 for 8 h" in reply.content, reply.content
    assert "America/New_York" in reply.content
    [template] = await h.bot.rosters.templates(GUILD)
    assert (template.start_minute, template.duration_minutes, template.valid_from) == (22 * 60, 480, "2026-12-01")
    assert f"<@{SUPERVISOR}> scheduled **Night patrol**" in await log_line(h, "Night patrol")
    # 22:00 in New York on Tuesday 1 December is 03:00 UTC on the 2nd: that is what /roster mine says.
    await assign(h, str(template.id), OFFICER_M)
    mine = await h.slash("roster", sub="mine", member=OFFICER_M, guild_id=GUILD)
    assert f"<t:{utc_ms(2026, 12, 2, 3, 0) // 1000}:F>" in mine.content, mine.content


async def test_member_without_supervisor_role_cannot_schedule_and_nothing_is_stored(start_bot):
    h = await boot_roster(start_bot, Clock(utc_ms(2026, 12, 1, 12, 0)))
    refused = await create(h, member=OFFICER_M, name="Night patrol", start="22:00", duration="8h")
    assert refused.ephemeral and "supervisor role" in refused.content
    assert await h.bot.rosters.templates(GUILD) == []
    by_admin = await create(h, member=ADMIN_M, name="Night patrol", start="22:00", duration="8h")  # Manage Server
    assert "Scheduled" in by_admin.content


@pytest.mark.parametrize(
    ("options", "explains"),
    [
        ({"start": "25:00", "duration": "1h"}, "The start time must be a time of day from 00:00 to 23:59"),
        ({"start": "20:00", "duration": "25h"}, "The duration must be from 1 minute to 24 hours"),
        ({"start": "20:00", "duration": "1h", "days": "funday"}, "The days must be day names"),
        (
            {"start": "20:00", "duration": "1h", "valid_from": "2026-12-10", "valid_until": "2026-12-01"},
            "is before the first day (valid_from",
        ),
    ],
)
async def test_bad_schedule_values_are_explained_and_nothing_is_stored(start_bot, options, explains):
    h = await boot_roster(start_bot, Clock(utc_ms(2026, 12, 1, 12, 0)))
    reply = await create(h, name="Evening", **options)
    assert reply.ephemeral and explains in reply.content, reply.content
    assert await h.bot.rosters.templates(GUILD) == []


async def test_department_and_shift_autocomplete_come_from_this_server_only(start_bot):
    h = await boot_roster(start_bot, Clock(utc_ms(2026, 12, 1, 12, 0)), departments=("Patrol", "Park Rangers", "Fire"))
    choices = await h.autocomplete(
        "roster", sub="create", member=SUPERVISOR_M, guild_id=GUILD, focused="department",
        options={"name": "x", "start": "20:00", "duration": "1h", "department": "pa"},
    )  # fmt: skip
    assert [c["value"] for c in choices] == ["Patrol", "Park Rangers"]
    unknown = await create(h, name="Evening", start="20:00", duration="4h", department="Mall Cops")
    assert "department must be one of this server's: Patrol, Park Rangers, Fire" in unknown.content
    await create(h, name="Evening patrol", start="20:00", duration="4h", department="patrol")
    h.add_guild(OTHER_GUILD, name="Other", owner_id=ADMIN, members=[ADMIN_M])
    await h.slash("roster", sub="create", member=ADMIN_M, guild_id=OTHER_GUILD, name="Other night",
                  start="22:00", duration="8h")  # fmt: skip
    picks = await h.autocomplete("roster", sub="edit", member=SUPERVISOR_M, guild_id=GUILD, focused="shift",
                                 options={"shift": ""})  # fmt: skip
    assert [c["name"] for c in picks] == ["Evening patrol · 20:00 · 4 h · every day"]
    assert (await h.bot.rosters.templates(GUILD))[0].department == "Patrol"  # the server's spelling
    # A template of the other server cannot be picked by its id either.
    other_id = await template_id(h, "Other night", OTHER_GUILD)
    stolen = await h.slash("roster", sub="delete", member=SUPERVISOR_M, guild_id=GUILD, shift=str(other_id))
    assert "That scheduled shift is not on this server" in stolen.content


async def test_edit_changes_only_what_is_given_and_logs_old_and_new(start_bot):
    h = await boot_roster(start_bot, Clock(utc_ms(2026, 12, 1, 12, 0)))
    await create(h, name="Evening", start="20:00", duration="4h", days="mon-fri")
    tid = await template_id(h, "Evening")
    reply = await h.slash("roster", sub="edit", member=SUPERVISOR_M, guild_id=GUILD, shift=str(tid), duration="6h")
    assert "Now: **Evening**: 20:00 for 6 h, Mon, Tue, Wed, Thu, Fri" in reply.content, reply.content
    line = await log_line(h, "changed a scheduled shift")
    assert "20:00 for 4 h" in line and "20:00 for 6 h" in line
    edited, created = await h.bot.rosters.history(GUILD)
    assert (created.action, created.actor_id, created.new_text) == (
        "create",
        SUPERVISOR,
        "Evening 20:00 240 min Mon, Tue, Wed, Thu, Fri",
    )
    assert (edited.action, edited.actor_id, edited.template_id) == ("edit", SUPERVISOR, tid)
    assert (edited.old_text, edited.new_text) == (created.new_text, "Evening 20:00 360 min Mon, Tue, Wed, Thu, Fri")


async def test_delete_asks_to_confirm_and_the_button_rechecks_permission_also_after_a_restart(start_bot):
    clock = Clock(utc_ms(2026, 12, 1, 12, 0))
    h = await boot_roster(start_bot, clock)
    await create(h, name="Evening", start="20:00", duration="4h")
    tid = await template_id(h, "Evening")
    asked = await h.slash("roster", sub="delete", member=SUPERVISOR_M, guild_id=GUILD, shift="evening")
    assert asked.custom_ids == [f"northca:roster:delete:{tid}"]
    assert len(await h.bot.rosters.templates(GUILD)) == 1  # nothing deleted before the confirmation
    asked_twice = await h.slash("roster", sub="delete", member=ADMIN_M, guild_id=GUILD, shift=str(tid))

    await h.bot.close()
    h = await boot_roster(start_bot, clock)
    refused = await h.click(f"northca:roster:delete:{tid}", member=OFFICER_M, guild_id=GUILD, message=asked)
    assert refused.ephemeral and "supervisor role" in refused.content
    assert len(await h.bot.rosters.templates(GUILD)) == 1
    done = await h.click(f"northca:roster:delete:{tid}", member=SUPERVISOR_M, guild_id=GUILD, message=asked)
    assert "Deleted the scheduled shift **Evening**" in done.content and done.custom_ids == []
    assert await h.bot.rosters.templates(GUILD) == []
    assert f"<@{SUPERVISOR}> deleted the scheduled shift **Evening**" in await log_line(h, "deleted")
    deleted = (await h.bot.rosters.history(GUILD))[0]
    assert (deleted.action, deleted.actor_id, deleted.old_text, deleted.new_text) == (
        "delete",
        SUPERVISOR,
        "Evening 20:00 240 min every day",
        None,
    )
    # The second confirmation, pressed after the first: nothing left to delete, and it says so.
    again = await h.click(f"northca:roster:delete:{tid}", member=ADMIN_M, guild_id=GUILD, message=asked_twice)
    assert again.ephemeral and "That scheduled shift is not on this server" in again.content


async def test_assign_needs_one_target_and_unassign_takes_the_role_off(start_bot):
    h = await boot_roster(start_bot, Clock(utc_ms(2026, 12, 1, 12, 0)))
    await create(h, name="Evening", start="20:00", duration="4h")
    neither = await h.slash("roster", sub="assign", member=SUPERVISOR_M, guild_id=GUILD, shift="Evening")
    assert "give either a member or a role" in neither.content
    role = RoleOption(builders.role(PATROL_ROLE, "Patrol", position=1))
    added = await h.slash("roster", sub="assign", member=SUPERVISOR_M, guild_id=GUILD, shift="Evening",
                          options={"role": role})  # fmt: skip
    assert f"<@&{PATROL_ROLE}> is on **Evening**" in added.content
    assert f"assigned <@&{PATROL_ROLE}> to **Evening**" in await log_line(h, "assigned")
    mine = await h.slash("roster", sub="mine", member=OTHER_ON_PATROL_M, guild_id=GUILD)  # holds the Patrol role
    assert "Evening" in mine.content and "<t:" in mine.content
    removed = await h.slash("roster", sub="unassign", member=SUPERVISOR_M, guild_id=GUILD, shift="Evening",
                            options={"role": role})  # fmt: skip
    assert f"<@&{PATROL_ROLE}> is off **Evening**" in removed.content
    assert [(e.action, e.old_text, e.new_text) for e in (await h.bot.rosters.history(GUILD))[:2]] == [
        ("unassign", f"role {PATROL_ROLE}", None),
        ("assign", None, f"role {PATROL_ROLE}"),
    ]
    mine = await h.slash("roster", sub="mine", member=OTHER_ON_PATROL_M, guild_id=GUILD)
    assert "no scheduled shifts" in mine.content


# --- seeing it ---------------------------------------------------------------------------------


async def test_show_answers_with_the_week_as_a_png_attachment_and_a_text_version(start_bot, tmp_path):
    h = await boot_roster(start_bot, Clock(utc_ms(2026, 12, 2, 12, 0)))  # a Wednesday
    await create(h, name="Night patrol", start="22:00", duration="8h")
    await create(h, name="Morning desk", start="08:00", duration="4h", days="mon-fri")
    await assign(h, "Night patrol", OFFICER_M)

    reply = await h.slash("roster", sub="show", member=OFFICER_M, guild_id=GUILD)
    assert reply.ephemeral and "Week of 2026-11-30" in reply.content
    [upload] = reply.request.files
    assert upload["filename"] == "roster-2026-11-30.png"
    width, height = png_size(upload["data"])
    assert width >= 7 * 100 and height >= 24 * 20, (width, height)
    Path(tmp_path / "week.png").write_bytes(upload["data"])  # looked at by hand while writing this test
    assert reply.custom_ids == ["northca:roster:text:2026-11-30:0"]
    assert highlighted_pixels(upload["data"]) > 1000  # the officer's Night patrol blocks
    other = await h.slash("roster", sub="show", member=OTHER_ON_PATROL_M, guild_id=GUILD)
    assert highlighted_pixels(other.request.files[0]["data"]) == 0  # nothing of theirs this week

    text = await h.click("northca:roster:text:2026-11-30:0", member=OFFICER_M, guild_id=GUILD, message=reply)
    assert text.ephemeral and "Roster, week of 2026-11-30" in text.content
    assert "- 22:00 to 06:00 next day: Night patrol (yours)" in text.content
    assert "- 08:00 to 12:00: Morning desk" in text.content and "Morning desk (yours)" not in text.content
    last = await h.slash("roster", sub="show", member=OFFICER_M, guild_id=GUILD, week="last")
    assert "Week of 2026-11-23" in last.content
    bad = await h.slash("roster", sub="show", member=OFFICER_M, guild_id=GUILD, week="someday")
    assert bad.ephemeral and "week must be this, next, last" in bad.content


async def test_text_version_of_a_crowded_week_is_paginated_within_discords_limits(start_bot):
    h = await boot_roster(start_bot, Clock(utc_ms(2026, 12, 2, 12, 0)))
    for i in range(40):
        await h.bot.rosters.create(GUILD, ADMIN, _draft(f"Post {i:02d} with a long descriptive name", 6 * 60 + i * 15))
    reply = await h.slash("roster", sub="show", member=OFFICER_M, guild_id=GUILD)
    first = await h.click("northca:roster:text:2026-11-30:0", member=OFFICER_M, guild_id=GUILD, message=reply)
    assert len(first.content) <= 2000 and first.content.endswith("Page 1 of 2") is False
    assert "Page 1 of" in first.content and first.custom_ids == ["northca:roster:page:2026-11-30:1"]
    second = await h.click("northca:roster:page:2026-11-30:1", member=OFFICER_M, guild_id=GUILD, message=first)
    assert "Page 2 of" in second.content and len(second.content) <= 2000
    assert "northca:roster:page:2026-11-30:0" in second.custom_ids


async def test_shift_at_0230_on_the_spring_forward_day_starts_at_0330_local(start_bot):
    # 28 March 2027: London jumps from 01:00 to 02:00 UTC+1... its clocks go 01:00 -> 02:00 GMT, i.e. the
    # wall clock skips 01:00-02:00 local; use a zone whose gap holds 02:30: Europe/Berlin (02:00 -> 03:00).
    h = await boot_roster(start_bot, Clock(utc_ms(2027, 3, 27, 12, 0)), timezone="Europe/Berlin")
    await create(h, name="Early watch", start="02:30", duration="2h", days="sun")
    await assign(h, "Early watch", OFFICER_M)
    mine = await h.slash("roster", sub="mine", member=OFFICER_M, guild_id=GUILD)
    # 02:30 does not exist that day: it is read as 03:30 CEST (01:30 UTC), two hours long.
    assert f"<t:{utc_ms(2027, 3, 28, 1, 30) // 1000}:F> to <t:{utc_ms(2027, 3, 28, 3, 30) // 1000}:t>" in mine.content


# --- reminders ---------------------------------------------------------------------------------


async def test_reminder_dm_is_sent_once_per_member_also_across_a_restart(start_bot):
    clock = Clock(utc_ms(2026, 12, 1, 19, 0))
    h = await boot_roster(start_bot, clock)
    await create(h, name="Evening", start="20:00", duration="4h")
    await assign(h, "Evening", OFFICER_M)
    await assign(h, "Evening", role=builders.role(PATROL_ROLE, "Patrol", position=1))
    await h.bot.roster_reminders.tick()
    assert dms_to(h, OFFICER) == []  # 60 minutes ahead: not yet (30 by default)
    clock.set(utc_ms(2026, 12, 1, 19, 31))
    await h.bot.roster_reminders.tick()
    [officer_dm] = dms_to(h, OFFICER)
    assert "**Evening** starts <t:" in officer_dm
    assert len(dms_to(h, OTHER)) == 1  # through the Patrol role, from the member cache
    await h.bot.roster_reminders.tick()
    assert len(dms_to(h, OFFICER)) == 1 and len(dms_to(h, OTHER)) == 1

    await h.bot.close()
    h = await boot_roster(start_bot, clock)
    clock.set(utc_ms(2026, 12, 1, 19, 40))
    await h.bot.roster_reminders.tick()
    assert len(dms_to(h, OFFICER)) == 1 and len(dms_to(h, OTHER)) == 1


async def test_running_bot_sends_due_reminders_by_itself(start_bot):
    clock = Clock(utc_ms(2026, 12, 1, 19, 45))
    h = await boot_roster(start_bot, clock)
    await create(h, name="Evening", start="20:00", duration="4h")
    await assign(h, "Evening", OFFICER_M)
    worker = h.bot.roster_reminders
    await worker.stop()  # started with the bot; again with a short interval so the test need not wait 30 s
    worker.interval_seconds = 0.05
    await worker.start()
    await until(lambda: len(dms_to(h, OFFICER)) == 1, what="the reminder DM")


async def test_each_server_is_reminded_in_its_own_time_zone_with_its_own_lead_time(start_bot):
    clock = Clock(utc_ms(2026, 12, 1, 19, 31))  # 19:31 in London, 14:31 in New York
    h = await boot_roster(start_bot, clock)
    h.add_guild(OTHER_GUILD, name="Other", owner_id=ADMIN, members=[ADMIN_M, OFFICER_M])
    await h.bot.settings.set_shifts(OTHER_GUILD, ADMIN, timezone="America/New_York")
    await h.bot.settings.set_roster_reminder_minutes(OTHER_GUILD, ADMIN, 120)
    await create(h, name="Evening", start="20:00", duration="4h")
    await assign(h, "Evening", OTHER_ON_PATROL_M)
    other = await h.bot.rosters.create(OTHER_GUILD, ADMIN, TemplateDraft("Late", None, 16 * 60 + 45, 60))
    await h.bot.rosters.assign(OTHER_GUILD, ADMIN, other.id, "member", OFFICER)
    await h.bot.roster_reminders.tick()
    assert len(dms_to(h, OTHER)) == 1  # London's 20:00, 29 minutes ahead
    assert dms_to(h, OFFICER) == []  # New York's 16:45 is 2 h 14 min ahead: outside its 120 minutes
    clock.set(utc_ms(2026, 12, 1, 19, 46))
    await h.bot.roster_reminders.tick()
    assert len(dms_to(h, OFFICER)) == 1 and "**Late**" in dms_to(h, OFFICER)[0]
    assert h.bot.settings.get(GUILD).roster_reminder_minutes == 30  # the other server's setting stays its own


async def test_reminder_missed_while_the_bot_was_down_is_sent_late_after_the_restart(start_bot):
    clock = Clock(utc_ms(2026, 12, 1, 19, 0))
    h = await boot_roster(start_bot, clock)
    await create(h, name="Evening", start="20:00", duration="4h")
    await assign(h, "Evening", OFFICER_M)
    await h.bot.close()
    clock.set(utc_ms(2026, 12, 1, 20, 5))  # down from 19:00 to 20:05
    h = await boot_roster(start_bot, clock)
    await h.bot.roster_reminders.tick()
    assert len(dms_to(h, OFFICER)) == 1


async def test_member_with_closed_dms_is_pinged_in_the_reports_channel(start_bot):
    clock = Clock(utc_ms(2026, 12, 1, 19, 45))
    h = await boot_roster(start_bot, clock)
    await h.bot.settings.set_channel(GUILD, ADMIN, "reports", ChannelFacts(REPORTS_CH, "reports"))
    h.fake.dms_closed.add(OFFICER)
    await create(h, name="Evening", start="20:00", duration="4h")
    await assign(h, "Evening", OFFICER_M)
    await h.bot.roster_reminders.tick()
    post = await h.fake.wait_for(method="POST", path=rf"^/channels/{REPORTS_CH}/messages$")
    assert post.json["content"].startswith(f"<@{OFFICER}> ⏰ Reminder") and "DMs are closed" in post.json["content"]
    assert post.json["allowed_mentions"]["users"] == [OFFICER]
    assert dms_to(h, OFFICER) == []
    await h.bot.roster_reminders.tick()
    assert len(h.fake.find("POST", rf"^/channels/{REPORTS_CH}/messages$")) == 1  # once


async def test_reminders_command_sets_the_lead_time_audited_and_supervisors_only(start_bot):
    clock = Clock(utc_ms(2026, 12, 1, 19, 5))
    h = await boot_roster(start_bot, clock)
    refused = await h.slash("roster", sub="reminders", member=OFFICER_M, guild_id=GUILD, minutes=60)
    assert "supervisor role" in refused.content and h.bot.settings.get(GUILD).roster_reminder_minutes == 30
    reply = await h.slash("roster", sub="reminders", member=SUPERVISOR_M, guild_id=GUILD, minutes=60)
    assert "reminded 60 minutes before" in reply.content
    assert h.bot.settings.get(GUILD).roster_reminder_minutes == 60
    entries, _ = await h.bot.settings.history(GUILD)
    assert entries[0].key == "roster.reminder_minutes" and entries[0].actor_id == SUPERVISOR
    line = await log_line(h, "Roster reminder lead time")
    assert "30 min before a scheduled shift → 60 min before a scheduled shift" in line
    # One line for the change (the settings cog's), not a second one from /roster reminders.
    posted = [r.json["content"] for r in h.fake.find("POST", rf"^/channels/{LOG_CH}/messages$")]
    assert sum("60 min" in p or "60 minutes" in p for p in posted) == 1
    await create(h, name="Evening", start="20:00", duration="4h")
    await assign(h, "Evening", OFFICER_M)
    await h.bot.roster_reminders.tick()
    assert len(dms_to(h, OFFICER)) == 1  # 55 minutes ahead: within the new lead time


def reports_posts(h: Any) -> list[str]:
    return [r.json["content"] for r in h.fake.find("POST", rf"^/channels/{REPORTS_CH}/messages$") if r.status == 200]


async def test_reminder_offers_start_shift_and_cant_make_it_which_tells_the_supervisors_once(start_bot, sandbox):
    clock = Clock(utc_ms(2026, 12, 1, 19, 31))
    h = await boot_roster(start_bot, clock)
    await link_guild(h.bot, sandbox)
    await h.bot.settings.set_channel(GUILD, ADMIN, "reports", ChannelFacts(REPORTS_CH, "reports"))
    await create(h, name="Evening", start="20:00", duration="4h")
    await assign(h, "Evening", OFFICER_M)
    await assign(h, "Evening", OTHER_ON_PATROL_M)
    await h.bot.roster_reminders.tick()
    [dm] = dm_messages(h, OFFICER)
    labels = {c["label"]: c["custom_id"] for row in dm["components"] for c in row["components"]}
    assert list(labels) == ["Start shift", "Can't make it"]
    officer = builders.user(OFFICER, "officer")

    # Only the member the reminder is for can answer it (the ping in the reports channel is seen by everyone).
    refused = await h.click(labels["Can't make it"], user=builders.user(OTHER, "other"), message=dm)
    assert refused.ephemeral and "for someone else" in refused.content and reports_posts(h) == []

    # Two presses at once (a double tap): one notice to the supervisors, both presses answered by the edit.
    cant, again = await asyncio.gather(
        h.click(labels["Can't make it"], user=officer, message=dm),
        h.click(labels["Can't make it"], user=officer, message=dm),
    )
    for pressed in (cant, again):
        assert pressed.callback_type == 7 and "Your supervisors know you can't make it" in pressed.content
    assert cant.components == [] and cant.embeds  # the buttons go; the reminder's marker stays
    [told] = reports_posts(h)
    assert told.startswith(f"<@&{SUPERVISOR_ROLE}> 🙋 <@{OFFICER}> can't make it to **Evening** <t:")
    # After a restart, a press of the same reminder elsewhere (its ping in the reports channel carries the same
    # button) tells nobody again: the say is stored.
    await h.bot.close()
    h.close()
    h = await boot_roster(start_bot, clock)
    later = await click_forged(h, labels["Can't make it"], member=OFFICER_M)
    assert "Your supervisors know you can't make it" in later.content
    assert len(reports_posts(h)) == 1

    # Start shift goes on duty as /shift start does, and the DM says so.
    [other_dm] = dm_messages(h, OTHER)
    start = next(
        c["custom_id"] for row in other_dm["components"] for c in row["components"] if "start" in c["custom_id"]
    )
    started = await (await h.click(start, user=builders.user(OTHER, "other"), message=other_dm)).final()
    assert "You are on duty" in started.content and started.components == []
    assert await h.bot.shifts.open_shift(GUILD, OTHER) is not None


# --- reminders exactly once across processes (a sender killed, a transient failure) -------------------------------

# Reminder DMs (and pings): every channel post but the shift log's.
REMINDER_POSTS = rf"^/channels/(?!{LOG_CH}/)\d+/messages$"


def dm_messages(h: Harness, user_id: int) -> list[dict[str, Any]]:
    """The messages in the member's DM channel, as Discord holds them (whoever sent them, answered or not)."""
    channels = {c for c, u in h.fake.dm_channels.items() if u == user_id}
    return [m for m in h.fake.messages.values() if int(m["channel_id"]) in channels]


async def reminded_evening(start_bot: BotStarter, clock: Clock) -> Any:
    """A bot with "Evening" (20:00, 4 h) scheduled and the officer on it; the reminder is due (19:45)."""
    h = await boot_roster(start_bot, clock)
    await create(h, name="Evening", start="20:00", duration="4h")
    await assign(h, "Evening", OFFICER_M)
    return h


async def killed_while_sending(h: Harness, held: Hold) -> None:
    """Runs a reminder round in the bot and kills it (cancelled, then closed: no code of it runs after) once the
    round's reminder post is held at the fake Discord."""
    round_ = asyncio.create_task(h.bot.roster_reminders.tick())
    await held.wait_arrived()
    round_.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await round_
    await h.bot.close()


async def reminder_row(h: Harness) -> tuple[int | None, int | None, int, str | None, int | None]:
    """(sent at, message id, attempts, failure, given up at) of the one reminder claimed."""
    [row] = await h.bot.db.execute_fetchall(
        "SELECT sent_at_ms, message_id, attempts, failure, given_up_ms FROM roster_reminders_sent"
    )
    return row[0], row[1], int(row[2]), row[3], row[4]


async def test_reminder_whose_sender_died_before_sending_is_sent_by_another_process_after_the_lease(start_bot):
    clock = Clock(utc_ms(2026, 12, 1, 19, 45))
    h = await reminded_evening(start_bot, clock)
    # The process dies with its DM out, before Discord has it.
    await killed_while_sending(h, h.fake.hold(REMINDER_POSTS, method="POST"))
    assert dm_messages(h, OFFICER) == []

    h2 = await boot_roster(start_bot, clock)  # another process (or the restarted one) on the same database
    claimed = clock.ms
    clock.set(claimed + REMINDER_LEASE_MS - 1)
    await h2.bot.roster_reminders.tick()
    assert dm_messages(h2, OFFICER) == []  # still the dead sender's claim
    clock.set(claimed + REMINDER_LEASE_MS)
    await h2.bot.roster_reminders.tick()
    [dm] = dm_messages(h2, OFFICER)
    assert "**Evening** starts <t:" in dm["content"]
    assert dm["embeds"][0]["footer"]["text"] == "Scheduled shift reminder · Evening"
    sent_at, message_id, _, _, _ = await reminder_row(h2)
    assert sent_at is not None and message_id == int(dm["id"])
    clock.advance(ms=5 * MIN)
    await h2.bot.roster_reminders.tick()
    assert len(dm_messages(h2, OFFICER)) == 1


async def test_reminder_sent_by_a_process_killed_before_marking_it_is_not_sent_again(start_bot):
    clock = Clock(utc_ms(2026, 12, 1, 19, 45))
    h = await reminded_evening(start_bot, clock)
    # Discord creates the DM; the process dies before it reads the answer, so before marking the reminder sent.
    await killed_while_sending(h, h.fake.hold(REMINDER_POSTS, method="POST", took_effect=True))
    [dm] = dm_messages(h, OFFICER)

    clock.advance(ms=REMINDER_LEASE_MS)
    h2 = await boot_roster(start_bot, clock)
    since = len(h2.fake.requests)
    await h2.bot.roster_reminders.tick()
    assert dm_messages(h2, OFFICER) == [dm]  # not sent a second time
    dm_channel = int(dm["channel_id"])
    assert h2.fake.find("GET", rf"^/channels/{dm_channel}/messages$"), "the DM channel was looked at"
    assert not [r for r in h2.fake.requests[since:] if r.match("POST", REMINDER_POSTS)]
    sent_at, message_id, _, _, _ = await reminder_row(h2)
    assert sent_at is not None and message_id == int(dm["id"])  # marked sent, with the message found
    clock.advance(ms=5 * MIN)
    await h2.bot.roster_reminders.tick()
    assert dm_messages(h2, OFFICER) == [dm]


async def test_transient_dm_failure_is_retried_and_the_reminder_delivered_once(start_bot):
    clock = Clock(utc_ms(2026, 12, 1, 19, 45))
    h = await reminded_evening(start_bot, clock)
    h.fake.fail_next(REMINDER_POSTS, 503, method="POST")  # Discord briefly unavailable
    await h.bot.roster_reminders.tick()
    assert dm_messages(h, OFFICER) == []
    clock.advance(ms=1 * MIN)  # the next round, before the shift starts
    await h.bot.roster_reminders.tick()
    [dm] = dm_messages(h, OFFICER)
    assert "**Evening** starts <t:" in dm["content"]
    sent_at, _, attempts, failure, given_up = await reminder_row(h)
    assert sent_at is not None and attempts == 1 and failure is not None and "503" in failure and given_up is None
    clock.advance(ms=1 * MIN)
    await h.bot.roster_reminders.tick()
    assert dm_messages(h, OFFICER) == [dm]


async def test_reminder_failing_until_the_shift_starts_is_given_up_and_shown_in_attendance(start_bot):
    clock = Clock(utc_ms(2026, 12, 1, 19, 45))
    h = await reminded_evening(start_bot, clock)
    h.fake.fail_next(REMINDER_POSTS, 503, times=2, method="POST")
    await h.bot.roster_reminders.tick()  # fails before the start: retried
    clock.set(utc_ms(2026, 12, 1, 20, 1))  # fails again after the start: given up
    await h.bot.roster_reminders.tick()
    _, _, attempts, _, given_up = await reminder_row(h)
    assert attempts == 2 and given_up is not None
    clock.set(utc_ms(2026, 12, 1, 20, 5))  # still inside the late window: not tried a third time
    await h.bot.roster_reminders.tick()
    assert dm_messages(h, OFFICER) == []

    clock.set(utc_ms(2026, 12, 2, 12, 0))
    await h.bot.roster_reminders.tick()  # prunes the sent claims; a given-up one is kept for attendance
    reply = await (
        await h.slash("roster", sub="attendance", member=SUPERVISOR_M, guild_id=GUILD, period="2026-12-01")
    ).final()
    assert f"<@{OFFICER}>: ❌ absent (⚠️ reminder could not be delivered)" in reply.content


async def test_reminder_ping_posted_by_a_killed_process_is_not_posted_again(start_bot):
    clock = Clock(utc_ms(2026, 12, 1, 19, 45))
    h = await reminded_evening(start_bot, clock)
    await h.bot.settings.set_channel(GUILD, ADMIN, "reports", ChannelFacts(REPORTS_CH, "reports"))
    h.fake.dms_closed.add(OFFICER)
    pings = rf"^/channels/{REPORTS_CH}/messages$"
    await killed_while_sending(h, h.fake.hold(pings, method="POST", took_effect=True))

    clock.advance(ms=REMINDER_LEASE_MS)
    h2 = await boot_roster(start_bot, clock)
    await h2.bot.roster_reminders.tick()
    in_channel = [m for m in h2.fake.messages.values() if int(m["channel_id"]) == REPORTS_CH]
    assert len(in_channel) == 1 and in_channel[0]["content"].startswith(f"<@{OFFICER}> ⏰ Reminder")
    assert len(h2.fake.find("POST", pings)) == 1
    _, message_id, _, _, _ = await reminder_row(h2)
    assert message_id == int(in_channel[0]["id"])


async def test_reminder_sent_late_by_a_stalled_sender_after_its_takeover_is_not_doubled(start_bot):
    clock = Clock(utc_ms(2026, 12, 1, 19, 45))
    h = await reminded_evening(start_bot, clock)
    stalled = h.bot.roster_reminders
    stalled.renew_seconds = 3600.0  # its renewals do not get through (a stalled process, a database away)
    late = h.fake.hold(REMINDER_POSTS, method="POST")  # and its DM is held up on the way
    sending = asyncio.create_task(stalled.tick())
    await late.wait_arrived()

    clock.advance(ms=REMINDER_LEASE_MS)
    h2 = await boot_roster(start_bot, clock)
    await h2.bot.roster_reminders.tick()  # the claim ran out: taken over, looked for, sent
    [dm] = dm_messages(h2, OFFICER)
    late.release()  # the stalled sender's DM arrives after all: Discord returns the message its nonce made
    assert await sending == 0
    assert dm_messages(h, OFFICER) == [dm] and len(h.fake.find("POST", REMINDER_POSTS)) == 2
    _, message_id, _, _, _ = await reminder_row(h2)
    assert message_id == int(dm["id"])


# --- attendance --------------------------------------------------------------------------------


async def test_attendance_shows_present_late_left_early_and_absent_from_recorded_shifts(start_bot):
    clock = Clock(utc_ms(2026, 12, 1, 12, 0))
    h = await boot_roster(start_bot, clock)
    await create(h, name="Evening", start="20:00", duration="4h", valid_from="2026-12-01", valid_until="2026-12-01")
    members = {OFFICER: OFFICER_M, OTHER: OTHER_ON_PATROL_M, SUPERVISOR: SUPERVISOR_M, ADMIN: ADMIN_M}
    for m in members.values():
        await assign(h, "Evening", m)
    start, end = utc_ms(2026, 12, 1, 20, 0), utc_ms(2026, 12, 2, 0, 0)
    await record_shift(h.bot.db, OFFICER, start - 5 * MIN, end, breaks=((start + 60 * MIN, start + 80 * MIN),))
    await record_shift(h.bot.db, OTHER, start + 25 * MIN, end)  # after the grace period
    await record_shift(h.bot.db, SUPERVISOR, start, end, breaks=((start + 30 * MIN, start + 150 * MIN),))
    clock.set(utc_ms(2026, 12, 2, 9, 0))

    reply = await (
        await h.slash("roster", sub="attendance", member=SUPERVISOR_M, guild_id=GUILD, period="2026-12-01")
    ).final()
    lines = reply.content.splitlines()
    assert lines[0] == "**Attendance, 2026-12-01 to 2026-12-01** (Europe/London)"
    assert lines[1].startswith("**Evening** Tue 01 Dec 20:00")
    assert f"- <@{OFFICER}>: ✅ present, 3 h 40 min on duty, from <t:{start // 1000}:t>" in lines
    assert f"- <@{OTHER}>: 🕒 late, 3 h 35 min on duty, from <t:{(start + 25 * MIN) // 1000}:t>" in lines
    assert f"- <@{SUPERVISOR}>: ↩️ left early, 2 h on duty, from <t:{start // 1000}:t>" in lines
    assert f"- <@{ADMIN}>: ❌ absent" in lines  # no leave service yet: nobody is excused

    one = await (
        await h.slash("roster", sub="attendance", member=SUPERVISOR_M, guild_id=GUILD, period="2026-12-01",
                      options={"member": UserOption(OTHER_ON_PATROL_M)})
    ).final()  # fmt: skip
    assert [line for line in one.content.splitlines() if line.startswith("- ")] == [
        f"- <@{OTHER}>: 🕒 late, 3 h 35 min on duty, from <t:{(start + 25 * MIN) // 1000}:t>"
    ]
    refused = await h.slash("roster", sub="attendance", member=OFFICER_M, guild_id=GUILD)
    assert "supervisor role" in refused.content


async def test_long_attendance_is_paginated_and_pages_are_for_supervisors_only(start_bot):
    clock = Clock(utc_ms(2026, 11, 1, 12, 0))
    h = await boot_roster(start_bot, clock)
    tid = (await h.bot.rosters.create(GUILD, ADMIN, _draft("Evening", 20 * 60))).id
    for i in range(8):
        await h.bot.rosters.assign(GUILD, ADMIN, tid, "member", 800000000000000000 + i)
    clock.set(utc_ms(2026, 12, 1, 12, 0))
    reply = await (
        await h.slash("roster", sub="attendance", member=SUPERVISOR_M, guild_id=GUILD,
                      period="2026-11-01..2026-11-30")
    ).final()  # fmt: skip
    assert len(reply.content) <= 2000 and "Page 1 of" in reply.content
    [next_page] = reply.custom_ids
    refused = await h.click(next_page, member=OFFICER_M, guild_id=GUILD, message=reply)
    assert refused.ephemeral and "supervisor role" in refused.content
    page2 = await h.click(next_page, member=SUPERVISOR_M, guild_id=GUILD, message=reply)
    assert "Page 2 of" in page2.content and len(page2.content) <= 2000
    too_long = await h.slash("roster", sub="attendance", member=SUPERVISOR_M, guild_id=GUILD,
                             period="2026-01-01..2026-12-01")  # fmt: skip
    assert "a period is at most 62 days" in too_long.content


def _draft(name: str, start_minute: int) -> TemplateDraft:
    """An hour-long shift every day, created through the service (for crowded weeks)."""
    return TemplateDraft(name, None, start_minute, 60)


# --- what people type and what a button's custom id carries: a clear refusal, never a crash ---------------------

UNICODE_DIGITS = ("²", "①", "12²")  # str.isdigit() is true for each, int() refuses them


async def test_unicode_digits_in_a_duration_or_a_shift_are_refused_like_any_bad_value(start_bot):
    h = await boot_roster(start_bot, Clock(utc_ms(2026, 12, 1, 12, 0)))
    for duration in UNICODE_DIGITS:
        created = await create(h, name="Evening", start="20:00", duration=duration)
        assert created.ephemeral and "The duration must be from 1 minute to 24 hours" in created.content, (
            created.content
        )
    assert await h.bot.rosters.templates(GUILD) == []
    await create(h, name="Evening", start="20:00", duration="4h")
    for duration in UNICODE_DIGITS:
        edited = await h.slash("roster", sub="edit", member=SUPERVISOR_M, guild_id=GUILD, shift="Evening",
                               duration=duration)  # fmt: skip
        assert edited.ephemeral and "The duration must be from 1 minute to 24 hours" in edited.content, edited.content
        picked = await h.slash("roster", sub="edit", member=SUPERVISOR_M, guild_id=GUILD, shift=duration,
                               duration="2h")  # fmt: skip
        assert picked.ephemeral and "no scheduled shift named" in picked.content, picked.content
    too_big = await h.slash("roster", sub="delete", member=SUPERVISOR_M, guild_id=GUILD, shift="9" * 20)
    assert too_big.ephemeral and "no scheduled shift named" in too_big.content, too_big.content
    [evening] = await h.bot.rosters.templates(GUILD)
    assert evening.duration_minutes == 240 and len(await h.bot.rosters.history(GUILD)) == 1


async def test_forged_roster_buttons_with_ids_too_large_or_dates_out_of_range_are_refused_quietly(start_bot):
    h = await boot_roster(start_bot, Clock(utc_ms(2026, 12, 1, 12, 0)))
    await create(h, name="Evening", start="20:00", duration="4h")
    for custom_id in (
        "northca:roster:delete:9999999999999999999",  # above 2^63: no row id
        "northca:roster:delete:99999999999999999999",
        "northca:roster:text:9999-12-27:0",
        "northca:roster:page:0001-01-01:0",
        "northca:roster:text:2026-02-30:0",  # no such day
        "northca:roster:att:0001-01-01:9999-12-31:0:1",
        f"northca:roster:att:2026-11-01:2026-11-30:{'9' * 20}:1",
    ):
        reply = await click_forged(h, custom_id, member=SUPERVISOR_M)
        assert reply.ephemeral and reply.content.startswith("This button is no longer valid"), (custom_id, reply)
    assert len(await h.bot.rosters.templates(GUILD)) == 1


async def test_attendance_buttons_reapply_the_limits_of_the_command_and_week_dates_are_bounded(start_bot):
    h = await boot_roster(start_bot, Clock(utc_ms(2026, 12, 1, 12, 0)))
    whole_year = await click_forged(h, "northca:roster:att:2026-01-01:2026-12-31:0:1", member=SUPERVISOR_M)
    assert whole_year.ephemeral and "a period is at most 62 days" in whole_year.content, whole_year.content
    backwards = await click_forged(h, "northca:roster:att:2026-12-01:2026-11-01:0:0", member=SUPERVISOR_M)
    assert backwards.ephemeral and "before it starts" in backwards.content, backwards.content
    for week in ("9999-12-27", "0001-01-01"):
        shown = await h.slash("roster", sub="show", member=SUPERVISOR_M, guild_id=GUILD, week=week)
        assert shown.ephemeral and "week must be" in shown.content, shown.content
    for period in ("9999-12-27..9999-12-31", "0001-01-01"):
        asked = await h.slash("roster", sub="attendance", member=SUPERVISOR_M, guild_id=GUILD, period=period)
        assert asked.ephemeral and "period must be" in asked.content, asked.content
    await create(h, name="Evening", start="20:00", duration="4h")
    elsewhere = builders.role(OTHER_GUILD + 1, "Their patrol", position=1)  # a role of another server
    assigned = await h.slash("roster", sub="assign", member=SUPERVISOR_M, guild_id=GUILD, shift="Evening",
                             options={"role": RoleOption(elsewhere)})  # fmt: skip
    assert assigned.ephemeral and "of another server" in assigned.content, assigned.content
    assert await h.bot.rosters.template_ids_for(GUILD, OFFICER, [int(elsewhere["id"])]) == set()
    for valid_until in ("9999-12-31", "0001-01-01"):
        created = await create(h, name="Far", start="20:00", duration="1h", valid_until=valid_until)
        assert created.ephemeral and "The last day (valid_until) must be a date" in created.content, created.content
