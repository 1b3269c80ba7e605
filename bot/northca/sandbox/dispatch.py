"""Dispatch (northca-more-endpoints.md, "Known, for later"): panic, calls, scene reports, tickets."""

from __future__ import annotations

import json
import sqlite3
import uuid
from typing import Any

from aiohttp import web

from bot.northca.sandbox.schema import CALL_FIELDS, CALL_PATCHABLE, DISPATCH_RECORDS, LIST_FIELDS
from bot.northca.sandbox.state import SandboxState
from bot.northca.sandbox.wire import ApiError, iso, now_utc, refuse_unknown


class DispatchApi(SandboxState):
    """The recovered dispatch endpoints."""

    def dispatch_records(self, table: str, mdt_id: str) -> list[dict[str, Any]]:
        """The calls, scene_reports or tickets an MDT holds, oldest first."""
        fields = DISPATCH_RECORDS[table][0]
        rows = self.db.execute(f"SELECT * FROM {table} WHERE mdt_id = ? ORDER BY seq", (mdt_id,)).fetchall()
        return [_dispatch_json(row, fields) for row in rows]

    def calls(self, mdt_id: str) -> list[dict[str, Any]]:
        return self.dispatch_records("calls", mdt_id)

    def panics(self, mdt_id: str) -> list[dict[str, Any]]:
        rows = self.db.execute("SELECT * FROM panics WHERE mdt_id = ? ORDER BY unit_id", (mdt_id,)).fetchall()
        return [
            dict(unit_id=r["unit_id"], address=r["address"], actor_discord_id=r["actor_discord_id"], ts=r["ts"])
            for r in rows
        ]

    def _dispatch_state(self, mdt_ids: list[str]) -> dict[str, Any]:
        state: dict[str, Any] = {
            table: {m: self.dispatch_records(table, m) for m in mdt_ids} for table in DISPATCH_RECORDS
        }
        state["panics"] = {m: self.panics(m) for m in mdt_ids}
        return state

    async def _panic(self, request: web.Request, guild: str, actor: str | None) -> tuple[int, Any]:
        mdt_id, unit_id = request.match_info["mdt_id"], request.match_info["unit_id"]
        self._require_link(guild, mdt_id)
        body = await self._body(request)
        # assumption: no body reads as `{}` (the address is optional).
        body = {} if body is None else body
        if not isinstance(body, dict):
            raise ApiError(400, "Invalid JSON")
        refuse_unknown(body, ("address",))
        _check_texts(body, ("address",))
        ts = iso(now_utc())
        # assumption: a unit is in panic or not; a repeat refreshes its panic (address, time) and never
        # adds a second one. The unit need not be an active unit (not documented either way).
        self.db.execute(
            "INSERT INTO panics (mdt_id, unit_id, address, actor_discord_id, ts) VALUES (?,?,?,?,?)"
            " ON CONFLICT (mdt_id, unit_id) DO UPDATE SET address=excluded.address,"
            " actor_discord_id=excluded.actor_discord_id, ts=excluded.ts",
            (mdt_id, unit_id, body.get("address"), actor, ts),
        )
        return 200, {"panicked": True, "unit_id": unit_id, "ts": ts}

    async def _create_call(self, request: web.Request, guild: str, actor: str | None) -> tuple[int, Any]:
        return await self._create_dispatch_record(request, guild, "calls")

    async def _create_scene_report(self, request: web.Request, guild: str, actor: str | None) -> tuple[int, Any]:
        return await self._create_dispatch_record(request, guild, "scene_reports")

    async def _create_ticket(self, request: web.Request, guild: str, actor: str | None) -> tuple[int, Any]:
        return await self._create_dispatch_record(request, guild, "tickets")

    async def _create_dispatch_record(self, request: web.Request, guild: str, table: str) -> tuple[int, Any]:
        mdt_id = request.match_info["mdt_id"]
        self._require_link(guild, mdt_id)
        fields, default_status = DISPATCH_RECORDS[table]
        body = await self._body(request)
        if not isinstance(body, dict):
            raise ApiError(400, "Invalid JSON")
        refuse_unknown(body, fields)
        _check_texts(body, fields)
        values = {name: body.get(name) for name in fields}
        values["id"] = values["id"] or str(uuid.uuid4())  # documented: the server generates one
        values["status"] = values["status"] or default_status
        now = iso(now_utc())
        try:
            cursor = self.db.execute(
                f"INSERT INTO {table} (mdt_id, {', '.join(fields)}, created_at, updated_at)"
                f" VALUES ({', '.join('?' * (len(fields) + 3))})",
                (mdt_id, *(_dispatch_column(name, values[name]) for name in fields), now, now),
            )
        except sqlite3.IntegrityError:
            # assumption: as for shifts, a second record with an id the MDT already has fails as a unique
            # key would in the real service, with a plain server error; it is never stored twice.
            raise ApiError(500, "Internal server error") from None
        row = self.db.execute(f"SELECT * FROM {table} WHERE seq = ?", (cursor.lastrowid,)).fetchone()
        return 201, _dispatch_json(row, fields)

    async def _update_call(self, request: web.Request, guild: str, actor: str | None) -> tuple[int, Any]:
        mdt_id, call_id = request.match_info["mdt_id"], request.match_info["call_id"]
        self._require_link(guild, mdt_id)
        body = await self._body(request)
        if not isinstance(body, dict):
            raise ApiError(400, "Invalid JSON")
        # Documented: only these fields are applied; any other field is left out, not refused.
        changes = {name: body[name] for name in CALL_PATCHABLE if name in body}
        _check_texts(changes, CALL_PATCHABLE)
        row = self.db.execute("SELECT seq FROM calls WHERE mdt_id = ? AND id = ?", (mdt_id, call_id)).fetchone()
        if row is None:
            # assumption: an unknown call id answers 404.
            raise ApiError(404, "Call not found")
        if changes:
            assignments = ", ".join(f"{name} = ?" for name in changes)
            self.db.execute(
                f"UPDATE calls SET {assignments}, updated_at = ? WHERE seq = ?",
                (*(_dispatch_column(n, v) for n, v in changes.items()), iso(now_utc()), row["seq"]),
            )
        updated = self.db.execute("SELECT * FROM calls WHERE seq = ?", (row["seq"],)).fetchone()
        return 200, _dispatch_json(updated, CALL_FIELDS)


def _check_texts(body: dict[str, Any], fields: tuple[str, ...]) -> None:
    """400 for a dispatch field of the wrong type: texts are strings, `units_assigned` an array of strings;
    every one may be null (documented for calls; assumption for scene reports and tickets)."""
    for name in fields:
        value = body.get(name)
        if value is None:
            continue
        if name in LIST_FIELDS:
            ok = isinstance(value, list) and all(isinstance(item, str) for item in value)
        else:
            ok = isinstance(value, str)
        if not ok:
            raise ApiError(400, f"Invalid {name}")


def _dispatch_column(name: str, value: Any) -> Any:
    return json.dumps(value) if name in LIST_FIELDS and value is not None else value


def _dispatch_json(row: sqlite3.Row, fields: tuple[str, ...]) -> dict[str, Any]:
    # assumption: the answer's schema was not recovered; the sandbox echoes the documented fields only.
    return {
        name: (json.loads(row[name]) if name in LIST_FIELDS and row[name] is not None else row[name]) for name in fields
    }
