"""Leaderboard and activity: duty time per member in a chosen period (the `/shift leaderboard` service, the same
rule), the quota of each member shown for the activity period, and a chart of the guild's duty hours per week
(server-side SVG, bot/core/duty/chart.py, with the same numbers as a table)."""

from __future__ import annotations

from aiohttp import web
from markupsafe import Markup

from bot.core.duty import MemberDuty, Period, page_of
from bot.core.duty.chart import Bar, hours_text, weekly_hours_svg
from bot.core.duty.periods import recent_weeks
from bot.core.errors import UserFacingError
from bot.core.timefmt import duration_text
from bot.web.dashboard.context import GuildContext, guild_page
from bot.web.dashboard.duty_views import PERIOD_OPTIONS, field, guild_zone, names_of, page_number_of, period_of
from bot.web.dashboard.routing import PageRouter
from bot.wording import PLAIN, error_text

PER_PAGE = 25
CHART_WEEKS = 12


@guild_page("supervisor")
async def leaderboard(ctx: GuildContext) -> web.StreamResponse:
    query = ctx.request.query
    now = ctx.dashboard.clock()
    chosen = field(query, "period", 20)
    department_text = field(query, "department", 40)
    try:
        choice, period = period_of(ctx, chosen, "this_week", now)
        department = ctx.services.shifts.match_department(ctx.guild_id, department_text) if department_text else None
        number = page_number_of(field(query, "page", 10))
    except UserFacingError as exc:
        return ctx.render("pages/leaderboard.html", _empty(chosen, department_text, error_text(exc, PLAIN)), status=400)
    duty = ctx.services.duty
    rows = await duty.leaderboard(ctx.guild_id, period, department=department, now=now)
    shown = page_of(rows, number, PER_PAGE)
    names = await names_of(ctx, [r.member_id for r in shown.items])
    quotas = await _quotas(ctx, choice, shown.items, period)
    tz, week_start = guild_zone(ctx)
    weeks = await duty.weekly(
        ctx.guild_id, recent_weeks(now, tz, week_start, CHART_WEEKS), department=department, now=now
    )
    bars = [Bar(w.first_day.strftime("%d %b"), w.duty_ms / 3_600_000) for w in weeks]
    title = f"Duty hours per week, last {CHART_WEEKS} weeks" + (f" ({department})" if department else "")
    return ctx.render(
        "pages/leaderboard.html",
        {
            "periods": PERIOD_OPTIONS, "choice": choice, "period": period, "department": department or "",
            "rows": [
                {
                    "rank": shown.number * PER_PAGE + i + 1, "member_id": r.member_id, "name": names[r.member_id],
                    "duty": duration_text(r.duty_ms), "shifts": r.shifts, "open": r.open,
                    "quota": quotas.get(r.member_id),
                }
                for i, r in enumerate(shown.items)
            ],
            "page": shown, "show_quota": choice == "activity",
            # Built by weekly_hours_svg, which escapes every text it draws: safe to put in the page as markup.
            "chart": Markup(weekly_hours_svg(bars, title, chart_id="weekly-hours")),
            "chart_title": title, "weeks": [(b.label, hours_text(b.hours)) for b in bars], "error": None,
        },
    )  # fmt: skip


async def _quotas(ctx: GuildContext, choice: str, rows: list[MemberDuty], period: Period) -> dict[int, str]:
    """For the activity period: each listed member's quota (the highest of their roles', as the activity report
    takes it), met or not, or on leave (exempt). Roles are Discord's, as the bot sees the member (cached)."""
    role_quotas = dict(ctx.settings.role_quotas)
    if choice != "activity" or not role_quotas or period.start_ms is None or period.end_ms is None:
        return {}
    on_leave = await ctx.services.leave.on_leave_between(ctx.guild_id, period.start_ms, period.end_ms)
    found: dict[int, str] = {}
    for row in rows:
        member = await ctx.dashboard.api.member(ctx.guild_id, row.member_id)
        hours = [role_quotas[r] for r in (member.role_ids if member else ()) if r in role_quotas]
        if not hours:
            found[row.member_id] = "no quota role"
            continue
        quota_ms = int(max(hours) * 3_600_000)
        if row.member_id in on_leave:
            found[row.member_id] = f"on leave (quota {duration_text(quota_ms)})"
        else:
            met = "met" if row.duty_ms >= quota_ms else "not met"
            found[row.member_id] = f"{met} (quota {duration_text(quota_ms)})"
    return found


def _empty(choice: str, department: str, error: str) -> dict[str, object]:
    return {
        "periods": PERIOD_OPTIONS, "choice": choice, "period": None, "department": department, "rows": [],
        "page": None, "show_quota": False, "chart": "", "chart_title": "", "weeks": [], "error": error,
    }  # fmt: skip


def register(pages: PageRouter) -> None:
    pages.get("/g/{guild_id}/leaderboard", leaderboard, name="leaderboard", nav="Leaderboard")
