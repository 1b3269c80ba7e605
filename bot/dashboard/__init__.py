"""The web dashboard: each server's staff run their duty program from a browser (README.md here: how to add a
page, a form, a browser test).

Built on the same services as the slash commands (bot/services.py `build_services`), with the same rules,
validation and audit; it never imports discord.py or the cogs (the import contract). Served by the bot's web
server (bot/web.py) under /dashboard: in the bot process with `[web] enabled = true`, or alone with
`northca-bot web` over the same database.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

from aiohttp import web

from bot.config import Config
from bot.dashboard.app import Dashboard, RateLimit, build_dashboard_app
from bot.dashboard.discord_api import DISCORD_API, DiscordApi
from bot.dashboard.sessions import SessionStore
from bot.services import Services
from bot.storage import Database
from bot.timefmt import now_ms

__all__ = ["Dashboard", "build_dashboard", "build_dashboard_app"]


def build_dashboard(
    config: Config,
    db: Database,
    services: Services,
    *,
    base_url: Callable[[], str],
    discord_api_base: str = DISCORD_API,
    clock: Callable[[], int] = now_ms,
    pages: tuple[ModuleType, ...] | None = None,
) -> tuple[Dashboard, web.Application]:
    """The dashboard over `services` and its aiohttp application (to mount under /dashboard). `base_url`: where
    the world reaches the web server (asked at each login: the port is known once it listens)."""
    section = config.web
    token = config.discord.token.get_secret_value() if config.discord.token else ""
    api = DiscordApi(
        bot_token=token,
        client_id=section.client_id,
        client_secret=section.client_secret.get_secret_value() if section.client_secret else None,
        api_base=discord_api_base,
        cache_seconds=section.permission_cache_seconds,
        clock=clock,
    )
    dashboard = Dashboard(
        services=services,
        api=api,
        sessions=SessionStore(db, idle_ms=int(section.session_idle_minutes * 60_000), clock=clock),
        web=section,
        clock=clock,
        base_url=lambda: section.public_base_url or base_url(),
        login_limit=RateLimit(section.login_attempts_per_minute, clock),
    )
    return dashboard, build_dashboard_app(dashboard, pages)
