"""The wording of dispatch: the panic alert and the call card."""

from __future__ import annotations

from collections.abc import Sequence

import discord

from bot.core.dispatch import CallRecord, PanicRecord
from bot.core.dispatch.records import GAME_CREATOR, OutboxEntry, PanicResponder
from bot.core.timefmt import from_ms
from bot.core.unit_status.records import PANIC_CODE
from bot.discord.discord_text import discord_ts, fit, numbered
from cogs.style import BRAND, NEUTRAL, PANIC, mdt_state

# The technical state of a record on Northca: for supervisors only (the MDT details button, /call lookup).
NORTHCA_STATE = {
    "pending": "⏳ being sent to Northca; the bot retries by itself",
    "sent": "✅ on Northca",
    "unconfirmed": "⚠️ Northca may have it but did not confirm it: check the MDT; the bot does not send it again",
    "failed": "❌ Northca refused it",
}


def _esc(text: str) -> str:
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))


RESPONDERS_SHOWN = 20  # the list stays short on a phone; the count says how many more


def panic_title(panic: PanicRecord) -> str:
    """What a dispatcher reads at a glance: 🚨 10-33 · unit · location."""
    parts = [f"{PANIC_CODE}", panic.unit_id[:40]]
    if panic.location:
        parts.append(panic.location)
    title = " · ".join(parts)
    return fit(f"🚨 {title}" if panic.active else f"{title} (cleared)", 256)


def responder_lines(responders: Sequence[PanicResponder]) -> str:
    if not responders:
        return "Nobody yet: press **Responding** if you are on your way."
    lines = [
        f"<@{r.member_id}> · `{_esc(r.unit_id)}`" if r.unit_id else f"<@{r.member_id}> · no unit"
        for r in responders[:RESPONDERS_SHOWN]
    ]
    if len(responders) > RESPONDERS_SHOWN:
        lines.append(f"… and {len(responders) - RESPONDERS_SHOWN} more")
    return fit("\n".join(lines), 1024)


def panic_embed(panic: PanicRecord, responders: Sequence[PanicResponder] = ()) -> discord.Embed:
    """The panic alert: who and where in the title, when, who responds (each with their unit), and the MDT's
    state as one short word (the detail is in the log and /shift admin pending, not on a public card)."""
    embed = discord.Embed(title=panic_title(panic), colour=PANIC if panic.active else NEUTRAL)
    at = from_ms(panic.at_ms)
    embed.description = f"<@{panic.member_id}> needs help · {discord_ts(at, 'T')} ({discord_ts(at)})"
    if panic.active:
        embed.add_field(name=f"Responding ({len(responders)})", value=responder_lines(responders), inline=False)
    elif responders:
        embed.add_field(name=f"Responded ({len(responders)})", value=responder_lines(responders), inline=False)
    if not panic.active and panic.cleared_ms is not None:
        embed.add_field(
            name="Cleared", value=f"by <@{panic.cleared_by}> {discord_ts(from_ms(panic.cleared_ms))}", inline=False
        )
    embed.set_footer(text=mdt_state(panic.state))
    return embed


def call_embed(call: CallRecord) -> discord.Embed:
    embed = discord.Embed(
        title=fit(f"Call: {call.classification}" + (" (closed)" if call.closed else ""), 256),
        description=fit(_esc(call.description), 4000),
        colour=NEUTRAL if call.closed else BRAND,
    )
    embed.add_field(name="Location", value=fit(_esc(call.location), 1024), inline=False)
    embed.add_field(name="Priority", value=fit(_esc(priority_text(call.priority)), 1024), inline=True)
    embed.add_field(name="Type", value=fit(_esc(call.call_type), 1024), inline=True)
    embed.add_field(name="Status", value=call.status, inline=True)
    units = ", ".join(f"`{_esc(u)}`" for u in call.units)
    if call.closed:
        # A closed call says so (and who closed it), not "Units assigned (0): none yet".
        closer = f" by <@{call.closed_by}>" if call.closed_by else ""
        embed.add_field(name="Closed", value=f"This call is closed{closer}.", inline=False)
        if units:
            embed.add_field(name=f"Units on it ({len(call.units)})", value=fit(units, 1024), inline=False)
    else:
        embed.add_field(
            name=f"Units assigned ({len(call.units)})",
            value=fit(units or "None yet: press Attach.", 1024),
            inline=False,
        )
    creator = "🎮 the game (an in-game 911 call)" if call.creator_id == GAME_CREATOR else f"<@{call.creator_id}>"
    embed.add_field(name="Created by", value=creator, inline=True)
    # One short MDT state on the public card; the detail is behind "MDT details" (supervisors only).
    state = mdt_state(call.create_state, latest_sent=call.sent_version >= call.version)
    embed.set_footer(text=f"{numbered('Call', call.number)} · {state}")
    return embed


def outbox_sentence(state: str | None) -> str:
    """The technical state, for supervisors."""
    return NORTHCA_STATE.get(state or "pending", NORTHCA_STATE["pending"])


# The priorities a call or ticket is given: picked from a list (a select, or a slash command's choices), never typed.
PRIORITIES: dict[str, str] = {"P1": "Emergency", "P2": "Urgent", "P3": "Routine", "P4": "Low"}


def priority_text(priority: str | None) -> str:
    """`P1 · Emergency` for a known priority; what Northca holds otherwise (a call made elsewhere)."""
    if not priority:
        return "—"
    name = PRIORITIES.get(priority)
    return f"{priority} · {name}" if name else priority


KIND_NAMES = {"call": "Call", "ticket": "Ticket", "report": "Scene report", "panic": "Panic"}


def mdt_details_text(entry: OutboxEntry, call: CallRecord | None = None) -> str:
    """The MDT details button's private answer for a supervisor: what the public card's short state stands for."""
    lines = [lookup_text(entry), f"Attempts: {entry.attempts}"]
    if entry.error:
        lines.append(f"Northca's last answer: {fit(entry.error, 500)}")
    if call is not None and entry.state == "sent" and call.sent_version < call.version:
        lines.append("The latest change (units, status) is still being sent; the bot retries by itself.")
        if call.patch_error:
            lines.append(f"Northca's last answer to it: {fit(call.patch_error, 500)}")
    return fit("\n".join(lines), 1900)


def lookup_text(entry: OutboxEntry) -> str:
    """For a supervisor talking to Northca: the record's short number, its Northca id and MDT, and its state."""
    name = numbered(KIND_NAMES.get(entry.kind, entry.kind), entry.number)
    return (
        f"**{name}** by <@{entry.actor_id}>\nNorthca id: `{entry.id}` (MDT `{entry.mdt_id}`)\n"
        f"Northca: {outbox_sentence(entry.state)}"
    )
