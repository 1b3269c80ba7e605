"""Set-up guidance: the invite link, backup while running, version, plain log lines and the log level from the env."""

from __future__ import annotations

import logging
import re
import socket
import sqlite3
from pathlib import Path

import pytest

from bot.core.links import LinkStore
from bot.discord.invite import required_permissions
from bot.storage import Database
from tests.helpers.ids import ADMIN, GUILD, MDT, OWNER
from tests.ops.botproc import REPO, run_bot, write_config

pytestmark = pytest.mark.asyncio


async def test_invite_link_with_exact_permissions_is_logged_at_start_and_in_readme(start_bot, caplog):
    await start_bot()
    expected = f"permissions={required_permissions().value}"
    lines = [r.getMessage() for r in caplog.records if r.getMessage().startswith("invite the bot with: ")]
    assert lines and expected in lines[0] and "scope=bot+applications.commands" in lines[0]
    assert expected in (REPO / "README.md").read_text(encoding="utf-8")


@pytest.mark.sqlite_only("northca-bot backup copies the SQLite file (WAL included)")
async def test_backup_while_running_keeps_rows_still_in_the_wal(tmp_path: Path):
    db_path = tmp_path / "bot.sqlite3"
    running = Database(db_path)
    await running.open()  # stays open, as in a running bot: the new row lives in the -wal file
    try:
        await LinkStore(running).save_request(GUILD, MDT, "req-1", "approved", OWNER, ADMIN, None)
        assert Path(f"{db_path}-wal").stat().st_size > 0
        config = write_config(tmp_path / "config.toml", db_path)
        target = tmp_path / "backups" / "copy.sqlite3"
        target.parent.mkdir()
        result = await run_bot("backup", "--config", str(config), str(target))
    finally:
        await running.close()
    assert result.returncode == 0, result.stderr
    copy = sqlite3.connect(target)
    try:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("SELECT mdt_id FROM guild_links WHERE guild_id = ?", (GUILD,)).fetchall() == [(MDT,)]
    finally:
        copy.close()


@pytest.mark.sqlite_only("northca-bot backup copies the SQLite file")
async def test_backup_without_a_database_says_so_in_one_line(tmp_path: Path):
    config = write_config(tmp_path / "config.toml", tmp_path / "missing.sqlite3")
    result = await run_bot("backup", "--config", str(config), str(tmp_path / "copy.sqlite3"))
    assert result.returncode == 1 and len(result.stderr_lines) == 1
    assert "No database at" in result.stderr and "Traceback" not in result.stderr


async def test_version_flag_prints_the_version_the_changelog_describes():
    result = await run_bot("--version")
    assert result.returncode == 0
    version = result.stdout.strip().removeprefix("northca-bot ")
    assert re.fullmatch(r"\d+\.\d+\.\d+", version)
    assert f"## {version}" in (REPO / "CHANGELOG.md").read_text(encoding="utf-8")


async def _run_until_port_error(tmp_path: Path, env: dict[str, str]) -> str:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        config = write_config(
            tmp_path / "config.toml", tmp_path / "bot.sqlite3", sandbox={"port": taken.getsockname()[1]}
        )
        result = await run_bot("run", "--config", str(config), env=env)
    assert result.returncode == 1
    return result.stderr


async def test_log_lines_are_plain_and_the_level_comes_from_the_environment(tmp_path: Path):
    info = await _run_until_port_error(tmp_path, {"NORTHCA_BOT_LOG_LEVEL": "info"})
    assert "\x1b[" not in info  # no colour codes when not on a terminal
    assert re.search(
        r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ INFO bot\.storage: applied \d+ database migrations \(001 to", info, re.M
    )

    (tmp_path / "bot.sqlite3").unlink()
    warning = await _run_until_port_error(tmp_path, {"NORTHCA_BOT_LOG_LEVEL": "WARNING"})
    assert "applied migration" not in warning

    (tmp_path / "bot.sqlite3").unlink()
    debug = await _run_until_port_error(tmp_path, {"NORTHCA_BOT_LOG_LEVEL": "DEBUG"})
    assert "applied migration" in debug
    assert "DEBUG aiosqlite" not in debug and "DEBUG asyncio" not in debug  # no library debug floods
    assert logging.getLogger("bot").level in (logging.NOTSET, logging.DEBUG)
