"""What dispatch keeps: outbox entries (writes to Northca), calls (the card's state) and panics."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from bot.core.errors import ErrorKind, InvalidInput

OutboxKind = Literal["call", "ticket", "report", "panic"]
OutboxState = Literal["pending", "sent", "unconfirmed", "failed"]

CALL_OPEN = "open"
CALL_CLOSED = "closed"


@dataclass(frozen=True)
class OutboxEntry:
    id: str
    guild_id: int
    mdt_id: str
    kind: OutboxKind
    body_json: str
    actor_id: int
    state: OutboxState
    attempts: int
    maybe_written: bool
    next_ms: int
    error: str | None
    # The server's number of this kind (Ticket #5; migration 039).
    number: int | None = None


@dataclass(frozen=True)
class CallRecord:
    id: str
    guild_id: int
    mdt_id: str
    creator_id: int
    classification: str
    description: str
    location: str
    priority: str
    call_type: str
    status: str
    units: tuple[str, ...]
    version: int
    sent_version: int
    patch_error: str | None
    channel_id: int | None
    message_id: int | None
    create_state: OutboxState
    closed_by: int | None = None
    # The server's call number (Call #12; migration 039): None until stored.
    number: int | None = None

    @property
    def closed(self) -> bool:
        return self.status == CALL_CLOSED

    @property
    def synced(self) -> bool:
        return self.create_state == "sent" and self.sent_version >= self.version


# The creator of a call the game made for a caller who is not linked to a member (the card says "in game").
GAME_CREATOR = 0


@dataclass(frozen=True)
class GameCallFacts:
    """What an in-game emergency call becomes on the CAD (built by bot/erlc/calls.py): its key in the game
    (number, started at) and the call's fields, already cleaned and within Northca's lengths."""

    guild_id: int
    number: int
    started_at_ms: int
    creator_id: int  # the caller's linked member, else GAME_CREATOR
    created_by: str  # what Northca records as the creator: the member's id, or the Roblox name and id
    classification: str
    description: str
    location: str
    priority: str
    call_type: str


@dataclass(frozen=True)
class PanicRecord:
    id: str
    guild_id: int
    member_id: int
    unit_id: str
    location: str | None
    at_ms: int
    channel_id: int | None
    message_id: int | None
    cleared_by: int | None
    cleared_ms: int | None
    state: OutboxState
    error: str | None
    number: int | None = None  # the server's panic number (migration 039)

    @property
    def active(self) -> bool:
        return self.cleared_ms is None


@dataclass(frozen=True)
class PanicResponder:
    """A member who answered a panic alert's Responding button, with their unit then (None: they had no callsign)."""

    panic_id: str
    guild_id: int
    member_id: int
    unit_id: str | None
    at_ms: int


@dataclass(frozen=True)
class Responding:
    """What a press of Responding did: the panic, its responders now, and whether this press added the member
    (False: they were on the list already, and nothing changed)."""

    panic: PanicRecord
    responders: tuple[PanicResponder, ...]
    added: bool


@dataclass(frozen=True)
class DispatchOutcome:
    """An outbox entry or a call's PATCH reached a verdict (the cog edits the alert or the card)."""

    guild_id: int
    kind: OutboxKind
    record_id: str
    state: OutboxState


_WHEN = re.compile(r"([0-9]{4}-[0-9]{2}-[0-9]{2})(?:[ T]([0-9]{1,2}:[0-9]{2}))?")  # ASCII digits (bot/core/parsing.py)


def report_when(raw: str, timezone: str, now: datetime) -> tuple[str, str]:
    """A scene report's date and time as typed ("YYYY-MM-DD HH:MM", the time optional), or now in the
    guild's time zone when left blank. Anything else is refused with what to type."""
    text = raw.strip()
    if not text:
        local = now.astimezone(ZoneInfo(timezone))
        return local.strftime("%Y-%m-%d"), local.strftime("%H:%M")
    match = _WHEN.fullmatch(text)
    try:
        if match is None:
            raise ValueError(text)
        date.fromisoformat(match[1])
        clock = match[2] or "00:00"
        hours, minutes = (int(part) for part in clock.split(":"))
        if hours > 23 or minutes > 59:
            raise ValueError(text)
    except ValueError:
        raise InvalidInput(ErrorKind.DISPATCH_BAD_DATE_TIME) from None
    return match[1], f"{hours:02d}:{minutes:02d}"
