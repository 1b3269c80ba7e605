"""Self-tests for the fake gateway (tests/harness/gateway.py: GatewayDiscord) against real discord.py
AutoShardedClients that connect to it the way they connect to Discord: one socket per shard, each told only
about its own guilds, interactions sent to the socket of the guild's shard, a reconnecting or restarted shard's
new socket replacing the old one."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import discord
import pytest

from tests.harness import GatewayDiscord, builders

pytestmark = pytest.mark.asyncio

SHARDS = 2
GUILDS = [((n + 1) << 22) + 5 for n in range(4)]  # shards 1, 0, 1, 0
OWNER = 720000000000000001
OFFICER = 720000000000000002
WAIT = 30.0  # seconds: a deadline on a slow shared machine, never a pause


class ShardClient(discord.AutoShardedClient):
    """A real discord.py client over some shards that answers every interaction with its name."""

    def __init__(self, name: str, shard_ids: list[int] | None) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        intents.members = True  # the fake answers the member requests (op 8) chunking at start makes
        # (guild_ready_timeout: how long discord.py waits for more GUILD_CREATEs before it calls itself ready)
        super().__init__(intents=intents, shard_count=SHARDS, shard_ids=shard_ids, guild_ready_timeout=0.2)
        self.name = name

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        return None  # no 5 s pause between two identifies (Discord's rate limit): nothing to protect on loopback

    async def on_interaction(self, interaction: discord.Interaction[discord.Client]) -> None:
        await interaction.response.send_message(f"{self.name}", ephemeral=True)


def shard_of(guild_id: int) -> int:
    return (guild_id >> 22) % SHARDS


def guilds_of(shard: int) -> list[int]:
    return [g for g in GUILDS if shard_of(g) == shard]


def channel_of(guild_id: int) -> int:
    return guild_id + 1


def interaction(fake: GatewayDiscord, guild_id: int) -> dict[str, object]:
    return builders.slash_payload(
        "ping", app_id=fake.application_id, guild_id=guild_id, channel_id=channel_of(guild_id),
        member=builders.member(OFFICER, permissions=builders.SEND_MESSAGES),
    )  # fmt: skip


@pytest.fixture
async def fake() -> AsyncIterator[GatewayDiscord]:
    async with GatewayDiscord() as gateway:
        for guild_id in GUILDS:
            reports = builders.channel(channel_of(guild_id), guild_id=guild_id, name="reports")
            gateway.add_guild(guild_id, owner_id=OWNER, name=f"Guild {guild_id}", channels=[reports])
        yield gateway


@asynccontextmanager
async def running(client: ShardClient) -> AsyncIterator[ShardClient]:
    await client.login("fake-token")
    task = asyncio.create_task(client.connect())
    try:
        async with asyncio.timeout(WAIT):
            await client.wait_until_ready()
        yield client
    finally:
        await client.close()
        await asyncio.wait_for(task, WAIT)


def answer(fake: GatewayDiscord, interaction_id: int) -> str:
    [callback] = fake.callbacks(interaction_id)
    return str(callback.json["data"]["content"])


async def test_each_shard_socket_announces_only_the_guilds_of_its_shard(fake: GatewayDiscord) -> None:
    async with running(ShardClient("both", None)) as client:
        await fake.wait_ready(range(SHARDS), WAIT)
        assert sorted(s.shard_id for s in fake.identified) == [0, 1]  # one socket per shard
        for shard in range(SHARDS):
            assert fake.shards[shard].guild_ids == guilds_of(shard)
        # The client saw every guild, each on the shard the formula puts it on.
        assert sorted(g.id for g in client.guilds) == sorted(GUILDS)
        assert all(g.shard_id == shard_of(g.id) for g in client.guilds)
        assert all(g.get_channel(channel_of(g.id)) is not None for g in client.guilds)
        # (the member requests of chunking were answered: the client became ready with members intent on)


async def test_interaction_reaches_the_client_running_its_guilds_shard(fake: GatewayDiscord) -> None:
    async with running(ShardClient("A", [0])) as a, running(ShardClient("B", [1])) as b:
        await fake.wait_ready(range(SHARDS), WAIT)
        assert sorted(g.id for g in a.guilds) == guilds_of(0)  # each process knows only its own shard's guilds
        assert sorted(g.id for g in b.guilds) == guilds_of(1)
        sent = {guild_id: await fake.send_interaction(interaction(fake, guild_id), WAIT) for guild_id in GUILDS}
        await fake.wait_answered(sent.values(), WAIT)
    for guild_id, interaction_id in sent.items():
        assert answer(fake, interaction_id) == ("A" if shard_of(guild_id) == 0 else "B")
        assert fake.sent_on[interaction_id].shard_id == shard_of(guild_id)
        assert interaction_id in fake.answered


async def test_reconnecting_shard_replaces_its_socket_and_gets_the_next_interactions(fake: GatewayDiscord) -> None:
    async with running(ShardClient("both", None)):
        await fake.wait_ready(range(SHARDS), WAIT)
        shard0, before = fake.shards[0], len(fake.identified)
        old = await fake.reconnect(1)
        # discord.py tries RESUME, is refused (INVALID_SESSION), identifies on a new socket.
        await fake.wait_ready([1], WAIT, after=before)
        new = fake.shards[1]
        assert new is not old and new.number > old.number
        assert old.ws.closed
        assert fake.shards[0] is shard0  # the other shard's socket is untouched
        interaction_id = await fake.send_interaction(interaction(fake, guilds_of(1)[0]), WAIT)
        await fake.wait_answered([interaction_id], WAIT)
        assert fake.sent_on[interaction_id] is new
        assert len(fake.callbacks(interaction_id)) == 1


async def test_interaction_for_a_stopped_shard_waits_for_its_restarted_process(fake: GatewayDiscord) -> None:
    async with running(ShardClient("A", [0])):
        async with running(ShardClient("B", [1])):
            await fake.wait_ready(range(SHARDS), WAIT)
            old = fake.shards[1]
        await fake.wait_gone([1], WAIT)  # B is gone: its shard has no live socket
        before = len(fake.identified)
        # Sent while no process runs shard 1: held until one identifies for it, not dropped.
        pending = asyncio.create_task(fake.send_interaction(interaction(fake, guilds_of(1)[0]), WAIT))
        async with running(ShardClient("B2", [1])):
            interaction_id = await pending
            await fake.wait_answered([interaction_id], WAIT)
            assert fake.shards[1] is not old and fake.shards[1].number > before
            assert fake.sent_on[interaction_id] is fake.shards[1]
    assert answer(fake, interaction_id) == "B2"
