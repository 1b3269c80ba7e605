"""The wording of leave requests and the leave list."""

from __future__ import annotations

import discord

from bot.duty import page_of
from bot.leave import Leave
from cogs.style import BRAND, NEUTRAL, SUCCESS, WARNING

PER_PAGE = 15


def _day(ms: int) -> str:
    return f"<t:{ms // 1000}:D>"


def span_text(leave: Leave) -> str:
    return f"{_day(leave.start_ms)} → {_day(leave.end_ms)}"


def request_embed(leave: Leave) -> discord.Embed:
    # Denied or cancelled is no error: grey (red is kept for errors and panic).
    colour = {"pending": WARNING, "approved": SUCCESS}.get(leave.status, NEUTRAL)
    embed = discord.Embed(title="Leave of absence request", colour=colour)
    embed.add_field(name="Member", value=f"<@{leave.member_id}>")
    embed.add_field(name="Dates", value=f"{span_text(leave)} (until the start of the last day shown)")
    embed.add_field(name="Reason", value=leave.reason, inline=False)
    if leave.status == "pending":
        embed.add_field(name="Status", value="Waiting for a supervisor", inline=False)
    else:
        embed.add_field(
            name="Status",
            value=f"{leave.status.capitalize()} by <@{leave.decided_by}> <t:{(leave.decided_ms or 0) // 1000}:R>",
            inline=False,
        )
    embed.set_footer(text=f"Request {leave.id}")
    return embed


def list_embed(leaves: list[Leave], page: int, now_ms: int) -> discord.Embed:
    shown = page_of(leaves, page, PER_PAGE)
    lines = []
    for leave in shown.items:
        state = (
            "🌴 on leave now"
            if leave.current(now_ms)
            else ("⏳ pending" if leave.status == "pending" else "📅 upcoming")
        )
        lines.append(f"<@{leave.member_id}>: {span_text(leave)} — {state}")
    embed = discord.Embed(
        title="Current and upcoming leave",
        description="\n".join(lines) or "Nobody is on leave or has leave coming up.",
        colour=BRAND,
    )
    embed.set_footer(text=f"Page {shown.number + 1} of {shown.pages} · {shown.total} in all")
    return embed
