"""`check-config --online` checks the token with Discord, the partner key with Northca and the
database path, one line each; syntax-only checking passed a placeholder token and an unusable path."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.core.settings.store import SettingChange, SettingsStore
from bot.northca.sandbox import NorthcaSandbox
from bot.storage import Database
from tests.harness import builders
from tests.helpers.ids import KEY
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
    assert [line.split(":")[0] for line in lines[1:]] == ["Discord", "Northca", "Database", "Responders"]
    assert all(": OK" in line for line in lines[1:4]), lines
    # The invite link, with what panic alerts need of the responder role (Mention Everyone).
    assert "invite it with https://discord.com/oauth2/authorize?client_id=" in lines[1]
    assert "mentionable" in lines[1] and "Mention Everyone" in lines[1]
    assert lines[4].startswith("Responders: no server has set a responder role yet")


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


PINGED, SILENT = 930000000000000001, 930000000000000002  # two servers, each with a responder role
MENTION_EVERYONE = 1 << 17


async def test_check_config_online_names_a_server_whose_responder_role_cannot_be_pinged(
    tmp_path: Path, sandbox, fake_discord
):
    db_path = tmp_path / "bot.sqlite3"
    db = Database(db_path)
    await db.open()
    for guild in (PINGED, SILENT):
        await SettingsStore(db).apply(
            guild, 1, 0, [SettingChange("role.responder", None, guild + 10, False)], seen_mark=0
        )
    await db.close()
    bot_id = fake_discord.bot_user_id
    # PINGED: the role is not mentionable, but the bot's role has Mention Everyone. SILENT: neither.
    servers = {
        PINGED: ([builders.role(PINGED + 10, "Responders", mentionable=False)], MENTION_EVERYONE),
        SILENT: ([builders.role(SILENT + 10, "Firefighters", mentionable=False)], 0),
    }

    def roles(rec, match):
        listed, bot_permissions = servers[int(match["gid"])]
        everyone = builders.role(int(match["gid"]), "@everyone", position=0)
        return 200, [everyone, *listed, builders.role(7, "Bot", permissions=bot_permissions)]

    fake_discord.route("GET", r"^/guilds/(?P<gid>\d+)/roles$", roles)
    fake_discord.route("GET", r"^/guilds/(?P<gid>\d+)/members/(?P<uid>\d+)$", lambda rec, m: (
        200, builders.member(bot_id, roles=[7], bot=True)
    ))  # fmt: skip
    config = write_config(tmp_path / "config.toml", db_path, northca=northca(sandbox, KEY))
    result = await run_bot("check-config", "--online", "--config", str(config), discord_api=fake_discord.base_url)
    assert result.returncode == 1, result.stdout
    responders = result.stdout.splitlines()[-1]
    assert responders.startswith(
        f"Responders: server {SILENT}: panic alerts will not ping the responder role @Firefighters"
    )
    assert str(PINGED) not in responders
    assert "make that role mentionable" in responders and "Mention Everyone" in responders
