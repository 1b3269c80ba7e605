"""The ids and keys every test agrees on: servers, members (and their Discord payloads), roles, channels, the MDT.

One set, so that "the supervisor" or "the shift-log channel" means the same id in every test. A builder or a
test adds ids of its own only for what it alone has (a second MDT, a dispatch responder role, a shard-placed guild).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from tests.harness import builders

# --- servers ----------------------------------------------------------------------------------
GUILD: Final = 111111111111111111
# A second server of the same bot: settings, links, rosters and leave must stay apart from GUILD's.
OTHER_GUILD: Final = 121212121212121212

# --- members ----------------------------------------------------------------------------------
OWNER: Final = 222222222222222222  # owner of the MDT on the Northca side (approves /link)
ADMIN: Final = 333333333333333333  # holds Manage Server on GUILD
OFFICER: Final = 444444444444444444
OTHER: Final = 555555555555555555  # a second officer
SUPERVISOR: Final = 666666666666666666  # holds SUPERVISOR_ROLE
THIRD: Final = 777777777777777777  # a third officer

# What an ordinary member may do in a channel: view, send, embed, read history, use app commands.
MEMBER_PERMS: Final = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 16) | (1 << 31)
ADMIN_PERMS: Final = MEMBER_PERMS | builders.MANAGE_GUILD

# --- roles of GUILD ---------------------------------------------------------------------------
ON_DUTY_ROLE: Final = 700000000000000001  # "On Duty"
SUPERVISOR_ROLE: Final = 700000000000000002  # "Sergeant": the supervisor role of the [shifts] config
DEPARTMENT_ROLE: Final = 700000000000000003  # "Sheriff" / "Patrol": a department's (or a quota's) role
ON_BREAK_ROLE: Final = 700000000000000006  # "On Break"

# --- channels of GUILD ------------------------------------------------------------------------
LOG_CH: Final = 710000000000000001  # the shift log
GENERAL_CH: Final = 710000000000000002
REPORTS_CH: Final = 710000000000000003  # activity reports and roster reminders
ALERTS_CH: Final = 710000000000000004  # panic alerts, ER:LC alerts
DISPATCH_CH: Final = 710000000000000005  # call cards
BOARD_CH: Final = 710000000000000006  # live boards (/erlc board)

# --- the members as Discord sends them -------------------------------------------------------
ADMIN_M: Final = builders.member(ADMIN, permissions=ADMIN_PERMS, username="admin")
OFFICER_M: Final = builders.member(OFFICER, permissions=MEMBER_PERMS, username="officer", nick="Ofc. Bubbleton")
OTHER_M: Final = builders.member(OTHER, permissions=MEMBER_PERMS, username="other")
SUPERVISOR_M: Final = builders.member(
    SUPERVISOR, permissions=MEMBER_PERMS, username="sergeant", roles=[SUPERVISOR_ROLE]
)

# --- Northca ----------------------------------------------------------------------------------
MDT: Final = "0c7f6a0c-2c4f-4f44-b16a-2b6b8d8fe2c2"  # the MDT GUILD links to (OWNER's, on the sandbox)
KEY: Final = "test-partner-key-d0n0tl0g"  # the partner key; no log line, message or page may hold it


def member_m(user_id: int, *roles: int, name: str | None = None) -> dict[str, Any]:
    """An ordinary member (MEMBER_PERMS) with `roles`, as Discord sends one in an interaction."""
    return builders.member(user_id, permissions=MEMBER_PERMS, username=name or f"m{user_id}", roles=list(roles))


def member_opt(payload: Mapping[str, Any]) -> builders.UserOption:
    """A member as a command's user option."""
    return builders.UserOption(payload)
