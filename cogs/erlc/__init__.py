"""/erlc: the ER:LC private server link. The rules live in bot/erlc/; this is the Discord side:

- cog.py: the commands, the connect and import forms, the shift-log and alert lines;
- buttons.py: the page buttons of /erlc players;
- board.py: the live status board;
- embeds.py: the wording.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from cogs.erlc.buttons import PlayersPageButton
from cogs.erlc.cog import ErlcCog

if TYPE_CHECKING:
    from bot.discord.bot import NorthcaBot


async def setup(bot: NorthcaBot) -> None:
    bot.add_dynamic_items(PlayersPageButton)
    await bot.add_cog(ErlcCog(bot))
