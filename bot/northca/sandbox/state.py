"""The sandbox's state in SQLite (in memory or a file) and the helpers every endpoint shares."""

from __future__ import annotations

import json
import sqlite3
from typing import Any

from aiohttp import web

from bot.northca.sandbox.config import SandboxConfig
from bot.northca.sandbox.faults import Faults
from bot.northca.sandbox.schema import SCHEMA, dispatch_schema
from bot.northca.sandbox.wire import ApiError


class SandboxState:
    """The sandbox's stored state (MDTs, links) and what every endpoint uses to read a request."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.faults = Faults()
        self.db = sqlite3.connect(self.config.db_path, isolation_level=None)
        self.db.row_factory = sqlite3.Row
        self.db.executescript(SCHEMA)
        self.db.executescript(dispatch_schema())
        for mdt in self.config.mdts:
            self.add_mdt(mdt.id, mdt.owner_discord_id, mdt.name)

    def add_mdt(self, mdt_id: str, owner_discord_id: str | int | None = None, name: str | None = None) -> None:
        self.db.execute(
            "INSERT OR REPLACE INTO mdts (id, owner_discord_id, name) VALUES (?, ?, ?)",
            (mdt_id, None if owner_discord_id is None else str(owner_discord_id), name),
        )

    def link(self, guild_id: str | int, mdt_id: str) -> None:
        """Link directly, as if a request had been approved."""
        owner = self.db.execute("SELECT owner_discord_id FROM mdts WHERE id = ?", (mdt_id,)).fetchone()
        self.db.execute(
            "INSERT OR REPLACE INTO links (guild_id, mdt_id, owner_discord_id) VALUES (?, ?, ?)",
            (str(guild_id), mdt_id, owner[0] if owner else None),
        )

    def unlink(self, guild_id: str | int, mdt_id: str) -> None:
        self.db.execute("DELETE FROM links WHERE guild_id = ? AND mdt_id = ?", (str(guild_id), mdt_id))

    def is_linked(self, guild_id: str | int, mdt_id: str) -> bool:
        row = self.db.execute(
            "SELECT 1 FROM links WHERE guild_id = ? AND mdt_id = ?", (str(guild_id), mdt_id)
        ).fetchone()
        return row is not None

    async def _body(self, request: web.Request) -> Any:
        raw = await request.read()
        try:
            return json.loads(raw) if raw else None
        except ValueError:
            raise ApiError(400, "Invalid JSON") from None

    def _require_link(self, guild: str, mdt_id: str) -> None:
        if not self.is_linked(guild, mdt_id):
            raise ApiError(403, "MDT not linked to this guild")
