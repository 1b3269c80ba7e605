"""Active units: the upsert of PUT /mdts/{mdtId}/units/active."""

from __future__ import annotations

import sqlite3
from typing import Any

from aiohttp import web

from bot.northca.sandbox.schema import UNIT_FIELDS, UNIT_TEXT
from bot.northca.sandbox.state import SandboxState
from bot.northca.sandbox.wire import ApiError, iso, now_utc, refuse_unknown


class UnitApi(SandboxState):
    """The active-unit endpoint of the spec."""

    def units(self, mdt_id: str) -> dict[str, dict[str, Any]]:
        rows = self.db.execute("SELECT * FROM units WHERE mdt_id = ? ORDER BY id", (mdt_id,)).fetchall()
        return {r["id"]: self._unit_json(r) for r in rows}

    @staticmethod
    def _unit_json(row: sqlite3.Row) -> dict[str, Any]:
        data = {name: row[name] for name in UNIT_FIELDS}
        data.update(
            mdt_code=row["mdt_id"],
            last_seen=row["last_seen"],
            created_by_discord_id=row["created_by_discord_id"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )
        return data

    async def _upsert_units(self, request: web.Request, guild: str, actor: str | None) -> tuple[int, Any]:
        mdt_id = request.match_info["mdt_id"]
        self._require_link(guild, mdt_id)
        body = await self._body(request)
        if not isinstance(body, dict) or not isinstance(body.get("units"), list):
            raise ApiError(400, "Expected { units: [...] }")
        refuse_unknown(body, ("units",))
        seen: set[str] = set()
        for unit in body["units"]:
            if not isinstance(unit, dict) or not isinstance(unit.get("id"), str) or not unit["id"].strip():
                raise ApiError(400, "Each unit must include a non-empty id")
            if unit["id"] in seen:
                raise ApiError(400, "Duplicate unit id in request body")
            seen.add(unit["id"])
            refuse_unknown(unit, UNIT_FIELDS)
            for name in UNIT_TEXT:
                if unit.get(name) is not None and not isinstance(unit[name], str):
                    raise ApiError(400, f"Invalid {name}")
        now = iso(now_utc())
        out = []
        for unit in body["units"]:
            existing = self.db.execute(
                "SELECT * FROM units WHERE mdt_id = ? AND id = ?", (mdt_id, unit["id"])
            ).fetchone()
            # Unset values are stored as "" (documented); a field left out keeps its value.
            values = {n: (unit.get(n) or "") if n in unit else (existing[n] if existing else "") for n in UNIT_TEXT}
            self.db.execute(
                "INSERT INTO units (mdt_id, id, officer_name, officer_badge, department, rank, status, last_seen,"
                " created_by_discord_id, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)"
                " ON CONFLICT (mdt_id, id) DO UPDATE SET officer_name=excluded.officer_name,"
                " officer_badge=excluded.officer_badge, department=excluded.department, rank=excluded.rank,"
                " status=excluded.status, last_seen=excluded.last_seen, updated_at=excluded.updated_at",
                (mdt_id, unit["id"], *values.values(), now, actor, now, now),
            )
            row = self.db.execute("SELECT * FROM units WHERE mdt_id = ? AND id = ?", (mdt_id, unit["id"])).fetchone()
            out.append(self._unit_json(row))
        return 200, out
