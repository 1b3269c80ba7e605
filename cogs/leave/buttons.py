"""The persistent leave buttons: Approve / Deny on a request (supervisors, re-checked at every press, never
the requester), and Previous / Next on /loa list."""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.discord.bot import bot_of
from bot.discord.custom_ids import PAGE, UUID, page_number, parses_custom_id
from bot.discord.discord_text import numbered
from bot.discord.interactions import answer, edit_answer, guarded, page_button, page_view, require_guild
from cogs.guild_channels import shift_log
from cogs.leave.embeds import PER_PAGE, list_embed, request_embed
from cogs.supervisor_check import require_guild_supervisor


class LeaveDecisionButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=rf"northca:loa:(?P<decision>approve|deny):(?P<leave_id>{UUID})",
):
    def __init__(self, decision: str, leave_id: str) -> None:
        self.decision = decision
        self.leave_id = leave_id
        approve = decision == "approve"
        super().__init__(
            discord.ui.Button(
                label="Approve" if approve else "Deny",
                style=discord.ButtonStyle.success if approve else discord.ButtonStyle.secondary,
                custom_id=f"northca:loa:{decision}:{leave_id}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> LeaveDecisionButton:
        return cls(match["decision"], match["leave_id"])

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        # Re-checked on every press: the message outlives roles.
        require_guild_supervisor(interaction, "approve or deny leave")
        bot = bot_of(interaction)
        guild_id = require_guild(interaction)
        leave = await bot.leave.decide(guild_id, self.leave_id, interaction.user.id, approve=self.decision == "approve")
        await edit_answer(interaction, embed=request_embed(leave, bot.settings.get(guild_id).timezone), view=None)
        # The role now, when the leave has started (the worker's claim keeps it to once).
        await bot.leave_worker.run_once()
        await shift_log(bot, guild_id, f"🌴 <@{interaction.user.id}> {leave.status} the leave of <@{leave.member_id}>"
                                       f" ({numbered('LOA', leave.number)}).")  # fmt: skip
        await answer(interaction, f"Leave of <@{leave.member_id}> {leave.status}.")


class LeaveListPageButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=rf"northca:loa:page:(?P<page>{PAGE}):(?P<dir>prev|next)",
):
    def __init__(self, page: int, direction: str, disabled: bool = False) -> None:
        self.page = page
        super().__init__(page_button(f"northca:loa:page:{page}:{direction}", direction, disabled=disabled))

    @classmethod
    @parses_custom_id
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> LeaveListPageButton:
        return cls(page_number(match["page"]), match["dir"])

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        bot = bot_of(interaction)
        guild_id = require_guild(interaction)
        leaves = await bot.leave.listed(guild_id)
        now, zone = bot.leave.clock(), bot.settings.get(guild_id).timezone
        await edit_answer(
            interaction, embed=list_embed(leaves, self.page, now, zone), view=list_view(len(leaves), self.page)
        )


def decision_view(leave_id: str) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(LeaveDecisionButton("approve", leave_id))
    view.add_item(LeaveDecisionButton("deny", leave_id))
    return view


def list_view(total: int, page: int) -> discord.ui.View | None:
    return page_view(page, max(1, -(-total // PER_PAGE)), LeaveListPageButton)
