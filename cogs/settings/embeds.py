"""The wording of /settings: every setting with its value and whether it is the default."""

from __future__ import annotations

import discord

from bot.discord_text import fit
from bot.erlc.records import PRC_ACTOR_ID
from bot.settings.records import DISCORD_ACTOR_ID, SETTING_KEYS, SETTING_LABELS, AuditEntry, GuildSettings, Json
from bot.timefmt import discord_ts, from_ms

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
    embed = discord.Embed(title="Settings of this server", colour=discord.Colour.blurple())
    # The ER:LC settings share one field (an embed holds at most 25 fields, and the game's settings keep growing).
    game_lines = [
        f"{LABELS[key]}{' · default' if settings.is_default(key) else ' · changed'}: {value_text(key, settings)}"
        for key in SETTING_KEYS
        if key.startswith("erlc.")
    ]
    for key in SETTING_KEYS:
        if key.startswith("erlc."):
            if game_lines:
                embed.add_field(name=GAME_FIELD, value=fit("\n".join(game_lines), 1024), inline=False)
                game_lines = []
            continue
        marker = " · default" if settings.is_default(key) else " · changed"
        text = value_text(key, settings, missing)
        if key == "role.responder" and responder_not_pinged:
            text = f"{text}\n{RESPONDER_NOT_PINGED}"
        value = fit(text, 1024)
        embed.add_field(name=LABELS[key] + marker, value=value, inline=key != "codes")
    embed.set_footer(text="Defaults come from the bot's config file. Change with /settings …")
    return embed


def audit_text(value: Json) -> str:
    if value is None:
        return "—"
    text = discord.utils.escape_markdown(str(value))
    return text if len(text) <= 120 else text[:119] + "…"


def history_embed(entries: list[AuditEntry], total: int, page: int) -> discord.Embed:
    pages = max(1, -(-total // HISTORY_PAGE))
    embed = discord.Embed(title="Settings history", colour=discord.Colour.dark_grey())
    lines = [
        f"{discord_ts(from_ms(e.at_ms), 'f')} {actor_text(e.actor_id)} **{LABELS.get(e.key, e.key)}**: "
        f"{audit_text(e.old)} → {audit_text(e.new)}"
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
