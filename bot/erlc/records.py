"""What the ER:LC link stores and tells: connected servers, presence, links, and the events on the hub.

Times are epoch milliseconds (UTC); `user_id`/`roblox_id` are Roblox user ids, `discord_id` Discord member ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from bot.storage.rows import Row

# The actor of changes PRC caused (a key refused on a poll) in the settings audit: no Discord id is 1.
PRC_ACTOR_ID = 1

PresenceKind = Literal["join", "leave", "team", "callsign"]
LinkHow = Literal["callsign", "command", "staff", "import"]
DisconnectReason = Literal["admin", "key_invalid"]


@dataclass(frozen=True)
class ErlcServer:
    """A guild's ER:LC private server, as stored. `key_cipher` is the encrypted key (never shown)."""

    guild_id: int
    state: str  # connected | disconnected
    server_name: str
    owner_id: int | None
    connected_by: int
    connected_ms: int
    last_poll_ms: int | None
    last_ok_ms: int | None
    last_error: str | None
    failures: int
    current_players: int
    max_players: int
    queue_count: int
    webhook_token: str
    disconnected_reason: str | None
    poll_claim: int
    key_cipher: str | None = field(default=None, repr=False)

    @property
    def connected(self) -> bool:
        return self.state == "connected" and self.key_cipher is not None

    @classmethod
    def from_row(cls, row: Row) -> ErlcServer:
        return cls(
            guild_id=int(row["guild_id"]),
            state=str(row["state"]),
            server_name=str(row["server_name"]),
            owner_id=None if row["owner_id"] is None else int(row["owner_id"]),
            connected_by=int(row["connected_by"]),
            connected_ms=int(row["connected_ms"]),
            last_poll_ms=None if row["last_poll_ms"] is None else int(row["last_poll_ms"]),
            last_ok_ms=None if row["last_ok_ms"] is None else int(row["last_ok_ms"]),
            last_error=None if row["last_error"] is None else str(row["last_error"]),
            failures=int(row["failures"]),
            current_players=int(row["current_players"]),
            max_players=int(row["max_players"]),
            queue_count=int(row["queue_count"]),
            webhook_token=str(row["webhook_token"]),
            disconnected_reason=None if row["disconnected_reason"] is None else str(row["disconnected_reason"]),
            poll_claim=int(row["poll_claim"]),
            key_cipher=None if row["key_cipher"] is None else str(row["key_cipher"]),
        )


@dataclass(frozen=True)
class PresenceEntry:
    """A player in game now."""

    guild_id: int
    user_id: int
    name: str
    team: str
    callsign: str | None
    permission: str
    since_ms: int


@dataclass(frozen=True)
class PresenceChange:
    """One row of the append-only presence history."""

    guild_id: int
    user_id: int
    name: str
    kind: PresenceKind
    team: str
    callsign: str | None
    at_ms: int


@dataclass(frozen=True)
class InGameSpan:
    """A stretch of time a player was in game on one team (`end_ms` None: still in game at the query's end)."""

    team: str
    start_ms: int
    end_ms: int | None


@dataclass(frozen=True)
class ErlcLink:
    guild_id: int
    discord_id: int
    roblox_id: int
    roblox_name: str | None
    how: str
    linked_by: int
    linked_ms: int


@dataclass(frozen=True)
class PollOutcome:
    """What one poll of one server found (for the poller's cadence and the tests)."""

    guild_id: int
    ok: bool
    players: int = 0
    changes: tuple[PresenceChange, ...] = ()
    linked: tuple[ErlcLink, ...] = ()
    error: str | None = None  # the port error's kind
    retry_after: float | None = None
    disconnected: bool = False


# --- events on the hub (bot/core/events.py: `erlc`) ---


@dataclass(frozen=True)
class ServerConnectionChanged:
    """Connected, disconnected by an admin, or disconnected because PRC refused the key (2002) on a poll:
    the cog tells the admins once (alerts channel) and posts the shift-log line."""

    guild_id: int
    connected: bool
    server_name: str
    actor_id: int | None  # None: the bot (a poll found the key invalid)
    reason: str | None = None


@dataclass(frozen=True)
class PresenceUpdated:
    """A poll (or the webhook) changed who is in game, or a member was linked: live boards re-render."""

    guild_id: int
    changes: tuple[PresenceChange, ...] = ()
    linked: tuple[ErlcLink, ...] = ()


@dataclass(frozen=True)
class EmergencyCallEvent:
    """An in-game emergency call started or ended (from the signed webhook, or seen by a poll: `ended` False),
    stored once; relayed to the CAD by bot/erlc/calls.py when the server turned that on."""

    guild_id: int
    number: int
    started_at_ms: int
    ended: bool
    team: str
    caller_id: int | None
    description: str | None
    location: str | None
    players: tuple[int, ...] = ()
    position: tuple[float, float] | None = None
    # Where the caller is, when a poll saw them in game ("postal 218, Main Street").
    caller_location: str | None = None


ErlcEvent = ServerConnectionChanged | PresenceUpdated
