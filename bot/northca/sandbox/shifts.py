"""Shifts: create and list (spec), and the sandbox-only planting of records as given."""

from __future__ import annotations

import json
import sqlite3
import uuid
from typing import Any

from aiohttp import web

from bot.northca.sandbox.schema import SHIFT_FIELDS
from bot.northca.sandbox.state import SandboxState
from bot.northca.sandbox.wire import ApiError, iso, now_utc, parse_dt, refuse_unknown


class ShiftApi(SandboxState):
    """The shift endpoints of the spec."""

    def shifts(self, mdt_id: str) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT * FROM shifts WHERE mdt_id = ? ORDER BY seq", (mdt_id,)).fetchall()
        return [self._shift_json(r) for r in rows]

    def plant_shift(self, mdt_id: str, record: dict[str, Any]) -> None:
        """Store a shift record as given, unvalidated (sandbox-only; see the package docstring)."""
        now = iso(now_utc())
        values = {name: record.get(name) for name in SHIFT_FIELDS}
        if values["id"] is None:
            values["id"] = str(uuid.uuid4())
        self.db.execute(
            "INSERT INTO shifts (mdt_id, id, officer_name, officer_badge, status, start_time, end_time, duration_ms,"
            " department, created_by_discord_id, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
            (
                mdt_id,
                *(_plain(values[name]) for name in SHIFT_FIELDS),
                _plain(record.get("created_by_discord_id")),
                _plain(record.get("created_at", now)),
                _plain(record.get("updated_at", record.get("created_at", now))),
            ),
        )

    def accept_duplicate_shift_ids(self) -> None:
        """From now on a second shift with an id the MDT has is stored too (sandbox-only)."""
        self.db.execute("DROP INDEX IF EXISTS shifts_mdt_id")
        self.db.execute("CREATE INDEX IF NOT EXISTS shifts_mdt_id_any ON shifts (mdt_id, id)")

    @staticmethod
    def _shift_json(row: sqlite3.Row) -> dict[str, Any]:
        data = {name: row[name] for name in SHIFT_FIELDS}
        data.update(
            mdt_code=row["mdt_id"],
            created_by_discord_id=row["created_by_discord_id"],
            created_at=row["created_at"],
            updated_at=row["updated_at"],
        )
        return data

    async def _create_shift(self, request: web.Request, guild: str, actor: str | None) -> tuple[int, Any]:
        mdt_id = request.match_info["mdt_id"]
        self._require_link(guild, mdt_id)
        body = await self._body(request)
        if not isinstance(body, dict):
            raise ApiError(400, "Invalid JSON")
        refuse_unknown(body, SHIFT_FIELDS)
        for name in ("id", "officer_name", "officer_badge", "status", "department", "start_time", "end_time"):
            if name in body and not (isinstance(body[name], str) or (body[name] is None and name != "id")):
                raise ApiError(400, f"Invalid {name}")
        for name in ("start_time", "end_time"):
            if body.get(name) is not None:
                try:
                    parse_dt(body[name])
                except ValueError:
                    raise ApiError(400, f"Invalid {name}") from None
        duration = body.get("duration_ms")
        if duration is not None and (isinstance(duration, bool) or not isinstance(duration, int)):
            raise ApiError(400, "Invalid duration_ms")
        now = iso(now_utc())
        shift_id = body.get("id") or str(uuid.uuid4())
        try:
            cursor = self.db.execute(
                "INSERT INTO shifts (mdt_id, id, officer_name, officer_badge, status, start_time, end_time,"
                " duration_ms, department, created_by_discord_id, created_at, updated_at)"
                " VALUES (?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    mdt_id,
                    shift_id,
                    body.get("officer_name"),
                    body.get("officer_badge"),
                    body.get("status") or "active",
                    body.get("start_time") or now,
                    body.get("end_time"),
                    duration,
                    body.get("department"),
                    actor,
                    now,
                    now,
                ),
            )
        except sqlite3.IntegrityError:
            # assumption: a second shift with an id the MDT already has fails as a unique key
            # would in the real service, with a plain server error; it is never stored twice.
            raise ApiError(500, "Internal server error") from None
        row = self.db.execute("SELECT * FROM shifts WHERE seq = ?", (cursor.lastrowid,)).fetchone()
        return 201, self._shift_json(row)

    async def _list_shifts(self, request: web.Request, guild: str, actor: str | None) -> tuple[int, Any]:
        mdt_id = request.match_info["mdt_id"]
        self._require_link(guild, mdt_id)
        try:
            limit = int(request.query.get("limit", "50"))
        except ValueError:
            raise ApiError(400, "Invalid limit") from None
        if limit < 1:
            raise ApiError(400, "Invalid limit")
        sql = "SELECT * FROM shifts WHERE mdt_id = ?"
        args: list[str | int] = [mdt_id]
        for name in ("department", "status"):
            if request.query.get(name):
                sql += f" AND {name} = ?"
                args.append(request.query[name])
        sql += " ORDER BY updated_at DESC, seq DESC LIMIT ?"
        args.append(min(limit, 200))
        return 200, [self._shift_json(r) for r in self.db.execute(sql, args).fetchall()]


def _plain(value: Any) -> Any:
    # A planted value SQLite cannot hold as such (a list, an object) is kept as its JSON text.
    return value if value is None or isinstance(value, (str, int, float)) else json.dumps(value)
