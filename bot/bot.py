"""The bot: owns the database, the one aiohttp session, the Northca client, the
services, and their background tasks; loads the cogs."""

from __future__ import annotations

import logging
import secrets
from typing import Any

import aiohttp
import discord
from discord import app_commands
from discord.ext import commands

from bot.config import Config
from bot.events import EventHub
from bot.interactions import report_error
from bot.links import LinkService
from bot.northca.client import NorthcaClient
from bot.northca.sandbox import NorthcaSandbox, SandboxConfig
from bot.profiles import ProfileStore
from bot.services import BackgroundService, Services, build_services
from bot.shifts import ShiftService
from bot.storage import Database
from bot.unit_status import StatusService

log = logging.getLogger(__name__)

# A duty bot never joins voice: no warning about missing voice libraries.
discord.VoiceClient.warn_nacl = False
discord.VoiceClient.warn_dave = False

EXTENSIONS: tuple[str, ...] = ("cogs.link", "cogs.profile", "cogs.shift", "cogs.status")


class NorthcaTree(app_commands.CommandTree["NorthcaBot"]):
    async def on_error(self, interaction: discord.Interaction[NorthcaBot], error: app_commands.AppCommandError) -> None:
        await report_error(interaction, error)


class NorthcaBot(commands.Bot):
    def __init__(self, config: Config, *, extensions: tuple[str, ...] = EXTENSIONS, **options: Any) -> None:
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
        self.extension_names = extensions
        self.db = Database(config.database.path)
        self.session: aiohttp.ClientSession | None = None
        self.sandbox: NorthcaSandbox | None = None
        self.northca: NorthcaClient | None = None
        self._built: Services | None = None  # by setup_hook, through bot.services.build_services
        self._services: list[BackgroundService] = []

    async def setup_hook(self) -> None:
        await self.db.open()
        self.session = aiohttp.ClientSession()
        base_url, key = await self._northca_endpoint()
        self.northca = NorthcaClient(
            self.session, base_url, key,
            timeout=self.config.northca.timeout_seconds, deadline=self.config.northca.deadline_seconds,
        )
        self._built = build_services(self.config, self.db, self.northca)
        self._services.extend(self._built.background)
        for name in self.extension_names:
            await self.load_extension(name)
        for service in self._services:
            await service.start()
        if self.config.discord.dev_guild_id:
            guild = discord.Object(self.config.discord.dev_guild_id)
            self.tree.copy_global_to(guild=guild)
            synced = await self.tree.sync(guild=guild)
            log.info("synced %d commands to the dev guild %s", len(synced), guild.id)

    async def _northca_endpoint(self) -> tuple[str, str]:
        key = self.config.northca.partner_key
        if key is not None:
            return self.config.northca.base_url, key.get_secret_value()
        # No partner key: run against the local sandbox, in-process, on loopback.
        sandbox_key = secrets.token_urlsafe(24)
        section = self.config.sandbox
        self.sandbox = NorthcaSandbox(
            SandboxConfig(partner_key=sandbox_key, auto_approve_after=section.auto_approve_after, mdts=section.mdts, db_path=section.db_path)
        )
        base_url = await self.sandbox.start("127.0.0.1", section.port)
        log.warning(
            "No Northca partner key configured: running against the LOCAL Northca sandbox at %s, NOT Northca. "
            "Nothing reaches a real MDT. Seeded MDTs: %s",
            base_url, ", ".join(m.id for m in section.mdts) or "none",
        )
        return base_url, sandbox_key

    def add_service(self, service: BackgroundService) -> None:
        """A further background service: started after loading, stopped on close."""
        self._services.append(service)

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
    def unit_status(self) -> StatusService:
        """`status` is discord.py's presence."""
        return self.services.unit_status

    async def close(self) -> None:
        for service in reversed(self._services):
            try:
                await service.stop()
            except Exception:  # noqa: BLE001 - one failing service must not keep the rest open
                log.exception("stopping %r failed", service)
        await super().close()
        if self.session is not None:
            await self.session.close()
        if self.sandbox is not None:
            await self.sandbox.stop()
        await self.db.close()

    async def on_ready(self) -> None:
        log.info("logged in as %s (%s), in %d guilds", self.user, getattr(self.user, "id", "?"), len(self.guilds))


def bot_of(interaction: discord.Interaction[Any]) -> NorthcaBot:
    """The bot behind a component interaction, typed. discord.py types `Item.callback` and
    `DynamicItem.from_custom_id` generically over the client, so a button receives
    `Interaction[Any]`; this bot only ever dispatches to itself."""
    client = interaction.client
    if not isinstance(client, NorthcaBot):
        raise TypeError(f"interaction {interaction.id} was dispatched by {type(client).__name__}, not NorthcaBot")
    return client
