"""What /shift says: the embeds and sentences, in one place for whoever changes the wording."""

from __future__ import annotations

import discord

from bot.core.settings.records import GuildSettings
from bot.core.shifts import ShiftRecord
from bot.core.timefmt import duration_text, from_ms
from bot.discord.discord_text import counted, discord_ts, quoted
from bot.northca.models import Shift
from cogs.style import (
    BRAND,
    ERROR,
    MDT_CHECK,
    MDT_SAVED,
    MDT_SAVING,
    NEUTRAL,
    SHIFT_COLOUR,
    SUCCESS,
    WARNING,
    ShiftState,
)

PAGE_SIZE = 10
PENDING_SHOWN = 15
# Unconfirmed shifts offered with decision buttons at once (one row each; a message holds 5 rows).
DECISIONS_SHOWN = 4

REASON_TEXT = {
    "member": "ended by the officer",
    "admin": "ended by a supervisor",
    "auto": "ended automatically",
    "left": "ended because the member left the server",
    "bot_removed": "ended because the bot was removed from the server",
    "left_game": "left the game",
}


def sync_sentence(shift: ShiftRecord | None, pending_text: str = MDT_SAVING) -> str:
    """What the officer reads about the MDT, from the shift after its first attempt (or None): one short state;
    the detail (Northca's answers) is for supervisors in /shift admin pending."""
    if shift is None or (shift.sync_state not in ("synced", "failed") and not shift.unconfirmed):
        if shift is None or shift.last_attempt_ms is not None:
            return f"{MDT_SAVING} (the MDT is not answering yet; the bot keeps trying)"
        return pending_text
    if shift.sync_state == "synced":
        return MDT_SAVED
    if shift.unconfirmed:
        return f"{MDT_CHECK}: your shift is kept and a supervisor checks it."
    return (
        f"{MDT_CHECK}: the MDT refused it ({quoted(shift.last_error or 'refused')})."
        " Your shift is kept and a supervisor sees it."
    )


def started_embed(shift: ShiftRecord) -> discord.Embed:
    # The start time is said once, in the answer's sentence ("You are on duty since …"), not again here.
    embed = discord.Embed(title="On duty", colour=SUCCESS)
    embed.add_field(name="Department", value=discord.utils.escape_markdown(shift.department or "—"), inline=True)
    officer = discord.utils.escape_markdown(shift.officer_name)
    if shift.officer_badge:
        officer += f" (badge {discord.utils.escape_markdown(shift.officer_badge)})"
    embed.add_field(name="Officer", value=officer, inline=True)
    if shift.callsign:
        embed.add_field(name="Callsign", value=f"`{shift.callsign}`", inline=True)
    embed.set_footer(text="Use /shift break for a break, /shift end to go off duty.")
    return embed


def ended_embed(shift: ShiftRecord, sync: str) -> discord.Embed:
    colour = ERROR if shift.sync_state == "failed" else NEUTRAL
    embed = discord.Embed(
        title="Off duty", colour=colour, description=f"On duty for **{duration_text(shift.duration_ms or 0)}**."
    )
    embed.add_field(name="Started", value=discord_ts(shift.started_at, "f"), inline=True)
    if shift.ended_at is not None:
        embed.add_field(name="Ended", value=discord_ts(shift.ended_at, "f"), inline=True)
    if shift.break_count:
        embed.add_field(
            name="Breaks", value=f"{shift.break_count} ({duration_text(shift.break_ms)}, not counted)", inline=True
        )
    if shift.department:
        embed.add_field(name="Department", value=discord.utils.escape_markdown(shift.department), inline=True)
    how = REASON_TEXT.get(shift.end_reason or "", shift.end_reason or "")
    if shift.end_reason == "admin" and shift.ended_by:
        how = f"ended by <@{shift.ended_by}>"
    if shift.end_note:
        how += f": {discord.utils.escape_markdown(shift.end_note)}"
    embed.add_field(name="How", value=how[:1024], inline=False)
    embed.add_field(name="MDT", value=sync.removeprefix("MDT: ")[:1024], inline=False)
    return embed


def shift_state(shift: ShiftRecord | None) -> ShiftState:
    if shift is None or not shift.is_open:
        return ShiftState.OFF_DUTY
    return ShiftState.ON_BREAK if shift.on_break else ShiftState.ON_DUTY


def status_embed(
    shift: ShiftRecord | None, today_ms: int, week_ms: int, settings: GuildSettings, now_ms: int
) -> discord.Embed:
    """The member's own state (/shift status and the shift panel): its colour and title say on duty, on break or
    off duty (house style, cogs/style.py)."""
    state = shift_state(shift)
    embed = discord.Embed(title=state.value, colour=SHIFT_COLOUR[state])
    if shift is None or state is ShiftState.OFF_DUTY:
        embed.description = "You have no open shift. /shift start puts you on duty."
    else:
        embed.description = f"On duty since {discord_ts(shift.started_at)}."
        if shift.break_started_at is not None:
            embed.description += f" On break since {discord_ts(shift.break_started_at)}: not counted as duty time."
        embed.add_field(name="Elapsed on duty", value=duration_text(shift.duty_ms(now_ms)), inline=True)
        embed.add_field(name="Department", value=discord.utils.escape_markdown(shift.department or "—"), inline=True)
        if shift.break_count:  # counted from the start of each break
            embed.add_field(
                name="Breaks",
                value=f"{shift.break_count} ({duration_text(shift.break_total_ms(now_ms))})",
                inline=True,
            )
    # The one duty-time rule (bot/core/duty): the same figures as the leaderboard and the export.
    embed.add_field(name=f"Today ({settings.timezone})", value=duration_text(today_ms), inline=True)
    embed.add_field(
        name=f"This week ({settings.timezone}, from {settings.week_start.capitalize()})",
        value=duration_text(week_ms),
        inline=True,
    )
    return embed


def remote_line(shift: Shift, end_status: str) -> str:
    name = discord.utils.escape_markdown((shift.officer_name or "Unknown officer")[:40])
    if shift.officer_badge:
        name += f" ({discord.utils.escape_markdown(shift.officer_badge[:16])})"
    parts = [f"**{name}**", discord.utils.escape_markdown((shift.department or "no department")[:40])]
    parts.append(discord_ts(shift.start_time, "f") if shift.start_time else "start unknown")
    if shift.duration_ms is not None:
        parts.append(duration_text(shift.duration_ms))
    elif shift.start_time and shift.end_time:
        parts.append(duration_text(int((shift.end_time - shift.start_time).total_seconds() * 1000)))
    else:
        parts.append("in progress")
    if shift.status and shift.status != end_status:
        parts.append(discord.utils.escape_markdown(shift.status[:20]))
    return " · ".join(parts)


def list_embed(
    shifts: list[Shift], page: int, end_status: str, member_id: int | None, department: str | None, skipped: int = 0
) -> discord.Embed:
    pages = max(1, -(-len(shifts) // PAGE_SIZE))
    page = max(0, min(page, pages - 1))
    shown = shifts[page * PAGE_SIZE : (page + 1) * PAGE_SIZE]
    filters = []
    if member_id:
        filters.append(f"<@{member_id}>")
    if department:
        filters.append(discord.utils.escape_markdown(department))
    title = "Recent shifts on Northca" + (f" ({', '.join(filters)})" if filters and not member_id else "")
    embed = discord.Embed(title=title, colour=BRAND)
    if not shown:
        embed.description = "No shifts found." + (f" Filter: {', '.join(filters)}." if filters else "")
    else:
        head = f"Filter: {', '.join(filters)}\n" if filters else ""
        embed.description = head + "\n".join(remote_line(s, end_status) for s in shown)
    footer = f"Page {page + 1} of {pages} · {len(shifts)} shifts, most recently updated first"
    if skipped:
        footer += f" · {counted(skipped, 'record')} from the MDT left out (unreadable)"
    embed.set_footer(text=footer)
    return embed


def pending_embed(rows: list[ShiftRecord], counts: tuple[int, int, int]) -> discord.Embed:
    waiting, failed, unconfirmed = counts
    if not rows:
        return discord.Embed(
            title="Shifts waiting for Northca",
            colour=SUCCESS,
            description="Nothing is waiting: every ended shift is on Northca.",
        )
    lines = []
    number = 0
    for s in rows:
        ended = discord_ts(s.ended_at) if s.ended_at else "?"
        head = f"<@{s.member_id}> · ended {ended} · {duration_text(s.duration_ms or 0)}"
        if s.unconfirmed:
            number += 1
            tag = f"#{number} " if number <= DECISIONS_SHOWN else ""
            lines.append(
                f"❓ **{tag}unconfirmed: check on Northca** · {head}\n"
                f"  {discord.utils.escape_markdown(quoted(s.unconfirmed_reason or ''))}"
            )
        elif s.sync_state == "failed":
            lines.append(
                f"⛔ **failed** · {head}\n  Northca: {discord.utils.escape_markdown(quoted(s.last_error or 'refused'))}"
            )
        else:
            retry = f", next try {discord_ts(from_ms(s.next_attempt_ms))}" if s.next_attempt_ms else ""
            error = f" (last error: {discord.utils.escape_markdown(quoted(s.last_error))})" if s.last_error else ""
            lines.append(f"⏳ **waiting** · {head}\n  attempt {s.sync_attempts}{retry}{error}")
    embed = discord.Embed(
        title="Shifts waiting for Northca",
        colour=ERROR if failed else WARNING,
        description="\n".join(lines)[:4000],
    )
    more = waiting + failed + unconfirmed - len(rows)
    footer = f"{unconfirmed} unconfirmed, {failed} failed, {waiting} waiting"
    footer += f" ({more} more not shown)" if more > 0 else ""
    footer += ". Failed ones wait for you: fix the cause (e.g. /link), then press Retry now."
    if unconfirmed:
        footer += (
            " Unconfirmed ones may already be on Northca: look for the shift there, then press"
            " “It is on Northca” or “Send anyway” for its number."
        )
    embed.set_footer(text=footer[:2048])
    return embed
