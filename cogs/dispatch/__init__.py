"""Dispatch from Discord: panic (10-33), call cards, tickets and scene reports."""

from __future__ import annotations

from bot.discord.bot import NorthcaBot


async def setup(bot: NorthcaBot) -> None:
    from cogs.dispatch.buttons import ALL_ITEMS
    from cogs.dispatch.cog import DispatchCog

    bot.add_dynamic_items(*ALL_ITEMS)
    await bot.add_cog(DispatchCog(bot))
