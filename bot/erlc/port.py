"""The game server port: what the duty rules need to know of a game server, whatever the game.

The PRC client (`bot/erlc/client.py`) implements it for ER:LC; the presence poller, verification and the
duty rules only ever see these types. Times are epoch milliseconds; user ids are the game's (Roblox) ids.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol


@dataclass(frozen=True)
class GamePlayer:
    """One player in the server now."""

    user_id: int
    name: str
    team: str  # Civilian, Sheriff, Police, Fire, DOT, Jail (as the game names them)
    callsign: str | None
    permission: str  # Normal, Server Helper, Server Moderator, Server Administrator, Server Co-Owner, Server Owner
    location: str | None = None  # "postal 218, Main Street" where the game says (v2), else None


@dataclass(frozen=True)
class GameCall:
    """An in-game emergency call (911), as the game numbers it."""

    number: int
    team: str  # Police, Fire, DOT, ALL
    caller_id: int | None
    description: str | None
    location: str | None  # the position descriptor / postal and street where known
    started_at_ms: int
    players: tuple[int, ...] = ()
    position: tuple[float, float] | None = None  # the map position [x, z] where the game gives it


@dataclass(frozen=True)
class GameJoin:
    """One line of the join log: a player joined (True) or left (False) at `at_ms`."""

    user_id: int
    name: str
    joined: bool
    at_ms: int


@dataclass(frozen=True)
class GameSnapshot:
    """One read of a game server. `players` is empty when nobody is in game (PRC 3002 is a normal state)."""

    server_name: str
    owner_id: int
    current_players: int
    max_players: int
    players: tuple[GamePlayer, ...] = ()
    queue: tuple[int, ...] = ()
    calls: tuple[GameCall, ...] = ()
    joins: tuple[GameJoin, ...] = ()
    read_at_ms: int = 0
    extra: dict[str, str] = field(default_factory=dict)
    # False when the game says the server is offline (PRC 3002: nobody in game); the counts are then 0 and
    # the name unknown ("").
    online: bool = True


class GameServerError(Exception):
    """Base of the port's errors; never carries a server key."""

    kind: str = "unknown"


class GameKeyInvalid(GameServerError):
    """The server key is missing, malformed, invalid, expired or banned (PRC 2000-2004): stop using it."""

    kind = "key_invalid"


class GameRateLimited(GameServerError):
    """Rate limited (HTTP 429 / PRC 4001): retry after `retry_after` seconds, in `bucket`."""

    kind = "rate_limited"

    def __init__(self, message: str, retry_after: float, bucket: str | None = None) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.bucket = bucket


class GameTemporary(GameServerError):
    """A failure worth retrying later (PRC 1001, 1002, 9999, 5xx, timeouts, connection errors)."""

    kind = "temporary"


class GameRefused(GameServerError):
    """Any other refusal (a command restricted, a resource restricted): not retried."""

    kind = "refused"


class GameServerPort(Protocol):
    async def snapshot(
        self, key: str, *, players: bool = True, queue: bool = False, calls: bool = False, joins: bool = False
    ) -> GameSnapshot:
        """One read of the server the key belongs to, with only the sections asked for. Raises GameServerError."""
        ...
