"""`northca-bot web`: the dashboard alone, in its own process, over the bot's database (the shape for many
servers: the bot's processes run the gateway, this one serves browsers).

It builds the same services as the bot (bot/ops/services.py `build_services`) and starts only what reading and
changing them needs here: the settings (loaded, and kept current with the bot's changes by the settings
watcher). No gateway, no background work of the bot (shift sync, reports, reminders, polling stay in the bot's
processes). What the dashboard changes reaches the bot through the database: each settings change, time edit, void,
leave decision and roster assignment as a notice the bot process takes and publishes on its hub
(bot/core/notices.py), so the shift-log line, the on-leave role and the panels follow at once.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from types import ModuleType

import aiohttp

from bot.core.config import DEFAULT_WEB_PORT, Config
from bot.core.notices import NoticeForwarder
from bot.core.settings.watch import SettingsWatcher
from bot.core.timefmt import now_ms
from bot.northca.client import NorthcaClient
from bot.northca.sandbox import DEFAULT_SANDBOX_KEY
from bot.ops.services import Services, build_services
from bot.storage import Database
from bot.web.dashboard import build_dashboard
from bot.web.dashboard.discord_api import DISCORD_API
from bot.web.server import WebServer

log = logging.getLogger(__name__)


class DashboardProcess:
    """The dashboard's own process: `start()` opens the database and listens; `stop()` undoes it."""

    def __init__(
        self,
        config: Config,
        *,
        discord_api_base: str = DISCORD_API,
        clock: Callable[[], int] = now_ms,
        pages: tuple[ModuleType, ...] | None = None,
    ) -> None:
        self.config = config
        self.pages = pages
        self.discord_api_base = discord_api_base
        self.clock = clock
        section = config.database
        self.db = Database(
            section.target, pool_min=section.pool_min, pool_max=section.pool_max, retry_seconds=section.retry_seconds
        )
        self.session: aiohttp.ClientSession | None = None
        self.services: Services | None = None
        self.server: WebServer | None = None
        self.watcher: SettingsWatcher | None = None

    async def start(self) -> None:
        await self.db.open()
        self.session = aiohttp.ClientSession()
        key = self.config.northca.partner_key
        # Never called here (no shift sync runs in this process); built because the services take it.
        northca = NorthcaClient(
            self.session, self.config.northca.base_url, key.get_secret_value() if key else DEFAULT_SANDBOX_KEY
        )
        self.services = build_services(self.config, self.db, northca, clock=self.clock)
        await self.services.settings.start()
        self.watcher = SettingsWatcher(self.services.settings)
        await self.watcher.start()
        # No Discord front door here: what the dashboard changes is handed to the bot's processes.
        NoticeForwarder(self.services.notices, self.services.events)
        section = self.config.web
        server = WebServer(section.host, section.port if section.port is not None else DEFAULT_WEB_PORT, [])
        _, app = build_dashboard(
            self.config,
            self.db,
            self.services,
            base_url=lambda: server.base_url,
            discord_api_base=self.discord_api_base,
            clock=self.clock,
            pages=self.pages,
        )
        server.mount("/dashboard", app)
        await server.start()
        self.server = server
        log.info("dashboard listening: %s/dashboard/", section.public_base_url or server.base_url)

    @property
    def base_url(self) -> str:
        assert self.server is not None
        return self.server.base_url

    async def stop(self) -> None:
        if self.server is not None:
            await self.server.stop()
            self.server = None
        if self.watcher is not None:
            await self.watcher.stop()
            self.watcher = None
        if self.services is not None:
            # The notices of the last changes written before the database closes.
            await self.services.changes.drain()
            await self.services.settings.stop()
        if self.session is not None:
            await self.session.close()
            self.session = None
        await self.db.close()
