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
- `INDEXED BY name` hints may stay (SQLite's planner needs some); the translator owns them: PostgreSQL's planner
  goes without, they are dropped there.
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
The rewrites live in bot/storage/dialect.py: they work on tokens, so string literals, quoted identifiers and
comments are never rewritten.

PostgreSQL runs on a pool (`[database] pool_min` / `pool_max`) and survives a server restart: see `Database`.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import logging
import re
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import aiosqlite
import asyncpg

from bot.core.errors import ErrorKind, UserFacingError
from bot.storage import dialect
from bot.storage.pgpool import ConnectionPool
from bot.storage.rows import Row

log = logging.getLogger(__name__)

_SQLITE_BUSY_WAIT = 5.0  # seconds a statement waits for another connection's lock before "database is locked"


async def _when_not_busy(conn: aiosqlite.Connection, sql: str) -> None:
    """Run a statement that changes nothing when refused (BEGIN IMMEDIATE, the switch to WAL), asking again while
    SQLite answers "database is locked". Its busy wait covers most lock conflicts, but not all: processes opening a
    new file together can be refused at once (SQLite refuses where waiting could deadlock, and while another
    connection switches the journal mode or recovers the WAL index). So: again, a little later each time, for as
    long as a statement would wait for a lock."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + _SQLITE_BUSY_WAIT
    pause = 0.005
    while True:
        try:
            # Read to the end and close: a statement left with a row unread keeps its read transaction open.
            async with conn.execute(sql) as cursor:
                await cursor.fetchall()
            return
        except sqlite3.OperationalError as exc:
            if getattr(exc, "sqlite_errorcode", None) is None or exc.sqlite_errorcode & 0xFF != sqlite3.SQLITE_BUSY:
                raise
            if loop.time() + pause > deadline:
                raise
        await asyncio.sleep(pause)
        pause = min(pause * 2, 0.2)


T = TypeVar("T")

_MIGRATION_NAME = re.compile(r"^(\d{3})_[a-z0-9_]+(\.postgresql)?\.sql$")


class DatabaseUnavailable(UserFacingError):
    """The database did not answer (a PostgreSQL restart or failover, a lost connection) and the statement could
    not be sent again safely: a write whose answer was lost, a transaction cut in the middle, or no server within
    the retry window. The person is told to try again; background work retries on its next round."""

    def __init__(self, *, maybe_applied: bool = False) -> None:
        super().__init__(ErrorKind.DATABASE_UNAVAILABLE, maybe_applied=maybe_applied)
        self.maybe_applied = maybe_applied


# A unique/foreign-key/check violation, on either engine.
INTEGRITY_ERRORS: tuple[type[Exception], ...] = (sqlite3.IntegrityError, asyncpg.IntegrityConstraintViolationError)
# Any error of the database itself (not of our code), on either engine.
DATABASE_ERRORS: tuple[type[Exception], ...] = (
    sqlite3.Error,
    asyncpg.PostgresError,
    asyncpg.InterfaceError,
    DatabaseUnavailable,
)

# The advisory lock a PostgreSQL migration run holds (any fixed 64-bit number; "northca" in ASCII).
_MIGRATION_LOCK_KEY = 0x6E6F72746863


class MigrationOrderError(RuntimeError):
    """A migration not applied yet is numbered below the newest applied one; the message is one line."""


# The transaction the running code belongs to (inherited by tasks it starts meanwhile).
_CURRENT_TX: contextvars.ContextVar[object | None] = contextvars.ContextVar("northca_db_tx", default=None)
Params = Iterable[Any] | Mapping[str, Any]

# Errors of a PostgreSQL connection that is gone (server restarted, failover, network), not of the statement.
_PG_CONNECTION_LOST: tuple[type[BaseException], ...] = (
    OSError,  # refused, reset
    asyncpg.PostgresConnectionError,  # class 08, and "connection was closed in the middle of operation"
    asyncpg.AdminShutdownError,  # 57P01: the server shuts down
    asyncpg.CrashShutdownError,  # 57P02
    asyncpg.CannotConnectNowError,  # 57P03: starting up, shutting down, in recovery
)
# Getting a connection failed: nothing was sent, so any statement may be sent again.
_PG_CONNECT_ERRORS: tuple[type[BaseException], ...] = (
    *_PG_CONNECTION_LOST,
    TimeoutError,
    asyncpg.InterfaceError,
    asyncpg.PostgresError,  # e.g. too many connections
)

DEFAULT_POOL_MIN = 2
DEFAULT_POOL_MAX = 10
DEFAULT_RETRY_SECONDS = 2.0


def is_postgresql_url(target: str | Path) -> bool:
    return isinstance(target, str) and target.startswith(("postgresql://", "postgres://"))


def redact_url(url: str) -> str:
    """The URL without its password, for messages and logs."""
    return re.sub(r"(://[^:/@]*):[^@]*@", r"\1:***@", url)


class _PgTransaction:
    """A PostgreSQL transaction: its own pooled connection, one statement at a time on it (tasks started inside
    the transaction belong to it and may run statements together)."""

    __slots__ = ("conn", "db", "lock", "lost", "open")

    def __init__(self, db: Database, conn: asyncpg.Connection) -> None:
        self.db = db
        self.conn = conn
        self.lock = asyncio.Lock()
        self.open = True
        self.lost = False  # the connection died: every further statement fails at once


class Database:
    """The stores' one door to the database (SQLite file or PostgreSQL URL); same methods, same semantics.

    SQLite: one connection, one writer. SQLite has one transaction per connection: a statement another coroutine
    ran while a transaction was open would join it, and a rollback would silently undo that write. So every
    statement (read or write) passes the gate: while a transaction is open, only code of that transaction runs
    statements; the rest wait until it ends (readers never see uncommitted rows either). With no transaction
    open, statements go straight to the database in arrival order, so the gate costs nothing under a burst.

    PostgreSQL: a pool of connections (`pool_min` .. `pool_max`, bot/storage/pgpool.py). A read outside a
    transaction borrows a connection for its trip, so reads run side by side and never wait for a transaction
    (they see committed rows only, as on SQLite). Each transaction holds its own connection until it ends.
    Writes keep one writer per process, as on SQLite: a write statement or a transaction at a time (a lock;
    other processes write beside it, on rows of their own shards). The stores were written for that order: a
    transaction that reads and then writes from what it read, and the group writes of the shifts table, would
    otherwise race with, or deadlock on, the same process's other writes (PostgreSQL's read committed).
    Connections lost to a server restart or failover are dropped and replaced on the next borrow. A statement
    that failed because the connection was gone is sent again, within `retry_seconds`, when that is safe: it
    never reached the server (no connection could be had), or it only reads. Otherwise (a write whose answer
    was lost, a transaction cut in the middle, no server for `retry_seconds`) it raises DatabaseUnavailable, a
    "try again".
    """

    def __init__(
        self,
        target: str | Path,
        *,
        pool_min: int = DEFAULT_POOL_MIN,
        pool_max: int = DEFAULT_POOL_MAX,
        retry_seconds: float = DEFAULT_RETRY_SECONDS,
        connect_timeout: float = 5.0,
    ) -> None:
        self.path = str(target)
        self.engine = "postgresql" if is_postgresql_url(self.path) else "sqlite"
        self.pool_min, self.pool_max = pool_min, max(pool_min, pool_max)
        self.retry_seconds = retry_seconds
        self.connect_timeout = connect_timeout
        self._conn: aiosqlite.Connection | None = None
        self._pool: ConnectionPool | None = None
        self._tx_lock = asyncio.Lock()  # SQLite: one transaction at a time
        self._pg_writer = asyncio.Lock()  # PostgreSQL: one write statement or transaction at a time per process
        self._open_tx: object | None = None
        self._tx_closed = asyncio.Event()
        self._tx_closed.set()

    @property
    def where(self) -> str:
        """The file, or the URL without its password: safe for messages and logs."""
        return redact_url(self.path) if self.engine == "postgresql" else self.path

    @property
    def in_transaction(self) -> bool:
        """Whether the running code belongs to an open transaction (its statements run inside it)."""
        current = _CURRENT_TX.get()
        if self.engine == "postgresql":
            return isinstance(current, _PgTransaction) and current.db is self and current.open
        return self._open_tx is not None and current is self._open_tx

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
    def _pg_pool(self) -> ConnectionPool:
        if self._pool is None:
            raise RuntimeError("database is not open")
        return self._pool

    async def open(self) -> None:
        if self.engine == "postgresql":
            pool = ConnectionPool(
                self.path, min_size=self.pool_min, max_size=self.pool_max, connect_timeout=self.connect_timeout
            )
            try:
                await pool.start()
            except BaseException:
                await pool.close(self.connect_timeout)
                raise
            self._pool = pool
        else:
            if self.path != ":memory:":
                Path(self.path).parent.mkdir(parents=True, exist_ok=True)
            # isolation_level=None: we open transactions ourselves, explicitly.
            self._conn = await aiosqlite.connect(self.path, isolation_level=None)
            self._conn.row_factory = aiosqlite.Row
            await self._conn.execute(f"PRAGMA busy_timeout={int(_SQLITE_BUSY_WAIT * 1000)}")
            await self._conn.execute("PRAGMA foreign_keys=ON")
            await _when_not_busy(self._conn, "PRAGMA journal_mode=WAL")
        await self.migrate()

    async def check_writable(self) -> None:
        """Raise when a write would fail now. SQLite: sqlite3.Error ("attempt to write a readonly database", ...),
        from its own short-lived connection (a transaction on the shared one would take in, and roll back,
        statements other coroutines run meanwhile). PostgreSQL: DatabaseUnavailable when no connection answers
        within `connect_timeout` (down, restarting) or the server is a read-only standby; one try, no retry, so
        /health tells the state of this moment."""
        if self.engine == "sqlite":
            if self.path != ":memory:":
                await asyncio.to_thread(_probe_write, self.path)
            return
        pool = self._pg_pool
        try:
            async with asyncio.timeout(self.connect_timeout):
                conn = await pool.acquire()
                broken = True
                try:
                    read_only = await conn.fetchval("SHOW transaction_read_only")
                    broken = False
                finally:
                    pool.release(conn, broken=broken)
        except _PG_CONNECT_ERRORS as exc:
            raise DatabaseUnavailable() from exc
        if read_only != "off":
            raise DatabaseUnavailable() from RuntimeError("the server is read-only (a standby)")

    async def close(self) -> None:
        if self._conn is not None:
            await self._conn.close()
            self._conn = None
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close(self.connect_timeout)  # a connection that does not answer is ended

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
        # In a transaction: SQLite's BEGIN IMMEDIATE waits its turn for the write lock, where a lone statement
        # racing other new processes' can be told "database is locked" at once.
        async with self.transaction() as tx:
            await tx.execute(
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
        """SQLite: wait until this code may run a statement. The caller hands its statement to the
        connection right after, without suspending in between, so it is queued before any
        transaction that starts later."""
        while self._open_tx is not None and _CURRENT_TX.get() is not self._open_tx:
            await self._tx_closed.wait()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[Database]:
        """BEGIN ... COMMIT (SQLite: IMMEDIATE), rolled back on any error; yields this Database, whose
        methods then run inside the transaction; tasks started inside it belong to it. SQLite: statements of
        other coroutines wait until it ends (see the class docstring); keep it short, and never wait inside
        it for database work of a task started before it (e.g. a batching task): that work waits for this
        transaction to end. PostgreSQL: it has its own connection (BEGIN retried like a statement that was not
        sent); a lost connection inside it raises DatabaseUnavailable (the server rolled it back; a lost
        COMMIT: maybe_applied)."""
        if self.in_transaction:
            raise RuntimeError("a transaction is already open here (nested transactions are not supported)")
        if self.engine == "postgresql":
            async with self._pg_transaction() as db:
                yield db
            return
        async with self._tx_lock:
            await self._gate()
            tx = object()
            self._open_tx = tx
            self._tx_closed.clear()
            token = _CURRENT_TX.set(tx)
            try:
                await _when_not_busy(self._raw, "BEGIN IMMEDIATE")
                try:
                    yield self
                except BaseException:
                    await self._raw.execute("ROLLBACK")
                    raise
                await self._raw.execute("COMMIT")
            finally:
                _CURRENT_TX.reset(token)
                self._open_tx = None
                self._tx_closed.set()

    @asynccontextmanager
    async def _pg_transaction(self) -> AsyncIterator[Database]:
        pool = self._pg_pool

        async def begin(conn: asyncpg.Connection) -> asyncpg.Connection:
            await conn.execute("BEGIN")
            return conn

        # The transaction is this process's writer until it ends (see the class docstring).
        conn = await self._pg_retrying(begin, retry_if_sent=True, writes=True, holds_connection=True)
        tx = _PgTransaction(self, conn)
        token = _CURRENT_TX.set(tx)
        try:
            try:
                yield self
            except BaseException:
                tx.open = False
                if not tx.lost:
                    with contextlib.suppress(*_PG_CONNECT_ERRORS):
                        async with tx.lock:
                            await conn.execute("ROLLBACK")
                raise
            tx.open = False
            if tx.lost:  # a statement failed with DatabaseUnavailable and the body went on regardless
                raise DatabaseUnavailable()
            async with tx.lock:
                try:
                    await conn.execute("COMMIT")
                except _PG_CONNECTION_LOST as exc:
                    raise DatabaseUnavailable(maybe_applied=True) from exc
                except asyncpg.InterfaceError as exc:
                    if _is_closed(conn):
                        raise DatabaseUnavailable(maybe_applied=True) from exc
                    raise
        finally:
            tx.open = False
            _CURRENT_TX.reset(token)
            pool.release(conn, broken=tx.lost)  # also dropped when its ROLLBACK failed (still in the transaction)
            self._pg_writer.release()

    def _pg_tx(self) -> _PgTransaction | None:
        current = _CURRENT_TX.get()
        if isinstance(current, _PgTransaction) and current.db is self and current.open:
            return current
        return None

    async def _pg_run(self, sql: str, run: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
        """`run` on the transaction's connection, or on a borrowed one (retried where safe: see the class)."""
        tx = self._pg_tx()
        if tx is None:
            reads = dialect.is_read(sql)
            return await self._pg_retrying(run, retry_if_sent=reads, writes=not reads)
        async with tx.lock:
            if tx.lost:
                raise DatabaseUnavailable()
            try:
                return await run(tx.conn)
            except Exception as exc:
                if not _connection_lost(exc, tx.conn):
                    raise
                tx.lost = True
                log.warning("the database connection was lost inside a transaction (%s)", _describe(exc))
                raise DatabaseUnavailable() from exc

    async def _pg_retrying(
        self,
        run: Callable[[asyncpg.Connection], Awaitable[T]],
        *,
        retry_if_sent: bool,
        writes: bool,
        holds_connection: bool = False,
    ) -> T:
        """`run` on a connection borrowed from the pool, sent again after a lost connection while `retry_seconds`
        last: always when it never reached the server, else only when `retry_if_sent`. `writes`: each try holds
        the process's writer lock (not the waits between tries: writes queued behind one another during an
        outage each get their own window). `holds_connection`: on success the connection stays borrowed and the
        writer lock held; the caller gives both back."""
        pool = self._pg_pool
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.retry_seconds
        delay = 0.05
        while True:
            if writes:
                await self._pg_writer.acquire()
            keep = False
            try:
                try:
                    conn = await pool.acquire()  # a connection the server closed is replaced here
                except _PG_CONNECT_ERRORS as exc:
                    lost, sent = exc, False
                else:
                    broken = True  # until the statement came back: a cancelled one leaves the connection unusable
                    try:
                        result = await run(conn)
                        broken = False
                        keep = holds_connection
                        return result
                    except Exception as exc:
                        if not _connection_lost(exc, conn):
                            broken = False  # the statement's own error (a constraint, a bug): the connection is fine
                            raise
                        lost, sent = exc, not _not_sent(exc)
                    finally:
                        if not keep:
                            pool.release(conn, broken=broken)
            finally:
                if writes and not keep:
                    self._pg_writer.release()
            if (sent and not retry_if_sent) or loop.time() + delay > deadline:
                log.warning("the database did not answer (%s); the caller is told to try again", _describe(lost))
                raise DatabaseUnavailable(maybe_applied=sent and not retry_if_sent) from lost
            log.info("the database did not answer (%s); trying again in %.2f s", _describe(lost), delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, 0.5)

    async def execute(self, sql: str, params: Params = ()) -> int:
        """One statement; returns the rows it changed."""
        if self.engine == "postgresql":
            text, args = _pg_statement(sql, params)

            async def run(conn: asyncpg.Connection) -> str:
                return str(await conn.execute(text, *args))

            return _pg_rowcount(await self._pg_run(sql, run))
        await self._gate()
        cursor = await self._raw.execute(_sqlite_sql(sql), _params(params))
        try:
            return cursor.rowcount
        finally:
            await cursor.close()

    async def executemany(self, sql: str, rows: Iterable[Params]) -> int:
        if self.engine == "postgresql":
            batch = [_pg_statement(sql, row) for row in rows]
            if not batch:
                return 0

            async def run(conn: asyncpg.Connection) -> None:
                await conn.executemany(batch[0][0], [args for _, args in batch])

            await self._pg_run(sql, run)
            return len(batch)
        await self._gate()
        cursor = await self._raw.executemany(_sqlite_sql(sql), [_params(row) for row in rows])
        try:
            return cursor.rowcount
        finally:
            await cursor.close()

    async def execute_fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        """One statement, its rows in the same trip to the database (a read, or a write with
        RETURNING: finished, hence committed, when it returns)."""
        if self.engine == "postgresql":
            text, args = _pg_statement(sql, params)

            async def run(conn: asyncpg.Connection) -> list[Row]:
                return list(await conn.fetch(text, *args))

            return await self._pg_run(sql, run)
        await self._gate()
        return list(await self._raw.execute_fetchall(_sqlite_sql(sql), _params(params)))

    async def fetchone(self, sql: str, params: Params = ()) -> Row | None:
        rows = await self.execute_fetchall(sql, params)
        return rows[0] if rows else None

    async def fetchall(self, sql: str, params: Params = ()) -> list[Row]:
        return await self.execute_fetchall(sql, params)


def _connection_lost(exc: BaseException, conn: asyncpg.Connection) -> bool:
    if isinstance(exc, _PG_CONNECTION_LOST):
        return True
    return isinstance(exc, asyncpg.InterfaceError) and _is_closed(conn)


def _is_closed(conn: asyncpg.Connection) -> bool:
    return bool(conn.is_closed())


def _not_sent(exc: BaseException) -> bool:
    """asyncpg refuses a statement on a connection it already knows is closed, before sending anything."""
    return type(exc) is asyncpg.InterfaceError and "connection is closed" in str(exc)


def _describe(exc: BaseException) -> str:
    # The class and asyncpg's text: no URL, no password (asyncpg does not put them in its errors).
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _params(params: Params) -> tuple[Any, ...] | Mapping[str, Any]:
    return params if isinstance(params, Mapping) else tuple(params)


def _sqlite_sql(sql: str) -> str:
    return dialect.sqlite_sql(sql)


def _pg_statement(sql: str, params: Params) -> tuple[str, list[Any]]:
    statement = dialect.postgresql_sql(sql)
    if isinstance(params, Mapping):
        args = [params[str(key)] for key in statement.order]
    else:
        values = tuple(params)
        args = [values[key] for key in statement.order]  # type: ignore[index]
    args = [int(a) if isinstance(a, bool) else a for a in args]
    return dialect.postgresql_typed(statement, tuple(dialect.PG_CASTS.get(type(a), "") for a in args)), args


def _pg_rowcount(status: str) -> int:
    # "UPDATE 3", "INSERT 0 1", "DELETE 0", "CREATE TABLE"
    last = status.rsplit(" ", 1)[-1]
    return int(last) if last.isdigit() else -1


def _ddl(statement: str, engine: str) -> str:
    """A migration statement for `engine` (dialect.postgresql_ddl on PostgreSQL)."""
    return statement if engine == "sqlite" else dialect.postgresql_ddl(statement)


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
    """A migration file's statements (dialect.statements: split at `;` outside literals and comments)."""
    return dialect.statements(sql)
