"""Persistent page buttons of the leaderboard and the adjustment history, and the messages they
show (shared with the slash commands). The page and filters live in the custom id, so a button
works on any message carrying it, across restarts; every press re-checks the guild and, for the
history, the supervisor permission."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any, cast
from zoneinfo import ZoneInfo

import discord

from bot.core.duty import PeriodChoice, page_of, period_for
from bot.core.settings.records import WEEK_DAYS, GuildSettings
from bot.discord.bot import bot_of
from bot.discord.custom_ids import ID, PAGE, UUID, id_of, page_number, parses_custom_id
from bot.discord.interactions import edit_answer, guarded, page_button, page_view, require_guild
from cogs.shift.duty_embeds import (
    HISTORY_PAGE,
    LEADERBOARD_PAGE,
    NOT_ON_NORTHCA,
    VOID_REASON_FIELD,
    adjustment_line,
    history_embed,
    leaderboard_embed,
)
from cogs.shift.flows import require_shift_supervisor, shift_log

if TYPE_CHECKING:
    from bot.discord.bot import NorthcaBot

_PERIODS = "this_week|last_week|this_month|last_month|activity|all_time"
_PAGE_LABELS = ("◀ Previous", "Next ▶")


def guild_clock(settings: GuildSettings) -> tuple[ZoneInfo, int]:
    return ZoneInfo(settings.timezone), WEEK_DAYS.index(settings.week_start)


class LeaderboardPageButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=rf"northca:shift:lb:(?P<period>{_PERIODS}):(?P<page>{PAGE}):(?P<dept>.{{0,40}})",
):
    def __init__(
        self, period: PeriodChoice, page: int, department: str | None, direction: str = "next", disabled: bool = False
    ) -> None:
        self.period, self.page, self.department = period, page, department
        custom_id = f"northca:shift:lb:{period}:{page}:{department or ''}"
        super().__init__(page_button(custom_id, direction, disabled=disabled, labels=_PAGE_LABELS))

    @classmethod
    @parses_custom_id
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> LeaderboardPageButton:
        return cls(cast(PeriodChoice, match["period"]), page_number(match["page"]), match["dept"] or None)

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        bot = bot_of(interaction)
        embed, view = await leaderboard_message(
            bot, require_guild(interaction), self.period, self.page, self.department
        )
        await edit_answer(interaction, embed=embed, view=view)


async def leaderboard_message(
    bot: NorthcaBot, guild_id: int, choice: PeriodChoice, page: int, department: str | None
) -> tuple[discord.Embed, discord.ui.View | None]:
    settings = bot.settings.get(guild_id)
    tz, week_start = guild_clock(settings)
    current = bot.clock()
    period = period_for(choice, current, tz, week_start, settings.activity_period)
    rows = await bot.duty.leaderboard(guild_id, period, department=department, now=current)
    shown = page_of(rows, page, LEADERBOARD_PAGE)
    view = page_view(
        shown.number,
        shown.pages,
        lambda target, direction, disabled: LeaderboardPageButton(choice, target, department, direction, disabled),
    )
    return leaderboard_embed(shown, period.label, department), view


class HistoryPageButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=rf"northca:shift:hist:(?P<member>{ID}):(?P<page>{PAGE})",
):
    def __init__(self, member_id: int, page: int, direction: str = "next", disabled: bool = False) -> None:
        self.member_id, self.page = member_id, page
        custom_id = f"northca:shift:hist:{member_id}:{page}"
        super().__init__(page_button(custom_id, direction, disabled=disabled, labels=_PAGE_LABELS))

    @classmethod
    @parses_custom_id
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> HistoryPageButton:
        return cls(id_of(match["member"]), page_number(match["page"]))

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        # Re-checked on every press: the message may outlive the presser's role.
        require_shift_supervisor(interaction, "see time adjustments")
        embed, view = await history_message(bot_of(interaction), require_guild(interaction), self.member_id, self.page)
        await edit_answer(interaction, embed=embed, view=view)


async def history_message(
    bot: NorthcaBot, guild_id: int, member_id: int, page: int
) -> tuple[discord.Embed, discord.ui.View | None]:
    shown = page_of(await bot.duty.history(guild_id, member_id), page, HISTORY_PAGE)
    view = page_view(
        shown.number,
        shown.pages,
        lambda target, direction, disabled: HistoryPageButton(member_id, target, direction, disabled),
    )
    # Voided shifts are named by when they started, never by their ids.
    started: dict[str, int] = {}
    for adj in shown.items:
        if adj.kind == "void" and adj.shift_id:
            span = await bot.duty.store.shift(guild_id, adj.shift_id)
            if span is not None:
                started[adj.shift_id] = span.started_ms
    return history_embed(member_id, shown, started), view


class VoidConfirmButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=rf"northca:shift:void:(?P<shift_id>{UUID})",
):
    """Confirm on /shift admin void. The permission is checked again at the press."""

    def __init__(self, shift_id: str) -> None:
        self.shift_id = shift_id
        super().__init__(
            discord.ui.Button(
                label="Void the shift", style=discord.ButtonStyle.danger, custom_id=f"northca:shift:void:{shift_id}"
            )
        )

    @classmethod
    @parses_custom_id
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> VoidConfirmButton:
        return cls(match["shift_id"])

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        require_shift_supervisor(interaction, "void a shift")
        guild_id = require_guild(interaction)
        bot = bot_of(interaction)
        # The reason is the one shown on the confirmation (a message only the bot writes).
        embeds = interaction.message.embeds if interaction.message is not None else []
        reason = next((f.value for e in embeds for f in e.fields if f.name == VOID_REASON_FIELD), None) or ""
        done = await bot.duty.void_shift(guild_id, self.shift_id, reason, interaction.user.id)
        span = await bot.duty.store.shift(guild_id, self.shift_id)
        line = adjustment_line(done, span.started_ms if span is not None else None)
        await edit_answer(
            interaction, f"{line} of <@{done.member_id}>.\n{NOT_ON_NORTHCA}", embed=None, view=None,
            allowed_mentions=discord.AllowedMentions.none(),
        )  # fmt: skip
        await shift_log(bot, guild_id, f"🕒 <@{done.member_id}>: {line}")
