"""The overview in a real browser: who is on duty now (a member named like a script shown as text), the Northca
link; the list follows a shift started in Discord."""

from __future__ import annotations

from tests.dashboard.helpers import SCRIPT
from tests.harness import builders
from tests.helpers import ADMIN, GUILD, MDT, MEMBER_PERMS, OFFICER, link_guild


async def test_the_overview_shows_who_is_on_duty_and_the_northca_link(start_dashboard, page, sandbox) -> None:
    rig = await start_dashboard()
    h = rig.h
    await link_guild(h.bot, sandbox)
    officer = builders.member(OFFICER, permissions=MEMBER_PERMS, username="officer", nick=SCRIPT)
    dialogs: list[str] = []
    page.on("dialog", lambda d: dialogs.append(d.message))
    await rig.login(page, ADMIN)
    await page.goto(rig.url(f"/g/{GUILD}/"))
    assert "Nobody is on duty." in await page.inner_text("#on-duty")
    assert f"Linked to MDT {MDT}: approved." in await page.inner_text("main")
    reply = await h.slash("shift", sub="start", member=officer, guild_id=GUILD)
    assert reply.callback_type == 4, reply
    await page.reload()
    await rig.shot(page, "overview-on-duty")
    on_duty = await page.inner_text("#on-duty")
    assert "On duty now (1)" in on_duty and SCRIPT in on_duty  # shown as text
    assert dialogs == []
    assert "&lt;script&gt;" in await page.content()
