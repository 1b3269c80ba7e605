"""In a real browser: a change made on the dashboard's Settings page is the same audited change /settings makes:
it shows in `/settings show` (the harness bot on the same database), the shift-log line is posted in Discord,
and the History page says who did it, from the dashboard. The settings form works with the keyboard alone."""

from __future__ import annotations

from tests.dashboard.helpers import A_LOG, COUNTY, SCRIPT, add_servers
from tests.helpers.ids import ADMIN
from tests.helpers.settings import admin, log_posts


async def test_a_setting_changed_in_the_browser_shows_in_discord_and_in_the_history(start_dashboard, page) -> None:
    rig = await start_dashboard()
    h = rig.h
    add_servers(h)
    dialogs: list[str] = []
    page.on("dialog", lambda d: dialogs.append(d.message))
    await rig.login(page, ADMIN)
    await rig.shot(page, "servers")
    assert await page.inner_text(".servers") == "County A\nTest County RP"
    await page.click("text=County A")
    await page.wait_for_url(rig.url(f"/g/{COUNTY}/"))
    await rig.shot(page, "overview")
    await page.click("nav >> text=Settings")
    await page.wait_for_url(rig.url(f"/g/{COUNTY}/settings"))
    await rig.shot(page, "settings")
    # The role named like a script is a text among the options, never run.
    assert f"@{SCRIPT}" in await page.inner_text("#role-role")

    await page.select_option("#channel-kind", "shift-log")
    await page.select_option("#channel-channel", str(A_LOG))
    await page.click("#form-channel button[type=submit]")
    await page.wait_for_selector(".notice")
    assert await page.inner_text(".notice") == "The shift-log channel is now #shift-log."
    await page.fill("#shifts-max", "8")
    await page.click("#form-shifts button[type=submit]")
    await page.wait_for_selector(".notice")
    await rig.shot(page, "settings-saved")
    assert await page.inner_text('[data-key="max_shift_hours"]') == "8 hours"

    shown = {f["name"]: f["value"] for f in (await admin(h, "settings show", guild_id=COUNTY)).embeds[0]["fields"]}
    assert shown["Maximum shift length"] == "8 h"
    assert shown["Shift-log channel"] == f"<#{A_LOG}>"
    line = await log_posts(h, A_LOG, "changed the settings: .*Maximum shift length")
    assert "12 h → 8 h" in line["content"]

    await page.click("nav >> text=History")
    await page.wait_for_url(rig.url(f"/g/{COUNTY}/history"))
    await rig.shot(page, "history")
    rows = await page.inner_text("table.history tbody")
    assert "Maximum shift length: 12 → 8" in rows, rows
    assert "Shift-log channel: — → #shift-log" in rows
    first = (await page.inner_text("table.history tbody tr:first-child")).split("\t")
    assert first[1:4] == ["Admin", "the dashboard", "Settings"], first
    assert dialogs == []


async def test_the_settings_form_works_with_the_keyboard_alone(start_dashboard, page) -> None:
    rig = await start_dashboard()
    add_servers(rig.h)
    await rig.login(page, ADMIN)
    await page.goto(rig.url(f"/g/{COUNTY}/settings"))
    # From the top of the page, Tab reaches the shift length field through every control before it.
    visited: list[str] = []
    for _ in range(80):
        await page.keyboard.press("Tab")
        focused = await page.evaluate("document.activeElement.id || document.activeElement.textContent.trim()")
        visited.append(focused)
        if focused == "shifts-max":
            break
    assert visited[0] == "Skip to content" and visited[-1] == "shifts-max", visited
    assert "channel-kind" in visited and "role-role" in visited
    await page.keyboard.press("Control+A")
    await page.keyboard.type("9.5")
    await page.keyboard.press("Tab")  # the time zone
    await page.keyboard.press("Shift+Tab")
    await page.keyboard.press("Enter")  # Enter in a field submits its form
    await page.wait_for_selector(".notice")
    await rig.shot(page, "keyboard-saved")
    assert await page.inner_text(".notice") == "Shift settings saved."
    assert rig.h.bot.settings.get(COUNTY).max_shift_hours == 9.5
    # A refused value: the service's own message, as /settings says it, and nothing changed.
    await page.focus("#shifts-max")
    await page.keyboard.press("Control+A")
    await page.keyboard.type("100")
    await page.keyboard.press("Enter")
    await page.wait_for_selector("#form-error")
    assert await page.inner_text("#form-error") == "The maximum shift length is hours: more than 0, at most 72."
    assert rig.h.bot.settings.get(COUNTY).max_shift_hours == 9.5


async def test_an_erlc_form_with_one_bad_field_changes_nothing(start_dashboard) -> None:
    """The ER:LC form saves several settings: a field refused (the gamelock grace out of range, after fields that are
    fine) leaves every setting as it was, nothing audited, nothing posted; the whole form then saves together."""
    rig = await start_dashboard()
    h = rig.h
    add_servers(h)
    before = h.bot.settings.get(COUNTY)
    _, audited = await h.bot.settings.history(COUNTY)
    browser = await rig.client(ADMIN)
    csrf = await rig.csrf(browser, f"/g/{COUNTY}/settings")
    form = {"action": "erlc", "csrf": csrf, "presence_days": "30", "calls_to_cad": "on", "in_game_required": "on"}
    for grace, refusal in (("99999", "1440"), ("0", "gamelock")):
        extra = {"auto_duty": "on"} if grace == "0" else {}
        async with browser.post(
            rig.url(f"/g/{COUNTY}/settings"), data={**form, "gamelock_minutes": grace, **extra}
        ) as response:
            text = await response.text()
        assert response.status == 400 and refusal in text, text[:400]
        after = h.bot.settings.get(COUNTY)
        assert (after.erlc_presence_days, after.erlc_calls_to_cad, after.erlc_in_game_required) == (90, False, False)
        assert after == before
        assert (await h.bot.settings.history(COUNTY))[1] == audited
    whole = {**form, "gamelock_minutes": "15", "auto_duty": "on", "status_from_game": "on", "quota_in_game": "on"}
    async with browser.post(rig.url(f"/g/{COUNTY}/settings"), data=whole) as response:
        assert response.status == 200 and "saved" in str(response.url), await response.text()
        page = await response.text()
    saved = h.bot.settings.get(COUNTY)
    assert (saved.erlc_presence_days, saved.erlc_calls_to_cad, saved.erlc_in_game_required) == (30, True, True)
    assert (saved.erlc_gamelock_minutes, saved.erlc_auto_duty) == (15, True)
    # Every ER:LC setting of /settings is on the page: the status and the quotas from the game too.
    assert (saved.erlc_status_from_game, saved.erlc_quota_in_game) == (True, True)
    assert 'data-key="erlc.status_from_game">on<' in page and 'data-key="erlc.quota_in_game">yes<' in page
