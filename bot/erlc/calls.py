"""In-game emergency calls (911) into the CAD: each call the game reports becomes exactly one
Northca call, when the server turned `erlc.calls_to_cad` on.

A call reaches here from the hub topic `erlc_calls` (bot/erlc/service.py publishes it for every signed webhook
event `EmergencyCallStarted` / `EmergencyCallEnded`, and for every call a poll reads from the v2 `EmergencyCalls`
section, which a poll asks for only while the setting is on). The same call is seen many times: every poll while
it is open, and the webhook too. It is keyed by (guild, in-game call number, started at) in the database
(`dispatch_game_calls`, migration 033): the key's row is inserted, conditionally, in the same transaction as the
call and its create in the dispatch outbox (bot/core/dispatch/store.py `add_game_call`), so only one seer of all
(processes, restarts) creates it, and the outbox sends it once with its bot-chosen id.

The CAD call carries the description, the location (the game's position descriptor, else the caller's postal
and street from the poll, else the map position), the team as the call type, and the caller: the linked member
when the caller's Roblox id is linked (`erlc_links`), else the Roblox name (from who is in game) and id.
A server that is not linked to an MDT gets nothing created; the skip is recorded (shown by `/erlc status`).
The game's end of a call closes the CAD call, once (the outbox PATCHes the new state).

`relayed` is published for every call created or closed here: the dispatch side posts or edits its card.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass

from bot.core.dispatch.records import GAME_CREATOR, GameCallFacts
from bot.core.dispatch.service import DispatchService
from bot.core.errors import UserFacingError
from bot.core.events import Topic
from bot.core.links import Linkage
from bot.core.sanitize import northca_text
from bot.erlc.records import EmergencyCallEvent
from bot.erlc.store import ErlcStore

log = logging.getLogger(__name__)

CLASSIFICATION = "911 call (in game)"
PRIORITY = "High"
MAX_DESCRIPTION = 1000
MAX_LOCATION = 200


@dataclass(frozen=True)
class GameCallRelayed:
    """A CAD call was created for an in-game call (`created`), or closed because the game ended it."""

    guild_id: int
    call_id: str
    created: bool


@dataclass(frozen=True)
class CallsStatus:
    """What `/erlc status` says of the relay: on or off, and how many calls were relayed or skipped."""

    enabled: bool
    linked: bool  # the server's MDT link as stored (an undecided one counts as not linked yet)
    created: int
    not_linked: int


def _clean(text: str | None, limit: int) -> str:
    return northca_text(text or "").strip()[:limit]


class EmergencyCallRelay:
    def __init__(self, store: ErlcStore, dispatch: DispatchService, enabled: Callable[[int], bool]) -> None:
        self.store = store
        self.dispatch = dispatch
        self.enabled = enabled
        self.relayed: Topic[GameCallRelayed] = Topic("erlc call relayed")

    async def on_call(self, event: EmergencyCallEvent) -> None:
        """The hub's `erlc_calls` subscriber (awaited, in the ER:LC service's background delivery)."""
        if not self.enabled(event.guild_id):
            return
        if event.ended:
            closed = await self.dispatch.end_game_call(event.guild_id, event.number, event.started_at_ms)
            if closed is not None:
                log.info("guild %s: in-game call %s ended; call %s closed", event.guild_id, event.number, closed.id)
                await self.relayed.deliver(GameCallRelayed(event.guild_id, closed.id, created=False))
            return
        if await self.dispatch.store.game_call_seen(event.guild_id, event.number, event.started_at_ms):
            return  # the common case: a later poll of a call already relayed (no write, no live link check)
        try:
            call = await self.dispatch.create_game_call(await self.facts(event))
        except UserFacingError as exc:
            log.info("guild %s: in-game call %s not relayed: %s", event.guild_id, event.number, exc)
            return
        if call is not None:
            await self.relayed.deliver(GameCallRelayed(event.guild_id, call.id, created=True))

    async def facts(self, event: EmergencyCallEvent) -> GameCallFacts:
        creator_id = GAME_CREATOR
        created_by = "ER:LC game"
        caller_line = "Caller: unknown"
        if event.caller_id is not None:
            link = await self.store.link_of_roblox(event.guild_id, event.caller_id)
            name = next(
                (p.name for p in await self.store.presence(event.guild_id) if p.user_id == event.caller_id),
                link.roblox_name if link is not None else None,
            )
            who = f"{_clean(name, 40)} (Roblox {event.caller_id})" if name else f"Roblox {event.caller_id}"
            if link is not None:
                creator_id = link.discord_id
                created_by = str(link.discord_id)
                caller_line = f"Caller: {who}, Discord member {link.discord_id}"
            else:
                created_by = f"ER:LC {who}"
                caller_line = f"Caller: {who}"
        description = _clean(event.description, MAX_DESCRIPTION - 200) or "No description given in game."
        location = _clean(event.location, MAX_LOCATION) or _clean(event.caller_location, MAX_LOCATION)
        if not location and event.position is not None:
            location = f"Map position {event.position[0]:.0f}, {event.position[1]:.0f}"
        return GameCallFacts(
            guild_id=event.guild_id,
            number=event.number,
            started_at_ms=event.started_at_ms,
            creator_id=creator_id,
            created_by=created_by[:100],
            classification=CLASSIFICATION,
            description=f"{description}\n{caller_line} (in-game call #{event.number})",
            location=location or "Unknown (not given in game)",
            priority=PRIORITY,
            call_type=_clean(event.team, 20) or "ALL",
        )

    async def status(self, guild_id: int) -> CallsStatus:
        counts = await self.dispatch.game_call_counts(guild_id)
        linked = await self.dispatch.links.linkage(guild_id) is Linkage.LINKED
        return CallsStatus(self.enabled(guild_id), linked, counts.get("created", 0), counts.get("not_linked", 0))
