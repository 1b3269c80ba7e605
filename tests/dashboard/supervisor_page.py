"""A supervisor-only page for the tests (the real ones, time edits and leave decisions, use the same decorator)."""

from __future__ import annotations

from aiohttp import web

from bot.dashboard.context import GuildContext, guild_page
from bot.dashboard.routing import PageRouter


@guild_page("supervisor")
async def decisions(ctx: GuildContext) -> web.StreamResponse:
    return web.Response(text=f"decisions of {ctx.guild.name} (manager: {ctx.manager})")


def register(pages: PageRouter) -> None:
    pages.get("/g/{guild_id}/test-decisions", decisions, name="test_decisions")
