"""One line instead of a traceback, silent choices made
explicit (an empty partner key variable, a bad log level, which setting a bad value came from, which database
setting wins, one line for the migrations of a first start), and errors a container operator can act on."""

from __future__ import annotations

import os
import re
import socket
import tempfile
from pathlib import Path

import pytest

from tests.ops.botproc import Finished, run_bot, write_config

pytestmark = pytest.mark.asyncio

CONTAINER_UID = 10001  # the Dockerfile's user
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ (DEBUG|INFO|WARNING) ")


def problems(result: Finished) -> list[str]:
    return [line for line in result.stderr_lines if not LOG_LINE.match(line)]


# --- 20.6 ---


async def test_sandbox_on_a_port_in_use_says_so_in_one_line():
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = await run_bot("sandbox", "--port", str(port))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert len(problems(result)) == 1, result.stderr
    assert f"port {port}" in result.stderr and "already in use" in result.stderr and "--port" in result.stderr


async def test_database_that_cannot_be_opened_gives_one_line_and_no_closed_loop_error(fake_discord):
    for _ in range(3):  # the closed-loop error came from a thread, at random
        result = await run_bot(
            "run", discord_api=fake_discord.base_url, env={"DISCORD_TOKEN": "x", "NORTHCA_BOT_DB": "/sys/bot.sqlite3"}
        )
        assert result.returncode == 1
        assert problems(result) == [problems(result)[0]], result.stderr
        assert problems(result)[0].startswith("Cannot start: Cannot open the database file /sys/bot.sqlite3")
        assert "Event loop is closed" not in result.stderr and "Traceback" not in result.stderr


# --- 20.7 ---


async def test_an_empty_partner_key_variable_is_an_error_like_an_empty_key_in_the_file(tmp_path: Path):
    config = write_config(tmp_path / "config.toml", tmp_path / "bot.sqlite3")
    from_env = await run_bot("check-config", "--config", str(config), env={"NORTHCA_PARTNER_KEY": ""})
    config_file = write_config(tmp_path / "file.toml", tmp_path / "bot.sqlite3", northca={"partner_key": ""})
    from_file = await run_bot("check-config", "--config", str(config_file))
    assert from_env.returncode == from_file.returncode == 2
    assert "LOCAL sandbox" not in from_env.stdout
    assert any(line.strip().startswith("- NORTHCA_PARTNER_KEY: is empty") for line in from_env.stderr_lines)
    assert any(line.strip().startswith("- northca.partner_key: is empty") for line in from_file.stderr_lines)


async def test_an_invalid_log_level_variable_is_refused(tmp_path: Path, fake_discord):
    config = write_config(tmp_path / "config.toml", tmp_path / "bot.sqlite3")
    result = await run_bot(
        "run", "--config", str(config), discord_api=fake_discord.base_url, env={"NORTHCA_BOT_LOG_LEVEL": "LOUD"}
    )
    assert result.returncode == 2
    assert result.stderr_lines == [
        "NORTHCA_BOT_LOG_LEVEL: 'LOUD' is not a log level: use DEBUG, INFO, WARNING or ERROR (or unset it)."
    ]
    assert fake_discord.requests == []


async def test_a_bad_value_from_the_environment_names_the_variable(tmp_path: Path):
    config = write_config(tmp_path / "config.toml", tmp_path / "bot.sqlite3")
    result = await run_bot("check-config", "--config", str(config), env={"NORTHCA_BOT_HEALTH_PORT": "eighty"})
    assert result.returncode == 2
    lines = [line.strip() for line in result.stderr_lines[1:]]
    assert len(lines) == 1 and lines[0].startswith("- NORTHCA_BOT_HEALTH_PORT (health.port): "), result.stderr


async def test_check_config_says_which_database_setting_wins(tmp_path: Path):
    config = write_config(tmp_path / "config.toml", tmp_path / "bot.sqlite3")
    config.write_text(config.read_text().replace("[database]\n", "[database]\nurl = 'postgresql://bot@db/northca'\n"))
    result = await run_bot("check-config", "--config", str(config))
    assert result.returncode == 0, result.stderr
    assert "[database] url wins over [database] path" in result.stdout


async def test_the_first_start_logs_one_line_for_its_migrations(tmp_path: Path, fake_discord):
    config = write_config(tmp_path / "config.toml", tmp_path / "bot.sqlite3", health={"port": 0})
    # The fake Discord has no gateway: the bot logs in, fails to connect and stops; the migrations ran before.
    result = await run_bot("run", "--config", str(config), discord_api=fake_discord.base_url, timeout=90)
    migration_lines = [line for line in result.stderr_lines if "migration" in line]
    assert len(migration_lines) == 1, migration_lines
    assert re.search(r"applied \d+ database migrations \(001 to \d{3}\)", migration_lines[0])


# --- 20.9: what a container operator sees ---


async def test_with_nothing_configured_the_missing_token_is_named_not_the_config_file(fake_discord):
    with tempfile.TemporaryDirectory() as empty:
        result = await run_bot("run", discord_api=fake_discord.base_url, cwd=Path(empty))
    assert result.returncode == 2
    text = result.stderr
    assert "no bot token" in text.lower() and "DISCORD_TOKEN" in text
    assert "no such file" not in text


def without_root_powers() -> dict[str, list[str]]:
    """As root (CI), run the bot without the power to ignore file permissions, so a file or folder it may not
    read or write fails as it does for the container's uid; as another user, permissions apply already."""
    if os.geteuid() != 0:
        return {}
    caps = "-dac_override,-dac_read_search,-fowner"
    return {"prefix": ["setpriv", "--bounding-set", caps, "--inh-caps", caps]}


async def test_an_unreadable_secret_file_names_the_container_uid(tmp_path: Path):
    secret = tmp_path / "discord_token"
    secret.write_text("test-bot-token")
    secret.chmod(0o000)  # a secret file the bot's user may not read
    result = await run_bot(
        "check-config", env={"DISCORD_TOKEN_FILE": str(secret)}, cwd=tmp_path, **without_root_powers()
    )
    assert result.returncode == 2
    line = next(line for line in result.stderr_lines if "DISCORD_TOKEN_FILE" in line)
    assert "permission denied" in line and str(secret) in line
    assert f"uid {os.geteuid()}" in line and f"the container runs as uid {CONTAINER_UID}" in line
    assert "test-bot-token" not in result.stdout + result.stderr


@pytest.mark.sqlite_only("a SQLite file in a folder the bot may not write")
async def test_a_data_folder_the_bot_may_not_write_names_the_container_uid(tmp_path: Path, fake_discord):
    data = tmp_path / "data"
    data.mkdir()
    data.chmod(0o555)  # like a root-owned bind mount seen by uid 10001
    result = await run_bot(
        "run",
        discord_api=fake_discord.base_url,
        env={"DISCORD_TOKEN": "x", "NORTHCA_BOT_DB": str(data / "northca-bot.sqlite3")},
        cwd=tmp_path,
        **without_root_powers(),
    )
    assert result.returncode == 1
    assert len(problems(result)) == 1, result.stderr
    line = problems(result)[0]
    assert str(data) in line and f"the container runs as uid {CONTAINER_UID}" in line
    assert fake_discord.requests == []
