"""Servers for the dashboard tests: County A (owned by ADMIN; a shift-log channel; roles including one named like
a script; a manager role), City B (owned by OTHER), and the members who log in."""

from __future__ import annotations

from typing import Any

from tests.harness import builders
from tests.helpers import ADMIN, OFFICER, OTHER

COUNTY = 131313131313131313
CITY = 141414141414141414
A_LOG, A_GENERAL = 760000000000000001, 760000000000000002
B_LOG = 770000000000000001
A_DUTY, A_SCRIPT, A_MANAGER = 780000000000000001, 780000000000000002, 780000000000000003
A_SERGEANTS = 780000000000000004
SCRIPT = "<script>alert(1)</script>"
MANAGER = 888888888888888888  # manages County A through a role, not as its owner
SERGEANT = 899999999999999999  # a Sergeants role in County A, no Manage Server


def add_servers(h: Any) -> None:
    h.add_guild(
        COUNTY,
        name="County A",
        owner_id=ADMIN,
        roles=[
            builders.role(A_DUTY, "On Duty A", position=1),
            builders.role(A_SCRIPT, SCRIPT, position=2),
            builders.role(A_MANAGER, "Server Managers", position=3, permissions=builders.MANAGE_GUILD),
            builders.role(A_SERGEANTS, "Sergeants", position=4),
        ],
        channels=[
            builders.channel(A_GENERAL, guild_id=COUNTY, name="general"),
            builders.channel(A_LOG, guild_id=COUNTY, name="shift-log"),
        ],
        members=[
            builders.member(OFFICER, username="officer", nick=SCRIPT),
            builders.member(MANAGER, username="manager", roles=[A_MANAGER]),
            builders.member(SERGEANT, username="sergeant", roles=[A_SERGEANTS]),
        ],
    )
    h.add_guild(
        CITY,
        name="City B",
        owner_id=OTHER,
        channels=[builders.channel(B_LOG, guild_id=CITY, name="duty-log")],
        members=[builders.member(OFFICER, username="officer")],
    )
