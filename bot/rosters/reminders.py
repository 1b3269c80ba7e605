"""The reminder worker: a background service that sends each due roster reminder exactly once.

Every `interval` it asks the roster service, per guild the bot is in, which reminders are due
(the guild's lead time from its settings) and claims each one in the database before handing it
to the delivery (the Discord side: a DM, or a ping in the reports channel). The claim makes it
once per (occurrence, member) also across restarts; a reminder missed while the bot was down is
sent late, up to the core's cutoff after the start.

Nothing here knows about Discord: who holds which role and how a reminder reaches a member are
the delivery's (attached by the roster cog when it loads). Time is the roster service's clock
(injectable: tests move it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Collection
from typing import Protocol

from bot.aio import wait_event
from bot.rosters.service import DueReminder, RoleMembers, RosterService, zone_of
from bot.settings.records import GuildSettings

log = logging.getLogger(__name__)


class ReminderDelivery(Protocol):
    def guild_ids(self) -> Collection[int]: ...
    def role_members(self, guild_id: int) -> RoleMembers: ...
    async def deliver(self, guild_id: int, reminder: DueReminder) -> None: ...


class RosterReminderWorker:
    def __init__(
        self,
        rosters: RosterService,
        settings: Callable[[int], GuildSettings],
        *,
        interval_seconds: float = 30.0,
    ) -> None:
        self.rosters = rosters
        self.settings = settings
        self.interval_seconds = interval_seconds
        self.delivery: ReminderDelivery | None = None
        self._task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        self._tick_lock = asyncio.Lock()

    def attach(self, delivery: ReminderDelivery | None) -> None:
        self.delivery = delivery

    async def tick(self) -> int:
        """Sends every reminder due now (claimed first); the number sent."""
        delivery = self.delivery
        if delivery is None:
            return 0
        sent = 0
        async with self._tick_lock:
            for guild_id in sorted(delivery.guild_ids()):
                settings = self.settings(guild_id)
                try:
                    zone = zone_of(settings.timezone)
                except Exception:
                    log.warning(
                        "guild %s has an unusable time zone %r: no roster reminders", guild_id, settings.timezone
                    )
                    continue
                lead_ms = settings.roster_reminder_minutes * 60_000
                for reminder in await self.rosters.due_reminders(
                    guild_id, zone, lead_ms, delivery.role_members(guild_id)
                ):
                    if not await self.rosters.claim_reminder(reminder):
                        continue  # another worker (or an earlier tick) has it
                    try:
                        await delivery.deliver(guild_id, reminder)
                        sent += 1
                    except Exception:
                        # Claimed: never retried (at most once); the member misses this one reminder.
                        log.exception("roster reminder for member %s in guild %s failed", reminder.member_id, guild_id)
            await self.rosters.prune_reminders()
        return sent

    async def start(self) -> None:
        if self._task is None:
            self._stopping.clear()
            self._task = asyncio.create_task(self._loop(), name="roster-reminders")

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None

    async def _loop(self) -> None:
        while not self._stopping.is_set():
            try:
                await self.tick()
            except Exception:
                log.exception("roster reminder pass failed; trying again next interval")
            await wait_event(self._stopping, self.interval_seconds)
