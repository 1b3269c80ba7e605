"""Local problems are named in one line, with the path or port and what to do,
before the bot logs in to Discord; the process exits non-zero."""

from __future__ import annotations

import os
import re
import socket
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.storage import Database, _migrations
from tests.ops.botproc import Finished, run_bot, write_config

pytestmark = pytest.mark.asyncio

LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (DEBUG|INFO|WARNING) ")


def assert_one_line_before_login(result: Finished, fake_discord, *expected: str) -> None:
    assert result.returncode != 0
    problems = [line for line in result.stderr_lines if not LOG_LINE.match(line)]
    assert len(problems) == 1, result.stderr
    line = problems[0]
    assert line.startswith("Cannot start: ")
    for text in expected:
        assert text in line, line
    assert "Traceback" not in result.stderr and "network" not in line
    assert fake_discord.requests == [], "the bot logged in to Discord before checking its local files"


@pytest.mark.sqlite_only("the SQLite file's path")
async def test_database_path_that_is_a_directory_is_named_before_login(tmp_path: Path, fake_discord):
    db_dir = tmp_path / "data"
    db_dir.mkdir()
    config = write_config(tmp_path / "config.toml", db_dir)
    result = await run_bot("run", "--config", str(config), discord_api=fake_discord.base_url)
    assert_one_line_before_login(result, fake_discord, str(db_dir), "is a directory", "[database] path")


@pytest.mark.sqlite_only("the SQLite file's path")
async def test_database_path_under_a_file_is_named_before_login(tmp_path: Path, fake_discord):
    blocker = tmp_path / "data"
    blocker.write_text("not a directory")
    config = write_config(tmp_path / "config.toml", blocker / "bot.sqlite3")
    result = await run_bot("run", "--config", str(config), discord_api=fake_discord.base_url)
    assert_one_line_before_login(result, fake_discord, str(blocker), "is a file, not a directory")


@pytest.mark.sqlite_only("a corrupted SQLite file")
async def test_corrupted_database_file_is_named_before_login(tmp_path: Path, fake_discord):
    db_file = tmp_path / "bot.sqlite3"
    db_file.write_bytes(b"this is not SQLite " * 500)
    config = write_config(tmp_path / "config.toml", db_file)
    result = await run_bot("run", "--config", str(config), discord_api=fake_discord.base_url)
    assert_one_line_before_login(result, fake_discord, str(db_file), "not a readable SQLite database", "backup")
    assert db_file.read_bytes() == b"this is not SQLite " * 500  # left as it was, for recovery


async def run_with_port_taken(tmp_path: Path, fake_discord, section: str) -> tuple[Finished, int]:
    """Start the bot with [section] port set to a port another program listens on."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        config = write_config(tmp_path / "config.toml", tmp_path / "bot.sqlite3", **{section: {"port": port}})
        return await run_bot("run", "--config", str(config), discord_api=fake_discord.base_url), port


async def test_sandbox_port_in_use_is_named_before_login(tmp_path: Path, fake_discord):
    result, port = await run_with_port_taken(tmp_path, fake_discord, "sandbox")
    assert_one_line_before_login(result, fake_discord, f"port {port}", "already in use", "[sandbox] port")


async def test_health_port_in_use_is_named_before_login(tmp_path: Path, fake_discord):
    result, port = await run_with_port_taken(tmp_path, fake_discord, "health")
    assert_one_line_before_login(
        result, fake_discord, f"health endpoint port {port}", "already in use", "[health] port"
    )


def make_read_only(path: Path) -> Callable[[], None]:
    """Make a file or directory unwritable, even for root (chattr +i; by mode for other users); returns the undo."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o555 if path.is_dir() else 0o444)
        return lambda: path.chmod(mode)
    subprocess.run(["chattr", "+i", str(path)], check=True, capture_output=True)

    def undo() -> None:
        subprocess.run(["chattr", "-i", str(path)], check=True, capture_output=True)

    return undo


@pytest.mark.sqlite_only("a read-only SQLite file")
async def test_read_only_database_file_is_named_before_login(tmp_path: Path, fake_discord):
    db_file = tmp_path / "bot.sqlite3"
    existing = Database(db_file)
    await existing.open()
    await existing.close()
    undo = make_read_only(db_file)
    try:
        config = write_config(tmp_path / "config.toml", db_file)
        result = await run_bot("run", "--config", str(config), discord_api=fake_discord.base_url)
    finally:
        undo()
    assert_one_line_before_login(result, fake_discord, str(db_file), "is read-only", "write access")


@pytest.mark.sqlite_only("the SQLite file's directory")
async def test_database_directory_that_cannot_be_created_is_named_before_login(tmp_path: Path, fake_discord):
    locked = tmp_path / "locked"
    locked.mkdir()
    undo = make_read_only(locked)
    try:
        config = write_config(tmp_path / "config.toml", locked / "data" / "bot.sqlite3")
        result = await run_bot("run", "--config", str(config), discord_api=fake_discord.base_url)
    finally:
        undo()
    assert_one_line_before_login(result, fake_discord, str(locked / "data"), "permission denied", "write access")


async def test_an_unapplied_migration_below_the_newest_applied_one_is_named_before_login(
    tmp_path: Path, fake_discord, db_path
):
    db = Database(db_path)
    await db.open()
    newest = max(version for version, _, _ in _migrations(db.engine))
    await db.execute("DELETE FROM schema_migrations WHERE version = 17")  # 017 as if merged after the newest
    await db.close()
    config = write_config(tmp_path / "config.toml", db_path)
    result = await run_bot("run", "--config", str(config), discord_api=fake_discord.base_url)
    assert_one_line_before_login(result, fake_discord, "017_rosters.sql", f"{newest:03d}", "renumber")
