"""Shifts: a server's shifts filtered by member, department and dates (keyset pages, newest first), and the
supervisors' time edits of `/shift admin`: add or subtract time, void a shift, each with a reason. The same
validated, audited service calls as the commands (bot/core/duty/service.py), audited "from the dashboard" with who."""

from __future__ import annotations

from aiohttp import web

from bot.core.duty.own import parse_duration_ms
from bot.core.duty.records import ShiftCursor, ShiftFilter, ShiftListing
from bot.core.duty.rule import duty_ms
from bot.core.errors import InvalidInput, UserFacingError
from bot.core.timefmt import duration_text
from bot.web.dashboard.context import GuildContext, guild_page
from bot.web.dashboard.duty_views import day_bounds, day_of, field, is_member, local_text, member_id_of, names_of
from bot.web.dashboard.routing import PageRouter
from bot.wording import PLAIN, error_text

PER_PAGE = 50
_FILTERS = ("member", "department", "from", "to")
DONE = {
    "add": "Time added. It counts from now, in this period.",
    "subtract": "Time subtracted. It counts from now, in this period.",
    "void": "Shift voided: it is kept, and left out of every total.",
}


@guild_page("supervisor")
async def shifts(ctx: GuildContext) -> web.StreamResponse:
    # The notice of a write just made: a fixed text by its code (a link cannot make the page say anything else).
    return await _page(ctx, DONE.get(ctx.request.query.get("done", "")), None, 200)


async def _page(ctx: GuildContext, notice: str | None, error: str | None, status: int) -> web.StreamResponse:
    query = ctx.request.query
    kept = {name: field(query, name, 40) for name in _FILTERS}
    items: list[ShiftListing] = []
    next_url = None
    try:
        member_id = member_id_of(kept["member"])
        department = (
            ctx.services.shifts.match_department(ctx.guild_id, kept["department"]) if kept["department"] else None
        )
        start_ms, end_ms = day_bounds(ctx, day_of(kept["from"], "start"), day_of(kept["to"], "end"))
        after_text = field(query, "after", 90)
        after = ShiftCursor.parse(after_text) if after_text else None
        page = await ctx.services.duty.shift_page(
            ctx.guild_id, ShiftFilter(member_id, department, start_ms, end_ms), after, PER_PAGE
        )
        items = page.items
        if page.next_cursor is not None:
            next_url = ctx.url("shifts", **{k: v for k, v in kept.items() if v}, after=page.next_cursor.text())
    except UserFacingError as exc:
        error, status = error or error_text(exc, PLAIN), 400
    now = ctx.dashboard.clock()
    names = await names_of(ctx, {i.span.member_id for i in items})
    rows = [
        {
            "id": i.span.id, "member_id": i.span.member_id, "name": names[i.span.member_id],
            "officer": i.officer_name, "department": i.span.department or "—", "callsign": i.callsign or "—",
            "started": local_text(ctx, i.span.started_ms), "ended": local_text(ctx, i.span.ended_ms),
            "duty": duration_text(
                duty_ms(i.span.started_ms, i.span.until_ms(now), i.span.break_total_ms(now))
            ),
            "open": i.span.ended_ms is None, "voided": i.voided,
        }
        for i in items
    ]  # fmt: skip
    return ctx.render(
        "pages/shifts.html",
        {
            "filters": kept, "rows": rows, "next_url": next_url, "first_page": "after" not in query,
            "first_url": ctx.url("shifts", **{k: v for k, v in kept.items() if v}),
            "notice": notice, "error": error, "form": _form_values(ctx), "zone": ctx.settings.timezone,
        },
        status=status,
    )  # fmt: skip


def _form_values(ctx: GuildContext) -> dict[str, str]:
    """What a refused form had, shown again so nothing typed is lost."""
    return {name: field(ctx.form, name) for name in ("member", "duration", "department", "reason", "kind")}


@guild_page("supervisor")
async def adjust(ctx: GuildContext) -> web.StreamResponse:
    """Add or subtract duty time (as /shift admin add | subtract)."""
    form = ctx.form
    try:
        kind = field(form, "kind", 10)
        if kind not in ("add", "subtract"):
            raise InvalidInput.said("Choose whether to add or subtract time.")
        member_id = member_id_of(field(form, "member", 25))
        if member_id is None:
            raise InvalidInput.said("Give the member whose time to change (their Discord user id).")
        if not await is_member(ctx, member_id):
            raise InvalidInput.said("That user is not a member of this server.")
        amount = parse_duration_ms(field(form, "duration", 20))
        department_text = field(form, "department", 40)
        department = ctx.services.shifts.match_department(ctx.guild_id, department_text) if department_text else None
        change = ctx.services.duty.add_time if kind == "add" else ctx.services.duty.subtract_time
        done = await change(ctx.guild_id, member_id, amount, field(form, "reason"), ctx.user.user_id, department)
    except UserFacingError as exc:
        return await _page(ctx, None, error_text(exc, PLAIN), 400)
    raise ctx.redirect("shifts", member=str(done.member_id), done=done.kind)


@guild_page("supervisor")
async def void(ctx: GuildContext) -> web.StreamResponse:
    """Void an ended shift: kept, left out of every total (as /shift admin void)."""
    form = ctx.form
    try:
        shift_id = field(form, "shift", 64)
        if not shift_id:
            raise InvalidInput.said("Pick the shift to void.")
        done = await ctx.services.duty.void_shift(ctx.guild_id, shift_id, field(form, "reason"), ctx.user.user_id)
    except UserFacingError as exc:
        return await _page(ctx, None, error_text(exc, PLAIN), 400)
    raise ctx.redirect("shifts", member=str(done.member_id), done="void")


def register(pages: PageRouter) -> None:
    pages.get("/g/{guild_id}/shifts", shifts, name="shifts", nav="Shifts")
    pages.post("/g/{guild_id}/shifts/adjust", adjust, name="shifts_adjust")
    pages.post("/g/{guild_id}/shifts/void", void, name="shifts_void")
