"""/shift activity (supervisors), and the scheduled report's posting (the publisher of
bot.activity_reports.ActivityReporter). The activity period and role quotas are set with /settings."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.activity_reports import current_period
from bot.duty import Period
from bot.interactions import answer, require_guild
from bot.settings import GuildSettings
from cogs.activity.buttons import page_view
from cogs.activity.embeds import MAX_REPORT_MESSAGES, PER_PAGE, report_embed, report_pages
from cogs.activity.report import Which, build_report, period_of
from cogs.guild_channels import guild_channel, post_in
from cogs.supervisor_check import require_guild_supervisor

if TYPE_CHECKING:
    from bot.bot import NorthcaBot

log = logging.getLogger(__name__)


class ActivityCog(commands.Cog):
    """The scheduled report's publisher. (The period and quotas are set with /settings activity and
    /settings quota, in cogs/settings.)"""

    def __init__(self, bot: NorthcaBot) -> None:
        self.bot = bot

    async def cog_load(self) -> None:
        self.bot.services.activity_reports.publisher = self.publish
        self.bot.services.activity_reports.ready = self.can_post

    async def cog_unload(self) -> None:
        self.bot.services.activity_reports.publisher = None
        self.bot.services.activity_reports.ready = None

    def can_post(self, settings: GuildSettings) -> bool:
        """The guild's reports channel is known (the gateway has sent its guild)."""
        return guild_channel(self.bot, settings.guild_id, settings.reports_channel_id) is not None

    # The reports that came due while the guilds were not cached yet (at start) are posted once they are.
    @commands.Cog.listener()
    async def on_ready(self) -> None:
        self.bot.services.activity_reports.poke()

    @commands.Cog.listener()
    async def on_shard_ready(self, shard_id: int) -> None:
        self.bot.services.activity_reports.poke()

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
