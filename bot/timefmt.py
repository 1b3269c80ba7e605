"""Time helpers: UTC everywhere, ISO text in SQLite, Discord timestamps for people."""

from __future__ import annotations

from datetime import datetime, timezone


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def to_iso(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat(timespec="milliseconds")


def from_iso(value: str | None) -> datetime | None:
    if not value:
        return None
    parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


def discord_ts(value: datetime, style: str = "R") -> str:
    """`<t:…:R>`: rendered by each reader's Discord client in their own time zone."""
    return f"<t:{int(value.timestamp())}:{style}>"


def duration_text(ms: int) -> str:
    """`2 h 13 min`, `45 min`, or `40 s` for very short spans."""
    ms = max(0, int(ms))
    if ms < 60_000:
        return f"{ms // 1000} s"
    hours, minutes = divmod(ms // 60_000, 60)
    if hours and minutes:
        return f"{hours} h {minutes} min"
    if hours:
        return f"{hours} h"
    return f"{minutes} min"
