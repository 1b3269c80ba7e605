"""Attendance: what each assigned member did during one finished occurrence, from recorded shifts.

- present: went on duty no later than `grace` after the start and was on duty (breaks excluded)
  for at least `min_share` of the occurrence;
- late: first went on duty during the occurrence but after the grace period;
- left_early: on time, but on duty for less than `min_share` of it;
- excused: never on duty during it, and on approved leave (the caller passes who is);
- absent: never on duty during it.

Breaks: the shifts table keeps a break total per shift (and the start of a running break), not
each break's times. A running break is excluded exactly; closed breaks are excluded in proportion
to the part of the shift inside the occurrence (exact whenever the shift lies within it).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

AttendanceStatus = Literal["present", "late", "left_early", "excused", "absent"]


@dataclass(frozen=True)
class AttendanceRules:
    grace_ms: int = 10 * 60_000
    min_share: float = 0.75


@dataclass(frozen=True)
class DutySpan:
    """One recorded shift of a member, as attendance needs it (times in epoch ms)."""

    member_id: int
    started_ms: int
    ended_ms: int | None  # None while still on duty
    break_ms: int  # closed breaks
    break_started_ms: int | None  # a running break


@dataclass(frozen=True)
class Attendance:
    member_id: int
    status: AttendanceStatus
    on_duty_ms: int  # inside the occurrence, breaks excluded
    first_on_duty_ms: int | None  # when they were first on duty inside the occurrence

    @property
    def attended(self) -> bool:
        return self.status in ("present", "late", "left_early")


def _on_duty_inside(span: DutySpan, start_ms: int, end_ms: int, now_ms: int) -> int:
    span_end = span.ended_ms if span.ended_ms is not None else now_ms
    if span.break_started_ms is not None and span.ended_ms is None:
        span_end = min(span_end, span.break_started_ms)  # the running break is off duty
    inside = max(0, min(span_end, end_ms) - max(span.started_ms, start_ms))
    length = span_end - span.started_ms
    if inside == 0 or length <= 0:
        return 0
    breaks = span.break_ms * inside / length if length else 0
    return max(0, int(inside - breaks))


def classify(
    member_id: int,
    start_ms: int,
    end_ms: int,
    spans: Iterable[DutySpan],
    *,
    excused: bool,
    rules: AttendanceRules,
    now_ms: int,
) -> Attendance:
    """The member's attendance for the occurrence [start_ms, end_ms) from their recorded shifts."""
    on_duty = 0
    first: int | None = None
    for span in spans:
        if span.member_id != member_id:
            continue
        worked = _on_duty_inside(span, start_ms, end_ms, now_ms)
        if worked <= 0:
            continue
        on_duty += worked
        began = max(span.started_ms, start_ms)
        first = began if first is None else min(first, began)
    if first is None:
        return Attendance(member_id, "excused" if excused else "absent", 0, None)
    if first > start_ms + rules.grace_ms:
        return Attendance(member_id, "late", on_duty, first)
    enough = on_duty >= rules.min_share * (end_ms - start_ms)
    return Attendance(member_id, "present" if enough else "left_early", on_duty, first)


@dataclass(frozen=True)
class AttendanceCounts:
    """One member's attendance over many occurrences (for the activity report)."""

    present: int = 0
    late: int = 0
    left_early: int = 0
    absent: int = 0
    excused: int = 0

    def counts(self) -> dict[AttendanceStatus, int]:
        return {
            "present": self.present,
            "late": self.late,
            "left_early": self.left_early,
            "absent": self.absent,
            "excused": self.excused,
        }


def count_by_member(attendances: Iterable[Attendance]) -> dict[int, AttendanceCounts]:
    """Each member's counts per status, over the given attendances."""
    tallies: dict[int, dict[AttendanceStatus, int]] = {}
    for a in attendances:
        tally = tallies.setdefault(a.member_id, {})
        tally[a.status] = tally.get(a.status, 0) + 1
    return {m: AttendanceCounts(**t) for m, t in tallies.items()}
