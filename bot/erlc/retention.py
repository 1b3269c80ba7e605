"""The ER:LC presence history kept only as long as each server's `erlc.presence_days` says: scheduled work,
run under the scheduler lease for this process's shards (bot/ops/services.py), on the injected clock."""

from __future__ import annotations

import logging

from bot.core.polling import PollingService
from bot.core.sharding import ShardSet
from bot.erlc.service import ErlcService

log = logging.getLogger(__name__)


class PresencePrune(PollingService):
    name = "erlc-presence-prune"

    def __init__(self, service: ErlcService, shards: ShardSet | None, interval_seconds: float) -> None:
        super().__init__(interval_seconds)
        self.service = service
        self.shards = shards

    async def run_once(self) -> int:
        pruned = await self.service.prune(self.shards)
        if pruned:
            log.info("ER:LC presence history: %d rows past their servers' retention deleted", pruned)
        return pruned
