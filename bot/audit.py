"""Where an audited admin action was made: the front door named next to who made it.

Every audited write (a time adjustment, a leave decision, a roster change) takes its `source`: "discord" for a
slash command or button, "dashboard" for the web dashboard (bot/dashboard/). Stored with the change (migration
037) and shown in the history as "from Discord" / "from the dashboard".
"""

from __future__ import annotations

from typing import Literal

AuditSource = Literal["discord", "dashboard"]

SOURCE_LABELS: dict[AuditSource, str] = {"discord": "from Discord", "dashboard": "from the dashboard"}
