"""/loa request | end | list, the Approve / Deny buttons and the on-leave role, through the harness."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta

from bot.core.timefmt import to_ms
from tests.harness import builders
from tests.helpers.clock import Clock
from tests.helpers.duty_ui import LEAVE_ROLE, QUOTA_ROLE, boot_duty_guild, role_opt
from tests.helpers.ids import (
    ADMIN,
    ADMIN_M,
    GUILD,
    LOG_CH,
    MEMBER_PERMS,
    OFFICER,
    OFFICER_M,
    OTHER,
    OTHER_GUILD,
    REPORTS_CH,
    SUPERVISOR,
    SUPERVISOR_M,
    member_m,
    member_opt,
)
from tests.helpers.posts import posts_to, role_changes

# Wednesday 2025-01-15 10:00 UTC.
WED = datetime(2025, 1, 15, 10, tzinfo=UTC)
OTHER_M = member_m(OTHER, name="other")


async def request(h, member=OFFICER_M, start="today", end="2025-01-17", reason="family visit", guild_id=GUILD):
    return await h.slash("loa request", member=member, guild_id=guild_id, start=start, end=end, reason=reason)


def decision_message(h, channel_id: int = REPORTS_CH, since: int = 0):
    [posted] = [r for r in posts_to(h, channel_id, since) if (r.json or {}).get("components")]
    return posted.response


async def approve(h, message) -> None:
    """A supervisor presses Approve; returns when the whole press is done (its followup sent)."""
    reply = await h.click(ids(message)["approve"], message=message, member=SUPERVISOR_M)
    await reply.followup()


def ids(message) -> dict[str, str]:
    found = {}
    for row in message["components"]:
        for c in row["components"]:
            found[c["custom_id"].split(":")[2]] = c["custom_id"]
    return found


async def test_request_posts_in_reports_channel_and_approval_gives_role_and_removes_it_at_end(start_bot, sandbox):
    clock = Clock(WED)
    h = await boot_duty_guild(start_bot, sandbox, [OFFICER_M], clock=clock)
    asked = await request(h)
    assert asked.ephemeral and f"<#{REPORTS_CH}>" in asked.content
    message = decision_message(h)
    assert message["embeds"][0]["fields"][2]["value"] == "family visit"

    approved = await h.click(ids(message)["approve"], message=message, member=SUPERVISOR_M)
    assert approved.callback_type == 7 and approved.components == []
    assert "approved" in (await approved.followup()).content  # after the role was given
    assert "Approved by" in str(approved.embeds[0]["fields"])
    assert len(role_changes(h, OFFICER, LEAVE_ROLE, "PUT")) == 1
    assert h.bot.get_guild(GUILD).get_member(OFFICER).get_role(LEAVE_ROLE) is not None
    assert any("approved the leave" in r.json["content"] for r in posts_to(h, LOG_CH))

    # Still on leave: nothing to do. After the last day: the role goes, once.
    clock.set(datetime(2025, 1, 17, 23, 59, tzinfo=UTC))
    assert await h.bot.services.leave_worker.run_once() == 0
    clock.set(datetime(2025, 1, 18, 0, 1, tzinfo=UTC))
    assert await h.bot.services.leave_worker.run_once() == 1
    assert await h.bot.services.leave_worker.run_once() == 0
    assert len(role_changes(h, OFFICER, LEAVE_ROLE, "DELETE")) == 1
    assert h.bot.get_guild(GUILD).get_member(OFFICER).get_role(LEAVE_ROLE) is None


async def test_leave_that_ended_while_the_bot_was_down_loses_its_role_after_restart_once(start_bot, sandbox):
    clock = Clock(WED)
    h = await boot_duty_guild(start_bot, sandbox, [OFFICER_M], clock=clock)
    await request(h, end="today")
    message = decision_message(h)
    await approve(h, message)
    assert len(role_changes(h, OFFICER, LEAVE_ROLE, "PUT")) == 1
    await h.bot.close()

    clock.set(WED + timedelta(days=3))
    h2 = await boot_duty_guild(start_bot, sandbox, [member_m(OFFICER, LEAVE_ROLE, name="officer")], clock=clock)
    await h2.bot.services.leave_worker.run_once()
    await h2.bot.services.leave_worker.run_once()
    assert len(role_changes(h2, OFFICER, LEAVE_ROLE, "DELETE")) == 1


async def test_the_end_of_leave_takes_back_the_on_leave_role_it_gave_after_the_setting_changed(start_bot, sandbox):
    clock = Clock(WED)
    h = await boot_duty_guild(start_bot, sandbox, [OFFICER_M], clock=clock)
    await request(h)
    await approve(h, decision_message(h))
    assert len(role_changes(h, OFFICER, LEAVE_ROLE, "PUT")) == 1
    await h.bot.close()
    h2 = await boot_duty_guild(start_bot, sandbox, [member_m(OFFICER, LEAVE_ROLE, name="officer")], clock=clock)

    # Mid-leave (and after a restart), an admin makes another role the on-leave role.
    changed = await h2.slash(
        "settings role", member=ADMIN_M, guild_id=GUILD, kind="on-leave", role=role_opt(QUOTA_ROLE)
    )
    assert changed.ephemeral and "is set as the on-leave role" in changed.content, changed
    clock.set(WED + timedelta(hours=1))
    await h2.bot.services.leave_worker.run_once()
    assert role_changes(h2, OFFICER, QUOTA_ROLE, "PUT") == []  # not given to who is already on leave

    clock.set(datetime(2025, 1, 18, 0, 1, tzinfo=UTC))
    await h2.bot.services.leave_worker.run_once()
    await h2.bot.services.leave_worker.run_once()
    assert len(role_changes(h2, OFFICER, LEAVE_ROLE, "DELETE")) == 1
    assert role_changes(h2, OFFICER, QUOTA_ROLE, "DELETE") == []


async def test_decision_buttons_work_after_restart_and_recheck_supervisor_every_press(start_bot, sandbox):
    clock = Clock(WED)
    h = await boot_duty_guild(start_bot, sandbox, [OFFICER_M, OTHER_M], clock=clock)
    await request(h, start="2025-01-20", end="2025-01-21")
    message = decision_message(h)
    await h.bot.close()

    h2 = await boot_duty_guild(start_bot, sandbox, [OFFICER_M, OTHER_M], clock=clock)
    refused = await h2.click(ids(message)["approve"], message=message, member=OTHER_M)
    assert refused.ephemeral and "supervisor role" in refused.content
    [leave] = await h2.bot.leave.listed(GUILD)
    assert leave.status == "pending"

    # A supervisor who lost the role is refused too: the role is read at the press.
    demoted = builders.member(SUPERVISOR, permissions=MEMBER_PERMS, username="sergeant", roles=[])
    assert "supervisor role" in (await h2.click(ids(message)["deny"], message=message, member=demoted)).content

    denied = await h2.click(ids(message)["deny"], message=message, member=SUPERVISOR_M)
    assert denied.callback_type == 7 and "Denied by" in str(denied.embeds[0]["fields"])
    assert await h2.bot.leave.listed(GUILD) == []
    assert role_changes(h2, OFFICER, LEAVE_ROLE, "PUT") == []


async def test_requester_cannot_approve_own_leave_even_as_supervisor(start_bot, sandbox):
    h = await boot_duty_guild(start_bot, sandbox, clock=Clock(WED))
    await request(h, member=SUPERVISOR_M)
    message = decision_message(h)
    refused = await h.click(ids(message)["approve"], message=message, member=SUPERVISOR_M)
    assert refused.ephemeral and "your own leave" in refused.content
    assert (await h.bot.leave.listed(GUILD))[0].status == "pending"


async def test_request_without_reports_channel_is_posted_where_the_command_ran(start_bot, sandbox):
    h = await boot_duty_guild(start_bot, sandbox, [OFFICER_M], clock=Clock(WED), reports_channel=None)
    asked = await request(h, start="tomorrow", end="tomorrow")
    assert not asked.ephemeral and {"approve", "deny"} <= set(ids({"components": asked.components}))
    assert asked.request.json["data"]["allowed_mentions"] == {"parse": []}
    approved = await h.click(ids({"components": asked.components})["approve"], message=asked, member=SUPERVISOR_M)
    assert approved.callback_type == 7
    await approved.followup()
    # Tomorrow: not on leave yet, so no role yet; the worker gives it when the day starts.
    assert role_changes(h, OFFICER, LEAVE_ROLE, "PUT") == []
    h.bot.leave.clock.set(WED + timedelta(days=1))
    assert await h.bot.services.leave_worker.run_once() == 1
    assert len(role_changes(h, OFFICER, LEAVE_ROLE, "PUT")) == 1


async def test_bad_leave_requests_are_explained_and_store_nothing(start_bot, sandbox):
    h = await boot_duty_guild(start_bot, sandbox, [OFFICER_M], clock=Clock(WED))
    cases = [
        ({"start": "2025-01-20", "end": "2025-01-19"}, "is before the start"),
        ({"start": "2025-01-14", "end": "2025-01-19"}, "in the past"),
        ({"start": "next week", "end": "2025-01-19"}, "YYYY-MM-DD"),
        ({"start": "today", "end": "2025-12-31"}, "at most 180 days"),
        ({"start": "today", "end": "today", "reason": "   "}, "Give a reason"),
    ]
    for options, expected in cases:
        reply = await request(h, **options)
        assert reply.ephemeral and expected in reply.content, (options, reply.content)
    assert await h.bot.leave.listed(GUILD) == []
    assert posts_to(h, REPORTS_CH) == []

    await request(h, start="2025-01-20", end="2025-01-22")
    overlap = await request(h, start="2025-01-22", end="2025-01-25")
    assert "overlapping" in overlap.content and len(await h.bot.leave.listed(GUILD)) == 1


async def test_leave_blocks_going_on_duty_only_when_the_server_says_so_and_end_lifts_it(start_bot, sandbox):
    clock = Clock(datetime.now(UTC))  # shifts start at real time
    h = await boot_duty_guild(start_bot, sandbox, [OFFICER_M], clock=clock)
    await request(h, end="tomorrow")
    message = decision_message(h)
    await approve(h, message)

    await h.bot.settings.set_shifts(GUILD, ADMIN, leave_blocks_duty=True)
    refused = await h.slash("shift start", member=OFFICER_M, guild_id=GUILD)
    assert refused.ephemeral and "approved leave" in refused.content and "/loa end" in refused.content
    assert await h.bot.shifts.open_shift(GUILD, OFFICER) is None

    ended = await h.slash("loa end", member=OFFICER_M, guild_id=GUILD)
    assert ended.ephemeral and "has ended" in ended.content
    assert len(role_changes(h, OFFICER, LEAVE_ROLE, "DELETE")) == 1
    assert any("ended the leave" in r.json["content"] for r in posts_to(h, LOG_CH))
    started = await h.slash("shift start", member=OFFICER_M, guild_id=GUILD)
    assert "You are on duty since" in started.content


async def test_leave_does_not_block_duty_by_default(start_bot, sandbox):
    h = await boot_duty_guild(start_bot, sandbox, [OFFICER_M], clock=Clock(datetime.now(UTC)))
    await request(h, end="tomorrow")
    message = decision_message(h)
    await approve(h, message)
    started = await h.slash("shift start", member=OFFICER_M, guild_id=GUILD)
    assert "You are on duty since" in started.content


async def test_only_a_supervisor_ends_someone_elses_leave(start_bot, sandbox):
    h = await boot_duty_guild(start_bot, sandbox, [OFFICER_M, OTHER_M], clock=Clock(WED))
    await request(h)
    message = decision_message(h)
    await approve(h, message)
    refused = await h.slash("loa end", member=OTHER_M, guild_id=GUILD, options={"member": member_opt(OFFICER_M)})
    assert refused.ephemeral and "supervisor role" in refused.content
    assert (await h.bot.leave.listed(GUILD))[0].end_ms > to_ms(WED)
    ended = await h.slash("loa end", member=SUPERVISOR_M, guild_id=GUILD, options={"member": member_opt(OFFICER_M)})
    assert "has ended" in ended.content and await h.bot.leave.listed(GUILD) == []
    nothing = await h.slash("loa end", member=OFFICER_M, guild_id=GUILD)
    assert "no current or upcoming approved leave" in nothing.content


async def test_loa_list_is_paginated_and_guilds_are_isolated(start_bot, sandbox):
    clock = Clock(WED)
    members = [member_m(900000000000000000 + i) for i in range(20)]
    h = await boot_duty_guild(start_bot, sandbox, members, clock=clock)
    await boot_duty_guild(start_bot, sandbox, [OFFICER_M], clock=clock, guild_id=OTHER_GUILD, harness=h, linked=False)
    for m in members:
        leave = await h.bot.leave.request(GUILD, int(m["user"]["id"]), "2025-01-20", "2025-01-21", "exams")
        await h.bot.leave.decide(GUILD, leave.id, SUPERVISOR, approve=True)
    await h.bot.leave.request(OTHER_GUILD, OFFICER, "today", "today", "away")

    first = await h.slash("loa list", member=OFFICER_M, guild_id=GUILD)
    assert "Page 1 of 2 · 20 in all" in first.embeds[0]["footer"]["text"]
    assert f"<@{OFFICER}>" not in first.embeds[0]["description"]
    next_id = next(c for c in first.custom_ids if c.endswith(":next"))
    await h.bot.close()
    h2 = await boot_duty_guild(start_bot, sandbox, members, clock=clock)
    second = await h2.click(next_id, message=first, member=OFFICER_M)
    assert "Page 2 of 2" in second.embeds[0]["footer"]["text"]
    assert len(re.findall("📅 upcoming", second.embeds[0]["description"])) == 5

    h2.add_guild(OTHER_GUILD, name="Other RP", owner_id=ADMIN, members=[OFFICER_M])
    other = await h2.slash("loa list", member=OFFICER_M, guild_id=OTHER_GUILD)
    assert "1 in all" in other.embeds[0]["footer"]["text"] and "⏳ pending" in other.embeds[0]["description"]


async def test_member_on_approved_leave_is_exempt_in_activity_report(start_bot, sandbox):
    clock = Clock(WED)
    officer = member_m(OFFICER, QUOTA_ROLE)
    h = await boot_duty_guild(start_bot, sandbox, [officer, member_m(OTHER, QUOTA_ROLE)], clock=clock)
    await request(h, member=officer, start="2025-01-16", end="2025-01-16")
    message = decision_message(h)
    await approve(h, message)
    report = await h.slash("shift activity", member=SUPERVISOR_M, guild_id=GUILD)
    text = report.embeds[0]["description"]
    assert f"<@{OFFICER}>: 0 min of 2 h — 🌴 on leave" in text and f"<@{OTHER}>: 0 min of 2 h — ❌ not met" in text


async def test_overlapping_requests_sent_at_once_store_one_leave_and_the_others_are_told(start_bot, sandbox):
    clock = Clock(WED)
    h = await boot_duty_guild(start_bot, sandbox, [OFFICER_M], clock=clock)

    answers = await asyncio.gather(
        request(h, start="2025-01-20", end="2025-01-24"),
        request(h, start="2025-01-20", end="2025-01-24"),
        request(h, start="2025-01-22", end="2025-01-26"),
    )

    asked = [a for a in answers if f"<#{REPORTS_CH}>" in a.content]
    told = [a for a in answers if "already have a pending leave overlapping" in a.content]
    assert (len(asked), len(told)) == (1, 2), [a.content for a in answers]
    assert len(await h.bot.leave.listed(GUILD)) == 1
    assert len([r for r in posts_to(h, REPORTS_CH) if (r.json or {}).get("components")]) == 1
