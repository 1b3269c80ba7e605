"""A server's overview: who is on duty now, the Northca link, the ER:LC connection (when there is one)."""

from __future__ import annotations

from aiohttp import web

from bot.dashboard.context import GuildContext, guild_page
from bot.dashboard.routing import PageRouter


@guild_page("manage")
async def overview(ctx: GuildContext) -> web.StreamResponse:
    services = ctx.services
    on_duty = await services.shifts.open_in_guild(ctx.guild_id)
    link = await services.links.current(ctx.guild_id)
    erlc = await services.erlc.store.server(ctx.guild_id)
    return ctx.render("pages/overview.html", {"on_duty": on_duty, "link": link, "erlc": erlc})


def register(pages: PageRouter) -> None:
    pages.get("/g/{guild_id}/", overview, name="overview", nav="Overview")
