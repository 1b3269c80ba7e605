"""Shifts: going on and off duty, breaks, and the sync to Northca that loses nothing and counts
nothing twice.

- records.py: what a shift is (ShiftRecord, DutyTotals, the events);
- store.py: the shifts table (all its SQL);
- service.py: the lifecycle (start, break, end, totals, list, the supervisor's outbox);
- sync.py: the exactly-once sync engine and the background worker;
- auto_end.py: ends shifts at the maximum length (scheduled work: one process per shard set);
- notices.py: the events, in order per member.

Built by bot.services.build_services; nothing here knows about Discord.
"""

from bot.core.shifts.auto_end import ShiftAutoEnder
from bot.core.shifts.records import (
    Decision,
    DutyChanged,
    DutyTotals,
    EndReason,
    Lookup,
    RemoteShifts,
    ShiftEvent,
    ShiftEventKind,
    ShiftRecord,
)
from bot.core.shifts.service import ShiftService
from bot.core.shifts.store import ShiftStore
from bot.core.shifts.sync import ShiftSync, ShiftWorker
from bot.core.timefmt import from_ms, now_ms, to_ms

__all__ = [
    "Decision",
    "DutyChanged",
    "DutyTotals",
    "EndReason",
    "Lookup",
    "RemoteShifts",
    "ShiftAutoEnder",
    "ShiftEvent",
    "ShiftEventKind",
    "ShiftRecord",
    "ShiftService",
    "ShiftStore",
    "ShiftSync",
    "ShiftWorker",
    "from_ms",
    "now_ms",
    "to_ms",
]
