"""Audited admin changes on the hub: a time adjustment or void, a leave decision, a roster assignment, each
published by its service (whichever front door called it) on the `changes` topic, so Discord shows a change
made on the dashboard too (the cogs post its shift-log line; a slash command posts its own). The dashboard run as
its own process hands each to the bot's processes through the database (bot/core/notices.py)."""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, TypeAlias

if TYPE_CHECKING:
    from bot.core.duty.records import DutyAdjusted
    from bot.core.events import Topic
    from bot.core.leave.records import LeaveDecided
    from bot.core.rosters.records import RosterAssignmentChanged

    AdminChange: TypeAlias = DutyAdjusted | LeaveDecided | RosterAssignmentChanged


class ChangeNotices:
    """Publishes a service's audited changes on the hub's `changes` topic: the awaited subscribers (the shift-log
    line in Discord) in the background, so the caller's answer never waits for another channel's post."""

    def __init__(self, topic: Topic[AdminChange] | None) -> None:
        self.topic = topic
        self._deliveries: set[asyncio.Task[None]] = set()

    def publish(self, change: AdminChange) -> None:
        topic = self.topic
        if topic is None:
            return
        topic.publish_now(change)
        if topic.has_subscribers:
            task = asyncio.get_running_loop().create_task(topic.deliver(change), name="admin-change")
            self._deliveries.add(task)
            task.add_done_callback(self._deliveries.discard)

    async def drain(self) -> None:
        """Wait for the deliveries already started (tests, shutdown)."""
        while self._deliveries:
            await asyncio.gather(*list(self._deliveries), return_exceptions=True)
