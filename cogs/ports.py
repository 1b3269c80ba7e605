"""The Discord front door's side of the ports (bot/core/ports.py): one object per port, each reaching Discord through
the bot. `NorthcaBot.setup_hook` builds them with `discord_ports(bot)` and hands them to `build_services`, the one
place the core gets them. They need no cog loaded: they read the bot's cache and call Discord's REST API."""

from __future__ import annotations

from typing import TYPE_CHECKING

from bot.core.ports import Ports
from cogs.activity.cog import DiscordReportPublisher
from cogs.leave.cog import DiscordLeaveRoles
from cogs.roster.cog import DiscordReminderDelivery

if TYPE_CHECKING:
    from bot.discord.bot import NorthcaBot


def discord_ports(bot: NorthcaBot) -> Ports:
    return Ports(
        reports=DiscordReportPublisher(bot),
        leave_roles=DiscordLeaveRoles(bot),
        reminders=DiscordReminderDelivery(bot),
    )
