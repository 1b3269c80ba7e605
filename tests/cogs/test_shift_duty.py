"""/shift leaderboard, /shift admin add|subtract|void|history and /shift export through the offline
Discord harness: the one duty-time rule seen from Discord, audited adjustments, page buttons that
survive restarts and re-check permission, two guilds kept apart."""

from __future__ import annotations

import asyncio
import csv
import io
import re
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.core.settings.service import RoleFacts
from bot.core.timefmt import utcnow
from tests.harness import Harness, builders
from tests.helpers.bot import link_guild
from tests.helpers.forged import click_forged
from tests.helpers.ids import (
    ADMIN,
    ADMIN_M,
    DEPARTMENT_ROLE,
    GUILD,
    LOG_CH,
    OFFICER,
    OFFICER_M,
    OTHER,
    OTHER_GUILD,
    OTHER_M,
    SUPERVISOR_M,
)
from tests.helpers.posts import log_line
from tests.helpers.shift_duty import OPT_OFFICER, board_minutes, boot_shift_duty
from tests.helpers.waiting import until

pytestmark = pytest.mark.asyncio


async def worked(h: Harness, member: int, hours_ago: float, hours: float, guild: int = GUILD) -> None:
    """An ended shift made through the real shift service (no Northca wait needed for totals)."""
    start = utcnow() - timedelta(hours=hours_ago)
    await h.bot.shifts.start(guild, member, display_name=f"m{member}", at=start)
    await h.bot.shifts.end(guild, member, at=start + timedelta(hours=hours))


def field(reply: Any, prefix: str) -> str:
    return next(f["value"] for f in reply.embeds[0]["fields"] if f["name"].startswith(prefix))


async def test_status_and_leaderboard_agree_after_an_adjustment(start_bot, sandbox):
    h = await boot_shift_duty(start_bot, sandbox)
    await worked(h, OFFICER, 0.75, 0.5)
    added = await h.slash(
        "shift", group="admin", sub="add", member=SUPERVISOR_M, guild_id=GUILD,
        options={"member": OPT_OFFICER, "duration": "1h15m", "reason": "forgot to clock in"},
    )  # fmt: skip
    assert added.ephemeral and "Northca is not changed" in added.content
    status = await h.slash("shift", sub="status", member=OFFICER_M, guild_id=GUILD)
    board = await h.slash("shift", sub="leaderboard", member=OFFICER_M, guild_id=GUILD, options={"period": "this_week"})
    # 30 min worked + 1 h 15 min added: the same rule, the same figure in both places.
    assert field(status, "This week") == board_minutes(board, OFFICER)
    assert field(status, "Today") == field(status, "This week") or utcnow().hour == 0
    assert board_minutes(board, OFFICER) == "1 h 45 min"


async def test_adjustments_are_announced_listed_and_voids_leave_the_shift_out(start_bot, sandbox):
    h = await boot_shift_duty(start_bot, sandbox)
    await worked(h, OFFICER, 3, 1)
    await worked(h, OFFICER, 1.5, 0.5)
    sub = await h.slash("shift", group="admin", sub="subtract", member=ADMIN_M, guild_id=GUILD,
                        options={"member": OPT_OFFICER, "duration": "10m", "reason": "long lunch"})  # fmt: skip
    assert "subtracted" in sub.content and "Northca is not changed" in sub.content
    assert "long lunch" in await log_line(h, "subtracted")
    choices = await h.autocomplete("shift", group="admin", sub="void", focused="shift", member=ADMIN_M, guild_id=GUILD,
                                   options={"shift": "", "reason": "x"})  # fmt: skip
    assert len(choices) == 2 and "1 h" in choices[1]["name"]  # newest first
    shift_id = choices[1]["value"]
    ask = await h.slash("shift", group="admin", sub="void", member=SUPERVISOR_M, guild_id=GUILD,
                        options={"shift": shift_id, "reason": "test shift"})  # fmt: skip
    assert ask.embeds[0]["title"] == "Void this shift?" and "Northca is not changed" in ask.embeds[0]["description"]
    assert await h.bot.duty.history(GUILD, OFFICER) != [] and len(await h.bot.duty.history(GUILD, OFFICER)) == 1
    # The confirm button re-checks: a member who is not a supervisor is refused and nothing changes.
    refused = await h.click(f"northca:shift:void:{shift_id}", member=OFFICER_M, guild_id=GUILD, message=ask)
    assert refused.ephemeral and "a supervisor role to void a shift" in refused.content
    assert len(await h.bot.duty.history(GUILD, OFFICER)) == 1
    voided = await h.click(f"northca:shift:void:{shift_id}", member=SUPERVISOR_M, guild_id=GUILD, message=ask)
    assert "voided the shift started <t:" in voided.content and "Northca is not changed" in voided.content
    assert shift_id not in voided.content
    again = await h.slash("shift", group="admin", sub="void", member=SUPERVISOR_M, guild_id=GUILD,
                          options={"shift": shift_id, "reason": "twice"})  # fmt: skip
    assert again.ephemeral and "already voided" in again.content and not again.embeds
    unknown = await h.slash("shift", group="admin", sub="void", member=SUPERVISOR_M, guild_id=GUILD,
                            options={"shift": "not-a-shift", "reason": "x"})  # fmt: skip
    assert unknown.ephemeral and "no shift `not-a-shift`" in unknown.content
    assert shift_id not in await log_line(h, "voided the shift started")
    history = await h.slash("shift", group="admin", sub="history", member=SUPERVISOR_M, guild_id=GUILD,
                            options={"member": OPT_OFFICER})  # fmt: skip
    text = history.embeds[0]["description"]
    assert "voided the shift started <t:" in text and "subtracted" in text and "test shift" in text
    assert shift_id not in text
    board = await h.slash("shift", sub="leaderboard", member=OFFICER_M, guild_id=GUILD, options={"period": "all_time"})
    assert board_minutes(board, OFFICER) == "20 min"  # the voided hour left out, the subtraction kept


async def test_member_without_supervisor_role_cannot_adjust_and_nothing_changes(start_bot, sandbox):
    h = await boot_shift_duty(start_bot, sandbox)
    for sub, options in (
        ("add", {"member": OPT_OFFICER, "duration": "5h", "reason": "me"}),
        ("history", {"member": OPT_OFFICER}),
    ):
        refused = await h.slash("shift", group="admin", sub=sub, member=OFFICER_M, guild_id=GUILD, options=options)
        assert refused.ephemeral and "a supervisor role" in refused.content
    assert await h.bot.duty.history(GUILD, OFFICER) == []
    bad = await h.slash("shift", group="admin", sub="add", member=ADMIN_M, guild_id=GUILD,
                        options={"member": OPT_OFFICER, "duration": "lots", "reason": "x"})  # fmt: skip
    assert bad.ephemeral and "30m" in bad.content
    assert await h.bot.duty.history(GUILD, OFFICER) == []


async def test_unicode_digits_in_an_adjustment_are_not_a_duration_and_nothing_is_stored(start_bot, sandbox):
    h = await boot_shift_duty(start_bot, sandbox)
    for sub in ("add", "subtract"):
        for duration in ("²", "①", "12²", "٣"):  # str.isdigit() is true for each; int() refuses the first three
            bad = await h.slash("shift", group="admin", sub=sub, member=ADMIN_M, guild_id=GUILD,
                                options={"member": OPT_OFFICER, "duration": duration, "reason": "x"})  # fmt: skip
            assert bad.ephemeral and "is not a duration" in bad.content, bad.content
    assert await h.bot.duty.history(GUILD, OFFICER) == []
    huge = builders.UserOption(builders.user(2**64, "forged"))  # no snowflake: the database's INTEGER is 64-bit
    forged = await h.slash("shift", group="admin", sub="add", member=ADMIN_M, guild_id=GUILD,
                           options={"member": huge, "duration": "1h", "reason": "x"})  # fmt: skip
    assert forged.ephemeral and "names no Discord user" in forged.content, forged.content


async def test_history_button_with_an_id_too_large_for_the_database_is_refused_quietly(start_bot, sandbox):
    h = await boot_shift_duty(start_bot, sandbox)
    await h.bot.duty.add_time(GUILD, OFFICER, 60_000, "one minute", ADMIN)
    for custom_id in (f"northca:shift:hist:{'9' * 19}:0", f"northca:shift:hist:{'9' * 20}:1",
                      f"northca:shift:hist:{2**63}:0"):  # fmt: skip
        reply = await click_forged(h, custom_id, member=SUPERVISOR_M)
        assert reply.ephemeral and reply.content.startswith("This button is no longer valid"), (custom_id, reply)
    largest = await click_forged(h, f"northca:shift:hist:{2**63 - 1}:0", member=SUPERVISOR_M)  # a valid id: nobody
    assert "No adjustments for this member." in largest.embeds[0]["description"], largest


async def test_history_pages_survive_a_restart_and_recheck_the_presser(start_bot, sandbox):
    h = await boot_shift_duty(start_bot, sandbox)
    for n in range(12):
        await h.bot.duty.add_time(GUILD, OFFICER, 60_000 * (n + 1), f"reason {n}", ADMIN)
    first = await h.slash("shift", group="admin", sub="history", member=ADMIN_M, guild_id=GUILD,
                          options={"member": OPT_OFFICER})  # fmt: skip
    assert "Page 1 of 2" in first.embeds[0]["footer"]["text"]
    nxt = f"northca:shift:hist:{OFFICER}:1"
    assert nxt in first.custom_ids
    await h.bot.close()
    h.close()
    h2 = await boot_shift_duty(start_bot, sandbox)
    refused = await h2.click(nxt, member=OFFICER_M, guild_id=GUILD, message=first)
    assert refused.ephemeral and "a supervisor role to see time adjustments" in refused.content
    page2 = await h2.click(nxt, member=SUPERVISOR_M, guild_id=GUILD, message=first)
    assert "Page 2 of 2" in page2.embeds[0]["footer"]["text"] and "reason 0" in page2.embeds[0]["description"]


async def test_leaderboard_pages_mark_open_shifts_and_keep_guilds_apart(start_bot, sandbox):
    h = await boot_shift_duty(start_bot, sandbox)
    h.add_guild(OTHER_GUILD, name="Other RP", owner_id=ADMIN)
    await link_guild(h.bot, sandbox, OTHER_GUILD, "1d2e3f40-0000-4000-8000-000000000001")
    members = [900000000000000000 + n for n in range(13)]
    for n, member in enumerate(members):
        await worked(h, member, 2, 1 + n / 100)
    await h.bot.shifts.start(GUILD, OFFICER, display_name="officer", at=utcnow() - timedelta(minutes=5))
    await worked(h, OTHER, 2, 1, guild=OTHER_GUILD)
    first = await h.slash("shift", sub="leaderboard", member=OFFICER_M, guild_id=GUILD, options={"period": "all_time"})
    assert "Page 1 of 2" in first.embeds[0]["footer"]["text"] and "14 members" in first.embeds[0]["footer"]["text"]
    assert f"<@{members[-1]}>" in first.embeds[0]["description"].splitlines()[0]
    assert f"<@{OTHER}>" not in first.embeds[0]["description"]
    page2 = await h.click("northca:shift:lb:all_time:1:", member=OTHER_M, guild_id=GUILD, message=first)
    last = page2.embeds[0]["description"]
    assert f"<@{OFFICER}>" in last and "on duty now" in last and "Page 2 of 2" in page2.embeds[0]["footer"]["text"]
    other = await h.slash(
        "shift", sub="leaderboard", member=OTHER_M, guild_id=OTHER_GUILD, options={"period": "all_time"}
    )
    assert other.embeds[0]["description"].count("<@") == 1 and f"<@{OTHER}>" in other.embeds[0]["description"]


async def test_export_answers_with_a_csv_attachment_for_supervisors_only(start_bot, sandbox):
    h = await boot_shift_duty(start_bot, sandbox)
    await worked(h, OFFICER, 3, 1)
    await h.bot.duty.add_time(GUILD, OFFICER, 600_000, "=HYPERLINK(bad)", ADMIN)
    refused = await h.slash("shift", sub="export", member=OFFICER_M, guild_id=GUILD)
    assert refused.ephemeral and not refused.request.files
    reply = await h.slash("shift", sub="export", member=SUPERVISOR_M, guild_id=GUILD,
                          options={"period": "all_time", "member": OPT_OFFICER})  # fmt: skip
    done = await reply.final()
    assert done.message["attachments"][0]["filename"] == "duty-all-time.csv"
    rows = list(csv.DictReader(io.StringIO(done.request.files[0]["data"].decode())))
    assert [r["record"] for r in rows] == ["shift", "adjustment"]
    assert rows[0]["duty_s"] == "3600" and rows[1]["reason"].startswith("'=")
    assert "1 shift and 1 adjustment" in done.content


# --- the shift panel ---------------------------------------------------------------


async def test_panel_buttons_act_for_the_presser_and_work_after_a_restart(start_bot, sandbox):
    h = await boot_shift_duty(start_bot, sandbox)
    panel = await h.slash("shift", sub="panel", member=OFFICER_M, guild_id=GUILD)
    assert panel.ephemeral and panel.embeds[0]["title"] == "Off duty"
    assert panel.custom_ids[:3] == ["northca:shift:panel:start", "northca:shift:panel:break", "northca:shift:panel:end"]
    assert "northca:shift:panel:dept" in panel.custom_ids  # five departments by default
    await h.bot.close()
    h.close()
    h2 = await boot_shift_duty(start_bot, sandbox)
    # Someone else pressing the officer's panel goes on duty themselves; the officer stays off duty.
    theirs = await (await h2.click("northca:shift:panel:start", member=OTHER_M, guild_id=GUILD, message=panel)).final()
    assert theirs.embeds[0]["title"] == "On duty"  # the panel, edited in place for whoever pressed
    assert await h2.bot.shifts.open_shift(GUILD, OFFICER) is None
    assert await h2.bot.shifts.open_shift(GUILD, OTHER) is not None
    fresh = await h2.slash("shift", sub="panel", member=OFFICER_M, guild_id=GUILD)
    picked = await h2.click(
        "northca:shift:panel:dept", member=OFFICER_M, guild_id=GUILD, message=fresh, values=["Traffic"]
    )
    assert (await picked.final()).embeds[0]["title"] == "On duty"
    assert (await h2.bot.shifts.open_shift(GUILD, OFFICER)).department == "Traffic"
    brk = await (await h2.click("northca:shift:panel:break", member=OFFICER_M, guild_id=GUILD, message=fresh)).final()
    assert brk.embeds[0]["title"] == "On break" and brk.component("northca:shift:panel:break")["label"] == "End break"
    again = await h2.slash("shift", sub="panel", member=OFFICER_M, guild_id=GUILD)
    assert again.embeds[0]["title"] == "On break"
    assert field(again, "Department") == "Traffic"
    ended = await (await h2.click("northca:shift:panel:end", member=OFFICER_M, guild_id=GUILD, message=fresh)).final()
    assert ended.embeds[0]["title"] == "Off duty" and field(ended, "Last shift")
    assert await h2.bot.shifts.open_shift(GUILD, OFFICER) is None
    assert await h2.bot.shifts.open_shift(GUILD, OTHER) is not None


async def test_panel_department_select_refuses_a_department_that_was_removed(start_bot, sandbox):
    h = await boot_shift_duty(start_bot, sandbox)
    panel = await h.slash("shift", sub="panel", member=OFFICER_M, guild_id=GUILD)
    await h.bot.settings.remove_department(GUILD, ADMIN, "Traffic")
    pressed = await h.click(
        "northca:shift:panel:dept", member=OFFICER_M, guild_id=GUILD, message=panel, values=["Traffic"]
    )
    refused = await pressed.followup()  # the panel is brought up to date first, then the refusal is said
    assert refused.ephemeral and "Traffic" in refused.content
    assert await h.bot.shifts.open_shift(GUILD, OFFICER) is None
    assert "Traffic" not in str(h.fake.messages[int(panel.message["id"])]["components"])


# --- the "On duty now" board ---------------------------------------------------------


def board_of(h: Harness) -> Any:
    cog = h.bot.get_cog("ShiftCog")
    assert cog is not None
    return cog.boards


async def board_edit(h: Harness, message_id: int, pattern: str, since: int = 0) -> Any:
    """The next edit of the board message whose embed matches `pattern`."""

    def matches(rec: Any) -> bool:
        embeds = (rec.json or {}).get("embeds") or []
        return bool(embeds) and re.search(pattern, embeds[0].get("description", "")) is not None

    return await h.fake.wait_for(matches, method="PATCH", path=rf"/messages/{message_id}$", since=since)


def board_edits(h: Harness, message_id: int) -> int:
    return len(h.fake.find(method="PATCH", path=rf"/messages/{message_id}$"))


async def post_board(h: Harness) -> int:
    since = len(h.fake.requests)
    reply = await h.slash("shift", sub="board", member=ADMIN_M, guild_id=GUILD, channel_id=LOG_CH)
    assert reply.ephemeral and "updates itself" in reply.content, reply
    rec = await h.fake.wait_for(
        lambda r: bool((r.json or {}).get("embeds")), method="POST", path=rf"^/channels/{LOG_CH}/messages$", since=since
    )
    assert rec.json["embeds"][0]["title"] == "On duty now"
    return int(rec.response["id"])


async def test_board_follows_start_break_and_end_and_survives_a_restart(start_bot, sandbox):
    h = await boot_shift_duty(start_bot, sandbox)
    board_of(h).min_interval = 0
    message_id = await post_board(h)
    await h.slash("shift", sub="start", member=OFFICER_M, guild_id=GUILD, department="EMS")
    await board_edit(h, message_id, rf"<@{OFFICER}> · EMS · since <t:\d+:R>$")
    await h.slash("shift", sub="break", member=OFFICER_M, guild_id=GUILD)
    await board_edit(h, message_id, "on break")
    await h.bot.close()
    h.close()
    down = len(h.fake.requests)
    h2 = await boot_shift_duty(start_bot, sandbox)
    await board_edit(h2, message_id, "on break", since=down)  # re-rendered at start
    board_of(h2).min_interval = 0
    await h2.bot.shifts.start(GUILD, OTHER, display_name="other")
    await board_edit(h2, message_id, rf"<@{OTHER}> · no department")


async def test_board_edits_are_coalesced_while_one_is_held_back(start_bot, sandbox):
    h = await boot_shift_duty(start_bot, sandbox)
    updater = board_of(h)
    release = asyncio.Event()
    held: list[float] = []

    async def gate(seconds: float) -> None:
        held.append(seconds)
        await release.wait()

    updater.sleep = gate
    message_id = await post_board(h)
    await h.bot.shifts.start(GUILD, OFFICER, display_name="officer")
    await board_edit(h, message_id, f"<@{OFFICER}>")
    before = board_edits(h, message_id)
    seen: list[int] = []

    async def count(notice: Any) -> None:  # subscribed after the board: it sees each event after the board did
        seen.append(notice.shift.member_id)

    h.bot.events.shifts.subscribe(count)
    members = [900000000000000000 + n for n in range(3)]
    for member in members:
        await h.bot.shifts.start(GUILD, member, display_name=f"m{member}")
    await until(lambda: len(seen) == 3, what="three start events delivered")
    assert len(held) == 1 and board_edits(h, message_id) == before  # one refresh waits; nothing edited yet
    release.set()
    done = await board_edit(h, message_id, "|".join(f"<@{m}>" for m in members[-1:]))
    assert all(f"<@{m}>" in done.json["embeds"][0]["description"] for m in members)
    await until(lambda: updater.refreshes >= 2, what="the held refresh finished")
    assert board_edits(h, message_id) == before + 1 and updater.refreshes == 2


async def test_board_needs_manage_server_and_fits_discord_limits(start_bot, sandbox):
    h = await boot_shift_duty(start_bot, sandbox)
    board_of(h).min_interval = 0
    refused = await h.slash("shift", sub="board", member=SUPERVISOR_M, guild_id=GUILD, channel_id=LOG_CH)
    assert refused.ephemeral and "Manage Server" in refused.content
    assert await h.bot.boards.of_guild(GUILD) == []
    for n in range(35):
        await h.bot.shifts.start(GUILD, 900000000000000000 + n, display_name=f"m{n}")
    message_id = await post_board(h)
    await h.bot.shifts.start(GUILD, OFFICER, display_name="officer")
    edit = await board_edit(h, message_id, r"… and 6 more$")
    assert edit.json["embeds"][0]["footer"]["text"].startswith("36 on duty")


# --- departments as shift types, and the guild's clock ------------------------------------


async def test_department_role_is_given_in_it_and_removed_on_admin_end_and_auto_end(start_bot, sandbox):
    h = await boot_shift_duty(start_bot, sandbox)
    await h.bot.settings.add_department(GUILD, ADMIN, "Sheriff", RoleFacts(DEPARTMENT_ROLE, "Sheriff"))
    role_path = rf"/guilds/{GUILD}/members/{OFFICER}/roles/{DEPARTMENT_ROLE}$"
    panel = await h.slash("shift", sub="panel", member=OFFICER_M, guild_id=GUILD)
    await h.click("northca:shift:panel:dept", member=OFFICER_M, guild_id=GUILD, message=panel, values=["Sheriff"])
    await h.fake.wait_for(method="PUT", path=role_path)
    mark = len(h.fake.requests)
    await h.slash("shift", group="admin", sub="end", member=ADMIN_M, guild_id=GUILD, options={"member": OPT_OFFICER})
    await h.fake.wait_for(method="DELETE", path=role_path, since=mark)
    # Auto-ended at the server's maximum length: the role goes too.
    await h.bot.settings.set_shifts(GUILD, ADMIN, max_hours=0.5)
    mark = len(h.fake.requests)
    await h.bot.shifts.start(GUILD, OFFICER, display_name="officer", department="Sheriff",
                             at=utcnow() - timedelta(minutes=29, seconds=59))  # fmt: skip
    await h.fake.wait_for(method="PUT", path=role_path, since=mark)
    await h.fake.wait_for(method="DELETE", path=role_path, since=mark)
    assert await h.bot.shifts.open_shift(GUILD, OFFICER) is None


def zone_past_midnight() -> str:
    """A fixed-offset zone where it is now between 02:00 and 22:00 (so "today" holds 20 min after midnight)."""
    for hours in range(-12, 13):
        name = f"Etc/GMT{'+' if hours >= 0 else '-'}{abs(hours)}"
        if 2 <= utcnow().astimezone(ZoneInfo(name)).hour < 22:
            return name
    raise AssertionError("no zone fits")


async def test_status_counts_the_part_of_a_shift_after_local_midnight_like_the_leaderboard(start_bot, sandbox):
    h = await boot_shift_duty(start_bot, sandbox)
    zone = zone_past_midnight()
    await h.bot.settings.set_shifts(GUILD, ADMIN, timezone=zone, week_start="sunday")
    tz = ZoneInfo(zone)
    midnight = datetime.combine(utcnow().astimezone(tz).date(), time(0), tzinfo=tz)
    await h.bot.shifts.start(GUILD, OFFICER, display_name="officer", at=midnight - timedelta(minutes=30))
    await h.bot.shifts.end(GUILD, OFFICER, at=midnight + timedelta(minutes=20))
    status = await h.slash("shift", sub="status", member=OFFICER_M, guild_id=GUILD)
    # Before: only shifts that started today counted, so this showed 0 s.
    assert field(status, f"Today ({zone})") == "20 min"
    assert field(status, f"This week ({zone}, from Sunday)") in ("20 min", "50 min")
    board = await h.slash("shift", sub="leaderboard", member=OFFICER_M, guild_id=GUILD, options={"period": "this_week"})
    assert board_minutes(board, OFFICER) == field(status, "This week")


async def test_leaderboard_filters_by_department_and_refuses_an_unknown_one(start_bot, sandbox):
    h = await boot_shift_duty(start_bot, sandbox)
    start = utcnow() - timedelta(hours=3)
    await h.bot.shifts.start(GUILD, OFFICER, display_name="officer", department="EMS", at=start)
    await h.bot.shifts.end(GUILD, OFFICER, at=start + timedelta(hours=1))
    await worked(h, OTHER, 2, 1)
    ems = await h.slash("shift", sub="leaderboard", member=OTHER_M, guild_id=GUILD,
                        options={"period": "all_time", "department": "ems"})  # fmt: skip
    assert "EMS" in ems.embeds[0]["title"] and f"<@{OFFICER}>" in ems.embeds[0]["description"]
    assert f"<@{OTHER}>" not in ems.embeds[0]["description"]
    offered = await h.autocomplete("shift", sub="leaderboard", focused="department", member=OTHER_M, guild_id=GUILD,
                                   options={"department": "em"})  # fmt: skip
    assert [c["value"] for c in offered] == ["EMS"]
    unknown = await h.slash("shift", sub="leaderboard", member=OTHER_M, guild_id=GUILD, options={"department": "Navy"})
    assert unknown.ephemeral and "Navy" in unknown.content and not unknown.embeds


async def test_board_whose_message_was_deleted_is_forgotten(start_bot, sandbox):
    h = await boot_shift_duty(start_bot, sandbox)
    board_of(h).min_interval = 0
    message_id = await post_board(h)
    # Someone deleted the board: Discord answers its edit with Unknown Message.
    h.fake.fail_next(rf"/messages/{message_id}$", 404, method="PATCH", code=10008, message="Unknown Message")
    done = board_of(h).refreshes
    await h.bot.shifts.start(GUILD, OFFICER, display_name="officer")
    rec = await h.fake.wait_for(method="PATCH", path=rf"/messages/{message_id}$")
    assert rec.status == 404
    await until(lambda: board_of(h).refreshes > done, what="refresh done")
    assert await h.bot.boards.of_guild(GUILD) == []


async def test_boards_posted_at_once_in_one_channel_leave_one_board_there(start_bot, sandbox):
    h = await boot_shift_duty(start_bot, sandbox)

    replies = await asyncio.gather(
        *(h.slash("shift", sub="board", member=ADMIN_M, guild_id=GUILD, channel_id=LOG_CH) for _ in range(3))
    )

    assert all("updates itself" in r.content for r in replies)
    posted = [
        int(r.response["id"])
        for r in h.fake.find(method="POST", path=rf"^/channels/{LOG_CH}/messages$")
        if (r.json or {}).get("embeds") and r.json["embeds"][0]["title"] == "On duty now"
    ]
    assert len(posted) == 3
    deleted = {
        int(r.path.rsplit("/", 1)[1]) for r in h.fake.find(method="DELETE", path=rf"^/channels/{LOG_CH}/messages/\d+$")
    }
    [left] = [m for m in posted if m not in deleted]
    assert [b.message_id for b in await h.bot.boards.of_guild(GUILD)] == [left]
