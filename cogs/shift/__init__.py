"""/shift start | break | end | status | list | panel | board | leaderboard | export,
/shift admin end | pending | add | subtract | void | history, and their persistent buttons.
The rules live in bot/core/shifts/ and bot/core/duty/; this is the Discord side:

- cog.py: the commands and listeners (the On Duty role, the shift-log channel);
- flows.py: what a command or button does (shared by both);
- buttons.py: the persistent buttons;
- embeds.py: the wording;
- panel.py, board.py: the shift panel and the "On duty now" boards;
- duty_buttons.py, duty_embeds.py: leaderboard, adjustments, history and export.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.shift.buttons import RetrySyncButton, ShiftActionButton, ShiftPageButton, UnconfirmedDecisionButton
from cogs.shift.cog import ShiftCog
from cogs.shift.duty_buttons import HistoryPageButton, LeaderboardPageButton, VoidConfirmButton
from cogs.shift.panel import PanelButton, PanelDepartmentSelect

if TYPE_CHECKING:
    from bot.discord.bot import NorthcaBot


async def setup(bot: NorthcaBot) -> None:
    bot.add_dynamic_items(
        ShiftActionButton,
        RetrySyncButton,
        ShiftPageButton,
        UnconfirmedDecisionButton,
        LeaderboardPageButton,
        HistoryPageButton,
        PanelButton,
        PanelDepartmentSelect,
        VoidConfirmButton,
    )
    await bot.add_cog(ShiftCog(bot))
