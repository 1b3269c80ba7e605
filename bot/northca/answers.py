"""Reading Northca's answers: the JSON envelope (data or a typed error), the models, `Retry-After`,
and the lenient shift window (one bad item is skipped and named once, never the whole answer)."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar

from pydantic import BaseModel, TypeAdapter, ValidationError

from .errors import NorthcaServerError, error_for_status
from .models import Shift, ShiftWindow

log = logging.getLogger(__name__)

# An upper bound on any server-asked wait, so one odd header cannot freeze anything for a day.
RETRY_AFTER_CAP_SECONDS = 300.0
_DATETIME = TypeAdapter(datetime)

M = TypeVar("M", bound=BaseModel)


def unwrap(status: int, content_type: str, raw: bytes, retry_after_header: str | None) -> Any:
    envelope: Any = None
    if raw and "json" in content_type:
        try:
            envelope = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            envelope = None
    retry_after = parse_retry_after(retry_after_header)
    if not isinstance(envelope, dict) or "ok" not in envelope:
        what = (
            "an empty body"
            if not raw
            else f"a body that is not the JSON envelope ({content_type or 'no content type'})"
        )
        message = f"Northca answered HTTP {status} with {what}"
        if 200 <= status < 300:
            raise NorthcaServerError(message, status)
        raise error_for_status(status, message, retry_after)
    if envelope.get("ok") is True and 200 <= status < 300:
        return envelope.get("data")
    error = envelope.get("error")
    message = error if isinstance(error, str) and error else f"Northca answered HTTP {status}"
    if 200 <= status < 300:
        # ok:false with a 2xx status is not a success whatever the status says.
        raise NorthcaServerError(message, status)
    raise error_for_status(status, message, retry_after)


def parse_model(model: type[M], data: Any) -> M:
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise NorthcaServerError(
            f"Northca sent an unreadable {model.__name__} ({exc.error_count()} problems)", 200
        ) from None


def parse_record(model: type[M], data: Any) -> M:
    # The dispatch answers' schemas were not recovered: an answer without an object reads as empty.
    return parse_model(model, data if isinstance(data, dict) else {})


def parse_list(model: type[M], data: Any) -> list[M]:
    if not isinstance(data, list):
        raise NorthcaServerError(
            f"Northca sent {type(data).__name__} where a list of {model.__name__} was expected", 200
        )
    return [parse_model(model, item) for item in data]


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait, from delta-seconds or an HTTP-date, capped at RETRY_AFTER_CAP_SECONDS."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None  # unreadable: our own backoff applies
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        seconds = (when - datetime.now(UTC)).total_seconds()
    if seconds != seconds:  # NaN
        return None
    return min(RETRY_AFTER_CAP_SECONDS, max(0.0, seconds))


def _updated_at(item: Any) -> datetime | None:
    value = item.get("updated_at") if isinstance(item, dict) else None
    if value is None:
        return None
    try:
        parsed = _DATETIME.validate_python(value)
    except ValidationError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def shift_window(data: Any, limit: int, path: str) -> ShiftWindow:
    if not isinstance(data, list):
        raise NorthcaServerError(f"Northca sent {type(data).__name__} where a list of Shift was expected", 200)
    items: list[Shift] = []
    ids: set[str] = set()
    oldest: datetime | None = None
    skipped = 0
    first_problem = ""
    for item in data:
        if isinstance(item, dict) and isinstance(item.get("id"), str):
            ids.add(item["id"])
        try:
            shift = Shift.model_validate(item)
        except ValidationError as exc:
            skipped += 1
            if not first_problem:
                where = sorted({".".join(str(p) for p in e["loc"]) or "item" for e in exc.errors()})
                ident = item.get("id") if isinstance(item, dict) else None
                first_problem = f"id {str(ident)[:64]!r}: {', '.join(where)[:200]}"
            stamp = _updated_at(item)
        else:
            items.append(shift)
            stamp = shift.updated_at
        if stamp is not None and (oldest is None or stamp < oldest):
            oldest = stamp
    if skipped:
        # Once per answer, however many items are bad.
        log.warning(
            "Northca sent %d of %d shifts on GET %s that do not parse; skipped them (first: %s)",
            skipped,
            len(data),
            path,
            first_problem,
        )
    return ShiftWindow(items, limit, len(data), frozenset(ids), oldest, skipped)
