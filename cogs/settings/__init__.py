"""/settings: each server configures itself (Manage Server). The rules live in bot/core/settings/; here:

- cog.py: the commands, the guild join/leave listeners and the shift-log line per change;
- embeds.py: the wording (/settings show, history, the change lines);
- buttons.py: the confirm buttons of reset and delete-data, the history page buttons (re-checked at every press).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.settings.buttons import ConfirmSettingsButton, HistoryPageButton
from cogs.settings.cog import SettingsCog

if TYPE_CHECKING:
    from bot.discord.bot import NorthcaBot


async def setup(bot: NorthcaBot) -> None:
    bot.add_dynamic_items(ConfirmSettingsButton, HistoryPageButton)
    await bot.add_cog(SettingsCog(bot))
