"""The bot: owns the database, the one aiohttp session, the Northca client, the
services, and their background tasks; loads the cogs."""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands
from pydantic import SecretStr

from bot.core.activity_reports import ActivityReporter
from bot.core.config import Config
from bot.core.dispatch import DispatchService
from bot.core.duty import DutyService
from bot.core.events import EventHub
from bot.core.foreground import Foreground
from bot.core.leave import LeaveService, LeaveWorker
from bot.core.links import LinkService
from bot.core.polling import Background
from bot.core.profiles import ProfileStore
from bot.core.rosters import RosterService
from bot.core.rosters.leave import ExcusedSource
from bot.core.rosters.reminders import RosterReminderWorker
from bot.core.settings import SettingsService
from bot.core.shifts import ShiftService
from bot.core.shifts.boards import ShiftBoards
from bot.core.timefmt import now_ms
from bot.core.unit_status import StatusService
from bot.discord.app_emojis import AppEmojis
from bot.discord.commands_sync import publish_if_changed
from bot.discord.demo import enable_demo_mark
from bot.discord.interactions import (
    RESTARTING,
    answer_in_time,
    answer_restarting,
    refused_while_shutting_down,
    report_error,
)
from bot.discord.invite import RESPONDER_PING_NOTE, invite_url
from bot.discord.options import check_options
from bot.erlc.client import DEFAULT_BASE_URL as PRC_DEFAULT_BASE_URL
from bot.erlc.client import PrcClient
from bot.erlc.keys import demo_kek
from bot.erlc.sandbox import PrcSandbox
from bot.erlc.sandbox.demo import DEMO_SERVER_KEY, demo_state_path, start_demo_sandbox
from bot.erlc.service import ErlcService, rate_limit_text
from bot.northca.client import NorthcaClient
from bot.northca.sandbox import DEFAULT_SANDBOX_KEY, NorthcaSandbox, SandboxConfig
from bot.ops.health import HealthMonitor, NorthcaSuccessClock
from bot.ops.runtime import settle_heap
from bot.ops.services import Services, build_services
from bot.ops.startup import StartupError, explain_port_error, open_database, sandbox_state_path
from bot.storage import Database

log = logging.getLogger(__name__)

# A duty bot never joins voice: no warning about missing voice libraries.
discord.VoiceClient.warn_nacl = False
discord.VoiceClient.warn_dave = False

__all__ = ["RESTARTING", "NorthcaBot", "NorthcaTree", "ShardedNorthcaBot", "bot_of", "make_bot"]

# cogs.activity after cogs.shift: it adds /shift activity to the /shift group.
EXTENSIONS: tuple[str, ...] = (
    "cogs.link",
    "cogs.profile",
    "cogs.shift",
    "cogs.status",
    "cogs.activity",
    "cogs.leave",
    "cogs.roster",
    "cogs.settings",
    "cogs.dispatch",
    "cogs.erlc",
)


class NorthcaTree(app_commands.CommandTree["NorthcaBot"]):
    async def interaction_check(self, interaction: discord.Interaction[NorthcaBot], /) -> bool:
        """Before every command (and autocomplete): while shutting down, tell the person to retry and start
        nothing; otherwise check every option (within its bounds; every role or channel of this server:
        bot/discord/options.py; a refusal goes to on_error like any other error of a command), then arm the
        answer-in-time
        rule for as long as the command runs (discord.py runs the check and the command in one task). Buttons and
        forms do the same in `guarded` (bot/discord/interactions.py)."""
        if refused_while_shutting_down(interaction):
            await answer_restarting(interaction)
            return False
        check_options(interaction)
        done = answer_in_time(interaction)
        running = asyncio.current_task()
        if running is not None:
            running.add_done_callback(lambda _: done())
        return True

    async def on_error(self, interaction: discord.Interaction[NorthcaBot], error: app_commands.AppCommandError) -> None:
        await report_error(interaction, error)


class NorthcaBot(commands.Bot):
    def __init__(
        self,
        config: Config,
        *,
        extensions: tuple[str, ...] = EXTENSIONS,
        clock: Callable[[], int] = now_ms,
        settle_heap_when_ready: bool = False,
        **options: Any,
    ) -> None:
        intents = discord.Intents.none()
        intents.guilds = True
        # Needed to close the shift of a member who leaves mid-shift (a privileged intent).
        intents.members = True
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            tree_cls=NorthcaTree,
            help_command=None,
            allowed_mentions=discord.AllowedMentions(everyone=False, roles=False, users=True),
            **options,
        )
        self.config = config
        # Epoch ms for scheduled work (activity reports, leave); tests pass one they move.
        self.clock = clock
        # The process's own bot (`northca-bot run`): once ready, the garbage collector is tuned (bot/ops/runtime.py).
        # Not in tests, where many bots share one process and a frozen heap would keep every old bot's cycles.
        self.settle_heap_when_ready = settle_heap_when_ready
        self.extension_names = extensions
        self.db = Database(
            config.database.target,
            pool_min=config.database.pool_min,
            pool_max=config.database.pool_max,
            retry_seconds=config.database.retry_seconds,
        )
        self.session: aiohttp.ClientSession | None = None
        self.sandbox: NorthcaSandbox | None = None
        self.northca: NorthcaClient | None = None
        self.prc: PrcClient | None = None  # the PRC (ER:LC) client, on the same session
        self.prc_sandbox: PrcSandbox | None = None  # demo mode's local PRC
        self._built: Services | None = None  # by setup_hook, through bot.services.build_services
        # Interactions waiting for their first answer, which background work lets go first (bot/core/foreground.py).
        self.foreground = Foreground()
        self._services: list[Background] = []
        self._northca_endpoint: tuple[str, str] | None = None
        self._shutting_down = False
        # True for `northca-bot sync`: log in and build the command tree, nothing else.
        self.publish_only = False
        self.northca_clock: NorthcaSuccessClock | None = None
        self.health: HealthMonitor | None = None
        # The status and duty emojis: application emojis once uploaded at start, Unicode until then.
        self.app_emojis = AppEmojis()

    async def open_local(self) -> None:
        """Open the database and the sandbox port; raises StartupError (one line) on a local problem.
        Called before logging in to Discord, so a local problem never looks like a network one."""
        if self._northca_endpoint is not None:
            return
        await open_database(self.db)
        endpoint = await self._open_northca_endpoint()
        self.northca_clock = NorthcaSuccessClock(endpoint[0])
        section = self.config.health
        self.health = HealthMonitor(
            self.db,
            gateway_connected=lambda: self.is_ready() and not self.is_closed(),
            northca=self.northca_clock,
            host=section.host,
            port=section.port,
            outbox_warn_after=section.outbox_warn_after_seconds,
        )
        try:
            await self.health.listen()
        except OSError as exc:
            raise explain_port_error(
                "The health endpoint",
                "[health] port (or NORTHCA_BOT_HEALTH_PORT)",
                section.host,
                section.port or 0,
                exc,
            ) from None
        self._northca_endpoint = endpoint

    async def start(self, token: str, *, reconnect: bool = True) -> None:
        await self.open_local()
        await super().start(token, reconnect=reconnect)

    async def setup_hook(self) -> None:
        if self.publish_only:
            # `northca-bot sync`: the command tree only; no database, no sandbox, no background work.
            await self._load_commands(self.config.northca.base_url, "unused: sync never calls Northca")
            return
        await self.open_local()
        assert self._northca_endpoint is not None
        base_url, key = self._northca_endpoint
        if self.sandbox is not None:
            enable_demo_mark(self)
        await self._load_commands(base_url, key)
        assert self.health is not None
        self.add_service(self.health)
        for service in self._services:
            await service.start()
        log.info("started: database %s open, %d background services running", self.db.where, len(self._services))
        await publish_if_changed(self.tree, self.db, self.config.discord.dev_guild_id)
        if self.application_id is not None:
            await self.app_emojis.sync(self)
            log.info("invite the bot with: %s (%s)", invite_url(self.application_id), RESPONDER_PING_NOTE)
        if self.settle_heap_when_ready:
            # Start-up's objects (modules, cogs, services) out of the collector's sight before the gateway connects:
            # interactions can arrive before on_ready (discord.py waits up to two seconds for the guilds), and under
            # CPython's default thresholds they would pay full collections over all of start-up (bot/ops/runtime.py).
            settle_heap()

    async def _load_commands(self, base_url: str, key: str) -> None:
        clock = self.northca_clock or NorthcaSuccessClock(base_url)
        self.session = aiohttp.ClientSession(trace_configs=[clock.trace_config()])
        self.northca = NorthcaClient(
            self.session,
            base_url,
            key,
            timeout=self.config.northca.timeout_seconds,
            deadline=self.config.northca.deadline_seconds,
        )
        config = await self._erlc_demo(self.config)
        section = config.erlc
        self.prc = PrcClient(
            self.session,
            section.base_url,
            global_key=section.global_key.get_secret_value() if section.global_key else None,
            timeout=section.timeout_seconds,
            max_answer_bytes=section.max_answer_bytes,
        )
        prc = self.prc
        # The cogs import this module: their ports are imported here, once it is loaded.
        from cogs.ports import discord_ports

        self._built = build_services(
            config,
            self.db,
            self.northca,
            clock=self.clock,
            game=prc,
            game_rate_limits=lambda: rate_limit_text(prc.rate_limits()),
            ports=discord_ports(self),
            foreground=self.foreground,
        )
        self._mount_dashboard(config)
        self._services.extend(self._built.background)
        for name in self.extension_names:
            await self.load_extension(name)

    def _mount_dashboard(self, config: Config) -> None:
        """`[web] enabled`: the dashboard (bot/web/dashboard/) on the bot's web server, over the bot's services, asking
        Discord over REST at the address discord.py uses (a test's fake Discord points both at itself)."""
        web = self.services.web
        if not config.web.enabled or web is None:
            return
        from bot.web.dashboard import build_dashboard

        _, app = build_dashboard(
            config,
            self.db,
            self.services,
            base_url=lambda: web.base_url,
            discord_api_base=discord.http.Route.BASE,
            clock=self.clock,
        )
        web.mount("/dashboard", app)
        log.info("dashboard: %s/dashboard/ once the web server listens", config.web.public_base_url or web.base_url)

    async def _erlc_demo(self, config: Config) -> Config:
        """Demo mode (the Northca sandbox, no partner key) with [erlc] base_url left at PRC's: the local PRC
        sandbox's demo server instead (bot/erlc/sandbox/demo.py), its webhook key, and, when no key-encryption
        key is configured, one kept beside the database (only the sandbox's keys can be connected there)."""
        if self.sandbox is None or config.erlc.base_url != PRC_DEFAULT_BASE_URL:
            return config
        database = config.database.path if not config.database.url else ":memory:"
        state = demo_state_path(database) if database != ":memory:" else ":memory:"
        self.prc_sandbox = await start_demo_sandbox(state)
        assert self.prc_sandbox.base_url is not None
        update: dict[str, object] = {
            "base_url": self.prc_sandbox.base_url,
            "webhook_public_key": self.prc_sandbox.public_key_b64,
        }
        if config.erlc.key_encryption_key is None:
            update["key_encryption_key"] = SecretStr(demo_kek(database))
        log.warning(
            "Demo mode: ER:LC reads the LOCAL PRC sandbox at %s; /erlc connect takes its demo key %r",
            self.prc_sandbox.base_url,
            DEMO_SERVER_KEY,
        )
        return config.model_copy(update={"erlc": config.erlc.model_copy(update=update)})

    async def _open_northca_endpoint(self) -> tuple[str, str]:
        key = self.config.northca.partner_key
        if key is not None:
            return self.config.northca.base_url, key.get_secret_value()
        # No partner key: run against the local sandbox, in-process, on loopback, with the documented
        # sandbox key (loopback only; README shows how to curl it).
        section = self.config.sandbox
        # A file beside [database] path by default, on PostgreSQL too: the sandbox stands for Northca, not for
        # the bot's data, so its state stays where the SQLite demo kept it and a demo moved to PostgreSQL with
        # migrate-db keeps its links (in memory it lost them at every restart).
        default_path = sandbox_state_path(self.config.database.path)
        state_path = section.db_path if section.db_path is not None else default_path
        try:
            if state_path != ":memory:":
                Path(state_path).parent.mkdir(parents=True, exist_ok=True)  # on PostgreSQL nothing made it yet
            self.sandbox = NorthcaSandbox(
                SandboxConfig(
                    partner_key=DEFAULT_SANDBOX_KEY,
                    auto_approve_after=section.auto_approve_after,
                    mdts=section.mdts,
                    db_path=state_path,
                )
            )
        except (sqlite3.Error, OSError) as exc:
            raise StartupError(
                f"The sandbox state file {state_path} cannot be used ({exc}): move it away, "
                'or set [sandbox] db_path to another file (":memory:" forgets links at exit).'
            ) from None
        try:
            base_url = await self.sandbox.start("127.0.0.1", section.port)
        except OSError as exc:
            raise explain_port_error("The sandbox", "[sandbox] port", "127.0.0.1", section.port, exc) from None
        log.warning(
            "No Northca partner key configured: running against the LOCAL Northca sandbox at %s, NOT Northca. "
            "Nothing reaches a real MDT. Seeded MDTs: %s",
            base_url,
            ", ".join(m.id for m in section.mdts) or "none",
        )
        return base_url, DEFAULT_SANDBOX_KEY

    def add_service(self, service: Background) -> None:
        """A further background service: started after loading, stopped on close."""
        self._services.append(service)

    @property
    def shutting_down(self) -> bool:
        return self._shutting_down

    # --- the services (built once, in setup_hook) ---

    @property
    def services(self) -> Services:
        if self._built is None:
            raise RuntimeError("the bot's services are built in setup_hook; it has not run yet")
        return self._built

    @property
    def events(self) -> EventHub:
        return self.services.events

    @property
    def links(self) -> LinkService:
        return self.services.links

    @property
    def profiles(self) -> ProfileStore:
        return self.services.profiles

    @property
    def shifts(self) -> ShiftService:
        return self.services.shifts

    @property
    def duty(self) -> DutyService:
        return self.services.duty

    @property
    def boards(self) -> ShiftBoards:
        return self.services.boards

    @property
    def unit_status(self) -> StatusService:
        """`status` is discord.py's presence."""
        return self.services.unit_status

    @property
    def rosters(self) -> RosterService:
        return self.services.rosters

    @property
    def roster_reminders(self) -> RosterReminderWorker:
        return self.services.roster_reminders

    @property
    def leave(self) -> LeaveService:
        return self.services.leave

    @property
    def leave_worker(self) -> LeaveWorker:
        """The on-leave role's timing (a `/loa` that changes leave runs a round at once)."""
        return self.services.leave_worker

    @property
    def roster_leave(self) -> ExcusedSource:
        """Who is excused by approved leave (roster attendance, activity reports)."""
        return self.services.roster_leave

    @property
    def activity_reports(self) -> ActivityReporter:
        return self.services.activity_reports

    @property
    def settings(self) -> SettingsService:
        """Per-guild settings (cached; `bot.settings.get(guild_id)` costs no database trip)."""
        return self.services.settings

    @property
    def erlc(self) -> ErlcService:
        """The ER:LC private server link (bot/erlc/)."""
        return self.services.erlc

    @property
    def dispatcher(self) -> DispatchService:
        """`dispatch` is discord.py's event dispatch."""
        return self.services.dispatch

    async def close(self) -> None:
        if self._shutting_down:
            return
        self._shutting_down = True
        for service in reversed(self._services):
            try:
                await service.stop()
            except Exception:
                log.exception("stopping %r failed", service)
        if self.health is not None:  # listening since before login, even when the start failed later
            await self.health.stop()
        await super().close()
        if self.session is not None:
            await self.session.close()
        if self.sandbox is not None:
            await self.sandbox.stop()
        if self.prc_sandbox is not None:
            await self.prc_sandbox.stop()
        await self.db.close()

    async def on_ready(self) -> None:
        log.info("logged in as %s (%s), in %d guilds", self.user, getattr(self.user, "id", "?"), len(self.guilds))
        if self.settle_heap_when_ready:
            # Start-up and the guild caches are built: out of the garbage collector's sight (bot/ops/runtime.py).
            settle_heap()


def bot_of(interaction: discord.Interaction[Any]) -> NorthcaBot:
    """The bot behind a component interaction, typed. discord.py types `Item.callback` and
    `DynamicItem.from_custom_id` generically over the client, so a button receives
    `Interaction[Any]`; this bot only ever dispatches to itself."""
    client = interaction.client
    if not isinstance(client, NorthcaBot):
        raise TypeError(f"interaction {interaction.id} was dispatched by {type(client).__name__}, not NorthcaBot")
    return client


class ShardedNorthcaBot(NorthcaBot, commands.AutoShardedBot):
    """The bot over the shards named by [discord] shard_count / shard_ids (AutoShardedBot: one gateway
    connection per shard). Several processes on one database each run their own shards; the work that must
    happen once (shift writes, scheduled work) is coordinated through the database (bot/storage/leases.py)."""


def make_bot(config: Config, **options: Any) -> NorthcaBot:
    """NorthcaBot, or ShardedNorthcaBot when [discord] shard_count is set."""
    section = config.discord
    if section.shard_count is None:
        return NorthcaBot(config, **options)
    return ShardedNorthcaBot(config, shard_count=section.shard_count, shard_ids=section.shard_ids, **options)
