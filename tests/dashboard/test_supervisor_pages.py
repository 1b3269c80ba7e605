"""Supervisor-only pages follow the bot's supervisor rule (bot/supervisors.py): Manage Server or a supervisor role
of the server's settings, read at every request; the dashboard's own process sees a role removed with /settings
within its settings watcher's round."""

from __future__ import annotations

import asyncio

from bot.dashboard.process import DashboardProcess
from bot.dashboard.registry import PAGES
from tests.dashboard import supervisor_page
from tests.dashboard.conftest import ARTIFACTS, CLIENT_ID, CLIENT_SECRET, DashboardRig
from tests.dashboard.helpers import A_SERGEANTS, COUNTY, SERGEANT, add_servers
from tests.harness import FakeOAuth
from tests.helpers import ADMIN, OFFICER, make_config
from tests.settings_helpers import admin, role_opt


async def test_supervisor_pages_follow_the_bots_supervisor_rule(start_bot, sandbox, db_path, fake_discord) -> None:
    h = await start_bot()
    add_servers(h)
    await admin(h, "settings role", guild_id=COUNTY, kind="supervisor", role=role_opt(h, COUNTY, A_SERGEANTS))
    config = make_config(sandbox, db_path, web={"port": 0, "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
    process = DashboardProcess(config, discord_api_base=fake_discord.base_url, pages=(*PAGES, supervisor_page))
    await process.start()
    oauth = FakeOAuth(fake_discord, h.bot)
    rig = DashboardRig(h, oauth, process.base_url, ARTIFACTS / "supervisor")
    try:
        oauth.add_client(CLIENT_ID, CLIENT_SECRET, f"{process.base_url}/dashboard/auth/callback")
        page = rig.url(f"/g/{COUNTY}/test-decisions")
        sergeant, officer, owner = await rig.client(SERGEANT), await rig.client(OFFICER), await rig.client(ADMIN)
        async with sergeant.get(page) as response:
            assert response.status == 200 and "manager: False" in await response.text()
        async with sergeant.get(rig.url(f"/g/{COUNTY}/settings")) as response:
            assert response.status == 403  # a supervisor, not a manager of the server
        async with officer.get(page) as response:
            assert response.status == 403
        async with owner.get(page) as response:
            assert response.status == 200 and "manager: True" in await response.text()
        await admin(
            h, "settings role", guild_id=COUNTY, kind="supervisor", role=role_opt(h, COUNTY, A_SERGEANTS), remove=True
        )
        for _ in range(100):  # the dashboard process's settings watcher: a round every 2 s
            async with sergeant.get(page) as response:
                if response.status == 403:
                    break
            await asyncio.sleep(0.1)
        else:
            raise AssertionError("the supervisor role removed in Discord still opens the page")
    finally:
        for session in rig.clients:
            await session.close()
        oauth.close()
        await process.stop()
