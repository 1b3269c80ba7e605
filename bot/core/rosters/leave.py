"""Who is excused from a roster occurrence: the members on approved leave.

The leave feature is built elsewhere (bot/core/leave/); attendance only needs this one question answered,
so it takes any `ExcusedSource`. Until a leave service exists, `NoLeave` excuses nobody.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Protocol


class ExcusedSource(Protocol):
    async def excused(self, guild_id: int, start_ms: int, end_ms: int) -> Collection[int]:
        """The members on approved leave at any time in [start_ms, end_ms)."""
        ...


class NoLeave:
    """No leave service: nobody is excused (absent stays absent)."""

    async def excused(self, guild_id: int, start_ms: int, end_ms: int) -> Collection[int]:
        return frozenset()
