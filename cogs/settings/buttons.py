"""The confirm buttons of /settings reset and /settings delete-data, and the page buttons of /settings
history (persistent; Manage Server is re-checked at every press: the message may outlive the presser's
permission)."""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.discord.bot import NorthcaBot, bot_of
from bot.discord.custom_ids import PAGE, page_number, parses_custom_id
from bot.discord.interactions import edit_answer, guarded, page_button, page_view, require_guild, require_manage_guild
from cogs.settings.embeds import HISTORY_PAGE, history_embed


class ConfirmSettingsButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"northca:settings:confirm:(?P<action>reset|delete)",
):
    def __init__(self, action: str) -> None:
        self.action = action
        label = "Reset every setting" if action == "reset" else "Delete all of this server's data"
        super().__init__(
            discord.ui.Button(
                label=label, style=discord.ButtonStyle.danger, custom_id=f"northca:settings:confirm:{action}"
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ConfirmSettingsButton:
        return cls(match["action"])

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        guild_id = require_guild(interaction)
        settings = bot_of(interaction).settings
        if self.action == "reset":
            require_manage_guild(interaction, "reset the settings")
            await settings.reset(guild_id, interaction.user.id)
            text = "Every setting is back to its default (the change is in /settings history)."
        else:
            require_manage_guild(interaction, "delete this server's data")
            deleted = await settings.delete_guild_data(guild_id, interaction.user.id)
            text = f"All of this server's data is deleted ({sum(deleted.values())} records): settings start over."
        await edit_answer(interaction, text, view=None)


def confirm_view(action: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(ConfirmSettingsButton(action))
    return view


class HistoryPageButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=rf"northca:settings:history:(?P<page>{PAGE}):(?P<dir>prev|next)",
):
    """Previous / Next on /settings history: the page is read again at each press."""

    def __init__(self, page: int, direction: str, disabled: bool = False) -> None:
        self.page = page
        super().__init__(page_button(f"northca:settings:history:{page}:{direction}", direction, disabled=disabled))

    @classmethod
    @parses_custom_id
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> HistoryPageButton:
        return cls(page_number(match["page"]), match["dir"])

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        require_manage_guild(interaction, "see the settings history")
        embed, view = await history_page(bot_of(interaction), require_guild(interaction), self.page)
        await edit_answer(interaction, embed=embed, view=view)


async def history_page(bot: NorthcaBot, guild_id: int, page: int) -> tuple[discord.Embed, discord.ui.View | None]:
    """Page `page` (0-based; past the end: the last page) of the guild's settings history, with its buttons."""
    _, total = await bot.settings.history(guild_id, limit=1)
    pages = max(1, -(-total // HISTORY_PAGE))
    page = max(0, min(page, pages - 1))
    entries, total = await bot.settings.history(guild_id, limit=HISTORY_PAGE, offset=page * HISTORY_PAGE)
    return history_embed(entries, total, page, bot.settings.get(guild_id)), page_view(page, pages, HistoryPageButton)
