"""Duty management: the one duty-time rule, periods in a guild's time zone, audited time
adjustments, the leaderboard, activity reports against quotas, the CSV export.

- rule.py: duty = (ended or now) − started − breaks + adjustments, and splitting at a boundary;
- periods.py: this/last week and month, activity periods, all time;
- records.py: what the service answers with, page slices;
- store.py: all duty SQL; service.py: the rules; export.py: the CSV.

Built by bot.services.build_services; nothing here knows about Discord or reads settings:
every setting is a parameter.
"""

from bot.core.duty.periods import PERIOD_CHOICES, ActivityKind, Period, PeriodChoice, period_for
from bot.core.duty.records import ActivityLine, Adjustment, MemberDuty, Page, page_of
from bot.core.duty.rule import duty_ms, duty_seconds
from bot.core.duty.service import DutyService
from bot.core.duty.store import DutyStore

__all__ = [
    "PERIOD_CHOICES",
    "ActivityKind",
    "ActivityLine",
    "Adjustment",
    "DutyService",
    "DutyStore",
    "MemberDuty",
    "Page",
    "Period",
    "PeriodChoice",
    "duty_ms",
    "duty_seconds",
    "page_of",
    "period_for",
]
