"""Who is a supervisor of a server, the one rule the bot's buttons and commands and the dashboard share:
Manage Server (or Administrator) there, or one of the server's supervisor roles (its settings)."""

from __future__ import annotations

from collections.abc import Collection


def is_supervisor(*, manages_server: bool, role_ids: Collection[int], supervisor_role_ids: Collection[int]) -> bool:
    return manages_server or any(role_id in supervisor_role_ids for role_id in role_ids)
