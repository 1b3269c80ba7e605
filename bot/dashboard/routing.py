"""What a page module registers its routes with (`register(pages: PageRouter)`), and the navigation entries."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

Handler = Callable[[web.Request], "web.StreamResponse | object"]


@dataclass(frozen=True)
class NavItem:
    """An entry of a server's navigation: its label and the name of its route (which takes `guild_id`)."""

    label: str
    route: str


@dataclass
class PageRouter:
    """What a page module registers its routes with."""

    app: web.Application
    nav: list[NavItem] = field(default_factory=list)

    def get(self, path: str, handler: Callable[..., object], *, name: str, nav: str | None = None) -> None:
        """A page read with GET (also HEAD). `nav`: its label in a server's navigation (guild pages only)."""
        self.app.router.add_get(path, handler, name=name)  # type: ignore[arg-type]
        if nav is not None:
            self.nav.append(NavItem(nav, name))

    def post(self, path: str, handler: Callable[..., object], *, name: str) -> None:
        """A form's target (CSRF-checked by `guild_page` / `user_page`)."""
        self.app.router.add_post(path, handler, name=name)  # type: ignore[arg-type]
