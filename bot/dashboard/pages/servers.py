"""The start page: logged out, the login button; logged in, the servers the user manages where the bot is (their
list from login, the bot's asked now; each server's pages check the user's permissions again)."""

from __future__ import annotations

from aiohttp import web

from bot.dashboard.app import dashboard_of, viewer_of
from bot.dashboard.context import refuse, render
from bot.dashboard.discord_api import DiscordRefused, DiscordUnavailable
from bot.dashboard.routing import PageRouter


async def servers(request: web.Request) -> web.StreamResponse:
    user = viewer_of(request)
    if user is None:
        return render(request, "login.html")
    dashboard = dashboard_of(request)
    try:
        bots = await dashboard.api.bot_guild_ids()
    except (DiscordRefused, DiscordUnavailable):
        return refuse(request, 503, "Discord did not answer: try again in a moment.")
    guilds = sorted(
        ({"id": guild_id, "name": name} for guild_id, name in user.managed if guild_id in bots),
        key=lambda g: str(g["name"]).lower(),
    )
    return render(request, "pages/servers.html", {"guilds": guilds})


def register(pages: PageRouter) -> None:
    pages.get("/", servers, name="servers")
