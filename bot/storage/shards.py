"""The SQL side of bot/core/sharding.py: a condition that keeps a query to the guilds of a shard set."""

from __future__ import annotations

from bot.core.sharding import SNOWFLAKE_SHARD_SHIFT, ShardSet

# Integer division rather than `>>`: the same on both engines for positive 64-bit ids.
_SHARD_DIVISOR = 1 << SNOWFLAKE_SHARD_SHIFT


def shard_expression(column: str, shards: ShardSet) -> str:
    """True for a row whose guild (`column`) is on one of `shards`. Only integers are inlined."""
    ids = ", ".join(str(int(i)) for i in sorted(shards.ids))
    return f"(({column} / {_SHARD_DIVISOR}) % {int(shards.count)} IN ({ids}))"


def shard_condition(column: str, shards: ShardSet | None) -> str:
    """` AND <column's guild is on one of `shards`>`, or "" for every guild."""
    return "" if shards is None else f" AND {shard_expression(column, shards)}"
