"""Gamelock: a member on duty who has been out of the ER:LC game longer than the server's grace
(`erlc.gamelock_minutes`, 0: off) has the shift ended at the moment they left, as the presence history says (not
when a poll or this job noticed), reason "left_game". A disconnect shorter than the grace ends nothing; a member
who was never in game during the shift is not gamelocked (only leaving the game ends a shift here).

Scheduled work: it runs under the scheduler lease, for the guilds of this process's shards (their shift log and
roles are in its cache), on the injected clock. It looks again when the hub says presence changed (`erlc` topic,
published by a poll or the webhook) and when the earliest grace it is waiting on runs out. Each end is the shift
service's one conditional UPDATE, so two processes looking at once end, announce and send a shift once.

Automatic shifts (`erlc.auto_duty`, which needs gamelock): a verified member who did not opt out and is in game
on a duty team (Police, Sheriff, Fire, DOT) goes on duty, once per stay on the team: not again after the member
ended that shift themselves while still on it (the team's start must be later than the member's last end). The
shift-log line of the start tells them. Leaving the duty team (or the game) for longer than the grace ends the
shift at that moment, as gamelock does. The start goes through the shift service, so leave and the in-game gate
apply, and its one-open-shift-per-member index makes two processes start it once.

Each look also brings the units of the members on duty in line with the game (`units`: bot/erlc/units.py), after
the automatic starts and before the ends.

A server whose ER:LC connection is gone (disconnected, or its key refused) is left alone: its presence was closed
because nothing can be known of it, not because anyone left.
"""

from __future__ import annotations

import asyncio
import logging

from bot.core.aio import wait_event
from bot.core.errors import UserFacingError
from bot.core.events import EventHub
from bot.core.settings.records import SettingsSource
from bot.core.settings.service import ERLC_DUTY_TEAMS
from bot.core.sharding import ShardSet
from bot.core.shifts.records import ShiftRecord
from bot.core.shifts.service import ShiftService
from bot.erlc.records import ErlcEvent, PresenceUpdated
from bot.erlc.store import ErlcStore
from bot.erlc.units import GameUnits

log = logging.getLogger(__name__)

MINUTE_MS = 60_000


class Gamelock:
    """Ends the shifts of members out of the game past their server's grace (a background service)."""

    def __init__(
        self,
        shifts: ShiftService,
        store: ErlcStore,
        settings: SettingsSource,
        events: EventHub,
        shards: ShardSet | None = None,
        *,
        units: GameUnits | None = None,
        max_idle_sleep: float = 60.0,
    ) -> None:
        self.shifts = shifts
        # Units that follow the game (callsign and status from the game, bot/erlc/units.py): looked at in each pass.
        self.units = units
        self.store = store
        self.settings = settings
        self.events = events
        self.shards = shards
        # Also the longest a grace changed by another process (a settings change) waits to apply.
        self.max_idle_sleep = max_idle_sleep
        self.wake = asyncio.Event()
        # Guilds whose presence changed since the last look; and when each waiting guild's next grace runs out.
        self._changed: set[int] = set()
        self._due: dict[int, int] = {}
        self._task: asyncio.Task[None] | None = None
        # Passes done, and whether one is under way (tests wait on them: the look after a presence change is over).
        self.passes = 0
        self.busy = False

    def _on_erlc(self, event: ErlcEvent) -> None:
        if isinstance(event, PresenceUpdated) and (self.shards is None or self.shards.owns(event.guild_id)):
            self._changed.add(event.guild_id)
            self.wake.set()

    async def start(self) -> None:
        if self._task is None or self._task.done():
            self.events.erlc.subscribe_now(self._on_erlc)
            self._task = asyncio.get_running_loop().create_task(self._loop(), name="erlc-gamelock")

    async def stop(self) -> None:
        self.events.erlc.unsubscribe(self._on_erlc)
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _loop(self) -> None:
        everyone = True  # the first look (and each idle one) covers every connected guild of the shards
        while True:
            self.wake.clear()
            self.busy = True
            timeout = self.max_idle_sleep
            try:
                now = self.shifts.clock()
                if everyone:
                    guilds = set(await self.store.connected_guilds(self.shards))
                else:
                    guilds = self._changed | {g for g, due in self._due.items() if due <= now}
                self._changed -= guilds
                for guild_id in guilds:
                    self._due.pop(guild_id, None)
                    _, due = await self.check(guild_id)
                    if due is not None:
                        self._due[guild_id] = due
                if self._due:
                    timeout = min(timeout, max(0.0, (min(self._due.values()) - self.shifts.clock()) / 1000))
            except asyncio.CancelledError:
                raise
            except Exception:  # the loop must survive a bad moment of the database
                log.exception("gamelock: looking at who left the game failed; trying again shortly")
                timeout = 5.0
                everyone = True
            self.passes += 1
            self.busy = False
            woken = await wait_event(self.wake, timeout + 0.001)
            everyone = not woken and not self._due

    async def check(self, guild_id: int) -> tuple[list[ShiftRecord], int | None]:
        """Ends the guild's shifts whose member has been out of the game past the grace; the shifts ended, and
        when the next grace runs out (None: nobody on duty is out of the game, or gamelock is off here)."""
        minutes = self.settings.get(guild_id).erlc_gamelock_minutes
        server = await self.store.server(guild_id)
        if server is None or not server.connected:
            return [], None
        auto = self.settings.get(guild_id).erlc_auto_duty and minutes > 0
        if auto:
            await self._auto_start(guild_id)
        if self.units is not None:
            await self.units.look(guild_id)
        if minutes <= 0:
            return [], None
        grace_ms = minutes * MINUTE_MS
        now = self.shifts.clock()
        ended: list[ShiftRecord] = []
        next_due: int | None = None
        for shift in await self.shifts.open_in_guild(guild_id):
            link = await self.store.link_of(guild_id, shift.member_id)
            if link is None:
                continue
            spans = await self.store.spans(guild_id, link.roblox_id, shift.started_ms, now)
            if auto:
                # Automatic shifts: off a duty team counts as out of the game.
                spans = [span for span in spans if span.team in ERLC_DUTY_TEAMS]
            if not spans or spans[-1].end_ms is None:
                continue  # never in game during the shift, or in game now
            left_ms = spans[-1].end_ms
            if now - left_ms < grace_ms:
                due = left_ms + grace_ms
                next_due = due if next_due is None else min(next_due, due)
                continue
            done = await self.shifts.end_left_game(shift, left_ms, now)
            if done is not None:
                log.info("gamelock: shift %s of member %s ended at the leave time", done.id, done.member_id)
                ended.append(done)
        return ended, next_due

    async def _auto_start(self, guild_id: int) -> list[ShiftRecord]:
        """Automatic shifts: puts on duty each verified member (not opted out) on a duty team in game, once per stay
        on the team. A refusal (leave, a callsign taken, no Northca link) leaves the member off duty."""
        members = await self.store.auto_duty_links(guild_id)
        if not members:
            return []
        started: list[ShiftRecord] = []
        open_members = {s.member_id for s in await self.shifts.open_in_guild(guild_id)}
        for entry in await self.store.presence(guild_id):
            member_id = members.get(entry.user_id)
            if member_id is None or entry.team not in ERLC_DUTY_TEAMS or member_id in open_members:
                continue
            since = await self.store.team_since(guild_id, entry.user_id)
            last_end = await self.shifts.store.last_end_ms(guild_id, member_id)
            if since is None or (last_end is not None and last_end >= since):
                continue  # this stay on the team already had its shift (ended since)
            try:
                shift = await self.shifts.start(guild_id, member_id, display_name=entry.name)
            except UserFacingError as exc:
                log.info("automatic shift of member %s in guild %s not started: %s", member_id, guild_id, exc)
                continue
            log.info("automatic shift %s: member %s joined %s in game", shift.id, member_id, entry.team)
            started.append(shift)
        return started
