"""/settings (Manage Server): show and change this server's settings; the shift-log line per change;
guild leave/return for retention."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.activity_reports import current_period
from bot.core.errors import InvalidInput
from bot.core.settings import SettingsChanged, SettingsService
from bot.core.settings.records import (
    DISCORD_ACTOR_ID,
    ActivityPeriod,
    ButtonStyle,
    ChannelKind,
    GuildSettings,
    OffDutyPolicy,
    RoleKind,
    WeekStart,
    configured_channel_ids,
    configured_role_ids,
)
from bot.core.settings.service import timezone_choices
from bot.discord.discord_text import fit_choices
from bot.discord.interactions import answer, post, require_guild, require_manage_guild
from cogs.activity.embeds import settings_text
from cogs.department_choices import department_autocomplete
from cogs.settings.buttons import confirm_view, history_page
from cogs.settings.embeds import LABELS, change_line, show_embed
from cogs.settings.facts import channel_facts, responder_not_pinged, role_facts
from cogs.settings.panel import open_panel

if TYPE_CHECKING:
    from bot.discord.bot import NorthcaBot

log = logging.getLogger(__name__)

NO_MENTIONS = discord.AllowedMentions.none()


class SettingsCog(commands.Cog):
    settings_group = app_commands.Group(
        name="settings",
        description="This server's settings (Manage Server).",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )
    department_group = app_commands.Group(name="department", description="Departments", parent=settings_group)
    code_group = app_commands.Group(name="code", description="The 10-codes of the status panel", parent=settings_group)

    def __init__(self, bot: NorthcaBot) -> None:
        self.bot = bot

    @property
    def service(self) -> SettingsService:
        return self.bot.settings

    async def cog_load(self) -> None:
        self.bot.events.settings.subscribe(self.on_settings_changed)

    async def cog_unload(self) -> None:
        self.bot.events.settings.unsubscribe(self.on_settings_changed)

    def _admin(self, interaction: discord.Interaction[NorthcaBot], doing: str) -> int:
        require_manage_guild(interaction, doing)
        return require_guild(interaction)

    async def _done(self, interaction: discord.Interaction[NorthcaBot], text: str) -> None:
        await answer(interaction, text, allowed_mentions=NO_MENTIONS)

    # --- commands ---

    @settings_group.command(name="show", description="Every setting, its value, and whether it is the default.")
    async def show(self, interaction: discord.Interaction[NorthcaBot]) -> None:
        guild_id = self._admin(interaction, "see the settings")
        settings = self.service.get(guild_id)
        guild = interaction.guild
        missing: set[int] = set()
        if guild is not None and guild.roles:  # a guild not in the cache: nothing to compare with
            missing |= {r for r in configured_role_ids(settings) if guild.get_role(r) is None}
            missing |= {c for c in configured_channel_ids(settings) if guild.get_channel(c) is None}
        embed = show_embed(settings, frozenset(missing), responder_not_pinged=responder_not_pinged(guild, settings))
        await answer(interaction, embed=embed, allowed_mentions=NO_MENTIONS)

    @settings_group.command(name="panel", description="Change the settings with pickers and forms (only you see it).")
    async def panel(self, interaction: discord.Interaction[NorthcaBot]) -> None:
        self._admin(interaction, "change the settings")
        await open_panel(interaction)

    @settings_group.command(name="remove-role", description="Remove a role (even one deleted in Discord) everywhere.")
    @app_commands.describe(role="A role a setting holds")
    async def remove_role(
        self, interaction: discord.Interaction[NorthcaBot], role: app_commands.Range[str, 1, 25]
    ) -> None:
        guild_id = self._admin(interaction, "change the settings")
        keys = await self.service.remove_role_everywhere(guild_id, interaction.user.id, role)
        names = ", ".join(LABELS[k] for k in keys)
        await self._done(interaction, f"The role is removed from: {names}.")

    @remove_role.autocomplete("role")
    async def configured_role_autocomplete(
        self, interaction: discord.Interaction[NorthcaBot], current: str
    ) -> list[app_commands.Choice[str]]:
        """The roles the settings hold, by name, or "deleted role <id>" for those the server no longer has."""
        guild = interaction.guild
        text = (current or "").strip().lower()
        choices = []
        for role_id in sorted(configured_role_ids(self.service.get(require_guild(interaction)))):
            found = guild.get_role(role_id) if guild is not None else None
            name = f"@{found.name}" if found is not None else f"deleted role {role_id}"
            if text in name.lower() or text in str(role_id):
                choices.append(app_commands.Choice(name=name, value=str(role_id)))
        return fit_choices(choices)

    @settings_group.command(name="channel", description="Set or clear a channel the bot posts to.")
    @app_commands.describe(kind="Which channel", channel="The channel", remove="Clear this channel setting")
    async def channel(
        self,
        interaction: discord.Interaction[NorthcaBot],
        kind: ChannelKind,
        channel: app_commands.AppCommandChannel | None = None,
        remove: bool = False,
    ) -> None:
        guild_id = self._admin(interaction, "change the settings")
        if remove:
            await self.service.set_channel(guild_id, interaction.user.id, kind, None)
            return await self._done(interaction, f"The {kind} channel is cleared.")
        if channel is None:
            raise InvalidInput.said("Pick a channel, or give remove:True to clear it.")
        await self.service.set_channel(guild_id, interaction.user.id, kind, channel_facts(interaction, channel))
        await self._done(interaction, f"The {kind} channel is now <#{channel.id}>.")

    @settings_group.command(name="role", description="Set or remove a role (supervisor roles: add or remove one).")
    @app_commands.describe(kind="Which role", role="The role", remove="Remove this role from the setting")
    async def role(
        self, interaction: discord.Interaction[NorthcaBot], kind: RoleKind, role: discord.Role, remove: bool = False
    ) -> None:
        guild_id = self._admin(interaction, "change the settings")
        await self.service.set_role(guild_id, interaction.user.id, kind, role_facts(interaction, role), remove=remove)
        verb = "removed from" if remove else ("added to" if kind == "supervisor" else "set as")
        await self._done(interaction, f"<@&{role.id}> is {verb} the {kind} role{'s' if kind == 'supervisor' else ''}.")

    @department_group.command(name="add", description="Add a department (with a role given while on duty in it).")
    @app_commands.describe(name="Its name", role="Given while on duty in it", quota_hours="Hours per week expected")
    async def department_add(
        self,
        interaction: discord.Interaction[NorthcaBot],
        name: app_commands.Range[str, 1, 100],
        role: discord.Role | None = None,
        quota_hours: app_commands.Range[float, 0.0, 168.0] | None = None,
    ) -> None:
        guild_id = self._admin(interaction, "change the settings")
        facts = role_facts(interaction, role) if role is not None else None
        settings = await self.service.add_department(guild_id, interaction.user.id, name, facts, quota_hours)
        await self._done(
            interaction, f"Department added: {discord.utils.escape_markdown(settings.departments[-1].name)}."
        )

    @department_group.command(name="remove", description="Remove a department.")
    @app_commands.describe(name="The department")
    async def department_remove(
        self, interaction: discord.Interaction[NorthcaBot], name: app_commands.Range[str, 1, 100]
    ) -> None:
        guild_id = self._admin(interaction, "change the settings")
        await self.service.remove_department(guild_id, interaction.user.id, name)
        await self._done(interaction, f"Department removed: {discord.utils.escape_markdown(name.strip())}.")

    department_remove.autocomplete("name")(department_autocomplete)

    @code_group.command(name="add", description="Add a 10-code to the status panel.")
    @app_commands.describe(
        code="For example 10-99",
        label="For example Officer needs help",
        style="Its kind: success = in service (green), danger = out of service (grey), others = busy (blue)",
    )
    async def code_add(
        self,
        interaction: discord.Interaction[NorthcaBot],
        code: app_commands.Range[str, 1, 40],
        label: app_commands.Range[str, 1, 100],
        style: ButtonStyle = "secondary",
    ) -> None:
        guild_id = self._admin(interaction, "change the settings")
        await self.service.add_code(guild_id, interaction.user.id, code, label, style)
        await self._done(interaction, f"Code added: `{code.strip()}`. The status panels update themselves.")

    @code_group.command(name="remove", description="Remove a 10-code from the status panel.")
    @app_commands.describe(code="The code")
    async def code_remove(
        self, interaction: discord.Interaction[NorthcaBot], code: app_commands.Range[str, 1, 40]
    ) -> None:
        guild_id = self._admin(interaction, "change the settings")
        await self.service.remove_code(guild_id, interaction.user.id, code)
        await self._done(interaction, f"Code removed: `{code.strip()}`. The status panels update themselves.")

    @code_remove.autocomplete("code")
    async def code_autocomplete(
        self, interaction: discord.Interaction[NorthcaBot], current: str
    ) -> list[app_commands.Choice[str]]:
        codes = self.bot.unit_status.code_choices(require_guild(interaction), current)
        return fit_choices([app_commands.Choice(name=f"{c.code} · {c.label}", value=c.code) for c in codes])

    @settings_group.command(name="shifts", description="Shift length, time zone, first day of the week, off-duty rule.")
    @app_commands.describe(
        max_hours="Shifts longer than this end by themselves",
        timezone="For daily and weekly totals, e.g. Europe/London",
        week_start="The first day of a week in totals",
        off_duty="A status click while off duty: prompt to start a shift, or allow",
    )
    async def shifts(
        self,
        interaction: discord.Interaction[NorthcaBot],
        max_hours: app_commands.Range[float, 0.1, 72.0] | None = None,
        timezone: app_commands.Range[str, 1, 64] | None = None,
        week_start: WeekStart | None = None,
        off_duty: OffDutyPolicy | None = None,
    ) -> None:
        guild_id = self._admin(interaction, "change the settings")
        if max_hours is None and timezone is None and week_start is None and off_duty is None:
            raise InvalidInput.said("Give at least one setting to change, for example `/settings shifts max_hours:10`.")
        await self.service.set_shifts(
            guild_id,
            interaction.user.id,
            max_hours=max_hours,
            timezone=timezone,
            week_start=week_start,
            off_duty=off_duty,
        )
        await self._done(interaction, "Shift settings saved. See them with /settings show.")

    @settings_group.command(name="activity", description="The activity period, and whether leave blocks duty.")
    @app_commands.describe(
        period="How long an activity period is (reports are posted when one ends)",
        leave_blocks_duty="Members on approved leave may not go on duty",
    )
    async def activity(
        self,
        interaction: discord.Interaction[NorthcaBot],
        period: ActivityPeriod,
        leave_blocks_duty: bool | None = None,
    ) -> None:
        guild_id = self._admin(interaction, "change the settings")
        after = await self.service.set_shifts(
            guild_id, interaction.user.id, activity_period=period, leave_blocks_duty=leave_blocks_duty
        )
        await self._activity_done(interaction, after)

    @settings_group.command(name="quota", description="Set or remove the hours a role's members owe per period.")
    @app_commands.describe(
        role="The role whose members owe the hours",
        hours="Hours per activity period (e.g. 5 or 2.5)",
        remove="Remove this role's quota instead",
    )
    async def quota(
        self,
        interaction: discord.Interaction[NorthcaBot],
        role: discord.Role,
        hours: app_commands.Range[float, 0.0, 744.0] | None = None,
        remove: bool = False,
    ) -> None:
        guild_id = self._admin(interaction, "change the settings")
        if remove == (hours is not None):
            raise InvalidInput.said(
                "Give either `hours` (to set the quota) or `remove: True` (to remove it), not both."
            )
        after = await self.service.set_role_quota(
            guild_id, interaction.user.id, role_facts(interaction, role), None if remove else hours
        )
        await self._activity_done(interaction, after)

    async def _activity_done(self, interaction: discord.Interaction[NorthcaBot], after: GuildSettings) -> None:
        reports = self.bot.activity_reports
        reports.poke()  # a new period or quota may make a report due now
        now = reports.clock()
        await self._done(interaction, "Saved. " + settings_text(after, current_period(after, now).end_ms))

    @settings_group.command(name="roster", description="How long before a scheduled shift members are reminded.")
    @app_commands.describe(reminder_minutes="Minutes before the start (1 to 1440; default 30)")
    async def roster(
        self, interaction: discord.Interaction[NorthcaBot], reminder_minutes: app_commands.Range[int, 1, 1440]
    ) -> None:
        guild_id = self._admin(interaction, "change the settings")
        await self.service.set_roster_reminder_minutes(guild_id, interaction.user.id, reminder_minutes)
        await self._done(interaction, f"⏰ Members are now reminded {reminder_minutes} minutes before their shifts.")

    @shifts.autocomplete("timezone")
    async def timezone_autocomplete(
        self, interaction: discord.Interaction[NorthcaBot], current: str
    ) -> list[app_commands.Choice[str]]:
        return fit_choices([app_commands.Choice(name=z, value=z) for z in timezone_choices(current)])

    @settings_group.command(name="reset", description="Every setting back to its default (asks to confirm).")
    async def reset(self, interaction: discord.Interaction[NorthcaBot]) -> None:
        self._admin(interaction, "reset the settings")
        await answer(
            interaction,
            "Reset every setting of this server to the bot's defaults? The change is kept in /settings history.",
            view=confirm_view("reset"),
        )

    @settings_group.command(name="history", description="The latest settings changes: who, when, old and new.")
    @app_commands.describe(page="Page (10 changes each), newest first")
    async def history(
        self, interaction: discord.Interaction[NorthcaBot], page: app_commands.Range[int, 1, 1000] = 1
    ) -> None:
        guild_id = self._admin(interaction, "see the settings history")
        embed, view = await history_page(self.bot, guild_id, page - 1)
        await answer(interaction, embed=embed, view=view, allowed_mentions=NO_MENTIONS)

    @settings_group.command(name="delete-data", description="Delete ALL of this server's data (asks to confirm).")
    async def delete_data(self, interaction: discord.Interaction[NorthcaBot]) -> None:
        self._admin(interaction, "delete this server's data")
        await answer(
            interaction,
            "Delete **all** of this server's data: settings and their history, the MDT link, shifts, statuses,"
            " profiles and status panels? This cannot be undone.",
            view=confirm_view("delete"),
        )

    # --- listeners ---

    async def on_settings_changed(self, event: SettingsChanged) -> None:
        """A line in the shift-log channel (the new one, else the one it had unless Discord deleted it) for every
        change."""
        if event.deleted or event.previous is None:
            return
        channel_id = event.settings.shift_log_channel_id
        if channel_id is None and event.actor_id != DISCORD_ACTOR_ID:  # Discord's change: the old one is deleted
            channel_id = event.previous.shift_log_channel_id
        if channel_id is None:
            return
        channel = self.bot.get_partial_messageable(channel_id, guild_id=event.guild_id)
        try:
            await post(
                channel,
                change_line(event.actor_id, event.keys, event.settings, event.previous),
                allowed_mentions=NO_MENTIONS,
            )
        except discord.HTTPException as exc:
            log.warning("guild %s: could not post the settings change to %s (%s)", event.guild_id, channel_id, exc)

    @commands.Cog.listener()
    async def on_guild_remove(self, guild: discord.Guild) -> None:
        await self.service.guild_left(guild.id)

    @commands.Cog.listener()
    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self.service.guild_joined(guild.id)
        await self._forget_missing(guild)  # settings kept over retention may name roles deleted meanwhile

    # A role or channel deleted in Discord leaves the settings (Discord's role option cannot name it any more).
    @commands.Cog.listener()
    async def on_guild_role_delete(self, role: discord.Role) -> None:
        await self.service.forget_deleted(role.guild.id, role_ids=(role.id,))

    @commands.Cog.listener()
    async def on_guild_channel_delete(self, channel: discord.abc.GuildChannel) -> None:
        await self.service.forget_deleted(channel.guild.id, channel_ids=(channel.id,))

    # Deleted while the bot was offline: the guild's GUILD_CREATE (at start or after an outage) says what is left.
    @commands.Cog.listener()
    async def on_guild_available(self, guild: discord.Guild) -> None:
        await self._forget_missing(guild)

    async def _forget_missing(self, guild: discord.Guild) -> None:
        if guild.unavailable:
            return
        await self.service.forget_missing(guild.id, [r.id for r in guild.roles], [c.id for c in guild.channels])
