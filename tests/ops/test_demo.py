"""Demo mode is impossible to miss, and the demo sandbox remembers links across restarts."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from bot.core.config import parse_config
from bot.discord.demo import DEMO_MARK
from tests.helpers.bot import database_section
from tests.helpers.ids import ADMIN_M, GUILD
from tests.ops.botproc import run_bot


def demo_config(db_path: Path, **sandbox: Any):
    return parse_config(
        {
            "discord": {"token": "test-bot-token"},
            "database": database_section(db_path),
            "sandbox": {"auto_approve_after": 0, "mdts": [{"id": "demo-mdt"}], **sandbox},
        },
        env={},
    )


def shows_demo_mark(reply) -> bool:
    footers = [(e.get("footer") or {}).get("text", "") for e in reply.embeds]
    return DEMO_MARK in (reply.content or "") or any(DEMO_MARK in f for f in footers)


async def test_every_answer_in_sandbox_mode_carries_the_demo_mark(start_bot, db_path):
    h = await start_bot(config=demo_config(db_path))
    asked = await (await h.slash("link", member=ADMIN_M, guild_id=GUILD, mdt_id="demo-mdt")).final()
    assert "Link request sent" in asked.content and shows_demo_mark(asked)
    status = await (await h.slash("link", member=ADMIN_M, guild_id=GUILD)).final()
    assert status.embeds and shows_demo_mark(status)
    refused = await (await h.slash("shift", sub="status", member=ADMIN_M, guild_id=GUILD)).final()
    assert shows_demo_mark(refused)


async def test_answers_against_northca_carry_no_demo_mark(start_bot):
    h = await start_bot()
    reply = await (await h.slash("link", member=ADMIN_M, guild_id=GUILD)).final()
    assert not shows_demo_mark(reply)


async def test_demo_sandbox_keeps_links_across_a_restart(start_bot, db_path):
    """On PostgreSQL too: the sandbox's state file sits beside [database] path whatever the engine."""
    config = demo_config(db_path)
    h = await start_bot(config=config)
    await (await h.slash("link", member=ADMIN_M, guild_id=GUILD, mdt_id="demo-mdt")).final()
    first = await (await h.slash("link", member=ADMIN_M, guild_id=GUILD)).final()
    assert {f["name"]: f["value"] for f in first.embeds[0]["fields"]}["Status"] == "✅ Linked"
    await h.bot.close()

    h = await start_bot(config=demo_config(db_path))
    assert_linked_and_confirmed(await (await h.slash("link", member=ADMIN_M, guild_id=GUILD)).final())
    path = Path(config.database.path)
    assert (path.parent / f"{path.stem}.sandbox{path.suffix}").exists()


def assert_linked_and_confirmed(reply) -> None:
    fields = {f["name"]: f["value"] for f in reply.embeds[0]["fields"]}
    assert fields["Status"] == "✅ Linked"
    assert fields["Checked live"] == "Northca confirms the link."


@pytest.mark.postgresql_only("a demo moved from its SQLite file to PostgreSQL with migrate-db")
async def test_a_demo_moved_to_postgresql_keeps_its_link(start_bot, db_path: str, tmp_path: Path):
    sqlite_file = tmp_path / "data" / "northca-bot.sqlite3"
    h = await start_bot(config=demo_config(sqlite_file))
    await (await h.slash("link", member=ADMIN_M, guild_id=GUILD, mdt_id="demo-mdt")).final()
    assert_linked_and_confirmed(await (await h.slash("link", member=ADMIN_M, guild_id=GUILD)).final())
    await h.bot.close()

    moved = await run_bot("migrate-db", "--from", f"sqlite:{sqlite_file}", "--to", db_path)
    assert moved.returncode == 0, moved.stderr
    state_file = sqlite_file.parent / "northca-bot.sandbox.sqlite3"
    assert f"The demo sandbox's state (its links) stays in {state_file}" in moved.stdout

    # The operator adds the URL and leaves [database] path as it was (the documented way).
    on_postgresql = parse_config(
        {
            "discord": {"token": "test-bot-token"},
            "database": {"url": db_path, "path": str(sqlite_file)},
            "sandbox": {"auto_approve_after": 0, "mdts": [{"id": "demo-mdt"}]},
        },
        env={},
    )
    h = await start_bot(config=on_postgresql)
    assert h.bot.db.engine == "postgresql"
    assert_linked_and_confirmed(await (await h.slash("link", member=ADMIN_M, guild_id=GUILD)).final())


def test_demo_mark_keeps_every_message_within_discord_limits():
    from bot.discord.demo import mark_message

    long = mark_message({"content": "x" * 2000}, new=True)
    assert len(long["content"]) <= 2000 and long["content"].endswith(DEMO_MARK)

    full_embed = {"title": "t", "description": "d" * 5990}
    crowded = mark_message({"embeds": [full_embed]}, new=True)
    assert crowded["content"] == DEMO_MARK and "footer" not in crowded["embeds"][0]

    footer = mark_message({"embeds": [{"description": "d", "footer": {"text": "f" * 2048}}]}, new=False)
    text = footer["embeds"][0]["footer"]["text"]
    assert len(text) <= 2048 and text.startswith(DEMO_MARK)

    only_buttons = {"components": [{"type": 1, "components": []}]}
    assert mark_message(only_buttons, new=False) == only_buttons  # an edit of buttons keeps the content it had
