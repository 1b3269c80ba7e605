"""Unit status: the officer's 10-code, kept locally and mirrored to Northca's active-units board.

- records.py: what a unit status is (UnitStatus, StatusPanel, StatusContext, StatusChange, ...);
- store.py: the unit_status and status_panels tables (all their SQL, grouped under a burst);
- coalescer.py: few, ordered, retried bulk upserts to Northca;
- service.py: the rules behind /status and its buttons.

Built by bot.services.build_services; nothing here knows about Discord.
"""

from bot.core.unit_status.coalescer import RETRY_AFTER_CAP_SECONDS, UnitChange, UnitCoalescer, UnitsSent
from bot.core.unit_status.records import (
    OffDuty,
    OpenShift,
    PanelsStale,
    StatusChange,
    StatusContext,
    StatusPanel,
    UnitStatus,
)
from bot.core.unit_status.service import StatusService
from bot.core.unit_status.store import MAX_PANELS_PER_GUILD, UnitStatusStore

__all__ = [
    "MAX_PANELS_PER_GUILD",
    "RETRY_AFTER_CAP_SECONDS",
    "OffDuty",
    "OpenShift",
    "PanelsStale",
    "StatusChange",
    "StatusContext",
    "StatusPanel",
    "StatusService",
    "UnitChange",
    "UnitCoalescer",
    "UnitStatus",
    "UnitStatusStore",
    "UnitsSent",
]
