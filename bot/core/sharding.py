"""Which guilds are this process's: those on its own Discord shards (docs/scaling.md).

Several processes on one database each run some shards; work for a guild that needs its members, roles or
channels in the cache (the shift log, the On Duty role, the on-leave role) must run in the process whose
shards carry that guild. `ShardSet` names that set; None everywhere means "every guild" (unsharded, or one
process running every shard)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.config import DiscordConfig

# Discord: shard = (guild_id >> 22) % shard_count; a snowflake's low 22 bits are not part of it.
SNOWFLAKE_SHARD_SHIFT = 22


def shard_of(guild_id: int, shard_count: int) -> int:
    """The shard Discord sends a guild's events on."""
    return (guild_id >> SNOWFLAKE_SHARD_SHIFT) % shard_count


@dataclass(frozen=True)
class ShardSet:
    """Some of `count` shards: the guilds this process serves."""

    count: int
    ids: frozenset[int]

    @classmethod
    def of(cls, section: DiscordConfig) -> ShardSet | None:
        """This process's shards from [discord]; None when it runs every shard (every guild is its own)."""
        count, ids = section.shard_count, section.shard_ids
        if count is None or ids is None or set(ids) >= set(range(count)):
            return None
        return cls(count, frozenset(ids))

    def owns(self, guild_id: int) -> bool:
        return shard_of(guild_id, self.count) in self.ids


def owns(shards: ShardSet | None, guild_id: int) -> bool:
    """Whether the guild is this process's (always, with no shard set)."""
    return shards is None or shards.owns(guild_id)
