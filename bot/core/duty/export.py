"""CSV export: one row per shift and one per adjustment, quoted properly, safe to open in a
spreadsheet (a cell starting with = + - @ or a tab/CR is prefixed with ' so it is never run as
a formula), and never larger than what can be attached."""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.core.duty.records import Adjustment, ShiftSpan
from bot.core.duty.rule import duty_ms
from bot.core.timefmt import from_ms

# Discord's attachment limit for every server (boosted servers allow more).
MAX_EXPORT_BYTES = 8 * 1024 * 1024
HEADER = (
    "record", "shift_id", "member_id", "department", "started_utc", "ended_utc", "breaks_s", "duty_s",
    "in_game_s", "open", "voided", "adjustments_s", "sync_state", "adjustment_id", "kind", "amount_s", "reason",
    "actor_id", "at_utc",
)  # fmt: skip
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: object) -> str:
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def _iso(ms: int | None) -> str:
    return "" if ms is None else from_ms(ms).isoformat(timespec="seconds")


@dataclass(frozen=True)
class ExportedCsv:
    data: bytes
    shifts: int
    adjustments: int
    # Rows left out to stay within max_bytes (narrow the period or member to get them).
    truncated: bool


def build_csv(
    shifts: Sequence[tuple[ShiftSpan, str | None]],
    adjustments: Sequence[Adjustment],
    voided: set[str],
    now_ms: int,
    max_bytes: int = MAX_EXPORT_BYTES,
    in_game: Mapping[str, int] | None = None,
) -> ExportedCsv:
    """`in_game`: each shift's time in game during its duty in the period (None: the server has no ER:LC links, the
    column stays empty)."""
    out = io.StringIO()
    writer = csv.writer(out, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(HEADER)
    by_shift: dict[str, int] = {}
    for adj in adjustments:
        if adj.shift_id is not None:
            by_shift[adj.shift_id] = by_shift.get(adj.shift_id, 0) + adj.signed_ms
    size = len(out.getvalue().encode())
    counts = [0, 0]
    truncated = False

    def put(row: Sequence[object], which: int) -> bool:
        nonlocal size
        line = io.StringIO()
        csv.writer(line, quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n").writerow([safe_cell(v) for v in row])
        encoded = len(line.getvalue().encode())
        if size + encoded > max_bytes:
            return False
        out.write(line.getvalue())
        size += encoded
        counts[which] += 1
        return True

    for span, sync_state in shifts:
        until = span.until_ms(now_ms)
        breaks = span.break_total_ms(now_ms)
        void = span.id in voided
        row: tuple[object, ...] = (
            "shift", span.id, span.member_id, span.department, _iso(span.started_ms), _iso(span.ended_ms),
            breaks // 1000, duty_ms(span.started_ms, until, breaks) // 1000,
            "" if in_game is None else in_game.get(span.id, 0) // 1000, int(span.ended_ms is None), int(void),
            by_shift.get(span.id, 0) // 1000, sync_state, "", "", "", "", "", "",
        )  # fmt: skip
        if not put(row, 0):
            truncated = True
            break
    for adj in adjustments:
        if truncated:
            break
        row = (
            "adjustment", adj.shift_id, adj.member_id, adj.department, "", "", "", "", "", "", "", "", "", adj.id,
            adj.kind,
            adj.amount_ms // 1000, adj.reason, adj.actor_id, _iso(adj.at_ms),
        )  # fmt: skip
        if not put(row, 1):
            truncated = True
    return ExportedCsv(out.getvalue().encode(), counts[0], counts[1], truncated)
