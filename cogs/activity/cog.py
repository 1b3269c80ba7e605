"""/activity settings and /activity quota (Manage Server), /shift activity (supervisors), and the
scheduled report's posting (the publisher of bot.activity_reports.ActivityReporter).

The period and quota commands live here rather than under /settings while /settings is written on
another branch; they call the same SettingsService (validated, audited)."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Literal

import discord
from discord import app_commands
from discord.ext import commands

from bot.activity_reports import current_period
from bot.duty import Period
from bot.errors import InvalidInput
from bot.interactions import answer, require_guild, require_manage_guild
from bot.settings import GuildSettings
from bot.settings.service import RoleFacts
from cogs.activity.buttons import page_view
from cogs.activity.embeds import MAX_REPORT_MESSAGES, PER_PAGE, report_embed, report_pages, settings_text
from cogs.activity.report import Which, build_report, period_of
from cogs.guild_channels import guild_channel, post_in, shift_log
from cogs.supervisor_check import require_guild_supervisor

if TYPE_CHECKING:
    from bot.bot import NorthcaBot

log = logging.getLogger(__name__)


class ActivityCog(commands.Cog):
    activity = app_commands.Group(
        name="activity",
        description="Activity periods and hour quotas (Manage Server).",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )

    def __init__(self, bot: NorthcaBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.services.activity_reports.publisher = self.publish

    async def cog_unload(self) -> None:
        self.bot.services.activity_reports.publisher = None

    @activity.command(name="settings", description="Set the activity period and whether leave blocks going on duty.")
    @app_commands.describe(
        period="How long an activity period is (reports are posted when one ends)",
        leave_blocks_duty="Members on approved leave may not go on duty",
    )
    async def settings(
        self,
        interaction: discord.Interaction[NorthcaBot],
        period: Literal["weekly", "biweekly", "monthly"],
        leave_blocks_duty: bool | None = None,
    ) -> None:
        require_manage_guild(interaction, "change activity settings")
        guild_id = require_guild(interaction)
        before = self.bot.settings.get(guild_id)
        after = await self.bot.settings.set_shifts(
            guild_id, interaction.user.id, activity_period=period, leave_blocks_duty=leave_blocks_duty
        )
        await self._changed(interaction, before, after)

    @activity.command(name="quota", description="Set or remove the hours a role's members owe per activity period.")
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
        require_manage_guild(interaction, "change quotas")
        guild_id = require_guild(interaction)
        if remove == (hours is not None):
            raise InvalidInput("Give either `hours` (to set the quota) or `remove: True` (to remove it), not both.")
        facts = RoleFacts(role.id, role.name, managed=role.managed, is_everyone=role.is_default())
        before = self.bot.settings.get(guild_id)
        after = await self.bot.settings.set_role_quota(guild_id, interaction.user.id, facts, None if remove else hours)
        await self._changed(interaction, before, after)

    async def _changed(
        self, interaction: discord.Interaction[NorthcaBot], before: GuildSettings, after: GuildSettings
    ) -> None:
        now = self.bot.services.activity_reports.clock()
        text = settings_text(after, current_period(after, now).end_ms)
        if before != after:
            await shift_log(
                self.bot, after.guild_id, f"⚙️ <@{interaction.user.id}> changed the activity settings. {text}"
            )
            self.bot.services.activity_reports.poke()
        await answer(interaction, ("Saved. " if before != after else "Nothing changed. ") + text)

    # --- the scheduled report ---

    async def publish(self, settings: GuildSettings, period: Period, now: int) -> tuple[int, int] | None:
        """Posts the report of a period that ended to the reports channel; where the first message is."""
        guild = self.bot.get_guild(settings.guild_id)
        channel = guild_channel(self.bot, settings.guild_id, settings.reports_channel_id)
        if guild is None or channel is None:
            log.warning("guild %s: no reports channel to post the activity report in", settings.guild_id)
            return None
        report = await build_report(self.bot, guild, period, now)
        next_end = current_period(settings, now).end_ms
        first: discord.Message | None = None
        pages = report_pages(report)
        for page in range(min(pages, MAX_REPORT_MESSAGES)):
            embed = report_embed(report, page, title="Activity report: the period has ended")
            text = None
            if page == 0:
                text = f"The next activity period ends <t:{(next_end or 0) // 1000}:R>."
            if page == MAX_REPORT_MESSAGES - 1 and pages > MAX_REPORT_MESSAGES:
                more = len(report.lines) - MAX_REPORT_MESSAGES * PER_PAGE
                text = f"…and {more} more members: see /shift activity period:last."
            message = await post_in(self.bot, settings.guild_id, channel.id, text, embed=embed)
            if message is None:
                if first is None:
                    return None
                break
            first = first or message
        assert first is not None
        return channel.id, first.id


@app_commands.describe(period="Which activity period (default: the current one)", role="Only members of this role")
@app_commands.choices(
    period=[
        app_commands.Choice(name="Current period", value="current"),
        app_commands.Choice(name="Last period", value="last"),
    ]
)
async def shift_activity(
    interaction: discord.Interaction[NorthcaBot],
    period: app_commands.Choice[str] | None = None,
    role: discord.Role | None = None,
) -> None:
    """Supervisors: each member with a quota role, their hours, quota, met or not, on leave."""
    require_guild_supervisor(interaction, "see activity reports")
    guild_id = require_guild(interaction)
    assert interaction.guild is not None
    bot = interaction.client
    which: Which = "last" if period is not None and period.value == "last" else "current"
    now = bot.services.activity_reports.clock()
    report = await build_report(
        bot, interaction.guild, period_of(bot, guild_id, which, now), now, role.id if role else None
    )
    view = page_view(which, report, 0)
    await answer(interaction, embed=report_embed(report, 0), view=view)


def shift_activity_command() -> app_commands.Command[commands.Cog, ..., None]:
    """A fresh /shift activity for each bot (a command belongs to one parent group)."""
    return app_commands.Command(
        name="activity",
        description="Supervisors: hours against quotas for the activity period.",
        callback=shift_activity,
    )
