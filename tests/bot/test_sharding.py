"""[discord] shard_count / shard_ids: several processes split the shards; each runs its own guilds' scheduled work."""

from __future__ import annotations

import pytest

from bot.core.config import ConfigError, parse_config
from bot.core.sharding import shard_of
from bot.discord.bot import NorthcaBot, ShardedNorthcaBot, make_bot
from bot.ops.services import owned_guilds, scheduler_lease_name


def config_with(discord: str) -> dict[str, object]:
    import tomllib

    return {"discord": {"token": "x", **tomllib.loads(discord)}}


@pytest.mark.parametrize(
    ("discord", "expected"),
    [
        ("shard_ids = [0]", "discord: shard_ids needs shard_count"),
        ("shard_count = 2\nshard_ids = [2]", "discord: shard_ids [2] out of range: ids run from 0 to shard_count - 1"),
        ("shard_count = 2\nshard_ids = []", "discord: shard_ids is empty"),
        ("shard_count = 2\nshard_ids = [1, 1]", "discord: shard_ids lists a shard twice"),
        ("shard_count = 0", "discord.shard_count:"),
    ],
)
def test_bad_shard_settings_are_refused_with_what_to_fix(discord: str, expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(config_with(discord), env={})
    assert expected in str(caught.value)


async def test_sharded_config_runs_an_auto_sharded_bot_on_its_own_shards() -> None:
    plain = make_bot(parse_config(config_with(""), env={}))
    sharded = make_bot(parse_config(config_with("shard_count = 3\nshard_ids = [0, 2]"), env={}))
    assert type(plain) is NorthcaBot
    assert isinstance(sharded, ShardedNorthcaBot)
    assert (sharded.shard_count, sharded.shard_ids) == (3, [0, 2])


def test_each_process_reports_only_for_the_guilds_of_its_shards() -> None:
    guilds = [(n << 22) for n in range(6)]  # shards 0, 1, 2, 0, 1, 2 of 3
    section = parse_config(config_with("shard_count = 3\nshard_ids = [1]"), env={}).discord
    assert [shard_of(g, 3) for g in guilds] == [0, 1, 2, 0, 1, 2]
    assert owned_guilds(lambda: guilds, section)() == [guilds[1], guilds[4]]
    assert scheduler_lease_name(section) == "scheduler:1/3"
    unsharded = parse_config(config_with(""), env={}).discord
    assert owned_guilds(lambda: guilds, unsharded)() == guilds
    assert scheduler_lease_name(unsharded) == "scheduler"
