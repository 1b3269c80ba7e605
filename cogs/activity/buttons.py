"""Previous / Next on /shift activity: persistent, the report computed again, supervisors re-checked."""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.discord.bot import bot_of
from bot.discord.custom_ids import ID, PAGE, optional_id_of, page_number, parses_custom_id
from bot.discord.interactions import edit_answer, guarded, page_button, require_guild
from bot.discord.interactions import page_view as pages_view
from cogs.activity.embeds import report_embed, report_pages
from cogs.activity.report import ActivityReport, Which, build_report, period_of
from cogs.supervisor_check import require_guild_supervisor


class ActivityPageButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=rf"northca:activity:page:(?P<which>current|last):(?P<role>{ID}|-):(?P<page>{PAGE}):(?P<dir>prev|next)",
):
    def __init__(self, which: Which, role_id: int | None, page: int, direction: str, disabled: bool = False) -> None:
        self.which: Which = which
        self.role_id = role_id
        self.page = page
        custom_id = f"northca:activity:page:{which}:{role_id or '-'}:{page}:{direction}"
        super().__init__(page_button(custom_id, direction, disabled=disabled))

    @classmethod
    @parses_custom_id
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ActivityPageButton:
        which: Which = "last" if match["which"] == "last" else "current"
        return cls(which, optional_id_of(match["role"]), page_number(match["page"]), match["dir"])

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        require_guild_supervisor(interaction, "see activity reports")
        bot = bot_of(interaction)
        guild_id = require_guild(interaction)
        assert interaction.guild is not None
        now = bot.activity_reports.clock()
        report = await build_report(
            bot, interaction.guild, period_of(bot, guild_id, self.which, now), now, self.role_id
        )
        await edit_answer(
            interaction, embed=report_embed(report, self.page), view=page_view(self.which, report, self.page)
        )


def page_view(which: Which, report: ActivityReport, page: int) -> discord.ui.View | None:
    return pages_view(
        page,
        report_pages(report),
        lambda target, direction, disabled: ActivityPageButton(which, report.role_id, target, direction, disabled),
    )
