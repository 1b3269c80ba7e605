"""Pydantic models named after the Northca spec's schemas.

Request bodies are strict: unknown fields are refused and only the fields that
were set are serialised, so no unknown key and no accidental `null` goes out.
Responses are lenient: unknown fields are ignored, `null` is accepted, `""` on
units reads as unset, and date-times are always timezone-aware.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    ValidationInfo,
    field_serializer,
    field_validator,
)

from bot.core.sanitize import northca_text

_DATETIME = TypeAdapter(datetime)


def _aware(value: datetime | None) -> datetime | None:
    # The API documents UTC date-times; a naive one can only mean UTC.
    if value is not None and value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value


def _iso_utc(value: datetime | None) -> str | None:
    if value is None:
        return None
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


class _RequestBody(BaseModel):
    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    @field_validator("*", mode="before")
    @classmethod
    def _clean_text(cls, value: Any) -> Any:
        # Every free text sent to Northca goes through the one cleaner (no bidi, zero-width, control),
        # the texts of a list of texts (a call's `units_assigned`) too.
        if isinstance(value, list):
            return [northca_text(item) if isinstance(item, str) else item for item in value]
        return northca_text(value) if isinstance(value, str) else value

    def to_json(self) -> dict[str, Any]:
        return self.model_dump(mode="json", exclude_unset=True)


class _Response(BaseModel):
    model_config = ConfigDict(extra="ignore")


# --- request bodies ---------------------------------------------------------


class CreateLinkRequestBody(_RequestBody):
    mdt_id: str = Field(min_length=1)


class CreateShiftBody(_RequestBody):
    id: str | None = None
    officer_name: str | None = None
    officer_badge: str | None = None
    status: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    duration_ms: int | None = Field(default=None, ge=0)
    department: str | None = None

    @field_validator("id")
    @classmethod
    def _id_not_null(cls, value: str | None) -> str | None:
        # `id` is the one field the spec does not allow to be null.
        if value is None:
            raise ValueError("id may be omitted but not null")
        return value

    @field_serializer("start_time", "end_time")
    def _dt(self, value: datetime | None) -> str | None:
        return _iso_utc(value)


class ActiveUnitUpsert(_RequestBody):
    id: str = Field(min_length=1)
    officer_name: str | None = None
    officer_badge: str | None = None
    department: str | None = None
    rank: str | None = None
    status: str | None = None


class UpsertActiveUnitsBody(_RequestBody):
    units: list[ActiveUnitUpsert]

    def to_json(self) -> dict[str, Any]:
        return {"units": [unit.to_json() for unit in self.units]}


# Dispatch (recovered endpoints, see `openapi-extra.yaml`): every field is optional and nullable;
# only `units_assigned` (string array) and the panic `address` (string|null) have documented types,
# the other fields are texts the bot types in.


class PanicBody(_RequestBody):
    """`POST /mdts/{mdtId}/units/active/{unitId}/panic`: the optional location of the 10-33."""

    address: str | None = None


class CreateCallBody(_RequestBody):
    # With `id` set, a repeat of the create can be recognised (see NorthcaClient.create_call).
    id: str | None = None
    classification: str | None = None
    description: str | None = None
    location: str | None = None
    status: str | None = None
    call_type: str | None = None
    priority: str | None = None
    units_assigned: list[str] | None = None
    created_by: str | None = None


class UpdateCallBody(_RequestBody):
    """`PATCH /mdts/{mdtId}/calls/{callId}`: only these fields are applied by Northca; the unset ones
    are left alone. `units_assigned` replaces the whole list, so send the full, newest list."""

    classification: str | None = None
    description: str | None = None
    location: str | None = None
    status: str | None = None
    call_type: str | None = None
    priority: str | None = None
    units_assigned: list[str] | None = None


class CreateSceneReportBody(_RequestBody):
    id: str | None = None
    title: str | None = None
    description: str | None = None
    location: str | None = None
    date: str | None = None
    time: str | None = None
    officer_name: str | None = None
    officer_badge: str | None = None
    status: str | None = None
    dispatch_call_id: str | None = None


class CreateTicketBody(_RequestBody):
    id: str | None = None
    title: str | None = None
    description: str | None = None
    officer_name: str | None = None
    officer_badge: str | None = None
    officer_callsign: str | None = None
    status: str | None = None
    priority: str | None = None


# --- responses --------------------------------------------------------------


class LinkRequest(_Response):
    id: str
    partner: str | None = None
    mdt_id: str | None = None
    guild_id: str | None = None
    # Kept as text: a status the spec does not list yet must not break parsing.
    status: str = "pending"
    requester_discord_id: str | None = None
    owner_discord_id: str | None = None
    created_at: datetime | None = None
    expires_at: datetime | None = None
    decided_at: datetime | None = None

    _aware = field_validator("created_at", "expires_at", "decided_at")(classmethod(lambda cls, v: _aware(v)))


class Shift(_Response):
    id: str
    mdt_code: str | None = None
    officer_name: str | None = None
    officer_badge: str | None = None
    status: str | None = None
    start_time: datetime | None = None
    end_time: datetime | None = None
    duration_ms: int | None = None
    department: str | None = None
    created_by_discord_id: str | None = None
    updated_at: datetime | None = None
    created_at: datetime | None = None

    _aware = field_validator("start_time", "end_time", "updated_at", "created_at")(
        classmethod(lambda cls, v: _aware(v))
    )


class ActiveUnit(_Response):
    id: str
    mdt_code: str | None = None
    officer_name: str | None = None
    officer_badge: str | None = None
    department: str | None = None
    rank: str | None = None
    status: str | None = None
    last_seen: datetime | None = None
    created_by_discord_id: str | None = None
    updated_at: datetime | None = None
    created_at: datetime | None = None

    @field_validator("officer_name", "officer_badge", "department", "rank", "status", mode="before")
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        # The API may store "" for unset values on upsert.
        return None if value == "" else value

    _aware = field_validator("last_seen", "updated_at", "created_at")(classmethod(lambda cls, v: _aware(v)))


class ConfirmResult(_Response):
    """Answer of `POST /link-requests/{id}/confirm`; only `already` is documented."""

    already: bool = False


class LinkedMdt(_Response):
    """An item of `GET /guilds/{guildId}/mdts`; its schema was not recovered beyond an MDT id."""

    mdt_id: str = Field(validation_alias=AliasChoices("mdt_id", "id", "mdtId"))


# --- dispatch answers (their schemas were not recovered: every field optional, odd types read as unset)


def _lenient_text(value: Any) -> str | None:
    # A number where a text was expected (a numeric priority, say) is kept as its text; anything
    # else that is not a text reads as unset rather than failing the whole answer.
    if isinstance(value, str):
        return value
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return str(value)
    return None


def _lenient_texts(value: Any) -> list[str] | None:
    if not isinstance(value, list):
        return None
    return [text for text in map(_lenient_text, value) if text is not None]


class _DispatchRecord(_Response):
    @field_validator("*", mode="before")
    @classmethod
    def _lenient(cls, value: Any, info: ValidationInfo) -> Any:
        if info.field_name == "units_assigned":
            return _lenient_texts(value)
        if cls.model_fields[info.field_name or ""].annotation == (str | None):
            return _lenient_text(value)
        return value


class PanicResult(_DispatchRecord):
    """Answer of the panic endpoint; documented example: `{panicked, unit_id, ts}`."""

    panicked: bool | None = None
    unit_id: str | None = None
    ts: datetime | None = None

    @field_validator("panicked", mode="before")
    @classmethod
    def _readable_flag(cls, value: Any) -> Any:
        return value if isinstance(value, bool) else None

    @field_validator("ts", mode="before")
    @classmethod
    def _readable_ts(cls, value: Any) -> Any:
        try:
            return _DATETIME.validate_python(value) if value is not None else None
        except ValidationError:
            return None

    @field_validator("ts")
    @classmethod
    def _aware_ts(cls, value: datetime | None) -> datetime | None:
        return _aware(value)


class Call(_DispatchRecord):
    id: str | None = None
    classification: str | None = None
    description: str | None = None
    location: str | None = None
    status: str | None = None
    call_type: str | None = None
    priority: str | None = None
    units_assigned: list[str] | None = None
    created_by: str | None = None


class SceneReport(_DispatchRecord):
    id: str | None = None
    title: str | None = None
    description: str | None = None
    location: str | None = None
    date: str | None = None
    time: str | None = None
    officer_name: str | None = None
    officer_badge: str | None = None
    status: str | None = None
    dispatch_call_id: str | None = None


class Ticket(_DispatchRecord):
    id: str | None = None
    title: str | None = None
    description: str | None = None
    officer_name: str | None = None
    officer_badge: str | None = None
    officer_callsign: str | None = None
    status: str | None = None
    priority: str | None = None


@dataclass(frozen=True)
class ShiftWindow:
    """One answer of `GET /mdts/{mdtId}/shifts`: the newest `limit` shifts, most recently updated first.

    `items` are the shifts that parse; `skipped` counts those that do not (a badly typed record
    must not hide the others). `ids` and `oldest_updated_at` are read from every item, parsed
    or not, so a lookup can still tell whether a shift is in the window and how far back it reaches.
    """

    items: list[Shift]
    limit: int
    raw_count: int
    ids: frozenset[str]
    # The oldest `updated_at` that could be read (None: none could); never newer than the true oldest.
    oldest_updated_at: datetime | None
    skipped: int = 0

    @property
    def full(self) -> bool:
        """Whether Northca may have more matching shifts than it sent."""
        return self.raw_count >= self.limit

    def reaches_back_to(self, moment: datetime) -> bool:
        """Whether every matching shift updated at or after `moment` is in this window."""
        if not self.full:
            return True
        return self.oldest_updated_at is not None and self.oldest_updated_at < moment
