"""The persistent /roster buttons: they work on any message carrying them, across restarts, and
re-check the guild and the permission at every press."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import discord

from bot.core.rosters import week_start, week_text
from bot.discord.bot import NorthcaBot, bot_of
from bot.discord.custom_ids import DAY, ID, day_of, id_of, optional_id_of, page_number, parses_custom_id
from bot.discord.interactions import answer, edit_answer, guarded, require_guild
from cogs.roster.embeds import attendance_pages, page_footer
from cogs.roster.flows import (
    NO_MENTIONS,
    check_period,
    guild_zone,
    log_to_shift_log,
    period_ms,
    require_roster_supervisor,
    role_ids_of,
)


class DeleteTemplateButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=rf"northca:roster:delete:(?P<template_id>{ID})",
):
    """The confirmation of /roster delete. Supervisors only (checked again at the press)."""

    def __init__(self, template_id: int) -> None:
        self.template_id = template_id
        super().__init__(
            discord.ui.Button(
                label="Delete it", style=discord.ButtonStyle.danger, custom_id=f"northca:roster:delete:{template_id}"
            )
        )

    @classmethod
    @parses_custom_id
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> DeleteTemplateButton:
        return cls(id_of(match["template_id"]))

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        require_roster_supervisor(interaction, "delete scheduled shifts")
        bot, guild_id = bot_of(interaction), require_guild(interaction)
        template = await bot.rosters.template(guild_id, self.template_id)
        await bot.rosters.delete(guild_id, interaction.user.id, self.template_id)
        await edit_answer(interaction, f"🗑️ Deleted the scheduled shift **{template.name}**.", view=None)
        await log_to_shift_log(bot, guild_id, interaction.user.id, f"deleted the scheduled shift **{template.name}**")


def text_view(monday: date, page: int, pages: int) -> discord.ui.View | None:
    if pages <= 1:
        return None
    view = discord.ui.View(timeout=None)
    if page > 0:
        view.add_item(WeekTextButton("page", monday, page - 1))
    if page < pages - 1:
        view.add_item(WeekTextButton("page", monday, page + 1))
    return view


async def week_text_page(
    bot: NorthcaBot, interaction: discord.Interaction[Any], monday: date, page: int
) -> tuple[str, discord.ui.View | None]:
    guild_id = require_guild(interaction)
    zone = guild_zone(bot, guild_id)
    occurrences = await bot.rosters.week(guild_id, zone, monday)
    mine = await bot.rosters.template_ids_for(guild_id, interaction.user.id, role_ids_of(interaction))
    pages = week_text(occurrences, monday, zone, mine=mine, limit=1900)
    page = min(page, len(pages) - 1)
    return pages[page] + page_footer(page, len(pages)), text_view(monday, page, len(pages))


class WeekTextButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=rf"northca:roster:(?P<action>text|page):(?P<monday>{DAY}):(?P<page>[0-9]{{1,3}})",
):
    """`Text version` under the week picture (a new private message), and its page buttons (edit it).
    Anyone in the guild may read the roster."""

    def __init__(self, action: str, monday: date, page: int) -> None:
        self.action, self.monday, self.page = action, monday, page
        label = "Text version" if action == "text" else f"Page {page + 1}"
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.secondary,
                custom_id=f"northca:roster:{action}:{monday.isoformat()}:{page}",
            )
        )

    @classmethod
    @parses_custom_id
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> WeekTextButton:
        # The week of the day carried, within the calendar /roster week accepts (bot/core/parsing.py).
        return cls(match["action"], week_start(day_of(match["monday"])), page_number(match["page"]))

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        text, view = await week_text_page(bot_of(interaction), interaction, self.monday, self.page)
        if self.action == "text":
            await answer(interaction, text, view=view, allowed_mentions=NO_MENTIONS)
        else:
            await edit_answer(interaction, text, view=view, allowed_mentions=NO_MENTIONS)


async def attendance_page(
    interaction: discord.Interaction[Any], first: date, last: date, member_id: int | None, page: int
) -> tuple[str, discord.ui.View | None]:
    bot, guild_id = bot_of(interaction), require_guild(interaction)
    zone = guild_zone(bot, guild_id)
    start_ms, end_ms = period_ms(first, last, zone)
    excused = await bot.roster_leave.excused(guild_id, start_ms, end_ms)
    results = await bot.rosters.attendance(guild_id, zone, start_ms, end_ms, role_members(interaction), excused)
    who = f" of <@{member_id}>" if member_id else ""
    title = f"**Attendance{who}, {first.isoformat()} to {last.isoformat()}** ({zone.key})"
    pages = attendance_pages(results, zone, title, member_id)
    page = min(page, len(pages) - 1)
    view: discord.ui.View | None = None
    if len(pages) > 1:
        view = discord.ui.View(timeout=None)
        for target in (page - 1, page + 1):
            if 0 <= target < len(pages):
                view.add_item(AttendancePageButton(first, last, member_id or 0, target))
    return pages[page] + page_footer(page, len(pages)), view


def role_members(interaction: discord.Interaction[Any]) -> dict[int, list[int]]:
    """Who holds each role of the guild, from the member cache."""
    guild = interaction.guild
    return {role.id: [m.id for m in role.members] for role in guild.roles} if guild is not None else {}


class AttendancePageButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=rf"northca:roster:att:(?P<first>{DAY}):(?P<last>{DAY}):(?P<member>{ID}):(?P<page>[0-9]{{1,3}})",
):
    """The page buttons of /roster attendance. Supervisors only (checked again at every press)."""

    def __init__(self, first: date, last: date, member_id: int, page: int) -> None:
        self.first, self.last, self.member_id, self.page = first, last, member_id, page
        super().__init__(
            discord.ui.Button(
                label=f"Page {page + 1}",
                style=discord.ButtonStyle.secondary,
                custom_id=f"northca:roster:att:{first.isoformat()}:{last.isoformat()}:{member_id}:{page}",
            )
        )

    @classmethod
    @parses_custom_id
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> AttendancePageButton:
        first, last = day_of(match["first"]), day_of(match["last"])
        return cls(first, last, optional_id_of(match["member"]) or 0, page_number(match["page"]))

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        require_roster_supervisor(interaction, "see roster attendance")
        # The limits of /roster attendance again: the dates come from the custom id.
        first, last = check_period(self.first, self.last)
        text, view = await attendance_page(interaction, first, last, self.member_id or None, self.page)
        await edit_answer(interaction, text, view=view, allowed_mentions=NO_MENTIONS)
