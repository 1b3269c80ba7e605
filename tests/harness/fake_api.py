"""The fake Discord REST API: an aiohttp server on 127.0.0.1 that discord.py talks to once
``discord.http.Route.BASE`` points at it. It records every request (``Recorded``), lets a test add
routes, fail requests and wait for them, and, like Discord, refuses a message, callback or edit with
a text over Discord's limits (400, code 50035; see limits.py). What it answers by itself is in
discord_routes.py; the facts it relies on are in README.md.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import json
import logging
import re
import socket
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Self

import discord
import discord.http
from aiohttp import BodyPartReader, web

from . import builders
from .discord_routes import Answer, DiscordRoutes, Route, RouteHandler, discord_error
from .limits import callback_errors, message_errors
from .recorded import FakeTimeout, InteractionContext, Recorded

log = logging.getLogger(__name__)

__all__ = ["Answer", "FakeDiscord", "Redirect"]

Predicate = Callable[[Recorded], bool]

DEFAULT_BOT_ID = 1100000000000000001

_API_PREFIX = re.compile(r"^/api/v\d+")
# Requests that carry a message (or an interaction callback): Discord checks their size limits.
_CALLBACK_PATH = re.compile(r"^/interactions/\d+/[^/]+/callback$")
_MESSAGE_PATHS = (
    ("POST", re.compile(r"^/webhooks/\d+/[^/]+$")),
    ("PATCH", re.compile(r"^/webhooks/\d+/[^/]+/messages/(@original|\d+)$")),
    ("POST", re.compile(r"^/channels/\d+/messages$")),
    ("PATCH", re.compile(r"^/channels/\d+/messages/\d+$")),
)


@dataclass
class _Failure:
    pattern: re.Pattern[str]
    status: int
    remaining: int
    method: str | None
    body: Any


@dataclass
class Hold:
    """Requests held by ``FakeDiscord.hold``: they get no answer until ``release()`` (or the fake stops).

    ``took_effect`` False: a held request has not reached Discord's state yet (released, it is handled then; at
    the fake's stop it is dropped). True: it takes effect at once and only its answer waits, as when the process
    that sent it dies before reading the answer (the message exists; the sender never learns its id)."""

    pattern: re.Pattern[str]
    method: str | None
    remaining: int
    took_effect: bool
    skip: int = 0
    arrived: list[Recorded] = field(default_factory=list)
    _released: asyncio.Event = field(default_factory=asyncio.Event)
    _arrival: asyncio.Event = field(default_factory=asyncio.Event)

    def release(self) -> None:
        self._released.set()

    async def wait_arrived(self, count: int = 1, timeout: float = 10.0) -> Recorded:
        """The `count`-th held request, once it has arrived."""
        async with asyncio.timeout(timeout):
            while len(self.arrived) < count:
                self._arrival.clear()
                await self._arrival.wait()
        return self.arrived[count - 1]


@dataclass
class _Waiter:
    predicate: Predicate
    future: asyncio.Future[Recorded]


@dataclass(frozen=True)
class Redirect:
    """An answer that sends the browser elsewhere (Discord's OAuth2 consent page redirecting back to the app)."""

    location: str


def _web_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> web.Response:
    if isinstance(body, Redirect):
        return web.Response(status=status, headers={**(headers or {}), "Location": body.location})
    if body is None:
        return web.Response(status=204 if status == 200 else status, headers=headers)
    # Exactly "application/json": web.json_response appends "; charset=utf-8" and discord.py
    # then treats the body as text.
    return web.Response(status=status, body=json.dumps(body).encode(), content_type="application/json", headers=headers)


class FakeDiscord(DiscordRoutes):
    """A local stand-in for Discord's REST API (``/api/v10``).

    Usage::

        async with FakeDiscord() as fake:
            await bot.login("token")      # GET /users/@me, GET /oauth2/applications/@me
            ...
            rec = await fake.wait_for(lambda r: r.method == "PUT" and "/roles/" in r.path)
    """

    def __init__(
        self,
        *,
        bot_user_id: int = DEFAULT_BOT_ID,
        application_id: int | None = None,
        bot_username: str = "Test Bot",
        latency: float = 0.0,
    ) -> None:
        self.bot_user_id = bot_user_id
        self.application_id = application_id if application_id is not None else bot_user_id
        self.bot_username = bot_username
        self.latency = latency  # seconds added to every answer (after recording)
        self.requests: list[Recorded] = []
        self.messages: dict[int, dict[str, Any]] = {}  # message id -> current message object
        self.interactions: dict[str, InteractionContext] = {}  # token -> context
        self.channel_guilds: dict[int, int] = {}  # channel id -> guild id, for message objects
        self.dm_channels: dict[int, int] = {}  # DM channel id -> user id (POST /users/@me/channels)
        self.dms_closed: set[int] = set()  # users whose DMs answer 403, code 50007
        self.nonces: dict[str, tuple[int, float]] = {}  # enforced nonce -> (message id, monotonic time)
        self.commands: dict[int | None, list[dict[str, Any]]] = {}  # guild id (None: global) -> synced
        self.port: int | None = None
        self._custom_routes: list[Route] = []
        self._routes: list[Route] = []
        self._failures: list[_Failure] = []
        self._holds: list[Hold] = []
        self._stopping = asyncio.Event()
        self._waiters: list[_Waiter] = []
        self._runner: web.AppRunner | None = None
        self._old_base: str | None = None
        self._install_default_routes()

    # --- lifecycle -------------------------------------------------------------

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError("FakeDiscord is not started")
        return f"http://127.0.0.1:{self.port}/api/v10"

    async def start(self) -> None:
        if self._runner is not None:
            return
        self._stopping.clear()
        app = web.Application(client_max_size=64 * 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self._handle)
        runner = web.AppRunner(app, access_log=None, shutdown_timeout=1.0)
        await runner.setup()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.bind(("127.0.0.1", 0))
        site = web.SockSite(runner, sock)
        await site.start()
        self._runner = runner
        self.port = sock.getsockname()[1]
        self._old_base = discord.http.Route.BASE
        discord.http.Route.BASE = self.base_url
        log.debug("FakeDiscord listening on %s", self.base_url)

    async def stop(self) -> None:
        if self._runner is None:
            return
        if self._old_base is not None and self.base_url == discord.http.Route.BASE:
            discord.http.Route.BASE = self._old_base
        self._old_base = None
        runner, self._runner = self._runner, None
        self._stopping.set()  # held requests end: those that never took effect are dropped
        for w in self._waiters:
            if not w.future.done():
                w.future.cancel()
        self._waiters.clear()
        await runner.cleanup()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()

    # --- test-facing controls ----------------------------------------------------

    def fail_next(
        self,
        path_regex: str,
        status: int,
        times: int = 1,
        *,
        method: str | None = None,
        body: Any = None,
        code: int | None = None,
        message: str | None = None,
    ) -> None:
        """Answer the next ``times`` requests whose path matches ``path_regex`` (``re.search``)
        with an error. E.g. ``fail_next(r"/roles/", 403)`` makes ``Member.add_roles`` raise
        ``discord.Forbidden`` (code 50013, Missing Permissions).

        Note: discord.py retries 5xx answers up to 5 times with 1/3/5/7 s sleeps, so use
        ``times=5`` and expect a slow test, or prefer 4xx.
        """
        if body is None:
            _, body = discord_error(status, message, code)
            if status == 429:
                body = {"message": body["message"], "retry_after": 0.0, "global": False}
        self._failures.append(_Failure(re.compile(path_regex), status, times, method.upper() if method else None, body))

    def hold(
        self, path_regex: str, *, method: str | None = None, times: int = 1, took_effect: bool = False, skip: int = 0
    ) -> Hold:
        """Hold the next ``times`` requests whose path matches ``path_regex`` (``re.search``), after letting
        ``skip`` of them through, without an answer until ``Hold.release()``: a slow Discord, or (cancelling the
        sender meanwhile) a process that dies with the request out. See ``Hold`` for ``took_effect``."""
        held = Hold(re.compile(path_regex), method.upper() if method else None, times, took_effect, skip)
        self._holds.append(held)
        return held

    def route(self, method: str | None, path_regex: str, handler: RouteHandler | None = None) -> Any:
        """Add a custom handler (checked before the built-in ones; may be used as a decorator).

        ``handler(rec, match)`` returns ``(status, body)``, or ``None`` to fall through.
        """

        def register(fn: RouteHandler) -> RouteHandler:
            self._custom_routes.append(Route(method.upper() if method else None, re.compile(path_regex), fn))
            return fn

        return register(handler) if handler is not None else register

    def remove_route(self, handler: RouteHandler) -> None:
        self._custom_routes = [r for r in self._custom_routes if r.handler is not handler]

    def register_interaction(self, payload: Mapping[str, Any]) -> InteractionContext:
        """Tell the fake about an injected interaction so callbacks/followups can be answered
        in context (channel, clicked message, user). ``Harness`` does this for you."""
        ctx = InteractionContext.from_payload(payload)
        self.interactions[ctx.token] = ctx
        if ctx.message is not None:
            self.messages.setdefault(int(ctx.message["id"]), copy.deepcopy(ctx.message))
        return ctx

    def find(self, method: str | None = None, path: str | None = None) -> list[Recorded]:
        """Recorded requests with this method and/or path regex (``re.search``)."""
        return [r for r in self.requests if r.match(method, path or "")]

    async def wait_for(
        self,
        predicate: Predicate | None = None,
        timeout: float = 5.0,
        *,
        method: str | None = None,
        path: str | None = None,
        since: int = 0,
    ) -> Recorded:
        """The first request (with ``seq >= since``) that matches ``predicate`` and/or
        ``method``/``path`` (regex). Returns at once if one was already recorded; raises
        ``FakeTimeout`` otherwise after ``timeout`` seconds.

        Each waiter gets its own future, resolved when a matching request is recorded:
        no polling, and no rescans of history when many waiters are pending.
        """

        def matches(rec: Recorded) -> bool:
            if (method is not None or path is not None) and rec.match(method, path or "") is None:
                return False
            return predicate(rec) if predicate is not None else True

        for rec in self.requests[since:]:
            if matches(rec):
                return rec
        future: asyncio.Future[Recorded] = asyncio.get_running_loop().create_future()
        waiter = _Waiter(lambda r: r.seq >= since and matches(r), future)
        self._waiters.append(waiter)
        try:
            return await asyncio.wait_for(future, timeout)
        except TimeoutError:
            recent = "\n  ".join(f"{r.method} {r.path} -> {r.status}" for r in self.requests[-10:]) or "(none)"
            raise FakeTimeout(f"no matching request within {timeout}s; last requests:\n  {recent}") from None
        finally:
            if waiter in self._waiters:
                self._waiters.remove(waiter)

    def bot_user_payload(self) -> dict[str, Any]:
        payload = builders.user(self.bot_user_id, self.bot_username, bot=True)
        payload.update(verified=True, mfa_enabled=False, locale="en-US", email=None)
        return payload

    # --- request plumbing ----------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        arrived = time.monotonic()
        body, files = await self._read_body(request)
        rec = Recorded(
            method=request.method,
            path=_API_PREFIX.sub("", request.path) or "/",
            query=dict(request.query),
            json=body,
            time=arrived,
            headers=dict(request.headers),
            files=files,
        )
        headers: dict[str, str] | None = None
        held = self._held(rec)
        if held is not None and not held.took_effect:
            await self._wait_released(held)
            if self._stopping.is_set():
                return web.Response(status=503)  # never reached Discord's state: not recorded
        try:
            status, answer = await self._answer(rec)
        except Exception as exc:  # a harness bug: answer 400 so discord.py fails fast (5xx is retried)
            log.exception("FakeDiscord handler failed for %s %s", rec.method, rec.path)
            status, answer = discord_error(400, f"FakeDiscord handler crashed: {exc!r}", 0)
        if status == 429:
            headers = {"Retry-After": "0", "X-RateLimit-Scope": "user"}
        # a snapshot: stored messages keep changing with later edits
        rec.status, rec.response = status, copy.deepcopy(answer)
        self._record(rec)
        if held is not None and held.took_effect:
            await self._wait_released(held)
        try:
            if self.latency > 0:
                await asyncio.sleep(self.latency)
        finally:
            rec.answered.set()
        return _web_response(status, rec.response, headers)

    def _held(self, rec: Recorded) -> Hold | None:
        for held in self._holds:
            if held.remaining > 0 and held.method in (None, rec.method) and held.pattern.search(rec.path):
                if held.skip > 0:
                    held.skip -= 1
                    continue
                held.remaining -= 1
                held.arrived.append(rec)
                held._arrival.set()
                return held
        return None

    async def _wait_released(self, held: Hold) -> None:
        stopping = asyncio.ensure_future(self._stopping.wait())
        released = asyncio.ensure_future(held._released.wait())
        try:
            await asyncio.wait([stopping, released], return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()
            released.cancel()

    async def _read_body(self, request: web.Request) -> tuple[Any, list[dict[str, Any]]]:
        if not request.body_exists:
            return None, []
        ctype = request.content_type
        if ctype == "multipart/form-data":
            payload: Any = None
            files: list[dict[str, Any]] = []
            reader = await request.multipart()
            async for part in reader:
                if not isinstance(part, BodyPartReader):
                    continue  # nested multipart: discord.py never sends one
                data = await part.read()
                if part.name == "payload_json":
                    payload = json.loads(data.decode())
                else:
                    files.append(
                        {
                            "field": part.name,
                            "filename": part.filename,
                            "content_type": part.headers.get("Content-Type"),
                            "size": len(data),
                            "data": bytes(data),
                        }
                    )
            return payload, files
        raw = await request.read()
        if not raw:
            return None, []
        try:
            return json.loads(raw), []
        except ValueError:
            return raw.decode(errors="replace"), []

    async def _answer(self, rec: Recorded) -> Answer:
        for failure in self._failures:
            if failure.remaining > 0 and (failure.method in (None, rec.method)) and failure.pattern.search(rec.path):
                failure.remaining -= 1
                self._failures = [f for f in self._failures if f.remaining > 0]
                return failure.status, copy.deepcopy(failure.body)
        refused = self._limit_errors(rec)
        if refused:
            # Like Discord: nothing is sent, acknowledged or edited; the bot gets an HTTPException.
            log.debug("FakeDiscord refused %s %s: over Discord's limits %s", rec.method, rec.path, refused)
            return 400, {"code": 50035, "message": "Invalid Form Body", "errors": refused}
        for route in (*self._custom_routes, *self._routes):
            if route.method not in (None, rec.method):
                continue
            m = route.pattern.search(rec.path)
            if m is None:
                continue
            result = route.handler(rec, m)
            if inspect.isawaitable(result):
                result = await result
            if result is not None:
                return result
        return 200, {}  # catch-all: recorded, answered with an empty object

    @staticmethod
    def _limit_errors(rec: Recorded) -> dict[str, Any]:
        """Discord's size limits on what a request would send (empty: within them)."""
        if rec.method == "POST" and _CALLBACK_PATH.search(rec.path):
            return callback_errors(rec.json)
        if any(rec.method == method and pattern.search(rec.path) for method, pattern in _MESSAGE_PATHS):
            return message_errors(rec.json)
        return {}

    def _record(self, rec: Recorded) -> None:
        rec.seq = len(self.requests)
        self.requests.append(rec)
        for w in self._waiters:
            if w.future.done():
                continue
            try:
                if w.predicate(rec):
                    w.future.set_result(rec)
            except Exception as exc:  # surface predicate bugs to the waiting test
                w.future.set_exception(exc)
