"""Leave: current and upcoming leave of a server, and the pending requests to approve or deny. The same service
call and rules as the Approve / Deny buttons of `/loa` (bot/core/leave/service.py: never one's own request, each
decided once), audited "from the dashboard" with who; the bot posts the shift-log line and gives the role."""

from __future__ import annotations

from aiohttp import web

from bot.core.errors import InvalidInput, UserFacingError
from bot.core.leave.records import Leave
from bot.web.dashboard.context import GuildContext, guild_page
from bot.web.dashboard.duty_views import field, local_text, names_of
from bot.web.dashboard.routing import PageRouter
from bot.wording import PLAIN, error_text

DONE = {"approved": "Leave approved.", "denied": "Leave denied."}


@guild_page("supervisor")
async def leave(ctx: GuildContext) -> web.StreamResponse:
    return await _page(ctx, DONE.get(ctx.request.query.get("done", "")), None, 200)


async def _page(ctx: GuildContext, notice: str | None, error: str | None, status: int) -> web.StreamResponse:
    leaves = await ctx.services.leave.listed(ctx.guild_id)
    names = await names_of(ctx, {x.member_id for x in leaves})
    now = ctx.dashboard.clock()

    def row(x: Leave) -> dict[str, object]:
        return {
            "id": x.id, "short": x.id[:8], "member_id": x.member_id, "name": names[x.member_id],
            "start": local_text(ctx, x.start_ms)[:10], "end": local_text(ctx, x.end_ms - 1)[:10], "reason": x.reason,
            "status": x.status, "current": x.current(now), "own": x.member_id == ctx.user.user_id,
        }  # fmt: skip

    return ctx.render(
        "pages/leave.html",
        {
            "pending": [row(x) for x in leaves if x.status == "pending"],
            "approved": [row(x) for x in leaves if x.status == "approved"],
            "notice": notice, "error": error,
        },
        status=status,
    )  # fmt: skip


@guild_page("supervisor")
async def decide(ctx: GuildContext) -> web.StreamResponse:
    try:
        decision = field(ctx.form, "decision", 10)
        if decision not in ("approve", "deny"):
            raise InvalidInput.said("Choose Approve or Deny.")
        leave_id = field(ctx.form, "leave", 64)
        if not leave_id:
            raise InvalidInput.said("Pick the request to decide.")
        done = await ctx.services.leave.decide(ctx.guild_id, leave_id, ctx.user.user_id, approve=decision == "approve")
    except UserFacingError as exc:
        return await _page(ctx, None, error_text(exc, PLAIN), 400)
    raise ctx.redirect("leave", done=done.status)


def register(pages: PageRouter) -> None:
    pages.get("/g/{guild_id}/leave", leave, name="leave", nav="Leave")
    pages.post("/g/{guild_id}/leave/decide", decide, name="leave_decide")
