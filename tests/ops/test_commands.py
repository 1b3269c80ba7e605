"""Commands are published at start when the tree changed (hash kept in the database), never on
every start; `northca-bot sync` only publishes, can remove a server's copies, and offline says so in one line."""

from __future__ import annotations

import socket
from pathlib import Path

import pytest

from tests.helpers.ids import GUILD
from tests.ops.botproc import run_bot, write_config

pytestmark = pytest.mark.asyncio


def command_puts(fake_discord, guild_id: int | None = None) -> list:
    suffix = "/commands" if guild_id is None else f"/guilds/{guild_id}/commands"
    return [
        r
        for r in fake_discord.requests
        if r.method == "PUT" and r.path.endswith(suffix) and (guild_id is not None or "/guilds/" not in r.path)
    ]


def published_names(fake_discord, guild_id: int | None = None) -> set[str]:
    return {c["name"] for c in fake_discord.commands.get(guild_id, [])}


async def test_commands_published_at_start_only_when_the_tree_changed(start_bot, fake_discord):
    h = await start_bot(extensions=("cogs.link",))
    assert published_names(fake_discord) == {"link", "unlink"}
    await h.bot.close()

    h = await start_bot(extensions=("cogs.link",))  # same tree: nothing published
    assert len(command_puts(fake_discord)) == 1
    await h.bot.close()

    await start_bot()  # an update added commands: published once more
    assert len(command_puts(fake_discord)) == 2
    assert {"link", "unlink", "shift", "status", "profile"} <= published_names(fake_discord)


async def test_sync_only_publishes_to_a_guild_without_touching_the_database(tmp_path: Path, fake_discord):
    db_path = tmp_path / "bot.sqlite3"
    config = write_config(tmp_path / "config.toml", db_path)
    result = await run_bot("sync", "--config", str(config), "--guild", str(GUILD), discord_api=fake_discord.base_url)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().startswith("Published ") and f"guild {GUILD}" in result.stdout
    assert {"link", "shift", "status", "profile"} <= published_names(fake_discord, GUILD)
    assert not db_path.exists(), "sync migrated the database"
    assert not list(tmp_path.glob("*.sandbox.*")), "sync started the sandbox"


async def test_sync_clear_removes_a_guilds_copies(tmp_path: Path, fake_discord):
    config = write_config(tmp_path / "config.toml", tmp_path / "bot.sqlite3")
    args = ("sync", "--config", str(config), "--guild", str(GUILD))
    assert (await run_bot(*args, discord_api=fake_discord.base_url)).returncode == 0
    assert published_names(fake_discord, GUILD)
    removed = await run_bot(*args, "--clear", discord_api=fake_discord.base_url)
    assert removed.returncode == 0, removed.stderr
    assert fake_discord.commands[GUILD] == []
    assert f"Removed the bot's commands from guild {GUILD}" in removed.stdout


async def test_sync_offline_prints_one_line_without_traceback(tmp_path: Path):
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        port = closed.getsockname()[1]  # bound, never listening: connections are refused
        config = write_config(tmp_path / "config.toml", tmp_path / "bot.sqlite3")
        result = await run_bot("sync", "--config", str(config), discord_api=f"http://127.0.0.1:{port}/api/v10")
    assert result.returncode == 1
    assert len(result.stderr_lines) == 1, result.stderr
    assert result.stderr_lines[0].startswith("Cannot reach Discord") and "Traceback" not in result.stderr
