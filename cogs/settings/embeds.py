"""The wording of /settings: every setting with its value, which ones differ from the defaults, and the
history of changes (values worded as people read them: mentions, never raw ids)."""

from __future__ import annotations

import discord

from bot.core.settings.records import (
    DISCORD_ACTOR_ID,
    KEY_FIELDS,
    SETTING_KEYS,
    SETTING_LABELS,
    AuditEntry,
    GuildSettings,
    Json,
    from_json,
)
from bot.core.timefmt import from_ms
from bot.discord.discord_text import discord_ts, fit
from bot.erlc.records import PRC_ACTOR_ID
from cogs.style import BRAND

HISTORY_PAGE = 10
# The /settings show field holding every ER:LC setting, one line each.
GAME_FIELD = "ER:LC (the game)"
DELETED_MARK = "⚠️ deleted in Discord:"
# Who made a change: an admin, or Discord (a role or channel deleted there left the settings).
DISCORD_ACTOR = "Discord (deleted there)"


def actor_text(actor_id: int | None) -> str:
    if actor_id == DISCORD_ACTOR_ID:
        return DISCORD_ACTOR
    if actor_id == PRC_ACTOR_ID:
        return "PRC (the game's API)"
    return f"<@{actor_id}>" if actor_id else "The bot"


LABELS = SETTING_LABELS


def value_text(key: str, settings: GuildSettings, missing: frozenset[int] = frozenset()) -> str:
    """A setting's value as shown in Discord (mentions render without pinging: sent with no mentions);
    `missing`: ids the guild no longer has (deleted in Discord), marked as such."""
    value = settings.value(key)

    def role(role_id: int) -> str:
        return f"<@&{role_id}> ({DELETED_MARK} role {role_id})" if role_id in missing else f"<@&{role_id}>"

    if key.startswith("channel."):
        if isinstance(value, int) and value in missing:
            return f"<#{value}> ({DELETED_MARK} channel {value})"
        return f"<#{value}>" if value else "not set"
    if key == "role.supervisor":
        return ", ".join(role(r) for r in settings.supervisor_role_ids) or "none (Manage Server only)"
    if key.startswith("role."):
        return role(value) if isinstance(value, int) else "not set"
    if key == "departments":
        parts = []
        for d in settings.departments:
            extra = [role(d.role_id)] if d.role_id else []
            if d.quota_hours is not None:
                extra.append(f"{d.quota_hours:g} h per activity period")
            parts.append(discord.utils.escape_markdown(d.name) + (f" ({', '.join(extra)})" if extra else ""))
        return ", ".join(parts) or "any (no list)"
    if key == "codes":
        return ", ".join(f"`{c.code}` {discord.utils.escape_markdown(c.label)}" for c in settings.codes)
    if key == "max_shift_hours":
        return f"{settings.max_shift_hours:g} h"
    if key == "role_quotas":
        return ", ".join(f"{role(r)}: {h:g} h" for r, h in settings.role_quotas) or "none"
    if key == "roster.reminder_minutes":
        return f"{settings.roster_reminder_minutes} min before a scheduled shift"
    if key == "erlc.presence_days":
        return f"{settings.erlc_presence_days} days"
    if key == "erlc.calls_to_cad":
        return "on" if settings.erlc_calls_to_cad else "off"
    if key == "erlc.in_game_required":
        return "yes (verified and in the ER:LC server)" if settings.erlc_in_game_required else "no"
    if key == "erlc.auto_duty":
        return "yes (joining a duty team in game goes on duty)" if settings.erlc_auto_duty else "no"
    if key == "erlc.status_from_game":
        return (
            "yes (the on-duty code on joining a duty team, the off-duty code on leaving the game)"
            if settings.erlc_status_from_game
            else "no"
        )
    if key == "erlc.quota_in_game":
        return "yes (time in game during shifts)" if settings.erlc_quota_in_game else "no (duty time)"
    if key == "erlc.gamelock_minutes":
        minutes = settings.erlc_gamelock_minutes
        return f"after {minutes} min out of the game" if minutes else "off"
    if key == "erlc.team_departments":
        return (
            ", ".join(
                f"{team} → {discord.utils.escape_markdown(dept)}" for team, dept in settings.erlc_team_departments
            )
            or "none"
        )
    if key == "leave_blocks_duty":
        return "yes" if settings.leave_blocks_duty else "no"
    return discord.utils.escape_markdown(str(value))


# Panic alerts ping the responder role: Discord delivers a bot's role mention only when the role is mentionable or
# the bot has Mention Everyone; otherwise the alert arrives and nobody is notified.
RESPONDER_NOT_PINGED = (
    "⚠️ Panic alerts will not ping this role: it is not mentionable and the bot lacks Mention Everyone. "
    "Turn on “Allow anyone to @mention this role” (Server Settings > Roles) or give the bot Mention Everyone."
)


def show_embed(
    settings: GuildSettings, missing: frozenset[int] = frozenset(), *, responder_not_pinged: bool = False
) -> discord.Embed:
    """Every setting; `missing`: configured ids the guild no longer has (marked, should a deletion be missed);
    `responder_not_pinged`: the bot sees the responder role and could not ping it."""
    embed = discord.Embed(title="Settings of this server", colour=BRAND)
    # Read on a phone: plain names (which settings differ from the defaults is said once, above them, not on
    # every name), the ER:LC settings in one field (an embed holds at most 25 fields).
    changed = [LABELS[key] for key in SETTING_KEYS if not settings.is_default(key)]
    embed.description = fit(
        ("Changed from the defaults: " + ", ".join(changed) + ".") if changed else "Every setting is at its default.",
        1000,
    )
    game_lines = [f"{LABELS[key]}: {value_text(key, settings)}" for key in SETTING_KEYS if key.startswith("erlc.")]
    for key in SETTING_KEYS:
        if key.startswith("erlc."):
            if game_lines:
                embed.add_field(name=GAME_FIELD, value=fit("\n".join(game_lines), 1024), inline=False)
                game_lines = []
            continue
        text = value_text(key, settings, missing)
        if key == "role.responder" and responder_not_pinged:
            text = f"{text}\n{RESPONDER_NOT_PINGED}"
        embed.add_field(name=LABELS[key], value=fit(text, 1024), inline=key != "codes")
    embed.set_footer(text="Defaults come from the bot's config file. Change with /settings …")
    return embed


def audit_text(value: Json, key: str | None = None, settings: GuildSettings | None = None) -> str:
    """A stored old or new value as people read it: a setting's value worded as /settings show words it
    (channels and roles as mentions, never raw ids), given its `key` and a guild's `settings` to word it in;
    anything else (an audited ER:LC action) as stored."""
    if value is None:
        return "—"
    if isinstance(value, dict) and "roblox_id" in value:
        # An ER:LC member link (stored as facts by bot/erlc/store.py): the member, the account, how.
        how = f" ({value['how']})" if value.get("how") else ""
        return f"<@{value.get('member_id')}> = Roblox {value['roblox_id']}{how}"
    if isinstance(value, dict) and "imported" in value:
        return f"CSV import: {value['imported']} links"
    if key in KEY_FIELDS and settings is not None:
        try:
            typed = from_json(key, value)
        except (AssertionError, KeyError, TypeError, ValueError):
            typed = None  # stored by an older version in another shape: shown as stored
        else:
            return fit(value_text(key, settings.with_value(key, typed)), 300)
    text = discord.utils.escape_markdown(str(value))
    return text if len(text) <= 120 else text[:119] + "…"


def history_embed(
    entries: list[AuditEntry], total: int, page: int, settings: GuildSettings | None = None
) -> discord.Embed:
    """A page of the settings history; `settings`: the guild's, to word each value in (mentions, units)."""
    pages = max(1, -(-total // HISTORY_PAGE))
    embed = discord.Embed(title="Settings history", colour=BRAND)
    lines = [
        f"{discord_ts(from_ms(e.at_ms), 'f')} {actor_text(e.actor_id)} **{LABELS.get(e.key, e.key)}**: "
        f"{audit_text(e.old, e.key, settings)} → {audit_text(e.new, e.key, settings)}"
        for e in entries
    ]
    embed.description = "\n".join(lines) or "No settings were changed yet."
    embed.set_footer(text=f"Page {page + 1} of {pages} · {total} changes in all")
    return embed


def change_line(actor_id: int | None, keys: tuple[str, ...], settings: GuildSettings, previous: GuildSettings) -> str:
    """The shift-log line for one change."""
    who = actor_text(actor_id)
    parts = [f"**{LABELS[k]}**: {value_text(k, previous)} → {value_text(k, settings)}" for k in keys]
    return f"⚙️ {who} changed the settings: " + "; ".join(parts)
