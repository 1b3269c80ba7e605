"""The store on either engine (the db_path fixture): migrations recorded and applied once, rollback, the gate;
WAL and foreign keys on the SQLite file."""

from __future__ import annotations

import asyncio
import re
import sys
from pathlib import Path

import pytest

from bot.storage import Database, DatabaseUnavailable, _migrations
from tests.helpers.waiting import until
from tests.ops.botproc import DEADLINE, REPO, bot_env
from tests.postgres import PostgresServer, wants_postgresql


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


# One process of the start-up race: opens (hence migrates) the database when told to go on stdin; the migrations
# it applied itself are in its log ("applied migration NNN ...").
_OPEN_WHEN_TOLD = """
import asyncio, logging, sys
from bot.storage import Database

async def main() -> None:
    db = Database(sys.argv[1])
    print("ready", flush=True)
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
    try:
        await db.open()
    finally:
        await db.close()

logging.basicConfig(level=logging.INFO, stream=sys.stderr)
logging.getLogger('bot.storage').setLevel(logging.DEBUG)  # one line per migration applied
asyncio.run(main())
"""


@pytest.fixture
async def empty_database(tmp_path: Path, request: pytest.FixtureRequest) -> str:
    """Where a database that has never been opened lives: a SQLite file not yet created, or an empty PostgreSQL
    database (no table at all)."""
    if not wants_postgresql():
        return str(tmp_path / "fresh.sqlite3")
    server: PostgresServer = request.getfixturevalue("postgres")
    return await server.empty_database()


async def test_five_processes_started_at_once_on_an_empty_database_all_start_and_migrate_once(empty_database):
    processes = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-c",
            _OPEN_WHEN_TOLD,
            empty_database,
            cwd=str(REPO),
            env=bot_env(None),
            stdin=asyncio.subprocess.PIPE,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        for _ in range(5)  # five: with three, a start refused "database is locked" about one run in five
    ]
    for proc in processes:  # every process has imported everything: now they are told to open at once
        assert proc.stdout is not None
        assert (await asyncio.wait_for(proc.stdout.readline(), DEADLINE)).strip() == b"ready"
    for proc in processes:
        assert proc.stdin is not None
        proc.stdin.write(b"go\n")
    outputs = [await asyncio.wait_for(proc.communicate(), DEADLINE) for proc in processes]

    logs = [err.decode(errors="replace") for _, err in outputs]
    for proc, log in zip(processes, logs, strict=True):
        assert proc.returncode == 0, log[-3000:]
    applied = [int(v) for log in logs for v in re.findall(r"applied migration (\d+)", log)]
    every = [version for version, _, _ in _migrations("postgresql" if wants_postgresql() else "sqlite")]
    # Each migration ran in exactly one of the processes; the others waited for it and ran none twice.
    assert sorted(applied) == every
    db = Database(empty_database)
    await db.open()
    try:
        rows = await db.fetchall("SELECT version FROM schema_migrations ORDER BY version")
        assert [r[0] for r in rows] == every
    finally:
        await db.close()


async def test_an_unapplied_migration_numbered_below_the_newest_applied_one_is_refused_in_one_line(db_path):
    from bot.storage import MigrationOrderError

    db = Database(db_path)
    await db.open()
    newest = max(version for version, _, _ in _migrations(db.engine))
    # As if 017 had been added to the series after the newest one was applied here (a late-merged migration).
    await db.execute("DELETE FROM schema_migrations WHERE version = 17")
    await db.close()

    again = Database(db_path)
    try:
        with pytest.raises(MigrationOrderError) as refused:
            await again.open()
        recorded = {r[0] for r in await again.fetchall("SELECT version FROM schema_migrations")}
    finally:
        await again.close()

    text = str(refused.value)
    assert "\n" not in text and "017_rosters.sql" in text and f"{newest:03d}" in text and "renumber" in text
    assert 17 not in recorded and newest in recorded  # nothing was run


# --- PostgreSQL: the pool, and connections lost under the bot ------------------------------------------------

pg_only = pytest.mark.postgresql_only("the pool and lost connections are PostgreSQL's")


async def _terminate_backends(db_path: str, *, running: str | None = None) -> int:
    """End the server sessions of the test's database (as a restart or failover does), from a connection of its
    own; with `running`, only those running a statement that contains it. How many were ended."""
    import asyncpg

    admin = await asyncpg.connect(db_path)
    try:
        query = (
            "SELECT COUNT(*) FROM (SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            " WHERE datname = current_database() AND pid <> pg_backend_pid()"
            + (" AND query LIKE $1" if running else "")
            + ") AS ended"
        )
        return int(await admin.fetchval(query, *([f"%{running}%"] if running else [])))
    finally:
        await admin.close()


async def _running(db_path: str, text: str) -> bool:
    """Whether a statement containing `text` runs on the server now."""
    import asyncpg

    admin = await asyncpg.connect(db_path)
    try:
        query = (
            "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
            " AND state = 'active' AND query LIKE $1"
        )
        return bool(await admin.fetchval(query, f"%{text}%"))
    finally:
        await admin.close()


@pg_only
async def test_an_open_transaction_does_not_hold_back_other_coroutines_reads(db_path):
    """Each transaction has its own connection: while one is open (waiting on something else), other coroutines
    read, side by side, and see committed rows only. Writes keep one writer per process (as on SQLite): another
    coroutine's write waits for the transaction's end, then lands."""
    db = Database(db_path)
    await db.open()
    await db.execute(INSERT_LINK, (1, "committed"))
    inside, release = asyncio.Event(), asyncio.Event()

    async def slow_transaction() -> None:
        async with db.transaction():
            await db.execute(INSERT_LINK, (2, "not yet"))
            inside.set()
            await release.wait()  # e.g. waiting for Northca

    task = asyncio.create_task(slow_transaction())
    try:
        await inside.wait()
        # The gate of one connection made each of these reads wait for the release, which never comes meanwhile.
        reads = [db.fetchall("SELECT guild_id FROM guild_links ORDER BY guild_id") for _ in range(5)]
        for rows in await asyncio.wait_for(asyncio.gather(*reads), 10):
            assert [r["guild_id"] for r in rows] == [1]
        write = asyncio.create_task(db.execute(INSERT_LINK, (3, "after")))
        await asyncio.sleep(0.2)
        assert not write.done()  # one writer: it waits for the transaction
    finally:
        release.set()
        await task
    assert await asyncio.wait_for(write, 10) == 1
    rows = await db.fetchall("SELECT guild_id FROM guild_links ORDER BY guild_id")
    assert [r["guild_id"] for r in rows] == [1, 2, 3]
    await db.close()


@pg_only
async def test_statements_go_on_after_the_server_ended_every_session(db_path):
    """A restart or failover ends every session: the pool replaces the connections, the next statements work."""
    db = Database(db_path)
    await db.open()
    await asyncio.gather(*(db.fetchone("SELECT 1 AS one") for _ in range(4)))  # several connections open
    assert await _terminate_backends(db_path) >= 1
    await asyncio.sleep(0.2)  # the server's goodbye reaches the client
    assert await db.execute(INSERT_LINK, (1, "after")) == 1
    assert [r["mdt_id"] for r in await db.fetchall("SELECT mdt_id FROM guild_links")] == ["after"]
    await db.close()


@pg_only
async def test_a_read_cut_in_flight_is_sent_again(db_path):
    db = Database(db_path)
    await db.open()
    await db.execute(INSERT_LINK, (30, "the first try sleeps 30 s"))
    read = asyncio.create_task(
        db.fetchone(
            "SELECT 'read back' AS answer,"
            " (SELECT 1 FROM pg_sleep((SELECT COALESCE(MAX(guild_id), 0) FROM guild_links))) AS slept"
        )
    )
    await until(lambda: _running(db_path, "read back"), 10, "the read to run")
    await db.execute("DELETE FROM guild_links")  # the second try sleeps 0 s
    assert await _terminate_backends(db_path, running="read back") == 1
    row = await asyncio.wait_for(read, 20)
    assert row is not None and row["answer"] == "read back"
    await db.close()


@pg_only
async def test_a_write_cut_in_flight_is_not_sent_again_and_says_try_again(db_path):
    """A write whose answer was lost may or may not be applied: never sent twice; the caller is told so."""
    db = Database(db_path)
    await db.open()
    write = asyncio.create_task(
        db.execute(
            "INSERT INTO guild_links (guild_id, mdt_id, status, created_at, updated_at)"
            " SELECT 1, 'cut', 'pending', 'x', 'x' FROM pg_sleep(30)"
        )
    )
    await until(lambda: _running(db_path, "'cut'"), 10, "the write to run")
    assert await _terminate_backends(db_path, running="'cut'") == 1
    with pytest.raises(DatabaseUnavailable) as caught:
        await asyncio.wait_for(write, 20)
    assert caught.value.data == {"maybe_applied": True}  # the door words it: "may or may not have been saved"
    assert await db.fetchall("SELECT * FROM guild_links") == []  # not applied, and not sent again
    assert await db.execute(INSERT_LINK, (2, "next")) == 1  # the bot goes on
    await db.close()


@pg_only
async def test_a_transaction_cut_in_the_middle_is_rolled_back_and_says_try_again(db_path):
    db = Database(db_path)
    await db.open()
    with pytest.raises(DatabaseUnavailable) as caught:
        async with db.transaction():
            await db.execute(INSERT_LINK, (1, "half"))
            await _terminate_backends(db_path)
            await asyncio.sleep(0.2)
            await db.execute(INSERT_LINK, (2, "other half"))
    assert not caught.value.maybe_applied
    assert await db.fetchall("SELECT * FROM guild_links") == []  # all or nothing
    async with db.transaction():  # the next transaction has a connection that works
        await db.execute(INSERT_LINK, (3, "next"))
    assert [r["mdt_id"] for r in await db.fetchall("SELECT mdt_id FROM guild_links")] == ["next"]
    await db.close()


@pg_only
async def test_the_pool_opens_at_most_pool_max_connections(db_path):
    """Ten reads at once on a pool of two: two connections serve them (the others wait their turn), no more."""
    db = Database(db_path, pool_min=1, pool_max=2)
    await db.open()
    seen = await asyncio.gather(
        *(
            db.fetchone(
                "SELECT COUNT(*) AS n FROM pg_stat_activity WHERE datname = current_database()"
                " AND backend_type = 'client backend'"
                " AND (SELECT 1 FROM pg_sleep(0.05)) = 1"
            )
            for _ in range(10)
        )
    )
    assert max(int(row["n"]) for row in seen if row is not None) == 2
    await db.close()
