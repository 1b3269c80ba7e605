"""/loa request | end | list and their persistent buttons. The rules live in bot/core/leave/; this is the
Discord side: cog.py (commands, the on-leave role), buttons.py (Approve / Deny, pages), embeds.py."""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.leave.buttons import LeaveDecisionButton, LeaveListPageButton
from cogs.leave.cog import LeaveCog

if TYPE_CHECKING:
    from bot.discord.bot import NorthcaBot


async def setup(bot: NorthcaBot) -> None:
    bot.add_dynamic_items(LeaveDecisionButton, LeaveListPageButton)
    await bot.add_cog(LeaveCog(bot))
