"""Time helpers, the one module for them: UTC everywhere, Discord timestamps for people.

Stored times: epoch milliseconds (`now_ms`, `to_ms`, `from_ms`) in every table made since the
shifts table, and in every new one. The two oldest tables (guild_links, officer_profiles) keep
ISO text (`to_iso`, `from_iso`) until a migration converts them.
"""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import overload


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def to_ms(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return int(value.timestamp() * 1000)


@overload
def from_ms(value: int) -> datetime: ...
@overload
def from_ms(value: None) -> None: ...
@overload
def from_ms(value: int | None) -> datetime | None: ...
def from_ms(value: int | None) -> datetime | None:
    if value is None:
        return None
    return datetime.fromtimestamp(value / 1000, tz=UTC)


def utcnow() -> datetime:
    return datetime.now(UTC)


def to_iso(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.astimezone(UTC).isoformat(timespec="milliseconds")


def from_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def utc_text(value: datetime) -> str:
    """`2026-12-05 21:30 UTC`: a time in stored text (a reason kept with a record), readable by any front door.
    (A front door words times for its readers itself: Discord's timestamps are bot.discord_text.discord_ts.)"""
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


def duration_text(ms: int) -> str:
    """`2 h 13 min`, `45 min`, or `40 s` for very short spans; a real span under a second is `1 s`, never
    `0 s` (which reads as nothing happened); nothing at all is `0 min`."""
    ms = max(0, int(ms))
    if ms == 0:
        return "0 min"
    if ms < 60_000:
        return f"{max(1, ms // 1000)} s"
    hours, minutes = divmod(ms // 60_000, 60)
    if hours and minutes:
        return f"{hours} h {minutes} min"
    if hours:
        return f"{hours} h"
    return f"{minutes} min"
