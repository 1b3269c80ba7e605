"""Login with Discord in a real browser: through the fake Discord's OAuth2 consent, back to the servers page."""

from __future__ import annotations

from tests.helpers import ADMIN, GUILD


async def test_login_lists_the_servers_the_user_manages_and_opens_the_overview(start_dashboard, page) -> None:
    rig = await start_dashboard()
    await page.goto(rig.url("/"))
    await rig.shot(page, "logged-out")
    rig.oauth.signed_in = ADMIN
    await page.click("text=Log in with Discord")
    await page.wait_for_url(rig.url("/"))
    await rig.shot(page, "servers")
    assert await page.text_content("h1") == "Your servers"
    assert await page.inner_text(".servers") == "Test County RP"
    await page.click("text=Test County RP")
    await page.wait_for_url(rig.url(f"/g/{GUILD}/"))
    await rig.shot(page, "overview")
    assert await page.text_content("h1") == "Overview"
    assert "Nobody is on duty." in await page.inner_text("main")
    token = rig.oauth.token_requests[-1]
    assert "code_verifier=" in token.json and ADMIN in rig.oauth.tokens.values()
