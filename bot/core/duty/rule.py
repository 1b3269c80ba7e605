"""The one duty-time rule, used by /shift status, the leaderboard, activity reports and exports.

    duty = (ended, or now) − started − breaks + adjustments

never below zero before the adjustments. A shift split at a period boundary counts, in each
period, the part of it inside that period minus the breaks inside that part: each break's
own interval when the shift recorded them (shift_breaks), else (shifts from before intervals
were recorded) the shift's break total shared in proportion to the part's length. The parts
of a shift always add up to the whole shift's duty.

In-game time (ER:LC): of a shift's duty inside a period, the part the member was in the game
server, from the presence history: the overlap of their in-game stretches (a join, or any change while in game,
up to the next leave; still in game: up to now) with the shift's part inside the period, minus their in-game
time inside the shift's recorded breaks. It is never more than that part's duty before adjustments. Computed for
a whole guild in one statement (`DutyStore.in_game_by_shift`); a server may count it for quotas instead of the
duty time (`erlc.quota_in_game`: `quota_counted_ms`).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


def duty_ms(started_ms: int, ended_ms: int, breaks_ms: int, adjustments_ms: int = 0) -> int:
    """On-duty milliseconds: ended − started − breaks (not below zero) + adjustments."""
    return max(0, ended_ms - started_ms - breaks_ms) + adjustments_ms


def duty_seconds(started_ms: int, ended_ms: int, breaks_ms: int, adjustments_ms: int = 0) -> int:
    """The same rule in whole seconds (what people are shown)."""
    return duty_ms(started_ms, ended_ms, breaks_ms, adjustments_ms) // 1000


@dataclass(frozen=True)
class BreakInterval:
    started_ms: int
    ended_ms: int | None  # None: closed by the shift's end (or still running)


def overlap_ms(a_start: int, a_end: int, b_start: int, b_end: int) -> int:
    return max(0, min(a_end, b_end) - max(a_start, b_start))


def part_duty_ms(
    started_ms: int,
    until_ms: int,
    break_total_ms: int,
    window_start_ms: int | None,
    window_end_ms: int | None,
    intervals: Sequence[BreakInterval] | None,
) -> int:
    """Duty of the part of a shift [started, until) inside [window_start, window_end) (None: unbounded).

    `intervals`: the shift's breaks when every one was recorded, else None (proportional share)."""
    lo = started_ms if window_start_ms is None else max(started_ms, window_start_ms)
    hi = until_ms if window_end_ms is None else min(until_ms, window_end_ms)
    if hi <= lo:
        return 0
    if lo == started_ms and hi == until_ms:
        return duty_ms(started_ms, until_ms, break_total_ms)
    if intervals is not None:
        inside = sum(overlap_ms(lo, hi, b.started_ms, b.ended_ms or until_ms) for b in intervals)
    else:
        inside = break_total_ms * (hi - lo) // max(1, until_ms - started_ms)
    return max(0, hi - lo - inside)


def quota_counted_ms(duty_ms: int, in_game_ms: int | None, count_in_game: bool) -> int:
    """What a quota counts: the duty time, or (the server's choice) the time in game during it (0 unknown)."""
    return (in_game_ms or 0) if count_in_game else duty_ms
