"""The wording of the duty-management answers: leaderboard, adjustments, history, export."""

from __future__ import annotations

import re

import discord
from discord import app_commands

from bot.core.duty import PERIOD_CHOICES, Adjustment, MemberDuty, Page, PeriodChoice
from bot.core.duty.periods import PERIOD_LABELS
from bot.core.duty.records import ShiftSpan
from bot.core.duty.rule import duty_ms
from bot.core.errors import InvalidInput
from bot.core.timefmt import duration_text, from_ms
from bot.discord.discord_text import counted, discord_ts, local_time_text
from cogs.style import BRAND, WARNING

LEADERBOARD_PAGE = 10
HISTORY_PAGE = 10
NOT_ON_NORTHCA = (
    "Northca is not changed: it has no endpoint to edit a written shift, so adjustments are kept"
    " by this bot and counted in its totals, leaderboard, activity reports and exports."
)
PERIOD_OPTIONS = [app_commands.Choice(name=PERIOD_LABELS[c], value=c) for c in PERIOD_CHOICES]
ADJUSTMENT_DEPARTMENT_TEXT = "Department the time counts for (default: none, counted only without a department filter)"
KIND_TEXT = {"add": "➕ added", "subtract": "➖ subtracted", "void": "🚫 voided"}


def signed_text(ms: int) -> str:
    return ("−" if ms < 0 else "") + duration_text(abs(ms))


def in_game_text(in_game_ms: int | None) -> str:
    """ " · 🎮 1 h 20 min in game" (of the duty time); nothing when the server has no ER:LC links."""
    return "" if in_game_ms is None else f" · 🎮 {duration_text(in_game_ms)} in game"


def leaderboard_embed(page: Page[MemberDuty], period_label: str, department: str | None) -> discord.Embed:
    title = f"Duty leaderboard · {period_label}"
    if department:
        title += f" · {discord.utils.escape_markdown(department)}"
    embed = discord.Embed(title=title, colour=BRAND)
    if not page.items:
        embed.description = "Nobody has duty time in this period yet."
    else:
        first = page.number * LEADERBOARD_PAGE
        embed.description = "\n".join(
            f"`#{first + i}` <@{row.member_id}> · **{signed_text(row.duty_ms)}**"
            f"{in_game_text(row.in_game_ms)}"
            f" · {counted(row.shifts, 'shift')}{' · 🟢 on duty now (counted to now)' if row.open else ''}"
            for i, row in enumerate(page.items, start=1)
        )
    embed.set_footer(
        text=f"Page {page.number + 1} of {page.pages} · {counted(page.total, 'member')}"
        " · time on duty less breaks, with adjustments"
    )
    return embed


def adjustment_line(adj: Adjustment, voided_started_ms: int | None = None) -> str:
    """One adjustment as people read it; a void names the shift by when it started (`voided_started_ms`), never
    by its id."""
    what = KIND_TEXT[adj.kind]
    if adj.kind == "void":
        amount = (
            " a shift"
            if voided_started_ms is None
            else f" the shift started {discord_ts(from_ms(voided_started_ms), 'f')}"
        )
    else:
        amount = f" {duration_text(adj.amount_ms)}"
    if adj.department is not None:
        amount += f" of {discord.utils.escape_markdown(adj.department)} time"
    reason = discord.utils.escape_markdown(adj.reason)
    return f"{what}{amount} by <@{adj.actor_id}> {discord_ts(from_ms(adj.at_ms))}: {reason}"


def history_embed(member_id: int, page: Page[Adjustment], started: dict[str, int] | None = None) -> discord.Embed:
    """`started`: when each voided shift on the page started (by shift id), to name it."""
    embed = discord.Embed(title="Time adjustments", colour=BRAND)
    head = f"<@{member_id}>\n"
    starts = started or {}
    embed.description = head + (
        "\n".join(adjustment_line(a, starts.get(a.shift_id or "")) for a in page.items)
        if page.items
        else "No adjustments for this member."
    )
    embed.set_footer(text=f"Page {page.number + 1} of {page.pages} · {counted(page.total, 'adjustment')}, newest first")
    return embed


def period_choice(value: str) -> PeriodChoice:
    if value not in PERIOD_CHOICES:
        raise InvalidInput.said(f"Pick a period from the list: {', '.join(PERIOD_LABELS.values())}.")
    return value


def export_name(label: str) -> str:
    return "duty-" + re.sub(r"[^a-z0-9]+", "-", label.lower()).strip("-") + ".csv"


def shift_choice_label(guild: discord.Guild | None, span: ShiftSpan, zone: str) -> str:
    """`Name · 28 Nov 2026 14:05 · 2 h 10 min`: what the void autocomplete offers (plain text: an autocomplete
    choice cannot show a Discord timestamp, so the start is in the server's time zone `zone`). A member who left
    is named so, never by their id."""
    member = guild.get_member(span.member_id) if guild is not None else None
    who = member.display_name if member is not None else "a former member"
    when = local_time_text(span.started_ms, zone)
    ended = span.ended_ms if span.ended_ms is not None else span.started_ms
    took = duration_text(duty_ms(span.started_ms, ended, span.break_ms))
    return f"{who[:32]} · {when} · {took}"


VOID_REASON_FIELD = "Reason"


def void_confirm_embed(label: str, member_id: int, reason: str) -> discord.Embed:
    """The void's confirmation; the Confirm button reads the reason back from it."""
    embed = discord.Embed(
        title="Void this shift?",
        colour=WARNING,
        description=f"<@{member_id}> · {discord.utils.escape_markdown(label)}\n"
        "It stays stored, marked voided, and is left out of every total. " + NOT_ON_NORTHCA,
    )
    embed.add_field(name=VOID_REASON_FIELD, value=discord.utils.escape_markdown(reason)[:1024], inline=False)
    return embed
