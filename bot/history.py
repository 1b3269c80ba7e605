"""A server's history of admin actions, newest first: settings changes, time adjustments, leave decisions and
early ends, roster changes; each with who, when, and where from (Discord or the dashboard, bot/audit.py).

Read only: each part is written by its own store with its audit (migration 037 added the source).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from bot.audit import SOURCE_LABELS
from bot.storage import Database

Area = Literal["settings", "time", "leave", "roster"]
AREAS: tuple[Area, ...] = ("settings", "time", "leave", "roster")
AREA_LABELS: dict[str, str] = {"settings": "Settings", "time": "Time edit", "leave": "Leave", "roster": "Roster"}


@dataclass(frozen=True)
class HistoryEntry:
    at_ms: int
    actor_id: int
    source: str
    area: str
    # What was done: the setting key, the adjustment kind, the leave decision, the roster action.
    action: str
    # Before and after (settings, rosters), or the amount and reason (time), or the reason (leave).
    before: str | None
    after: str | None
    # The member it was about (time edits, leave), if any.
    member_id: int | None

    @property
    def where(self) -> str:
        return SOURCE_LABELS.get(self.source, self.source)


_PARTS: dict[Area, str] = {
    "settings": "SELECT at_ms, actor_id, source, 'settings' AS area, setting_key AS action, old_json AS before_text,"
    " new_json AS after_text, CAST(NULL AS BIGINT) AS member_id, id AS seq FROM settings_audit WHERE guild_id = :g",
    "time": "SELECT at_ms, actor_id, source, 'time' AS area, kind AS action, CAST(amount_ms AS TEXT) AS before_text,"
    " reason AS after_text, member_id, id AS seq FROM duty_adjustments WHERE guild_id = :g",
    "leave": "SELECT decided_ms AS at_ms, decided_by AS actor_id, COALESCE(decided_source, 'discord') AS source,"
    " 'leave' AS area, status AS action, reason AS before_text, CAST(NULL AS TEXT) AS after_text, member_id,"
    " 0 AS seq FROM leaves WHERE guild_id = :g AND decided_by IS NOT NULL"
    " UNION ALL SELECT ended_ms AS at_ms, ended_by AS actor_id, COALESCE(ended_source, 'discord') AS source,"
    " 'leave' AS area, 'ended' AS action, reason AS before_text, CAST(NULL AS TEXT) AS after_text, member_id,"
    " 0 AS seq FROM leaves WHERE guild_id = :g AND ended_by IS NOT NULL",
    "roster": "SELECT at_ms, actor_id, source, 'roster' AS area, action, old_text AS before_text,"
    " new_text AS after_text, CAST(NULL AS BIGINT) AS member_id, id AS seq FROM roster_audit WHERE guild_id = :g",
}


class GuildHistory:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def recent(
        self, guild_id: int, *, areas: tuple[Area, ...] = AREAS, limit: int = 50, offset: int = 0
    ) -> list[HistoryEntry]:
        """The server's latest actions in `areas`, newest first."""
        parts = " UNION ALL ".join(_PARTS[a] for a in areas if a in _PARTS) or _PARTS["settings"]
        rows = await self.db.fetchall(
            f"SELECT * FROM ({parts}) AS history ORDER BY at_ms DESC, seq DESC LIMIT :limit OFFSET :offset",
            {"g": guild_id, "limit": limit, "offset": offset},
        )
        return [
            HistoryEntry(
                int(r["at_ms"]),
                int(r["actor_id"]),
                str(r["source"]),
                str(r["area"]),
                str(r["action"]),
                None if r["before_text"] is None else str(r["before_text"]),
                None if r["after_text"] is None else str(r["after_text"]),
                None if r["member_id"] is None else int(r["member_id"]),
            )
            for r in rows
        ]
