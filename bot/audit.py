"""Where an audited admin action was made: the front door named next to who made it.

Every audited write (a time adjustment, a leave decision, a roster change) takes its `source`: "discord" for a
slash command or button, "dashboard" for the web dashboard (bot/dashboard/). Stored with the change (migration
037) and shown in the history as "from Discord" / "from the dashboard".
"""

from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Literal, TypeAlias

if TYPE_CHECKING:
    from bot.duty.records import DutyAdjusted
    from bot.events import Topic
    from bot.leave.records import LeaveDecided
    from bot.rosters.records import RosterAssignmentChanged

    # An audited change of duty time, leave or rosters: the hub's `changes` topic carries it (each made by a
    # service, from either front door), so the shift log in Discord shows a change made on the dashboard too.
    AdminChange: TypeAlias = DutyAdjusted | LeaveDecided | RosterAssignmentChanged

AuditSource = Literal["discord", "dashboard"]

SOURCE_LABELS: dict[AuditSource, str] = {"discord": "from Discord", "dashboard": "from the dashboard"}


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
