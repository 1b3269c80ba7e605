"""The persistent /roster buttons: they work on any message carrying them, across restarts, and
re-check the guild and the permission at every press."""

from __future__ import annotations

import re
from datetime import date
from typing import Any

import discord

from bot.core.errors import InvalidInput, MissingPermission
from bot.core.parsing import whole_number
from bot.core.rosters import week_start, week_text
from bot.core.rosters.records import RosterTemplate
from bot.core.timefmt import from_ms
from bot.discord.bot import NorthcaBot, bot_of
from bot.discord.custom_ids import (
    DAY,
    ID,
    NO_LONGER_VALID,
    RefusedCustomId,
    day_of,
    id_of,
    optional_id_of,
    page_number,
    parses_custom_id,
)
from bot.discord.discord_text import discord_ts
from bot.discord.interactions import answer, edit_answer, guarded, post, require_guild, stable_nonce
from cogs.guild_channels import guild_channel
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


# --- the reminder's next steps ---------------------------------------------------------------------------

REMINDER_ACTIONS = {
    "start": ("Start shift", discord.ButtonStyle.success),
    "cant": ("Can't make it", discord.ButtonStyle.secondary),
}


class ReminderButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=(
        rf"northca:roster:remind:(?P<action>start|cant):(?P<guild>{ID}):(?P<template_id>{ID})"
        rf":(?P<start_s>[0-9]{{1,11}}):(?P<member>{ID})"
    ),
):
    """Under a roster reminder (a DM, or the ping in the reports channel when DMs are closed): Start shift goes on
    duty as /shift start does; Can't make it tells the supervisors, once (the database decides, so a second press or
    a second process tells nobody again). The id carries the server and the member: a DM has no server, and the
    reminder is answered only by the member it is for (checked at every press)."""

    def __init__(self, action: str, guild_id: int, template_id: int, start_ms: int, member_id: int) -> None:
        self.action, self.guild_id, self.template_id = action, guild_id, template_id
        self.start_ms, self.member_id = start_ms, member_id
        label, style = REMINDER_ACTIONS[action]
        super().__init__(
            discord.ui.Button(
                label=label,
                style=style,
                custom_id=f"northca:roster:remind:{action}:{guild_id}:{template_id}:{start_ms // 1000}:{member_id}",
            )
        )

    @classmethod
    @parses_custom_id
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ReminderButton:
        start_s = whole_number(match["start_s"], most=MAX_START_S)
        if start_s is None:
            raise RefusedCustomId(f"start {match['start_s']!r}")
        return cls(
            match["action"], id_of(match["guild"]), id_of(match["template_id"]), start_s * 1000, id_of(match["member"])
        )

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        bot = bot_of(interaction)
        if interaction.user.id != self.member_id:
            raise MissingPermission.said("This reminder is for someone else: only they can answer it.")
        if interaction.guild_id is not None and interaction.guild_id != self.guild_id:
            raise InvalidInput.said(NO_LONGER_VALID)
        guild = bot.get_guild(self.guild_id)
        member = guild.get_member(self.member_id) if guild is not None else None
        if guild is None or member is None:
            raise InvalidInput.said("You are no longer a member of that server, so there is nothing to do here.")
        if self.action == "start":
            await self.start_shift(interaction, bot, member)
        else:
            await self.cant_make_it(interaction, bot, member)

    async def start_shift(self, interaction: discord.Interaction[Any], bot: NorthcaBot, member: discord.Member) -> None:
        """The same service call as /shift start (every rule and gate of the server), in the scheduled shift's
        department when that is one of the server's."""
        templates = {t.id: t for t in await bot.rosters.templates(self.guild_id)}
        template = templates.get(self.template_id)
        department = template.department if template is not None else None
        if department not in bot.shifts.departments(self.guild_id):
            department = None
        shift = await bot.shifts.start(
            self.guild_id, member.id, display_name=member.display_name, department=department
        )
        where = f" in {discord.utils.escape_markdown(department)}" if department else ""
        await edit_answer(
            interaction,
            f"{self._lead(template)}\n✅ You are on duty{where} since {discord_ts(shift.started_at, 'R')}."
            " /shift panel has your buttons.",
            view=None,
            allowed_mentions=NO_MENTIONS,
        )

    async def cant_make_it(
        self, interaction: discord.Interaction[Any], bot: NorthcaBot, member: discord.Member
    ) -> None:
        template, first = await bot.rosters.cant_make_it(self.guild_id, self.template_id, self.start_ms, member.id)
        if first:
            try:
                await tell_supervisors(bot, self.guild_id, member.id, template.name, self.start_ms)
            except Exception:
                # Not passed on: forgotten again, so a later press tries again; the member is told.
                await bot.rosters.withdraw_absence(self.guild_id, self.template_id, self.start_ms, member.id)
                raise
        await edit_answer(
            interaction,
            f"{self._lead(template)}\n🙋 Your supervisors know you can't make it.",
            view=None,
            allowed_mentions=NO_MENTIONS,
        )

    def _lead(self, template: RosterTemplate | None) -> str:
        name = discord.utils.escape_markdown(template.name) if template is not None else "your scheduled shift"
        return f"⏰ **{name}** {discord_ts(from_ms(self.start_ms), 'F')}"


# A start in seconds the bot could have written (year 9999 at most).
MAX_START_S = 253_402_300_799


async def tell_supervisors(bot: NorthcaBot, guild_id: int, member_id: int, name: str, start_ms: int) -> None:
    """A line in the reports channel (where reminders go when DMs are closed), else the shift log, pinging the
    server's supervisor roles. Raises InvalidInput when the server has neither (or it cannot be posted in)."""
    settings = bot.settings.get(guild_id)
    channel = guild_channel(bot, guild_id, settings.reports_channel_id) or guild_channel(
        bot, guild_id, settings.shift_log_channel_id
    )
    if channel is None:
        raise InvalidInput.said(
            "This server has no reports or shift-log channel to tell your supervisors in: tell them yourself."
            " Nothing was sent."
        )
    roles = list(settings.supervisor_role_ids)
    pings = " ".join(f"<@&{r}>" for r in roles)
    text = (
        f"{pings} 🙋 <@{member_id}> can't make it to **{discord.utils.escape_markdown(name)}**"
        f" {discord_ts(from_ms(start_ms), 'F')}."
    ).strip()
    mentions = discord.AllowedMentions(everyone=False, users=False, roles=[discord.Object(r) for r in roles])
    try:
        await post(
            channel,
            text,
            allowed_mentions=mentions,
            nonce=stable_nonce("roster-absence", guild_id, start_ms, member_id),
        )
    except discord.HTTPException as exc:
        raise InvalidInput.said(
            f"I could not tell your supervisors in <#{channel.id}> (Discord refused it: {exc.status})."
            " Press again in a moment, or tell them yourself."
        ) from None


def reminder_view(guild_id: int, template_id: int, start_ms: int, member_id: int) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for action in REMINDER_ACTIONS:
        view.add_item(ReminderButton(action, guild_id, template_id, start_ms, member_id))
    return view
