"""Settings changed by another process (several processes on one database, docs/scaling.md): every change
writes audit rows, so a cheap periodic look at the recent ones finds the guilds to re-read into this process's
cache. Only runs when the bot is sharded; a single process's cache is always current."""

from __future__ import annotations

import logging

from bot.core.polling import PollingService
from bot.core.settings.records import apply_overrides
from bot.core.settings.service import SettingsService

log = logging.getLogger(__name__)

# Each look reaches this far back before the previous one: clocks of two processes may differ by this much,
# and a change committed just as the previous look ran is not missed.
OVERLAP_MS = 60_000


class SettingsWatcher(PollingService):
    """A background service: re-reads the guilds whose settings another process changed."""

    name = "settings-watch"

    def __init__(self, settings: SettingsService, interval_seconds: float = 2.0) -> None:
        super().__init__(interval_seconds)
        self.settings = settings
        self._looked_ms: int | None = None

    async def run_once(self) -> list[int]:
        """The guilds re-read (those whose stored settings differ from the cached ones)."""
        settings = self.settings
        now = settings.clock()
        since = (self._looked_ms if self._looked_ms is not None else now) - OVERLAP_MS
        self._looked_ms = now
        reread = []
        for guild_id in await settings.store.changed_since(since):
            cached = settings.get(guild_id)
            stored = apply_overrides(settings.defaults, guild_id, await settings.store.load(guild_id), cached.version)
            if stored != cached:
                await settings.reload(guild_id)
                reread.append(guild_id)
        if reread:
            log.info("settings of %d guilds changed by another process: re-read", len(reread))
        return reread
