"""The start page: logged out, the login button; logged in, the servers the user manages where the bot is."""

from __future__ import annotations

from aiohttp import web

from bot.dashboard.app import dashboard_of, viewer_of
from bot.dashboard.context import refuse, render
from bot.dashboard.discord_api import DiscordRefused, DiscordUnavailable
from bot.dashboard.registry import PageRouter


async def servers(request: web.Request) -> web.StreamResponse:
    user = viewer_of(request)
    if user is None:
        return render(request, "login.html")
    dashboard = dashboard_of(request)
    try:
        theirs = await dashboard.api.user_guilds(user.user_id, user.access_token)
        bots = await dashboard.api.bot_guild_ids()
    except DiscordRefused:
        # Their token was revoked or expired: the session is over, they log in again.
        await dashboard.sessions.end_user(user.user_id)
        raise web.HTTPSeeOther(str(request.app.router["login"].url_for())) from None
    except DiscordUnavailable:
        return refuse(request, 503, "Discord did not answer: try again in a moment.")
    guilds = sorted((g for g in theirs if g.manages and g.id in bots), key=lambda g: g.name.lower())
    return render(request, "pages/servers.html", {"guilds": guilds})


def register(pages: PageRouter) -> None:
    pages.get("/", servers, name="servers")
