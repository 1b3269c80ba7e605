"""/shift activity (supervisors), the activity report's page buttons, and the scheduled report's
posting (the period and quotas are set with /settings activity | quota, in cogs/settings). The rules
live in bot/core/duty/ and bot/core/activity_reports.py; this is the Discord side:

- cog.py: /shift activity and the report publisher; report.py: a guild's report from its member cache;
- buttons.py: the persistent page buttons; embeds.py: the wording; checks.py: who may see reports.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from discord import app_commands

from cogs.activity.buttons import ActivityPageButton
from cogs.activity.cog import ActivityCog, shift_activity_command

if TYPE_CHECKING:
    from bot.discord.bot import NorthcaBot

log = logging.getLogger(__name__)


async def setup(bot: NorthcaBot) -> None:
    bot.add_dynamic_items(ActivityPageButton)
    await bot.add_cog(ActivityCog(bot))
    # /shift activity joins the /shift group of cogs.shift (loaded before this extension).
    group = bot.tree.get_command("shift")
    if isinstance(group, app_commands.Group):
        group.add_command(shift_activity_command())
    else:
        log.warning("no /shift group loaded: /shift activity is not available")


async def teardown(bot: NorthcaBot) -> None:
    """Unloading takes /shift activity off the /shift group again (a reload adds a fresh one)."""
    group = bot.tree.get_command("shift")
    if isinstance(group, app_commands.Group):
        group.remove_command("activity")
