"""`northca-bot web`: the dashboard in its own process over the bot's database. A setting changed there reaches
the bot process at once: its cache, `/settings show`, and the shift-log line it posts in Discord."""

from __future__ import annotations

import asyncio

from bot.dashboard.process import DashboardProcess
from tests.dashboard.conftest import ARTIFACTS, CLIENT_ID, CLIENT_SECRET, DashboardRig
from tests.dashboard.helpers import A_LOG, COUNTY, add_servers
from tests.harness import FakeOAuth
from tests.helpers import ADMIN, make_config
from tests.settings_helpers import admin, log_posts


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
        assert shown["Maximum shift length · changed"] == "6 h"
        assert shown["Shift-log channel · changed"] == f"<#{A_LOG}>"
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
