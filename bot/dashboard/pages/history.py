"""A server's history: settings changes, time edits, leave decisions and roster changes, newest first, each with
who, when and where from (Discord or the dashboard)."""

from __future__ import annotations

import json

from aiohttp import web

from bot.dashboard.context import GuildContext, guild_page
from bot.dashboard.discord_api import DiscordUnavailable
from bot.dashboard.routing import PageRouter
from bot.history import AREA_LABELS, AREAS, Area, HistoryEntry
from bot.settings.records import DISCORD_ACTOR_ID, SETTING_LABELS

PAGE_SIZE = 50


def _ms_text(raw: str | None) -> str:
    try:
        minutes = round(int(raw or "0") / 60_000)
    except ValueError:
        return raw or ""
    return f"{minutes // 60}h {minutes % 60:02d}m"


def _value(ctx: GuildContext, raw: str | None) -> str:
    """A stored value as text, a role or channel id by its name."""
    if raw is None:
        return "—"
    try:
        value = json.loads(raw)
    except ValueError:
        return raw
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:g}"
    ids = value if isinstance(value, list) else [value]
    if ids and all(isinstance(v, int) and not isinstance(v, bool) for v in ids):
        names = []
        for v in ids:
            role, channel = ctx.guild.role(v), ctx.guild.channel(v)
            names.append(f"@{role.name}" if role else f"#{channel.name}" if channel else str(v))
        return ", ".join(names) if names else "—"
    text = raw if not isinstance(value, str) else value
    return text if len(text) <= 200 else text[:199] + "…"


def _describe(ctx: GuildContext, entry: HistoryEntry) -> str:
    if entry.area == "settings":
        label = SETTING_LABELS.get(entry.action, entry.action)
        return f"{label}: {_value(ctx, entry.before)} → {_value(ctx, entry.after)}"
    if entry.area == "time":
        amount = "" if entry.action == "void" else f" {_ms_text(entry.before)}"
        return f"{entry.action}{amount}: {entry.after or ''}"
    if entry.area == "leave":
        return f"leave {entry.action}" + (f" ({entry.before})" if entry.before else "")
    change = " → ".join(t for t in (entry.before, entry.after) if t)
    return f"{entry.action}" + (f": {change}" if change else "")


async def _names(ctx: GuildContext, ids: set[int]) -> dict[int, str]:
    names = {DISCORD_ACTOR_ID: "Discord"}
    for user_id in ids - set(names):
        try:
            member = await ctx.dashboard.api.member(ctx.guild_id, user_id)
        except DiscordUnavailable:
            member = None
        names[user_id] = member.name if member is not None else f"user {user_id}"
    return names


@guild_page("manage")
async def history(ctx: GuildContext) -> web.StreamResponse:
    area = ctx.request.query.get("area", "")
    areas: tuple[Area, ...] = tuple(a for a in AREAS if a == area) or AREAS
    raw_page = ctx.request.query.get("page", "1")
    page = int(raw_page) if raw_page.isascii() and raw_page.isdigit() and 0 < len(raw_page) < 6 else 1
    page = max(page, 1)
    entries = await ctx.services.history.recent(
        ctx.guild_id, areas=areas, limit=PAGE_SIZE + 1, offset=(page - 1) * PAGE_SIZE
    )
    more = len(entries) > PAGE_SIZE
    entries = entries[:PAGE_SIZE]
    names = await _names(ctx, {e.actor_id for e in entries} | {e.member_id for e in entries if e.member_id})
    rows = [
        {
            "entry": e,
            "actor": names.get(e.actor_id, str(e.actor_id)),
            "member": names.get(e.member_id) if e.member_id else None,
            "area": AREA_LABELS.get(e.area, e.area),
            "what": _describe(ctx, e),
        }
        for e in entries
    ]
    return ctx.render(
        "pages/history.html",
        {"rows": rows, "area": area if area in AREAS else "", "areas": AREA_LABELS, "page": page, "more": more},
    )


def register(pages: PageRouter) -> None:
    pages.get("/g/{guild_id}/history", history, name="history", nav="History")
