"""A small typed event hub: services publish what happened, the Discord side subscribes.

Notifications only: a subscriber reacts, nobody answers. What the core needs done outside (post, give a role,
send a reminder) goes through a port (bot/core/ports.py), never a topic.

A `Topic[E]` carries one kind of event. Subscribers are either immediate (`subscribe_now`: called
synchronously at `publish_now`, so they must not wait) or awaited in order (`subscribe`: called by
`deliver`, which the publishing service schedules). An error in one subscriber is logged and does
not keep the event from the others. Services never import discord.py; the hub neither.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from bot.core.changes import AdminChange
    from bot.core.settings.records import SettingsChanged
    from bot.core.shifts.records import DutyChanged, ShiftEvent
    from bot.core.unit_status.records import PanelsStale
    from bot.erlc.records import EmergencyCallEvent, ErlcEvent

log = logging.getLogger(__name__)

E = TypeVar("E")


class Topic(Generic[E]):
    def __init__(self, name: str) -> None:
        self.name = name
        self._now: list[Callable[[E], None]] = []
        self._later: list[Callable[[E], Awaitable[None]]] = []

    def subscribe(self, callback: Callable[[E], Awaitable[None]]) -> None:
        """`await callback(event)` at every `deliver`, after the subscribers before it."""
        self._later.append(callback)

    def subscribe_now(self, callback: Callable[[E], None]) -> None:
        """`callback(event)` at the moment of every `publish_now` (synchronous: it must not wait)."""
        self._now.append(callback)

    def unsubscribe(self, callback: Callable[[E], object]) -> None:
        # By equality: a bound method subscribed earlier equals the same method of the same object.
        self._later = [c for c in self._later if c != callback]
        self._now = [c for c in self._now if c != callback]

    @property
    def has_subscribers(self) -> bool:
        """Whether `deliver` has anyone to await (the immediate subscribers are not counted)."""
        return bool(self._later)

    def publish_now(self, event: E) -> None:
        for callback in list(self._now):
            try:
                callback(event)
            except Exception:
                log.exception("%s: immediate subscriber %r failed", self.name, callback)

    async def deliver(self, event: E) -> None:
        for callback in list(self._later):
            try:
                await callback(event)
            except Exception:
                log.exception("%s: subscriber %r failed", self.name, callback)


@dataclass
class EventHub:
    """Every topic of the bot, built once by bot.services.build_services."""

    # A shift started or ended: the status service stamps it at once, the status cog sets the duty code.
    duty: Topic[DutyChanged] = field(default_factory=lambda: Topic("duty changed"))
    # Shift lifecycle and sync trouble: the shift cog gives the On Duty role and posts to the shift log; at once
    # (immediate), the auto-ender wakes for a start that reaches its maximum length sooner.
    shifts: Topic[ShiftEvent] = field(default_factory=lambda: Topic("shift event"))
    # A guild's status panels are stale: the status cog re-renders them (at most once per window).
    panels: Topic[PanelsStale] = field(default_factory=lambda: Topic("panels stale"))
    # A guild's settings changed (or its data was deleted): caches, panels and the shift log follow.
    settings: Topic[SettingsChanged] = field(default_factory=lambda: Topic("settings changed"))
    # ER:LC: a server connected or disconnected (the admins are told), who is in game changed, a member linked.
    erlc: Topic[ErlcEvent] = field(default_factory=lambda: Topic("erlc"))
    # An in-game emergency call started or ended (signed webhook), stored once: for the next issue's dispatch.
    erlc_calls: Topic[EmergencyCallEvent] = field(default_factory=lambda: Topic("erlc emergency call"))
    # An audited admin change (a time adjustment or void, a leave decision, a roster assignment) made by a service
    # from either front door (bot/core/changes.py): the cogs post its shift-log line when the dashboard made it.
    changes: Topic[AdminChange] = field(default_factory=lambda: Topic("admin change"))
