"""/shift panel: the member's own state with persistent On duty / Break / Off duty buttons (and a
department select when the server has several). The custom ids carry no member: whoever presses
acts for themselves only, through the same flows as /shift start|break|end; they work on any
message carrying them, across restarts."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any

import discord

from bot.core.duty.own import own_duty
from bot.core.errors import InvalidInput
from bot.discord.bot import bot_of
from bot.discord.interactions import guarded, require_guild
from cogs.shift.buttons import shift_buttons
from cogs.shift.duty_buttons import guild_clock
from cogs.shift.embeds import status_embed
from cogs.shift.flows import break_flow, end_flow, send, start_flow

if TYPE_CHECKING:
    from bot.discord.bot import NorthcaBot

PANEL_BUTTONS = {
    "start": ("On duty", discord.ButtonStyle.success, "🟢"),
    "break": ("Break", discord.ButtonStyle.secondary, "☕"),
    "end": ("Off duty", discord.ButtonStyle.danger, "🔴"),
}
DEPARTMENT_SELECT_ID = "northca:shift:panel:dept"


class PanelButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"northca:shift:panel:(?P<action>start|break|end)",
):
    def __init__(self, action: str) -> None:
        self.action = action
        label, style, emoji = PANEL_BUTTONS[action]
        super().__init__(
            discord.ui.Button(label=label, style=style, emoji=emoji, custom_id=f"northca:shift:panel:{action}")
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> PanelButton:
        return cls(match["action"])

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        require_guild(interaction)  # the presser acts for themselves only: no member in the id
        if self.action == "start":
            await start_flow(interaction, shift_buttons(interaction.user.id))
        elif self.action == "break":
            await break_flow(interaction)
        else:
            await end_flow(interaction, interaction.user.id, reason="member")


class PanelDepartmentSelect(
    discord.ui.DynamicItem[discord.ui.Select[discord.ui.View]], template=r"northca:shift:panel:dept"
):
    """Go on duty in the picked department (the options are the server's departments when shown)."""

    def __init__(self, departments: list[str] | None = None) -> None:
        options = [discord.SelectOption(label=d[:100], value=d[:100]) for d in (departments or [])[:25]]
        super().__init__(
            discord.ui.Select(
                custom_id=DEPARTMENT_SELECT_ID,
                placeholder="Go on duty in a department…",
                options=options or [discord.SelectOption(label="—")],
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> PanelDepartmentSelect:
        return cls()

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        require_guild(interaction)
        data: dict[str, Any] = dict(interaction.data or {})
        values = [str(v) for v in data.get("values") or []]
        if not values:
            raise InvalidInput.said("Pick a department from the list.")
        # Matched against the server's departments now (strict): a removed one is refused clearly.
        await start_flow(interaction, shift_buttons(interaction.user.id), department=values[0])


def panel_view(departments: list[str]) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for action in PANEL_BUTTONS:
        view.add_item(PanelButton(action))
    if len(departments) > 1:
        view.add_item(PanelDepartmentSelect(departments))
    return view


async def panel_flow(interaction: discord.Interaction[NorthcaBot]) -> None:
    bot = bot_of(interaction)
    guild_id = require_guild(interaction)
    settings = bot.settings.get(guild_id)
    shift = await bot.shifts.open_shift(guild_id, interaction.user.id)
    tz, week_start = guild_clock(settings)
    own = await own_duty(bot.duty, guild_id, interaction.user.id, tz, week_start, bot.clock())
    embed = status_embed(shift, own.today_ms, own.week_ms, settings, bot.clock())
    embed.set_footer(text="Your shift panel: the buttons act for whoever presses them.")
    await send(interaction, embed=embed, view=panel_view(bot.shifts.departments(guild_id)))
