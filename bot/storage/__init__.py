"""Local state in SQLite: one aiosqlite connection, WAL, numbered migrations.

Services use it through the named methods of the stores in this package;
cogs never write SQL.
"""

from __future__ import annotations

import asyncio
import contextvars
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite

log = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+\.sql$")


# The transaction the running code belongs to (inherited by tasks it starts meanwhile).
_CURRENT_TX: contextvars.ContextVar[object | None] = contextvars.ContextVar("northca_db_tx", default=None)
Params = Iterable[Any] | Mapping[str, Any]


class Database:
    """One aiosqlite connection shared by every coroutine, behind one gate.

    SQLite has one transaction per connection: a statement another coroutine ran while a
    transaction was open would join it, and a rollback would silently undo that write. So
    every statement (read or write) passes the gate: while a transaction is open, only code
    of that transaction runs statements; the rest wait until it ends (readers never see
    uncommitted rows either). With no transaction open, statements go straight to the
    database thread in arrival order, so the gate costs nothing under a burst.
    """

    def __init__(self, path: str | Path) -> None:
        self.path = str(path)
        self._conn: aiosqlite.Connection | None = None
        self._tx_lock = asyncio.Lock()  # one transaction at a time
        self._open_tx: object | None = None
        self._tx_closed = asyncio.Event()
        self._tx_closed.set()

    @property
    def conn(self) -> aiosqlite.Connection:
        """The raw connection, for the code of an open transaction only (anything else would
        bypass the gate: use execute / execute_fetchall / fetchone / fetchall)."""
        if self._open_tx is None or _CURRENT_TX.get() is not self._open_tx:
            raise RuntimeError("Database.conn is for use inside Database.transaction(); use the Database methods")
        return self._raw

    @property
    def _raw(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError("database is not open")
        return self._conn

    async def open(self) -> None:
        if self.path != ":memory:":
            Path(self.path).parent.mkdir(parents=True, exist_ok=True)
        # isolation_level=None: we open transactions ourselves, explicitly.
        self._conn = await aiosqlite.connect(self.path, isolation_level=None)
        self._conn.row_factory = aiosqlite.Row
        await self._conn.execute("PRAGMA journal_mode=WAL")
        await self._conn.execute("PRAGMA foreign_keys=ON")
        await self._conn.execute("PRAGMA busy_timeout=5000")
        await self.migrate()

    async def check_writable(self) -> None:
        """Raise sqlite3.Error ("attempt to write a readonly database", ...) when a write would fail.
        Uses its own short-lived connection: a transaction on the shared one would take in, and roll back,
        statements other coroutines run meanwhile."""
        if self.path != ":memory:":
            await asyncio.to_thread(_probe_write, self.path)

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None

    async def migrate(self) -> list[int]:
        await self.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
            " applied_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')))"
        )
        done = {row[0] for row in await self.fetchall("SELECT version FROM schema_migrations")}
        applied = []
        for version, name, sql in _migrations():
            if version in done:
                continue
            async with self.transaction() as conn:
                # executescript would commit on its own; run statement by statement inside our transaction.
                for statement in _statements(sql):
                    await conn.execute(statement)
                await conn.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)", (version, name))
            log.info("applied migration %03d %s", version, name)
            applied.append(version)
        return applied

    async def _gate(self) -> aiosqlite.Connection:
        """Wait until this code may run a statement. The caller hands its statement to the
        connection right after, without suspending in between, so it is queued before any
        transaction that starts later."""
        while self._open_tx is not None and _CURRENT_TX.get() is not self._open_tx:
            await self._tx_closed.wait()
        return self._raw

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[aiosqlite.Connection]:
        """BEGIN IMMEDIATE ... COMMIT, rolled back on any error. Statements of other coroutines
        wait until it ends (see the class docstring); tasks started inside it belong to it.
        Keep it short, and never wait inside it for database work of a task started before it
        (e.g. a batching task): that work waits for this transaction to end."""
        if self._open_tx is not None and _CURRENT_TX.get() is self._open_tx:
            raise RuntimeError("a transaction is already open here (nested transactions are not supported)")
        async with self._tx_lock:
            await self._gate()
            tx = object()
            self._open_tx = tx
            self._tx_closed.clear()
            token = _CURRENT_TX.set(tx)
            try:
                conn = self._raw
                await conn.execute("BEGIN IMMEDIATE")
                try:
                    yield conn
                except BaseException:
                    await conn.execute("ROLLBACK")
                    raise
                await conn.execute("COMMIT")
            finally:
                _CURRENT_TX.reset(token)
                self._open_tx = None
                self._tx_closed.set()

    async def execute(self, sql: str, params: Params = ()) -> int:
        """One statement; returns the rows it changed."""
        conn = await self._gate()
        cursor = await conn.execute(sql, _params(params))
        try:
            return cursor.rowcount
        finally:
            await cursor.close()

    async def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        conn = await self._gate()
        cursor = await conn.executemany(sql, [_params(row) for row in rows])
        try:
            return cursor.rowcount
        finally:
            await cursor.close()

    async def execute_fetchall(self, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
        """One statement, its rows in the same trip to the database thread (a read, or a
        write with RETURNING: finished, hence committed, when it returns)."""
        conn = await self._gate()
        return list(await conn.execute_fetchall(sql, _params(params)))

    async def fetchone(self, sql: str, params: Params = ()) -> aiosqlite.Row | None:
        rows = await self.execute_fetchall(sql, params)
        return rows[0] if rows else None

    async def fetchall(self, sql: str, params: Params = ()) -> list[aiosqlite.Row]:
        return await self.execute_fetchall(sql, params)


def _params(params: Params) -> tuple[Any, ...] | Mapping[str, Any]:
    return params if isinstance(params, Mapping) else tuple(params)


def _probe_write(path: str) -> None:
    conn = sqlite3.connect(path, timeout=5.0, isolation_level=None)
    try:
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute("INSERT OR REPLACE INTO schema_migrations (version, name) VALUES (-1, 'write probe')")
        finally:
            conn.execute("ROLLBACK")
    finally:
        conn.close()


def _migrations() -> list[tuple[int, str, str]]:
    found = []
    for entry in resources.files("bot.storage").joinpath("migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), entry.name, entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if len(versions) != len(set(versions)):
        raise RuntimeError(f"two migrations share a number: {versions}")
    return found


def _statements(sql: str) -> list[str]:
    # Migrations are plain DDL/DML separated by ';' at line ends (no triggers with bodies).
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
