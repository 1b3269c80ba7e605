"""/status show | panel | set, the persistent 10-code buttons, and the off-duty "Start shift" button."""

from __future__ import annotations

import logging
import re
from typing import Any

import discord
from discord import app_commands
from discord.ext import commands

from bot.core.errors import InvalidInput, NotLinked
from bot.core.links import Linkage
from bot.core.settings import SettingsChanged
from bot.core.settings.records import TenCode
from bot.core.shifts import DutyChanged
from bot.core.unit_status import OffDuty, PanelsStale, StatusChange, StatusService, UnitStatus
from bot.core.unit_status.records import PANIC_CODE
from bot.discord.bot import NorthcaBot, bot_of
from bot.discord.discord_text import counted, discord_ts, fit_choices
from bot.discord.interactions import (
    answer,
    defer,
    edit_answer,
    edit_message,
    guarded,
    post,
    require_guild,
    require_manage_guild,
)
from bot.wording import error_text
from cogs.dispatch.buttons import PanicButton
from cogs.style import BRAND, MDT_SAVING, PANIC, STATUS_BUTTON, STATUS_MARK, StatusKind, status_kind

log = logging.getLogger(__name__)

EMBED_LIMIT = 5900  # Discord allows 6000 characters per embed; a little is kept spare
FOLDED_LIMIT = 300  # the line naming the codes nobody is on stays short on a phone
PANEL_HELP = "Press a button to set your status."


# --- rendering ---------------------------------------------------------------------


def code_kinds(svc: StatusService, codes: list[TenCode]) -> dict[str, StatusKind]:
    """Each code's kind, from the server's codes and the codes /shift start and /shift end set."""
    on, off = svc.config.on_duty_code, svc.config.off_duty_code
    return {c.code: status_kind(c, on_duty_code=on, off_duty_code=off) for c in codes}


def kind_of(kinds: dict[str, StatusKind], code: str) -> StatusKind:
    if code == PANIC_CODE:
        return StatusKind.PANIC
    return kinds.get(code, StatusKind.BUSY)


def _unit_list(units: list[UnitStatus], budget: int) -> str:
    if not units:
        return "—"
    parts: list[str] = []
    used = 0
    for i, unit in enumerate(units):
        # ⏳: the MDT has not saved this status yet (the bot keeps sending it).
        part = f"`{unit.callsign}`" + ("" if unit.synced else "⏳")
        more = len(units) - i
        tail = f" … and {more} more"
        if used + len(part) + 2 + len(tail) > budget:
            return ", ".join(parts) + tail
        parts.append(part)
        used += len(part) + 2
    return ", ".join(parts)


def _folded(codes: list[TenCode]) -> str:
    """The codes nobody is on, on one short line (their buttons stay below)."""
    if not codes:
        return ""
    names = [c.code for c in codes]
    text = "Nobody on " + ", ".join(names)
    if len(text) <= FOLDED_LIMIT:
        return text + "."
    shown: list[str] = []
    for name in names:
        if len("Nobody on " + ", ".join([*shown, name])) + 20 > FOLDED_LIMIT:
            break
        shown.append(name)
    return f"Nobody on {', '.join(shown)} and {len(names) - len(shown)} more codes."


def panel_embed(
    codes: list[TenCode],
    board: dict[str, list[UnitStatus]],
    *,
    needs_shift: bool = False,
    kinds: dict[str, StatusKind] | None = None,
) -> discord.Embed:
    """The board: one field per code someone is on (marked with its kind: 🟢 in service, 🔵 busy, ⚫ out of service,
    🚨 panic), units in panic first and the panel red only then; the codes nobody is on folded into one line."""
    kinds = kinds or {}
    in_panic = board.get(PANIC_CODE, [])
    embed = discord.Embed(title="Unit status", colour=PANIC if in_panic else BRAND)
    waiting = sum(not unit.synced for units in board.values() for unit in units)
    needs = "a callsign (/profile set) and an open shift (/shift start)" if needs_shift else "a callsign (/profile set)"
    footer = f"Setting a status needs {needs}."
    if waiting:
        footer += f"\n⏳ {MDT_SAVING} ({counted(waiting, 'status', 'statuses')})"
    embed.set_footer(text=footer)
    shown = [c for c in codes if c.code != PANIC_CODE and board.get(c.code)]
    folded = [c for c in codes if c.code != PANIC_CODE and not board.get(c.code)]
    lines = [PANEL_HELP if shown or in_panic else "No unit has a status yet. " + PANEL_HELP]
    if folded:
        lines.append(_folded(folded))
    embed.description = "\n".join(lines)
    panic_label = next((c.label for c in codes if c.code == PANIC_CODE), "Panic")
    entries = ([(PANIC_CODE, panic_label, in_panic)] if in_panic else []) + [
        (c.code, c.label, board[c.code]) for c in shown
    ]
    names = [f"{STATUS_MARK[kind_of(kinds, code)]} {code} · {label} ({len(units)})" for code, label, units in entries]
    # Discord allows 6000 characters per embed: what the names and texts leave goes to the unit lists.
    room = (
        EMBED_LIMIT
        - len(embed.title or "")
        - len(embed.description or "")
        - len(embed.footer.text or "")
        - sum(map(len, names))
    )
    budget = max(20, min(1024, room // max(1, len(entries))))
    for (_, _, units), name in zip(entries, names, strict=True):
        embed.add_field(name=name, value=_unit_list(units, budget), inline=False)
    return embed


PANEL_ITEMS = 25  # Discord: 5 rows of 5 buttons; a select fills a whole row
OVERFLOW_BUTTONS = 4 * 5 - 1  # with a "more codes" select in the last row: 4 rows of buttons, one of them Panic
SELECT_OPTIONS = 25  # Discord's most options in a select


def panel_view(codes: list[TenCode], kinds: dict[str, StatusKind] | None = None) -> discord.ui.View:
    """The codes as buttons, always with Panic. When the codes and Panic do not fit the 25 slots, the last codes go
    into a "more codes" select in the last row, so Panic stays one press away and every code stays on the panel."""
    view = discord.ui.View(timeout=None)
    fits = len(codes) + 1 <= PANEL_ITEMS
    buttons, overflow = (codes, []) if fits else (codes[:OVERFLOW_BUTTONS], codes[OVERFLOW_BUTTONS:])
    for code in buttons:
        view.add_item(StatusButton(code.code, code.label, kind_of(kinds or {}, code.code)))
    view.add_item(PanicButton())
    if overflow:
        view.add_item(MoreCodesSelect(overflow[:SELECT_OPTIONS], kinds))
    return view


# --- buttons -------------------------------------------------------------------------


class StatusButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=r"northca:status:set:(?P<code>.{1,16})"
):
    """One 10-code. Persistent: any panel carrying it works, however old (even after a restart)."""

    def __init__(self, code: str, label: str | None = None, kind: StatusKind = StatusKind.BUSY) -> None:
        self.code = code
        super().__init__(
            discord.ui.Button(
                label=f"{code} {label}"[:80] if label else code,
                style=STATUS_BUTTON[kind],  # one colour per kind of status; red only for panic
                custom_id=f"northca:status:set:{code}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> StatusButton:
        return cls(match["code"])

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await apply_status(interaction, self.code, from_panel=True)


class MoreCodesSelect(discord.ui.DynamicItem[discord.ui.Select[discord.ui.View]], template=r"northca:status:more"):
    """The codes that do not fit as buttons (a server with 25 codes): picking one works as pressing its button."""

    def __init__(self, codes: list[TenCode] | None = None, kinds: dict[str, StatusKind] | None = None) -> None:
        options = [
            discord.SelectOption(
                label=f"{code.code} {code.label}"[:100],
                value=code.code,
                emoji=STATUS_MARK[kind_of(kinds or {}, code.code)],  # the kind's mark, as on the board
            )
            for code in codes or []
        ]
        super().__init__(
            discord.ui.Select(
                custom_id="northca:status:more",
                placeholder="More codes…",
                options=options or [discord.SelectOption(label="—")],
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> MoreCodesSelect:
        return cls()

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        data: dict[str, Any] = dict(interaction.data or {})
        values = [str(v) for v in data.get("values") or []]
        if not values:
            raise InvalidInput.said("Pick a code from the list.")
        # Checked against the server's codes now, as a button press is: a removed code is answered plainly.
        await apply_status(interaction, values[0], from_panel=True)


class StartShiftButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=r"northca:status:shift-start"
):
    """Offered when an officer off duty presses a status: starts their shift like /shift start."""

    def __init__(self) -> None:
        super().__init__(
            discord.ui.Button(
                label="Start shift", style=discord.ButtonStyle.success, custom_id="northca:status:shift-start"
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> StartShiftButton:
        return cls()

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        guild_id = require_guild(interaction)
        shifts = bot_of(interaction).shifts
        svc = bot_of(interaction).unit_status
        if await svc.links.linkage(guild_id) is Linkage.UNDECIDED:
            # Starting may check the link live on Northca: acknowledge first, as /shift start does.
            await defer(interaction)
        # The same service call as /shift start; its listeners set the on-duty status (and roles, logs).
        shift = await shifts.start(guild_id, interaction.user.id, display_name=interaction.user.display_name)
        code = svc.code(guild_id, svc.config.on_duty_code)
        text = (
            f"Shift started {discord_ts(shift.started_at)}: you are on duty,"
            f" and your unit goes **{code.code}** {code.label}. "
            "Press a status when it changes; /shift end when you go off duty."
        )
        await edit_answer(interaction, text, view=None)


def status_changed_text(change: StatusChange) -> str:
    """What the officer reads after a status change."""
    return f"You are now **{change.code.code}** {change.code.label} (unit `{change.status.callsign}`)."


async def apply_status(
    interaction: discord.Interaction[NorthcaBot], raw_code: str, *, from_panel: bool = False
) -> None:
    """A click or /status set: recorded locally and answered at once; Northca follows in the background."""
    svc = interaction.client.unit_status
    guild_id = require_guild(interaction)
    user = interaction.user
    if from_panel and raw_code not in svc.codes(guild_id):
        # An old panel still shows a code this server removed: say so, and bring the panels up to date.
        svc.mark_dirty(guild_id)
        await answer(
            interaction,
            f"The code **{discord.utils.escape_markdown(raw_code)}** no longer exists on this server."
            " The panel is being updated: press one of the current codes.",
        )
        return
    try:
        change = await svc.set_status(guild_id, user.id, raw_code, display_name=user.display_name, actor_id=user.id)
    except OffDuty as exc:
        view = discord.ui.View(timeout=None)
        view.add_item(StartShiftButton())
        await answer(interaction, error_text(exc), view=view)
        return
    await answer(interaction, status_changed_text(change))


# --- the cog --------------------------------------------------------------------------


class StatusCog(commands.Cog):
    status_group = app_commands.Group(
        name="status", description="Your unit status (10-codes) on Northca.", guild_only=True
    )

    def __init__(self, bot: NorthcaBot) -> None:
        self.bot = bot
        self.svc: StatusService = bot.unit_status

    async def cog_load(self) -> None:
        self.bot.events.panels.subscribe(self.on_panels_stale)
        self.bot.events.duty.subscribe(self.on_duty_changed)
        self.bot.events.settings.subscribe_now(self.on_settings_changed)

    async def cog_unload(self) -> None:
        self.bot.events.panels.unsubscribe(self.on_panels_stale)
        self.bot.events.duty.unsubscribe(self.on_duty_changed)
        self.bot.events.settings.unsubscribe(self.on_settings_changed)

    def on_settings_changed(self, event: SettingsChanged) -> None:
        # New codes (or off-duty policy): every panel of the guild re-renders in the next window.
        if not event.deleted and ({"codes", "off_duty"} & set(event.keys)):
            self.svc.mark_dirty(event.guild_id)

    async def on_panels_stale(self, event: PanelsStale) -> None:
        await self.render_guild(event.guild_id)

    def codes(self, guild_id: int) -> list[TenCode]:
        return list(self.svc.codes(guild_id).values())

    async def panel_message(self, guild_id: int) -> tuple[discord.Embed, discord.ui.View]:
        """The status panel as it is now: the board and the buttons, coloured by kind of status."""
        codes = self.codes(guild_id)
        kinds = code_kinds(self.svc, codes)
        board = await self.svc.board(guild_id)
        embed = panel_embed(codes, board, needs_shift=self.svc.duty_check(guild_id), kinds=kinds)
        return embed, panel_view(codes, kinds)

    async def render_guild(self, guild_id: int) -> None:
        """Re-render every remembered panel of a guild (called at most once per window)."""
        panels = await self.svc.panels(guild_id)
        if not panels:
            return
        embed, view = await self.panel_message(guild_id)
        for panel in panels:
            channel = self.bot.get_partial_messageable(panel.channel_id, guild_id=guild_id)
            try:
                await edit_message(channel.get_partial_message(panel.message_id), embed=embed, view=view)
            except discord.NotFound:
                log.info("status panel %s in channel %s is gone; forgetting it", panel.message_id, panel.channel_id)
                await self.svc.forget_panel(panel.message_id)
            except discord.Forbidden:
                log.warning(
                    "may not edit status panel %s in channel %s (missing permissions)",
                    panel.message_id,
                    panel.channel_id,
                )
            except discord.HTTPException as exc:
                log.warning("editing status panel %s failed: %s", panel.message_id, exc)

    async def on_duty_changed(self, event: DutyChanged) -> None:
        guild = self.bot.get_guild(event.guild_id)
        member = guild.get_member(event.member_id) if guild is not None else None
        await self.svc.on_duty_changed(
            event.guild_id, event.member_id, event.on_duty, member.display_name if member is not None else None
        )

    async def code_autocomplete(
        self, interaction: discord.Interaction[NorthcaBot], current: str
    ) -> list[app_commands.Choice[str]]:
        return fit_choices(
            [
                app_commands.Choice(name=f"{c.code} · {c.label}", value=c.code)
                for c in self.svc.code_choices(require_guild(interaction), current)
            ]
        )

    @status_group.command(name="show", description="See who is in which status, with buttons to set yours.")
    async def show(self, interaction: discord.Interaction[NorthcaBot]) -> None:
        guild_id = require_guild(interaction)
        mine = await self.svc.status_of(guild_id, interaction.user.id)
        codes = self.svc.codes(guild_id)
        if mine is not None and mine.status == PANIC_CODE:
            code = self.svc.panic_code(guild_id)
            content = f"Your status: 🚨 **{code.code}** {code.label} (unit `{mine.callsign}`)."
        elif mine is not None and mine.status in codes:
            code = codes[mine.status]
            mark = STATUS_MARK[kind_of(code_kinds(self.svc, [code]), code.code)]
            content = f"Your status: {mark} **{code.code}** {code.label} (unit `{mine.callsign}`)."
        else:
            content = "You have no status yet: press one below."
        embed, view = await self.panel_message(guild_id)
        await answer(interaction, content, embed=embed, view=view)

    @status_group.command(name="set", description="Set your status, as a panel button does.")
    @app_commands.describe(code="The 10-code, for example 10-8")
    @app_commands.autocomplete(code=code_autocomplete)
    async def set_(self, interaction: discord.Interaction[NorthcaBot], code: app_commands.Range[str, 1, 40]) -> None:
        await apply_status(interaction, code)

    @status_group.command(name="panel", description="Post a permanent status panel for everyone (Manage Server).")
    @app_commands.describe(channel="Where to post it (default: here)")
    @app_commands.default_permissions(manage_guild=True)
    async def panel(
        self, interaction: discord.Interaction[NorthcaBot], channel: app_commands.AppCommandChannel | None = None
    ) -> None:
        require_manage_guild(interaction, "post a status panel")
        guild_id = require_guild(interaction)
        channel_id = channel.id if channel is not None else interaction.channel_id
        if channel is not None and channel.type not in (discord.ChannelType.text, discord.ChannelType.news):
            raise InvalidInput.said("Pick a text channel for the panel.")
        if channel_id is None:
            raise InvalidInput.said("Pick a text channel for the panel.")
        if await self.svc.links.linkage(guild_id) is Linkage.NOT_LINKED:
            raise NotLinked()
        await defer(interaction, ephemeral=True, thinking=True)
        embed, view = await self.panel_message(guild_id)
        target = self.bot.get_partial_messageable(channel_id, guild_id=guild_id)
        try:
            message = await post(target, embed=embed, view=view)
        except discord.Forbidden:
            await answer(
                interaction,
                f"I can't post in <#{channel_id}>: give me View Channel, Send Messages and Embed Links there.",
            )
            return
        dropped = await self.svc.add_panel(guild_id, channel_id, message.id, interaction.user.id)
        text = f"Status panel posted in <#{channel_id}>. It keeps itself up to date and works after restarts."
        if dropped:
            text += (
                f" (This server has many panels: the {len(dropped)} oldest no longer update,"
                " but their buttons still work.)"
            )
        await answer(interaction, text)


async def setup(bot: NorthcaBot) -> None:
    bot.add_dynamic_items(StatusButton, MoreCodesSelect, StartShiftButton)
    await bot.add_cog(StatusCog(bot))
