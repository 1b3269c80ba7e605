"""What the leave package answers with (no Discord here)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.core.audit import AuditSource
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
    # The on-leave role given for this leave, as it was then (None: none was set); `given_role_recorded` False: not
    # recorded (not given yet, or given before migration 031: then the role the settings name is taken back).
    given_role_id: int | None = None
    given_role_recorded: bool = False
    # The server's leave number (LOA #27; migration 039).
    number: int | None = None

    @classmethod
    def from_row(cls, row: Row) -> Leave:
        return cls(
            row["id"], row["guild_id"], row["member_id"], row["start_ms"], row["end_ms"], row["planned_end_ms"],
            row["reason"], row["status"], row["requested_ms"], row["decided_by"], row["decided_ms"],
            row["ended_by"], row["ended_ms"], row["given_role_id"], bool(row["given_role_recorded"]), row["number"],
        )  # fmt: skip

    def role_to_take_back(self, current_setting: int | None) -> int | None:
        """The on-leave role this leave gave: the recorded one, or for a leave given its role before roles were
        recorded, the one the settings name now."""
        return self.given_role_id if self.given_role_recorded else current_setting

    def current(self, at_ms: int) -> bool:
        return self.status == "approved" and self.start_ms <= at_ms < self.end_ms


@dataclass(frozen=True)
class RoleAction:
    """Give or take back the on-leave role for this leave (claimed: done exactly once). `role_id`: the role to give
    (recorded with the leave first) or the one given (taken back whatever the setting says by then); None: the
    server had no on-leave role."""

    kind: RoleActionKind
    leave: Leave
    role_id: int | None


@dataclass(frozen=True)
class LeaveDecided:
    """A leave request was approved or denied (the hub's `changes` topic)."""

    guild_id: int
    leave: Leave
    actor_id: int
    source: AuditSource
