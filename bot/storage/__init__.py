"""Local state: SQLite (the embedded default) or PostgreSQL (asyncpg), numbered migrations.

Services use it through the named methods of the stores in this package;
cogs never write SQL.

The portable SQL subset (the stores write only this; docs/architecture.md, "Storage: the portable
SQL subset", explains each rule):
- Parameters: `?` (positional), `?NNN` or `:name`. On PostgreSQL they become `$n` (translated once per
  statement text and cached, so the hot paths pay a dict lookup).
- Scalar larger/smaller of two values: GREATEST(a, b) / LEAST(a, b) (SQLite gets its scalar MAX / MIN).
- Null-safe equality: `a IS NOT DISTINCT FROM b` (never `a IS ?`).
- Upserts: `INSERT ... ON CONFLICT (...) DO NOTHING / DO UPDATE SET x = excluded.x` (never INSERT OR ...).
- `INDEXED BY` hints may stay (SQLite's planner needs some); PostgreSQL's planner goes without, they are dropped.
- Many rows as one JSON value: COALESCE(json_group_array(json_array(...)), '[]') (json_agg(json_build_array(...))
  on PostgreSQL); a subquery in FROM has an alias.
- A parameter tested for NULL is cast: CAST(? AS TEXT) IS NULL (PostgreSQL cannot tell its type otherwise).
- Sums: CAST(SUM(x) AS BIGINT) (PostgreSQL sums integers as numeric), and SUM(CASE WHEN c THEN 1 ELSE 0 END)
  rather than SUM(c) over a condition.
- Rows are read by column name or index; row counts come back from execute().
- Constraint violations raise one of INTEGRITY_ERRORS, whatever the engine.
- Migrations: one numbered series. Their DDL says INTEGER, which is BIGINT on PostgreSQL (Discord snowflakes
  and millisecond times need 64 bits), and `INTEGER PRIMARY KEY` (AUTOINCREMENT or not: SQLite's rowid
  alias fills it in when an INSERT leaves it out), which is an identity column there; SQLite's
  `IS 'literal'` is `= 'literal'` there. A migration that cannot be written portably
  gets a `NNN_name.postgresql.sql` twin with the same number (none needs one yet).
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any

import aiosqlite
import asyncpg

from bot.storage.rows import Row

log = logging.getLogger(__name__)

_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+(\.postgresql)?\.sql$")

# A unique/foreign-key/check violation, on either engine.
INTEGRITY_ERRORS: tuple[type[Exception], ...] = (sqlite3.IntegrityError, asyncpg.IntegrityConstraintViolationError)
# Any error of the database itself (not of our code), on either engine.
DATABASE_ERRORS: tuple[type[Exception], ...] = (sqlite3.Error, asyncpg.PostgresError, asyncpg.InterfaceError)

# The advisory lock a PostgreSQL migration run holds (any fixed 64-bit number; "northca" in ASCII).
_MIGRATION_LOCK_KEY = 0x6E6F72746863


class MigrationOrderError(RuntimeError):
    """A migration not applied yet is numbered below the newest applied one; the message is one line."""


# The transaction the running code belongs to (inherited by tasks it starts meanwhile).
_CURRENT_TX: contextvars.ContextVar[object | None] = contextvars.ContextVar("northca_db_tx", default=None)
Params = Iterable[Any] | Mapping[str, Any]


def is_postgresql_url(target: str | Path) -> bool:
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


def redact_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", url)


class Database:
    """One connection shared by every coroutine, behind one gate (SQLite file or PostgreSQL URL).

    SQLite has one transaction per connection: a statement another coroutine ran while a
    transaction was open would join it, and a rollback would silently undo that write. So
    every statement (read or write) passes the gate: while a transaction is open, only code
    of that transaction runs statements; the rest wait until it ends (readers never see
    uncommitted rows either). With no transaction open, statements go straight to the
    database in arrival order, so the gate costs nothing under a burst. PostgreSQL runs
    behind the same gate on one connection, so both engines give the stores the same order
    and the same transaction semantics.
    """

    def __init__(self, target: str | Path) -> None:
        self.path = str(target)
        self.engine = "postgresql" if is_postgresql_url(self.path) else "sqlite"
        self._conn: aiosqlite.Connection | None = None
        self._pg: asyncpg.Connection | None = None
        self._pg_lock = asyncio.Lock()  # asyncpg runs one statement at a time per connection
        self._tx_lock = asyncio.Lock()  # one transaction at a time
        self._open_tx: object | None = None
        self._tx_closed = asyncio.Event()
        self._tx_closed.set()

    @property
    def where(self) -> str:
        """The file, or the URL without its password: safe for messages and logs."""
        return redact_url(self.path) if self.engine == "postgresql" else self.path

    @property
    def in_transaction(self) -> bool:
        """Whether the running code belongs to the open transaction (its statements run inside it)."""
        return self._open_tx is not None and _CURRENT_TX.get() is self._open_tx

    @property
    def conn(self) -> aiosqlite.Connection:
        """The raw SQLite connection, for the code of an open transaction only (anything else would
        bypass the gate: use execute / execute_fetchall / fetchone / fetchall)."""
        if not self.in_transaction:
            raise RuntimeError("Database.conn is for use inside Database.transaction(); use the Database methods")
        return self._raw

    @property
    def _raw(self) -> aiosqlite.Connection:
        if self._conn is None:
            raise RuntimeError("database is not open")
        return self._conn

    @property
    def _pg_raw(self) -> asyncpg.Connection:
        if self._pg is None:
            raise RuntimeError("database is not open")
        return self._pg

    async def open(self) -> None:
        if self.engine == "postgresql":
            self._pg = await asyncpg.connect(self.path, timeout=10)
        else:
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
        statements other coroutines run meanwhile. (PostgreSQL: the migrations' write already proved it.)"""
        if self.engine == "sqlite" and self.path != ":memory:":
            await asyncio.to_thread(_probe_write, self.path)

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None
        if self._pg is not None:
            await self._pg.close()
            self._pg = None

    async def migrate(self) -> list[int]:
        """Apply the migrations not applied yet, in number order; the versions this call applied.

        Several processes may start at once on one database (a rolling deploy, a scaled-out start): the run is
        theirs one at a time (`_migration_turn`), and each migration is re-checked inside its own transaction,
        so it runs once and the others wait for it and carry on. A migration numbered below the newest applied
        one and not applied itself is refused (MigrationOrderError): it would run after newer ones here but
        before them on a new database."""
        async with self._migration_turn():
            return await self._migrate()

    async def _migrate(self) -> list[int]:
        now = "(strftime('%Y-%m-%dT%H:%M:%fZ','now'))"
        if self.engine == "postgresql":
            now = "(to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"'))"
        await self.execute(
            "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL,"
            f" applied_at TEXT NOT NULL DEFAULT {now})"
        )
        done = {row[0] for row in await self.fetchall("SELECT version FROM schema_migrations WHERE version > 0")}
        pending = [(version, name, sql) for version, name, sql in _migrations(self.engine) if version not in done]
        newest = max(done, default=0)
        late = [(version, name) for version, name, _ in pending if version < newest]
        if late:
            version, name = late[0]
            raise MigrationOrderError(
                f"Migration {name} is not applied to this database, but {newest:03d} (newer) is: migrations run in"
                f" number order, so renumber it above {max(v for v, _, _ in _migrations(self.engine)):03d}."
            )
        applied = []
        for version, name, sql in pending:
            async with self.transaction() as tx:
                # Another process may have applied it since `done` was read (SQLite: its writers take turns,
                # so this read sees every committed migration).
                if await tx.fetchone("SELECT 1 FROM schema_migrations WHERE version = ?", (version,)) is not None:
                    continue
                # executescript would commit on its own; run statement by statement inside our transaction.
                for statement in _statements(sql):
                    await tx.execute(_ddl(statement, self.engine))
                await tx.execute("INSERT INTO schema_migrations (version, name) VALUES (?, ?)", (version, name))
            log.debug("applied migration %03d %s", version, name)
            applied.append(version)
        if applied:
            # One line, not one per migration (a first start applies them all).
            log.info(
                "applied %d database migration%s (%03d to %03d)",
                len(applied),
                "" if len(applied) == 1 else "s",
                applied[0],
                applied[-1],
            )
        return applied

    @asynccontextmanager
    async def _migration_turn(self) -> AsyncIterator[None]:
        """PostgreSQL: hold a session advisory lock, on a connection of its own, for the whole migration run, so
        processes starting at once migrate one after the other (two concurrent CREATE TABLEs collide in the
        catalog even with IF NOT EXISTS). SQLite needs none: its write transactions already take turns."""
        if self.engine != "postgresql":
            yield
            return
        holder = await asyncpg.connect(self.path, timeout=10)
        try:
            if not await holder.fetchval("SELECT pg_try_advisory_lock($1)", _MIGRATION_LOCK_KEY):
                log.info("another process is migrating the database: waiting for it")
                await holder.execute("SELECT pg_advisory_lock($1)", _MIGRATION_LOCK_KEY)
            yield
        finally:
            await holder.close()  # ends the session: the lock goes with it

    async def _gate(self) -> None:
        """Wait until this code may run a statement. The caller hands its statement to the
        connection right after, without suspending in between, so it is queued before any
        transaction that starts later."""
        while self._open_tx is not None and _CURRENT_TX.get() is not self._open_tx:
            await self._tx_closed.wait()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Database]:
        """BEGIN ... COMMIT (SQLite: IMMEDIATE), rolled back on any error; yields this Database, whose
        methods then run inside the transaction. Statements of other coroutines wait until it ends (see
        the class docstring); tasks started inside it belong to it. Keep it short, and never wait inside
        it for database work of a task started before it (e.g. a batching task): that work waits for
        this transaction to end."""
        if self._open_tx is not None and _CURRENT_TX.get() is self._open_tx:
            raise RuntimeError("a transaction is already open here (nested transactions are not supported)")
        async with self._tx_lock:
            await self._gate()
            tx = object()
            self._open_tx = tx
            self._tx_closed.clear()
            token = _CURRENT_TX.set(tx)
            try:
                await self._control("BEGIN IMMEDIATE" if self.engine == "sqlite" else "BEGIN")
                try:
                    yield self
                except BaseException:
                    await self._control("ROLLBACK")
                    raise
                await self._control("COMMIT")
            finally:
                _CURRENT_TX.reset(token)
                self._open_tx = None
                self._tx_closed.set()

    async def _control(self, statement: str) -> None:
        if self.engine == "sqlite":
            await self._raw.execute(statement)
        else:
            async with self._pg_lock:
                await self._pg_raw.execute(statement)

    async def execute(self, sql: str, params: Params = ()) -> int:
        """One statement; returns the rows it changed."""
        await self._gate()
        if self.engine == "postgresql":
            text, args = _pg_statement(sql, params)
            async with self._pg_lock:
                status = await self._pg_raw.execute(text, *args)
            return _pg_rowcount(status)
        cursor = await self._raw.execute(_sqlite_sql(sql), _params(params))
        try:
            return cursor.rowcount
        finally:
            await cursor.close()

    async def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        await self._gate()
        if self.engine == "postgresql":
            batch = [_pg_statement(sql, row) for row in rows]
            if not batch:
                return 0
            async with self._pg_lock:
                await self._pg_raw.executemany(batch[0][0], [args for _, args in batch])
            return len(batch)
        cursor = await self._raw.executemany(_sqlite_sql(sql), [_params(row) for row in rows])
        try:
            return cursor.rowcount
        finally:
            await cursor.close()

    async def execute_fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        """One statement, its rows in the same trip to the database (a read, or a write with
        RETURNING: finished, hence committed, when it returns)."""
        await self._gate()
        if self.engine == "postgresql":
            text, args = _pg_statement(sql, params)
            async with self._pg_lock:
                return list(await self._pg_raw.fetch(text, *args))
        return list(await self._raw.execute_fetchall(_sqlite_sql(sql), _params(params)))

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.execute_fetchall(sql, params)
        return rows[0] if rows else None

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return await self.execute_fetchall(sql, params)


def _params(params: Params) -> tuple[Any, ...] | Mapping[str, Any]:
    return params if isinstance(params, Mapping) else tuple(params)


_SQLITE_FUNCTIONS = re.compile(r"\b(GREATEST|LEAST)\(")


@functools.lru_cache(maxsize=1024)
def _sqlite_sql(sql: str) -> str:
    """The portable subset in SQLite's spelling: scalar MAX/MIN for GREATEST/LEAST."""
    return _SQLITE_FUNCTIONS.sub(lambda m: "MAX(" if m.group(1) == "GREATEST" else "MIN(", sql)


# A quoted string or identifier, a comment, a `::` cast, or a parameter.
_PG_TOKEN = re.compile(r"'(?:[^']|'')*'|\"[^\"]*\"|--[^\n]*|::|\?(\d+)?|:([A-Za-z_]\w*)")


@functools.lru_cache(maxsize=1024)
def _pg_sql(sql: str) -> tuple[str, tuple[int | str, ...]]:
    """`?`, `?NNN` and `:name` as `$n`; returns the text and, per `$n`, the position or name it takes."""
    order: list[int | str] = []
    by_key: dict[int | str, int] = {}
    next_positional = 0

    def slot(key: int | str) -> str:
        if key not in by_key:
            order.append(key)
            by_key[key] = len(order)
        return f"${by_key[key]}"

    def replace(match: re.Match[str]) -> str:
        nonlocal next_positional
        token = match.group(0)
        if token.startswith("?"):
            if match.group(1) is not None:
                return slot(int(match.group(1)) - 1)
            next_positional += 1
            return slot(next_positional - 1)
        if match.group(2) is not None:
            return slot(match.group(2))
        return token

    sql = _PG_JSON.sub(lambda m: _PG_JSON_NAMES[m.group(1)], _INDEX_HINT.sub("", sql))
    return _PG_TOKEN.sub(replace, sql), tuple(order)


_INDEX_HINT = re.compile(r"\s+INDEXED BY \w+")
_PG_JSON = re.compile(r"\b(json_group_array|json_array)\(")
_PG_JSON_NAMES = {"json_group_array": "json_agg(", "json_array": "json_build_array("}


# SQLite compares loosely; PostgreSQL must know each parameter's type, and cannot always tell it from the
# statement (`? IS NULL`, a parameter compared with another). So each one says its type, from its Python value.
_PG_CASTS: dict[type, str] = {int: "::bigint", bool: "::bigint", str: "::text", float: "::float8"}
_PG_PLACEHOLDER = re.compile(r"'(?:[^']|'')*'|\$(\d+)")


@functools.lru_cache(maxsize=4096)
def _pg_typed(text: str, casts: tuple[str, ...]) -> str:
    def replace(match: re.Match[str]) -> str:
        if match.group(1) is None:
            return match.group(0)
        return match.group(0) + casts[int(match.group(1)) - 1]

    return _PG_PLACEHOLDER.sub(replace, text)


def _pg_statement(sql: str, params: Params) -> tuple[str, list[Any]]:
    text, order = _pg_sql(sql)
    if isinstance(params, Mapping):
        args = [params[str(key)] for key in order]
    else:
        values = tuple(params)
        args = [values[key] for key in order]  # type: ignore[index]
    args = [int(a) if isinstance(a, bool) else a for a in args]
    return _pg_typed(text, tuple(_PG_CASTS.get(type(a), "") for a in args)), args


def _pg_rowcount(status: str) -> int:
    # "UPDATE 3", "INSERT 0 1", "DELETE 0", "CREATE TABLE"
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else -1


# SQLite gives every `INTEGER PRIMARY KEY` column (a rowid alias) a value when an INSERT leaves it out,
# with or without AUTOINCREMENT (which only forbids reusing the ids of deleted rows): an identity column.
_DDL_AUTOINCREMENT = re.compile(r"\bINTEGER PRIMARY KEY( AUTOINCREMENT)?\b")
_DDL_INTEGER = re.compile(r"\bINTEGER\b")
_DDL_IS_LITERAL = re.compile(r"\bIS ('[^']*')")


def _ddl(statement: str, engine: str) -> str:
    """A migration statement for `engine`: on PostgreSQL, INTEGER is BIGINT and an INTEGER PRIMARY KEY
    (SQLite's rowid alias, AUTOINCREMENT or not) an identity column."""
    if engine == "sqlite":
        return statement
    statement = _DDL_AUTOINCREMENT.sub("BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY", statement)
    statement = _DDL_IS_LITERAL.sub(r"= \1", statement)  # 007's CHECK (... sync_state IS 'failed')
    return _DDL_INTEGER.sub("BIGINT", statement)


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


def _migrations(engine: str = "sqlite") -> list[tuple[int, str, str]]:
    """The numbered series; on PostgreSQL a `NNN_name.postgresql.sql` twin replaces its number's file."""
    found: dict[int, tuple[str, str]] = {}
    portable: list[int] = []
    for entry in resources.files("bot.storage").joinpath("migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if not match:
            continue
        version, twin = int(match.group(1)), match.group(2) is not None
        if not twin:
            portable.append(version)
        if twin and engine != "postgresql":
            continue
        if twin or version not in found:
            found[version] = (entry.name.replace(".postgresql", ""), entry.read_text(encoding="utf-8"))
    if len(portable) != len(set(portable)):
        raise RuntimeError(f"two migrations share a number: {sorted(portable)}")
    return [(version, name, sql) for version, (name, sql) in sorted(found.items())]


def _statements(sql: str) -> list[str]:
    # Migrations are plain DDL/DML separated by ';' at line ends (no triggers with bodies).
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    return [s.strip() for s in "\n".join(lines).split(";") if s.strip()]
