"""Shared fixtures: a real sandbox on loopback, a real aiohttp session, a real SQLite file,
and the real bot driven through the offline Discord harness (builders live in tests/helpers/).

Every request that reaches a sandbox in any test is validated against the
project's copy of the spec when the test ends.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import aiohttp
import pytest
from hypothesis import settings

from bot.core.shifts import ShiftStore
from bot.northca.client import NorthcaClient
from bot.northca.sandbox import NorthcaSandbox, SandboxConfig, SandboxMdt
from bot.storage import Database
from tests.harness import FakeDiscord
from tests.helpers.bot import BotStarter, link_guild_in
from tests.helpers.ids import KEY, MDT, OWNER
from tests.postgres import PostgresServer, start_server, wants_postgresql
from tests.spec import validate_request

# Property tests (hypothesis): reproducible (derandomized, no example database written) and modest, since CI runs
# the suite twice on two cores; a test needing fewer examples (each one a bot interaction) says so itself.
settings.register_profile("northca", max_examples=200, deadline=None, derandomize=True, database=None)
settings.load_profile("northca")


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


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "sqlite_only(reason): tests a property of the SQLite file itself; left out of the PostgreSQL pass"
    )
    config.addinivalue_line(
        "markers", "postgresql_only(reason): needs several processes on one server; runs in the PostgreSQL pass only"
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On the PostgreSQL pass, the SQLite-only tests are deselected, on the SQLite pass the PostgreSQL-only ones
    (each names its reason)."""
    other = "sqlite_only" if wants_postgresql() else "postgresql_only"
    kept = [item for item in items if item.get_closest_marker(other) is None]
    config.hook.pytest_deselected(items=[item for item in items if item not in kept])
    items[:] = kept


@pytest.fixture(scope="session")
def postgres() -> Iterator[PostgresServer]:
    """The PostgreSQL pass's server, started once per session (tests/postgres.py)."""
    yield from start_server()


@pytest.fixture
async def db_path(tmp_path: Path, request: pytest.FixtureRequest) -> Path | str:
    """Where the bot's database lives: a SQLite file, or (NORTHCA_TEST_DB=postgresql) the URL of a fresh
    PostgreSQL database of this test's own."""
    if not wants_postgresql():
        return tmp_path / "bot.sqlite3"
    server: PostgresServer = request.getfixturevalue("postgres")
    return await server.fresh_database()


@pytest.fixture
async def db(db_path: Path) -> AsyncIterator[Database]:
    """The bot's database, opened (migrated) on a real SQLite file (or PostgreSQL), for tests without Discord."""
    database = Database(db_path)
    await database.open()
    yield database
    await database.close()


@pytest.fixture
async def linked(db: Database, sandbox: NorthcaSandbox) -> None:
    """GUILD linked to MDT, approved, in `db` and on the sandbox."""
    await link_guild_in(db, sandbox)


# --- the real bot, driven through the offline Discord harness -----------------


@pytest.fixture
async def fake_discord() -> AsyncIterator[FakeDiscord]:
    async with FakeDiscord() as fake:
        yield fake


@pytest.fixture
async def start_bot(sandbox: NorthcaSandbox, fake_discord: FakeDiscord, db_path: Path) -> AsyncIterator[BotStarter]:
    """Start the real NorthcaBot against the fake Discord and the sandbox; returns a Harness (tests/helpers/bot.py).

    Call it again after `await harness.bot.close()` to simulate a restart on the same database.
    """
    starter = BotStarter(sandbox, fake_discord, db_path)
    yield starter
    await starter.close_all()


@pytest.fixture
async def processes(db_path: Path, db: Database) -> AsyncIterator[list[ShiftStore]]:
    others = [Database(db_path) for _ in range(4)]
    for other in others:
        await other.open()
    yield [ShiftStore(d) for d in (db, *others)]
    for other in others:
        await other.close()
