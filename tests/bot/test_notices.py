"""The admin changes made in the dashboard's own process (`northca-bot web`) reach the bot's processes through
`process_notices` (bot/core/notices.py): each published on the hub of the one bot process whose shards carry the
server, as the same event the dashboard's hub published (re-read from the database), once.

Each "process" is a whole service graph (bot/ops/services.py `build_services`) with its own Database connection
to one database: the dashboard's (unsharded, the forwarder installed, as `DashboardProcess` does) and two bot
processes of two shards, one each."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import aiohttp
import pytest

from bot.core.audit import acting_from
from bot.core.duty.records import DutyAdjusted
from bot.core.notices import NoticeForwarder
from bot.core.rosters.records import TemplateDraft
from bot.core.sharding import shard_of
from bot.northca.client import NorthcaClient
from bot.northca.sandbox import NorthcaSandbox
from bot.ops.services import Services, build_services
from bot.storage import Database
from tests.helpers.bot import make_config
from tests.helpers.clock import Clock
from tests.helpers.ids import ADMIN, GUILD, KEY, OFFICER, SUPERVISOR

if TYPE_CHECKING:
    from bot.core.changes import AdminChange

SHARDS = 2
GUILD_ON_SHARD_0 = GUILD + (1 << 22)  # GUILD is on shard 1
WED = datetime(2025, 1, 15, 10, tzinfo=UTC)
HOUR_MS = 3_600_000


@dataclass
class Graph:
    services: Services
    published: list[AdminChange] = field(default_factory=list)


@dataclass
class Processes:
    dashboard: Graph
    shard_0: Graph
    shard_1: Graph


GraphMaker = Callable[[dict[str, object]], Awaitable[Graph]]


@pytest.fixture
async def make_graph(
    db_path: Path | str, db: Database, sandbox: NorthcaSandbox, http: aiohttp.ClientSession
) -> AsyncIterator[GraphMaker]:
    """A process's service graph with this [discord] section; the first on `db`, each other on its own connection."""
    clock = Clock(WED)
    opened: list[Database] = []
    made: list[Graph] = []

    async def make(discord: dict[str, object]) -> Graph:
        database = db if not made else Database(db_path)
        if made:
            await database.open()
            opened.append(database)
        config = make_config(sandbox, db_path, discord=discord)
        assert sandbox.base_url
        northca = NorthcaClient(http, sandbox.base_url, KEY, timeout=2.0, deadline=6.0, backoff_base=0.02)
        graph = Graph(build_services(config, database, northca, clock=clock))
        graph.services.events.changes.subscribe(recorder(graph.published))
        await graph.services.settings.load()
        made.append(graph)
        return graph

    try:
        yield make
    finally:
        for graph in made:
            await graph.services.changes.drain()
        for database in opened:
            await database.close()


async def dashboard_graph(make_graph: GraphMaker) -> Graph:
    """The dashboard's own process: unsharded, its hub's changes forwarded (as `DashboardProcess` does)."""
    graph = await make_graph({})
    NoticeForwarder(graph.services.notices, graph.services.events)
    return graph


@pytest.fixture
async def processes(make_graph: GraphMaker) -> Processes:
    assert shard_of(GUILD, SHARDS) == 1 and shard_of(GUILD_ON_SHARD_0, SHARDS) == 0
    web = await dashboard_graph(make_graph)
    shard_0 = await make_graph({"shard_count": SHARDS, "shard_ids": [0]})
    shard_1 = await make_graph({"shard_count": SHARDS, "shard_ids": [1]})
    return Processes(web, shard_0, shard_1)


def recorder(into: list[AdminChange]) -> Callable[[AdminChange], Awaitable[None]]:
    async def record(event: AdminChange) -> None:
        into.append(event)

    return record


async def relayed(graph: Graph) -> int:
    """One round of the graph's notice relay, its hub's deliveries awaited."""
    taken = await graph.services.notice_relay.run_once()
    await graph.services.changes.drain()
    return taken


async def test_each_admin_change_of_the_dashboard_is_published_once_by_the_process_of_its_server(
    processes: Processes,
) -> None:
    web = processes.dashboard.services
    leave = await web.leave.request(GUILD_ON_SHARD_0, OFFICER, "today", "2025-01-17", "family visit")
    template = await web.rosters.create(GUILD_ON_SHARD_0, ADMIN, TemplateDraft("Morning patrol", None, 8 * 60, 240))
    with acting_from("dashboard"):
        await web.duty.add_time(GUILD_ON_SHARD_0, OFFICER, 2 * HOUR_MS, "court appearance", ADMIN)
        await web.duty.subtract_time(GUILD_ON_SHARD_0, OFFICER, HOUR_MS, "long break", ADMIN, "Patrol")
        await web.leave.decide(GUILD_ON_SHARD_0, leave.id, SUPERVISOR, approve=True)
        await web.rosters.assign(GUILD_ON_SHARD_0, ADMIN, template.id, "member", OFFICER)
        await web.rosters.unassign(GUILD_ON_SHARD_0, ADMIN, template.id, "member", OFFICER)
    await web.changes.drain()
    made = processes.dashboard.published
    assert len(made) == 5 and all(change.source == "dashboard" for change in made)

    # Not this process's server: left for the process of shard 0.
    assert await relayed(processes.shard_1) == 0
    assert processes.shard_1.published == []
    # The same events, in order, re-read from the database.
    assert await relayed(processes.shard_0) == 5
    assert processes.shard_0.published == made
    # Taken once: another round, in either process, publishes nothing again.
    assert await relayed(processes.shard_0) == 0 and await relayed(processes.shard_1) == 0
    assert len(processes.shard_0.published) == 5 and processes.shard_1.published == []


async def test_a_change_made_in_discord_is_not_sent_through_the_database(processes: Processes) -> None:
    """A bot process publishes its own changes on its own hub: nothing for another process to post again."""
    bot = processes.shard_1.services
    await bot.duty.add_time(GUILD, OFFICER, HOUR_MS, "training", ADMIN)
    await bot.changes.drain()
    assert len(processes.shard_1.published) == 1
    assert await relayed(processes.shard_0) == 0 and await relayed(processes.shard_1) == 0
    assert len(processes.shard_1.published) == 1


async def test_two_bot_processes_of_the_same_servers_relaying_at_once_publish_each_change_once(
    make_graph: GraphMaker,
) -> None:
    web = await dashboard_graph(make_graph)
    first, second = await make_graph({}), await make_graph({})
    with acting_from("dashboard"):
        for hours in range(1, 21):
            await web.services.duty.add_time(GUILD, OFFICER, hours * HOUR_MS, f"court day {hours}", ADMIN)
    await web.services.changes.drain()
    taken = await asyncio.gather(*(relayed(graph) for graph in (first, second, first, second)))
    assert sum(taken) == 20
    published = [c for c in first.published + second.published if isinstance(c, DutyAdjusted)]
    assert sorted(published, key=lambda c: c.adjustment.id) == web.published
    assert len(first.published + second.published) == 20
