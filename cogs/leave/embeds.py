"""The wording of leave requests and the leave list."""

from __future__ import annotations

import discord

from bot.core.duty import page_of
from bot.core.leave import Leave
from bot.discord.discord_text import numbered, span_days_text
from cogs.style import BRAND, NEUTRAL, SUCCESS, WARNING

PER_PAGE = 15


def span_text(leave: Leave, zone: str) -> str:
    """The days asked for, as the member typed them (inclusive, in the server's time zone `zone`); a leave ended
    early says when (a time: a Discord timestamp)."""
    asked = span_days_text(leave.start_ms, leave.planned_end_ms, zone)
    if leave.ended_ms is None or leave.end_ms >= leave.planned_end_ms:
        return asked
    if leave.end_ms <= leave.start_ms:
        return f"{asked}, called off before it began"
    return f"{asked}, ended early <t:{leave.end_ms // 1000}:f>"


def request_embed(leave: Leave, zone: str) -> discord.Embed:
    # Denied or cancelled is no error: grey (red is kept for errors and panic).
    colour = {"pending": WARNING, "approved": SUCCESS}.get(leave.status, NEUTRAL)
    embed = discord.Embed(title="Leave of absence request", colour=colour)
    embed.add_field(name="Member", value=f"<@{leave.member_id}>")
    embed.add_field(name="Dates", value=span_text(leave, zone))
    embed.add_field(name="Reason", value=leave.reason, inline=False)
    if leave.status == "pending":
        embed.add_field(name="Status", value="Waiting for a supervisor", inline=False)
    else:
        embed.add_field(
            name="Status",
            value=f"{leave.status.capitalize()} by <@{leave.decided_by}> <t:{(leave.decided_ms or 0) // 1000}:R>",
            inline=False,
        )
    embed.set_footer(text=numbered("LOA", leave.number))
    return embed


def list_embed(leaves: list[Leave], page: int, now_ms: int, zone: str) -> discord.Embed:
    shown = page_of(leaves, page, PER_PAGE)
    lines = []
    for leave in shown.items:
        state = (
            "🌴 on leave now"
            if leave.current(now_ms)
            else ("⏳ pending" if leave.status == "pending" else "📅 upcoming")
        )
        lines.append(f"{numbered('LOA', leave.number)} · <@{leave.member_id}>: {span_text(leave, zone)} — {state}")
    embed = discord.Embed(
        title="Current and upcoming leave",
        description="\n".join(lines) or "Nobody is on leave or has leave coming up.",
        colour=BRAND,
    )
    embed.set_footer(text=f"Page {shown.number + 1} of {shown.pages} · {shown.total} in all")
    return embed
