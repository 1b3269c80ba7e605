"""`northca-bot migrate-db`: copy every table of one database into another (SQLite <-> PostgreSQL).

Both are migrated to this code's schema first, so they have the same tables and columns. Tables are copied
parents before children (foreign keys), in batches, each table in one transaction of the target; then each
table is compared by row count and an order-independent checksum of its rows, read back from both. Identity
columns continue after the copied ids on PostgreSQL. The target must be empty unless `force` (then its rows
are deleted first). URLs are shown without their password.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

import asyncpg

from bot.storage import Database, redact_url
from bot.storage.rows import Row

log = logging.getLogger(__name__)

BATCH_ROWS = 500


class CopyError(Exception):
    """The copy cannot go on; the message says what to do (never holds a password)."""


@dataclass(frozen=True)
class TableCopy:
    name: str
    source_rows: int
    target_rows: int
    source_checksum: str
    target_checksum: str

    @property
    def equal(self) -> bool:
        return self.source_rows == self.target_rows and self.source_checksum == self.target_checksum


@dataclass(frozen=True)
class _Table:
    name: str
    columns: tuple[str, ...]
    order_by: tuple[str, ...]
    parents: frozenset[str]


_SQLITE_FORM = "a SQLite path (sqlite:PATH)"
_POSTGRESQL_FORM = "a PostgreSQL URL (postgresql://user:password@host:5432/dbname)"


def database_target(spec: str, flag: str = "--to") -> str:
    """`sqlite:PATH` (or a plain path) -> the path; a postgresql:// URL as is. Anything else that looks like a URL
    (a typo such as postgresql:/host, or mysql://) is refused: as a path it would become a local folder."""
    if spec.startswith(("postgresql://", "postgres://")):
        parts = urlsplit(spec)
        if not (parts.hostname or parts.path.strip("/") or "host=" in parts.query):
            raise CopyError(f"{flag} {redact_url(spec)}: needs a host and a database: {_POSTGRESQL_FORM}")
        return spec
    path = spec.removeprefix("sqlite:")
    if not path.strip():
        raise CopyError(f"{flag}: empty: give {_SQLITE_FORM} or {_POSTGRESQL_FORM}")
    # A scheme (letters, then ':'; two letters or more, so a drive letter stays a path).
    if re.match(r"^[A-Za-z][A-Za-z0-9+.-]+:", path):
        raise CopyError(f"{flag} {redact_url(spec)}: neither {_SQLITE_FORM} nor {_POSTGRESQL_FORM}")
    return path


def demo_sandbox_note(source_spec: str, target_spec: str) -> str | None:
    """After a copy from a SQLite file whose demo sandbox kept its state beside it: where that state stays, so
    the demo keeps its links on the new database (the bot looks for it beside [database] path, whatever engine)."""
    from bot.ops.startup import sandbox_state_path

    source = database_target(source_spec, "--from")
    if source.startswith(("postgresql://", "postgres://")):
        return None
    state = Path(sandbox_state_path(source))
    if not state.is_file():
        return None
    return (
        f"The demo sandbox's state (its links) stays in {state}: keep [database] path = {source!r} beside the new "
        f"database (or set [sandbox] db_path = {str(state)!r}) and the demo stays linked."
    )


async def _holds_the_bots_tables(url: str) -> bool:
    """Whether a PostgreSQL database was ever opened by the bot (it has the migrations table), read without
    creating anything."""
    conn = await asyncpg.connect(url, timeout=10)
    try:
        return bool(await conn.fetchval("SELECT to_regclass('schema_migrations') IS NOT NULL"))
    finally:
        await conn.close()


async def _tables(sqlite_db: Database) -> list[_Table]:
    """The tables in dependency order (a table after those its foreign keys point at), read from SQLite's catalog."""
    names = [
        str(row[0])
        for row in await sqlite_db.fetchall(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
            " AND name != 'schema_migrations' ORDER BY name"
        )
    ]
    found: dict[str, _Table] = {}
    for name in names:
        info = await sqlite_db.fetchall(f'PRAGMA table_info("{name}")')
        columns = tuple(str(r[1]) for r in info)
        keys = tuple(str(r[1]) for r in sorted((r for r in info if r[5]), key=lambda r: int(r[5])))
        parents = {str(r[2]) for r in await sqlite_db.fetchall(f'PRAGMA foreign_key_list("{name}")')} - {name}
        found[name] = _Table(name, columns, keys or columns, frozenset(parents))
    ordered: list[_Table] = []
    placed: set[str] = set()
    while len(ordered) < len(found):
        ready = [t for t in found.values() if t.name not in placed and t.parents <= placed | {t.name}]
        if not ready:
            raise CopyError("the tables' foreign keys form a cycle: cannot order the copy")
        for table in ready:
            ordered.append(table)
            placed.add(table.name)
    return ordered


def _row_digest(row: Row | tuple[object, ...]) -> int:
    text = repr(tuple(row))
    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:16], "big")


async def _count_and_checksum(db: Database, table: _Table) -> tuple[int, str]:
    """Rows and a checksum independent of their order (the engines sort text differently), read in batches."""
    total, count, offset = 0, 0, 0
    while True:
        rows = await _batch(db, table, offset)
        for row in rows:
            total = (total + _row_digest(row)) % (1 << 128)
        count += len(rows)
        offset += len(rows)
        if len(rows) < BATCH_ROWS:
            return count, f"{total:032x}"[:16]


async def _batch(db: Database, table: _Table, offset: int) -> list[Row]:
    columns = ", ".join(f'"{c}"' for c in table.columns)
    order = ", ".join(f'"{c}"' for c in table.order_by)
    return await db.fetchall(
        f'SELECT {columns} FROM "{table.name}" ORDER BY {order} LIMIT ? OFFSET ?', (BATCH_ROWS, offset)
    )


async def _has_rows(db: Database, tables: list[_Table]) -> list[str]:
    return [t.name for t in tables if await db.fetchone(f'SELECT 1 FROM "{t.name}" LIMIT 1') is not None]


async def _continue_identities(db: Database) -> None:
    """PostgreSQL: identity (or sequence-backed) columns go on after the highest copied id (else the next insert
    would collide)."""
    rows = await db.fetchall(
        "SELECT table_name, column_name FROM information_schema.columns WHERE table_schema = current_schema()"
        " AND (is_identity = 'YES' OR column_default LIKE 'nextval(%')"
    )
    for table, column in ((str(r[0]), str(r[1])) for r in rows):
        await db.fetchone(
            f'SELECT setval(pg_get_serial_sequence(?, ?), (SELECT COALESCE(MAX("{column}"), 0) + 1 FROM "{table}"),'
            " false)",
            (table, column),
        )


async def copy_database(
    source_spec: str, target_spec: str, *, force: bool = False, say: Callable[[str], None] = print
) -> list[TableCopy]:
    """Copies everything from source to target and verifies it; the per-table comparison. Nothing is created
    before both are known good: a target that is no database URL or path, or a source that does not exist,
    is refused."""
    source_target = database_target(source_spec, "--from")
    source, target = Database(source_target), Database(database_target(target_spec, "--to"))
    if source.engine == "sqlite" and not Path(source.path).is_file():
        raise CopyError(f"--from {source.path}: no such SQLite file (check the path).")
    if source.engine == "postgresql" and not await _holds_the_bots_tables(source.path):
        # Opening it would create the bot's (empty) tables there, and the copy would report 0 rows as success.
        raise CopyError(f"--from {source.where}: this database holds no Northca Duty Bot tables (check the URL).")
    if source.path == target.path:
        raise CopyError("--from and --to are the same database")
    if source.engine == "postgresql" and target.engine == "postgresql":
        raise CopyError("one side must be a SQLite file (sqlite:PATH): use pg_dump between two PostgreSQL servers")
    await source.open()
    try:
        await target.open()
        try:
            return await _copy(source, target, force=force, say=say)
        finally:
            await target.close()
    finally:
        await source.close()


async def _copy(source: Database, target: Database, *, force: bool, say: Callable[[str], None]) -> list[TableCopy]:
    tables = await _tables(source if source.engine == "sqlite" else target)
    filled = await _has_rows(target, tables)
    if filled and not force:
        raise CopyError(
            f"the target {target.where} already holds data ({', '.join(filled[:5])}"
            f"{', …' if len(filled) > 5 else ''}): choose an empty database, or pass --force to replace its rows"
        )
    say(f"copying {len(tables)} tables from {source.where} to {target.where}")
    if filled:
        async with target.transaction():
            for table in reversed(tables):
                await target.execute(f'DELETE FROM "{table.name}"')
        say(f"--force: deleted the rows of {len(filled)} tables in the target first")
    for table in tables:
        columns = ", ".join(f'"{c}"' for c in table.columns)
        marks = ", ".join("?" for _ in table.columns)
        insert = f'INSERT INTO "{table.name}" ({columns}) VALUES ({marks})'
        async with target.transaction():
            offset = 0
            while True:
                rows = await _batch(source, table, offset)
                if rows:
                    await target.executemany(insert, [tuple(r) for r in rows])
                offset += len(rows)
                if len(rows) < BATCH_ROWS:
                    break
    if target.engine == "postgresql":
        await _continue_identities(target)
    results = []
    for table in tables:
        source_rows, source_sum = await _count_and_checksum(source, table)
        target_rows, target_sum = await _count_and_checksum(target, table)
        result = TableCopy(table.name, source_rows, target_rows, source_sum, target_sum)
        results.append(result)
        verdict = "ok" if result.equal else "DIFFERENT"
        say(f"  {table.name:<32} {source_rows:>9} rows  {source_sum} -> {target_rows:>9} rows  {target_sum}  {verdict}")
    return results
