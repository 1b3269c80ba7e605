"""The aiohttp application: routes, request recording, faults, authentication; start and stop."""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from aiohttp import web

from bot.northca.sandbox.admin import AdminApi
from bot.northca.sandbox.config import SandboxConfig
from bot.northca.sandbox.faults import Fault
from bot.northca.sandbox.wire import ApiError, Handler, envelope_error, json_response

log = logging.getLogger(__name__)


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    status: int = 0


class NorthcaSandbox(AdminApi):
    """The sandbox's state and its aiohttp application."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        super().__init__(config)
        self.requests: deque[RecordedRequest] = deque(maxlen=100_000)
        self.app = self._build_app()
        self._runner: web.AppRunner | None = None
        self.base_url: str | None = None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on host:port (0 picks a free port); returns the `/v1` base URL."""
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        bound = self._runner.addresses[0]
        self.base_url = f"http://{host}:{bound[1]}/v1"
        log.info("Northca sandbox listening on %s", self.base_url)
        return self.base_url

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.db.close()

    async def __aenter__(self) -> NorthcaSandbox:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    def _build_app(self) -> web.Application:
        app = web.Application(middlewares=[self._middleware], client_max_size=1024**2)
        v1: list[tuple[str, str, Handler]] = [
            ("POST", "/v1/link-requests", self._create_link_request),
            ("POST", "/v1/link-requests/{request_id}/confirm", self._confirm_link_request),
            ("GET", "/v1/guilds/{guild_id}/mdts", self._guild_mdts),
            ("POST", "/v1/mdts/{mdt_id}/unlink", self._unlink),
            ("POST", "/v1/mdts/{mdt_id}/shifts", self._create_shift),
            ("GET", "/v1/mdts/{mdt_id}/shifts", self._list_shifts),
            ("PUT", "/v1/mdts/{mdt_id}/units/active", self._upsert_units),
            ("POST", "/v1/mdts/{mdt_id}/units/active/{unit_id}/panic", self._panic),
            ("POST", "/v1/mdts/{mdt_id}/calls", self._create_call),
            ("PATCH", "/v1/mdts/{mdt_id}/calls/{call_id}", self._update_call),
            ("POST", "/v1/mdts/{mdt_id}/scene-reports", self._create_scene_report),
            ("POST", "/v1/mdts/{mdt_id}/tickets", self._create_ticket),
        ]
        for method, path, handler in v1:
            app.router.add_route(method, path, self._api(handler))
        app.router.add_post("/_sandbox/link-requests/{request_id}/{decision}", self._admin_decide)
        app.router.add_post("/_sandbox/faults", self._admin_faults)
        app.router.add_post("/_sandbox/mdts/{mdt_id}/shifts", self._admin_plant_shift)
        app.router.add_get("/_sandbox/state", self._admin_state)
        return app

    @web.middleware
    async def _middleware(
        self, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if not request.path.startswith("/v1/"):
            return await handler(request)
        record = None
        if self.config.record_requests:
            record = RecordedRequest(
                request.method,
                request.raw_path.split("?")[0],
                dict(request.query),
                {k.lower(): v for k, v in request.headers.items()},
                await request.read(),
            )
            self.requests.append(record)
        if self.faults.latency:
            await asyncio.sleep(self.faults.latency)
        held = self.faults.take_hold(request.method, request.path)
        if held is not None:
            held.arrived.set()
            await held.released.wait()
        fault = self.faults.take(request.method, request.path)
        response = await self._with_fault(fault, request, handler)
        if record is not None:
            record.status = response.status
        return response

    async def _with_fault(
        self, fault: Fault | None, request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]
    ) -> web.StreamResponse:
        if fault is None:
            return await handler(request)
        log.info("sandbox fault %s on %s %s", fault.kind, request.method, request.path)
        if fault.kind == "500":
            return envelope_error(500, "Internal server error")
        if fault.kind == "429":
            resp = envelope_error(429, "Too many requests")
            resp.headers["Retry-After"] = f"{fault.retry_after:g}"
            return resp
        if fault.kind == "html502":
            return web.Response(
                status=502, text="<html><body><h1>502 Bad Gateway</h1></body></html>", content_type="text/html"
            )
        if fault.kind == "error":
            return envelope_error(fault.status, fault.message)
        if fault.kind == "empty200":
            return web.Response(status=200, body=b"")
        if fault.kind == "hang":
            await asyncio.sleep(fault.hang_seconds)
            return envelope_error(504, "Gateway timeout")
        # commit_then_500: the write happens, the answer is lost.
        await handler(request)
        return envelope_error(500, "Internal server error")

    def _api(self, handler: Handler) -> Callable[[web.Request], Awaitable[web.Response]]:
        async def wrapped(request: web.Request) -> web.Response:
            try:
                self._approve_due_requests()
                guild, actor = self._authenticate(request)
                status, data = await handler(request, guild, actor)
            except ApiError as exc:
                return envelope_error(exc.status, exc.message)
            return json_response(status, {"ok": True, "data": data})

        return wrapped

    def _authenticate(self, request: web.Request) -> tuple[str, str | None]:
        if request.headers.get("x-partner-key") != self.config.partner_key:
            raise ApiError(401, "Unauthorized")
        guild = request.headers.get("x-discord-guild", "").strip()
        if not guild:
            raise ApiError(401, "Unauthorized")
        actor = request.headers.get("x-discord-actor", "").strip() or None
        return guild, actor
