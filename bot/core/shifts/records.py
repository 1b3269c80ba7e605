"""What a shift is: the local record of one shift, and what the service answers with.

A shift's times are epoch milliseconds (see bot/core/timefmt.py); `started_at` and friends are the
same instants as aware UTC datetimes.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any, Literal

from bot.core.duty.rule import duty_ms
from bot.core.timefmt import from_ms
from bot.northca.models import CreateShiftBody, Shift
from bot.storage.rows import Row

EndReason = Literal["member", "admin", "auto", "left", "bot_removed", "left_game"]
ShiftEventKind = Literal["start", "break", "end", "sync_failed", "sync_unconfirmed"]
Decision = Literal["send_anyway", "on_northca"]
# What a role was given to a shift for (table shift_roles, migration 031).
GivenRoleKind = Literal["duty", "department", "break"]


@dataclass(frozen=True)
class RoleChange:
    """A role a shift event gives (recorded with the shift first) or takes back (the one recorded)."""

    role_id: int
    give: bool
    kind: GivenRoleKind


@dataclass(frozen=True)
class NewShift:
    """What a shift is opened with: the columns /shift start writes (ShiftStore.insert_open)."""

    id: str
    guild_id: int
    member_id: int
    mdt_id: str
    officer_name: str
    officer_badge: str | None
    department: str | None
    callsign: str | None
    started_ms: int


@dataclass(frozen=True)
class ShiftRecord(NewShift):
    """A shift as stored: what it was opened with, and everything since (breaks, end, sync)."""

    break_started_ms: int | None
    break_ms: int
    break_count: int
    ended_ms: int | None
    duration_ms: int | None
    end_reason: str | None
    ended_by: int | None
    end_note: str | None
    status: str | None
    sync_state: str | None
    sync_attempts: int
    next_attempt_ms: int | None
    attempt_started_ms: int | None
    last_attempt_ms: int | None
    sent_unconfirmed: int
    last_error: str | None
    synced_ms: int | None
    first_attempt_ms: int | None
    unconfirmed_reason: str | None
    write_approved_by: int | None

    @classmethod
    def from_row(cls, row: Row) -> ShiftRecord:
        return cls(*[row[name] for name in _SHIFT_COLUMNS])

    @property
    def is_open(self) -> bool:
        return self.ended_ms is None

    @property
    def on_break(self) -> bool:
        return self.break_started_ms is not None

    @property
    def started_at(self) -> datetime:
        return from_ms(self.started_ms)

    @property
    def ended_at(self) -> datetime | None:
        return from_ms(self.ended_ms)

    @property
    def break_started_at(self) -> datetime | None:
        return from_ms(self.break_started_ms)

    def break_total_ms(self, at_ms: int) -> int:
        """Break time so far, an open break counted up to `at_ms` (the caller's clock; or the end)."""
        total = self.break_ms
        if self.break_started_ms is not None:
            until = self.ended_ms if self.ended_ms is not None else at_ms
            total += max(0, until - self.break_started_ms)
        return total

    def duty_ms(self, at_ms: int) -> int:
        """On-duty time (the one rule, bot/core/duty/rule.py): the stored duration once ended (computed by the
        same rule when it ended), else elapsed minus breaks up to `at_ms` (the caller's clock)."""
        if self.duration_ms is not None:
            return self.duration_ms
        return duty_ms(self.started_ms, at_ms, self.break_total_ms(at_ms))

    @property
    def synced(self) -> bool:
        return self.sync_state == "synced"

    @property
    def unconfirmed(self) -> bool:
        """Held: it may be on Northca, the bot cannot tell, a supervisor decides."""
        return self.unconfirmed_reason is not None

    def to_northca(self) -> CreateShiftBody:
        """The one complete write: only fields with a value (no accidental nulls)."""
        assert self.ended_ms is not None and self.duration_ms is not None
        values: dict[str, Any] = {
            "id": self.id,
            "officer_name": self.officer_name,
            "status": self.status,
            "start_time": self.started_at,
            "end_time": self.ended_at,
            "duration_ms": self.duration_ms,
        }
        if self.officer_badge:
            values["officer_badge"] = self.officer_badge
        if self.department:
            values["department"] = self.department
        return CreateShiftBody(**{k: v for k, v in values.items() if v is not None})


# The columns a ShiftRecord is read from, in its fields' order (read once: every shift read on every command uses it).
_SHIFT_COLUMNS = tuple(f.name for f in fields(ShiftRecord))


@dataclass(frozen=True)
class Lookup:
    """What a lookup on Northca says about one shift."""

    present: bool = False
    # Proven: the lookup reaches back past the first write attempt and the shift is not in it.
    absent: bool = False
    # Why neither could be decided.
    reason: str = ""


@dataclass(frozen=True)
class RemoteShifts:
    """Shifts read from Northca, and how many records it sent that could not be read."""

    shifts: list[Shift]
    skipped: int = 0


@dataclass(frozen=True)
class DutyTotals:
    today_ms: int
    week_ms: int
    today_start: datetime
    week_start: datetime


@dataclass(frozen=True)
class DutyChanged:
    """A shift started (on_duty) or ended, whatever ended it."""

    guild_id: int
    member_id: int
    on_duty: bool


@dataclass(frozen=True)
class ShiftEvent:
    """Something happened to a shift: it started, ended, or its sync failed or is unconfirmed."""

    kind: ShiftEventKind
    shift: ShiftRecord
