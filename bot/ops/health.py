"""Health for container platforms: a loopback HTTP endpoint (`GET /health`) reporting the gateway connection,
whether the database is up and writable (PostgreSQL: a connection answers now, and not from a read-only
standby), the outbox depth (shifts and dispatch entries waiting for Northca) and the age of its oldest unsynced
shift, and the time since the last successful Northca answer; `northca-bot health` asks it and exits 0 (healthy)
or 1. A warning is logged while the outbox's oldest shift is older than the configured age."""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from urllib.parse import urlsplit

import aiohttp
from aiohttp import web

from bot.core.polling import LoopTask
from bot.storage import DATABASE_ERRORS, Database, DatabaseUnavailable

log = logging.getLogger(__name__)


class OutboxStore:
    """Read-only view of the outboxes: ended shifts, and dispatch entries (panics, calls, tickets,
    reports), not yet written to Northca."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def depth_and_oldest_ended_ms(self) -> tuple[int, int | None]:
        row = await self.db.fetchone(
            "SELECT COUNT(*) AS depth, MIN(ended_ms) AS oldest FROM shifts WHERE sync_state IN ('pending', 'failed')"
        )
        return (0, None) if row is None else (int(row["depth"]), row["oldest"])

    async def dispatch_depth(self) -> int:
        """Dispatch entries still to be sent (retried: a panic while Northca is down waits here)."""
        row = await self.db.fetchone("SELECT COUNT(*) AS depth FROM dispatch_outbox WHERE state = 'pending'")
        return 0 if row is None else int(row["depth"])


class NorthcaSuccessClock:
    """Records when Northca last answered with a 2xx, from the bot's aiohttp session (no client changes)."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.last_success: float | None = None  # time.time()

    def trace_config(self) -> aiohttp.TraceConfig:
        trace = aiohttp.TraceConfig()

        async def on_request_end(_: aiohttp.ClientSession, __: object, params: aiohttp.TraceRequestEndParams) -> None:
            if str(params.url).startswith(self.base_url) and 200 <= params.response.status < 300:
                self.last_success = time.time()

        trace.on_request_end.append(on_request_end)
        return trace


@dataclass
class HealthReport:
    healthy: bool
    gateway_connected: bool
    database_writable: bool
    outbox_depth: int  # shifts and dispatch entries waiting
    dispatch_outbox_depth: int  # of which dispatch entries
    oldest_unsynced_age_seconds: float | None
    seconds_since_northca_success: float | None
    problems: list[str]


class HealthMonitor:
    """A background service: the endpoint (when a port is configured) and the old-outbox warning."""

    def __init__(
        self,
        db: Database,
        *,
        gateway_connected: Callable[[], bool],
        northca: NorthcaSuccessClock,
        host: str = "127.0.0.1",
        port: int | None = None,
        outbox_warn_after: float = 900.0,
        check_interval: float = 60.0,
    ) -> None:
        self.db = db
        self.outbox = OutboxStore(db)
        self.gateway_connected = gateway_connected
        self.northca = northca
        self.host, self.port = host, port
        self.outbox_warn_after = outbox_warn_after
        self.check_interval = check_interval
        self.url: str | None = None
        self._runner: web.AppRunner | None = None
        self._watch_task = LoopTask("health-outbox-watch", self._watch)

    async def report(self) -> HealthReport:
        now = time.time()
        problems = []
        gateway = self.gateway_connected()
        if not gateway:
            problems.append("gateway not connected")
        depth, oldest_ms, dispatch_depth = 0, None, 0
        try:
            await self.db.check_writable()
            writable = True
        except DatabaseUnavailable as exc:
            writable = False
            problems.append(f"database down ({type(exc.__cause__ or exc).__name__})")
        except Exception as exc:
            writable = False
            problems.append(f"database not writable ({type(exc).__name__})")
        if writable:
            try:
                depth, oldest_ms = await self.outbox.depth_and_oldest_ended_ms()
                dispatch_depth = await self.outbox.dispatch_depth()
            except DATABASE_ERRORS as exc:  # went down since the probe: say so rather than fail the request
                writable = False
                problems.append(f"database down ({type(exc).__name__})")
        age = None if oldest_ms is None else max(0.0, now - oldest_ms / 1000)
        if age is not None and age > self.outbox_warn_after:
            problems.append(f"oldest unsynced shift is {age / 60:.0f} min old")
        last = self.northca.last_success
        return HealthReport(
            healthy=not problems,
            gateway_connected=gateway,
            database_writable=writable,
            outbox_depth=depth + dispatch_depth,
            dispatch_outbox_depth=dispatch_depth,
            oldest_unsynced_age_seconds=age,
            seconds_since_northca_success=None if last is None else now - last,
            problems=problems,
        )

    async def _handle(self, _: web.Request) -> web.Response:
        report = await self.report()
        return web.json_response(asdict(report), status=200 if report.healthy else 503)

    async def warn_if_outbox_old(self) -> None:
        depth, oldest_ms = await self.outbox.depth_and_oldest_ended_ms()
        if oldest_ms is not None and time.time() - oldest_ms / 1000 > self.outbox_warn_after:
            log.warning(
                "%d shifts wait for Northca; the oldest ended %.0f min ago (supervisors see them in the pending list)",
                depth,
                (time.time() - oldest_ms / 1000) / 60,
            )

    async def _watch(self) -> None:
        while True:
            try:
                await self.warn_if_outbox_old()
            except Exception:
                log.exception("outbox check failed")
            await asyncio.sleep(self.check_interval)

    async def start(self) -> None:
        self._watch_task.start()

    async def listen(self) -> None:
        """Bind the endpoint (when a port is configured); before logging in, so a taken port is named at once."""
        if self.port is None or self._runner is not None:
            return
        app = web.Application()
        app.router.add_get("/health", self._handle)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        await site.start()
        bound = self._runner.addresses[0]
        self.url = f"http://{self.host}:{bound[1]}/health"
        log.info("health endpoint on %s", self.url)

    async def stop(self) -> None:
        await self._watch_task.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None


async def probe(url: str, timeout: float = 5.0) -> tuple[bool, str]:
    """Ask a running bot's endpoint; (healthy, one line)."""
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=timeout)) as session,
            session.get(url) as resp,
        ):
            body = json.loads(await resp.text())
    except (aiohttp.ClientError, OSError, TimeoutError, ValueError) as exc:
        where = urlsplit(url).netloc
        return False, f"unhealthy: no answer from the bot's health endpoint at {where} ({type(exc).__name__})"
    if body.get("healthy"):
        since = body.get("seconds_since_northca_success")
        northca = "never yet" if since is None else f"{since:.0f} s ago"
        return True, f"healthy: outbox {body.get('outbox_depth')}, last Northca success {northca}"
    return False, "unhealthy: " + "; ".join(body.get("problems") or ["unknown"])
