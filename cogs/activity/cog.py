"""/shift activity (supervisors), and the scheduled report's posting (the publisher of
bot.activity_reports.ActivityReporter). The activity period and role quotas are set with /settings."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.activity_reports import FoundReport, ReportJob, current_period
from bot.core.duty import Period
from bot.core.settings import GuildSettings
from bot.discord.interactions import answer, require_guild, stable_nonce
from cogs.activity.buttons import page_view
from cogs.activity.embeds import (
    MAX_REPORT_MESSAGES,
    PER_PAGE,
    report_embed,
    report_pages,
    report_summary,
    scheduled_page,
    scheduled_report_embed,
)
from cogs.activity.report import Which, build_report, period_of
from cogs.guild_channels import guild_channel, post_in
from cogs.supervisor_check import require_guild_supervisor

if TYPE_CHECKING:
    from bot.discord.bot import NorthcaBot

log = logging.getLogger(__name__)

# How far back a takeover looks for a report its earlier claimer may have posted: the newest messages of the
# reports channel (one request). That claimer stopped usually a minute or two before (the claim's lease and a
# round), longer only when no process ran meanwhile; the channel carries reports and reminder pings.
HISTORY_LOOKBACK = 100


class ActivityCog(commands.Cog):
    """`/shift activity`, and the scheduled reports woken when the guilds are ready (posted by
    `DiscordReportPublisher`). (The period and quotas are set with /settings activity and /settings quota, in
    cogs/settings.)"""

    def __init__(self, bot: NorthcaBot) -> None:
        self.bot = bot

    # The reports that came due while the guilds were not cached yet (at start) are posted once they are.
    @commands.Cog.listener()
    async def on_ready(self) -> None:
        self.bot.activity_reports.poke()

    @commands.Cog.listener()
    async def on_shard_ready(self, shard_id: int) -> None:
        self.bot.activity_reports.poke()


class DiscordReportPublisher:
    """The `ReportPublisher` port (bot/core/ports.py) on Discord: the reports channel of each guild."""

    def __init__(self, bot: NorthcaBot) -> None:
        self.bot = bot

    def can_post(self, settings: GuildSettings) -> bool:
        """The guild's reports channel is known (the gateway has sent its guild)."""
        return guild_channel(self.bot, settings.guild_id, settings.reports_channel_id) is not None

    async def publish(self, job: ReportJob) -> tuple[int, int] | None:
        """Posts the report of a period that ended to the reports channel (the pages not already there); where
        its first message is."""
        settings = job.settings
        guild = self.bot.get_guild(settings.guild_id)
        channel = guild_channel(self.bot, settings.guild_id, settings.reports_channel_id)
        if guild is None or channel is None:
            log.warning("guild %s: no reports channel to post the activity report in", settings.guild_id)
            return None
        report = await build_report(self.bot, guild, job.period, job.now_ms)
        next_end = current_period(settings, job.now_ms).end_ms
        there = job.found.pages if job.found is not None and job.found.channel_id == channel.id else {}
        first_id = there.get(0)
        pages = report_pages(report)
        for page in range(min(pages, MAX_REPORT_MESSAGES)):
            if page in there:
                continue
            if job.claim_lost.is_set():
                return None  # another claimer posts the rest (it finds these pages)
            text = None
            if page == 0:
                # The summary first; when the next report comes, after it.
                text = f"{report_summary(report)} Next report <t:{(next_end or 0) // 1000}:R>."
            if page == MAX_REPORT_MESSAGES - 1 and pages > MAX_REPORT_MESSAGES:
                more = len(report.lines) - MAX_REPORT_MESSAGES * PER_PAGE
                text = f"…and {more} more members: see /shift activity period:last."
            embed = scheduled_report_embed(report, page)
            nonce = report_nonce(settings.guild_id, job.period, page)
            message = await post_in(self.bot, settings.guild_id, channel.id, text, embed=embed, nonce=nonce)
            if message is None:
                if first_id is None:
                    return None
                break
            first_id = first_id or message.id
        return None if first_id is None else (channel.id, first_id)

    async def find_posted(self, settings: GuildSettings, period: Period) -> FoundReport | None:
        """The pages of this period's report among the reports channel's newest messages by the bot."""
        channel = guild_channel(self.bot, settings.guild_id, settings.reports_channel_id)
        me = self.bot.user
        if channel is None or me is None:
            return None
        pages: dict[int, int] = {}
        page_count = 0
        async for message in channel.history(limit=HISTORY_LOOKBACK):
            found = (
                scheduled_page(message.embeds[0], period, settings.timezone)
                if message.author.id == me.id and message.embeds
                else None
            )
            if found is not None:
                pages[found[0]] = message.id  # newest first: a page found twice keeps its first posting
                page_count = max(page_count, min(found[1], MAX_REPORT_MESSAGES))
        return FoundReport(channel.id, pages, page_count) if pages else None


def report_nonce(guild_id: int, period: Period, page: int) -> int:
    """The same for every posting of one page of one report (bot.interactions.stable_nonce)."""
    return stable_nonce("activity-report", guild_id, period.start_ms, page)


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
    now = bot.activity_reports.clock()
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
