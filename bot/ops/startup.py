"""Local start-up checks: the database and the sandbox port are opened before logging in to Discord,
and each local problem is named in one line with its path or port and what to do."""

from __future__ import annotations

import asyncio
import errno
import logging
import os
import sqlite3
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg

from bot.core.config import uid_hint
from bot.storage import DATABASE_ERRORS, Database, MigrationOrderError

log = logging.getLogger(__name__)


class StartupError(Exception):
    """A local problem that stops the bot from starting; the message is one line for the operator."""


def _database_hint() -> str:
    return "or set [database] path (or NORTHCA_BOT_DB) to a writable file path"


def check_database_path(path: str) -> None:
    """Create the database's directory; raise StartupError naming the path when that cannot work."""
    if path == ":memory:":
        return
    file = Path(path)
    if file.is_dir():
        raise StartupError(
            f"Database path {file} is a directory, not a file: set [database] path to a file inside it, "
            f"e.g. {file / 'northca-bot.sqlite3'}"
        )
    directory = file.parent
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise StartupError(
            f"Cannot create the database directory {directory}: part of that path is a file, not a directory. "
            f"Move that file away {_database_hint()}."
        ) from None
    except PermissionError:
        raise StartupError(
            f"Cannot create the database directory {directory}: permission denied. Create it with write access "
            f"for this user ({uid_hint('write')}) {_database_hint()}."
        ) from None
    except OSError as exc:
        raise StartupError(
            f"Cannot create the database directory {directory}: {exc.strerror}. Fix that {_database_hint()}."
        ) from None
    if not file.exists() and not os.access(directory, os.W_OK):
        # E.g. a root-owned bind mount: SQLite could not create the file (nor its -wal and -shm beside it).
        raise StartupError(
            f"Cannot create the database file {file}: permission denied in the folder {directory}; "
            f"{uid_hint('write')}, {_database_hint()}."
        )
    try:
        # Opened once here, synchronously: a file SQLite cannot open fails now, in one line (opened by
        # aiosqlite's worker thread, the failure would also leave that thread calling into a closed loop).
        sqlite3.connect(file).close()
    except sqlite3.Error as exc:
        raise StartupError(_explain_sqlite_error(path, exc)) from None


def _explain_sqlite_error(path: str, exc: sqlite3.Error) -> str:
    text = str(exc).lower()
    if "not a database" in text or "malformed" in text or "corrupt" in text:
        return (
            f"Database file {path} is not a readable SQLite database (corrupted, or another kind of file): "
            "restore it from a backup (northca-bot backup makes one) or move it away to start empty."
        )
    if "readonly" in text or "read-only" in text:
        return (
            f"Database file {path} is read-only: give this user write access to the file and its directory "
            f"(SQLite writes {Path(path).name}-wal and -shm beside it; {uid_hint('write')}), {_database_hint()}."
        )
    if "unable to open" in text or "disk i/o" in text:
        return (
            f"Cannot open the database file {path} ({exc}): check the path and its permissions "
            f"({uid_hint('write')}), {_database_hint()}."
        )
    if "locked" in text or "busy" in text:
        return f"Database file {path} is locked by another program (another bot running on it?): stop that one first."
    return f"Cannot use the database file {path} ({type(exc).__name__}: {exc}): {_database_hint()}."


def _explain_postgresql_error(db: Database, exc: BaseException) -> str:
    """One line naming the server (never the password) and what to do."""
    url = urlsplit(db.path)
    server = f"{url.hostname or 'localhost'}:{url.port or 5432}"
    name = (url.path or "/").lstrip("/") or "(the user's default database)"
    text = str(exc).replace(db.path, db.where)
    if isinstance(exc, asyncpg.InvalidPasswordError):
        return (
            f"PostgreSQL at {server} refused the user {url.username!r} (wrong password or no access): "
            "fix the user and password in [database] url (or NORTHCA_BOT_DATABASE_URL)."
        )
    if isinstance(exc, asyncpg.InvalidCatalogNameError):
        return f"PostgreSQL at {server} has no database {name!r}: create it (createdb {name}) or fix [database] url."
    if isinstance(exc, (OSError, asyncio.TimeoutError)):
        return (
            f"PostgreSQL at {server} is unreachable ({type(exc).__name__}: {text}): start the server, "
            "or fix the host and port in [database] url (or NORTHCA_BOT_DATABASE_URL)."
        )
    return f"Cannot use PostgreSQL at {server}, database {name!r} ({type(exc).__name__}: {text}): fix [database] url."


# What opening PostgreSQL can raise: the network, its own errors.
_POSTGRESQL_OPEN_ERRORS: tuple[type[Exception], ...] = (OSError, asyncio.TimeoutError, *DATABASE_ERRORS)


async def open_database(db: Database) -> None:
    """Open, migrate and write-probe the database; any problem becomes a one-line StartupError."""
    try:
        await _open_database(db)
    except MigrationOrderError as exc:
        await db.close()
        raise StartupError(str(exc)) from None


async def _open_database(db: Database) -> None:
    if db.engine == "postgresql":
        try:
            await db.open()
        except _POSTGRESQL_OPEN_ERRORS as exc:
            await db.close()
            raise StartupError(_explain_postgresql_error(db, exc)) from None
        return
    check_database_path(db.path)
    try:
        await db.open()
        await db.check_writable()
    except sqlite3.Error as exc:
        await db.close()
        raise StartupError(_explain_sqlite_error(db.path, exc)) from None
    except OSError as exc:
        await db.close()
        raise StartupError(
            f"Cannot open the database file {db.path}: {exc.strerror or exc}. Fix that {_database_hint()}."
        ) from None


def explain_port_error(what: str, setting: str, host: str, port: int, exc: OSError) -> StartupError:
    """E.g. what="The sandbox", setting="[sandbox] port"."""
    if exc.errno == errno.EADDRINUSE:
        return StartupError(
            f"{what} port {port} on {host} is already in use (another bot or sandbox running?): "
            f"stop that program, or set {setting} to another port (0 picks a free one)."
        )
    if exc.errno == errno.EACCES:
        return StartupError(
            f"{what} may not listen on port {port} on {host} (permission denied): "
            f"set {setting} to a port above 1024, or 0 to pick a free one."
        )
    return StartupError(
        f"{what} cannot listen on {host}:{port} ({exc.strerror or exc}): "
        f"set {setting} to another port, or 0 to pick a free one."
    )


def sandbox_state_path(database_path: str) -> str:
    """Where the sandbox keeps its state by default: a file beside the bot's database, so a restart keeps links."""
    if database_path == ":memory:":
        return ":memory:"
    file = Path(database_path)
    return str(file.with_name(f"{file.stem}.sandbox{file.suffix or '.sqlite3'}"))
