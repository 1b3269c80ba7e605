"""The persistent /shift buttons: they work on any message carrying them, across restarts."""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.core.errors import MissingPermission
from bot.core.shifts import Decision, RemoteShifts, ShiftRecord
from bot.discord.bot import bot_of
from bot.discord.custom_ids import ID, UUID, id_of, optional_id_of, page_number, parses_custom_id
from bot.discord.interactions import defer, edit_answer, guarded, page_button, require_guild
from bot.discord.interactions import page_view as pages_view
from cogs.shift.embeds import DECISIONS_SHOWN, PAGE_SIZE, list_embed
from cogs.shift.flows import break_flow, decide_flow, end_flow, require_shift_supervisor, retry_flow

# Parsed once: discord.py parses an emoji given as text with a regular expression at every button built (two per
# /shift start answer).
BREAK_EMOJI = discord.PartialEmoji(name="☕")
END_EMOJI = discord.PartialEmoji(name="⚫")


class ShiftActionButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=rf"northca:shift:(?P<action>break|end):(?P<member_id>{ID})",
):
    """Break / End on the /shift start answer. Only the shift's officer may press them."""

    def __init__(self, action: str, member_id: int) -> None:
        self.action = action
        self.member_id = member_id
        label, style, emoji = (
            ("Break", discord.ButtonStyle.secondary, BREAK_EMOJI)
            if action == "break"
            else ("End shift", discord.ButtonStyle.secondary, END_EMOJI)  # red: errors and panic only
        )
        super().__init__(
            discord.ui.Button(label=label, style=style, emoji=emoji, custom_id=f"northca:shift:{action}:{member_id}")
        )

    @classmethod
    @parses_custom_id
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ShiftActionButton:
        return cls(match["action"], id_of(match["member_id"]))

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        require_guild(interaction)
        if interaction.user.id != self.member_id:
            raise MissingPermission.said(
                f"This button belongs to <@{self.member_id}>'s shift. Use /shift {self.action} for your own."
            )
        if self.action == "break":
            await break_flow(interaction)
        else:
            await end_flow(interaction, interaction.user.id, reason="member")


def shift_buttons(member_id: int) -> discord.ui.View:
    """Break / End shift under a started shift."""
    view = discord.ui.View(timeout=None)
    view.add_item(ShiftActionButton("break", member_id))
    view.add_item(ShiftActionButton("end", member_id))
    return view


class RetrySyncButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=rf"northca:shift:retry:(?P<target>all|{UUID})",
):
    """On /shift admin pending: send failed and waiting shifts again now. Supervisors only."""

    def __init__(self, target: str = "all") -> None:
        self.target = target
        super().__init__(
            discord.ui.Button(
                label="Retry now",
                style=discord.ButtonStyle.primary,
                emoji="🔁",
                custom_id=f"northca:shift:retry:{target}",
            )
        )

    @classmethod
    @parses_custom_id
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> RetrySyncButton:
        return cls(match["target"])

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        require_shift_supervisor(interaction, "retry shifts waiting for Northca")
        await retry_flow(interaction, None if self.target == "all" else self.target)


class UnconfirmedDecisionButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=rf"northca:shift:decide:(?P<decision>send|found):(?P<shift_id>{UUID})",
):
    """On /shift admin pending: a supervisor's decision about one unconfirmed shift."""

    def __init__(self, decision: str, shift_id: str, number: int = 0, row: int | None = None) -> None:
        self.decision = decision
        self.shift_id = shift_id
        prefix = f"#{number}: " if number else ""
        if decision == "send":
            label, style, emoji = f"{prefix}Send anyway", discord.ButtonStyle.danger, "📤"
        else:
            label, style, emoji = f"{prefix}It is on Northca", discord.ButtonStyle.success, "✅"
        super().__init__(
            discord.ui.Button(
                label=label, style=style, emoji=emoji, row=row, custom_id=f"northca:shift:decide:{decision}:{shift_id}"
            )
        )

    @classmethod
    @parses_custom_id
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> UnconfirmedDecisionButton:
        return cls(match["decision"], match["shift_id"])

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        # Re-checked on every press: the message may outlive the presser's role.
        require_shift_supervisor(interaction, "decide about an unconfirmed shift")
        decision: Decision = "send_anyway" if self.decision == "send" else "on_northca"
        await decide_flow(interaction, self.shift_id, decision)


class ShiftPageButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=rf"northca:shift:page:(?P<dir>prev|next):(?P<page>[0-9]{{1,2}}):(?P<limit>[0-9]{{1,3}}):(?P<member>{ID}|-):(?P<dept>.{{0,40}})",
):
    """Previous / Next on /shift list: fetches the list again and shows another page."""

    def __init__(
        self,
        direction: str,
        page: int,
        limit: int,
        member_id: int | None,
        department: str | None,
        disabled: bool = False,
    ) -> None:
        self.direction, self.page, self.limit, self.member_id, self.department = (
            direction,
            page,
            limit,
            member_id,
            department,
        )
        custom_id = f"northca:shift:page:{direction}:{page}:{limit}:{member_id or '-'}:{department or ''}"
        super().__init__(page_button(custom_id, direction, disabled=disabled, emojis=("◀️", "▶️")))

    @classmethod
    @parses_custom_id
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ShiftPageButton:
        member = optional_id_of(match["member"])
        limit = max(1, min(100, page_number(match["limit"])))
        return cls(match["dir"], page_number(match["page"]), limit, member, match["dept"] or None)

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        guild_id = require_guild(interaction)
        await defer(interaction)
        bot = bot_of(interaction)
        remote = await bot.shifts.list_remote(
            guild_id, interaction.user.id, limit=self.limit, department=self.department, member_id=self.member_id
        )
        embed, view = list_message(
            remote, bot.config.shifts.end_status, self.page, self.limit, self.member_id, self.department
        )
        # A single page keeps the message's buttons as they are (MISSING), as before.
        await edit_answer(interaction, embed=embed, view=view or discord.utils.MISSING)


def page_view(
    page: int, pages: int, limit: int, member_id: int | None, department: str | None
) -> discord.ui.View | None:
    view = pages_view(
        page,
        pages,
        lambda target, direction, disabled: ShiftPageButton(direction, target, limit, member_id, department, disabled),
    )
    if view is not None and any(len(getattr(item, "custom_id", None) or "") > 100 for item in view.children):
        return None  # a very long department filter: first page only
    return view


def pending_view(rows: list[ShiftRecord]) -> discord.ui.View | None:
    """Retry now (when anything but unconfirmed shifts waits), and a decision row per unconfirmed shift."""
    if not rows:
        return None
    view = discord.ui.View(timeout=None)
    if any(not s.unconfirmed for s in rows):
        view.add_item(RetrySyncButton("all"))
    unconfirmed = [s for s in rows if s.unconfirmed][:DECISIONS_SHOWN]
    for number, shift in enumerate(unconfirmed, start=1):
        view.add_item(UnconfirmedDecisionButton("found", shift.id, number, row=number))
        view.add_item(UnconfirmedDecisionButton("send", shift.id, number, row=number))
    return view


def list_message(
    remote: RemoteShifts, end_status: str, page: int, limit: int, member_id: int | None, department: str | None
) -> tuple[discord.Embed, discord.ui.View | None]:
    shifts = remote.shifts
    pages = max(1, -(-len(shifts) // PAGE_SIZE))
    page = max(0, min(page, pages - 1))
    embed = list_embed(shifts, page, end_status, member_id, department, remote.skipped)
    return embed, page_view(page, pages, limit, member_id, department)
