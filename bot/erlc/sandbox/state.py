"""The sandbox's game state in SQLite (a file or memory): servers, players, queue, join logs, emergency calls,
bans, staff, commands. The Python methods here are the admin API tests use; `/_sandbox/...` calls the same."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from typing import Any

from bot.erlc.sandbox.config import PrcSandboxConfig

TEAMS = ("Civilian", "Sheriff", "Police", "Fire", "DOT", "Jail")
PERMISSIONS = (
    "Normal",
    "Server Helper",
    "Server Moderator",
    "Server Administrator",
    "Server Co-Owner",
    "Server Owner",
)
CALL_TEAMS = ("Police", "Fire", "DOT", "ALL")

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (name TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS servers (
    key TEXT PRIMARY KEY,
    name TEXT NOT NULL,
    owner_id INTEGER NOT NULL,
    co_owner_ids TEXT NOT NULL DEFAULT '[]',
    max_players INTEGER NOT NULL,
    join_key TEXT NOT NULL,
    acc_verified_req TEXT NOT NULL DEFAULT 'Disabled',
    team_balance INTEGER NOT NULL DEFAULT 1,
    state TEXT NOT NULL DEFAULT 'active',  -- active, revoked, banned
    event_webhook TEXT  -- the "Event Webhook" URL the owner saved in the server settings
);
CREATE TABLE IF NOT EXISTS players (
    key TEXT NOT NULL,
    user_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    team TEXT NOT NULL,
    callsign TEXT,
    permission TEXT NOT NULL,
    location TEXT,
    wanted_stars INTEGER NOT NULL DEFAULT 0,
    joined_at INTEGER NOT NULL,
    PRIMARY KEY (key, user_id)
);
CREATE TABLE IF NOT EXISTS queue (
    key TEXT NOT NULL, user_id INTEGER NOT NULL, position INTEGER NOT NULL, PRIMARY KEY (key, user_id)
);
CREATE TABLE IF NOT EXISTS join_logs (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    key TEXT NOT NULL, joined INTEGER NOT NULL, at INTEGER NOT NULL, user_id INTEGER NOT NULL, name TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS calls (
    key TEXT NOT NULL,
    number INTEGER NOT NULL,
    team TEXT NOT NULL,
    caller INTEGER,
    players TEXT NOT NULL DEFAULT '[]',
    x REAL NOT NULL DEFAULT 0,
    z REAL NOT NULL DEFAULT 0,
    started_at INTEGER NOT NULL,
    description TEXT,
    descriptor TEXT,
    ended_at INTEGER,
    PRIMARY KEY (key, number)
);
CREATE TABLE IF NOT EXISTS bans (key TEXT NOT NULL, user_id INTEGER NOT NULL, name TEXT NOT NULL,
    PRIMARY KEY (key, user_id));
CREATE TABLE IF NOT EXISTS staff (key TEXT NOT NULL, user_id INTEGER NOT NULL, name TEXT NOT NULL,
    role TEXT NOT NULL, PRIMARY KEY (key, user_id));  -- role: Admin, Mod, Helper
CREATE TABLE IF NOT EXISTS vehicles (
    id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, name TEXT NOT NULL, owner TEXT NOT NULL,
    plate TEXT, texture TEXT, color_hex TEXT, color_name TEXT
);
CREATE TABLE IF NOT EXISTS commands (
    id INTEGER PRIMARY KEY AUTOINCREMENT, key TEXT NOT NULL, at INTEGER NOT NULL, command TEXT NOT NULL
);
"""

# The join log the API answers holds the newest entries only (assumption: the count is not documented).
JOIN_LOG_LENGTH = 100


class UnknownServer(KeyError):
    """No server has this key (sandbox admin calls)."""


class GameState:
    """Servers and everything in them. Every method is synchronous SQLite, called from the event loop."""

    def __init__(self, config: PrcSandboxConfig, clock: Callable[[], float]) -> None:
        self.config = config
        self.clock = clock
        self.db = sqlite3.connect(config.db_path, isolation_level=None, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        self.db.executescript(SCHEMA)
        for server in config.servers:
            if self._server(server.key) is None:
                self.add_server(server.key, name=server.name, owner_id=server.owner_id, max_players=server.max_players)

    def close(self) -> None:
        self.db.close()

    def now(self) -> int:
        return int(self.clock())

    # --- servers --------------------------------------------------------------------------------

    def add_server(
        self,
        key: str,
        name: str = "Sandbox Private Server",
        owner_id: int = 1,
        max_players: int = 40,
        *,
        co_owner_ids: list[int] | None = None,
        join_key: str | None = None,
        acc_verified_req: str = "Disabled",
        team_balance: bool = True,
    ) -> None:
        """A private server whose API key is `key` (replacing one with the same key)."""
        if not key:
            raise ValueError("a server needs a key")
        self.db.execute(
            "INSERT OR REPLACE INTO servers (key, name, owner_id, co_owner_ids, max_players, join_key,"
            " acc_verified_req, team_balance, state) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 'active')",
            (
                key,
                name,
                int(owner_id),
                json.dumps(co_owner_ids or []),
                int(max_players),
                join_key or "sb" + hashlib.sha256(key.encode()).hexdigest()[:6],
                acc_verified_req,
                int(team_balance),
            ),
        )

    def event_webhook(self, key: str) -> str | None:
        row = self._server(key)
        return None if row is None or row["event_webhook"] is None else str(row["event_webhook"])

    def _store_event_webhook(self, key: str, url: str | None) -> None:
        self._require(key)
        self.db.execute("UPDATE servers SET event_webhook = ? WHERE key = ?", (url, key))

    def player(self, key: str, user_id: int) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.db.execute(
            "SELECT * FROM players WHERE key = ? AND user_id = ?", (key, int(user_id))
        ).fetchone()
        return row

    def revoke_key(self, key: str) -> None:
        """The owner made a new key: later requests with this one answer 2002."""
        self._require(key)
        self.db.execute("UPDATE servers SET state = 'revoked' WHERE key = ?", (key,))

    def ban_key(self, key: str) -> None:
        """PRC banned the key: later requests answer 2004."""
        self._require(key)
        self.db.execute("UPDATE servers SET state = 'banned' WHERE key = ?", (key,))

    def key_state(self, key: str) -> str | None:
        row = self._server(key)
        return None if row is None else str(row["state"])

    def _server(self, key: str) -> sqlite3.Row | None:
        row: sqlite3.Row | None = self.db.execute("SELECT * FROM servers WHERE key = ?", (key,)).fetchone()
        return row

    def _require(self, key: str) -> sqlite3.Row:
        row = self._server(key)
        if row is None:
            raise UnknownServer("no sandbox server has this key")
        return row

    def server_name(self, key: str) -> str:
        return str(self._require(key)["name"])

    # --- players --------------------------------------------------------------------------------

    def join(
        self,
        key: str,
        user_id: int,
        name: str,
        team: str = "Civilian",
        callsign: str | None = None,
        permission: str = "Normal",
        *,
        location: dict[str, Any] | None = None,
    ) -> None:
        """A player joins the server (already in: nothing changes; a full server refuses: queue them instead)."""
        server = self._require(key)
        if self.player(key, user_id) is None and self.player_count(key) >= int(server["max_players"]):
            raise ValueError(f"the server is full ({server['max_players']} players): put them in the queue")
        _check(team, TEAMS, "team")
        _check(permission, PERMISSIONS, "permission")
        now = self.now()
        cur = self.db.execute(
            "INSERT OR IGNORE INTO players (key, user_id, name, team, callsign, permission, location, joined_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (
                key,
                int(user_id),
                name,
                team,
                None if team == "Civilian" else callsign,
                permission,
                json.dumps(location) if location else None,
                now,
            ),
        )
        if cur.rowcount:
            self.db.execute("DELETE FROM queue WHERE key = ? AND user_id = ?", (key, int(user_id)))
            self._log_join(key, True, int(user_id), name, now)

    def leave(self, key: str, user_id: int) -> None:
        """A player leaves (not in: nothing changes)."""
        row = self.db.execute(
            "DELETE FROM players WHERE key = ? AND user_id = ? RETURNING name", (key, int(user_id))
        ).fetchone()
        if row is not None:
            self._log_join(key, False, int(user_id), str(row["name"]), self.now())

    def set_team(self, key: str, user_id: int, team: str) -> None:
        _check(team, TEAMS, "team")
        # Callsigns exist only on non-civilian teams.
        self._update_player(
            key, user_id, "team = ?, callsign = CASE WHEN ? = 'Civilian' THEN NULL ELSE callsign END", (team, team)
        )

    def set_callsign(self, key: str, user_id: int, callsign: str | None) -> None:
        self._update_player(key, user_id, "callsign = CASE WHEN team = 'Civilian' THEN NULL ELSE ? END", (callsign,))

    def set_permission(self, key: str, user_id: int, permission: str) -> None:
        _check(permission, PERMISSIONS, "permission")
        self._update_player(key, user_id, "permission = ?", (permission,))

    def set_location(self, key: str, user_id: int, location: dict[str, Any] | None) -> None:
        self._update_player(key, user_id, "location = ?", (json.dumps(location) if location else None,))

    def _update_player(self, key: str, user_id: int, assignments: str, values: tuple[Any, ...]) -> None:
        cur = self.db.execute(
            f"UPDATE players SET {assignments} WHERE key = ? AND user_id = ?", (*values, key, int(user_id))
        )
        if not cur.rowcount:
            raise KeyError(f"player {user_id} is not in that server")

    def _log_join(self, key: str, joined: bool, user_id: int, name: str, at: int) -> None:
        self.db.execute(
            "INSERT INTO join_logs (key, joined, at, user_id, name) VALUES (?, ?, ?, ?, ?)",
            (key, int(joined), at, user_id, name),
        )

    def players(self, key: str) -> list[sqlite3.Row]:
        return list(self.db.execute("SELECT * FROM players WHERE key = ? ORDER BY joined_at, user_id", (key,)))

    def player_count(self, key: str) -> int:
        row = self.db.execute("SELECT COUNT(*) FROM players WHERE key = ?", (key,)).fetchone()
        return int(row[0])

    def join_logs(self, key: str) -> list[sqlite3.Row]:
        rows = self.db.execute(
            "SELECT * FROM join_logs WHERE key = ? ORDER BY id DESC LIMIT ?", (key, JOIN_LOG_LENGTH)
        ).fetchall()
        return list(reversed(rows))

    # --- queue, calls, bans, staff, commands --------------------------------------------------------

    def set_queue(self, key: str, user_ids: list[int]) -> None:
        self._require(key)
        self.db.execute("DELETE FROM queue WHERE key = ?", (key,))
        self.db.executemany(
            "INSERT INTO queue (key, user_id, position) VALUES (?, ?, ?)",
            [(key, int(u), i) for i, u in enumerate(user_ids)],
        )

    def queue(self, key: str) -> list[int]:
        return [int(r[0]) for r in self.db.execute("SELECT user_id FROM queue WHERE key = ? ORDER BY position", (key,))]

    def add_emergency_call(
        self,
        key: str,
        team: str = "Police",
        caller: int | None = None,
        description: str | None = None,
        *,
        position: tuple[float, float] = (0.0, 0.0),
        descriptor: str | None = None,
        players: list[int] | None = None,
    ) -> int:
        """A 911 call; returns its call number (1, 2, ... per server)."""
        self._require(key)
        _check(team, CALL_TEAMS, "team")
        row = self.db.execute("SELECT COALESCE(MAX(number), 0) + 1 FROM calls WHERE key = ?", (key,)).fetchone()
        number = int(row[0])
        self.db.execute(
            "INSERT INTO calls (key, number, team, caller, players, x, z, started_at, description, descriptor)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                key,
                number,
                team,
                caller,
                json.dumps(players or []),
                position[0],
                position[1],
                self.now(),
                description,
                descriptor,
            ),
        )
        return number

    def end_emergency_call(self, key: str, number: int) -> None:
        self.db.execute("UPDATE calls SET ended_at = ? WHERE key = ? AND number = ?", (self.now(), key, number))

    def calls(self, key: str) -> list[sqlite3.Row]:
        return list(self.db.execute("SELECT * FROM calls WHERE key = ? AND ended_at IS NULL ORDER BY number", (key,)))

    def ban(self, key: str, user_id: int, name: str) -> None:
        self._require(key)
        self.db.execute("INSERT OR REPLACE INTO bans (key, user_id, name) VALUES (?, ?, ?)", (key, user_id, name))

    def bans(self, key: str) -> dict[int, str]:
        return {int(r[0]): str(r[1]) for r in self.db.execute("SELECT user_id, name FROM bans WHERE key = ?", (key,))}

    def add_staff(self, key: str, user_id: int, name: str, role: str) -> None:
        _check(role, ("Admin", "Mod", "Helper"), "role")
        self._require(key)
        self.db.execute(
            "INSERT OR REPLACE INTO staff (key, user_id, name, role) VALUES (?, ?, ?, ?)", (key, user_id, name, role)
        )

    def staff(self, key: str, role: str) -> dict[str, str]:
        rows = self.db.execute("SELECT user_id, name FROM staff WHERE key = ? AND role = ?", (key, role))
        return {str(r[0]): str(r[1]) for r in rows}

    def add_vehicle(
        self,
        key: str,
        name: str,
        owner: str,
        *,
        plate: str | None = None,
        texture: str | None = None,
        color_hex: str | None = None,
        color_name: str | None = None,
    ) -> None:
        """A spawned vehicle; `color_hex` None leaves `ColorHex` out of v2 answers (the quirk seen)."""
        self._require(key)
        self.db.execute(
            "INSERT INTO vehicles (key, name, owner, plate, texture, color_hex, color_name)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (key, name, owner, plate, texture, color_hex, color_name),
        )

    def vehicles(self, key: str) -> list[sqlite3.Row]:
        return list(self.db.execute("SELECT * FROM vehicles WHERE key = ? ORDER BY id", (key,)))

    def record_command(self, key: str, command: str) -> None:
        self.db.execute("INSERT INTO commands (key, at, command) VALUES (?, ?, ?)", (key, self.now(), command))

    def commands(self, key: str) -> list[str]:
        return [str(r[0]) for r in self.db.execute("SELECT command FROM commands WHERE key = ? ORDER BY id", (key,))]

    def meta(self, name: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else str(row[0])

    def set_meta(self, name: str, value: str) -> None:
        self.db.execute("INSERT OR REPLACE INTO meta (name, value) VALUES (?, ?)", (name, value))


def _check(value: str, allowed: tuple[str, ...], what: str) -> None:
    if value not in allowed:
        raise ValueError(f"unknown {what} {value!r}; one of {', '.join(allowed)}")
