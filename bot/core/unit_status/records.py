"""What a unit status is: the local record of an officer's last status, the panels, and what
a status change needs and answers with."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.errors import Conflict, ErrorKind
from bot.core.profiles import OfficerProfile
from bot.core.settings.records import TenCode
from bot.northca.models import ActiveUnitUpsert
from bot.storage.rows import Row

# The panic status: set only by the panic path (StatusService.set_panic), whatever the guild's own codes are.
PANIC_CODE = "10-33"
PANIC = TenCode(code=PANIC_CODE, label="Emergency (panic)", style="danger", order=-1)


@dataclass(frozen=True)
class UnitStatus:
    guild_id: int
    member_id: int
    mdt_id: str
    callsign: str
    status: str
    officer_name: str
    officer_badge: str | None
    department: str | None
    rank: str | None
    version: int
    synced_version: int
    updated_ms: int
    actor_id: int | None

    @classmethod
    def from_row(cls, row: Row) -> UnitStatus:
        return cls(**{name: row[name] for name in cls.__dataclass_fields__})

    @property
    def synced(self) -> bool:
        return self.synced_version >= self.version

    def to_upsert(self) -> ActiveUnitUpsert:
        # Unset fields go as "" (how Northca stores "unset"), so a cleared profile field clears there too.
        return ActiveUnitUpsert(
            id=self.callsign,
            officer_name=self.officer_name,
            officer_badge=self.officer_badge or "",
            department=self.department or "",
            rank=self.rank or "",
            status=self.status,
        )


@dataclass(frozen=True)
class StatusPanel:
    message_id: int
    guild_id: int
    channel_id: int
    created_by: int | None
    created_ms: int


@dataclass(frozen=True)
class OpenShift:
    """The member's open shift, as far as a status needs it."""

    id: str
    department: str | None
    officer_name: str | None
    # The unit for this shift (/shift start callsign:, else the profile's callsign at the start).
    callsign: str | None = None


@dataclass(frozen=True)
class StatusContext:
    """What a status change needs, read in one go: the link, the profile, the current record,
    and the open shift (the `shifts` table of bot/core/shifts/store.py: open while `ended_ms` is NULL,
    at most one per member, as ShiftStore.open_for reads it)."""

    link_mdt_id: str | None
    link_status: str | None
    profile: OfficerProfile
    current: UnitStatus | None
    open_shift: OpenShift | None = None


class OffDuty(Conflict):
    """The officer has no open shift and the server wants one before a status is set."""

    def __init__(self, code: TenCode) -> None:
        super().__init__(ErrorKind.OFF_DUTY_STATUS, code=code.code, label=code.label)
        self.code = code


@dataclass(frozen=True)
class StatusChange:
    status: UnitStatus
    code: TenCode
    previous: str | None


@dataclass(frozen=True)
class PanelsStale:
    """The guild's status panels show an old board: re-render them."""

    guild_id: int


def unit_callsign(ctx: StatusContext) -> str | None:
    """The member's unit: while a shift is open, its callsign; else the profile's."""
    shift_callsign = ctx.open_shift.callsign if ctx.open_shift is not None else None
    return shift_callsign or ctx.profile.callsign
