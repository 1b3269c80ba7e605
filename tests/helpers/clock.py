"""The one fake clock: epoch milliseconds that move only when the test moves them.

Give it wherever the code takes a clock (`start_bot(clock=...)`, `NorthcaBot(..., clock=...)`,
`build_services(..., clock=...)`, a service's `clock` attribute): no test depends on today's date or the wall clock.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.core.timefmt import to_ms

# 2025-11-24 16:00 UTC: where a clock starts when the test does not care when "now" is.
DEFAULT_START_MS = 1_764_000_000_000


def utc_ms(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> int:
    """Epoch ms of a UTC wall time."""
    return to_ms(datetime(year, month, day, hour, minute, tzinfo=UTC))


class Clock:
    """Epoch ms the test sets (`set`) and moves (`advance`); call it for "now"."""

    def __init__(self, at: datetime | int = DEFAULT_START_MS) -> None:
        self.ms = at if isinstance(at, int) else to_ms(at)

    def __call__(self) -> int:
        return self.ms

    def set(self, at: datetime | int) -> None:
        """Now is `at` (epoch ms, or an aware datetime)."""
        self.ms = at if isinstance(at, int) else to_ms(at)

    def advance(self, seconds: float = 0, *, ms: int = 0) -> None:
        """Now moves on by `seconds` and `ms`."""
        self.ms += int(seconds * 1000) + ms
