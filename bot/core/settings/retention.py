"""The retention purge (a background service): the data of a guild the bot left more than [settings]
retention_days ago is deleted.

Scheduled work: with several processes on one database it runs in one process per shard set (under the
scheduler lease, bot/ops/services.py) and only for the guilds of those shards, so each guild is purged once."""

from __future__ import annotations

import logging

from bot.core.polling import PollingService
from bot.core.settings.service import SettingsService
from bot.core.sharding import ShardSet

log = logging.getLogger(__name__)


class RetentionPurge(PollingService):
    name = "settings-retention"

    def __init__(self, settings: SettingsService, shards: ShardSet | None, interval_seconds: float) -> None:
        super().__init__(interval_seconds)
        self.settings = settings
        self.shards = shards

    async def run_once(self) -> list[int]:
        """The guilds purged."""
        return await self.settings.purge_expired(self.shards)
