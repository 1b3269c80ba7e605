"""The dashboard against the offline fake Discord: the bot on the harness with `[web] enabled`, the fake's
OAuth2 (tests/harness/oauth.py), a logged-in aiohttp client for the attack tests, and a real browser
(Playwright driving Debian's /usr/bin/chromium; never Playwright's own download) whose pages are saved as
screenshots under tests/artifacts/dashboard/<test>/ (git-ignored)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.timefmt import now_ms
from tests.harness import FakeOAuth, Harness
from tests.helpers import ADMIN, BotStarter

CLIENT_ID = 987654321098765432
CLIENT_SECRET = "dashboard-client-secret-d0n0tl0g"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS = Path(__file__).resolve().parent.parent / "artifacts" / "dashboard"


@dataclass
class DashboardRig:
    """The bot with its dashboard, and what a test drives it with."""

    h: Harness
    oauth: FakeOAuth
    base: str
    shots_dir: Path
    clients: list[aiohttp.ClientSession] = field(default_factory=list)
    _shots: int = 0

    def url(self, path: str = "/") -> str:
        return f"{self.base}/dashboard{path}"

    async def login(self, page: Any, user_id: int = ADMIN, *, next_path: str | None = None) -> None:
        """Log in in the browser through the fake Discord's consent page (as `user_id`)."""
        self.oauth.signed_in = user_id
        target = self.url("/login") + (f"?next={next_path}" if next_path else "")
        await page.goto(target)
        await page.wait_for_url(re.compile(re.escape(self.url()) + ".*"))

    async def client(self, user_id: int | None = ADMIN) -> aiohttp.ClientSession:
        """An aiohttp client (its own cookie jar), logged in as `user_id` (None: not logged in)."""
        session = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
        self.clients.append(session)
        if user_id is not None:
            self.oauth.signed_in = user_id
            async with session.get(self.url("/login")) as response:
                assert response.status == 200, await response.text()
                assert str(response.url).startswith(self.url("/")), response.url
        return session

    async def csrf(self, session: aiohttp.ClientSession, path: str = "/") -> str:
        """The CSRF token of the session's forms (read from a page, as a browser has it)."""
        async with session.get(self.url(path)) as response:
            text = await response.text()
        found = re.search(r'name="csrf" value="([^"]+)"', text)
        assert found, text[:500]
        return found.group(1)

    async def shot(self, page: Any, name: str) -> Path:
        """A screenshot of the whole page, kept as the test's artifact."""
        self._shots += 1
        path = self.shots_dir / f"{self._shots:02d}-{name}.png"
        await page.screenshot(path=str(path), full_page=True)
        return path


DashboardStarter = Callable[..., Any]


@pytest.fixture
async def start_dashboard(start_bot: BotStarter, request: pytest.FixtureRequest) -> AsyncIterator[Callable[..., Any]]:
    """Start the bot with its dashboard (`[web] enabled`, a free port); returns a `DashboardRig`."""
    rigs: list[DashboardRig] = []

    async def start(clock: Callable[[], int] = now_ms, **web: Any) -> DashboardRig:
        section = {
            "enabled": True,
            "port": 0,
            "client_id": CLIENT_ID,
            "client_secret": CLIENT_SECRET,
            "permission_cache_seconds": 30,
            **web,
        }
        h = await start_bot(web=section, clock=clock, shifts={"sync_interval_seconds": 0.05})
        server = h.bot.services.web
        assert server is not None
        oauth = FakeOAuth(h.fake, h.bot)
        oauth.add_client(CLIENT_ID, CLIENT_SECRET, f"{server.base_url}/dashboard/auth/callback")
        oauth.add_user(ADMIN, "admin")
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)[:100]
        rig = DashboardRig(h, oauth, server.base_url, ARTIFACTS / name)
        rig.shots_dir.mkdir(parents=True, exist_ok=True)
        rigs.append(rig)
        return rig

    yield start
    for rig in rigs:
        for session in rig.clients:
            await session.close()
        rig.oauth.close()


@pytest.fixture
async def browser() -> AsyncIterator[Any]:
    """Headless Chromium from Debian's package, driven by Playwright."""
    if not CHROMIUM.exists():
        pytest.fail("/usr/bin/chromium is missing: apt-get install chromium (.ci/run does it)")
    from playwright.async_api import async_playwright

    async with async_playwright() as pw:
        launched = await pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield launched
        finally:
            await launched.close()


@pytest.fixture
async def page(browser: Any) -> AsyncIterator[Any]:
    """A fresh browser context (its own cookies) and page; JavaScript errors and CSP refusals fail the test."""
    context = await browser.new_context(viewport={"width": 1200, "height": 900})
    context.set_default_timeout(10_000)
    tab = await context.new_page()
    problems: list[str] = []
    tab.on("pageerror", lambda exc: problems.append(f"page error: {exc}"))

    def on_console(msg: Any) -> None:
        # A page answered 4xx on purpose (a refused form) is logged as a failed load: not a problem of the page.
        if msg.type == "error" and not msg.text.startswith("Failed to load resource: the server responded"):
            problems.append(f"console: {msg.text}")  # a script error, a CSP refusal

    tab.on("console", on_console)
    try:
        yield tab
    finally:
        await context.close()
    assert not problems, problems
