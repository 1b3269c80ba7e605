"""The dashboard's aiohttp application: built once per process by `build_dashboard_app`, mounted by the web
server (bot/web.py) under /dashboard, in the bot process (`[web] enabled = true`) or in `northca-bot web`.

`Dashboard` holds what every handler needs: the services (built by bot/services.py `build_services`, the same
graph the bot uses), Discord over HTTP (`DiscordApi`), the sessions, the `[web]` settings, the clock. A handler
reaches it as `dashboard_of(request)`; a guild page gets it inside its `GuildContext` (bot/dashboard/context.py).
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING

import aiohttp_jinja2
import jinja2
from aiohttp import web

from bot.audit import acting_from
from bot.config import WebSection
from bot.dashboard.discord_api import DiscordApi
from bot.dashboard.security import PREFIX, security_headers
from bot.dashboard.sessions import Session, SessionStore, SessionSweep
from bot.services import Services
from bot.timefmt import from_ms

if TYPE_CHECKING:
    from bot.dashboard.routing import NavItem

log = logging.getLogger(__name__)

HERE = Path(__file__).parent
SESSION_COOKIE = "northca_dashboard"


class RateLimit:
    """At most `limit` events per `window_ms` for each key and in all (the login); on the injected clock."""

    def __init__(self, limit: int, clock: Callable[[], int], window_ms: int = 60_000) -> None:
        self.limit = limit
        self.window_ms = window_ms
        self.clock = clock
        self._events: dict[str, deque[int]] = {}

    def allow(self, key: str) -> bool:
        now = self.clock()
        # Everyone together may start ten times what one address may: a flood from many addresses stops too.
        ok = self._take(key, now, self.limit) and self._take("*", now, self.limit * 10)
        if len(self._events) > 10_000:  # forget quiet addresses
            self._events = {k: v for k, v in self._events.items() if v and now - v[-1] < self.window_ms}
        return ok

    def _take(self, key: str, now: int, limit: int) -> bool:
        events = self._events.setdefault(key, deque())
        while events and now - events[0] >= self.window_ms:
            events.popleft()
        if len(events) >= limit:
            return False
        events.append(now)
        return True


@dataclass
class Dashboard:
    services: Services
    api: DiscordApi
    sessions: SessionStore
    web: WebSection
    clock: Callable[[], int]
    # Where the world reaches the web server (the OAuth2 redirect, Secure cookies): [web] public_base_url, else
    # the address it listens on (known once started).
    base_url: Callable[[], str]
    login_limit: RateLimit
    nav: list[NavItem] = field(default_factory=list)

    @property
    def redirect_uri(self) -> str:
        return f"{self.base_url()}{PREFIX}/auth/callback"

    @property
    def secure(self) -> bool:
        return self.base_url().startswith("https://")


DASHBOARD = web.AppKey("dashboard", Dashboard)


@dataclass(frozen=True)
class Viewer:
    """The request's session, if any (a request key's value must be one type)."""

    session: Session | None


VIEWER = web.RequestKey("dashboard.viewer", Viewer)
SESSION_ID = web.RequestKey("dashboard.sid", str)


def dashboard_of(request: web.Request) -> Dashboard:
    return request.config_dict[DASHBOARD]


def viewer_of(request: web.Request) -> Session | None:
    """The logged-in user of this request (their live session), or None."""
    viewer = request.get(VIEWER)
    return viewer.session if viewer is not None else None


@web.middleware
async def load_session(
    request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
) -> web.StreamResponse:
    """The session of the request's cookie (None when there is none, it ended or it idled out)."""
    sid = request.cookies.get(SESSION_COOKIE, "")
    request[SESSION_ID] = sid
    request[VIEWER] = Viewer(await dashboard_of(request).sessions.get(sid) if sid else None)
    # Every change made while serving this request is audited as the dashboard's (bot/audit.py).
    with acting_from("dashboard"):
        return await handler(request)


def set_session_cookie(response: web.StreamResponse, dashboard: Dashboard, sid: str) -> None:
    response.set_cookie(
        SESSION_COOKIE, sid, path=PREFIX, httponly=True, secure=dashboard.secure, samesite="Lax",
        max_age=int(dashboard.web.session_idle_minutes * 60),
    )  # fmt: skip


def clear_session_cookie(response: web.StreamResponse, dashboard: Dashboard) -> None:
    response.del_cookie(SESSION_COOKIE, path=PREFIX, secure=dashboard.secure, httponly=True, samesite="Lax")


def _when(ms: int) -> str:
    return from_ms(ms).strftime("%Y-%m-%d %H:%M UTC")


def build_dashboard_app(dashboard: Dashboard, pages: tuple[ModuleType, ...] | None = None) -> web.Application:
    """The dashboard as an aiohttp application, to mount under /dashboard (`pages`: registry.PAGES unless given)."""
    app = web.Application(middlewares=[security_headers, load_session], client_max_size=256 * 1024)
    app[DASHBOARD] = dashboard
    env = aiohttp_jinja2.setup(
        app,
        loader=jinja2.FileSystemLoader(str(HERE / "templates")),
        autoescape=True,  # every template, whatever its name: member and role names are text, never markup
        undefined=jinja2.StrictUndefined,
        default_helpers=False,
    )
    env.filters["when"] = _when
    # The pages import this module (their handlers reach the Dashboard through it): imported once it is loaded.
    from bot.dashboard import auth
    from bot.dashboard.registry import PAGES, register_pages

    auth.register(app)
    dashboard.nav = register_pages(app, PAGES if pages is None else pages)
    app.router.add_static("/static", HERE / "static", name="static", append_version=True)

    sweep = SessionSweep(dashboard.sessions)

    async def start_sweep(_: web.Application) -> None:
        await sweep.start()

    async def stop(_: web.Application) -> None:
        await sweep.stop()
        await dashboard.api.close()

    app.on_startup.append(start_sweep)
    app.on_cleanup.append(stop)
    return app
