"""The ports: how the core reaches the outside (Discord today, another front door next), one typed protocol each.

The core never calls a front door in any other way: a service or worker that must act outside (post a report,
give a role, send a reminder) takes its port from the one `Ports` handed to `build_services` (bot/ops/services.py);
what other parts merely react to is a hub topic (bot/core/events.py: notifications only, nobody answers them).
The Discord front door implements every port (`cogs/ports.py`: `discord_ports(bot)`), and `NorthcaBot.setup_hook`
passes them to `build_services`. A port left None is not there (a test graph, a process without Discord): the
worker that needs it claims nothing, so no claim waits on a front door that cannot act.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.activity_reports import ReportPublisher
from bot.core.leave.service import RoleApplier
from bot.core.rosters.reminders import ReminderDelivery

__all__ = ["Ports", "ReminderDelivery", "ReportPublisher", "RoleApplier"]


@dataclass(frozen=True)
class Ports:
    """Every port of the core; None: that front door is not there."""

    # Posts the scheduled activity reports (bot/core/activity_reports.py).
    reports: ReportPublisher | None = None
    # Gives and takes back the on-leave role (bot/core/leave/service.py, LeaveWorker).
    leave_roles: RoleApplier | None = None
    # Sends roster reminders and tells who holds which role (bot/core/rosters/reminders.py).
    reminders: ReminderDelivery | None = None
