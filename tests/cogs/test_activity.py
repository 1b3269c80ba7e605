"""/settings activity | quota | roster, /shift activity and the scheduled activity report, through the harness:
real bot, fake Discord, sandbox, a real SQLite file, a clock the test moves."""

from __future__ import annotations

import asyncio
import contextlib
import re
from datetime import UTC, datetime, timedelta

from bot.core.duty.service import REPORT_LEASE_MS
from bot.core.rosters import TemplateDraft, parse_days
from bot.core.settings import ChannelFacts, RoleFacts
from bot.core.timefmt import to_ms
from tests.harness import Harness, Hold
from tests.helpers.clock import Clock
from tests.helpers.duty_ui import BIG_QUOTA_ROLE, OTHER_REPORTS_CH, QUOTA_ROLE, boot_duty_guild, role_opt
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
    SUPERVISOR_M,
    SUPERVISOR_ROLE,
    THIRD,
    member_m,
)
from tests.helpers.posts import description, posts_to
from tests.helpers.waiting import until

# Monday 2025-01-13 00:00 UTC: a weekly period boundary (weeks start on Monday, UTC).
BOUNDARY = datetime(2025, 1, 13, tzinfo=UTC)
H = timedelta(hours=1)


async def worked(h, member_id: int, start: datetime, end: datetime, guild_id: int = GUILD) -> None:
    await h.bot.shifts.start(guild_id, member_id, display_name=f"m{member_id}", at=start)
    await h.bot.shifts.end(guild_id, member_id, at=end)


async def test_period_report_is_posted_once_across_restart_with_the_boundary_shift_split(start_bot, sandbox):
    clock = Clock(BOUNDARY + 2 * H)
    members = [member_m(OFFICER, QUOTA_ROLE), member_m(OTHER, QUOTA_ROLE)]
    h = await boot_duty_guild(start_bot, sandbox, members, clock=clock)
    # 22:00 Sunday to 01:00 Monday: 2 h in the week that ended, 1 h in the next.
    await worked(h, OFFICER, BOUNDARY - 2 * H, BOUNDARY + H)
    await h.bot.shifts.drain()

    assert await h.bot.services.activity_reports.run_once() == [GUILD]
    [report] = posts_to(h, REPORTS_CH)
    text = description(report)
    assert f"<@{OFFICER}>: 2 h of 2 h — ✅ met" in text
    assert f"<@{OTHER}>: 0 min of 2 h — ❌ not met" in text
    next_end = to_ms(BOUNDARY + timedelta(days=7)) // 1000
    assert report.json["content"].startswith("📊 **Activity report**: 1 of 2 members met their quota, 1 did not.")
    assert f"<t:{next_end}:R>" in report.json["content"]
    assert report.json["allowed_mentions"] == {"parse": []}
    assert await h.bot.services.activity_reports.run_once() == []

    await h.bot.close()  # a restart on the same database
    h2 = await boot_duty_guild(start_bot, sandbox, members, clock=clock)
    assert await h2.bot.services.activity_reports.run_once() == []
    assert len(posts_to(h2, REPORTS_CH)) == 1

    # The bot was down at the next boundary: the report is posted late, once, with the other hour.
    clock.set(BOUNDARY + timedelta(days=7, hours=5))
    assert await h2.bot.services.activity_reports.run_once() == [GUILD]
    assert await h2.bot.services.activity_reports.run_once() == []
    later = posts_to(h2, REPORTS_CH)
    assert len(later) == 2
    assert f"<@{OFFICER}>: 1 h of 2 h — ❌ not met" in description(later[1])


async def test_reports_of_two_guilds_are_separate(start_bot, sandbox):
    clock = Clock(BOUNDARY + 2 * H)
    h = await boot_duty_guild(start_bot, sandbox, [member_m(OFFICER, QUOTA_ROLE)], clock=clock)
    await boot_duty_guild(
        start_bot, sandbox, [member_m(OTHER, QUOTA_ROLE)], guild_id=OTHER_GUILD, harness=h, linked=False
    )
    await worked(h, OFFICER, BOUNDARY - 5 * H, BOUNDARY - 4 * H)
    assert sorted(await h.bot.services.activity_reports.run_once()) == sorted([GUILD, OTHER_GUILD])
    [a] = posts_to(h, REPORTS_CH)
    [b] = posts_to(h, OTHER_REPORTS_CH)
    assert f"<@{OFFICER}>: 1 h" in description(a) and str(OTHER) not in description(a)
    assert f"<@{OTHER}>: 0 min" in description(b) and str(OFFICER) not in description(b)


async def test_report_due_before_its_guild_is_cached_is_posted_once_the_guild_arrives(start_bot, sandbox):
    # At start the scheduled round runs before the gateway has sent the guilds: a guild with its report due but
    # not cached yet must not have its report claimed (and held back for the claim's lease) by a post that fails.
    clock = Clock(BOUNDARY + 2 * H)
    h = await boot_duty_guild(start_bot, sandbox, [member_m(OFFICER, QUOTA_ROLE)], clock=clock)
    await h.bot.settings.set_channel(OTHER_GUILD, ADMIN, "reports", ChannelFacts(OTHER_REPORTS_CH, "reports"))
    await h.bot.settings.set_role_quota(OTHER_GUILD, ADMIN, RoleFacts(QUOTA_ROLE, "quota"), 2.0)
    assert await h.bot.services.activity_reports.run_once() == [GUILD]  # OTHER_GUILD: no GUILD_CREATE yet
    assert posts_to(h, OTHER_REPORTS_CH) == []

    # Its GUILD_CREATE arrives: the next round posts its report, once.
    await boot_duty_guild(
        start_bot, sandbox, [member_m(OTHER, QUOTA_ROLE)], guild_id=OTHER_GUILD, harness=h, linked=False
    )
    assert await h.bot.services.activity_reports.run_once() == [OTHER_GUILD]
    assert await h.bot.services.activity_reports.run_once() == []
    [report] = posts_to(h, OTHER_REPORTS_CH)
    assert f"<@{OTHER}>: 0 min of 2 h" in description(report)


async def test_shift_activity_shows_highest_quota_leave_and_open_shift_to_supervisors(start_bot, sandbox):
    clock = Clock(BOUNDARY + 30 * H)
    members = [
        member_m(OFFICER, QUOTA_ROLE, BIG_QUOTA_ROLE),
        member_m(OTHER, QUOTA_ROLE),
        member_m(THIRD, QUOTA_ROLE),
        member_m(999, name="nobody"),
    ]
    h = await boot_duty_guild(
        start_bot, sandbox, members, clock=clock, quotas=[(QUOTA_ROLE, 2.0), (BIG_QUOTA_ROLE, 5.0)]
    )
    await worked(h, OFFICER, BOUNDARY + 1 * H, BOUNDARY + 4 * H)
    await worked(h, OTHER, BOUNDARY + 25 * H, BOUNDARY + 28 * H)
    leave = await h.bot.leave.request(GUILD, THIRD, "2025-01-14", "2025-01-15", "family")
    await h.bot.leave.decide(GUILD, leave.id, ADMIN, approve=True)

    reply = await h.slash("shift activity", member=SUPERVISOR_M, guild_id=GUILD)
    assert reply.ephemeral
    text = reply.embeds[0]["description"]
    assert f"<@{OFFICER}>: 3 h of 5 h — ❌ not met" in text
    assert f"<@{OTHER}>: 3 h of 2 h — ✅ met" in text
    assert f"<@{THIRD}>: 0 min of 2 h — 🌴 on leave" in text
    assert "<@999>" not in text

    only_big = await h.slash("shift activity", member=SUPERVISOR_M, guild_id=GUILD, role=role_opt(BIG_QUOTA_ROLE))
    assert f"<@{OFFICER}>" in only_big.embeds[0]["description"]
    assert f"<@{OTHER}>" not in only_big.embeds[0]["description"]

    refused = await h.slash("shift activity", member=OFFICER_M, guild_id=GUILD)
    assert refused.ephemeral and "supervisor role" in refused.content


async def test_shift_activity_counts_an_open_shift_up_to_now_and_marks_it(start_bot, sandbox):
    clock = Clock()
    h = await boot_duty_guild(start_bot, sandbox, [member_m(OFFICER, QUOTA_ROLE)], clock=clock)
    await h.bot.shifts.start(GUILD, OFFICER, display_name="officer")
    clock.ms += 90_000
    reply = await h.slash("shift activity", member=SUPERVISOR_M, guild_id=GUILD)
    assert "· on duty now" in reply.embeds[0]["description"]


async def test_long_activity_report_is_paginated_and_pages_recheck_supervisor_after_restart(start_bot, sandbox):
    clock = Clock(BOUNDARY + 2 * H)
    members = [member_m(900000000000000000 + i, QUOTA_ROLE) for i in range(45)]
    h = await boot_duty_guild(start_bot, sandbox, members, clock=clock)
    reply = await h.slash("shift activity", member=SUPERVISOR_M, guild_id=GUILD)
    assert "Page 1 of 3" in reply.embeds[0]["footer"]["text"]
    next_id = next(c for c in reply.custom_ids if c.endswith(":next"))

    await h.bot.close()
    h2 = await boot_duty_guild(start_bot, sandbox, members, clock=clock)
    refused = await h2.click(next_id, message=reply, member=OFFICER_M)
    assert refused.ephemeral and "supervisor role" in refused.content
    page2 = await h2.click(next_id, message=reply, member=SUPERVISOR_M)
    assert "Page 2 of 3" in page2.embeds[0]["footer"]["text"]


async def test_settings_activity_and_quota_are_saved_audited_and_need_manage_server(start_bot, sandbox):
    clock = Clock(BOUNDARY + 2 * H)
    h = await boot_duty_guild(start_bot, sandbox, clock=clock, quotas=[])
    refused = await h.slash("settings activity", member=SUPERVISOR_M, guild_id=GUILD, period="monthly")
    assert refused.ephemeral and "Manage Server" in refused.content
    assert h.bot.settings.get(GUILD).activity_period == "weekly"

    saved = await h.slash("settings activity", member=ADMIN_M, guild_id=GUILD, period="monthly", leave_blocks_duty=True)
    assert saved.ephemeral and "**monthly**" in saved.content and "on duty: **yes**" in saved.content
    assert h.bot.settings.get(GUILD).activity_period == "monthly" and h.bot.settings.get(GUILD).leave_blocks_duty

    quota = await h.slash("settings quota", member=ADMIN_M, guild_id=GUILD, role=role_opt(QUOTA_ROLE), hours=7.5)
    assert f"<@&{QUOTA_ROLE}>: 7.5 h" in quota.content
    assert h.bot.settings.get(GUILD).role_quotas == ((QUOTA_ROLE, 7.5),)
    both = await h.slash(
        "settings quota", member=ADMIN_M, guild_id=GUILD, role=role_opt(QUOTA_ROLE), hours=1.0, remove=True
    )
    assert "not both" in both.content and h.bot.settings.get(GUILD).role_quotas == ((QUOTA_ROLE, 7.5),)
    removed = await h.slash("settings quota", member=ADMIN_M, guild_id=GUILD, role=role_opt(QUOTA_ROLE), remove=True)
    assert "Role quotas: none" in removed.content and h.bot.settings.get(GUILD).role_quotas == ()

    audit, _ = await h.bot.settings.history(GUILD, limit=10)
    assert {e.key for e in audit} >= {"activity_period", "leave_blocks_duty", "role_quotas"}
    assert all(e.actor_id == ADMIN for e in audit if e.key == "role_quotas")
    await until(lambda: sum("**Role quotas**" in r.json["content"] for r in posts_to(h, LOG_CH)) == 2, 10, "lines")
    log_lines = [r.json["content"] for r in posts_to(h, LOG_CH)]
    # One line per change (not one from /settings and another from the old command).
    assert sum("**Activity period**: weekly → monthly" in line for line in log_lines) == 1
    assert not any("changed the activity settings" in line for line in log_lines)


async def test_settings_roster_sets_the_reminder_lead_time_like_roster_reminders(start_bot, sandbox):
    h = await boot_duty_guild(start_bot, sandbox, clock=Clock(BOUNDARY), quotas=[])
    refused = await h.slash("settings roster", member=SUPERVISOR_M, guild_id=GUILD, reminder_minutes=60)
    assert refused.ephemeral and "Manage Server" in refused.content

    saved = await h.slash("settings roster", member=ADMIN_M, guild_id=GUILD, reminder_minutes=45)

    assert saved.ephemeral and "45 minutes" in saved.content
    assert h.bot.settings.get(GUILD).roster_reminder_minutes == 45
    [entry], _ = await h.bot.settings.history(GUILD, limit=1)
    assert (entry.key, entry.old, entry.new, entry.actor_id) == ("roster.reminder_minutes", 30, 45, ADMIN)


async def test_long_scheduled_report_is_split_over_messages_within_discords_limits(start_bot, sandbox):
    clock = Clock(BOUNDARY + 2 * H)
    members = [member_m(900000000000000000 + i, QUOTA_ROLE) for i in range(45)]
    h = await boot_duty_guild(start_bot, sandbox, members, clock=clock)
    assert await h.bot.services.activity_reports.run_once() == [GUILD]
    posted = posts_to(h, REPORTS_CH)
    assert len(posted) == 3  # 20 + 20 + 5 members, each message accepted by the fake's limit checks
    assert sum(description(p).count("❌ not met") for p in posted) == 45
    # It opens with its summary, not with when the next period ends.
    assert posted[0].json["content"].startswith("📊 **Activity report**: 0 of 45 members met their quota, 45 did not.")


async def test_shift_activity_survives_reloading_the_activity_cog(start_bot, sandbox):
    h = await boot_duty_guild(start_bot, sandbox, [member_m(OFFICER, QUOTA_ROLE)], clock=Clock(BOUNDARY + 2 * H))
    await h.bot.reload_extension("cogs.activity")
    reply = await h.slash("shift activity", member=SUPERVISOR_M, guild_id=GUILD)
    assert f"<@{OFFICER}>: 0 min of 2 h" in reply.embeds[0]["description"]


async def test_roster_attendance_counts_appear_in_the_scheduled_report_and_shift_activity(start_bot, sandbox):
    clock = Clock(BOUNDARY + 2 * H)
    members = [member_m(OFFICER, QUOTA_ROLE), member_m(OTHER, QUOTA_ROLE), member_m(THIRD)]
    h = await boot_duty_guild(start_bot, sandbox, members, clock=clock)
    # Wednesday 10:00-11:00 UTC, scheduled for all three; in the week that just ended it ran on Jan 8.
    patrol = await h.bot.rosters.create(GUILD, ADMIN, TemplateDraft("Patrol", None, 600, 60, parse_days("wed")))
    for member_id in (OFFICER, OTHER, THIRD):
        await h.bot.rosters.assign(GUILD, ADMIN, patrol.id, "member", member_id)
    wednesday_10 = BOUNDARY - timedelta(days=5) + 10 * H
    await worked(h, OFFICER, wednesday_10, wednesday_10 + H)  # present
    await worked(h, THIRD, wednesday_10 + H / 2, wednesday_10 + H)  # late; THIRD has no quota role
    await h.bot.shifts.drain()

    assert await h.bot.services.activity_reports.run_once() == [GUILD]
    [report] = posts_to(h, REPORTS_CH)
    embed = report.json["embeds"][0]
    assert f"<@{OFFICER}>: 1 h of 2 h — ❌ not met · 📅 1 present" in embed["description"]
    assert f"<@{OTHER}>: 0 min of 2 h — ❌ not met · 📅 1 absent" in embed["description"]
    roster_only = next(f for f in embed["fields"] if f["name"] == "Roster attendance (no quota role)")
    assert roster_only["value"] == f"<@{THIRD}>: 📅 1 late"

    reply = await h.slash("shift activity", member=SUPERVISOR_M, guild_id=GUILD, period="last")
    assert f"<@{OTHER}>: 0 min of 2 h — ❌ not met · 📅 1 absent" in reply.embeds[0]["description"]
    # The current period has no finished scheduled shift yet: no counts.
    current = await h.slash("shift activity", member=SUPERVISOR_M, guild_id=GUILD)
    assert "📅" not in current.embeds[0]["description"]


async def test_roster_attendance_of_many_members_without_a_quota_role_fits_one_field(start_bot, sandbox):
    clock = Clock(BOUNDARY + 2 * H)
    cadets = [900000000000000000 + i for i in range(80)]
    h = await boot_duty_guild(start_bot, sandbox, [member_m(c, SUPERVISOR_ROLE) for c in cadets], clock=clock)
    patrol = await h.bot.rosters.create(GUILD, ADMIN, TemplateDraft("Patrol", None, 600, 60, parse_days("wed")))
    await h.bot.rosters.assign(GUILD, ADMIN, patrol.id, "role", SUPERVISOR_ROLE)

    assert await h.bot.services.activity_reports.run_once() == [GUILD]
    [report] = posts_to(h, REPORTS_CH)
    field = next(f for f in report.json["embeds"][0]["fields"] if f["name"].startswith("Roster attendance"))
    assert len(field["value"]) <= 1024
    assert f"<@{cadets[0]}>: 📅 1 absent" in field["value"]
    assert re.search(r"… and \d+ more: see /roster attendance$", field["value"])


# --- a report's claimer dies (exactly once across processes) ----------------------------------------------------

REPORT_POSTS = rf"^/channels/{REPORTS_CH}/messages$"
# Past the old ten-minute claim lease too: a claimer that does not look first posts the report again.
AFTER_ANY_LEASE_MS = 11 * 60 * 1000


async def killed_while_posting(h: Harness, held: Hold) -> None:
    """Runs a report round in the bot and kills it (cancelled, then closed: no code of it runs after) once the
    round's post of the report is held at the fake Discord."""
    round_ = asyncio.create_task(h.bot.services.activity_reports.run_once())
    await held.wait_arrived()
    round_.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await round_
    await h.bot.close()


async def report_row(h: Harness) -> tuple[int | None, int | None, int]:
    """(posted at, message id, claimed at) of GUILD's report of the week that ended at BOUNDARY."""
    [row] = await h.bot.db.execute_fetchall(
        "SELECT posted_at_ms, message_id, claimed_at_ms FROM activity_reports WHERE guild_id = ?", (GUILD,)
    )
    return row[0], row[1], int(row[2])


async def test_report_posted_by_a_process_killed_before_marking_it_is_not_posted_again_by_the_next_claimer(
    start_bot, sandbox
):
    clock = Clock(BOUNDARY + 2 * H)
    members = [member_m(OFFICER, QUOTA_ROLE)]
    h = await boot_duty_guild(start_bot, sandbox, members, clock=clock)
    # Discord creates the message; the process dies before it reads the answer, so before marking it posted.
    await killed_while_posting(h, h.fake.hold(REPORT_POSTS, method="POST", took_effect=True))
    [posted] = posts_to(h, REPORTS_CH)

    clock.ms += AFTER_ANY_LEASE_MS
    h2 = await boot_duty_guild(start_bot, sandbox, members, clock=clock)  # the next claimer, on the same database
    assert await h2.bot.services.activity_reports.run_once() == []
    assert posts_to(h2, REPORTS_CH) == [posted]  # not posted a second time
    assert h2.fake.find("GET", REPORT_POSTS), "the channel was looked at"
    posted_at, message_id, _ = await report_row(h2)
    assert posted_at is not None and message_id == int(posted.response["id"])
    clock.ms += AFTER_ANY_LEASE_MS
    assert await h2.bot.services.activity_reports.run_once() == []
    assert posts_to(h2, REPORTS_CH) == [posted]


async def test_report_partly_posted_by_a_killed_process_is_completed_with_only_its_missing_pages(start_bot, sandbox):
    clock = Clock(BOUNDARY + 2 * H)
    members = [member_m(900000000000000000 + i, QUOTA_ROLE) for i in range(45)]  # three pages
    h = await boot_duty_guild(start_bot, sandbox, members, clock=clock)
    # Page 1 posted and answered, page 2 posted with its answer lost: the process died there.
    await killed_while_posting(h, h.fake.hold(REPORT_POSTS, method="POST", took_effect=True, skip=1))
    assert len(posts_to(h, REPORTS_CH)) == 2

    clock.ms += AFTER_ANY_LEASE_MS
    h2 = await boot_duty_guild(start_bot, sandbox, members, clock=clock)
    assert await h2.bot.services.activity_reports.run_once() == [GUILD]
    posts = posts_to(h2, REPORTS_CH)
    footers = [p.json["embeds"][0]["footer"]["text"] for p in posts]
    assert [f.split(" · ")[0] for f in footers] == ["Page 1 of 3", "Page 2 of 3", "Page 3 of 3"]
    assert all(f.endswith(" · activity period 6–12 Jan 2025, 7 days") for f in footers)
    assert sum(description(p).count("❌ not met") for p in posts) == 45
    _, message_id, _ = await report_row(h2)
    assert message_id == int(posts[0].response["id"])


async def test_report_claimed_by_a_process_killed_before_posting_is_posted_by_another_within_the_lease(
    start_bot, sandbox
):
    clock = Clock(BOUNDARY + 2 * H)
    members = [member_m(OFFICER, QUOTA_ROLE)]
    h = await boot_duty_guild(start_bot, sandbox, members, clock=clock)
    # The process dies with its post out, before Discord has it.
    await killed_while_posting(h, h.fake.hold(REPORT_POSTS, method="POST"))
    assert posts_to(h, REPORTS_CH) == []

    h2 = await boot_duty_guild(start_bot, sandbox, members, clock=clock)
    claimed = clock.ms
    clock.ms = claimed + REPORT_LEASE_MS - 1
    assert await h2.bot.services.activity_reports.run_once() == []  # still the dead claimer's
    clock.ms = claimed + 60_000  # a minute after the dead claim, not ten
    assert await h2.bot.services.activity_reports.run_once() == [GUILD]
    [report] = posts_to(h2, REPORTS_CH)
    assert f"<@{OFFICER}>: 0 min of 2 h" in description(report)
    assert await h2.bot.services.activity_reports.run_once() == []


async def test_report_posted_slowly_is_not_taken_over_while_its_claimer_renews_the_claim(start_bot, sandbox):
    clock = Clock(BOUNDARY + 2 * H)
    members = [member_m(OFFICER, QUOTA_ROLE)]
    h = await boot_duty_guild(start_bot, sandbox, members, clock=clock)
    reporter = h.bot.services.activity_reports
    reporter.renew_seconds = 0.05
    slow = h.fake.hold(REPORT_POSTS, method="POST")  # Discord slow to take the post
    posting = asyncio.create_task(reporter.run_once())
    await slow.wait_arrived()

    h2 = await boot_duty_guild(start_bot, sandbox, members, clock=clock)  # a second process on the same database
    clock.ms += AFTER_ANY_LEASE_MS

    async def renewed() -> bool:  # the claimer renews its claim while it posts
        return (await report_row(h))[2] == clock.ms

    await until(renewed, 10.0, "the claim renewed")
    assert await h2.bot.services.activity_reports.run_once() == []

    slow.release()
    assert await posting == [GUILD]
    assert len(posts_to(h, REPORTS_CH)) == 1
    assert (await report_row(h2))[0] is not None


async def test_report_posted_late_by_a_stalled_claimer_after_its_takeover_is_not_doubled(start_bot, sandbox):
    clock = Clock(BOUNDARY + 2 * H)
    members = [member_m(OFFICER, QUOTA_ROLE)]
    h = await boot_duty_guild(start_bot, sandbox, members, clock=clock)
    stalled = h.bot.services.activity_reports
    stalled.renew_seconds = 3600.0  # its renewals do not get through (a stalled process, a database away)
    late = h.fake.hold(REPORT_POSTS, method="POST")  # and its post is held up on the way
    posting = asyncio.create_task(stalled.run_once())
    await late.wait_arrived()

    clock.ms += AFTER_ANY_LEASE_MS
    h2 = await boot_duty_guild(start_bot, sandbox, members, clock=clock)
    assert await h2.bot.services.activity_reports.run_once() == [GUILD]  # the claim ran out: taken over, posted
    late.release()  # the stalled claimer's post arrives after all: Discord returns the message its nonce made
    assert await posting == []
    in_channel = [msg for msg in h.fake.messages.values() if int(msg["channel_id"]) == REPORTS_CH]
    assert len(in_channel) == 1 and len(h.fake.find("POST", REPORT_POSTS)) == 2
    _, message_id, _ = await report_row(h2)
    assert message_id == int(in_channel[0]["id"])
