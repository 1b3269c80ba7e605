"""The dashboard's pages: one module each in bot/web/dashboard/pages/, listed here once.

A page module has `register(pages: PageRouter) -> None` (bot/web/dashboard/routing.py), which adds its routes (and,
for a page people go to, its entry in the navigation). Adding a page is one module and one line in `PAGES` (see
README.md).
"""

from __future__ import annotations

from types import ModuleType

from aiohttp import web

from bot.web.dashboard.pages import exports, history, leaderboard, leave, overview, rosters, servers, settings, shifts
from bot.web.dashboard.routing import NavItem, PageRouter

# In navigation order. A new page: its module here.
PAGES: tuple[ModuleType, ...] = (
    servers,
    overview,
    settings,
    leaderboard,
    shifts,
    leave,
    rosters,
    exports,
    history,
)


def register_pages(app: web.Application, pages: tuple[ModuleType, ...] = PAGES) -> list[NavItem]:
    router = PageRouter(app)
    for page in pages:
        page.register(router)
    return router.nav
