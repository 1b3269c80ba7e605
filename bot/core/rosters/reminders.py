"""The reminder worker: a background service that sends each due roster reminder exactly once.

Every `interval` it asks the roster service, per guild the bot is in, which reminders are due
(the guild's lead time from its settings) and claims each one in the database before handing it
to the delivery (the Discord side: a DM, or a ping in the reports channel). The claim is a short
lease (REMINDER_LEASE_MS), renewed while the reminder is sent (bot/core/claims.py, as for the activity
reports), and the reminder is marked sent with its message. A sender killed before sending leaves
its claim to be taken over after the lease; a transient failure (Discord 5xx, a timeout) gives the
claim back, retried by the next round until the occurrence starts, then given up (logged; roster
attendance shows it). Sending a DM and marking it sent cannot be one step, so a claim that takes
over one never marked sent first asks the delivery to look for the reminder in the member's DM
channel (or the reports channel): found, it is marked sent, not sent again. A nonce per reminder,
enforced by Discord, covers the race the look cannot (a sender stalled past its lease). A reminder
missed while the bot was down is sent late, up to the core's cutoff after the start.

Nothing here knows about Discord: who holds which role and how a reminder reaches a member are
the delivery's (the `ReminderDelivery` port, bot/core/ports.py, given by `build_services`; without it nothing is
claimed). Time is the roster service's clock
(injectable: tests move it).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import Protocol

from bot.core.claims import kept_claim
from bot.core.polling import LoopTask
from bot.core.rosters.records import ReminderClaim
from bot.core.rosters.service import REMINDER_RENEW_MS, DueReminder, RoleMembers, RosterService, zone_of
from bot.core.settings.records import GuildSettings

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SentReminder:
    """Where a reminder went: the member's DM channel, or the reports channel when DMs are closed."""

    channel_id: int
    message_id: int


class ReminderDelivery(Protocol):
    def guild_ids(self) -> Collection[int]: ...
    def role_members(self, guild_id: int) -> RoleMembers: ...

    async def deliver(self, guild_id: int, reminder: DueReminder) -> SentReminder | None:
        """Sends the reminder (with the same nonce every time); None: the member cannot be reached (not in the
        guild, or DMs closed and no reports channel). Raises on a failure worth retrying."""
        ...

    async def find_sent(self, guild_id: int, reminder: DueReminder) -> SentReminder | None:
        """The reminder among the newest messages where `deliver` puts it; None: not there."""
        ...


class RosterReminderWorker:
    def __init__(
        self,
        rosters: RosterService,
        settings: Callable[[int], GuildSettings],
        *,
        interval_seconds: float = 30.0,
        delivery: ReminderDelivery | None = None,
    ) -> None:
        self.rosters = rosters
        self.settings = settings
        self.interval_seconds = interval_seconds
        self.delivery = delivery
        # How often a claim is renewed while its reminder is sent (shorter than the claim's lease).
        self.renew_seconds = REMINDER_RENEW_MS / 1000
        self._loop_task = LoopTask("roster-reminders", self._loop)
        self._tick_lock = asyncio.Lock()

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
                    claim = await self.rosters.claim_reminder(reminder)
                    if claim is None:
                        continue  # another worker (or an earlier tick) has it
                    if await self._send(delivery, guild_id, reminder, claim):
                        sent += 1
            await self.rosters.prune_reminders()
        return sent

    async def _send(
        self, delivery: ReminderDelivery, guild_id: int, reminder: DueReminder, claim: ReminderClaim
    ) -> bool:
        """Sends one claimed reminder, or marks it sent when an earlier claimer did; True when sent now."""
        what = (
            f"roster reminder of member {reminder.member_id} in guild {guild_id} for template"
            f" {claim.template_id} at {claim.occurrence_start_ms}"
        )
        if claim.earlier_claim_ms is not None:
            found = await self._already_sent(delivery, guild_id, reminder)
            if found is not None:
                await self.rosters.reminder_sent(claim, found.channel_id, found.message_id)
                log.info("%s was sent (message %s) by a sender that stopped before marking it: marked, not sent"
                         " again", what, found.message_id)  # fmt: skip
                return False
        lost = asyncio.Event()
        try:
            async with kept_claim(claim, self.rosters.renew_reminder, every_seconds=self.renew_seconds, lost=lost,
                                  what=what):  # fmt: skip
                where = await delivery.deliver(guild_id, reminder)
        except Exception as exc:
            failure = f"{type(exc).__name__}: {exc}"
            if await self.rosters.reminder_failed(claim, failure):
                log.warning("%s failed and its shift has started: given up (%s)", what, failure)
            else:
                log.warning("%s failed (%s); retried next round", what, failure)
            return False
        if where is None:
            await self.rosters.reminder_failed(claim, "the member cannot be reached", final=True)
            return False
        if not await self.rosters.reminder_sent(claim, where.channel_id, where.message_id):
            # Another sender took it over meanwhile and marked it (Discord gave both the one message, by nonce).
            log.info("%s was marked sent by another sender", what)
            return False
        return True

    async def _already_sent(
        self, delivery: ReminderDelivery, guild_id: int, reminder: DueReminder
    ) -> SentReminder | None:
        try:
            return await delivery.find_sent(guild_id, reminder)
        except Exception:
            # Not knowing is no reason to hold the reminder back: sent, maybe a second time (the nonce may still
            # catch that).
            log.exception("guild %s: could not look for a roster reminder already sent; sending it", guild_id)
            return None

    async def start(self) -> None:
        self._loop_task.start()

    async def stop(self) -> None:
        await self._loop_task.stop()

    async def _loop(self) -> None:
        while True:
            try:
                await self.tick()
            except Exception:
                log.exception("roster reminder pass failed; trying again next interval")
            self._loop_task.wake.clear()
            await self._loop_task.sleep(self.interval_seconds)
