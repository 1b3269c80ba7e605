"""The SQLite store: migrations recorded and applied once, WAL, foreign keys, rollback."""

from __future__ import annotations

import pytest

from bot.storage import Database


async def test_migrations_apply_once_and_are_recorded(tmp_path):
    path = tmp_path / "state.sqlite3"
    db = Database(path)
    await db.open()
    versions = [r["version"] for r in await db.fetchall("SELECT version FROM schema_migrations ORDER BY version")]
    assert versions[:2] == [1, 2] and versions == sorted(versions)
    assert (await db.fetchone("PRAGMA journal_mode"))[0] == "wal"
    assert (await db.fetchone("PRAGMA foreign_keys"))[0] == 1
    await db.close()
    again = Database(path)
    await again.open()
    assert await again.migrate() == []  # nothing applied twice
    await again.close()


async def test_transaction_rolls_back_on_error(tmp_path):
    db = Database(tmp_path / "state.sqlite3")
    await db.open()
    with pytest.raises(RuntimeError):
        async with db.transaction():
            await db.execute(
                "INSERT INTO guild_links (guild_id, mdt_id, status, created_at, updated_at) VALUES (1, 'm', 'pending', 'x', 'x')"
            )
            raise RuntimeError("boom")
    assert await db.fetchone("SELECT * FROM guild_links") is None
    await db.close()
