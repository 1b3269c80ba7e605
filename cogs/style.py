"""The house style: one brand colour, fixed colours and marks for success, warning, error and info, and the one
colour and button style of each kind of unit status and shift state. Every embed and panel of the cogs takes its
colour from here, so a colour means the same thing everywhere.

Red means only two things: an error, and a panic (10-33). Out of service, off duty, closed and cleared are grey;
a break or something waiting is amber; in service and on duty are green; busy (on a call, en route, on scene) is
the brand blue.

The core (bot/) knows nothing of this: it returns facts (a code, a state); the cogs pick the colour here.
"""

from __future__ import annotations

from enum import Enum

import discord

from bot.core.settings.records import TenCode
from bot.core.unit_status.records import PANIC_CODE

BRAND = discord.Colour(0x3E6AE1)  # Northca blue: panels, lists, reports, info
SUCCESS = discord.Colour(0x2DA55D)  # done, on duty, in service, approved, connected
WARNING = discord.Colour(0xE8A317)  # waiting, on break, pending, needs a look
ERROR = discord.Colour(0xD83C3E)  # something failed or was refused (and panic: the same red, nothing else)
PANIC = ERROR
NEUTRAL = discord.Colour(0x5C6370)  # off duty, out of service, closed, cleared, expired
INFO = BRAND

# Buttons: red (danger) only for Panic and for confirming what cannot be undone (delete, void, send anyway);
# everyday actions (End shift, Off duty, Close, Deny) are grey.

# The first mark of a one-line answer of each kind (plain-text answers start with it).
MARK_SUCCESS = "✅"
MARK_WARNING = "⚠️"
MARK_ERROR = "❌"
MARK_INFO = "ℹ️"


def success(text: str) -> str:
    return f"{MARK_SUCCESS} {text}"


def warning(text: str) -> str:
    return f"{MARK_WARNING} {text}"


def error(text: str) -> str:
    return f"{MARK_ERROR} {text}"


def info(text: str) -> str:
    return f"{MARK_INFO} {text}"


# --- unit status: one kind per code, one colour, mark and button style per kind -----------------


class StatusKind(Enum):
    """What a 10-code means for whoever reads the board."""

    AVAILABLE = "in service"
    BUSY = "busy"
    OUT_OF_SERVICE = "out of service"
    PANIC = "panic"


STATUS_COLOUR: dict[StatusKind, discord.Colour] = {
    StatusKind.AVAILABLE: SUCCESS,
    StatusKind.BUSY: BRAND,
    StatusKind.OUT_OF_SERVICE: NEUTRAL,
    StatusKind.PANIC: PANIC,
}
STATUS_MARK: dict[StatusKind, str] = {
    StatusKind.AVAILABLE: "🟢",
    StatusKind.BUSY: "🔵",
    StatusKind.OUT_OF_SERVICE: "⚫",
    StatusKind.PANIC: "🚨",
}
STATUS_BUTTON: dict[StatusKind, discord.ButtonStyle] = {
    StatusKind.AVAILABLE: discord.ButtonStyle.success,
    StatusKind.BUSY: discord.ButtonStyle.primary,
    StatusKind.OUT_OF_SERVICE: discord.ButtonStyle.secondary,
    StatusKind.PANIC: discord.ButtonStyle.danger,
}


def status_kind(code: TenCode, *, on_duty_code: str, off_duty_code: str) -> StatusKind:
    """The kind of a server's code, from its settings: 10-33 is panic; the code /shift start sets is in service,
    the one /shift end sets out of service; the others by the style the server gave them (green: in service,
    red: out of service, since red on a button is kept for panic; blue or grey: busy)."""
    if code.code == PANIC_CODE:
        return StatusKind.PANIC
    if code.code == on_duty_code:
        return StatusKind.AVAILABLE
    if code.code == off_duty_code:
        return StatusKind.OUT_OF_SERVICE
    if code.style == "success":
        return StatusKind.AVAILABLE
    if code.style == "danger":
        return StatusKind.OUT_OF_SERVICE
    return StatusKind.BUSY


# --- shift state ----------------------------------------------------------------------------


class ShiftState(Enum):
    ON_DUTY = "On duty"
    ON_BREAK = "On break"
    OFF_DUTY = "Off duty"


SHIFT_COLOUR: dict[ShiftState, discord.Colour] = {
    ShiftState.ON_DUTY: SUCCESS,
    ShiftState.ON_BREAK: WARNING,
    ShiftState.OFF_DUTY: NEUTRAL,
}
SHIFT_MARK: dict[ShiftState, str] = {ShiftState.ON_DUTY: "🟢", ShiftState.ON_BREAK: "☕", ShiftState.OFF_DUTY: "⚫"}


# --- MDT (Northca) state on public cards: one short word -------------------------------------

MDT_SAVED = "MDT: ✓ saved"
MDT_SAVING = "MDT: saving…"
MDT_CHECK = "MDT: check needed"


def mdt_state(state: str | None, *, latest_sent: bool = True) -> str:
    """What a public card says about Northca: saved, saving (retried by itself), or check needed (refused, or it
    may be there and a supervisor looks: the detail is in /shift admin pending and the log, not on the card)."""
    if state == "sent":
        return MDT_SAVED if latest_sent else MDT_SAVING
    if state in ("failed", "unconfirmed"):
        return MDT_CHECK
    return MDT_SAVING
