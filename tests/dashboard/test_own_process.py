"""`northca-bot web`: the dashboard in its own process over the bot's database. A setting changed there reaches
the bot process at once: its cache, `/settings show`, and the shift-log line it posts in Discord."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from bot.core.rosters.records import TemplateDraft
from bot.web.dashboard.process import DashboardProcess
from tests.dashboard.conftest import ARTIFACTS, CLIENT_ID, CLIENT_SECRET, DashboardRig
from tests.dashboard.helpers import A_LOG, COUNTY, add_servers
from tests.harness import FakeOAuth
from tests.helpers.bot import make_config
from tests.helpers.clock import Clock
from tests.helpers.duty_ui import LEAVE_ROLE, boot_duty_guild
from tests.helpers.ids import ADMIN, ADMIN_M, GUILD, LOG_CH, OFFICER, OFFICER_M
from tests.helpers.posts import log_line, posts_to, role_changes
from tests.helpers.settings import admin, log_posts

WED = datetime(2025, 1, 15, 10, tzinfo=UTC)  # a Wednesday
H = timedelta(hours=1)


async def test_a_change_in_the_dashboard_process_shows_in_the_bot_process_at_once(
    start_bot, sandbox, db_path, fake_discord
) -> None:
    h = await start_bot(shifts={"sync_interval_seconds": 0.05})
    add_servers(h)
    await admin(h, "settings shifts", guild_id=COUNTY, max_hours=10)
    config = make_config(sandbox, db_path, web={"port": 0, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
    process = DashboardProcess(config, discord_api_base=fake_discord.base_url)
    await process.start()
    oauth = FakeOAuth(fake_discord, h.bot)
    try:
        oauth.add_client(CLIENT_ID, CLIENT_SECRET, f"{process.base_url}/dashboard/auth/callback")
        rig = DashboardRig(h, oauth, process.base_url, ARTIFACTS / "own-process")
        browser = await rig.client(ADMIN)
        # The dashboard's process read the bot's change (its own settings, from the database).
        async with browser.get(rig.url(f"/g/{COUNTY}/settings")) as response:
            assert 'value="10"' in await response.text()
        csrf = await rig.csrf(browser)
        for form in (
            {"action": "channel", "kind": "shift-log", "channel": str(A_LOG)},
            {"action": "shifts", "max_hours": "6", "timezone": "UTC", "week_start": "monday", "off_duty": "prompt"},
        ):
            async with browser.post(rig.url(f"/g/{COUNTY}/settings"), data={**form, "csrf": csrf}) as response:
                assert (response.status == 200 and "saved" in str(response.url)) or "now" in str(response.url)
        line = await log_posts(h, A_LOG, "changed the settings: .*Maximum shift length")
        assert "10 h → 6 h" in line["content"] and f"<@{ADMIN}>" in line["content"]
        assert h.bot.settings.get(COUNTY).max_shift_hours == 6
        shown = {f["name"]: f["value"] for f in (await admin(h, "settings show", guild_id=COUNTY)).embeds[0]["fields"]}
        assert shown["Maximum shift length"] == "6 h"
        assert shown["Shift-log channel"] == f"<#{A_LOG}>"
        # Taken once: nothing left for another process to post again.
        await asyncio.sleep(1.5)
        assert await h.bot.services.notices.take(None) == []
        posted = h.fake.find("POST", rf"^/channels/{A_LOG}/messages$")
        assert len([r for r in posted if "Maximum shift length" in r.json["content"]]) == 1
        for session in rig.clients:
            await session.close()
    finally:
        oauth.close()
        await process.stop()


async def test_time_edits_a_void_a_leave_and_a_roster_assignment_in_the_dashboard_process_post_once_in_the_bot(
    start_bot, sandbox, db_path, fake_discord
) -> None:
    """Each admin change made in `northca-bot web` reaches the bot process through the database: its shift-log
    line posted there once, and the leave's on-leave role given once (now: the leave has started)."""
    clock = Clock(WED)
    h = await boot_duty_guild(start_bot, sandbox, [ADMIN_M, OFFICER_M], clock=clock)
    shifts = h.bot.shifts
    await shifts.start(GUILD, OFFICER, display_name="officer", at=WED - 3 * H)
    shift_id = str((await shifts.end(GUILD, OFFICER, at=WED - 2 * H)).id)
    asked = await h.slash("loa request", member=OFFICER_M, guild_id=GUILD, start="today", end="2025-01-17",
                          reason="family visit")  # fmt: skip
    assert asked.ephemeral
    [leave] = await h.bot.leave.listed(GUILD)
    template = await h.bot.rosters.create(GUILD, ADMIN, TemplateDraft("Morning patrol", None, 8 * 60, 240))
    config = make_config(sandbox, db_path, web={"port": 0, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
    process = DashboardProcess(config, discord_api_base=fake_discord.base_url, clock=clock)
    await process.start()
    oauth = FakeOAuth(fake_discord, h.bot)
    try:
        oauth.add_client(CLIENT_ID, CLIENT_SECRET, f"{process.base_url}/dashboard/auth/callback")
        oauth.add_user(ADMIN, "admin")
        rig = DashboardRig(h, oauth, process.base_url, ARTIFACTS / "own-process-changes")
        browser = await rig.client(ADMIN)
        csrf = await rig.csrf(browser, f"/g/{GUILD}/shifts")
        since = len(h.fake.requests)
        for path, form in (
            ("shifts/adjust", {"kind": "add", "member": str(OFFICER), "duration": "2h", "reason": "court appearance"}),
            ("shifts/void", {"shift": shift_id, "reason": "duplicate of another shift"}),
            ("leave/decide", {"decision": "approve", "leave": leave.id}),
            ("rosters/assign", {"template": str(template.id), "member": str(OFFICER)}),
        ):
            async with browser.post(rig.url(f"/g/{GUILD}/{path}"), data={**form, "csrf": csrf}) as response:
                text = await response.text()
                assert response.status == 200 and "done=" in str(response.url), (path, text[:400])
        # Posted by the bot process (the dashboard's has no Discord front door), with who did it.
        added = await log_line(h, r"added 2 h.*court appearance", since)
        voided = await log_line(h, r"voided .*duplicate of another shift", since)
        decided = await log_line(h, rf"<@{ADMIN}> approved the leave of <@{OFFICER}>.*on the dashboard", since)
        assigned = await log_line(h, rf"assigned <@{OFFICER}> to \*\*Morning patrol\*\* on the dashboard", since)
        assert all("on the dashboard" in line for line in (added, voided, decided, assigned))
        await h.fake.wait_for(
            lambda r: True, method="PUT", path=rf"^/guilds/{GUILD}/members/{OFFICER}/roles/{LEAVE_ROLE}$"
        )
        # Each once: taken by one bot process, and nothing left for another to post again.
        await asyncio.sleep(2.5)
        assert await h.bot.services.notices.take(None) == []
        lines = [r.json["content"] for r in posts_to(h, LOG_CH, since) if "on the dashboard" in r.json["content"]]
        assert sorted(lines) == sorted([added, voided, decided, assigned]), lines
        assert len(role_changes(h, OFFICER, LEAVE_ROLE, "PUT")) == 1
        assert role_changes(h, OFFICER, LEAVE_ROLE, "DELETE") == []
        for session in rig.clients:
            await session.close()
    finally:
        oauth.close()
        await process.stop()
