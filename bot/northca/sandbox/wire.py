"""What every endpoint shares on the wire: the JSON envelope, API errors, the date-time format."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any

from aiohttp import web


class ApiError(Exception):
    """An answer in the error envelope: `status` with `message` as the error text."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def now_utc() -> datetime:
    return datetime.now(UTC)


def iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_dt(value: str) -> datetime:
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if parsed.tzinfo is None:
        raise ValueError("date-time without offset")
    return parsed


def refuse_unknown(body: dict[str, Any], allowed: tuple[str, ...]) -> None:
    unknown = sorted(set(body) - set(allowed))
    if unknown:
        # assumption: the message for additionalProperties=false is not documented.
        raise ApiError(400, f"Unknown fields: {', '.join(unknown)}")


def json_response(status: int, payload: Any) -> web.Response:
    return web.Response(status=status, body=json.dumps(payload).encode(), content_type="application/json")


def envelope_error(status: int, message: str) -> web.Response:
    return json_response(status, {"ok": False, "error": message})


# An endpoint: (request, guild, actor) -> (HTTP status, the envelope's data).
Handler = Callable[[web.Request, str, str | None], Awaitable[Any]]
