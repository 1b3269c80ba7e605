"""Persistent dispatch buttons: Panic (on status panels), its confirm, Clear, and the call card's buttons.
Every press re-checks the guild and permission."""

from __future__ import annotations

import re
from typing import Any

import discord

from bot.discord.bot import bot_of
from bot.discord.custom_ids import UUID
from bot.discord.interactions import guarded
from cogs.dispatch import flows


class PanicButton(discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=r"northca:dispatch:panic"):
    """The red Panic button on a status panel: asks to confirm (a press by accident sends nothing)."""

    def __init__(self) -> None:
        super().__init__(
            discord.ui.Button(label="10-33 Panic", style=discord.ButtonStyle.danger, custom_id="northca:dispatch:panic")
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> PanicButton:
        return cls()

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await flows.panel_panic(interaction)


class PanicConfirmButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]], template=r"northca:dispatch:panic-ok:(?P<loc>.{0,70})"
):
    def __init__(self, location: str = "") -> None:
        self.location = location
        super().__init__(
            discord.ui.Button(
                label="Confirm PANIC 10-33",
                style=discord.ButtonStyle.danger,
                custom_id=f"northca:dispatch:panic-ok:{location}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> PanicConfirmButton:
        return cls(match["loc"])

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await flows.send_panic(interaction, self.location or None)


class ClearPanicButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=rf"northca:dispatch:panic-clear:(?P<id>{UUID})",
):
    def __init__(self, panic_id: str) -> None:
        self.panic_id = panic_id
        super().__init__(
            discord.ui.Button(
                label="Clear panic",
                style=discord.ButtonStyle.secondary,
                custom_id=f"northca:dispatch:panic-clear:{panic_id}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> ClearPanicButton:
        return cls(match["id"])

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await flows.clear_panic(interaction, self.panic_id)


class RespondButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=rf"northca:dispatch:panic-respond:(?P<id>{UUID})",
):
    """On a panic alert: "I am on my way". Responders only (the responder role, or a supervisor), checked at every
    press; a second press by the same member changes nothing. The list is stored (it survives restarts)."""

    def __init__(self, panic_id: str) -> None:
        self.panic_id = panic_id
        super().__init__(
            discord.ui.Button(
                label="Responding",
                emoji="🚓",
                style=discord.ButtonStyle.primary,
                custom_id=f"northca:dispatch:panic-respond:{panic_id}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> RespondButton:
        return cls(match["id"])

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await flows.respond_to_panic(interaction, self.panic_id)


CALL_ACTIONS: dict[str, tuple[str, discord.ButtonStyle]] = {
    "attach": ("Attach", discord.ButtonStyle.primary),
    "detach": ("Detach", discord.ButtonStyle.secondary),
    "enroute": ("En route", discord.ButtonStyle.secondary),
    "onscene": ("On scene", discord.ButtonStyle.success),
    "report": ("Report", discord.ButtonStyle.secondary),
    "close": ("Close", discord.ButtonStyle.secondary),  # red on a call card is kept for errors and panic
}


class CallButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=rf"northca:dispatch:call:(?P<action>attach|detach|enroute|onscene|report|close):(?P<id>{UUID})",
):
    def __init__(self, action: str, call_id: str) -> None:
        self.action = action
        self.call_id = call_id
        label, style = CALL_ACTIONS[action]
        super().__init__(
            discord.ui.Button(label=label, style=style, custom_id=f"northca:dispatch:call:{action}:{call_id}")
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> CallButton:
        return cls(match["action"], match["id"])

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await flows.call_action(bot_of(interaction), interaction, self.action, self.call_id)


class MdtDetailsButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=rf"northca:dispatch:mdt:(?P<id>{UUID})",
):
    """On a public card: the technical detail behind its one short MDT state (Northca's id, its last answer), for
    supervisors only, checked at every press; the answer is private."""

    def __init__(self, record_id: str) -> None:
        self.record_id = record_id
        super().__init__(
            discord.ui.Button(
                label="MDT details",
                style=discord.ButtonStyle.secondary,
                custom_id=f"northca:dispatch:mdt:{record_id}",
            )
        )

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction[Any], item: discord.ui.Item[Any], match: re.Match[str], /
    ) -> MdtDetailsButton:
        return cls(match["id"])

    @guarded
    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        await flows.mdt_details(interaction, self.record_id)


def call_view(call_id: str, *, closed: bool = False) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    if not closed:
        for action in CALL_ACTIONS:
            view.add_item(CallButton(action, call_id))
        view.add_item(MdtDetailsButton(call_id))  # closed: /call lookup has the same detail
    return view


def confirm_view(location: str | None) -> discord.ui.View:
    view = discord.ui.View(timeout=None)
    view.add_item(PanicConfirmButton((location or "")[:70]))
    return view


def alert_view(panic_id: str, *, active: bool) -> discord.ui.View:
    """The panic alert's buttons while the panic is active: Responding, then Clear panic."""
    view = discord.ui.View(timeout=None)
    if active:
        view.add_item(RespondButton(panic_id))
        view.add_item(ClearPanicButton(panic_id))
        view.add_item(MdtDetailsButton(panic_id))
    return view


ALL_ITEMS = (PanicButton, PanicConfirmButton, ClearPanicButton, RespondButton, CallButton, MdtDetailsButton)
