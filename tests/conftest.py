"""Shared fixtures: a real sandbox on loopback, and a real aiohttp session.

Every request that reaches a sandbox in any test is validated against the
project's copy of the spec when the test ends.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.northca.client import NorthcaClient
from bot.northca.sandbox import NorthcaSandbox, SandboxConfig, SandboxMdt
from tests.spec import validate_request

GUILD = 111111111111111111
OWNER = 222222222222222222
ADMIN = 333333333333333333
MDT = "0c7f6a0c-2c4f-4f44-b16a-2b6b8d8fe2c2"
KEY = "test-partner-key-d0n0tl0g"


def assert_requests_follow_spec(sandbox: NorthcaSandbox) -> None:
    for rec in sandbox.requests:
        validate_request(rec.method, rec.path, rec.query, rec.headers, rec.body)


@pytest.fixture
async def sandbox() -> AsyncIterator[NorthcaSandbox]:
    sb = NorthcaSandbox(
        SandboxConfig(partner_key=KEY, auto_approve_after=None, mdts=[SandboxMdt(id=MDT, owner_discord_id=str(OWNER))])
    )
    await sb.start()
    try:
        yield sb
    finally:
        requests = list(sb.requests)
        await sb.stop()
    for rec in requests:
        validate_request(rec.method, rec.path, rec.query, rec.headers, rec.body)


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


@pytest.fixture
def client(sandbox: NorthcaSandbox, http: aiohttp.ClientSession) -> NorthcaClient:
    assert sandbox.base_url
    return NorthcaClient(http, sandbox.base_url, KEY, timeout=2.0, deadline=6.0, backoff_base=0.02, backoff_max=0.2)


@pytest.fixture(autouse=True)
def _log_everything(caplog: pytest.LogCaptureFixture) -> None:
    # DEBUG everywhere, so the "key never logged" assertions see every line.
    caplog.set_level(logging.DEBUG)


# --- the real bot, driven through the offline Discord harness -----------------

from pathlib import Path  # noqa: E402
from typing import Any, Awaitable, Callable  # noqa: E402

from bot.bot import EXTENSIONS, NorthcaBot  # noqa: E402
from bot.config import Config, parse_config  # noqa: E402
from bot.links import LinkStore  # noqa: E402

MANAGE_GUILD = 1 << 5
ADMINISTRATOR = 1 << 3
# What an ordinary member may do in a channel: view, send, embed, read history, use app commands.
MEMBER_PERMS = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 16) | (1 << 31)
ADMIN_PERMS = MEMBER_PERMS | MANAGE_GUILD


def make_config(sandbox: NorthcaSandbox, db_path: Path, **sections: dict[str, Any]) -> Config:
    data: dict[str, Any] = {
        "discord": {"token": "test-bot-token"},
        "northca": {"base_url": sandbox.base_url, "partner_key": KEY, "timeout_seconds": 2.0, "deadline_seconds": 5.0},
        "database": {"path": str(db_path)},
    }
    for name, values in sections.items():
        data.setdefault(name, {}).update(values)
    return parse_config(data, env={})


@pytest.fixture
def db_path(tmp_path: Path) -> Path:
    return tmp_path / "bot.sqlite3"


@pytest.fixture
async def fake_discord():
    from tests.harness import FakeDiscord

    async with FakeDiscord() as fake:
        yield fake


BotStarter = Callable[..., Awaitable[Any]]


@pytest.fixture
async def start_bot(sandbox: NorthcaSandbox, fake_discord, db_path: Path) -> AsyncIterator[BotStarter]:
    """Start the real NorthcaBot against the fake Discord and the sandbox; returns a Harness.

    Call it again after `await harness.bot.close()` to simulate a restart on the same database.
    """
    from tests.harness import Harness

    bots: list[NorthcaBot] = []

    async def start(config: Config | None = None, extensions: tuple[str, ...] = EXTENSIONS, **sections: dict[str, Any]):
        bot = NorthcaBot(config or make_config(sandbox, db_path, **sections), extensions=extensions)
        await bot.__aenter__()
        await bot.login("test-bot-token")
        bots.append(bot)
        harness = Harness(bot, fake_discord)
        harness.add_guild(GUILD, name="Test County RP", owner_id=ADMIN)
        return harness

    yield start
    for bot in bots:
        if not bot.is_closed():
            await bot.close()


async def link_guild(bot: NorthcaBot, sandbox: NorthcaSandbox, guild_id: int = GUILD, mdt_id: str = MDT) -> None:
    """An approved link, as left by /link and the owner's approval (for tests of other commands)."""
    sandbox.link(guild_id, mdt_id)
    store = LinkStore(bot.db)
    await store.save_request(guild_id, mdt_id, "test-request", "approved", OWNER, ADMIN, None)
