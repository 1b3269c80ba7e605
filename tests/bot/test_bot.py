"""The bot as a newcomer meets it: no partner key means the local sandbox, clearly said."""

from __future__ import annotations

import asyncio
import json
import sys
import urllib.request

import pytest

from bot.core.config import parse_config
from tests.harness import builders
from tests.helpers.bot import database_section
from tests.helpers.ids import ADMIN, ADMIN_PERMS, GUILD

pytestmark = pytest.mark.asyncio


async def test_without_partner_key_the_bot_uses_the_local_sandbox(start_bot, db_path, caplog):
    config = parse_config(
        {
            "discord": {"token": "test-bot-token"},
            "database": database_section(db_path),
            "sandbox": {"auto_approve_after": 0, "mdts": [{"id": "demo-mdt"}]},
        },
        env={},
    )
    assert config.uses_sandbox
    h = await start_bot(config=config)
    assert h.bot.sandbox is not None and h.bot.northca.base_url.startswith("http://127.0.0.1:")
    assert any("LOCAL Northca sandbox" in r.getMessage() for r in caplog.records)

    admin = builders.member(ADMIN, permissions=ADMIN_PERMS, username="admin")
    first = await h.slash("link", member=admin, guild_id=GUILD, mdt_id="demo-mdt")
    assert "Link request sent" in (await first.final()).content
    # The demo sandbox approves by itself; the live check sees it.
    status = await (await h.slash("link", member=admin, guild_id=GUILD)).final()
    fields = {f["name"]: f["value"] for f in status.embeds[0]["fields"]}
    assert fields["Status"] == "✅ Linked"


async def test_sandbox_command_serves_the_api():
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "sandbox",
        "--port",
        "0",
        "--mdt",
        "m1:42",
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.DEVNULL,
    )
    try:
        line = (await asyncio.wait_for(proc.stdout.readline(), 30)).decode()
        base_url = line.split()[3]
        assert base_url.startswith("http://127.0.0.1:") and base_url.endswith("/v1")
        state_url = base_url.removesuffix("/v1") + "/_sandbox/state"
        body = await asyncio.to_thread(lambda: urllib.request.urlopen(state_url, timeout=5).read())
        state = json.loads(body)["data"]
        assert state["mdts"] == [{"id": "m1", "owner_discord_id": "42", "name": None}]
    finally:
        proc.terminate()
        await proc.wait()
