"""Exports: the CSV of shifts and time adjustments of a period (optionally one member): the file `/shift export`
attaches, built by the same service (bot/core/duty/export.py: formula-safe cells, the size limit), here downloaded."""

from __future__ import annotations

import logging
import re

from aiohttp import web

from bot.core.errors import UserFacingError
from bot.web.dashboard.context import GuildContext, guild_page
from bot.web.dashboard.duty_views import PERIOD_OPTIONS, field, member_id_of, period_of
from bot.web.dashboard.routing import PageRouter
from bot.wording import PLAIN, error_text

log = logging.getLogger(__name__)


@guild_page("supervisor")
async def exports(ctx: GuildContext) -> web.StreamResponse:
    return ctx.render("pages/exports.html", {"periods": PERIOD_OPTIONS, "choice": "this_month", "member": "",
                                             "error": None})  # fmt: skip


@guild_page("supervisor")
async def download(ctx: GuildContext) -> web.StreamResponse:
    query = ctx.request.query
    now = ctx.dashboard.clock()
    try:
        _, period = period_of(ctx, field(query, "period", 20), "this_month", now)
        member_id = member_id_of(field(query, "member", 25))
    except UserFacingError as exc:
        return ctx.render(
            "pages/exports.html",
            {"periods": PERIOD_OPTIONS, "choice": field(query, "period", 20), "member": field(query, "member", 25),
             "error": error_text(exc, PLAIN)},
            status=400,
        )  # fmt: skip
    exported = await ctx.services.duty.export_csv(ctx.guild_id, period, member_id=member_id, now=now)
    log.info("duty: %s exported %s (member %s) in guild %s from the dashboard", ctx.user.user_id, period.label,
             member_id or "all", ctx.guild_id)  # fmt: skip
    name = "duty-" + re.sub(r"[^a-z0-9]+", "-", period.label.lower()).strip("-") + ".csv"
    return web.Response(
        body=exported.data,
        content_type="text/csv",
        charset="utf-8",
        headers={
            "Content-Disposition": f'attachment; filename="{name}"',
            # Rows left out to stay within the size limit: narrow the period or pick a member for the rest.
            "X-Export-Truncated": "1" if exported.truncated else "0",
        },
    )


def register(pages: PageRouter) -> None:
    pages.get("/g/{guild_id}/exports", exports, name="exports", nav="Exports")
    pages.get("/g/{guild_id}/exports/duty.csv", download, name="exports_csv")
