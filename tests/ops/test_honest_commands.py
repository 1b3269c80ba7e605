"""A command never reports success for something it did not do. `migrate-db` refuses a URL that
is neither a SQLite path nor a PostgreSQL URL, and a source that does not exist, creating nothing; `backup` on
PostgreSQL says how to back it up (or runs pg_dump) instead of copying the default SQLite file; `check-config`
refuses the example's placeholder token and a named config file that does not exist; `health` asks the port
the config names; `backup` blames the destination when the destination is the problem, and names the file it
wrote."""

from __future__ import annotations

import glob
import os
import sqlite3
import subprocess
from pathlib import Path

import asyncpg
import pytest

from bot.storage import Database
from tests.ops.botproc import REPO, run_bot, write_config

pytestmark = pytest.mark.asyncio


def entries(folder: Path) -> set[str]:
    return {str(p.relative_to(folder)) for p in folder.rglob("*")}


# --- 20.1 migrate-db ---


@pytest.mark.parametrize(
    "target",
    ["postgresql:/typo@localhost/northca", "mysql://bot:pw@localhost/northca", "postgres:/x", "sqlite3://bot.db"],
)
async def test_migrate_db_refuses_a_url_of_no_known_kind_and_creates_nothing(tmp_path: Path, target: str):
    source = tmp_path / "bot.sqlite3"
    db = Database(source)
    await db.open()
    await db.close()
    before = entries(tmp_path), entries(REPO)
    result = await run_bot("migrate-db", "--from", f"sqlite:{source}", "--to", target)
    assert result.returncode == 1
    assert len(result.stderr_lines) == 1 and "Traceback" not in result.stderr, result.stderr
    assert result.stderr_lines[0].startswith("Not copied: --to ")
    assert "neither a SQLite path" in result.stderr_lines[0]
    assert "Copied" not in result.stdout
    assert (entries(tmp_path), entries(REPO)) == before, "a folder or file was created for the bad URL"


async def test_migrate_db_refuses_a_source_file_that_does_not_exist_and_creates_nothing(tmp_path: Path):
    missing = tmp_path / "old" / "bot.sqlite3"
    target = tmp_path / "new.sqlite3"
    result = await run_bot("migrate-db", "--from", f"sqlite:{missing}", "--to", f"sqlite:{target}")
    assert result.returncode == 1
    assert result.stderr_lines == [f"Not copied: --from {missing}: no such SQLite file (check the path)."]
    assert not missing.parent.exists() and not target.exists()
    assert "0 rows" not in result.stdout


@pytest.mark.postgresql_only("a PostgreSQL database the bot never used")
async def test_migrate_db_refuses_a_postgresql_source_without_the_bots_tables_and_creates_none(
    tmp_path: Path, postgres
):
    admin = await asyncpg.connect(postgres.url("postgres"))
    try:
        await admin.execute("CREATE DATABASE never_used_by_the_bot")  # empty: not from the migrated template
    finally:
        await admin.close()
    db_path = postgres.url("never_used_by_the_bot")
    target = tmp_path / "copy.sqlite3"
    result = await run_bot("migrate-db", "--from", db_path, "--to", f"sqlite:{target}")
    assert result.returncode == 1
    assert len(result.stderr_lines) == 1 and "holds no Northca Duty Bot tables" in result.stderr_lines[0]
    assert not target.exists()
    conn = await asyncpg.connect(db_path)
    try:
        assert await conn.fetchval("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()") == 0
    finally:
        await conn.close()


# --- 20.2 backup on PostgreSQL ---


async def test_backup_on_postgresql_says_how_and_never_copies_the_sqlite_file(tmp_path: Path):
    sqlite_file = tmp_path / "bot.sqlite3"  # the [database] path default that must not be backed up
    db = Database(sqlite_file)
    await db.open()
    await db.close()
    url = "postgresql://northca:s3cret@db.example:5433/northca"
    config = write_config(tmp_path / "config.toml", sqlite_file)
    config.write_text(config.read_text().replace("[database]\n", f"[database]\nurl = {url!r}\n"))
    out = tmp_path / "backup.dump"
    no_pg_dump = tmp_path / "bin"  # a PATH without pg_dump
    no_pg_dump.mkdir()
    result = await run_bot("backup", "--config", str(config), str(out), env={"PATH": str(no_pg_dump)})
    assert result.returncode == 1, result.stdout
    assert len(result.stderr_lines) == 1, result.stderr
    line = result.stderr_lines[0]
    assert "PostgreSQL" in line and "pg_dump" in line
    assert f"--file={out}" in line and "postgresql://northca@db.example:5433/northca" in line
    assert "s3cret" not in result.stdout + result.stderr
    assert not out.exists() and "consistent" not in result.stdout


@pytest.mark.postgresql_only("runs pg_dump against the test server")
async def test_backup_on_postgresql_runs_pg_dump_when_it_is_installed(tmp_path: Path, db_path: str):
    db = Database(db_path)
    await db.open()  # the bot's tables
    await db.close()
    config = write_config(tmp_path / "config.toml", tmp_path / "unused.sqlite3")
    config.write_text(config.read_text().replace("[database]\n", f"[database]\nurl = {db_path!r}\n"))
    pg_bin = os.path.dirname(sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_dump"))[-1])
    out = tmp_path / "northca.dump"
    result = await run_bot("backup", "--config", str(config), str(out), env={"PATH": f"{pg_bin}:/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("Backed up PostgreSQL") and str(out) in result.stdout
    assert out.read_bytes().startswith(b"PGDMP")  # pg_dump's custom format
    listed = subprocess.run([f"{pg_bin}/pg_restore", "--list", str(out)], capture_output=True, text=True, check=True)
    assert "TABLE DATA public schema_migrations" in listed.stdout and "TABLE public shifts" in listed.stdout
    assert not (tmp_path / "unused.sqlite3").exists()


# --- 20.3 check-config ---


async def test_check_config_refuses_the_example_placeholder_token(tmp_path: Path):
    config = tmp_path / "config.toml"
    config.write_text((REPO / "config.example.toml").read_text())
    result = await run_bot("check-config", "--config", str(config))
    assert result.returncode == 2
    assert "OK" not in result.stdout
    assert any(
        "discord.token" in line and "placeholder" in line and "DISCORD_TOKEN" in line for line in result.stderr_lines
    ), result.stderr


async def test_check_config_refuses_a_named_config_file_that_does_not_exist(tmp_path: Path):
    missing = tmp_path / "mounted-at-the-wrong-path.toml"
    result = await run_bot("check-config", "--config", str(missing), env={"DISCORD_TOKEN": "from-the-environment"})
    assert result.returncode == 2
    assert "OK" not in result.stdout
    assert any(str(missing) in line and "no such file" in line for line in result.stderr_lines), result.stderr


async def test_check_config_without_a_default_file_takes_everything_from_the_environment(tmp_path: Path):
    result = await run_bot(
        "check-config",
        env={"DISCORD_TOKEN": "from-the-environment", "NORTHCA_BOT_DB": str(tmp_path / "bot.sqlite3")},
        cwd=tmp_path,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("no config.toml (settings from the environment): OK.")


# --- 20.4 health ---


async def test_health_asks_the_port_of_the_config(tmp_path: Path, start_bot):
    h = await start_bot(health={"port": 0})
    assert h.bot.health is not None and h.bot.health.url is not None
    port = int(h.bot.health.url.rsplit(":", 1)[1].split("/")[0])
    config = write_config(tmp_path / "config.toml", tmp_path / "bot.sqlite3", health={"port": port})
    result = await run_bot("health", "--config", str(config))
    # The harness's bot has no gateway: its endpoint answers "unhealthy", which proves it was asked.
    assert result.returncode == 1
    assert result.stderr_lines == ["unhealthy: gateway not connected"], result.stderr


async def test_health_with_no_port_anywhere_says_so_in_one_line(tmp_path: Path):
    config = write_config(tmp_path / "config.toml", tmp_path / "bot.sqlite3")
    result = await run_bot("health", "--config", str(config))
    assert result.returncode == 1
    assert len(result.stderr_lines) == 1
    assert "no health endpoint is configured" in result.stderr and "[health] port" in result.stderr


# --- 20.5 backup destinations ---


async def sqlite_database(tmp_path: Path) -> Path:
    source = tmp_path / "bot.sqlite3"
    db = Database(source)
    await db.open()
    await db.close()
    return source


async def test_backup_to_a_missing_folder_names_the_destination_not_the_source(tmp_path: Path):
    source = await sqlite_database(tmp_path)
    config = write_config(tmp_path / "config.toml", source)
    target = tmp_path / "no-such-folder" / "copy.sqlite3"
    result = await run_bot("backup", "--config", str(config), str(target))
    assert result.returncode == 1
    assert len(result.stderr_lines) == 1
    line = result.stderr_lines[0]
    assert "SQLite database?" not in line
    assert str(target.parent) in line and "does not exist" in line
    assert not target.parent.exists()


async def test_backup_to_an_unwritable_folder_names_the_destination(tmp_path: Path):
    source = await sqlite_database(tmp_path)
    config = write_config(tmp_path / "config.toml", source)
    target = Path("/proc") / "copy.sqlite3"  # a folder nobody may write in, root included
    result = await run_bot("backup", "--config", str(config), str(target))
    assert result.returncode == 1
    line = result.stderr_lines[0]
    assert len(result.stderr_lines) == 1 and "SQLite database?" not in line
    assert "Cannot write the backup" in line and "/proc" in line


async def test_backup_into_a_folder_names_the_file_it_wrote(tmp_path: Path):
    source = await sqlite_database(tmp_path)
    config = write_config(tmp_path / "config.toml", source)
    folder = tmp_path / "backups"
    folder.mkdir()
    result = await run_bot("backup", "--config", str(config), str(folder))
    assert result.returncode == 0, result.stderr
    written = list(folder.iterdir())
    assert len(written) == 1
    assert str(written[0]) in result.stdout
    with sqlite3.connect(written[0]) as copy:
        assert copy.execute("SELECT COUNT(*) FROM schema_migrations").fetchone()[0] > 0
