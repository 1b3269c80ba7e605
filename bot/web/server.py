"""The bot's public web server (`[web]` in the config): the ER:LC event webhook (bot/erlc/webhook.py) and, when
enabled, the dashboard (bot/web/dashboard/) mounted under /dashboard.

Started in the bot process only when `[web] port` is set or the dashboard is enabled; `[web] public_base_url` is
the address the world reaches it at (behind a reverse proxy with TLS), from which the webhook URLs shown to admins
are made.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence

from aiohttp import web

log = logging.getLogger(__name__)

# On every answer (errors too): no inline script or style (scripts and styles come from the dashboard's static
# folder only), never framed, no MIME sniffing, no referrer to other sites, no caching of pages.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


@web.middleware
async def security_headers(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        response = await handler(request)
    except web.HTTPException as exc:
        _stamp(exc.headers, request)
        raise
    _stamp(response.headers, request)
    return response


def _stamp(headers: object, request: web.Request) -> None:
    assert hasattr(headers, "setdefault")
    for name, value in SECURITY_HEADERS.items():
        headers[name] = value  # type: ignore[index]
    if "/static/" not in request.path:
        headers["Cache-Control"] = "no-store"  # type: ignore[index]


class WebServer:
    name = "web"

    def __init__(
        self,
        host: str,
        port: int,
        routes: Sequence[web.RouteDef],
        subapps: Sequence[tuple[str, web.Application]] = (),
    ) -> None:
        self.host = host
        self.port = port
        # The security headers on every answer of this server (the webhook's, a 404), not only the dashboard's.
        self.app = web.Application(client_max_size=512 * 1024, middlewares=[security_headers])
        self.app.add_routes(routes)
        for prefix, subapp in subapps:
            self.app.add_subapp(prefix, subapp)
        self._runner: web.AppRunner | None = None
        self._mounted: list[str] = [prefix for prefix, _ in subapps]

    def mount(self, prefix: str, subapp: web.Application) -> None:
        """Another application under `prefix` (the dashboard under /dashboard); before `start`."""
        self.app.add_subapp(prefix, subapp)
        self._mounted.append(prefix)

    async def start(self) -> None:
        if self._runner is not None:
            return
        runner = web.AppRunner(self.app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
        await runner.setup()
        site = web.TCPSite(runner, self.host, self.port)
        try:
            await site.start()
        except OSError:
            await runner.cleanup()
            raise
        self._runner = runner
        self.port = int(runner.addresses[0][1])  # port 0 picks a free one
        log.info("web server listening on %s:%s", self.host, self.port)
        for prefix in self._mounted:  # where to point a browser (the dashboard: its address in the start-up log)
            log.info("%s at %s%s/", prefix.strip("/"), self.base_url, prefix.rstrip("/"))

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
