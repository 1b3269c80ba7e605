"""Telling the rest of the bot what happened to a shift, in order per member.

At the moment of a start or end the duty topic's immediate subscribers run (the status service
takes the version of the automatic duty code then, so a status the officer sets afterwards wins).
The awaited subscribers then run in the background, one event at a time per member: duty
subscribers first, then shift subscribers.
"""

from __future__ import annotations

import asyncio
import logging

from bot.core.events import EventHub
from bot.core.shifts.records import DutyChanged, ShiftEvent, ShiftEventKind, ShiftRecord

log = logging.getLogger(__name__)


class _MemberLock:
    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.users = 0


class ShiftNotices:
    def __init__(self, events: EventHub) -> None:
        self.events = events
        self._member_locks: dict[tuple[int, int], _MemberLock] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def emit(self, kind: ShiftEventKind, shift: ShiftRecord) -> None:
        duty = DutyChanged(shift.guild_id, shift.member_id, kind == "start") if kind in ("start", "end") else None
        if duty is not None:
            self.events.duty.publish_now(duty)
        # At once, too: the auto-ender (bot/core/shifts/auto_end.py) wakes for a start that reaches its maximum sooner.
        event = ShiftEvent(kind, shift)
        self.events.shifts.publish_now(event)
        if not self.events.duty.has_subscribers and not self.events.shifts.has_subscribers:
            return
        task = asyncio.get_running_loop().create_task(self._deliver(event, duty), name=f"shift-{kind}-{shift.id}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, event: ShiftEvent, duty: DutyChanged | None) -> None:
        key = (event.shift.guild_id, event.shift.member_id)
        # One lock per member, kept while anyone uses or waits for it: events run in order.
        entry = self._member_locks.setdefault(key, _MemberLock())
        entry.users += 1
        try:
            async with entry.lock:
                if duty is not None:
                    await self.events.duty.deliver(duty)
                await self.events.shifts.deliver(event)
        finally:
            entry.users -= 1
            if entry.users == 0:
                del self._member_locks[key]

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait for the deliveries already started (tests, shutdown)."""
        pending = set(self._tasks)
        if pending:
            await asyncio.wait(pending, timeout=timeout)
