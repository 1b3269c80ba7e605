"""/roster: scheduled shifts (create, edit, delete, assign), the week as a picture with a text
version, your next shifts, reminders (DM, or a ping in the reports channel) and attendance.
The rules live in bot/core/rosters/; this is the Discord side:

- cog.py: the commands, and the reminder delivery the background worker calls;
- flows.py: what commands and buttons share (permission, periods, the shift-log audit line);
- buttons.py: the persistent buttons (delete confirmation, text version pages, attendance pages, the reminder's
  Start shift / Can't make it);
- embeds.py: the wording.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.roster.buttons import AttendancePageButton, DeleteTemplateButton, ReminderButton, WeekTextButton
from cogs.roster.cog import RosterCog

if TYPE_CHECKING:
    from bot.discord.bot import NorthcaBot


async def setup(bot: NorthcaBot) -> None:
    bot.add_dynamic_items(DeleteTemplateButton, WeekTextButton, AttendancePageButton, ReminderButton)
    await bot.add_cog(RosterCog(bot))
