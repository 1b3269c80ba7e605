"""The ER:LC poller against the PRC sandbox: 100 servers on one global key stay inside the limits the sandbox
enforces, fairly; two processes never poll the same server (one lease per shard set; other shards' servers
are not theirs); a restart spreads its first polls."""

from __future__ import annotations

import asyncio
from collections import Counter

import aiohttp
import pytest

from bot.core.sharding import shard_of
from bot.erlc.client import PrcClient
from bot.erlc.sandbox import PrcSandbox, PrcSandboxConfig
from bot.northca.client import NorthcaClient
from bot.northca.sandbox import NorthcaSandbox
from bot.storage import Database
from tests.erlc.conftest import GLOBAL_KEY
from tests.helpers.bot import make_config
from tests.helpers.clock import Clock
from tests.helpers.erlc import game_services, poller_lease
from tests.helpers.ids import ADMIN

pytestmark = pytest.mark.asyncio

FAST = {"poll_fast_seconds": 0.5, "poll_seconds": 0.5, "poll_slow_seconds": 0.5, "first_poll_spread_seconds": 0.5}


@pytest.fixture
def prc_config() -> PrcSandboxConfig:
    # 35 reads a second per global key: the limit the docs show.
    return PrcSandboxConfig(global_keys=[GLOBAL_KEY], rate_limit=35, rate_window_seconds=1)


def server_key(i: int) -> str:
    return f"server-key-{i:04d}-Zq9"


def guild(i: int) -> int:
    return (1_000_000 + i) << 22  # shard = (1_000_000 + i) % shard_count


async def connect_many(services, prc: PrcSandbox, count: int) -> None:
    for i in range(count):
        prc.add_server(server_key(i), name=f"Server {i}")
        prc.join(server_key(i), 10_000 + i, f"Player{i}", team="Police", callsign=f"P-{i}")
        await services.erlc.connect(guild(i), ADMIN, server_key(i))


async def test_100_servers_on_one_global_key_stay_inside_the_sandbox_limits_fairly(
    sandbox: NorthcaSandbox, db_path, db: Database, client: NorthcaClient, prc: PrcSandbox, http: aiohttp.ClientSession
):
    prc_client = PrcClient(http, prc.base_url, global_key=GLOBAL_KEY, timeout=5.0)
    services = game_services(make_config(sandbox, db_path, game=prc, erlc=FAST), db, client, prc_client, Clock())
    await connect_many(services, prc, 100)
    prc.requests.clear()
    polled: Counter[int] = Counter()
    services.erlc_poller.on_outcome = lambda o: polled.update([o.guild_id]) if o.ok else None

    lease = poller_lease(services)
    await lease.start()
    await asyncio.sleep(4.0)
    await lease.stop()

    reads = [r for r in prc.requests if r.path == "/v2/server"]
    # Demand was 200 polls a second; the limit 35: never one 429 from the sandbox, and the limit nearly used.
    assert [r.status for r in reads if r.status == 429] == []
    assert 0.5 * 35 * 4 <= len(reads) <= 35 * 5
    # Fair: every server polled, none more than twice as often as the least polled.
    assert len(polled) == 100
    assert max(polled.values()) <= 2 * min(polled.values()) + 1
    assert services.erlc_poller.stats.errors == {}


async def test_two_processes_with_the_same_shards_never_poll_the_same_server(
    sandbox: NorthcaSandbox, db_path, db: Database, client: NorthcaClient, prc: PrcSandbox, http: aiohttp.ClientSession
):
    other_db = Database(db_path)
    await other_db.open()
    try:
        config = make_config(sandbox, db_path, game=prc, erlc=FAST)
        first = game_services(config, db, client, PrcClient(http, prc.base_url, timeout=5.0))
        second = game_services(config, other_db, client, PrcClient(http, prc.base_url, timeout=5.0))
        await connect_many(first, prc, 5)
        polled: list[Counter[int]] = [Counter(), Counter()]
        first.erlc_poller.on_outcome = lambda o: polled[0].update([o.guild_id])
        second.erlc_poller.on_outcome = lambda o: polled[1].update([o.guild_id])
        leases = [poller_lease(first), poller_lease(second)]
        for i, lease in enumerate(leases):
            lease.holder = f"test-process-{i}"  # two processes (in one test process they would share the id)
        await asyncio.gather(*(lease.start() for lease in leases))
        await asyncio.sleep(2.0)
        held = [lease.held for lease in leases]
        assert sorted(held) == [False, True]
        holder = held.index(True)
        assert len(polled[holder]) == 5 and polled[1 - holder] == Counter()
        # The holder stops (a restart): the other takes over at its next try, and only then polls.
        await leases[holder].stop()
        await leases[1 - holder]._tick()
        assert leases[1 - holder].held
        await asyncio.sleep(1.5)
        assert len(polled[1 - holder]) == 5
        await leases[1 - holder].stop()
    finally:
        await other_db.close()


async def test_processes_on_other_shards_poll_only_their_own_servers(
    sandbox: NorthcaSandbox, db_path, db: Database, client: NorthcaClient, prc: PrcSandbox, http: aiohttp.ClientSession
):
    other_db = Database(db_path)
    await other_db.open()
    try:
        graphs = []
        for shard, database in ((0, db), (1, other_db)):
            config = make_config(
                sandbox, db_path, game=prc, erlc=FAST, discord={"shard_count": 2, "shard_ids": [shard]}
            )
            graphs.append(game_services(config, database, client, PrcClient(http, prc.base_url, timeout=5.0)))
        await connect_many(graphs[0], prc, 6)
        polled: list[set[int]] = [set(), set()]
        for i, g in enumerate(graphs):
            g.erlc_poller.on_outcome = lambda o, i=i: polled[i].add(o.guild_id)
        leases = [poller_lease(g) for g in graphs]
        assert leases[0].name != leases[1].name
        for lease in leases:
            await lease.start()
        await asyncio.sleep(2.0)
        for lease in leases:
            await lease.stop()
        assert polled[0] and polled[1] and not polled[0] & polled[1]
        assert all(shard_of(g, 2) == 0 for g in polled[0]) and all(shard_of(g, 2) == 1 for g in polled[1])
        assert len(polled[0] | polled[1]) == 6
    finally:
        await other_db.close()


async def test_a_restart_spreads_the_first_polls(
    sandbox: NorthcaSandbox, db_path, db: Database, client: NorthcaClient, prc: PrcSandbox, prc_client: PrcClient
):
    spread = {**FAST, "first_poll_spread_seconds": 2.0, "poll_seconds": 60, "poll_fast_seconds": 60}
    services = game_services(make_config(sandbox, db_path, game=prc, erlc=spread), db, client, prc_client)
    await connect_many(services, prc, 20)
    prc.requests.clear()
    loop = asyncio.get_running_loop()
    times: list[float] = []
    services.erlc_poller.on_outcome = lambda o: times.append(loop.time())
    start = loop.time()
    await services.erlc_poller.start()
    await asyncio.sleep(2.5)
    await services.erlc_poller.stop()
    assert len(times) == 20
    # Not all at once: spread over the window, no more than a few in any quarter second.
    offsets = sorted(t - start for t in times)
    assert offsets[-1] - offsets[0] > 1.2
    buckets = Counter(int(o / 0.25) for o in offsets)
    assert max(buckets.values()) <= 6
