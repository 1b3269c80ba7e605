"""The confirm buttons of /settings reset and /settings delete-data (persistent; Manage Server is
re-checked at every press: the message may outlive the presser's permission)."""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.bot import bot_of
from bot.interactions import edit_answer, guarded, require_guild, require_manage_guild


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
