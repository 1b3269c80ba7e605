"""`northca-bot backup PATH`: a consistent copy of the database while the bot runs (SQLite's online backup API,
which sees committed data including what is still in the WAL file; copying the file alone may miss it)."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path


class BackupError(Exception):
    """One line for the operator."""


def backup_database(source: str, target: str) -> int:
    """Copy `source` to `target` (written beside it first, then renamed); returns the number of pages copied."""
    src_path, dst_path = Path(source), Path(target)
    if not src_path.is_file():
        raise BackupError(f"No database at {src_path}: check [database] path (or NORTHCA_BOT_DB).")
    if dst_path.resolve() == src_path.resolve():
        raise BackupError("The backup path is the database itself: choose another file.")
    if dst_path.is_dir():
        dst_path = dst_path / f"{src_path.stem}-backup{src_path.suffix}"
    partial = dst_path.with_name(dst_path.name + ".partial")
    try:
        src = sqlite3.connect(f"file:{src_path}?mode=ro", uri=True)
    except sqlite3.Error as exc:
        raise BackupError(f"Cannot open the database {src_path} ({exc}).") from None
    try:
        dst = sqlite3.connect(partial)
        try:
            src.backup(dst)
            pages = int(dst.execute("PRAGMA page_count").fetchone()[0])
        finally:
            dst.close()
        os.replace(partial, dst_path)
    except sqlite3.DatabaseError as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"Backup of {src_path} failed ({exc}): is it a SQLite database?") from None
    except OSError as exc:
        partial.unlink(missing_ok=True)
        raise BackupError(f"Cannot write the backup {dst_path}: {exc.strerror or exc}.") from None
    finally:
        src.close()
    return pages
