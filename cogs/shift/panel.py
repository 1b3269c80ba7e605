"""/shift panel: the member's own shift, as one private message that changes in place with every press.

The panel's colour and title say the state (on duty, on break, off duty: cogs/style.py); On duty, Break (End break
while on a break) and Off duty are enabled only when they apply. A press answers by editing the panel itself; a new
private message only when there is something to say (a refusal, or Northca refusing the shift just ended).

The custom ids carry no member and never change (`northca:shift:panel:start|break|end|dept`): whoever presses acts
for themselves only, through the same service calls as /shift start|break|end (every rule and gate checked again on
each press); they work on any message carrying them, across restarts. A press on a panel that no longer shows the
truth (the shift changed through a command) brings it up to date before saying why nothing was done."""

from __future__ import annotations

import logging
import re
from typing import TYPE_CHECKING, Any

import discord

from bot.core.duty.own import own_duty
from bot.core.errors import InvalidInput, UserFacingError
from bot.core.links import Linkage
from bot.core.shifts import ShiftRecord
from bot.core.timefmt import duration_text
from bot.discord.bot import bot_of
from bot.discord.interactions import answer, defer, edit_answer, guarded, require_guild
from cogs.shift.duty_buttons import guild_clock
from cogs.shift.embeds import shift_state, status_embed, sync_sentence
from cogs.shift.flows import END_VERDICT_WAIT, send
from cogs.style import MDT_SAVING, ShiftState, warning

if TYPE_CHECKING:
    from bot.discord.bot import NorthcaBot

log = logging.getLogger(__name__)

PANEL_BUTTONS = {
    "start": ("On duty", discord.ButtonStyle.success, "🟢"),
    "break": ("Break", discord.ButtonStyle.secondary, "☕"),
    "end": ("Off duty", discord.ButtonStyle.secondary, "⚫"),  # red is kept for errors and panic
}
END_BREAK_LABEL = "End break"
DEPARTMENT_SELECT_ID = "northca:shift:panel:dept"
PANEL_FOOTER = "Only you see this panel. It changes as you press."
# Which buttons apply in each state (the others are shown disabled).
ENABLED: dict[ShiftState, frozenset[str]] = {
    ShiftState.OFF_DUTY: frozenset({"start"}),
    ShiftState.ON_DUTY: frozenset({"break", "end"}),
    ShiftState.ON_BREAK: frozenset({"break", "end"}),
}


class PanelButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"northca:shift:panel:(?P<action>start|break|end)",
):
    def __init__(self, action: str, state: ShiftState | None = None) -> None:
        self.action = action
        label, style, emoji = PANEL_BUTTONS[action]
        if action == "break" and state is ShiftState.ON_BREAK:
            label, style, emoji = END_BREAK_LABEL, discord.ButtonStyle.primary, "↩️"
        super().__init__(
            discord.ui.Button(
                label=label,
                style=style,
                emoji=emoji,
                custom_id=f"northca:shift:panel:{action}",
                disabled=state is not None and action not in ENABLED[state],
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> PanelButton:
        return cls(match["action"])

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await panel_press(interaction, self.action)


class PanelDepartmentSelect(
    discord.ui.DynamicItem[discord.ui.Select[discord.ui.View]], template=r"northca:shift:panel:dept"
):
    """Go on duty in the picked department (the options are the server's departments when shown)."""

    def __init__(self, departments: list[str] | None = None, *, disabled: bool = False) -> None:
        options = [discord.SelectOption(label=d[:100], value=d[:100]) for d in (departments or [])[:25]]
        super().__init__(
            discord.ui.Select(
                custom_id=DEPARTMENT_SELECT_ID,
                placeholder="Go on duty in a department…",
                options=options or [discord.SelectOption(label="—")],
                disabled=disabled,
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
        await panel_press(interaction, "start", department=values[0])


def panel_view(departments: list[str], state: ShiftState = ShiftState.OFF_DUTY) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    for action in PANEL_BUTTONS:
        view.add_item(PanelButton(action, state))
    if len(departments) > 1:
        view.add_item(PanelDepartmentSelect(departments, disabled=state is not ShiftState.OFF_DUTY))
    return view


async def panel_message(
    bot: NorthcaBot, guild_id: int, member_id: int, *, last: str | None = None
) -> tuple[discord.Embed, discord.ui.View]:
    """The panel as it is now for this member (read fresh: the truth, whatever the panel showed before); `last`:
    what became of the shift just ended."""
    settings = bot.settings.get(guild_id)
    shift = await bot.shifts.open_shift(guild_id, member_id)
    tz, week_start = guild_clock(settings)
    own = await own_duty(bot.duty, guild_id, member_id, tz, week_start, bot.clock())
    embed = status_embed(shift, own.today_ms, own.week_ms, settings, bot.clock())
    if last is not None:
        embed.add_field(name="Last shift", value=last[:1024], inline=False)
    embed.set_footer(text=PANEL_FOOTER)
    return embed, panel_view(bot.shifts.departments(guild_id), shift_state(shift))


def _last_shift(shift: ShiftRecord, sentence: str, now_ms: int) -> str:
    return f"{duration_text(shift.duty_ms(now_ms))} on duty · {sentence}"


async def panel_press(
    interaction: discord.Interaction[NorthcaBot], action: str, *, department: str | None = None
) -> None:
    """One press: the service call, then the panel edited in place to the member's new state."""
    bot = bot_of(interaction)
    guild_id = require_guild(interaction)
    member = interaction.user
    link = await bot.links.current(guild_id) if action == "start" else None
    if link is not None and link.linkage is Linkage.UNDECIDED:
        await defer(interaction)  # the link may be checked live on Northca: the click acknowledged, the panel stays
    try:
        if action == "start":
            await bot.shifts.start(
                guild_id, member.id, display_name=member.display_name, department=department, stored_link=link
            )
        elif action == "break":
            await bot.shifts.toggle_break(guild_id, member.id)
        else:
            await _end(interaction, guild_id)
            return
    except UserFacingError:
        # Nothing was done: the panel shows the truth again, then the refusal is said (by the one handler).
        embed, view = await panel_message(bot, guild_id, member.id)
        await edit_answer(interaction, embed=embed, view=view)
        raise
    embed, view = await panel_message(bot, guild_id, member.id)
    await edit_answer(interaction, embed=embed, view=view)


async def _end(interaction: discord.Interaction[NorthcaBot], guild_id: int) -> None:
    bot = bot_of(interaction)
    member_id = interaction.user.id
    shift = await bot.shifts.end(guild_id, member_id, reason="member", ended_by=member_id)
    with bot.shifts.watch_sync(shift.id) as watched:
        sending = MDT_SAVING
        embed, view = await panel_message(bot, guild_id, member_id, last=_last_shift(shift, sending, bot.clock()))
        await edit_answer(interaction, embed=embed, view=view)
        verdict = await bot.shifts.verdict_within(watched, END_VERDICT_WAIT)
    current = verdict or shift
    sentence = sync_sentence(verdict)
    try:
        embed, view = await panel_message(bot, guild_id, member_id, last=_last_shift(current, sentence, bot.clock()))
        await edit_answer(interaction, embed=embed, view=view)
    except discord.HTTPException:
        log.warning("could not update the shift panel after the end of shift %s", shift.id, exc_info=True)
    if verdict is not None and (verdict.sync_state == "failed" or verdict.unconfirmed):
        await answer(interaction, warning(sentence), ephemeral=True)  # something to say: Northca did not take it


async def panel_flow(interaction: discord.Interaction[NorthcaBot]) -> None:
    bot = bot_of(interaction)
    guild_id = require_guild(interaction)
    embed, view = await panel_message(bot, guild_id, interaction.user.id)
    await send(interaction, embed=embed, view=view)
