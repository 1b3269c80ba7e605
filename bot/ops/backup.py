"""`northca-bot backup PATH`: a consistent copy of the database while the bot runs.

SQLite: the online backup API, which sees committed data including what is still in the WAL file (copying the
file alone may miss it). PostgreSQL: pg_dump when it is installed here, else one line with the pg_dump command
to run; never a copy of the SQLite file at [database] path, which the bot does not use then."""

from __future__ import annotations

import os
import shlex
import shutil
import sqlite3
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlsplit

from bot.core.config import uid_hint

PG_DUMP_TIMEOUT_SECONDS = 3600.0


class BackupError(Exception):
    """One line for the operator."""


def _destination(target: str, default_name: str) -> Path:
    """The file to write: `target`, or a file named `default_name` inside it when it is a folder. The folder must
    exist: a missing or unwritable one is named, never blamed on the database."""
    dst_path = Path(target)
    if dst_path.is_dir():
        dst_path = dst_path / default_name
    folder = dst_path.parent
    if not folder.is_dir():
        what = "is not a folder" if folder.exists() else "does not exist"
        raise BackupError(f"Cannot write the backup {dst_path}: the folder {folder} {what} (create it first).")
    if not os.access(folder, os.W_OK):
        raise BackupError(f"Cannot write the backup {dst_path}: permission denied in {folder}; {uid_hint('write')}.")
    return dst_path


def backup_database(source: str, target: str) -> tuple[int, Path]:
    """Copy the SQLite file `source` to `target` (written beside it first, then renamed); returns the number of
    pages copied and the file written (inside `target` when that is a folder)."""
    src_path = Path(source)
    if not src_path.is_file():
        raise BackupError(f"No database at {src_path}: check [database] path (or NORTHCA_BOT_DB).")
    dst_path = _destination(target, f"{src_path.stem}-backup{src_path.suffix}")
    if dst_path.resolve() == src_path.resolve():
        raise BackupError("The backup path is the database itself: choose another file.")
    partial = dst_path.with_name(dst_path.name + ".partial")
    try:
        src = sqlite3.connect(f"file:{src_path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise BackupError(f"Cannot open the database {src_path} ({exc}).") from None
    try:
        try:
            dst = sqlite3.connect(partial)
        except sqlite3.Error as exc:
            raise BackupError(
                f"Cannot write the backup {dst_path} ({exc}): check that this user may write in {dst_path.parent}; "
                f"{uid_hint('write')}."
            ) from None
        try:
            src.backup(dst)
            pages = int(dst.execute("PRAGMA page_count").fetchone()[0])
        finally:
            dst.close()
        os.replace(partial, dst_path)
    except sqlite3.DatabaseError as exc:
        partial.unlink(missing_ok=True)
        if "not a database" in str(exc) or "malformed" in str(exc):
            raise BackupError(f"Backup of {src_path} failed ({exc}): is it a SQLite database?") from None
        raise BackupError(f"Backup of {src_path} to {dst_path} failed ({exc}).") from None
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"Cannot write the backup {dst_path}: {exc.strerror or exc}.") from None
    finally:
        src.close()
    return pages, dst_path


def pg_dump_command(url: str, target: Path) -> tuple[list[str], dict[str, str]]:
    """pg_dump's arguments (the URL without its password) and the variables to add (the password, in
    PGPASSWORD: never on a command line, where `ps` shows it)."""
    parts = urlsplit(url)
    user = f"{parts.username}@" if parts.username else ""
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    port = f":{parts.port}" if parts.port else ""
    query = f"?{parts.query}" if parts.query else ""
    safe_url = f"postgresql://{user}{host}{port}{parts.path}{query}"
    env = {"PGPASSWORD": unquote(parts.password)} if parts.password else {}
    return ["pg_dump", "--format=custom", f"--file={target}", safe_url], env


def backup_postgresql(url: str, target: str) -> str:
    """Run pg_dump into `target` when it is installed; otherwise raise BackupError with the command to run.
    Returns the line to print."""
    database = (urlsplit(url).path or "/").lstrip("/") or "northca"
    dst_path = _destination(target, f"{database}-backup.dump")
    args, extra_env = pg_dump_command(url, dst_path)
    shown = " ".join(shlex.quote(a) for a in args)
    pg_dump = shutil.which("pg_dump")
    if pg_dump is None:
        raise BackupError(
            f"the database is PostgreSQL, which this command does not copy itself and pg_dump is not installed here: "
            f"run `{shown}` where it is (the password from PGPASSWORD or ~/.pgpass; restore with pg_restore)."
        )
    partial = dst_path.with_name(dst_path.name + ".partial")
    args[2] = f"--file={partial}"
    try:
        done = subprocess.run(
            [pg_dump, *args[1:]],
            env={**os.environ, **extra_env},
            capture_output=True,
            text=True,
            timeout=PG_DUMP_TIMEOUT_SECONDS,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"pg_dump did not finish ({type(exc).__name__}): run `{shown}` yourself.") from None
    if done.returncode != 0:
        partial.unlink(missing_ok=True)
        reason = (done.stderr.strip().splitlines() or ["no message"])[-1]
        for secret in extra_env.values():
            reason = reason.replace(secret, "***")
        raise BackupError(f"pg_dump exited {done.returncode} ({reason[:300]}): the command was `{shown}`.")
    os.replace(partial, dst_path)
    return (
        f"Backed up PostgreSQL {args[-1].removeprefix('postgresql://')} to {dst_path} with pg_dump "
        "(custom format: restore with pg_restore), consistent while the bot runs."
    )
