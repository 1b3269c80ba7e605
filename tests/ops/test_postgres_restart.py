"""A PostgreSQL restart (maintenance, a failover) under a running bot: a few seconds of "try again" at most, no
work lost (the shift and dispatch outboxes resume), /health says the database is down meanwhile, then the bot
carries on.

The server is the test's own (tests/postgres.py), so stopping it disturbs no other test."""

from __future__ import annotations

import asyncio
import json
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from bot.storage import DatabaseUnavailable
from bot.wording import error_text
from tests.helpers.bot import make_config
from tests.helpers.dispatch import dispatch_ready
from tests.helpers.ids import GUILD, MDT, OFFICER, OFFICER_M, OTHER, OTHER_M
from tests.helpers.waiting import settled, until
from tests.postgres import PostgresServer, start_server

pytestmark = [
    pytest.mark.asyncio,
    pytest.mark.postgresql_only("stops and starts a PostgreSQL server of its own under the running bot"),
]

TRY_AGAIN = error_text(DatabaseUnavailable())


@pytest.fixture
def own_postgres() -> Iterator[PostgresServer]:
    yield from start_server()


async def health(url: str) -> dict[str, Any]:
    def fetch() -> dict[str, Any]:
        try:
            with urllib.request.urlopen(url, timeout=15) as resp:
                return dict(json.loads(resp.read()))
        except urllib.error.HTTPError as err:  # 503: unhealthy (the offline harness has no gateway, always)
            return dict(json.loads(err.read()))

    return await asyncio.to_thread(fetch)


async def test_postgresql_restart_under_a_running_bot(start_bot, sandbox, own_postgres):
    url = await own_postgres.fresh_database()
    config = make_config(sandbox, url, shifts={"sync_interval_seconds": 0.05}, health={"port": 0})
    h = await start_bot(config=config)
    assert h.bot.db.path == url and h.bot.health is not None and h.bot.health.url
    await dispatch_ready(h, sandbox, {OFFICER: "ADAM-12"})  # linked, OFFICER on duty with a callsign

    # Before: the database is up. Northca is down: a panic waits in the dispatch outbox, and a shift that ends
    # waits in the shift outbox.
    before = await health(h.bot.health.url)
    assert before["database_writable"] is True and not any("database" in p for p in before["problems"])
    sandbox.faults.add("500", times=10_000, path=r"/(panic|shifts)$")
    ask = await h.slash("panic", member=OFFICER_M, guild_id=GUILD, location="Route 68")
    [confirm] = [c for c in ask.custom_ids if c.startswith("northca:dispatch:panic-ok:")]
    await (await h.click(confirm, member=OFFICER_M, message=ask)).final()
    end = await (await h.slash("shift", sub="end", member=OFFICER_M, guild_id=GUILD)).followup()
    assert "MDT: saving… (the MDT is not answering yet; the bot keeps trying)" in end.content, end.content
    assert sandbox.shifts(MDT) == [] and sandbox.panics(MDT) == []
    waiting = await health(h.bot.health.url)
    assert waiting["outbox_depth"] == 2 and waiting["dispatch_outbox_depth"] == 1

    # The server goes down (sessions ended, as for maintenance); Northca comes back meanwhile.
    await asyncio.to_thread(own_postgres.stop)
    sandbox.faults.clear()
    down = await health(h.bot.health.url)
    assert down["database_writable"] is False
    assert any(p.startswith("database down") for p in down["problems"]), down["problems"]

    # A command during the outage: a clear "try again", not the generic error.
    # (The database is retried for up to `retry_seconds` first: past 1.5 s the answer is "thinking…", then this.)
    asked = await h.slash("shift", sub="start", member=OTHER_M, guild_id=GUILD)
    assert asked.ephemeral, asked
    refused = await asked.final()
    assert refused.content == TRY_AGAIN, refused.content

    # The server is back: health says so, and the bot carries on without a restart of its own.
    await asyncio.to_thread(own_postgres.start)
    await until(lambda: _database_up(h.bot.health.url), 20, "health to say the database is up again")

    again = await h.slash("shift", sub="start", member=OTHER_M, guild_id=GUILD)
    assert "on duty" in again.content.lower(), again.content
    ended = await (await h.slash("shift", sub="end", member=OTHER_M, guild_id=GUILD)).followup()
    assert ended.content.endswith("MDT: ✓ saved"), ended.content

    # No work lost: the shift and the panic that waited in the outboxes through the outage reach Northca, once.
    rows = await h.bot.db.fetchall("SELECT id, member_id FROM shifts ORDER BY started_ms")
    assert sorted(int(r["member_id"]) for r in rows) == sorted([OFFICER, OTHER])
    for row in rows:
        assert (await settled(h.bot.shifts, row["id"], timeout=20)).synced
    assert sorted(s["id"] for s in sandbox.shifts(MDT)) == sorted(r["id"] for r in rows)
    await until(lambda: len(sandbox.panics(MDT)) == 1, 20, "the panic to reach Northca")
    after = await health(h.bot.health.url)
    assert after["database_writable"] is True and after["outbox_depth"] == 0


async def _database_up(url: str) -> bool:
    return bool((await health(url))["database_writable"])
