"""What the leave package answers with (no Discord here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.storage.rows import Row

LeaveStatus = Literal["pending", "approved", "denied"]
RoleActionKind = Literal["give", "remove"]


@dataclass(frozen=True)
class Leave:
    id: str
    guild_id: int
    member_id: int
    start_ms: int
    end_ms: int
    planned_end_ms: int
    reason: str
    status: LeaveStatus
    requested_ms: int
    decided_by: int | None
    decided_ms: int | None
    ended_by: int | None
    ended_ms: int | None

    @classmethod
    def from_row(cls, row: Row) -> Leave:
        return cls(
            row["id"], row["guild_id"], row["member_id"], row["start_ms"], row["end_ms"], row["planned_end_ms"],
            row["reason"], row["status"], row["requested_ms"], row["decided_by"], row["decided_ms"],
            row["ended_by"], row["ended_ms"],
        )  # fmt: skip

    def current(self, at_ms: int) -> bool:
        return self.status == "approved" and self.start_ms <= at_ms < self.end_ms


@dataclass(frozen=True)
class RoleAction:
    """Give or take back the on-leave role for this leave (claimed: done exactly once)."""

    kind: RoleActionKind
    leave: Leave
