"""The wording of dispatch: the panic alert and the call card."""

from __future__ import annotations

import discord

from bot.core.dispatch import CallRecord, PanicRecord
from bot.core.dispatch.records import GAME_CREATOR, OutboxEntry
from bot.core.timefmt import from_ms
from bot.discord.discord_text import discord_ts, fit, numbered

NORTHCA_STATE = {
    "pending": "⏳ sending to Northca (retried automatically)",
    "sent": "✅ on Northca",
    "unconfirmed": "⚠️ unconfirmed: Northca may have it; check the MDT (it is not sent again)",
    "failed": "❌ Northca refused it",
}


def _esc(text: str) -> str:
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))


def panic_embed(panic: PanicRecord) -> discord.Embed:
    cleared = not panic.active
    embed = discord.Embed(
        title="10-33 PANIC" + (" (cleared)" if cleared else ""),
        colour=discord.Colour.dark_grey() if cleared else discord.Colour.red(),
    )
    embed.add_field(name="Officer", value=f"<@{panic.member_id}>", inline=True)
    embed.add_field(name="Unit", value=f"`{_esc(panic.unit_id)}`", inline=True)
    embed.add_field(name="Location", value=fit(_esc(panic.location or "not given"), 1024), inline=False)
    embed.add_field(
        name="Time", value=f"{discord_ts(from_ms(panic.at_ms), 'T')} ({discord_ts(from_ms(panic.at_ms))})", inline=False
    )
    northca = NORTHCA_STATE[panic.state]
    if panic.state != "sent" and panic.error:
        northca += f" — last answer: {panic.error}"
    embed.add_field(name="Northca", value=fit(northca, 1024), inline=False)
    if cleared and panic.cleared_ms is not None:
        embed.set_footer(text="Cleared")
        embed.add_field(
            name="Cleared", value=f"by <@{panic.cleared_by}> {discord_ts(from_ms(panic.cleared_ms))}", inline=False
        )
    return embed


def call_embed(call: CallRecord) -> discord.Embed:
    embed = discord.Embed(
        title=fit(f"Call: {call.classification}" + (" (closed)" if call.closed else ""), 256),
        description=fit(_esc(call.description), 4000),
        colour=discord.Colour.dark_grey() if call.closed else discord.Colour.orange(),
    )
    embed.add_field(name="Location", value=fit(_esc(call.location), 1024), inline=False)
    embed.add_field(name="Priority", value=fit(_esc(call.priority), 1024), inline=True)
    embed.add_field(name="Type", value=fit(_esc(call.call_type), 1024), inline=True)
    embed.add_field(name="Status", value=call.status, inline=True)
    units = ", ".join(f"`{_esc(u)}`" for u in call.units) or "none yet"
    embed.add_field(name=f"Units assigned ({len(call.units)})", value=fit(units, 1024), inline=False)
    creator = "🎮 the game (an in-game 911 call)" if call.creator_id == GAME_CREATOR else f"<@{call.creator_id}>"
    embed.add_field(name="Created by", value=creator, inline=True)
    northca = NORTHCA_STATE[call.create_state]
    if call.create_state == "sent" and call.sent_version < call.version:
        northca = "⏳ latest change being sent to Northca"
        if call.patch_error:
            northca += f" (last answer: {call.patch_error})"
    embed.add_field(name="Northca", value=fit(northca, 1024), inline=True)
    embed.set_footer(text=numbered("Call", call.number))
    return embed


def outbox_sentence(state: str | None) -> str:
    return NORTHCA_STATE.get(state or "pending", NORTHCA_STATE["pending"])


KIND_NAMES = {"call": "Call", "ticket": "Ticket", "report": "Scene report", "panic": "Panic"}


def lookup_text(entry: OutboxEntry) -> str:
    """For a supervisor talking to Northca: the record's short number, its Northca id and MDT, and its state."""
    name = numbered(KIND_NAMES.get(entry.kind, entry.kind), entry.number)
    return (
        f"**{name}** by <@{entry.actor_id}>\nNorthca id: `{entry.id}` (MDT `{entry.mdt_id}`)\n"
        f"Northca: {outbox_sentence(entry.state)}"
    )
