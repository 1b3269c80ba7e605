"""The store on either engine (the db_path fixture): migrations recorded and applied once, rollback, the gate;
WAL and foreign keys on the SQLite file."""

from __future__ import annotations

import asyncio

import pytest

from bot.storage import Database


async def test_migrations_apply_once_and_are_recorded(db_path):
    path = db_path
    db = Database(path)
    await db.open()
    versions = [r["version"] for r in await db.fetchall("SELECT version FROM schema_migrations ORDER BY version")]
    assert versions[:2] == [1, 2] and versions == sorted(versions)
    if db.engine == "sqlite":
        assert (await db.fetchone("PRAGMA journal_mode"))[0] == "wal"
        assert (await db.fetchone("PRAGMA foreign_keys"))[0] == 1
    await db.close()
    again = Database(path)
    await again.open()
    assert await again.migrate() == []  # nothing applied twice
    await again.close()


async def test_transaction_rolls_back_on_error(db_path):
    db = Database(db_path)
    await db.open()
    with pytest.raises(RuntimeError):
        async with db.transaction():
            await db.execute(
                "INSERT INTO guild_links (guild_id, mdt_id, status, created_at, updated_at)"
                " VALUES (1, 'm', 'pending', 'x', 'x')"
            )
            raise RuntimeError("boom")
    assert await db.fetchone("SELECT * FROM guild_links") is None
    await db.close()


INSERT_LINK = (
    "INSERT INTO guild_links (guild_id, mdt_id, status, created_at, updated_at) VALUES (?, ?, 'pending', 'x', 'x')"
)


async def test_rollback_does_not_undo_another_coroutines_write(db_path):
    """The hidden hazard: a transaction that awaits, then rolls back, while another coroutine
    writes one statement on the shared connection. The other write must survive."""
    db = Database(db_path)
    await db.open()
    inside, release, writer_started = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def failing_transaction() -> None:
        async with db.transaction():
            await db.execute(INSERT_LINK, (1, "rolled-back"))
            inside.set()
            await release.wait()  # e.g. waiting for Northca
            raise RuntimeError("the transaction fails after awaiting")

    async def other_write() -> int:
        writer_started.set()
        return await db.execute(INSERT_LINK, (2, "kept"))

    transaction = asyncio.create_task(failing_transaction())
    await inside.wait()
    writer = asyncio.create_task(other_write())
    await writer_started.wait()  # its statement is queued (or waiting at the gate) before the rollback
    release.set()
    with pytest.raises(RuntimeError):
        await transaction
    assert await writer == 1
    rows = await db.fetchall("SELECT guild_id, mdt_id FROM guild_links ORDER BY guild_id")
    assert [tuple(r) for r in rows] == [(2, "kept")]
    await db.close()


async def test_reads_do_not_see_another_coroutines_uncommitted_transaction(db_path):
    db = Database(db_path)
    await db.open()
    inside, release = asyncio.Event(), asyncio.Event()

    async def transaction() -> None:
        async with db.transaction():
            await db.execute(INSERT_LINK, (1, "not-yet"))
            inside.set()
            await release.wait()
            raise RuntimeError("rolled back")

    task = asyncio.create_task(transaction())
    await inside.wait()
    reader = asyncio.create_task(db.fetchall("SELECT * FROM guild_links"))
    release.set()
    with pytest.raises(RuntimeError):
        await task
    assert await reader == []  # never saw the row that was rolled back
    await db.close()


async def test_tasks_started_inside_a_transaction_belong_to_it(db_path):
    db = Database(db_path)
    await db.open()
    async with db.transaction():
        await asyncio.gather(db.execute(INSERT_LINK, (1, "a")), db.execute(INSERT_LINK, (2, "b")))
    assert len(await db.fetchall("SELECT * FROM guild_links")) == 2
    with pytest.raises(RuntimeError, match=r"inside Database\.transaction"):
        _ = db.conn  # the raw connection would bypass the gate
    await db.close()
