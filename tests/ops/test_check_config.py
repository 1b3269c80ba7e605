"""Issue 12.6: `check-config --online` checks the token with Discord, the partner key with Northca and the
database path, one line each; syntax-only checking passed a placeholder token and an unusable path."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.northca.sandbox import NorthcaSandbox
from tests.helpers import KEY
from tests.ops.botproc import run_bot, write_config

pytestmark = pytest.mark.asyncio


def northca(sandbox: NorthcaSandbox, key: str) -> dict[str, object]:
    return {"base_url": sandbox.base_url, "partner_key": key, "timeout_seconds": 5.0}


async def test_check_config_online_passes_a_working_setup(tmp_path: Path, sandbox, fake_discord):
    db_path = tmp_path / "data" / "bot.sqlite3"
    config = write_config(tmp_path / "config.toml", db_path, northca=northca(sandbox, KEY))
    result = await run_bot("check-config", "--online", "--config", str(config), discord_api=fake_discord.base_url)
    assert result.returncode == 0, result.stdout + result.stderr
    lines = result.stdout.splitlines()
    assert [line.split(":")[0] for line in lines[1:]] == ["Discord", "Northca", "Database"]
    assert all(": OK" in line for line in lines[1:]), lines


async def test_check_config_online_names_refused_token_refused_key_and_unusable_database(
    tmp_path: Path, sandbox, fake_discord
):
    fake_discord.fail_next(r"/users/@me", 401)
    blocker = tmp_path / "data"
    blocker.write_text("a file where the database directory should be")
    config = write_config(tmp_path / "config.toml", blocker / "bot.sqlite3", northca=northca(sandbox, "wrong-key"))
    result = await run_bot("check-config", "--online", "--config", str(config), discord_api=fake_discord.base_url)
    assert result.returncode == 1
    lines = result.stdout.splitlines()[1:]
    assert len(lines) == 3 and "Traceback" not in result.stderr
    assert lines[0].startswith("Discord: the bot token was refused")
    assert lines[1].startswith("Northca: the partner key was refused")
    assert lines[2].startswith("Database: Cannot create the database directory") and str(blocker) in lines[2]
    assert "wrong-key" not in result.stdout + result.stderr
