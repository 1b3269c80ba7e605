"""Rosters: a server's week of scheduled shifts as an HTML calendar (a table, Monday to Sunday, in the server's
time zone), and assigning or unassigning a member or a role: the same service calls as `/roster assign` and
`/roster unassign` (bot/core/rosters/service.py), audited "from the dashboard" with who."""

from __future__ import annotations

from datetime import timedelta

from aiohttp import web

from bot.core.errors import InvalidInput, UserFacingError
from bot.core.parsing import database_id
from bot.core.rosters.occurrences import week_start
from bot.core.rosters.records import TargetKind
from bot.core.timefmt import from_ms
from bot.web.dashboard.context import GuildContext, guild_page
from bot.web.dashboard.duty_views import day_of, field, guild_zone, is_member, member_id_of, names_of
from bot.web.dashboard.routing import PageRouter
from bot.wording import PLAIN, error_text

DONE = {"assigned": "Assigned.", "unassigned": "Unassigned.", "unchanged": "Nothing changed: it already was so."}


@guild_page("supervisor")
async def rosters(ctx: GuildContext) -> web.StreamResponse:
    return await _page(ctx, DONE.get(ctx.request.query.get("done", "")), None, 200)


async def _page(ctx: GuildContext, notice: str | None, error: str | None, status: int) -> web.StreamResponse:
    tz, _ = guild_zone(ctx)
    today = from_ms(ctx.dashboard.clock()).astimezone(tz).date()
    try:
        asked = day_of(field(ctx.request.query, "week", 10), "week's")
    except UserFacingError as exc:
        asked, error, status = None, error or error_text(exc, PLAIN), 400
    monday = week_start(asked or today)
    service = ctx.services.rosters
    occurrences = await service.week(ctx.guild_id, tz, monday)
    templates = await service.templates(ctx.guild_id)
    assignments = await service.store.assignments(ctx.guild_id)
    names = await names_of(ctx, {a.target_id for a in assignments if a.target_kind == "member"})

    def target_name(kind: str, target_id: int) -> str:
        if kind == "member":
            return names[target_id]
        role = ctx.guild.role(target_id)
        return f"@{role.name}" if role is not None else f"role {target_id}"

    assigned: dict[int, list[dict[str, object]]] = {t.id: [] for t in templates}
    for a in assignments:
        assigned.setdefault(a.template_id, []).append(
            {"kind": a.target_kind, "id": a.target_id, "name": target_name(a.target_kind, a.target_id)}
        )
    days = [monday + timedelta(days=i) for i in range(7)]
    cells: dict[object, list[dict[str, object]]] = {d: [] for d in days}
    for o in occurrences:
        day = o.day if o.day in cells else days[0]  # last Sunday's overnight shift shows on Monday
        cells[day].append(
            {
                "name": o.name, "department": o.department, "start": o.start.strftime("%H:%M"),
                "end": o.end.strftime("%H:%M"), "people": assigned.get(o.template_id, []),
            }
        )  # fmt: skip
    roles = [r for r in ctx.guild.roles if r.id != ctx.guild_id and not r.managed]
    return ctx.render(
        "pages/rosters.html",
        {
            "days": [(d, d.strftime("%a %d %b"), cells[d]) for d in days], "zone": tz.key,
            "previous": (monday - timedelta(days=7)).isoformat(), "next": (monday + timedelta(days=7)).isoformat(),
            "templates": [{"id": t.id, "name": t.name, "people": assigned.get(t.id, [])} for t in templates],
            "roles": roles, "notice": notice, "error": error,
        },
        status=status,
    )  # fmt: skip


async def _target(ctx: GuildContext) -> tuple[int, TargetKind, int]:
    """The template, and the member or role of this server, named by the form."""
    template_id = database_id(field(ctx.form, "template", 20))
    if template_id is None:
        raise InvalidInput.said("Pick a scheduled shift.")
    member_id = member_id_of(field(ctx.form, "member", 25))
    role_id = member_id_of(field(ctx.form, "role", 25), "role")
    if (member_id is None) == (role_id is None):
        raise InvalidInput.said("Give either a member or a role (one of the two).")
    if member_id is not None:
        if not await is_member(ctx, member_id):
            raise InvalidInput.said("That user is not a member of this server.")
        return template_id, "member", member_id
    assert role_id is not None
    if ctx.guild.role(role_id) is None:
        raise InvalidInput.said("That role is not one of this server's.")
    return template_id, "role", role_id


@guild_page("supervisor")
async def assign(ctx: GuildContext) -> web.StreamResponse:
    return await _change(ctx, add=True)


@guild_page("supervisor")
async def unassign(ctx: GuildContext) -> web.StreamResponse:
    return await _change(ctx, add=False)


async def _change(ctx: GuildContext, *, add: bool) -> web.StreamResponse:
    try:
        template_id, kind, target_id = await _target(ctx)
        change = ctx.services.rosters.assign if add else ctx.services.rosters.unassign
        changed = await change(ctx.guild_id, ctx.user.user_id, template_id, kind, target_id)
    except UserFacingError as exc:
        return await _page(ctx, None, error_text(exc, PLAIN), 400)
    week = field(ctx.form, "week", 10)
    done = ("assigned" if add else "unassigned") if changed else "unchanged"
    raise ctx.redirect("rosters", done=done, **({"week": week} if week else {}))


def register(pages: PageRouter) -> None:
    pages.get("/g/{guild_id}/rosters", rosters, name="rosters", nav="Rosters")
    pages.post("/g/{guild_id}/rosters/assign", assign, name="rosters_assign")
    pages.post("/g/{guild_id}/rosters/unassign", unassign, name="rosters_unassign")
