"""Pydantic models of the PRC API's answers (v1 and v2), read leniently.

Named after the API's own field names (PascalCase on the wire). Unknown fields are ignored (a newer API
may add some), and the known quirks are accepted: a vehicle without `ColorHex`, an emergency call without
`Description`, an empty bans map sent as `[]`, a player as one `"Name:UserId"` text. One item that does not
parse is dropped (and counted by the client), never the whole answer.
"""

from __future__ import annotations

import logging
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

log = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore", populate_by_name=True)


def split_player(value: str) -> tuple[str, int]:
    """`"Name:UserId"` -> (name, user id). Roblox names have no colon, but split on the last one anyway."""
    name, sep, user_id = value.rpartition(":")
    if not sep or not name or not user_id.strip().isdigit():
        raise ValueError("a player is written Name:UserId")
    return name, int(user_id)


class PlayerRef(_Answer):
    """A player as the API writes them: one text `"Name:UserId"`."""

    name: str
    user_id: int

    @classmethod
    def parse(cls, value: Any) -> PlayerRef:
        if isinstance(value, PlayerRef):
            return value
        if not isinstance(value, str):
            raise ValueError("a player is written Name:UserId")
        name, user_id = split_player(value)
        return cls(name=name, user_id=user_id)


class PlayerLocation(_Answer):
    LocationX: float | None = None
    LocationZ: float | None = None
    PostalCode: str | None = None
    StreetName: str | None = None
    BuildingNumber: str | None = None

    @field_validator("PostalCode", "StreetName", "BuildingNumber", mode="before")
    @classmethod
    def _text(cls, value: Any) -> Any:
        return None if value is None else str(value)

    def describe(self) -> str | None:
        parts = []
        if self.PostalCode:
            parts.append(f"postal {self.PostalCode}")
        street = " ".join(p for p in (self.BuildingNumber, self.StreetName) if p)
        if street:
            parts.append(street)
        return ", ".join(parts) or None


class Player(_Answer):
    Player: PlayerRef
    Permission: str = "Normal"
    Callsign: str | None = None
    Team: str = "Civilian"
    Location: PlayerLocation | None = None  # v2 only
    WantedStars: int | None = None  # v2 only

    @field_validator("Player", mode="before")
    @classmethod
    def _player(cls, value: Any) -> PlayerRef:
        return PlayerRef.parse(value)

    @field_validator("Callsign", mode="before")
    @classmethod
    def _callsign(cls, value: Any) -> Any:
        # Civilians have none; an empty text means none too.
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        return str(value)


class JoinLog(_Answer):
    Join: bool
    Timestamp: int
    Player: PlayerRef

    @field_validator("Player", mode="before")
    @classmethod
    def _player(cls, value: Any) -> PlayerRef:
        return PlayerRef.parse(value)


class EmergencyCall(_Answer):
    Team: str
    Caller: int | None = None
    Players: list[int] = Field(default_factory=list)
    Position: list[float] = Field(default_factory=list)
    StartedAt: int
    CallNumber: int
    Description: str | None = None  # sometimes missing
    PositionDescriptor: str | None = None


class Vehicle(_Answer):
    Name: str
    Owner: str
    Texture: str | None = None
    Plate: str | None = None  # v2
    ColorHex: str | None = None  # v2, sometimes missing
    ColorName: str | None = None  # v2


class StaffV2(_Answer):
    Admins: dict[str, str] = Field(default_factory=dict)
    Mods: dict[str, str] = Field(default_factory=dict)
    Helpers: dict[str, str] = Field(default_factory=dict)

    @field_validator("Admins", "Mods", "Helpers", mode="before")
    @classmethod
    def _empty_list_is_empty_map(cls, value: Any) -> Any:
        return {} if value is None or value == [] else value


class StaffV1(_Answer):
    CoOwners: list[int] = Field(default_factory=list)
    Admins: dict[str, str] = Field(default_factory=dict)
    Mods: dict[str, str] = Field(default_factory=dict)

    @field_validator("Admins", "Mods", mode="before")
    @classmethod
    def _empty_list_is_empty_map(cls, value: Any) -> Any:
        return {} if value is None or value == [] else value


class ServerStatus(_Answer):
    """`GET /v1/server`, and the status fields of `GET /v2/server`."""

    Name: str
    OwnerId: int
    CoOwnerIds: list[int] = Field(default_factory=list)
    CurrentPlayers: int = 0
    MaxPlayers: int = 0
    JoinKey: str | None = None
    AccVerifiedReq: str | None = None
    TeamBalance: bool | None = None


class ServerV2(ServerStatus):
    """`GET /v2/server`: the status plus each section asked for (absent: not asked for). The sections are raw
    lists here; the client parses them item by item so one odd item never loses the rest."""

    Players: list[Any] | None = None
    Queue: list[Any] | None = None
    JoinLogs: list[Any] | None = None
    EmergencyCalls: list[Any] | None = None
    Vehicles: list[Any] | None = None
    Staff: StaffV2 | None = None


def parse_bans(value: Any) -> dict[int, str]:
    """`GET /v1/server/bans`: `{"<userId>": "<name>"}`, and `[]` when there is none (a PHP-style quirk)."""
    if value is None or value == []:
        return {}
    if not isinstance(value, dict):
        raise ValueError("bans are a map of user id to name")
    bans: dict[int, str] = {}
    for user_id, name in value.items():
        if str(user_id).isdigit():
            bans[int(user_id)] = str(name)
    return bans


def parse_items(model: type[M], items: Any, where: str) -> tuple[list[M], int]:
    """Each item parsed on its own: (the items that parse, how many did not)."""
    if not isinstance(items, list):
        return [], 0 if items is None else 1
    parsed: list[M] = []
    dropped = 0
    for item in items:
        try:
            parsed.append(model.model_validate(item))
        except ValidationError as exc:
            dropped += 1
            # The reason without the value (a value may be anything the game let a player type).
            log.warning("PRC %s: an item was skipped (%s)", where, exc.errors(include_input=False)[0]["msg"])
    return parsed, dropped


def parse_queue(items: Any) -> list[int]:
    if not isinstance(items, list):
        return []
    return [int(i) for i in items if isinstance(i, int) and not isinstance(i, bool)]
