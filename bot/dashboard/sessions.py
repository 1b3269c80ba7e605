"""The dashboard's server-side sessions and OAuth2 logins in flight (migration 036): every SQL statement of them.

A session is a random id in an HttpOnly cookie; the database keeps only its SHA-256 (a copy of the database gives
no live cookie), who the user is, the servers they manage as Discord listed them at login (their access token is
used at login only and never stored), the CSRF token of their forms and when it was last used. A session unused
for the idle time is over (and deleted when next looked at or swept). Login replaces any session the browser had
(rotation); logout deletes it.

A login in flight is the OAuth2 `state` (stored hashed), its PKCE verifier and the return path; the callback
takes it with one DELETE ... RETURNING, so a state works once: a replay finds nothing.
"""

from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Callable
from dataclasses import dataclass

from bot.polling import PollingService
from bot.storage import Database

# A login must come back from Discord within this long.
LOGIN_TTL_MS = 10 * 60 * 1000


def _digest(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def new_token() -> str:
    """A random, URL-safe value of 256 bits (session ids, states, CSRF tokens, PKCE verifiers)."""
    return secrets.token_urlsafe(32)


@dataclass(frozen=True)
class Session:
    user_id: int
    user_name: str
    # The servers the user manages (Manage Server, Administrator or owner) as Discord listed them at login: id, name.
    managed: tuple[tuple[int, str], ...]
    csrf: str
    created_ms: int
    seen_ms: int

    def __repr__(self) -> str:  # never the CSRF token
        return f"Session(user_id={self.user_id})"


@dataclass(frozen=True)
class PendingLogin:
    verifier: str
    return_to: str

    def __repr__(self) -> str:
        return f"PendingLogin(return_to={self.return_to!r})"


class SessionSweep(PollingService):
    """Deletes idle sessions and unfinished logins every few minutes (a session is refused when idle anyway; this
    keeps the table small)."""

    name = "dashboard-session-sweep"

    def __init__(self, store: SessionStore, interval_seconds: float = 300.0) -> None:
        super().__init__(interval_seconds)
        self.store = store

    async def run_once(self) -> int:
        return await self.store.sweep()


class SessionStore:
    def __init__(self, db: Database, *, idle_ms: int, clock: Callable[[], int]) -> None:
        self.db = db
        self.idle_ms = idle_ms
        self.clock = clock

    async def create(
        self, user_id: int, user_name: str, managed: list[tuple[int, str]], *, replacing: str | None = None
    ) -> str:
        """A new session (its cookie value); the browser's previous session, if any, ends (rotation at login)."""
        sid = new_token()
        now = self.clock()
        async with self.db.transaction() as db:
            if replacing:
                await db.execute("DELETE FROM dashboard_sessions WHERE id_hash = ?", (_digest(replacing),))
            await db.execute(
                "INSERT INTO dashboard_sessions (id_hash, user_id, user_name, guilds_json, csrf, created_ms, seen_ms)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    _digest(sid),
                    user_id,
                    user_name[:100],
                    json.dumps([[g, n[:100]] for g, n in managed]),
                    new_token(),
                    now,
                    now,
                ),
            )
        return sid

    async def get(self, sid: str) -> Session | None:
        """The live session of this cookie value, its last use moved to now; None when unknown or idle too long
        (an idle one is deleted)."""
        if not sid or len(sid) > 200:
            return None
        now = self.clock()
        key = _digest(sid)
        row = await self.db.fetchone(
            "SELECT user_id, user_name, guilds_json, csrf, created_ms, seen_ms FROM dashboard_sessions"
            " WHERE id_hash = ?",
            (key,),
        )
        if row is None:
            return None
        if now - int(row["seen_ms"]) >= self.idle_ms:
            await self.db.execute("DELETE FROM dashboard_sessions WHERE id_hash = ?", (key,))
            return None
        await self.db.execute("UPDATE dashboard_sessions SET seen_ms = ? WHERE id_hash = ?", (now, key))
        return Session(
            int(row["user_id"]), str(row["user_name"]),
            tuple((int(g), str(n)) for g, n in json.loads(row["guilds_json"])), str(row["csrf"]),
            int(row["created_ms"]), now,
        )  # fmt: skip

    async def end(self, sid: str) -> None:
        await self.db.execute("DELETE FROM dashboard_sessions WHERE id_hash = ?", (_digest(sid),))

    async def sweep(self) -> int:
        """Deletes idle sessions and logins never finished."""
        now = self.clock()
        done = await self.db.execute("DELETE FROM dashboard_sessions WHERE seen_ms <= ?", (now - self.idle_ms,))
        done += await self.db.execute("DELETE FROM dashboard_logins WHERE created_ms <= ?", (now - LOGIN_TTL_MS,))
        return done

    # --- logins in flight ----------------------------------------------------------------------------------------
    async def begin_login(self, verifier: str, return_to: str) -> str:
        """A new `state` for Discord, remembered with the PKCE verifier and where to go after."""
        state = new_token()
        await self.db.execute(
            "INSERT INTO dashboard_logins (state_hash, verifier, return_to, created_ms) VALUES (?, ?, ?, ?)",
            (_digest(state), verifier, return_to, self.clock()),
        )
        return state

    async def take_login(self, state: str) -> PendingLogin | None:
        """The login of this `state`, taken once (deleted); None when unknown, used already or too old."""
        if not state or len(state) > 200:
            return None
        row = await self.db.fetchone(
            "DELETE FROM dashboard_logins WHERE state_hash = ? RETURNING verifier, return_to, created_ms",
            (_digest(state),),
        )
        if row is None or self.clock() - int(row["created_ms"]) >= LOGIN_TTL_MS:
            return None
        return PendingLogin(str(row["verifier"]), str(row["return_to"]))
