"""What the duty package answers with (no Discord here)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Generic, Literal, TypeVar

from bot.core.audit import AuditSource
from bot.core.duty.periods import Period
from bot.core.duty.rule import quota_counted_ms
from bot.core.errors import ErrorKind, InvalidInput
from bot.storage.rows import Row

AdjustmentKind = Literal["add", "subtract", "void"]
T = TypeVar("T")


@dataclass(frozen=True)
class Adjustment:
    id: int
    guild_id: int
    member_id: int
    kind: AdjustmentKind
    amount_ms: int
    shift_id: str | None
    reason: str
    actor_id: int
    at_ms: int
    # The department the time counts for (add/subtract); None: counted only in unfiltered totals.
    department: str | None = None

    @classmethod
    def from_row(cls, row: Row) -> Adjustment:
        return cls(
            row["id"], row["guild_id"], row["member_id"], row["kind"], row["amount_ms"], row["shift_id"],
            row["reason"], row["actor_id"], row["at_ms"], row["department"],
        )  # fmt: skip

    @property
    def signed_ms(self) -> int:
        """What it adds to the member's duty time (a void changes totals through its shift instead)."""
        return {"add": self.amount_ms, "subtract": -self.amount_ms}.get(self.kind, 0)


@dataclass(frozen=True)
class ShiftSpan:
    """The part of a shift row the duty rule reads."""

    id: str
    member_id: int
    department: str | None
    started_ms: int
    ended_ms: int | None
    break_ms: int
    break_started_ms: int | None
    break_count: int

    @classmethod
    def from_row(cls, row: Row) -> ShiftSpan:
        return cls(
            row["id"], row["member_id"], row["department"], row["started_ms"], row["ended_ms"], row["break_ms"],
            row["break_started_ms"], row["break_count"],
        )  # fmt: skip

    def until_ms(self, now_ms: int) -> int:
        return self.ended_ms if self.ended_ms is not None else max(now_ms, self.started_ms)

    def break_total_ms(self, now_ms: int) -> int:
        """Closed breaks, plus the running one up to now (an ended shift has none running)."""
        running = 0 if self.break_started_ms is None else max(0, self.until_ms(now_ms) - self.break_started_ms)
        return self.break_ms + running


@dataclass(frozen=True)
class MemberDuty:
    member_id: int
    duty_ms: int
    shifts: int
    # On duty now: the open shift is counted up to now.
    open: bool = False
    # Of the duty time, the time in game (bot/core/duty/rule.py); None: not asked, or no ER:LC links in the server.
    in_game_ms: int | None = None


@dataclass(frozen=True)
class ActivityLine:
    member_id: int
    duty_ms: int
    quota_ms: int
    on_leave: bool
    open: bool
    # Of the duty time, the time in game (None: no ER:LC links in the server); and whether the quota counts it.
    in_game_ms: int | None = None
    quota_in_game: bool = False

    @property
    def counted_ms(self) -> int:
        """What the quota counts (bot/core/duty/rule.py): the duty time, or the time in game when the server says so."""
        return quota_counted_ms(self.duty_ms, self.in_game_ms, self.quota_in_game)

    @property
    def met(self) -> bool:
        """Met the quota (members on leave are exempt: they count as met)."""
        return self.on_leave or self.counted_ms >= self.quota_ms


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    number: int  # 0-based
    pages: int
    total: int


def page_of(items: list[T], number: int, per_page: int) -> Page[T]:
    """One page of `items` (the number clamped into range; at least one page, maybe empty)."""
    if per_page < 1:
        raise ValueError("per_page must be at least 1")
    pages = max(1, -(-len(items) // per_page))
    number = min(max(0, number), pages - 1)
    return Page(items[number * per_page : (number + 1) * per_page], number, pages, len(items))


@dataclass(frozen=True)
class ReportClaim:
    """This claimer's hold on a period's report; `claimed_at_ms` is also its token (renewals name it)."""

    guild_id: int
    period_start_ms: int
    period_end_ms: int
    claimed_at_ms: int
    # Set when this claim took over an earlier one never marked posted (its last renewal): that claimer may
    # have posted the report, or some of its pages, before it died, so look before posting.
    earlier_claim_ms: int | None = None


@dataclass(frozen=True)
class ShiftCursor:
    """Where a page of the shift list ends: its last shift's start and id (newest first). The next page starts
    after it, found on the index (keyset), however deep the list: never an OFFSET."""

    started_ms: int
    shift_id: str

    def text(self) -> str:
        return f"{self.started_ms}.{self.shift_id}"

    @classmethod
    def parse(cls, text: str) -> ShiftCursor:
        """The cursor a page link carries; InvalidInput for anything else (it came from a URL)."""
        found = _CURSOR.fullmatch(text or "")
        if found is None:
            raise InvalidInput(ErrorKind.PAGE_LINK_INVALID)
        return cls(int(found["started"]), found["id"])


_CURSOR = re.compile(r"(?P<started>[0-9]{1,15})\.(?P<id>[0-9A-Za-z-]{1,64})")


@dataclass(frozen=True)
class ShiftFilter:
    """What the shift list shows: one member or all, one department or all, shifts started in [start, end)."""

    member_id: int | None = None
    department: str | None = None
    start_ms: int | None = None
    end_ms: int | None = None


@dataclass(frozen=True)
class ShiftListing:
    """A shift as the shift list shows it."""

    span: ShiftSpan
    officer_name: str
    callsign: str | None
    end_reason: str | None
    sync_state: str | None
    voided: bool

    @classmethod
    def from_row(cls, row: Row) -> ShiftListing:
        return cls(
            ShiftSpan.from_row(row), row["officer_name"], row["callsign"], row["end_reason"], row["sync_state"],
            bool(row["voided"]),
        )  # fmt: skip


@dataclass(frozen=True)
class ShiftPage:
    items: list[ShiftListing]
    # The cursor of the next (older) page; None: this is the last one.
    next_cursor: ShiftCursor | None


@dataclass(frozen=True)
class WeekDuty:
    """A week's duty time of a guild (or of one member), by the one duty rule."""

    period: Period
    first_day: date
    duty_ms: int


@dataclass(frozen=True)
class DutyAdjusted:
    """Duty time was added, subtracted or a shift voided (the hub's `changes` topic)."""

    guild_id: int
    adjustment: Adjustment
    source: AuditSource  # where it was made (bot/core/audit.py)
