"""Dates as people mean them, through the harness: a day typed as a day is shown as that day
of the server's calendar, inclusive, in plain text ("15–17 Jan 2025, 3 days"), never as a Discord timestamp of
its midnight (which every reader west of the server sees a day early); the same for activity report periods."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime

from bot.core.timefmt import to_ms
from bot.discord.discord_text import day_range_text, span_days_text
from tests.helpers.clock import Clock
from tests.helpers.duty_ui import QUOTA_ROLE, boot_duty_guild
from tests.helpers.ids import ADMIN, GUILD, OFFICER, OFFICER_M, REPORTS_CH, SUPERVISOR_M, member_m
from tests.helpers.posts import description, posts_to

# Wednesday 2025-01-15 10:00 UTC: 05:00 the same day in New York.
WED = datetime(2025, 1, 15, 10, tzinfo=UTC)
TIMESTAMP = re.compile(r"<t:\d+")


def test_day_ranges_read_as_people_write_them():
    assert day_range_text(date(2025, 1, 15), date(2025, 1, 17)) == "15–17 Jan 2025, 3 days"
    assert day_range_text(date(2025, 1, 15), date(2025, 1, 15)) == "15 Jan 2025, 1 day"
    assert day_range_text(date(2025, 1, 30), date(2025, 2, 2)) == "30 Jan – 2 Feb 2025, 4 days"
    assert day_range_text(date(2024, 12, 30), date(2025, 1, 2)) == "30 Dec 2024 – 2 Jan 2025, 4 days"
    # [local midnight, local midnight) in the zone it was cut in: the days it covers, not one more.
    start = to_ms(datetime(2025, 1, 15, 5, tzinfo=UTC))  # midnight in New York
    end = to_ms(datetime(2025, 1, 18, 5, tzinfo=UTC))
    assert span_days_text(start, end, "America/New_York") == "15–17 Jan 2025, 3 days"


async def test_leave_dates_are_the_days_asked_for_in_the_servers_zone_not_midnight_timestamps(start_bot, sandbox):
    h = await boot_duty_guild(start_bot, sandbox, [OFFICER_M], clock=Clock(WED))
    await h.bot.settings.set_shifts(GUILD, ADMIN, timezone="America/New_York")
    asked = await h.slash(
        "loa request", member=OFFICER_M, guild_id=GUILD, start="2025-01-15", end="2025-01-17", reason="family visit"
    )
    assert "(15–17 Jan 2025, 3 days)" in (await asked.final()).content

    [posted] = [r for r in posts_to(h, REPORTS_CH) if (r.json or {}).get("components")]
    dates = {f["name"]: f["value"] for f in posted.json["embeds"][0]["fields"]}["Dates"]
    assert dates == "15–17 Jan 2025, 3 days"
    assert not TIMESTAMP.search(str(posted.json["embeds"][0]["fields"]))

    listed = await (await h.slash("loa list", member=OFFICER_M, guild_id=GUILD)).final()
    text = listed.embeds[0]["description"]
    assert f"<@{OFFICER}>: 15–17 Jan 2025, 3 days — ⏳ pending" in text
    assert not TIMESTAMP.search(text)


async def test_activity_report_period_is_its_days_in_the_servers_zone(start_bot, sandbox):
    # Monday 2025-01-13 12:00 UTC; weeks start on Monday in Chicago.
    clock = Clock(datetime(2025, 1, 13, 12, tzinfo=UTC))
    h = await boot_duty_guild(start_bot, sandbox, [member_m(OFFICER, QUOTA_ROLE)], clock=clock)
    await h.bot.settings.set_shifts(GUILD, ADMIN, timezone="America/Chicago")
    reply = await (await h.slash("shift activity", member=SUPERVISOR_M, guild_id=GUILD)).final()
    first_line = reply.embeds[0]["description"].split("\n")[0]
    assert first_line == "13–19 Jan 2025, 7 days"

    # The scheduled report of the week that ended names its days too, not a timestamp of its start.
    clock.set(datetime(2025, 1, 20, 8, tzinfo=UTC))  # 02:00 on Monday in Chicago
    assert await h.bot.services.activity_reports.run_once() == [GUILD]
    [report] = posts_to(h, REPORTS_CH)
    assert description(report).startswith("13–19 Jan 2025, 7 days")
    embed = report.json["embeds"][0]
    assert embed["footer"]["text"].endswith(" · activity period 13–19 Jan 2025, 7 days")
    assert "timestamp" not in embed
