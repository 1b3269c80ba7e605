"""The page buttons of /erlc players (persistent: they work after a restart)."""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.discord.bot import bot_of
from bot.discord.custom_ids import PAGE, page_number, parses_custom_id
from bot.discord.interactions import edit_answer, guarded, page_button, page_view, require_guild
from cogs.erlc.embeds import PLAYERS_PER_PAGE, players_embed


class PlayersPageButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=rf"northca:erlc:players:(?P<page>{PAGE}):(?P<dir>prev|next)",
):
    def __init__(self, page: int, direction: str, disabled: bool = False) -> None:
        self.page = page
        super().__init__(page_button(f"northca:erlc:players:{page}:{direction}", direction, disabled=disabled))

    @classmethod
    @parses_custom_id
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> PlayersPageButton:
        return cls(page_number(match["page"]), match["dir"])

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        lines = await bot_of(interaction).erlc.players(require_guild(interaction))
        await edit_answer(
            interaction,
            embed=players_embed(lines, self.page),
            view=players_view(len(lines), self.page),
            allowed_mentions=discord.AllowedMentions.none(),
        )


def players_view(total: int, page: int) -> discord.ui.View | None:
    pages = max(1, -(-total // PLAYERS_PER_PAGE))
    return page_view(page, pages, lambda p, d, off: PlayersPageButton(p, d, off))
