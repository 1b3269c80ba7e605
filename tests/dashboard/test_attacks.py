"""The dashboard refuses what it must, and changes nothing then: a user without Manage Server, a user of another
server (the id in the URL or in the form), a missing or wrong CSRF token or a foreign Origin, a replayed OAuth2
state, an open redirect, markup in names; every answer carries the security headers; no secret is ever shown."""

from __future__ import annotations

import logging
import re
from typing import Any

import aiohttp
import pytest
from yarl import URL

from bot.dashboard.security import safe_return_path
from bot.dashboard.sessions import SessionStore
from tests.dashboard.conftest import CLIENT_ID, CLIENT_SECRET
from tests.dashboard.helpers import A_LOG, A_SERGEANTS, CITY, COUNTY, MANAGER, SCRIPT, add_servers
from tests.helpers import ADMIN, OFFICER, OTHER

SETTINGS_FORM = {"action": "shifts", "max_hours": "5", "timezone": "UTC", "week_start": "monday", "off_duty": "prompt"}


async def rig_with_servers(start_dashboard: Any, **web: Any) -> Any:
    rig = await start_dashboard(**web)
    add_servers(rig.h)
    for user_id, name in ((OFFICER, "officer"), (OTHER, "other"), (MANAGER, "manager")):
        rig.oauth.add_user(user_id, name)
    return rig


async def post(session: aiohttp.ClientSession, url: str, form: dict[str, str], **kw: Any) -> tuple[int, str]:
    async with session.post(url, data=form, allow_redirects=False, **kw) as response:
        return response.status, await response.text()


async def test_a_member_without_manage_server_sees_no_server_and_cannot_open_or_change_one(start_dashboard) -> None:
    rig = await rig_with_servers(start_dashboard)
    officer = await rig.client(OFFICER)
    async with officer.get(rig.url("/")) as response:
        text = await response.text()
    assert "County A" not in text and "No server to show" in text
    csrf = await rig.csrf(officer)
    async with officer.get(rig.url(f"/g/{COUNTY}/settings")) as response:
        assert response.status == 403
        assert "You do not manage this server" in await response.text()
    status, _ = await post(officer, rig.url(f"/g/{COUNTY}/settings"), {**SETTINGS_FORM, "csrf": csrf})
    assert status == 403
    assert rig.h.bot.settings.get(COUNTY).max_shift_hours == 12


async def test_a_user_of_another_server_cannot_reach_it_by_url_or_form(start_dashboard) -> None:
    rig = await rig_with_servers(start_dashboard)
    other = await rig.client(OTHER)  # owns City B only
    csrf = await rig.csrf(other)
    async with other.get(rig.url("/")) as response:
        text = await response.text()
    assert "City B" in text and "County A" not in text
    for path in (f"/g/{COUNTY}/", f"/g/{COUNTY}/settings", f"/g/{COUNTY}/history"):
        async with other.get(rig.url(path)) as response:
            assert response.status == 403, path
    status, _ = await post(other, rig.url(f"/g/{COUNTY}/settings"), {**SETTINGS_FORM, "csrf": csrf})
    assert status == 403
    # The server is the URL's: a guild id in the form is ignored, and a channel of County A is not City B's.
    status, _ = await post(
        other, rig.url(f"/g/{CITY}/settings"), {**SETTINGS_FORM, "guild_id": str(COUNTY), "csrf": csrf}
    )
    assert status == 303
    status, text = await post(
        other,
        rig.url(f"/g/{CITY}/settings"),
        {"action": "channel", "kind": "shift-log", "channel": str(A_LOG), "csrf": csrf},
    )
    assert status == 400 and "Pick one of this server&#39;s channels." in text
    assert rig.h.bot.settings.get(COUNTY).max_shift_hours == 12
    assert rig.h.bot.settings.get(CITY).max_shift_hours == 5
    assert rig.h.bot.settings.get(CITY).shift_log_channel_id is None
    for bad in ("abc", "0", "99999999999999999999999"):
        async with other.get(rig.url(f"/g/{bad}/settings")) as response:
            assert response.status in (403, 404), bad


async def test_a_form_without_the_right_csrf_token_or_from_another_site_changes_nothing(start_dashboard) -> None:
    rig = await rig_with_servers(start_dashboard)
    admin = await rig.client(ADMIN)
    csrf = await rig.csrf(admin)
    url = rig.url(f"/g/{COUNTY}/settings")
    for form, headers in (
        (SETTINGS_FORM, {}),
        ({**SETTINGS_FORM, "csrf": "forged"}, {}),
        ({**SETTINGS_FORM, "csrf": csrf[:-1]}, {}),
        ({**SETTINGS_FORM, "csrf": csrf}, {"Origin": "https://evil.example"}),
    ):
        status, text = await post(admin, url, form, headers=headers)
        assert status == 403 and "did not come from this page" in text, (form, headers)
    status, _ = await post(admin, rig.url("/logout"), {"csrf": "forged"})
    assert status == 403
    assert rig.h.bot.settings.get(COUNTY).max_shift_hours == 12
    status, _ = await post(admin, url, {**SETTINGS_FORM, "csrf": csrf}, headers={"Origin": rig.base})
    assert status == 303 and rig.h.bot.settings.get(COUNTY).max_shift_hours == 5


async def _login_steps(rig: Any, session: aiohttp.ClientSession, next_path: str | None = None) -> str:
    """The login up to Discord's redirect back: the callback URL (code and state)."""
    query = {"next": next_path} if next_path is not None else {}
    async with session.get(rig.url("/login"), params=query, allow_redirects=False) as response:
        assert response.status == 303
        authorize = URL(response.headers["Location"])
    assert authorize.query["code_challenge_method"] == "S256" and authorize.query["scope"] == "identify guilds"
    async with session.get(authorize, allow_redirects=False) as response:
        assert response.status == 302
        return response.headers["Location"]


async def test_a_replayed_or_unknown_oauth_state_is_refused(start_dashboard) -> None:
    rig = await rig_with_servers(start_dashboard)
    rig.oauth.signed_in = ADMIN
    browser = await rig.client(None)
    callback = await _login_steps(rig, browser)
    async with browser.get(callback, allow_redirects=False) as response:
        assert response.status == 303 and "northca_dashboard" in response.cookies
    attacker = await rig.client(None)
    async with attacker.get(callback, allow_redirects=False) as response:
        assert response.status == 400 and "already used" in await response.text()
        assert "northca_dashboard" not in response.cookies
    forged = re.sub(r"state=[^&]+", "state=forged", callback)
    async with attacker.get(forged, allow_redirects=False) as response:
        assert response.status == 400
    # A code with a state of ours but without our PKCE verifier: Discord refuses the exchange.
    fresh = await _login_steps(rig, attacker)
    code = URL(fresh).query["code"]
    other_state = URL(await _login_steps(rig, await rig.client(None))).query["state"]
    async with attacker.get(rig.url("/auth/callback"), params={"code": code, "state": other_state}) as response:
        assert response.status == 400 and "Discord refused this login" in await response.text()
    async with attacker.get(rig.url(f"/g/{COUNTY}/settings"), allow_redirects=False) as response:
        assert response.status == 303 and "/dashboard/login" in response.headers["Location"]


@pytest.mark.parametrize(
    "target",
    ["https://evil.example/", "//evil.example/x", "/\\evil.example", "/dashboard/../../x", "javascript:alert(1)",
     "/other", "http://127.0.0.1:1/dashboard/"],
)  # fmt: skip
async def test_the_return_path_after_login_is_always_one_of_ours(start_dashboard, target) -> None:
    rig = await rig_with_servers(start_dashboard)
    rig.oauth.signed_in = ADMIN
    browser = await rig.client(None)
    callback = await _login_steps(rig, browser, next_path=target)
    async with browser.get(callback, allow_redirects=False) as response:
        assert response.status == 303
        assert response.headers["Location"] == "/dashboard/"


def test_return_paths() -> None:
    assert safe_return_path(f"/dashboard/g/{COUNTY}/settings") == f"/dashboard/g/{COUNTY}/settings"
    assert safe_return_path("/dashboard/g/1/history?area=time") == "/dashboard/g/1/history?area=time"
    for bad in (
        None,
        "",
        "/dashboardx",
        "https://x",
        "//x",
        "/dashboard//x",
        "/dashboard/\\x",
        "/dashboard/%0d%0a",
        "/dashboard/\r\nSet-Cookie:x",
        "/dashboard/..",
        "/dashboard",
    ):
        assert safe_return_path(bad) == "/dashboard/", bad


async def test_names_with_markup_are_text_and_every_answer_has_the_security_headers(start_dashboard, caplog) -> None:
    rig = await rig_with_servers(start_dashboard)
    admin = await rig.client(ADMIN)
    answers = []
    for path in ("/", f"/g/{COUNTY}/", f"/g/{COUNTY}/settings", f"/g/{COUNTY}/history", f"/g/{CITY}/", "/nope"):
        async with admin.get(rig.url(path)) as response:
            answers.append((path, response.status, response.headers, await response.text()))
    anonymous = await rig.client(None)
    async with anonymous.get(rig.url("/")) as response:
        answers.append(("/ (logged out)", response.status, response.headers, await response.text()))
    for path, status, headers, text in answers:
        assert status in (200, 403, 404), path
        csp = headers["Content-Security-Policy"]
        assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp and "unsafe-inline" not in csp, path
        assert headers["X-Content-Type-Options"] == "nosniff" and headers["Referrer-Policy"] == "same-origin", path
        # No inline script or style: only scripts from our static folder.
        assert re.findall(r"<script[^>]*>", text) in ([], ['<script src="/dashboard/static/live.js" defer>']), path
        assert " style=" not in text and "alert(1)</script>" not in text, path
        assert CLIENT_SECRET not in text
    settings_page = answers[2][3]
    assert "@&lt;script&gt;alert(1)&lt;/script&gt;" in settings_page
    assert SCRIPT not in settings_page
    tokens = list(rig.oauth.tokens)
    assert tokens
    for record in caplog.records:
        line = record.getMessage()
        assert CLIENT_SECRET not in line and not any(t in line for t in tokens), line


async def test_a_user_who_loses_manage_server_loses_the_pages_within_the_cache_time(start_dashboard) -> None:
    now = [1_800_000_000_000]
    rig = await rig_with_servers(start_dashboard, clock=lambda: now[0], permission_cache_seconds=30)
    manager = await rig.client(MANAGER)
    async with manager.get(rig.url(f"/g/{COUNTY}/settings")) as response:
        assert response.status == 200
    guild = rig.h.bot.get_guild(COUNTY)
    rig.h._member_update(guild, guild.get_member(MANAGER), [])  # the role taken away in Discord
    now[0] += 29_000
    async with manager.get(rig.url(f"/g/{COUNTY}/settings")) as response:
        assert response.status == 200  # within the cache time
    now[0] += 1_000
    async with manager.get(rig.url(f"/g/{COUNTY}/settings")) as response:
        assert response.status == 403


async def test_sessions_end_after_the_idle_time_and_at_logout(start_dashboard) -> None:
    now = [1_800_000_000_000]
    rig = await rig_with_servers(start_dashboard, clock=lambda: now[0], session_idle_minutes=30)
    admin = await rig.client(ADMIN)
    now[0] += 29 * 60_000
    async with admin.get(rig.url(f"/g/{COUNTY}/"), allow_redirects=False) as response:
        assert response.status == 200  # used: the idle time starts again
    now[0] += 30 * 60_000
    async with admin.get(rig.url(f"/g/{COUNTY}/"), allow_redirects=False) as response:
        assert response.status == 303 and response.headers["Location"].startswith("/dashboard/login")
    admin = await rig.client(ADMIN)
    cookie = admin.cookie_jar.filter_cookies(URL(rig.url("/")))["northca_dashboard"].value
    csrf = await rig.csrf(admin)
    status, _ = await post(admin, rig.url("/logout"), {"csrf": csrf})
    assert status == 303
    replay = await rig.client(None)
    async with replay.get(
        rig.url(f"/g/{COUNTY}/"), cookies={"northca_dashboard": cookie}, allow_redirects=False
    ) as response:
        assert response.status == 303  # the old cookie is dead


async def test_login_rotates_the_session_and_sets_a_lax_httponly_cookie(start_dashboard) -> None:
    rig = await rig_with_servers(start_dashboard)
    rig.oauth.signed_in = ADMIN
    browser = await rig.client(None)
    first = await _login_steps(rig, browser)
    async with browser.get(first, allow_redirects=False) as response:
        morsel = response.cookies["northca_dashboard"]
        assert morsel["httponly"] and morsel["samesite"] == "Lax" and morsel["path"] == "/dashboard"
        assert not morsel["secure"]  # served over http here; https (public_base_url) makes it Secure
        old = morsel.value
    second = await _login_steps(rig, browser)
    async with browser.get(second, allow_redirects=False) as response:
        new = response.cookies["northca_dashboard"].value
    assert new != old
    stale = await rig.client(None)
    async with stale.get(rig.url(f"/g/{COUNTY}/"), cookies={"northca_dashboard": old}, allow_redirects=False) as r:
        assert r.status == 303  # the session before the login ended with it


async def test_logins_are_rate_limited(start_dashboard) -> None:
    rig = await rig_with_servers(start_dashboard, login_attempts_per_minute=3)
    browser = await rig.client(None)
    statuses = []
    for _ in range(4):
        async with browser.get(rig.url("/login"), allow_redirects=False) as response:
            statuses.append(response.status)
    assert statuses == [303, 303, 303, 429]


async def test_nothing_is_logged_at_debug_that_holds_the_secret(start_dashboard, caplog) -> None:
    caplog.set_level(logging.DEBUG)
    rig = await rig_with_servers(start_dashboard)
    await rig.client(ADMIN)
    assert all(CLIENT_SECRET not in r.getMessage() for r in caplog.records)
    assert CLIENT_SECRET not in repr(rig.h.bot.config) and CLIENT_SECRET not in str(rig.h.bot.config.web)


async def test_behind_https_the_cookie_is_secure_and_the_redirect_is_the_public_address(start_dashboard) -> None:
    rig = await rig_with_servers(start_dashboard, public_base_url="https://bot.example.org")
    public_callback = "https://bot.example.org/dashboard/auth/callback"
    rig.oauth.add_client(CLIENT_ID, CLIENT_SECRET, public_callback)
    rig.oauth.signed_in = ADMIN
    browser = await rig.client(None)
    callback = await _login_steps(rig, browser)
    assert callback.startswith(public_callback + "?")
    # The TLS proxy hands the request on to the bot's local address.
    async with browser.get(callback.replace("https://bot.example.org", rig.base), allow_redirects=False) as response:
        assert response.status == 303
        morsel = response.cookies["northca_dashboard"]
        assert morsel["secure"] and morsel["httponly"] and morsel["samesite"] == "Lax"


async def test_idle_sessions_and_unfinished_logins_are_swept(start_dashboard) -> None:
    now = [1_800_000_000_000]
    rig = await rig_with_servers(start_dashboard, clock=lambda: now[0], session_idle_minutes=30)
    await rig.client(ADMIN)
    await rig.client(OTHER)
    async with (await rig.client(None)).get(rig.url("/login"), allow_redirects=False) as response:
        assert response.status == 303  # a login never finished
    db = rig.h.bot.db
    count = "SELECT (SELECT COUNT(*) FROM dashboard_sessions) + (SELECT COUNT(*) FROM dashboard_logins) AS n"
    assert int((await db.fetchone(count))["n"]) == 3
    now[0] += 31 * 60_000
    assert await SessionStore(db, idle_ms=30 * 60_000, clock=lambda: now[0]).sweep() == 3
    assert int((await db.fetchone(count))["n"]) == 0


async def test_behind_https_forms_from_the_public_origin_are_accepted_and_others_refused(start_dashboard) -> None:
    rig = await rig_with_servers(start_dashboard, public_base_url="https://bot.example.org")
    rig.oauth.add_client(CLIENT_ID, CLIENT_SECRET, "https://bot.example.org/dashboard/auth/callback")
    rig.oauth.signed_in = ADMIN
    browser = await rig.client(None)
    callback = await _login_steps(rig, browser)
    async with browser.get(callback.replace("https://bot.example.org", rig.base), allow_redirects=False) as response:
        sid = response.cookies["northca_dashboard"].value
    jar = {"northca_dashboard": sid}
    async with browser.get(rig.url(f"/g/{COUNTY}/settings"), cookies=jar) as response:
        csrf = re.search(r'name="csrf" value="([^"]+)"', await response.text()).group(1)  # type: ignore[union-attr]
    url = rig.url(f"/g/{COUNTY}/settings")
    form = {**SETTINGS_FORM, "csrf": csrf}
    status, _ = await post(browser, url, form, cookies=jar, headers={"Origin": "https://evil.example"})
    assert status == 403 and rig.h.bot.settings.get(COUNTY).max_shift_hours == 12
    status, _ = await post(browser, url, form, cookies=jar, headers={"Origin": "https://bot.example.org"})
    assert status == 303 and rig.h.bot.settings.get(COUNTY).max_shift_hours == 5


async def test_the_login_limit_counts_each_address_behind_a_local_proxy(start_dashboard) -> None:
    rig = await rig_with_servers(start_dashboard, login_attempts_per_minute=2)
    browser = await rig.client(None)

    async def start(address: str) -> int:
        headers = {"X-Forwarded-For": f"203.0.113.9, {address}"}
        async with browser.get(rig.url("/login"), headers=headers, allow_redirects=False) as response:
            return response.status

    assert [await start("198.51.100.1") for _ in range(3)] == [303, 303, 429]
    assert await start("198.51.100.2") == 303  # another visitor is not held back by the first


async def test_the_whole_web_server_answers_with_the_security_headers(start_dashboard) -> None:
    rig = await rig_with_servers(start_dashboard)
    anonymous = await rig.client(None)
    for url in (f"{rig.base}/favicon.ico", f"{rig.base}/erlc/events/not-a-token", rig.url("/static/style.css")):
        async with anonymous.get(url) as response:
            assert response.headers["X-Content-Type-Options"] == "nosniff", url
            assert "frame-ancestors 'none'" in response.headers["Content-Security-Policy"], url


async def test_reset_needs_its_confirmation_and_a_role_is_removed_everywhere(start_dashboard) -> None:
    rig = await rig_with_servers(start_dashboard)
    admin = await rig.client(ADMIN)
    csrf = await rig.csrf(admin)
    url = rig.url(f"/g/{COUNTY}/settings")
    role_form = {"action": "role", "kind": "supervisor", "role": str(A_SERGEANTS), "csrf": csrf}
    assert (await post(admin, url, role_form))[0] == 303
    assert (await post(admin, url, {"action": "quota", "role": str(A_SERGEANTS), "hours": "4", "csrf": csrf}))[0] == 303
    status, _ = await post(admin, url, {"action": "remove-role", "role": str(A_SERGEANTS), "csrf": csrf})
    assert status == 303
    after = rig.h.bot.settings.get(COUNTY)
    assert after.supervisor_role_ids == () and after.role_quotas == ()
    assert (await post(admin, url, SETTINGS_FORM | {"csrf": csrf}))[0] == 303
    status, text = await post(admin, url, {"action": "reset", "csrf": csrf})
    assert status == 400 and "Tick the box to confirm" in text
    assert rig.h.bot.settings.get(COUNTY).max_shift_hours == 5
    assert (await post(admin, url, {"action": "reset", "confirm": "on", "csrf": csrf}))[0] == 303
    assert rig.h.bot.settings.get(COUNTY).max_shift_hours == 12
