"""A server's settings: every setting of /settings, grouped, each form calling the same validated, audited setter
of bot/core/settings/service.py as the command (so the same rules and the same messages), roles and channels chosen
from the server's own lists as the bot sees them. The audit records the user and "from the dashboard"."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, get_args

from aiohttp import web

from bot.core.errors import InvalidInput, UserFacingError
from bot.core.parsing import database_id
from bot.core.settings.records import (
    CHANNEL_KINDS,
    SETTING_LABELS,
    ActivityPeriod,
    ButtonStyle,
    ChannelKind,
    GuildSettings,
    OffDutyPolicy,
    RoleKind,
    WeekStart,
    configured_role_ids,
)
from bot.core.settings.service import ERLC_DUTY_TEAMS, ChannelFacts, RoleFacts
from bot.web.dashboard.context import GuildContext, guild_page
from bot.web.dashboard.discord_api import EMBED_LINKS, SEND_MESSAGES, TEXT_CHANNEL_TYPES, VIEW_CHANNEL, GuildView
from bot.web.dashboard.routing import PageRouter
from bot.wording import PLAIN, error_text

ROLE_KINDS: tuple[RoleKind, ...] = get_args(RoleKind)
NEEDED_IN_CHANNEL = ((VIEW_CHANNEL, "View Channel"), (SEND_MESSAGES, "Send Messages"), (EMBED_LINKS, "Embed Links"))
Action = Callable[[GuildContext], Awaitable[str]]


def _text(ctx: GuildContext, name: str) -> str:
    value = ctx.form.get(name, "")
    return value.strip() if isinstance(value, str) else ""


def _choice(ctx: GuildContext, name: str, allowed: tuple[str, ...], what: str) -> str:
    value = _text(ctx, name)
    if value not in allowed:
        raise InvalidInput.said(f"Pick a {what}: {', '.join(allowed)}.")
    return value


def _number(ctx: GuildContext, name: str, what: str, *, optional: bool = False) -> float | None:
    raw = _text(ctx, name)
    if not raw and optional:
        return None
    try:
        value = float(raw)
    except ValueError:
        raise InvalidInput.said(f"The {what} is a number, such as 10 or 2.5.") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise InvalidInput.said(f"The {what} is a number, such as 10 or 2.5.")
    return value


def _whole(ctx: GuildContext, name: str, what: str) -> int:
    raw = _text(ctx, name)
    if not raw.isascii() or not raw.isdigit() or len(raw) > 6:
        raise InvalidInput.said(f"The {what} is a whole number of minutes or days, such as 30.")
    return int(raw)


def _bool(ctx: GuildContext, name: str) -> bool:
    return _text(ctx, name) == "on"


def _bot_top_position(ctx: GuildContext, guild: GuildView, bot_roles: tuple[int, ...]) -> int:
    return max((r.position for r in guild.roles if r.id in bot_roles), default=0)


async def _role(ctx: GuildContext, name: str = "role") -> RoleFacts:
    """The role picked from the server's list, as the setters need it (checked against the server's own roles)."""
    role_id = database_id(_text(ctx, name))
    role = ctx.guild.role(role_id) if role_id is not None else None
    if role is None:
        raise InvalidInput.said("Pick one of this server's roles.")
    me = await ctx.dashboard.api.bot_member(ctx.guild_id)
    top = _bot_top_position(ctx, ctx.guild, me.role_ids if me is not None else ())
    return RoleFacts(
        role.id, role.name, managed=role.managed, is_everyone=role.id == ctx.guild_id, above_bot=role.position >= top
    )


async def _channel(ctx: GuildContext) -> ChannelFacts:
    channel_id = database_id(_text(ctx, "channel"))
    channel = ctx.guild.channel(channel_id) if channel_id is not None else None
    if channel is None:
        raise InvalidInput.said("Pick one of this server's channels.")
    if channel.type not in TEXT_CHANNEL_TYPES:
        raise InvalidInput.said("Pick a text channel.")
    me = await ctx.dashboard.api.bot_member(ctx.guild_id)
    missing: tuple[str, ...] = ()
    if me is not None:
        perms = ctx.guild.channel_permissions_of(me.user_id, me.role_ids, channel.id)
        missing = tuple(label for bit, label in NEEDED_IN_CHANNEL if not perms & bit)
    return ChannelFacts(channel.id, channel.name, missing)


# --- the actions: each parses its fields and calls one setter --------------------------------------------------
async def _set_channel(ctx: GuildContext) -> str:
    kind: ChannelKind = _choice(ctx, "kind", CHANNEL_KINDS, "channel setting")  # type: ignore[assignment]
    actor = ctx.user.user_id
    if _bool(ctx, "remove"):
        await ctx.services.settings.set_channel(ctx.guild_id, actor, kind, None)
        return f"The {kind} channel is cleared."
    facts = await _channel(ctx)
    await ctx.services.settings.set_channel(ctx.guild_id, actor, kind, facts)
    return f"The {kind} channel is now #{facts.name}."


async def _set_role(ctx: GuildContext) -> str:
    kind: RoleKind = _choice(ctx, "kind", ROLE_KINDS, "role setting")  # type: ignore[assignment]
    remove = _bool(ctx, "remove")
    facts = await _role(ctx)
    await ctx.services.settings.set_role(ctx.guild_id, ctx.user.user_id, kind, facts, remove=remove)
    verb = "removed from" if remove else ("added to" if kind == "supervisor" else "set as")
    return f"@{facts.name} is {verb} the {kind} role{'s' if kind == 'supervisor' else ''}."


async def _shifts(ctx: GuildContext) -> str:
    max_hours = _number(ctx, "max_hours", "maximum shift length")
    week_start: WeekStart = _choice(ctx, "week_start", get_args(WeekStart), "first day of the week")  # type: ignore[assignment]
    off_duty: OffDutyPolicy = _choice(ctx, "off_duty", get_args(OffDutyPolicy), "off-duty rule")  # type: ignore[assignment]
    await ctx.services.settings.set_shifts(
        ctx.guild_id, ctx.user.user_id, max_hours=max_hours, timezone=_text(ctx, "timezone"),
        week_start=week_start, off_duty=off_duty,
    )  # fmt: skip
    return "Shift settings saved."


async def _activity(ctx: GuildContext) -> str:
    period: ActivityPeriod = _choice(ctx, "period", get_args(ActivityPeriod), "activity period")  # type: ignore[assignment]
    await ctx.services.settings.set_shifts(
        ctx.guild_id, ctx.user.user_id, activity_period=period, leave_blocks_duty=_bool(ctx, "leave_blocks_duty")
    )
    return "Activity settings saved."


async def _quota(ctx: GuildContext) -> str:
    facts = await _role(ctx)
    hours = None if _bool(ctx, "remove") else _number(ctx, "hours", "quota")
    await ctx.services.settings.set_role_quota(ctx.guild_id, ctx.user.user_id, facts, hours)
    return f"The quota of @{facts.name} is removed." if hours is None else f"@{facts.name} owes {hours:g} hours."


async def _department_add(ctx: GuildContext) -> str:
    facts = await _role(ctx) if _text(ctx, "role") else None
    quota = _number(ctx, "quota_hours", "weekly quota", optional=True)
    after = await ctx.services.settings.add_department(ctx.guild_id, ctx.user.user_id, _text(ctx, "name"), facts, quota)
    return f"Department added: {after.departments[-1].name}."


async def _department_remove(ctx: GuildContext) -> str:
    name = _text(ctx, "name")
    await ctx.services.settings.remove_department(ctx.guild_id, ctx.user.user_id, name)
    return f"Department removed: {name}."


async def _code_add(ctx: GuildContext) -> str:
    style: ButtonStyle = _choice(ctx, "style", get_args(ButtonStyle), "button colour")  # type: ignore[assignment]
    code = _text(ctx, "code")
    await ctx.services.settings.add_code(ctx.guild_id, ctx.user.user_id, code, _text(ctx, "label"), style)
    return f"Code added: {code}. The status panels update themselves."


async def _code_remove(ctx: GuildContext) -> str:
    code = _text(ctx, "code")
    await ctx.services.settings.remove_code(ctx.guild_id, ctx.user.user_id, code)
    return f"Code removed: {code}. The status panels update themselves."


async def _roster(ctx: GuildContext) -> str:
    minutes = _whole(ctx, "reminder_minutes", "reminder lead time")
    await ctx.services.settings.set_roster_reminder_minutes(ctx.guild_id, ctx.user.user_id, minutes)
    return f"Members are now reminded {minutes} minutes before their shifts."


async def _erlc(ctx: GuildContext) -> str:
    """The game's settings, saved together by one setter: every field is checked before anything is saved, so a
    refused field (a typing mistake, a grace out of range) changes none of them."""
    days = _whole(ctx, "presence_days", "presence history")
    grace = _whole(ctx, "gamelock_minutes", "gamelock grace")
    auto = _bool(ctx, "auto_duty")
    if auto and grace <= 0:
        raise InvalidInput.said(
            "Automatic shifts end by gamelock: give gamelock a grace of 1 minute or more, or turn automatic shifts off."
        )
    await ctx.services.settings.set_erlc_game(
        ctx.guild_id, ctx.user.user_id, presence_days=days, calls_to_cad=_bool(ctx, "calls_to_cad"),
        in_game_required=_bool(ctx, "in_game_required"), gamelock_minutes=grace, auto_duty=auto,
        status_from_game=_bool(ctx, "status_from_game"), quota_in_game=_bool(ctx, "quota_in_game"),
    )  # fmt: skip
    return "ER:LC settings saved."


async def _erlc_team(ctx: GuildContext) -> str:
    team = _choice(ctx, "team", ERLC_DUTY_TEAMS, "team")
    department = _text(ctx, "department") or None
    await ctx.services.settings.set_erlc_team_department(ctx.guild_id, ctx.user.user_id, team, department)
    return f"The {team} team is mapped to {department}." if department else f"The {team} team's mapping is removed."


async def _remove_role(ctx: GuildContext) -> str:
    """A role removed from every setting holding it (also one deleted in Discord, named by its id)."""
    keys = await ctx.services.settings.remove_role_everywhere(ctx.guild_id, ctx.user.user_id, _text(ctx, "role"))
    return "The role is removed from: " + ", ".join(SETTING_LABELS.get(k, k) for k in keys) + "."


async def _reset(ctx: GuildContext) -> str:
    if not _bool(ctx, "confirm"):
        raise InvalidInput.said("Tick the box to confirm: every setting goes back to the bot's defaults.")
    await ctx.services.settings.reset(ctx.guild_id, ctx.user.user_id)
    return "Every setting is back to the bot's defaults (kept in the history)."


ACTIONS: dict[str, Action] = {
    "channel": _set_channel,
    "role": _set_role,
    "shifts": _shifts,
    "activity": _activity,
    "quota": _quota,
    "department-add": _department_add,
    "department-remove": _department_remove,
    "code-add": _code_add,
    "code-remove": _code_remove,
    "roster": _roster,
    "erlc": _erlc,
    "erlc-team": _erlc_team,
    "remove-role": _remove_role,
    "reset": _reset,
}


def _page(ctx: GuildContext, *, error: str | None = None, error_form: str | None = None) -> dict[str, Any]:
    settings: GuildSettings = ctx.services.settings.get(ctx.guild_id)
    guild = ctx.guild
    roles = sorted((r for r in guild.roles if r.id != guild.id), key=lambda r: -r.position)
    return {
        "configured_roles": sorted(configured_role_ids(settings)),
        "settings": settings,
        "labels": SETTING_LABELS,
        "roles": roles,
        "role_names": {r.id: r.name for r in guild.roles},
        "channels": sorted(guild.text_channels, key=lambda c: c.name),
        "channel_names": {c.id: c.name for c in guild.channels},
        "channel_kinds": CHANNEL_KINDS,
        "role_kinds": ROLE_KINDS,
        "week_starts": get_args(WeekStart),
        "off_duty_policies": get_args(OffDutyPolicy),
        "periods": get_args(ActivityPeriod),
        "styles": get_args(ButtonStyle),
        "teams": ERLC_DUTY_TEAMS,
        "team_map": dict(settings.erlc_team_departments),
        "saved": ctx.request.query.get("saved", "")[:300],
        "error": error,
        "error_form": error_form,
    }


@guild_page("manage")
async def show(ctx: GuildContext) -> web.StreamResponse:
    return ctx.render("pages/settings.html", _page(ctx))


@guild_page("manage")
async def change(ctx: GuildContext) -> web.StreamResponse:
    name = _text(ctx, "action")
    action = ACTIONS.get(name)
    if action is None:
        return ctx.render("pages/settings.html", _page(ctx, error="Unknown form: reload the page."), status=400)
    try:
        done = await action(ctx)
    except UserFacingError as exc:
        # The setter's own message, as /settings says it; nothing was changed.
        return ctx.render("pages/settings.html", _page(ctx, error=error_text(exc, PLAIN), error_form=name), status=400)
    raise ctx.redirect("settings", saved=done)


def register(pages: PageRouter) -> None:
    pages.get("/g/{guild_id}/settings", show, name="settings", nav="Settings")
    pages.post("/g/{guild_id}/settings", change, name="settings_change")
