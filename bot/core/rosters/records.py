"""What a roster is: a scheduled shift template, its assignments, and the rules for the values
people type (`parse_start`, `parse_duration`, `parse_days`, `validate_template`).

A template repeats on some days of the week at a local time of day (`start_minute`, minutes after
midnight in the guild's time zone) for `duration_minutes` of real elapsed time; `valid_from` and
`valid_until` (local dates, both inclusive) bound the days it starts on.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, fields
from datetime import date
from typing import Literal

from bot.core.audit import AuditSource
from bot.core.errors import ErrorKind, InvalidInput
from bot.core.parsing import iso_day, whole_number
from bot.storage.rows import Row

TargetKind = Literal["member", "role"]

MAX_TEMPLATES_PER_GUILD = 100
MAX_NAME_LENGTH = 40
ALL_DAYS = 0b1111111
DAY_NAMES = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")


@dataclass(frozen=True)
class RosterTemplate:
    id: int
    guild_id: int
    name: str
    department: str | None
    start_minute: int
    duration_minutes: int
    days_mask: int
    valid_from: str | None
    valid_until: str | None
    created_by: int
    created_ms: int
    updated_ms: int

    @classmethod
    def from_row(cls, row: Row) -> RosterTemplate:
        return cls(**{f.name: row[f.name] for f in fields(cls)})

    @property
    def from_date(self) -> date | None:
        return date.fromisoformat(self.valid_from) if self.valid_from else None

    @property
    def until_date(self) -> date | None:
        return date.fromisoformat(self.valid_until) if self.valid_until else None

    def runs_on(self, day: date) -> bool:
        """Whether an occurrence starts on this local date."""
        if not self.days_mask & (1 << day.weekday()):
            return False
        if self.from_date is not None and day < self.from_date:
            return False
        return self.until_date is None or day <= self.until_date


@dataclass(frozen=True)
class Assignment:
    template_id: int
    target_kind: TargetKind
    target_id: int

    @classmethod
    def from_row(cls, row: Row) -> Assignment:
        kind: TargetKind = "role" if row["target_kind"] == "role" else "member"
        return cls(int(row["template_id"]), kind, int(row["target_id"]))


@dataclass(frozen=True)
class RosterAuditEntry:
    """One audited roster change: who, when, what, and the value before and after (readable text)."""

    actor_id: int
    at_ms: int
    action: str  # create, edit, delete, assign, unassign
    template_id: int | None
    old_text: str | None
    new_text: str | None

    @classmethod
    def from_row(cls, row: Row) -> RosterAuditEntry:
        return cls(**{f.name: row[f.name] for f in fields(cls)})


@dataclass(frozen=True)
class ReminderClaim:
    """This sender's hold on one member's reminder of one occurrence; `claimed_at_ms` is also its token (renewals
    name it, so nobody renews a claim another sender took over)."""

    template_id: int
    occurrence_start_ms: int
    member_id: int
    claimed_at_ms: int
    # Set when this claim took over an earlier one never marked sent (its last renewal): that sender may have sent
    # the reminder before it died or failed, so look before sending.
    earlier_claim_ms: int | None = None


@dataclass(frozen=True)
class TemplateDraft:
    """A template as the user gave it, already parsed and validated (see `validate_template`)."""

    name: str
    department: str | None
    start_minute: int
    duration_minutes: int
    days_mask: int = ALL_DAYS
    valid_from: date | None = None
    valid_until: date | None = None


# ASCII digits only (bot/core/parsing.py), bounded, so int() of a group never sees thousands of digits.
_CLOCK = re.compile(r"([0-9]{1,2})(?::([0-9]{2}))?\s*(am|pm)?")
_DURATION = re.compile(r"(?:([0-9]{1,5})\s*h(?:ours?|rs?)?)?\s*(?:([0-9]{1,6})\s*m(?:in(?:utes?|s)?)?)?")


def minute_text(minute: int) -> str:
    """`21:30` for 1290."""
    return f"{minute // 60:02d}:{minute % 60:02d}"


def parse_start(text: str) -> int:
    """A time of day as minutes after midnight: `21:30`, `9:05`, `9pm`, `9:30am`, `0:00`."""
    cleaned = text.strip().lower().replace(".", ":")
    match = _CLOCK.fullmatch(cleaned)
    message = InvalidInput(ErrorKind.ROSTER_START_INVALID, text=text.strip()[:20])
    if not match:
        raise message
    hour, minute, meridiem = int(match.group(1)), int(match.group(2) or 0), match.group(3)
    if meridiem is not None:
        if not 1 <= hour <= 12:
            raise message
        hour = hour % 12 + (12 if meridiem == "pm" else 0)
    if hour > 23 or minute > 59:
        raise message
    return hour * 60 + minute


def parse_duration(text: str) -> int:
    """A duration in minutes: `90`, `90m`, `2h`, `1h30m`, `1h 30min`; 1 minute to 24 hours."""
    cleaned = text.strip().lower()
    message = InvalidInput(ErrorKind.ROSTER_DURATION_INVALID, text=text.strip()[:20])
    bare = whole_number(cleaned)
    if bare is not None:
        minutes = bare
    else:
        match = _DURATION.fullmatch(cleaned)
        if not cleaned or not match or (match.group(1) is None and match.group(2) is None):
            raise message
        minutes = int(match.group(1) or 0) * 60 + int(match.group(2) or 0)
    if not 1 <= minutes <= 1440:
        raise message
    return minutes


def parse_days(text: str | None) -> int:
    """Days of the week as a mask: `mon,wed,fri`, `mon-fri`, `sat sun`; every day when empty."""
    if text is None or not text.strip():
        return ALL_DAYS
    lowered = [d.lower() for d in DAY_NAMES]
    mask = 0
    for part in re.split(r"[,\s]+", text.strip().lower()):
        if not part:
            continue
        ends = part.split("-")
        try:
            indexes = [lowered.index(end[:3]) for end in ends]
        except ValueError:
            raise InvalidInput(ErrorKind.ROSTER_DAYS_INVALID, part=part) from None
        if len(indexes) == 1:
            mask |= 1 << indexes[0]
        elif len(indexes) == 2:
            first, last = indexes
            day = first
            while True:  # a range may wrap over the week end: fri-mon
                mask |= 1 << day
                if day == last:
                    break
                day = (day + 1) % 7
        else:
            raise InvalidInput(ErrorKind.ROSTER_DAYS_INVALID, part=part)
    return mask


def days_text(mask: int) -> str:
    if mask == ALL_DAYS:
        return "every day"
    return ", ".join(name for i, name in enumerate(DAY_NAMES) if mask & (1 << i))


def parse_date(text: str | None, what: str) -> date | None:
    if text is None or not text.strip():
        return None
    try:
        return iso_day(text.strip())
    except ValueError:
        raise InvalidInput(ErrorKind.ROSTER_DATE_INVALID, field=what, text=text.strip()[:20]) from None


def validate_template(draft: TemplateDraft) -> TemplateDraft:
    """The draft, name trimmed; InvalidInput saying what to fix when a value is out of range."""
    name = " ".join(draft.name.split())
    if not name:
        raise InvalidInput(ErrorKind.ROSTER_NAME_EMPTY)
    if len(name) > MAX_NAME_LENGTH:
        raise InvalidInput(ErrorKind.ROSTER_NAME_TOO_LONG, most=MAX_NAME_LENGTH, length=len(name))
    if not 0 <= draft.start_minute <= 1439:
        raise InvalidInput(ErrorKind.ROSTER_START_OUT_OF_RANGE)
    if not 1 <= draft.duration_minutes <= 1440:
        raise InvalidInput(ErrorKind.ROSTER_DURATION_OUT_OF_RANGE)
    if not 1 <= draft.days_mask <= ALL_DAYS:
        raise InvalidInput(ErrorKind.ROSTER_NO_DAYS)
    if draft.valid_from and draft.valid_until and draft.valid_until < draft.valid_from:
        raise InvalidInput(
            ErrorKind.ROSTER_UNTIL_BEFORE_FROM, valid_from=draft.valid_from, valid_until=draft.valid_until
        )
    department = " ".join(draft.department.split()) if draft.department else None
    return TemplateDraft(
        name,
        department or None,
        draft.start_minute,
        draft.duration_minutes,
        draft.days_mask,
        draft.valid_from,
        draft.valid_until,
    )


def template_text(t: RosterTemplate | TemplateDraft) -> str:
    """A template in one line, for the audit: `Night patrol 22:00 480 min every day (Patrol) 2026-12-01..`."""
    valid_from = t.valid_from.isoformat() if isinstance(t.valid_from, date) else t.valid_from
    valid_until = t.valid_until.isoformat() if isinstance(t.valid_until, date) else t.valid_until
    text = f"{t.name} {minute_text(t.start_minute)} {t.duration_minutes} min {days_text(t.days_mask)}"
    if t.department:
        text += f" ({t.department})"
    if valid_from or valid_until:
        text += f" {valid_from or ''}..{valid_until or ''}"
    return text


@dataclass(frozen=True)
class RosterAssignmentChanged:
    """A member or role was put on (`assigned`) or taken off a scheduled shift (the hub's `changes` topic)."""

    guild_id: int
    actor_id: int
    template: RosterTemplate
    target_kind: TargetKind
    target_id: int
    assigned: bool
    source: AuditSource
