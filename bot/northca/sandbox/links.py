"""Link requests and links: create, confirm, list a guild's MDTs, unlink; and deciding a request."""

from __future__ import annotations

import sqlite3
import time
import uuid
from datetime import timedelta
from typing import Any

from aiohttp import web

from bot.northca.sandbox.state import SandboxState
from bot.northca.sandbox.wire import ApiError, iso, now_utc, parse_dt, refuse_unknown


class DecisionRefused(Exception):
    """A link request that is no longer pending cannot be decided otherwise (e.g. expiring an approved one)."""


class LinkApi(SandboxState):
    """The link endpoints of the spec."""

    def decide(self, request_id: str, status: str) -> dict[str, Any]:
        """Approve, deny or expire a link request (the sandbox-only admin path)."""
        if status not in ("approved", "denied", "expired"):
            raise ValueError(status)
        row = self._link_request(request_id)
        if row is None:
            raise KeyError(request_id)
        if row["status"] != "pending" and row["status"] != status:
            raise DecisionRefused(f"Link request already {row['status']}")
        self.db.execute(
            "UPDATE link_requests SET status = ?, decided_at = ?, auto_approve_at = NULL WHERE id = ?",
            (status, iso(now_utc()), request_id),
        )
        if status == "approved":
            self.db.execute(
                "INSERT OR REPLACE INTO links (guild_id, mdt_id, owner_discord_id, request_id) VALUES (?, ?, ?, ?)",
                (row["guild_id"], row["mdt_id"], row["owner_discord_id"], request_id),
            )
        decided = self._link_request(request_id)
        if decided is None:  # only a concurrent delete could do this; the sandbox never deletes requests
            raise KeyError(request_id)
        return self._link_request_json(decided)

    def link_requests(self) -> list[dict[str, Any]]:
        ids = [r[0] for r in self.db.execute("SELECT id FROM link_requests ORDER BY created_at")]
        rows = [self._link_request(i) for i in ids]
        return [self._link_request_json(row) for row in rows if row is not None]

    def _approve_due_requests(self) -> None:
        """Demo auto-approval: pending requests whose time has come are approved before any call is served."""
        due = self.db.execute(
            "SELECT id FROM link_requests WHERE status = 'pending'"
            " AND auto_approve_at IS NOT NULL AND auto_approve_at <= ?",
            (time.time(),),
        ).fetchall()
        for row in due:
            self.decide(row["id"], "approved")

    def _link_request(self, request_id: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.db.execute("SELECT * FROM link_requests WHERE id = ?", (request_id,)).fetchone()
        if row is None:
            return None
        if row["status"] == "pending" and parse_dt(row["expires_at"]) <= now_utc():
            self.db.execute("UPDATE link_requests SET status = 'expired' WHERE id = ?", (request_id,))
            return self._link_request(request_id)
        return row

    @staticmethod
    def _link_request_json(row: sqlite3.Row) -> dict[str, Any]:
        return {
            "id": row["id"],
            "partner": "sandbox",
            "mdt_id": row["mdt_id"],
            "guild_id": row["guild_id"],
            "status": row["status"],
            "requester_discord_id": row["requester_discord_id"],
            "owner_discord_id": row["owner_discord_id"],
            "created_at": row["created_at"],
            "expires_at": row["expires_at"],
            "decided_at": row["decided_at"],
        }

    async def _create_link_request(self, request: web.Request, guild: str, actor: str | None) -> tuple[int, Any]:
        body = await self._body(request)
        if not isinstance(body, dict):
            raise ApiError(400, "Invalid JSON")
        refuse_unknown(body, ("mdt_id",))
        if body.get("mdt_id") in (None, ""):
            raise ApiError(400, "Missing required fields: mdt_id")
        mdt_id = body["mdt_id"]
        mdt = (
            self.db.execute("SELECT * FROM mdts WHERE id = ?", (mdt_id,)).fetchone()
            if isinstance(mdt_id, str)
            else None
        )
        if mdt is None:
            raise ApiError(400, "Invalid mdt_id")
        now = now_utc()
        request_id = str(uuid.uuid4())
        auto = self.config.auto_approve_after
        self.db.execute(
            "INSERT INTO link_requests VALUES (?, ?, ?, ?, ?, ?, ?, ?, NULL, ?)",
            (
                request_id,
                mdt_id,
                guild,
                self.faults.link_request_status,
                actor,
                mdt["owner_discord_id"],
                iso(now),
                iso(now + timedelta(seconds=self.config.link_request_ttl_seconds)),
                None if auto is None else time.time() + auto,
            ),
        )
        # The request is created `pending`; auto-approval happens later, on the next read.
        row = self.db.execute("SELECT * FROM link_requests WHERE id = ?", (request_id,)).fetchone()
        return 201, self._link_request_json(row)

    async def _confirm_link_request(self, request: web.Request, guild: str, actor: str | None) -> tuple[int, Any]:
        row = self._link_request(request.match_info["request_id"])
        # assumption: an unknown request id answers 404.
        if row is None:
            raise ApiError(404, "Link request not found")
        if row["guild_id"] != guild or actor is None or actor != row["owner_discord_id"]:
            raise ApiError(403, "Forbidden")
        if row["status"] == "expired":
            raise ApiError(410, "Link request expired")
        if row["status"] == "denied":
            raise ApiError(409, "Link request denied")
        if row["status"] == "approved":
            return 200, {"already": True}
        return 200, self.decide(row["id"], "approved")

    async def _guild_mdts(self, request: web.Request, guild: str, actor: str | None) -> tuple[int, Any]:
        if request.match_info["guild_id"] != guild:
            raise ApiError(403, "Forbidden")
        rows = self.db.execute("SELECT mdt_id FROM links WHERE guild_id = ? ORDER BY mdt_id", (guild,)).fetchall()
        return 200, [{"mdt_id": r["mdt_id"]} for r in rows]

    async def _unlink(self, request: web.Request, guild: str, actor: str | None) -> tuple[int, Any]:
        mdt_id = request.match_info["mdt_id"]
        self._require_link(guild, mdt_id)
        owner = self.db.execute(
            "SELECT owner_discord_id FROM links WHERE guild_id = ? AND mdt_id = ?", (guild, mdt_id)
        ).fetchone()[0]
        if actor is None or actor != owner:
            raise ApiError(403, "Forbidden")
        self.unlink(guild, mdt_id)
        return 200, {"unlinked": True}  # assumption: the answer's shape was not recovered.
