"""What a page handler gets, and the one place the dashboard checks who may do what.

`@guild_page(access)` wraps a handler of a server's page: it needs a logged-in user (else to the login, coming
back here), takes the server id from the URL only (never from a form), checks the CSRF token of every write,
asks Discord (cached for [web] permission_cache_seconds) whether the bot is in the server and what the user's
permissions are there, and hands the handler a `GuildContext`. `access`:
- "manage": Manage Server (or Administrator, or the owner): every page of a server;
- "supervisor": the bot's supervisor rule (bot/core/supervisors.py): Manage Server or a supervisor role.
A refusal is a 403 page that says why; nothing was done.

`@user_page` wraps a page of a logged-in user outside any server (the server list).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

import aiohttp_jinja2
from aiohttp import web
from multidict import MultiDict, MultiDictProxy

from bot.core.parsing import database_id
from bot.core.settings.records import GuildSettings
from bot.core.supervisors import is_supervisor
from bot.ops.services import Services
from bot.web.dashboard.app import Dashboard, dashboard_of, viewer_of
from bot.web.dashboard.discord_api import ADMINISTRATOR, MANAGE_GUILD, DiscordUnavailable, GuildView, MemberView
from bot.web.dashboard.security import CSRF_FIELD, PREFIX, csrf_ok
from bot.web.dashboard.sessions import Session

Access = Literal["manage", "supervisor"]
_WRITES = ("POST", "PUT", "PATCH", "DELETE")


@dataclass(frozen=True)
class GuildContext:
    """A request on one server's page by a user allowed there."""

    request: web.Request
    dashboard: Dashboard
    user: Session
    guild: GuildView
    member: MemberView
    settings: GuildSettings
    # The user manages the server (Manage Server, Administrator or owner).
    manager: bool
    # The bot's supervisor rule (a manager, or a supervisor role).
    supervisor: bool
    # A write's fields (CSRF already checked); empty for a read.
    form: MultiDictProxy[str | bytes | Any]

    @property
    def guild_id(self) -> int:
        return self.guild.id

    @property
    def services(self) -> Services:
        return self.dashboard.services

    def url(self, route: str, **query: str) -> str:
        """The path of one of this server's pages (by route name), e.g. `ctx.url("settings")`."""
        url = self.request.app.router[route].url_for(guild_id=str(self.guild_id))
        return str(url.with_query(query) if query else url)

    def render(self, template: str, context: Mapping[str, Any] | None = None, *, status: int = 200) -> web.Response:
        return render(self.request, template, {"ctx": self, **(context or {})}, status=status)

    def redirect(self, route: str, **query: str) -> web.HTTPSeeOther:
        """After a write: to a page of this server (POST, redirect, GET). Raise it: aiohttp deprecates returning one."""
        return web.HTTPSeeOther(self.url(route, **query))


def render(
    request: web.Request, template: str, context: Mapping[str, Any] | None = None, *, status: int = 200
) -> web.Response:
    """A template with what the layout needs: the user, their CSRF token, the navigation."""
    viewer = viewer_of(request)
    base = {
        "viewer": viewer,
        "csrf_field": CSRF_FIELD,
        "csrf": viewer.csrf if viewer is not None else "",
        "nav": dashboard_of(request).nav,
        "prefix": PREFIX,
        "ctx": None,
    }
    return aiohttp_jinja2.render_template(template, request, {**base, **(context or {})}, status=status)


def refuse(request: web.Request, status: int, message: str) -> web.Response:
    return render(request, "error.html", {"status": status, "message": message}, status=status)


def _login_redirect(request: web.Request) -> web.HTTPSeeOther:
    target = request.path_qs if request.method == "GET" else request.path
    return web.HTTPSeeOther(str(request.app.router["login"].url_for().with_query({"next": target})))


async def _checked_form(request: web.Request, user: Session) -> MultiDictProxy[str | bytes | Any] | web.Response:
    form = await request.post()
    given = form.get(CSRF_FIELD)
    public = dashboard_of(request).web.public_base_url
    if not csrf_ok(request, user.csrf, given if isinstance(given, str) else None, public):
        return refuse(request, 403, "This form has expired or did not come from this page: reload it and try again.")
    return form


def user_page(
    handler: Callable[[web.Request, Session], Awaitable[web.StreamResponse]],
) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
    """A page for any logged-in user (forms CSRF-checked)."""

    async def route(request: web.Request) -> web.StreamResponse:
        user = viewer_of(request)
        if user is None:
            raise _login_redirect(request)
        if request.method in _WRITES:
            form = await _checked_form(request, user)
            if isinstance(form, web.Response):
                return form
        return await handler(request, user)

    return route


NOT_YOURS = "You do not manage this server (Manage Server is needed), or the bot is not in it."


def guild_page(
    access: Access = "manage",
) -> Callable[[Callable[[GuildContext], Awaitable[web.StreamResponse]]], Callable[[web.Request], Awaitable[Any]]]:
    """A server's page, for users passing `access` there (see the module docstring)."""

    def wrap(
        handler: Callable[[GuildContext], Awaitable[web.StreamResponse]],
    ) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        async def route(request: web.Request) -> web.StreamResponse:
            user = viewer_of(request)
            if user is None:
                raise _login_redirect(request)
            guild_id = database_id(request.match_info.get("guild_id", ""))
            if guild_id is None:
                return refuse(request, 404, "There is no such server.")
            form: MultiDictProxy[str | bytes | Any] = MultiDictProxy(MultiDict())
            if request.method in _WRITES:
                checked = await _checked_form(request, user)
                if isinstance(checked, web.Response):
                    return checked
                form = checked
            ctx = await guild_context(request, user, guild_id, access, form)
            if isinstance(ctx, web.Response):
                return ctx
            return await handler(ctx)

        return route

    return wrap


async def guild_context(
    request: web.Request,
    user: Session,
    guild_id: int,
    access: Access,
    form: MultiDictProxy[str | bytes | Any],
) -> GuildContext | web.Response:
    """The context of a user allowed on a server's page, or the refusal page."""
    dashboard = dashboard_of(request)
    try:
        guild = await dashboard.api.guild(guild_id)
        member = await dashboard.api.member(guild_id, user.user_id) if guild is not None else None
    except DiscordUnavailable:
        return refuse(request, 503, "Discord did not answer, so your permissions there cannot be checked: try again.")
    if guild is None or member is None:
        return refuse(request, 403, NOT_YOURS)
    settings = dashboard.services.settings.get(guild_id)
    manager = bool(guild.permissions_of(user.user_id, member.role_ids) & (MANAGE_GUILD | ADMINISTRATOR))
    supervisor = is_supervisor(
        manages_server=manager, role_ids=member.role_ids, supervisor_role_ids=settings.supervisor_role_ids
    )
    if not (manager if access == "manage" else supervisor):
        if access == "manage":
            return refuse(request, 403, NOT_YOURS)
        return refuse(request, 403, "You need the Manage Server permission or a supervisor role for this page.")
    return GuildContext(request, dashboard, user, guild, member, settings, manager, supervisor, form)
