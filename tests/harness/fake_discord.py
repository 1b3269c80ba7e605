"""An offline Discord: a local REST fake plus a harness that drives a real bot.

``FakeDiscord`` is an aiohttp server on 127.0.0.1 that discord.py talks to once
``discord.http.Route.BASE`` points at it. It records every request and answers
like Discord would (interaction callbacks with ``?with_response=1``, followups,
message CRUD, role changes, command sync). Like Discord, it refuses a message,
callback or edit with a text over Discord's limits (400, code 50035; see limits.py).

``Harness`` injects INTERACTION_CREATE payloads through the gateway's own
parser (``ConnectionState.parse_interaction_create``), so the real
``CommandTree``, checks, transformers, views and ``DynamicItem``s run; it then
waits on the fake for the interaction's callback and returns a ``Reply``.

See ``/work/shared/discord-offline-notes.md`` for the facts this relies on.
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
from collections import deque
from collections.abc import Awaitable, Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Literal, Self
from urllib.parse import unquote

import discord
import discord.http
from aiohttp import BodyPartReader, web
from discord import app_commands

from . import builders
from .limits import callback_errors, message_errors

log = logging.getLogger(__name__)

__all__ = [
    "Answer",
    "FakeDiscord",
    "FakeTimeout",
    "Harness",
    "InteractionContext",
    "NoResponse",
    "Recorded",
    "Reply",
]

#: What a route handler returns: (HTTP status, JSON body or None for an empty body).
Answer = tuple[int, Any]
RouteHandler = Callable[["Recorded", "re.Match[str]"], "Answer | None | Awaitable[Answer | None]"]
Predicate = Callable[["Recorded"], bool]

DEFAULT_BOT_ID = 1100000000000000001
MESSAGE_FLAG_EPHEMERAL = 1 << 6
MESSAGE_FLAG_LOADING = 1 << 7

_API_PREFIX = re.compile(r"^/api/v\d+")
# Requests that carry a message (or an interaction callback): Discord checks their size limits.
_CALLBACK_PATH = re.compile(r"^/interactions/\d+/[^/]+/callback$")
_MESSAGE_PATHS = (
    ("POST", re.compile(r"^/webhooks/\d+/[^/]+$")),
    ("PATCH", re.compile(r"^/webhooks/\d+/[^/]+/messages/(@original|\d+)$")),
    ("POST", re.compile(r"^/channels/\d+/messages$")),
    ("PATCH", re.compile(r"^/channels/\d+/messages/\d+$")),
)

# Error bodies Discord sends for common statuses (status -> (message, JSON error code)).
_ERRORS: dict[int, tuple[str, int]] = {
    400: ("Invalid Form Body", 50035),
    401: ("401: Unauthorized", 0),
    403: ("Missing Permissions", 50013),
    404: ("404: Not Found", 0),
    429: ("You are being rate limited.", 0),
    500: ("500: Internal Server Error", 0),
    502: ("502: Bad Gateway", 0),
    503: ("503: Service Unavailable", 0),
}


class FakeTimeout(TimeoutError):
    """``FakeDiscord.wait_for`` saw no matching request in time."""


class NoResponse(AssertionError):
    """The bot did not answer an injected interaction (or send the awaited followup) in time."""


@dataclass(eq=False)
class Recorded:
    """One request received by the fake. ``path`` is relative to ``/api/v10``."""

    method: str
    path: str
    query: dict[str, str]
    json: Any
    time: float  # time.monotonic() at arrival
    seq: int = -1  # index in FakeDiscord.requests
    headers: dict[str, str] = field(default_factory=dict, repr=False)
    files: list[dict[str, Any]] = field(default_factory=list, repr=False)  # multipart uploads
    status: int = 0  # what the fake answered
    response: Any = field(default=None, repr=False)
    answered: asyncio.Event = field(default_factory=asyncio.Event, repr=False)  # set once the answer is sent

    def match(self, method: str | None, pattern: str) -> re.Match[str] | None:
        if method is not None and self.method != method.upper():
            return None
        return re.search(pattern, self.path)

    @property
    def reason(self) -> str | None:
        """The audit log reason (``X-Audit-Log-Reason``), decoded."""
        raw = self.headers.get("X-Audit-Log-Reason")
        return unquote(raw) if raw is not None else None

    @property
    def ok(self) -> bool:
        return 200 <= self.status < 300


@dataclass
class InteractionContext:
    """What the fake knows about an interaction, keyed by its token."""

    id: int
    token: str
    type: int
    application_id: int
    channel_id: int | None
    guild_id: int | None
    user: dict[str, Any]
    message: dict[str, Any] | None = None  # the clicked message for components
    responded: int | None = None  # callback type once acknowledged
    original_message_id: int | None = None
    loading: bool = False  # deferred (type 5) and not yet edited/followed up

    @classmethod
    def from_payload(cls, payload: Mapping[str, Any]) -> InteractionContext:
        who = payload.get("member", {}).get("user") or payload.get("user") or {}
        ch = payload.get("channel") or {}
        channel_id = ch.get("id") or payload.get("channel_id")
        message = payload.get("message")
        return cls(
            id=int(payload["id"]),
            token=str(payload["token"]),
            type=int(payload["type"]),
            application_id=int(payload["application_id"]),
            channel_id=int(channel_id) if channel_id is not None else None,
            guild_id=int(payload["guild_id"]) if payload.get("guild_id") else None,
            user=copy.deepcopy(dict(who)),
            message=copy.deepcopy(dict(message)) if message is not None else None,
        )


@dataclass
class _Failure:
    pattern: re.Pattern[str]
    status: int
    remaining: int
    method: str | None
    body: Any


@dataclass
class _Route:
    method: str | None
    pattern: re.Pattern[str]
    handler: RouteHandler


@dataclass
class _Waiter:
    predicate: Predicate
    future: asyncio.Future[Recorded]


def _error(status: int, message: str | None = None, code: int | None = None) -> Answer:
    default_message, default_code = _ERRORS.get(status, (f"{status}: Error", 0))
    return status, {"message": message or default_message, "code": default_code if code is None else code}


def _web_response(status: int, body: Any, headers: Mapping[str, str] | None = None) -> web.Response:
    if body is None:
        return web.Response(status=204 if status == 200 else status, headers=headers)
    # Exactly "application/json": web.json_response appends "; charset=utf-8" and discord.py
    # then treats the body as text.
    return web.Response(status=status, body=json.dumps(body).encode(), content_type="application/json", headers=headers)


def _walk_components(components: Sequence[Mapping[str, Any]] | None) -> Iterator[Mapping[str, Any]]:
    """Every component in a (V1 action-row or V2 layout) component tree, depth first."""
    for comp in components or ():
        yield comp
        yield from _walk_components(comp.get("components"))
        for key in ("component", "accessory"):
            child = comp.get(key)
            if isinstance(child, Mapping):
                yield from _walk_components([child])


def custom_ids(components: Sequence[Mapping[str, Any]] | None) -> list[str]:
    return [c["custom_id"] for c in _walk_components(components) if "custom_id" in c]


class FakeDiscord:
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
        self.commands: dict[int | None, list[dict[str, Any]]] = {}  # guild id (None: global) -> synced
        self.port: int | None = None
        self._custom_routes: list[_Route] = []
        self._routes: list[_Route] = []
        self._failures: list[_Failure] = []
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
        if self._old_base is not None and discord.http.Route.BASE == self.base_url:
            discord.http.Route.BASE = self._old_base
        self._old_base = None
        runner, self._runner = self._runner, None
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
            _, body = _error(status, message, code)
            if status == 429:
                body = {"message": body["message"], "retry_after": 0.0, "global": False}
        self._failures.append(
            _Failure(re.compile(path_regex), status, times, method.upper() if method else None, body)
        )

    def route(self, method: str | None, path_regex: str, handler: RouteHandler | None = None) -> Any:
        """Add a custom handler (checked before the built-in ones; may be used as a decorator).

        ``handler(rec, match)`` returns ``(status, body)``, or ``None`` to fall through.
        """

        def register(fn: RouteHandler) -> RouteHandler:
            self._custom_routes.append(_Route(method.upper() if method else None, re.compile(path_regex), fn))
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
        try:
            status, answer = await self._answer(rec)
        except Exception as exc:  # a harness bug: answer 400 so discord.py fails fast (5xx is retried)
            log.exception("FakeDiscord handler failed for %s %s", rec.method, rec.path)
            status, answer = _error(400, f"FakeDiscord handler crashed: {exc!r}", 0)
        if status == 429:
            headers = {"Retry-After": "0", "X-RateLimit-Scope": "user"}
        # a snapshot: stored messages keep changing with later edits
        rec.status, rec.response = status, copy.deepcopy(answer)
        self._record(rec)
        try:
            if self.latency > 0:
                await asyncio.sleep(self.latency)
        finally:
            rec.answered.set()
        return _web_response(status, rec.response, headers)

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

    # --- built-in routes ---------------------------------------------------------------

    def _install_default_routes(self) -> None:
        add = self._routes.append
        snow = r"(\d+)"

        def r(method: str | None, pattern: str, handler: RouteHandler) -> None:
            add(_Route(method, re.compile(pattern), handler))

        r("GET", r"^/users/@me$", lambda rec, m: (200, self.bot_user_payload()))
        r("GET", r"^/oauth2/applications/@me$", lambda rec, m: (200, self._application()))
        r("POST", r"^/interactions/(?P<iid>\d+)/(?P<token>[^/]+)/callback$", self._on_callback)
        r("POST", r"^/webhooks/(?P<app>\d+)/(?P<token>[^/]+)$", self._on_followup)
        r(None, r"^/webhooks/(?P<app>\d+)/(?P<token>[^/]+)/messages/(?P<mid>@original|\d+)$", self._on_webhook_message)
        r("POST", r"^/channels/(?P<cid>\d+)/messages$", self._on_channel_post)
        r(None, r"^/channels/(?P<cid>\d+)/messages/(?P<mid>\d+)$", self._on_channel_message)
        r("PUT", rf"^/guilds/{snow}/members/{snow}/roles/{snow}$", lambda rec, m: (204, None))
        r("DELETE", rf"^/guilds/{snow}/members/{snow}/roles/{snow}$", lambda rec, m: (204, None))
        r("PATCH", r"^/guilds/(?P<gid>\d+)/members/(?P<uid>\d+)$", self._on_member_patch)
        r(None, rf"^/applications/{snow}/guilds/(?P<gid>\d+)/commands$", self._on_commands)
        r(None, rf"^/applications/{snow}/commands$", self._on_commands)

    def _application(self) -> dict[str, Any]:
        return {
            "id": str(self.application_id),
            "name": self.bot_username,
            "icon": None,
            "description": "",
            "summary": "",
            "type": None,
            "bot_public": False,
            "bot_require_code_grant": False,
            "owner": builders.user(self.bot_user_id + 1, "owner"),
            "team": None,
            "verify_key": "0" * 64,
            "flags": 0,
            "tags": [],
            "redirect_uris": [],
            "interactions_endpoint_url": None,
            "bot": self.bot_user_payload(),
        }

    def _context(self, token: str, iid: int | None = None) -> InteractionContext | None:
        ctx = self.interactions.get(token)
        if ctx is None and iid is not None:
            # not injected through the harness: answer anyway, with what the URL tells us
            ctx = InteractionContext(iid, token, 2, self.application_id, None, None, self.bot_user_payload())
            self.interactions[token] = ctx
        return ctx

    def _attachments(self, body: Mapping[str, Any], files: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
        by_index = {f"files[{i}]": f for i, f in enumerate(files)}
        out: list[dict[str, Any]] = []
        for i, att in enumerate(body.get("attachments") or []):
            upload = by_index.get(f"files[{att.get('id', i)}]", {})
            aid = builders.snowflake()
            filename = att.get("filename") or upload.get("filename") or f"file{i}"
            out.append(
                {
                    "id": str(aid),
                    "filename": filename,
                    "size": upload.get("size", 0),
                    "url": f"https://cdn.discordapp.com/attachments/0/{aid}/{filename}",
                    "proxy_url": f"https://media.discordapp.net/attachments/0/{aid}/{filename}",
                    "content_type": upload.get("content_type"),
                    "description": att.get("description"),
                }
            )
        return out

    def _new_message(
        self,
        body: Mapping[str, Any],
        *,
        channel_id: int,
        ctx: InteractionContext | None = None,
        files: Sequence[Mapping[str, Any]] = (),
        flags: int | None = None,
    ) -> dict[str, Any]:
        mid = builders.snowflake()
        msg = builders.message_payload(
            mid,
            channel_id,
            content=body.get("content") or "",
            embeds=body.get("embeds") or [],
            components=body.get("components") or [],
            attachments=self._attachments(body, files),
            flags=int(body.get("flags") or 0) if flags is None else flags,
            guild_id=self.channel_guilds.get(channel_id) or (ctx.guild_id if ctx else None),
            author=self.bot_user_payload(),
            interaction_id=ctx.id if ctx else None,
            interaction_type=ctx.type if ctx else 2,
            interaction_user=ctx.user if ctx else None,
            application_id=self.application_id if ctx else None,
            webhook_id=ctx.application_id if ctx else None,
            tts=bool(body.get("tts", False)),
        )
        self.messages[mid] = msg
        return msg

    def _apply_edit(
        self, msg: dict[str, Any], body: Mapping[str, Any] | None, files: Sequence[Mapping[str, Any]] = ()
    ) -> dict[str, Any]:
        body = body or {}
        for key in ("content", "embeds", "components"):
            if key in body:
                msg[key] = body[key] if body[key] is not None else ("" if key == "content" else [])
        if "attachments" in body:
            msg["attachments"] = self._attachments(body, files)
        old = int(msg.get("flags") or 0)
        new = int(body["flags"]) if body.get("flags") is not None else old
        # Ephemerality cannot change on edit; an edit ends the "thinking" state.
        msg["flags"] = ((new & ~MESSAGE_FLAG_EPHEMERAL) | (old & MESSAGE_FLAG_EPHEMERAL)) & ~MESSAGE_FLAG_LOADING
        msg["edited_timestamp"] = builders.iso_now()
        return msg

    def _on_callback(self, rec: Recorded, m: re.Match[str]) -> Answer:
        ctx = self._context(m["token"], int(m["iid"]))
        assert ctx is not None
        if ctx.responded is not None:
            return _error(400, "Interaction has already been acknowledged.", 40060)
        body = rec.json or {}
        kind = int(body.get("type", 0))
        data = body.get("data") or {}
        ctx.responded = kind
        message: dict[str, Any] | None = None
        channel_id = ctx.channel_id or builders.DEFAULT_CHANNEL_ID
        if kind == 4:  # CHANNEL_MESSAGE_WITH_SOURCE
            message = self._new_message(data, channel_id=channel_id, ctx=ctx, files=rec.files)
        elif kind == 5:  # DEFERRED_CHANNEL_MESSAGE_WITH_SOURCE: a "thinking" placeholder
            flags = (int(data.get("flags") or 0) & MESSAGE_FLAG_EPHEMERAL) | MESSAGE_FLAG_LOADING
            message = self._new_message({}, channel_id=channel_id, ctx=ctx, flags=flags)
            ctx.loading = True
        elif kind in (6, 7) and ctx.message is not None:  # (deferred) update of the clicked message
            mid = int(ctx.message["id"])
            message = self.messages.setdefault(mid, copy.deepcopy(ctx.message))
            if kind == 7:
                self._apply_edit(message, data, rec.files)
        if message is not None:
            ctx.original_message_id = int(message["id"])
        interaction: dict[str, Any] = {
            "id": str(ctx.id),
            "type": ctx.type,
            "response_message_loading": kind == 5,
            "response_message_ephemeral": bool(message and int(message["flags"]) & MESSAGE_FLAG_EPHEMERAL),
        }
        resource: dict[str, Any] = {"type": kind}
        if message is not None:
            interaction["response_message_id"] = message["id"]
            resource["message"] = copy.deepcopy(message)
        return 200, {"interaction": interaction, "resource": resource}

    def _on_followup(self, rec: Recorded, m: re.Match[str]) -> Answer:
        ctx = self._context(m["token"])
        if ctx is not None and ctx.responded is None:
            return _error(404, "Unknown Webhook", 10015)  # Discord: followup before the ack
        body = rec.json or {}
        if ctx is not None and ctx.loading and ctx.original_message_id in self.messages:
            # Discord: the first followup after a deferred response replaces the "thinking"
            # message (same id, and the deferral's ephemerality wins).
            message = self._apply_edit(self.messages[ctx.original_message_id], body, rec.files)
            message["edited_timestamp"] = None
            ctx.loading = False
        else:
            channel_id = (ctx.channel_id if ctx else None) or builders.DEFAULT_CHANNEL_ID
            message = self._new_message(body, channel_id=channel_id, ctx=ctx, files=rec.files)
        if rec.query.get("wait") in ("1", "true", "True"):
            return 200, message
        return 204, None

    def _on_webhook_message(self, rec: Recorded, m: re.Match[str]) -> Answer:
        ctx = self._context(m["token"])
        if m["mid"] == "@original":
            mid = ctx.original_message_id if ctx else None
        else:
            mid = int(m["mid"])
        if mid is None or mid not in self.messages:
            return _error(404, "Unknown Message", 10008)
        if rec.method == "GET":
            return 200, self.messages[mid]
        if rec.method == "DELETE":
            del self.messages[mid]
            return 204, None
        if rec.method == "PATCH":
            if ctx is not None and mid == ctx.original_message_id:
                ctx.loading = False
            return 200, self._apply_edit(self.messages[mid], rec.json, rec.files)
        return _error(405, "405: Method Not Allowed", 0)

    def _on_channel_post(self, rec: Recorded, m: re.Match[str]) -> Answer:
        return 200, self._new_message(rec.json or {}, channel_id=int(m["cid"]), files=rec.files)

    def _on_channel_message(self, rec: Recorded, m: re.Match[str]) -> Answer | None:
        cid, mid = int(m["cid"]), int(m["mid"])
        if rec.method == "DELETE":
            self.messages.pop(mid, None)
            return 204, None
        if rec.method == "GET":
            if mid not in self.messages:
                return _error(404, "Unknown Message", 10008)
            return 200, self.messages[mid]
        if rec.method == "PATCH":
            if mid not in self.messages:
                # Lenient: the fake does not know every message a test may reference.
                self.messages[mid] = builders.message_payload(
                    mid, cid, guild_id=self.channel_guilds.get(cid), author=self.bot_user_payload()
                )
            return 200, self._apply_edit(self.messages[mid], rec.json, rec.files)
        return None  # fall through to the catch-all

    def _on_member_patch(self, rec: Recorded, m: re.Match[str]) -> Answer:
        body = rec.json or {}
        payload = builders.member(int(m["uid"]), roles=[int(r) for r in body.get("roles") or []], nick=body.get("nick"))
        payload.pop("permissions")
        return 200, payload

    def _on_commands(self, rec: Recorded, m: re.Match[str]) -> Answer | None:
        gid = int(m["gid"]) if "gid" in m.groupdict() else None
        if rec.method == "GET":
            return 200, self.commands.get(gid, [])
        if rec.method != "PUT":
            return None
        known = {c["name"]: c["id"] for c in self.commands.get(gid, [])}
        echoed = []
        for cmd in rec.json or []:
            out = dict(cmd)
            out.setdefault("type", 1)
            out.setdefault("description", "")
            out.update(
                id=known.get(cmd["name"]) or str(builders.snowflake()),
                application_id=str(self.application_id),
                version=str(builders.snowflake()),
            )
            if gid is not None:
                out["guild_id"] = str(gid)
            echoed.append(out)
        self.commands[gid] = echoed
        return 200, echoed


# --- Harness ------------------------------------------------------------------------------


class _ErrorLog(logging.Handler):
    """Keeps the last ERROR records from discord.py (command/view errors) for timeout messages."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: deque[str] = deque(maxlen=10)

    def emit(self, record: logging.LogRecord) -> None:
        text = record.getMessage()
        if record.exc_info and record.exc_info[1] is not None:
            text += f": {record.exc_info[1]!r}"
        self.records.append(f"{record.name}: {text}")


class _Session:
    """Everything a Reply needs about one interaction, shared by its followups/edits."""

    def __init__(self, harness: Harness, ctx: InteractionContext, describe: str) -> None:
        self.harness = harness
        self.ctx = ctx
        self.describe = describe
        self.cursor = -1  # seq of the last request handed out by Reply.followup()
        self.callback_seq = -1
        self.message_ids: set[int] = set()
        if ctx.message is not None:
            self.message_ids.add(int(ctx.message["id"]))

    def kind_of(self, rec: Recorded) -> Literal["followup", "edit"] | None:
        """Whether ``rec`` is a (successful) followup or edit belonging to this interaction."""
        if not rec.ok:
            return None
        token = self.ctx.token
        if rec.method == "POST" and rec.path == f"/webhooks/{self.ctx.application_id}/{token}":
            return "followup"
        if rec.method == "PATCH":
            if rec.path.startswith(f"/webhooks/{self.ctx.application_id}/{token}/messages/"):
                return "edit"
            m = re.fullmatch(r"/channels/\d+/messages/(\d+)", rec.path)
            if m and int(m[1]) in self.message_ids:
                return "edit"
        return None

    async def next_event(self, after: int, timeout: float | None) -> Recorded:
        timeout = self.harness.timeout if timeout is None else timeout
        try:
            rec = await self.harness.fake.wait_for(
                lambda r: r.seq > after and self.kind_of(r) is not None, timeout, since=after + 1
            )
        except FakeTimeout:
            raise NoResponse(
                f"{self.describe}: no followup or edit within {timeout}s{self.harness._error_summary()}"
            ) from None
        await rec.answered.wait()
        return rec


class Reply:
    """What the bot answered to one interaction: the initial callback, or a followup/edit.

    ``callback_type``: 4 message, 5 deferred, 6 deferred update, 7 update, 8 autocomplete,
    9 modal (``None`` for followups/edits; see ``kind``).
    """

    def __init__(
        self,
        session: _Session,
        request: Recorded,
        *,
        kind: Literal["callback", "followup", "edit"],
        ack_time: float | None = None,
    ) -> None:
        self._session = session
        self.request = request
        self.kind = kind
        self.ack_time = ack_time
        self.interaction_id = session.ctx.id
        body = request.json if isinstance(request.json, dict) else {}
        self.callback_type: int | None = int(body.get("type", 0)) if kind == "callback" else None
        #: what the bot sent: the callback's ``data``, or the followup/edit body
        self.data: dict[str, Any] = (body.get("data") or {}) if kind == "callback" else body
        #: the resulting message object (as Discord would return it), if any
        self.message: dict[str, Any] | None = None
        response = request.response if isinstance(request.response, dict) else {}
        if kind == "callback":
            msg = (response.get("resource") or {}).get("message")
            self.message = copy.deepcopy(msg) if msg else None
        elif "id" in response:
            self.message = copy.deepcopy(response)
        if self.message is not None:
            session.message_ids.add(int(self.message["id"]))

    def __repr__(self) -> str:
        what = f"type={self.callback_type}" if self.kind == "callback" else self.kind
        return f"<Reply {what} interaction={self.interaction_id} content={self.content!r} custom_ids={self.custom_ids}>"

    # --- content ---------------------------------------------------------------

    def _field(self, key: str, default: Any) -> Any:
        source = self.message if self.message is not None else self.data
        value = source.get(key)
        return default if value is None else value

    @property
    def content(self) -> str:
        return str(self._field("content", ""))

    @property
    def embeds(self) -> list[dict[str, Any]]:
        return list(self._field("embeds", []))

    @property
    def components(self) -> list[dict[str, Any]]:
        return list(self._field("components", []))

    @property
    def custom_ids(self) -> list[str]:
        return custom_ids(self.components)

    @property
    def flags(self) -> int:
        return int(self._field("flags", 0))

    @property
    def status(self) -> int:
        """The HTTP status the fake answered this callback/followup/edit with."""
        return self.request.status

    @property
    def ephemeral(self) -> bool:
        return bool(self.flags & MESSAGE_FLAG_EPHEMERAL)

    @property
    def choices(self) -> list[dict[str, Any]]:
        """Autocomplete choices (callback type 8)."""
        return list(self.data.get("choices") or [])

    @property
    def modal(self) -> dict[str, Any] | None:
        """The modal (callback type 9): ``{custom_id, title, components}``."""
        return self.data if self.callback_type == 9 else None

    def component(self, custom_id: str) -> dict[str, Any]:
        """The component dict with this custom_id (buttons, selects, text inputs...)."""
        for comp in _walk_components(self.components):
            if comp.get("custom_id") == custom_id:
                return dict(comp)
        raise KeyError(f"no component {custom_id!r}; have {self.custom_ids}")

    # --- what happened next --------------------------------------------------------

    def _events(self, kind: str) -> list[Reply]:
        s = self._session
        return [
            Reply(s, r, kind=k)
            for r in s.harness.fake.requests[s.callback_seq + 1 :]
            if (k := s.kind_of(r)) == kind
        ]

    @property
    def followups(self) -> list[Reply]:
        """Followup messages received so far for this interaction."""
        return self._events("followup")

    @property
    def edits(self) -> list[Reply]:
        """Edits received so far (``@original``/webhook message edits, and channel edits of
        messages of this interaction)."""
        return self._events("edit")

    async def followup(self, timeout: float | None = None) -> Reply:
        """Wait for the next followup or edit of this interaction not yet returned by
        ``followup()`` (on this reply or any reply of the same interaction)."""
        s = self._session
        rec = await s.next_event(max(s.cursor, s.callback_seq), timeout)
        s.cursor = max(s.cursor, rec.seq)
        kind = s.kind_of(rec)
        assert kind is not None
        return Reply(s, rec, kind=kind)

    async def final(self, timeout: float | None = None) -> Reply:
        """For a deferred callback (5 or 6) the first followup/edit that follows it;
        otherwise this reply."""
        if self.kind != "callback" or self.callback_type not in (5, 6):
            return self
        s = self._session
        rec = await s.next_event(s.callback_seq, timeout)
        s.cursor = max(s.cursor, rec.seq)
        kind = s.kind_of(rec)
        assert kind is not None
        return Reply(s, rec, kind=kind)


MessageLike = Mapping[str, Any] | Reply


class Harness:
    """Drive a logged-in bot as Discord would: inject interactions, read what it answered.

    ``bot`` must have done ``await bot.login(token)`` against ``fake`` (never ``connect()``).
    Role changes the bot makes through the fake are applied to the guild cache like the
    gateway's GUILD_MEMBER_UPDATE would (``enforce_role_hierarchy`` also makes them fail
    with 403 like Discord when the bot lacks Manage Roles or the role is not below its top role).
    """

    def __init__(
        self,
        bot: discord.Client,
        fake: FakeDiscord,
        *,
        timeout: float = 10.0,
        enforce_role_hierarchy: bool = True,
    ) -> None:
        if bot.user is None:
            raise RuntimeError("log the bot in against the fake first: await bot.login('token')")
        self.bot = bot
        self.fake = fake
        self.timeout = timeout
        self.enforce_role_hierarchy = enforce_role_hierarchy
        self.state = bot._connection
        self.app_id: int = bot.application_id or fake.application_id
        self.default_guild_id: int | None = None
        self._default_channels: dict[int, int] = {}
        self._payload_roles: dict[tuple[int, int], list[str]] = {}  # last roles a test sent per member
        self._store_changed = asyncio.Event()
        self._hooked_store: Any = None
        self._errors = _ErrorLog()
        self._error_users = 0
        self._routes: list[RouteHandler] = [
            fake.route("PUT", r"^/guilds/(?P<gid>\d+)/members/(?P<uid>\d+)/roles/(?P<rid>\d+)$", self._on_role),
            fake.route("DELETE", r"^/guilds/(?P<gid>\d+)/members/(?P<uid>\d+)/roles/(?P<rid>\d+)$", self._on_role),
            fake.route("PATCH", r"^/guilds/(?P<gid>\d+)/members/(?P<uid>\d+)$", self._on_member_patch),
        ]
        self._hook_view_store()

    def close(self) -> None:
        """Remove the harness's fake routes and view-store hook (the bot is left as is)."""
        for handler in self._routes:
            self.fake.remove_route(handler)
        store = self._hooked_store
        if store is not None:
            store.__dict__.pop("add_view", None)
            store.__dict__.pop("add_dynamic_items", None)
        self._hooked_store = None

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.close()

    # --- guild cache ---------------------------------------------------------------------

    def add_guild(
        self,
        guild_id: int,
        *,
        name: str = "Test Guild",
        owner_id: int,
        roles: Sequence[Mapping[str, Any]] = (),
        members: Sequence[Mapping[str, Any]] = (),
        channels: Sequence[Mapping[str, Any]] | None = None,
        me_permissions: int = builders.DEFAULT_APP_PERMISSIONS,
        me_role_position: int | None = None,
    ) -> discord.Guild:
        """Put a real ``discord.Guild`` in the bot's cache (as GUILD_CREATE would).

        ``roles``/``members``/``channels`` are ``builders.role/member/channel`` payloads;
        ``@everyone`` is added if missing, and one text channel if ``channels`` is None.
        The bot joins as a member with a managed role granting ``me_permissions``, placed
        above all ``roles`` unless ``me_role_position`` says otherwise. The first guild added
        becomes ``default_guild_id``.
        """
        assert self.bot.user is not None
        if channels is None:
            channels = [builders.channel(builders.snowflake(), guild_id=guild_id, name="general")]
        top = max((int(r.get("position", 0)) for r in roles), default=0)
        bot_role = builders.role(
            builders.snowflake(),
            self.bot.user.name,
            permissions=me_permissions,
            position=top + 1 if me_role_position is None else me_role_position,
            managed=True,
            tags={"bot_id": str(self.bot.user.id)},
        )
        me = builders.member(self.bot.user.id, roles=[int(bot_role["id"])], username=self.bot.user.name, bot=True)
        data = builders.guild_payload(
            guild_id,
            name=name,
            owner_id=owner_id,
            roles=[*roles, bot_role],
            members=[*members, me],
            channels=channels,
        )
        guild = self.state._add_guild_from_data(data)  # type: ignore[arg-type]
        # Members are cached regardless of the members intent, as if chunked.
        for m in data["members"]:
            if guild.get_member(int(m["user"]["id"])) is None:
                guild._add_member(discord.Member(data=m, guild=guild, state=self.state))
            self._payload_roles[(guild_id, int(m["user"]["id"]))] = list(m["roles"])
        for c in data["channels"]:
            self.fake.channel_guilds[int(c["id"])] = guild_id
        if data["channels"]:
            self._default_channels[guild_id] = int(data["channels"][0]["id"])
        if self.default_guild_id is None:
            self.default_guild_id = guild_id
        return guild

    # --- user actions -----------------------------------------------------------------------

    async def slash(
        self,
        name: str,
        /,
        *,
        group: str | None = None,
        sub: str | None = None,
        member: Mapping[str, Any] | None = None,
        user: Mapping[str, Any] | None = None,
        guild_id: int | None = None,
        channel_id: int | None = None,
        options: Mapping[str, Any] | None = None,
        resolved: Mapping[str, Any] | None = None,
        app_permissions: int | None = None,
        locale: str = "en-US",
        timeout: float | None = None,
        **kwoptions: Any,
    ) -> Reply:
        """Run ``/name [group] [sub] option=value...`` and return the initial callback.

        ``name`` may also be the full path (``"duty shift start"``). Options are keyword
        arguments, or ``options={...}`` for names that clash with this signature.
        """
        name, group, sub = self._split(name, group, sub)
        ctx = self._where(member, user, guild_id, channel_id, app_permissions)
        opts = self._typed_options(name, group, sub, ctx["guild_id"], {**(options or {}), **kwoptions})
        payload = builders.slash_payload(
            name,
            app_id=self.app_id,
            group=group,
            sub=sub,
            options=opts,
            resolved=resolved,
            locale=locale,
            command_guild_id=self._command_guild(name, ctx["guild_id"]),
            **ctx,
        )
        return await self._inject(payload, f"/{' '.join(p for p in (name, group, sub) if p)}", timeout)

    async def autocomplete(
        self,
        name: str,
        /,
        *,
        focused: str | None = None,
        group: str | None = None,
        sub: str | None = None,
        member: Mapping[str, Any] | None = None,
        user: Mapping[str, Any] | None = None,
        guild_id: int | None = None,
        channel_id: int | None = None,
        options: Mapping[str, Any] | None = None,
        app_permissions: int | None = None,
        timeout: float | None = None,
        **kwoptions: Any,
    ) -> list[dict[str, Any]]:
        """Type into option ``focused`` (default: the last option given) and return the
        choices the bot offers (``[{"name": ..., "value": ...}, ...]``)."""
        name, group, sub = self._split(name, group, sub)
        all_options = {**(options or {}), **kwoptions}
        if not all_options:
            raise ValueError("autocomplete needs the focused option's partial value")
        focused = focused or list(all_options)[-1]
        ctx = self._where(member, user, guild_id, channel_id, app_permissions)
        opts = self._typed_options(name, group, sub, ctx["guild_id"], all_options, focused=focused)
        payload = builders.autocomplete_payload(
            name,
            focused=focused,
            app_id=self.app_id,
            group=group,
            sub=sub,
            options=opts,
            command_guild_id=self._command_guild(name, ctx["guild_id"]),
            **ctx,
        )
        reply = await self._inject(payload, f"autocomplete /{name} {focused}", timeout)
        if reply.callback_type != 8:
            raise AssertionError(f"expected an autocomplete answer (type 8), got {reply!r}")
        if reply.status != 200:
            raise AssertionError(f"Discord refused the autocomplete answer: {reply.request.response}")
        return reply.choices

    async def click(
        self,
        custom_id: str,
        /,
        *,
        message: MessageLike,
        member: Mapping[str, Any] | None = None,
        user: Mapping[str, Any] | None = None,
        guild_id: int | None = None,
        channel_id: int | None = None,
        component_type: int | None = None,
        values: Sequence[str] | None = None,
        app_permissions: int | None = None,
        timeout: float | None = None,
        view_wait: float = 2.0,
    ) -> Reply:
        """Click button ``custom_id`` (or pick ``values`` in a string select) on ``message``
        (a message payload or a ``Reply``). The message's current state in the fake is used,
        as Discord sends the message as it is now.

        Responses that carry a view are stored by discord.py only after the HTTP answer is
        processed; the click therefore waits up to ``view_wait`` s, event-driven, until the
        bot's view store can dispatch it (0 to skip, e.g. to test an expired view).
        """
        msg = self._message_dict(message)
        comp = next((c for c in _walk_components(msg.get("components")) if c.get("custom_id") == custom_id), None)
        if msg.get("components") and comp is None:
            raise ValueError(f"message {msg['id']} has no component {custom_id!r}; has {custom_ids(msg['components'])}")
        if comp is not None and comp.get("disabled"):
            raise ValueError(f"component {custom_id!r} is disabled: Discord would not send this click")
        if component_type is None:
            component_type = int(comp["type"]) if comp is not None else (3 if values is not None else 2)
        if guild_id is None and member is not None and msg.get("guild_id"):
            guild_id = int(msg["guild_id"])  # the click happens where the message is
        ctx = self._where(member, user, guild_id, channel_id or int(msg["channel_id"]), app_permissions)
        payload = builders.click_payload(
            custom_id,
            app_id=self.app_id,
            message=msg,
            component_type=component_type,
            values=values,
            **ctx,
        )
        if view_wait > 0:
            await self._wait_dispatchable(
                lambda: self._view_ready(component_type, custom_id, msg), view_wait
            )
        return await self._inject(payload, f"click {custom_id!r} on message {msg['id']}", timeout)

    async def submit_modal(
        self,
        modal: Reply | str,
        values: Mapping[str, str],
        *,
        member: Mapping[str, Any] | None = None,
        user: Mapping[str, Any] | None = None,
        guild_id: int | None = None,
        channel_id: int | None = None,
        timeout: float | None = None,
        view_wait: float = 2.0,
    ) -> Reply:
        """Submit the modal a previous reply opened (callback type 9). ``values`` maps each
        text input's custom_id *or label* to the text typed."""
        if isinstance(modal, Reply):
            if modal.modal is None:
                raise ValueError(f"{modal!r} did not open a modal")
            custom_id = str(modal.modal["custom_id"])
            labels = self._modal_labels(modal.modal.get("components") or [])
        else:
            custom_id, labels = modal, {}
        by_id = {labels.get(k, k): v for k, v in values.items()}
        ctx = self._where(member, user, guild_id, channel_id, None)
        ctx.pop("app_permissions", None)
        payload = builders.modal_submit_payload(custom_id, app_id=self.app_id, values=by_id, **ctx)
        if view_wait > 0:
            await self._wait_dispatchable(
                lambda: custom_id in getattr(self.state._view_store, "_modals", {}), view_wait
            )
        return await self._inject(payload, f"modal {custom_id!r}", timeout)

    async def inject(self, payload: Mapping[str, Any], *, timeout: float | None = None) -> Reply:
        """Inject a hand-built INTERACTION_CREATE payload and wait for its callback."""
        return await self._inject(payload, f"interaction {payload.get('id')}", timeout)

    # --- internals ----------------------------------------------------------------------

    @staticmethod
    def _split(name: str, group: str | None, sub: str | None) -> tuple[str, str | None, str | None]:
        parts = name.split()
        if len(parts) == 3:
            return parts[0], parts[1], parts[2]
        if len(parts) == 2:
            return parts[0], group, parts[1]
        return name, group, sub

    def _where(
        self,
        member: Mapping[str, Any] | None,
        user: Mapping[str, Any] | None,
        guild_id: int | None,
        channel_id: int | None,
        app_permissions: int | None,
    ) -> dict[str, Any]:
        """Builder keywords for where the interaction happens (guild or DM) and who does it."""
        if member is not None and user is not None:
            raise ValueError("pass member= (guild) or user= (DM), not both")
        if member is not None:
            guild_id = guild_id if guild_id is not None else self.default_guild_id
            if guild_id is None:
                raise ValueError("member= needs guild_id= (or add_guild() first)")
            member = self._sync_member(guild_id, member)
        elif user is None:
            raise ValueError("pass member= (guild) or user= (DM)")
        else:
            guild_id = None
        guild = self.state._get_guild(guild_id) if guild_id is not None else None
        if app_permissions is None:
            me = guild.me if guild is not None else None
            app_permissions = me.guild_permissions.value if me is not None else builders.DEFAULT_APP_PERMISSIONS
        if channel_id is None:
            channel_id = self._default_channels.get(guild_id or 0, builders.DEFAULT_CHANNEL_ID)
        return {
            "guild_id": guild_id,
            "member": member,
            "user": user,
            "channel_id": channel_id,
            "app_permissions": app_permissions,
        }

    def _sync_member(self, guild_id: int, member: Mapping[str, Any]) -> dict[str, Any]:
        """Keep the guild cache and the member payload consistent, like Discord would.

        New members are cached. For known members the cache wins (it holds roles the bot
        granted through the fake), unless the test changed the payload's roles since the
        last interaction: then the payload wins and is applied like GUILD_MEMBER_UPDATE.
        """
        payload = copy.deepcopy(dict(member))
        guild = self.state._get_guild(guild_id)
        if guild is None:
            return payload
        uid = int(payload["user"]["id"])
        key = (guild_id, uid)
        cached = guild.get_member(uid)
        roles = [str(r) for r in payload.get("roles", [])]
        if cached is None:
            data = {k: v for k, v in payload.items() if k != "permissions"}
            guild._add_member(discord.Member(data=data, guild=guild, state=self.state))  # type: ignore[arg-type]
        elif self._payload_roles.get(key) != roles:
            self._member_update(guild, cached, [int(r) for r in roles], nick=payload.get("nick"))
        else:
            payload["roles"] = [str(r) for r in cached._roles]
        self._payload_roles[key] = roles
        return payload

    def _member_update(
        self, guild: discord.Guild, member: discord.Member, roles: Sequence[int], *, nick: Any = ...
    ) -> None:
        """Apply a change through the gateway's own GUILD_MEMBER_UPDATE parser
        (dispatches ``on_member_update`` like Discord would)."""
        u = member._user
        data: dict[str, Any] = {
            "guild_id": str(guild.id),
            "user": {
                "id": str(u.id),
                "username": u.name,
                "discriminator": u.discriminator,
                "global_name": u.global_name,
                "avatar": u._avatar,
            },
            "roles": [str(r) for r in roles],
            "nick": member.nick if nick is ... else nick,
            "joined_at": member.joined_at.isoformat() if member.joined_at else None,
            "flags": member._flags,
            "pending": member.pending,
        }
        self.state.parse_guild_member_update(data)  # type: ignore[arg-type]

    def _role_change_denied(self, guild: discord.Guild, role: discord.Role) -> Answer | None:
        if not self.enforce_role_hierarchy:
            return None
        me = guild.me
        if me is None or guild.owner_id == me.id:
            return None
        perms = me.guild_permissions
        if not (perms.manage_roles or perms.administrator):
            return _error(403)
        if role.is_default() or role.managed or role >= me.top_role:
            return _error(403)
        return None

    def _on_role(self, rec: Recorded, m: re.Match[str]) -> Answer | None:
        guild = self.state._get_guild(int(m["gid"]))
        if guild is None:
            return None  # not a cached guild: plain 204
        role = guild.get_role(int(m["rid"]))
        if role is None:
            return _error(404, "Unknown Role", 10011)
        denied = self._role_change_denied(guild, role)
        if denied is not None:
            return denied
        member = guild.get_member(int(m["uid"]))
        if member is not None:
            roles = [r for r in member._roles if r != role.id]
            if rec.method == "PUT":
                roles.append(role.id)
            self._member_update(guild, member, roles)
        return 204, None

    def _on_member_patch(self, rec: Recorded, m: re.Match[str]) -> Answer | None:
        guild = self.state._get_guild(int(m["gid"]))
        member = guild.get_member(int(m["uid"])) if guild is not None else None
        if guild is None or member is None:
            return None
        body = rec.json or {}
        roles = list(member._roles)
        if "roles" in body:
            new = [int(r) for r in body["roles"] or []]
            for rid in set(new) ^ set(roles):
                role = guild.get_role(rid)
                if role is None:
                    return _error(400, "Invalid Form Body", 50035)
                denied = self._role_change_denied(guild, role)
                if denied is not None:
                    return denied
            roles = new
        nick = body["nick"] if "nick" in body else ...
        self._member_update(guild, member, roles, nick=nick)
        updated = guild.get_member(member.id)
        assert updated is not None
        payload = builders.member(
            updated.id, roles=updated._roles, nick=updated.nick, username=updated.name, bot=updated.bot
        )
        payload.pop("permissions")
        return 200, payload

    def _command_guild(self, name: str, guild_id: int | None) -> int | None:
        """``data.guild_id`` for a command registered only to this guild (tree lookup)."""
        tree = self.state._command_tree
        if tree is None or guild_id is None or tree.get_command(name) is not None:
            return None
        return guild_id if tree.get_command(name, guild=discord.Object(guild_id)) is not None else None

    def _typed_options(
        self,
        name: str,
        group: str | None,
        sub: str | None,
        guild_id: int | None,
        options: Mapping[str, Any],
        *,
        focused: str | None = None,
    ) -> dict[str, Any]:
        """Check the options against the command in ``bot.tree`` (catching test typos early,
        where discord.py would only log an error) and give plain values the option type the
        command declares (e.g. an int for a ``float`` parameter becomes a number option), as
        Discord's client would."""
        params = self._declared_params(name, group, sub, guild_id)
        if params is None:
            return dict(options)
        path = " ".join(p for p in (name, group, sub) if p)
        unknown = [k for k in options if k not in params]
        if unknown:
            raise ValueError(f"/{path} has no option(s) {unknown}; it has {sorted(params)}")
        missing = [k for k, (_, required) in params.items() if required and k not in options]
        if missing and focused is None:
            raise ValueError(f"/{path} requires option(s) {missing}")
        out: dict[str, Any] = {}
        for key, value in options.items():
            t = params[key][0]
            if isinstance(value, (str, int, float)) and not isinstance(value, bool):
                if key == focused:
                    value = builders.Opt(str(value), t)  # Discord sends the raw text typed so far
                elif t == 3:
                    value = builders.Opt(str(value), 3)
                elif t == 10:
                    value = builders.Opt(float(value), 10)
            out[key] = value
        return out

    def _declared_params(
        self, name: str, group: str | None, sub: str | None, guild_id: int | None
    ) -> dict[str, tuple[int, bool]] | None:
        """option name -> (option type, required) from ``bot.tree``; None without a tree."""
        tree = self.state._command_tree
        if tree is None:
            return None
        cmd: Any = tree.get_command(name, guild=discord.Object(guild_id)) if guild_id else None
        if cmd is None:
            cmd = tree.get_command(name)
        for part in (group, sub):
            if part is not None:
                cmd = cmd.get_command(part) if isinstance(cmd, app_commands.Group) else None
        if not isinstance(cmd, app_commands.Command):
            path = " ".join(p for p in (name, group, sub) if p)
            raise ValueError(f"no chat-input command /{path} in bot.tree (use Harness.inject for odd payloads)")
        return {p.display_name: (p.type.value, p.required) for p in cmd.parameters}

    def _message_dict(self, message: MessageLike) -> dict[str, Any]:
        if isinstance(message, Reply):
            if message.message is None:
                raise ValueError(f"{message!r} has no message to click on")
            message = message.message
        mid = int(message["id"])
        current = self.fake.messages.get(mid)
        return copy.deepcopy(current if current is not None else dict(message))

    @staticmethod
    def _modal_labels(components: Sequence[Mapping[str, Any]]) -> dict[str, str]:
        """label -> custom_id for the modal's text inputs (legacy rows and Label components)."""
        labels: dict[str, str] = {}
        for comp in _walk_components(components):
            if comp.get("type") == 18 and isinstance(comp.get("component"), Mapping):  # Label
                inner = comp["component"]
                if "custom_id" in inner and comp.get("label"):
                    labels[str(comp["label"])] = str(inner["custom_id"])
            elif comp.get("type") == 4 and comp.get("label") and "custom_id" in comp:
                labels[str(comp["label"])] = str(comp["custom_id"])
        return labels

    def _hook_view_store(self) -> None:
        """Wrap the view store's add methods (on the instance) to signal waiting clicks."""
        store = self.state._view_store
        if store is self._hooked_store:
            return
        harness = self

        def wrap(name: str) -> None:
            original = getattr(type(store), name)

            def hooked(*args: Any, **kwargs: Any) -> Any:
                try:
                    return original(store, *args, **kwargs)
                finally:
                    harness._store_changed.set()

            setattr(store, name, hooked)

        wrap("add_view")
        wrap("add_dynamic_items")
        self._hooked_store = store

    def _view_ready(self, component_type: int, custom_id: str, message: Mapping[str, Any]) -> bool:
        store = self.state._view_store
        if any(p.fullmatch(custom_id) for p in getattr(store, "_dynamic_items", {})):
            return True
        views: dict[Any, dict[Any, Any]] = getattr(store, "_views", {})
        key = (component_type, custom_id)
        ids: list[int | None] = [int(message["id"]), None]
        meta = message.get("interaction_metadata")
        if meta:  # discord.py <= 2.7.0 keys response views by interaction id
            ids.append(int(meta["id"]))
        return any(key in views.get(i, {}) for i in ids)

    async def _wait_dispatchable(self, ready: Callable[[], bool], timeout: float) -> None:
        self._hook_view_store()
        deadline = asyncio.get_running_loop().time() + timeout
        while not ready():
            remaining = deadline - asyncio.get_running_loop().time()
            if remaining <= 0:
                log.debug("no view/modal ready to dispatch after %.1fs; injecting anyway", timeout)
                return
            self._store_changed.clear()
            try:
                await asyncio.wait_for(self._store_changed.wait(), remaining)
            except TimeoutError:
                pass

    def _error_summary(self) -> str:
        if not self._errors.records:
            return ""
        return "\nrecent discord.py errors:\n  " + "\n  ".join(self._errors.records)

    async def _inject(self, payload: Mapping[str, Any], describe: str, timeout: float | None) -> Reply:
        timeout = self.timeout if timeout is None else timeout
        ctx = self.fake.register_interaction(payload)
        session = _Session(self, ctx, describe)
        path = f"/interactions/{ctx.id}/{ctx.token}/callback"
        since = len(self.fake.requests)
        if self._error_users == 0:
            self._errors.records.clear()
            logging.getLogger("discord").addHandler(self._errors)
        self._error_users += 1
        try:
            started = time.monotonic()
            # discord.py may mutate what it parses (e.g. resolved members): give it a copy
            self.state.parse_interaction_create(copy.deepcopy(dict(payload)))  # type: ignore[arg-type]
            try:
                rec = await self.fake.wait_for(lambda r: r.method == "POST" and r.path == path, timeout, since=since)
            except FakeTimeout:
                raise NoResponse(
                    f"{describe}: no interaction callback within {timeout}s{self._error_summary()}"
                ) from None
        finally:
            self._error_users -= 1
            if self._error_users == 0:
                logging.getLogger("discord").removeHandler(self._errors)
        await rec.answered.wait()
        if not rec.ok:  # e.g. fail_next() on the callback: the bot saw an HTTPException
            log.debug("%s: callback answered %s %s", describe, rec.status, rec.response)
        session.callback_seq = session.cursor = rec.seq
        return Reply(session, rec, kind="callback", ack_time=rec.time - started)
