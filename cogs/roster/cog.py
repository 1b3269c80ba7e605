"""The /roster commands, and the Discord side of roster reminders (DM, or a ping in the reports
channel when DMs are closed). The rules live in bot/core/rosters/."""

from __future__ import annotations

import io
import logging
from collections.abc import Collection
from datetime import date
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.errors import InvalidInput
from bot.core.rosters import (
    DueReminder,
    TargetKind,
    TemplateDraft,
    parse_date,
    parse_days,
    parse_duration,
    parse_start,
    render_week,
)
from bot.core.rosters.records import RosterAssignmentChanged
from bot.core.rosters.reminders import SentReminder
from bot.discord.discord_text import fit_choices
from bot.discord.interactions import answer, defer, post, require_guild, stable_nonce
from cogs.guild_channels import guild_channel
from cogs.roster.buttons import DeleteTemplateButton, WeekTextButton, attendance_page, reminder_view
from cogs.roster.embeds import (
    choice_name,
    is_reminder_of,
    reminder_embed,
    reminder_text,
    reports_reminder_text,
    template_summary,
    upcoming_text,
)
from cogs.roster.flows import (
    NO_MENTIONS,
    guild_zone,
    log_to_shift_log,
    parse_period,
    parse_week,
    pick_template,
    require_roster_supervisor,
    role_ids_of,
    today,
)

if TYPE_CHECKING:
    from bot.core.changes import AdminChange
    from bot.discord.bot import NorthcaBot

log = logging.getLogger(__name__)

DMS_CLOSED = 50007  # "Cannot send messages to this user"
# How far back a takeover looks for a reminder its earlier sender may have sent: the newest messages of the DM
# channel, then of the reports channel (one request each). That sender stopped at most minutes before.
REMINDER_LOOKBACK = 100
CLEAR = ("none", "-")


def _department(bot: NorthcaBot, guild_id: int, given: str | None) -> str | None:
    """The department as the server names it; refused when the server lists departments and this is none of them."""
    if given is None or not given.strip():
        return None
    settings = bot.settings.get(guild_id)
    if not settings.departments:
        return given
    found = settings.department(given.strip())
    if found is None:
        names = ", ".join(settings.department_names)
        raise InvalidInput.said(f"department must be one of this server's: {names[:1500]}")
    return found.name


class RosterCog(commands.Cog):
    roster = app_commands.Group(
        name="roster", description="Scheduled shifts: who is on duty when, reminders, attendance.", guild_only=True
    )

    def __init__(self, bot: NorthcaBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.events.changes.subscribe(self.on_admin_change)

    async def cog_unload(self) -> None:
        self.bot.events.changes.unsubscribe(self.on_admin_change)

    async def on_admin_change(self, change: AdminChange) -> None:
        """An assignment changed on the dashboard: its shift-log line, as /roster assign posts its own."""
        if not isinstance(change, RosterAssignmentChanged) or change.source != "dashboard":
            return
        target = f"<@{change.target_id}>" if change.target_kind == "member" else f"<@&{change.target_id}>"
        verb, where = ("assigned", "to") if change.assigned else ("unassigned", "from")
        name = discord.utils.escape_markdown(change.template.name)
        await log_to_shift_log(
            self.bot, change.guild_id, change.actor_id, f"{verb} {target} {where} **{name}** on the dashboard"
        )

    # --- autocomplete ---

    async def shift_autocomplete(
        self, interaction: discord.Interaction[NorthcaBot], current: str
    ) -> list[app_commands.Choice[str]]:
        templates = await self.bot.rosters.templates(require_guild(interaction))
        wanted = current.strip().lower()
        return fit_choices(
            [app_commands.Choice(name=choice_name(t), value=str(t.id)) for t in templates if wanted in t.name.lower()]
        )

    async def department_autocomplete(
        self, interaction: discord.Interaction[NorthcaBot], current: str
    ) -> list[app_commands.Choice[str]]:
        names = self.bot.settings.get(require_guild(interaction)).department_names
        wanted = current.strip().lower()
        return fit_choices([app_commands.Choice(name=n, value=n) for n in names if wanted in n.lower()])

    # --- templates ---

    @roster.command(name="create", description="Supervisors: schedule a repeating shift.")
    @app_commands.describe(
        name="What it is called, e.g. Night patrol",
        start="Start time in the server's time zone, e.g. 21:30 or 9pm",
        duration="How long, e.g. 90m, 8h or 1h30m (at most 24 h)",
        department="The department it is for",
        days="Days it repeats on, e.g. mon-fri or sat,sun (default: every day)",
        valid_from="First day it runs, YYYY-MM-DD (default: from now on)",
        valid_until="Last day it runs, YYYY-MM-DD (default: no end)",
    )
    async def create(
        self,
        interaction: discord.Interaction[NorthcaBot],
        name: app_commands.Range[str, 1, 100],
        start: app_commands.Range[str, 1, 20],
        duration: app_commands.Range[str, 1, 20],
        department: app_commands.Range[str, 1, 40] | None = None,
        days: app_commands.Range[str, 1, 60] | None = None,
        valid_from: app_commands.Range[str, 1, 20] | None = None,
        valid_until: app_commands.Range[str, 1, 20] | None = None,
    ) -> None:
        require_roster_supervisor(interaction, "schedule shifts")
        guild_id = require_guild(interaction)
        draft = TemplateDraft(
            name,
            _department(self.bot, guild_id, department),
            parse_start(start),
            parse_duration(duration),
            parse_days(days),
            parse_date(valid_from, "valid_from"),
            parse_date(valid_until, "valid_until"),
        )
        created = await self.bot.rosters.create(guild_id, interaction.user.id, draft)
        zone = guild_zone(self.bot, guild_id)
        await answer(
            interaction,
            f"🗓️ Scheduled {template_summary(created)} (times in {zone.key}). Assign people with /roster assign.",
            allowed_mentions=NO_MENTIONS,
        )
        await log_to_shift_log(self.bot, guild_id, interaction.user.id, f"scheduled {template_summary(created)}")

    create.autocomplete("department")(department_autocomplete)

    @roster.command(name="edit", description="Supervisors: change a scheduled shift (only what you give).")
    @app_commands.describe(
        shift="The scheduled shift",
        name="New name",
        start="New start time, e.g. 21:30",
        duration="New length, e.g. 8h",
        department="New department (none: no department)",
        days="New days, e.g. mon-fri",
        valid_from="New first day, YYYY-MM-DD (none: no start)",
        valid_until="New last day, YYYY-MM-DD (none: no end)",
    )
    async def edit(
        self,
        interaction: discord.Interaction[NorthcaBot],
        shift: app_commands.Range[str, 1, 100],
        name: app_commands.Range[str, 1, 100] | None = None,
        start: app_commands.Range[str, 1, 20] | None = None,
        duration: app_commands.Range[str, 1, 20] | None = None,
        department: app_commands.Range[str, 1, 40] | None = None,
        days: app_commands.Range[str, 1, 60] | None = None,
        valid_from: app_commands.Range[str, 1, 20] | None = None,
        valid_until: app_commands.Range[str, 1, 20] | None = None,
    ) -> None:
        require_roster_supervisor(interaction, "change scheduled shifts")
        guild_id = require_guild(interaction)
        old = await pick_template(self.bot, guild_id, shift)
        if department is not None and department.strip().lower() in CLEAR:
            new_department = None
        else:
            new_department = _department(self.bot, guild_id, department) if department else old.department
        draft = TemplateDraft(
            name if name is not None else old.name,
            new_department,
            parse_start(start) if start is not None else old.start_minute,
            parse_duration(duration) if duration is not None else old.duration_minutes,
            parse_days(days) if days is not None else old.days_mask,
            _date_or_old(valid_from, "valid_from", old.from_date),
            _date_or_old(valid_until, "valid_until", old.until_date),
        )
        updated = await self.bot.rosters.edit(guild_id, interaction.user.id, old.id, draft)
        await answer(interaction, f"✏️ Now: {template_summary(updated)}.", allowed_mentions=NO_MENTIONS)
        await log_to_shift_log(
            self.bot,
            guild_id,
            interaction.user.id,
            f"changed a scheduled shift from {template_summary(old)} to {template_summary(updated)}",
        )

    edit.autocomplete("shift")(shift_autocomplete)
    edit.autocomplete("department")(department_autocomplete)

    @roster.command(name="delete", description="Supervisors: delete a scheduled shift (asks to confirm).")
    @app_commands.describe(shift="The scheduled shift")
    async def delete(
        self, interaction: discord.Interaction[NorthcaBot], shift: app_commands.Range[str, 1, 100]
    ) -> None:
        require_roster_supervisor(interaction, "delete scheduled shifts")
        template = await pick_template(self.bot, require_guild(interaction), shift)
        view = discord.ui.View(timeout=None)
        view.add_item(DeleteTemplateButton(template.id))
        await answer(
            interaction,
            f"Delete {template_summary(template)}? Its assignments go with it. Dismiss this message to keep it.",
            view=view,
            allowed_mentions=NO_MENTIONS,
        )

    delete.autocomplete("shift")(shift_autocomplete)

    @roster.command(
        name="assign", description="Supervisors: put a member or everyone with a role on a scheduled shift."
    )
    @app_commands.describe(shift="The scheduled shift", member="A member", role="Everyone with this role")
    async def assign(
        self,
        interaction: discord.Interaction[NorthcaBot],
        shift: app_commands.Range[str, 1, 100],
        member: discord.Member | None = None,
        role: discord.Role | None = None,
    ) -> None:
        await self._assignment(interaction, shift, member, role, add=True)

    assign.autocomplete("shift")(shift_autocomplete)

    @roster.command(name="unassign", description="Supervisors: take a member or a role off a scheduled shift.")
    @app_commands.describe(shift="The scheduled shift", member="A member", role="A role")
    async def unassign(
        self,
        interaction: discord.Interaction[NorthcaBot],
        shift: app_commands.Range[str, 1, 100],
        member: discord.Member | None = None,
        role: discord.Role | None = None,
    ) -> None:
        await self._assignment(interaction, shift, member, role, add=False)

    unassign.autocomplete("shift")(shift_autocomplete)

    async def _assignment(
        self,
        interaction: discord.Interaction[NorthcaBot],
        shift: str,
        member: discord.Member | None,
        role: discord.Role | None,
        *,
        add: bool,
    ) -> None:
        require_roster_supervisor(interaction, "change who is on scheduled shifts")
        guild_id = require_guild(interaction)
        if (member is None) == (role is None):
            raise InvalidInput.said("give either a member or a role (one of the two)")
        template = await pick_template(self.bot, guild_id, shift)
        target = f"<@{member.id}>" if member is not None else f"<@&{role.id}>" if role is not None else ""
        kind: TargetKind = "member" if member is not None else "role"
        target_id = member.id if member is not None else role.id if role is not None else 0
        service = self.bot.rosters
        change = service.assign if add else service.unassign
        changed = await change(guild_id, interaction.user.id, template.id, kind, target_id)
        if add:
            text = (
                f"{target} is on **{template.name}**." if changed else f"{target} was already on **{template.name}**."
            )
        else:
            text = f"{target} is off **{template.name}**." if changed else f"{target} was not on **{template.name}**."
        await answer(interaction, text, allowed_mentions=NO_MENTIONS)
        if changed:
            verb = "assigned" if add else "unassigned"
            where = "to" if add else "from"
            await log_to_shift_log(
                self.bot, guild_id, interaction.user.id, f"{verb} {target} {where} **{template.name}**"
            )

    # --- seeing it ---

    @roster.command(name="show", description="The week's schedule as a picture (yours highlighted).")
    @app_commands.describe(week="this (default), next, last, +N/-N weeks, or a date in the week (YYYY-MM-DD)")
    async def show(
        self, interaction: discord.Interaction[NorthcaBot], week: app_commands.Range[str, 1, 20] | None = None
    ) -> None:
        guild_id = require_guild(interaction)
        zone = guild_zone(self.bot, guild_id)
        monday = parse_week(week, today(self.bot, zone))
        occurrences = await self.bot.rosters.week(guild_id, zone, monday)
        mine = await self.bot.rosters.template_ids_for(guild_id, interaction.user.id, role_ids_of(interaction))
        guild_name = interaction.guild.name if interaction.guild is not None else "Roster"
        picture = render_week(occurrences, monday, zone, mine=mine, title=guild_name[:60])
        view = discord.ui.View(timeout=None)
        view.add_item(WeekTextButton("text", monday, 0))
        await answer(
            interaction,
            f"Week of {monday.isoformat()} ({zone.key}): {len(occurrences)} scheduled shifts;"
            " yours are highlighted. **Text version** for a screen reader.",
            view=view,
            file=discord.File(io.BytesIO(picture.png), filename=f"roster-{monday.isoformat()}.png"),
        )

    @roster.command(name="mine", description="Your next scheduled shifts.")
    async def mine(self, interaction: discord.Interaction[NorthcaBot]) -> None:
        guild_id = require_guild(interaction)
        zone = guild_zone(self.bot, guild_id)
        upcoming = await self.bot.rosters.upcoming_for(
            guild_id, zone, interaction.user.id, role_ids_of(interaction), limit=10
        )
        await answer(interaction, upcoming_text(upcoming), allowed_mentions=NO_MENTIONS)

    # --- reminders and attendance ---

    @roster.command(
        name="reminders", description="Supervisors: how long before a scheduled shift members are reminded."
    )
    @app_commands.describe(minutes="Minutes before the start (1 to 1440; default 30)")
    async def reminders(
        self, interaction: discord.Interaction[NorthcaBot], minutes: app_commands.Range[int, 1, 1440]
    ) -> None:
        require_roster_supervisor(interaction, "change roster reminders")
        guild_id = require_guild(interaction)
        # Audited by the settings service; its shift-log line comes from the settings cog, as for /settings roster.
        await self.bot.settings.set_roster_reminder_minutes(guild_id, interaction.user.id, minutes)
        await answer(interaction, f"⏰ Members are now reminded {minutes} minutes before their scheduled shifts.")

    @roster.command(name="attendance", description="Supervisors: who came to scheduled shifts (present, late, absent).")
    @app_commands.describe(
        period="last-week (default), this-week, today, yesterday, a date, or 2026-12-01..2026-12-07",
        member="Only this member",
    )
    async def attendance(
        self,
        interaction: discord.Interaction[NorthcaBot],
        period: app_commands.Range[str, 1, 30] | None = None,
        member: discord.Member | None = None,
    ) -> None:
        require_roster_supervisor(interaction, "see roster attendance")
        zone = guild_zone(self.bot, require_guild(interaction))
        first, last = parse_period(period, today(self.bot, zone))
        await defer(interaction, ephemeral=True, thinking=True)
        text, view = await attendance_page(interaction, first, last, member.id if member else None, 0)
        await answer(interaction, text, view=view, allowed_mentions=NO_MENTIONS)


class DiscordReminderDelivery:
    """The `ReminderDelivery` port (bot/core/ports.py) on Discord: a DM, or a ping in the reports channel."""

    def __init__(self, bot: NorthcaBot) -> None:
        self.bot = bot

    def guild_ids(self) -> Collection[int]:
        return [g.id for g in self.bot.guilds]

    def role_members(self, guild_id: int) -> dict[int, list[int]]:
        guild = self.bot.get_guild(guild_id)
        return {role.id: [m.id for m in role.members] for role in guild.roles} if guild is not None else {}

    async def deliver(self, guild_id: int, reminder: DueReminder) -> SentReminder | None:
        guild = self.bot.get_guild(guild_id)
        member = guild.get_member(reminder.member_id) if guild is not None else None
        if guild is None or member is None:
            log.info("roster reminder skipped: member %s is not in guild %s", reminder.member_id, guild_id)
            return None
        o = reminder.occurrence
        try:
            sent = await post(
                member, reminder_text(o), embed=reminder_embed(o), allowed_mentions=NO_MENTIONS,
                nonce=reminder_nonce(guild_id, reminder, "dm"), view=next_steps(guild_id, reminder),
            )  # fmt: skip
            return SentReminder(sent.channel.id, sent.id)
        except discord.Forbidden as exc:
            if exc.code != DMS_CLOSED:
                raise
        channel = guild_channel(self.bot, guild.id, self.bot.settings.get(guild.id).reports_channel_id)
        if channel is None:
            log.warning(
                "member %s has DMs closed and guild %s has no reports channel: reminder lost", member.id, guild_id
            )
            return None
        pinged = await post(
            channel,
            reports_reminder_text(member.id, o),
            embed=reminder_embed(o),
            allowed_mentions=discord.AllowedMentions(everyone=False, roles=False, users=[member]),
            nonce=reminder_nonce(guild_id, reminder, "ping"),
            view=next_steps(guild_id, reminder),
        )
        return SentReminder(channel.id, pinged.id)

    async def find_sent(self, guild_id: int, reminder: DueReminder) -> SentReminder | None:
        """The reminder among the newest messages of the member's DM channel, or their ping in the reports channel."""
        guild = self.bot.get_guild(guild_id)
        member = guild.get_member(reminder.member_id) if guild is not None else None
        me = self.bot.user
        if guild is None or member is None or me is None:
            return None
        dm = member.dm_channel or await member.create_dm()
        found = await self._find_in(dm, me.id, reminder, None)
        channel = guild_channel(self.bot, guild.id, self.bot.settings.get(guild.id).reports_channel_id)
        if found is None and channel is not None:
            found = await self._find_in(channel, me.id, reminder, f"<@{member.id}>")
        return found

    @staticmethod
    async def _find_in(
        channel: discord.abc.Messageable, my_id: int, reminder: DueReminder, starts_with: str | None
    ) -> SentReminder | None:
        async for message in channel.history(limit=REMINDER_LOOKBACK):
            if (
                message.author.id == my_id
                and any(is_reminder_of(e, reminder.occurrence) for e in message.embeds)
                and (starts_with is None or message.content.startswith(starts_with))
            ):
                return SentReminder(message.channel.id, message.id)
        return None


def next_steps(guild_id: int, reminder: DueReminder) -> discord.ui.View:
    """Start shift / Can't make it under the reminder (persistent: they work however late they are pressed)."""
    o = reminder.occurrence
    return reminder_view(guild_id, o.template_id, o.start_ms, reminder.member_id)


def reminder_nonce(guild_id: int, reminder: DueReminder, where: str) -> int:
    """The same for every sending of one member's reminder of one occurrence (`where`: dm or ping)."""
    o = reminder.occurrence
    return stable_nonce(f"roster-reminder-{where}", guild_id, o.template_id, o.start_ms, reminder.member_id)


def _date_or_old(given: str | None, what: str, old: date | None) -> date | None:
    """The date given, None for `none`, or the old one when not given."""
    if given is None:
        return old
    if given.strip().lower() in CLEAR:
        return None
    return parse_date(given, what)
