"""Leave of absence: requests, supervisor decisions, early ends, the on-leave role's timing, and who is on
leave (quota exemption, the optional on-duty block).

- records.py: Leave, RoleAction; store.py: all leave SQL; service.py: the rules and the role worker.

Built by bot.services.build_services; nothing here knows about Discord.
"""

from bot.core.leave.records import Leave, RoleAction
from bot.core.leave.service import LeaveService, LeaveWorker, parse_day
from bot.core.leave.store import LeaveStore

__all__ = ["Leave", "LeaveService", "LeaveStore", "LeaveWorker", "RoleAction", "parse_day"]
