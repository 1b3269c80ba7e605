"""The PRC (ER:LC private server) API client, implementing the game server port (`port.GameServerPort`).

One `aiohttp.ClientSession` (the bot's) carries every request. v2 `GET /v2/server` is read with only the
sections asked for; v1 where v2 has no equivalent (bans). Every request first waits for room in its PRC
bucket (`ratelimit.PrcRateLimiter`, shared by every server of the bot), then is sent once: retrying is the
caller's choice (the poller backs off), because PRC penalises repeated failing requests.

Errors map to the port's typed errors by the body's `code` first, the HTTP status second: 2000, 2001, 2002 and
2004 key invalid (the server's key: stop using it), 2003 `PrcGlobalKeyInvalid` (a refusal: the bot's own global
key is wrong, no server's key is, so no server is disconnected for it, and nothing is sent for a while),
4001 / 429 rate limited (with `retry_after`), 1001, 1002, 9999, 5xx, timeouts and connection errors temporary,
anything else refused. 3002 (the server is offline: nobody in game) is a normal state: an empty
snapshot with `online` False. No answer is read beyond `max_answer_bytes`.

A server key never appears in a log line, an exception or a repr: messages are the client's own words, never
PRC's text, and keys are named by `ratelimit.key_tag` where one must be told apart.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from pydantic import ValidationError

from bot.erlc.models import (
    EmergencyCall,
    JoinLog,
    Player,
    ServerV2,
    StaffV2,
    Vehicle,
    parse_bans,
    parse_items,
    parse_queue,
)
from bot.erlc.port import (
    GameCall,
    GameJoin,
    GameKeyInvalid,
    GamePlayer,
    GameRateLimited,
    GameRefused,
    GameSnapshot,
    GameTemporary,
)
from bot.erlc.ratelimit import PrcRateLimiter, RateLimitState, key_tag
from bot.northca.client import Secret, is_loopback_host

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://api.policeroleplay.community"
# A v2 read with every section of a full server is a few tens of KiB; 1 MiB is plenty.
MAX_ANSWER_BYTES = 1024 * 1024
# Used when a 429 says nothing of when to come back.
DEFAULT_RETRY_AFTER = 5.0
_READ_CHUNK = 64 * 1024
# What a key may hold: visible ASCII, no spaces (it travels in an HTTP header).
_KEY_SHAPE = re.compile(r"[\x21-\x7e]{1,512}")

RATE_LIMIT_HEADERS = ("X-RateLimit-Bucket", "X-RateLimit-Limit", "X-RateLimit-Remaining", "X-RateLimit-Reset")
# The server's key is at fault: stop using it (the caller marks the server disconnected).
KEY_INVALID_CODES = frozenset({2000, 2001, 2002, 2004})
# The bot's own global key is at fault (2003): every server is affected and no server's key is wrong.
GLOBAL_KEY_INVALID_CODE = 2003
# After a 2003 the client sends nothing for this long (PRC penalises repeated invalid requests), then one probe.
GLOBAL_KEY_PAUSE_SECONDS = 300.0
TEMPORARY_CODES = frozenset({0, 1001, 1002, 9999})
OFFLINE_CODE = 3002
RATE_LIMITED_CODE = 4001

# Our own words for each code (PRC's text is never passed on).
CODE_MEANINGS: dict[int, str] = {
    0: "unknown error",
    1001: "PRC could not reach the game server",
    1002: "PRC internal error",
    2000: "no server key was sent",
    2001: "the server key is badly formatted",
    2002: "the server key is invalid or expired",
    2003: "the global API key is invalid",
    2004: "the server key is banned from the API",
    3001: "not a valid command",
    3002: "the server is offline (nobody in game)",
    4001: "rate limited",
    4002: "the command is restricted",
    4003: "the message is prohibited",
    9998: "the resource is restricted",
    9999: "the in-game module is outdated (the server must restart)",
}


class PrcAnswerTooLarge(GameTemporary):
    """PRC's answer was larger than the client reads; refused unread (temporary: the poller backs off)."""


class PrcGlobalKeyInvalid(GameRefused):
    """PRC refused the bot's global key (2003): a problem of the bot's configuration, not of any server's key,
    so no server is disconnected for it. Requests are not sent for `GLOBAL_KEY_PAUSE_SECONDS` after it."""

    kind = "global_key_invalid"


class _Offline(Exception):
    """3002: nobody in game (turned into an empty snapshot)."""


def check_base_url(base_url: str) -> None:
    """ValueError unless an http(s) URL, https unless on loopback (a key must never cross a network in clear)."""
    parts = urlsplit(base_url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http(s) URL such as https://api.policeroleplay.community")
    if parts.scheme != "https" and not is_loopback_host(parts.hostname):
        raise ValueError("must use https (plain http is only allowed on loopback, for the sandbox)")


class PrcClient:
    """The PRC API for every server of the bot (each call names its server by key)."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        base_url: str = DEFAULT_BASE_URL,
        *,
        global_key: str | None = None,
        timeout: float = 10.0,
        max_answer_bytes: int = MAX_ANSWER_BYTES,
        limiter: PrcRateLimiter | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        check_base_url(base_url)
        self._session = session
        self.base_url = base_url.rstrip("/")
        if global_key is not None and not _KEY_SHAPE.fullmatch(global_key):
            raise ValueError("the global key holds characters no key has (spaces, line breaks or non-ASCII)")
        self._global_key = Secret(global_key) if global_key else None
        self.timeout = timeout
        self.max_answer_bytes = max_answer_bytes
        self._clock = clock
        self.limiter = limiter or PrcRateLimiter(clock=clock)
        # Counters for /erlc status and benchmarks.
        self.requests_sent = 0
        self.items_dropped = 0
        self._global_key_refused_until = 0.0

    def __repr__(self) -> str:
        return f"<PrcClient base_url={self.base_url!r} global_key={'set' if self._global_key else 'unset'}>"

    def _now_ms(self) -> int:
        return int(self._clock() * 1000)

    def rate_limits(self) -> list[RateLimitState]:
        """Each PRC bucket's state (limit, remaining, reset) as last read from the headers."""
        return self.limiter.state()

    # --- the port -------------------------------------------------------------------------------

    async def snapshot(
        self, key: str, *, players: bool = True, queue: bool = False, calls: bool = False, joins: bool = False
    ) -> GameSnapshot:
        params = {
            name: "true"
            for name, wanted in (("Players", players), ("Queue", queue), ("EmergencyCalls", calls), ("JoinLogs", joins))
            if wanted
        }
        try:
            data = await self._request("GET", "/v2/server", key, params=params)
        except _Offline:
            return GameSnapshot(
                server_name="",
                owner_id=0,
                current_players=0,
                max_players=0,
                read_at_ms=self._now_ms(),
                online=False,
            )
        # When the answer came (not when the read was asked for: it may have waited for room in the bucket).
        read_at_ms = self._now_ms()
        server = _model(ServerV2, data, "GET /v2/server")
        return GameSnapshot(
            server_name=server.Name,
            owner_id=server.OwnerId,
            current_players=server.CurrentPlayers,
            max_players=server.MaxPlayers,
            players=tuple(self._players(server.Players)) if players else (),
            queue=tuple(parse_queue(server.Queue)) if queue else (),
            calls=tuple(self._calls(server.EmergencyCalls)) if calls else (),
            joins=tuple(self._joins(server.JoinLogs)) if joins else (),
            read_at_ms=read_at_ms,
            online=True,
        )

    # --- more of the API ------------------------------------------------------------------------

    async def staff(self, key: str) -> StaffV2:
        """The server's staff (`GET /v2/server?Staff=true`); empty while the server is offline."""
        try:
            data = await self._request("GET", "/v2/server", key, params={"Staff": "true"})
        except _Offline:
            return StaffV2()
        return _model(ServerV2, data, "GET /v2/server").Staff or StaffV2()

    async def vehicles(self, key: str) -> list[Vehicle]:
        """Vehicles spawned in the server (`GET /v2/server?Vehicles=true`); empty while it is offline."""
        try:
            data = await self._request("GET", "/v2/server", key, params={"Vehicles": "true"})
        except _Offline:
            return []
        parsed, dropped = parse_items(Vehicle, _model(ServerV2, data, "GET /v2/server").Vehicles, "Vehicles")
        self.items_dropped += dropped
        return parsed

    async def bans(self, key: str) -> dict[int, str]:
        """Banned players (user id -> name). v2 has no bans: `GET /v1/server/bans`."""
        try:
            data = await self._request("GET", "/v1/server/bans", key)
        except _Offline:
            return {}
        try:
            return parse_bans(data)
        except ValueError:
            raise GameTemporary("PRC answered GET /v1/server/bans with an unreadable body") from None

    async def command(self, key: str, command: str) -> None:
        """Run an in-game command (`POST /v2/server/command`, e.g. ":h Hello"). 3002 (nobody in game) is a
        refusal here: there is nobody to run it for."""
        if not command.startswith(":") or len(command) > 500 or "\n" in command:
            raise ValueError("a command starts with ':' and is one line of at most 500 characters")
        try:
            await self._request("POST", "/v2/server/command", key, body={"command": command})
        except _Offline:
            raise GameRefused("the server is offline (nobody in game): the command was not run") from None

    # --- parsing --------------------------------------------------------------------------------

    def _players(self, items: Any) -> list[GamePlayer]:
        parsed, dropped = parse_items(Player, items, "Players")
        self.items_dropped += dropped
        return [
            GamePlayer(
                user_id=p.Player.user_id,
                name=p.Player.name,
                team=p.Team,
                callsign=p.Callsign,
                permission=p.Permission,
                location=p.Location.describe() if p.Location else None,
            )
            for p in parsed
        ]

    def _calls(self, items: Any) -> list[GameCall]:
        parsed, dropped = parse_items(EmergencyCall, items, "EmergencyCalls")
        self.items_dropped += dropped
        return [
            GameCall(
                number=c.CallNumber,
                team=c.Team,
                caller_id=c.Caller,
                description=c.Description,
                location=c.PositionDescriptor,
                started_at_ms=c.StartedAt * 1000,
                players=tuple(c.Players),
                position=(c.Position[0], c.Position[1]) if len(c.Position) >= 2 else None,
            )
            for c in parsed
        ]

    def _joins(self, items: Any) -> list[GameJoin]:
        parsed, dropped = parse_items(JoinLog, items, "JoinLogs")
        self.items_dropped += dropped
        return [
            GameJoin(user_id=j.Player.user_id, name=j.Player.name, joined=j.Join, at_ms=j.Timestamp * 1000)
            for j in parsed
        ]

    # --- machinery ------------------------------------------------------------------------------

    async def _request(
        self,
        method: str,
        path: str,
        key: str,
        *,
        params: dict[str, str] | None = None,
        body: dict[str, Any] | None = None,
    ) -> Any:
        if not key:
            raise GameKeyInvalid("no server key is set for this server")
        if not _KEY_SHAPE.fullmatch(key):
            # Never sent: a header cannot carry it, and it cannot be a key PRC made.
            raise GameKeyInvalid("the server key holds characters no key has (spaces, line breaks or non-ASCII)")
        if self._clock() < self._global_key_refused_until:
            raise PrcGlobalKeyInvalid(
                "PRC refused the bot's global key ([erlc] global_key); nothing is sent until it is fixed"
            )
        route = f"command:{key_tag(key)}" if method == "POST" else "read"
        headers = {"Server-Key": key, "Accept": "application/json"}
        if self._global_key is not None:
            headers["Authorization"] = self._global_key.get()
        taken = await self.limiter.acquire(route)
        answer_headers: dict[str, str] | None = None
        retry_after: float | None = None
        bucket_hint: str | None = None
        try:
            self.requests_sent += 1
            started = time.perf_counter()
            try:
                async with self._session.request(
                    method,
                    self.base_url + path,
                    headers=headers,
                    params=params,
                    json=body,
                    timeout=aiohttp.ClientTimeout(total=self.timeout),
                    allow_redirects=False,
                ) as resp:
                    answer_headers = {name: resp.headers[name] for name in RATE_LIMIT_HEADERS if name in resp.headers}
                    status = resp.status
                    raw = await self._read_capped(resp, method, path)
            except TimeoutError:
                raise GameTemporary(f"PRC did not answer {method} {path} within {self.timeout:g}s") from None
            except aiohttp.ClientError as exc:
                raise GameTemporary(f"could not reach PRC for {method} {path} ({type(exc).__name__})") from None
            log.debug(
                "PRC %s %s (server %s) -> %s in %.0f ms",
                method,
                path,
                key_tag(key),
                status,
                (time.perf_counter() - started) * 1000,
            )
            try:
                return _interpret(method, path, status, raw)
            except GameRateLimited as exc:
                retry_after, bucket_hint = exc.retry_after, exc.bucket
                raise
            except PrcGlobalKeyInvalid:
                if self._global_key is None:
                    raise  # none was sent: nothing of ours to stop using
                self._global_key_refused_until = self._clock() + GLOBAL_KEY_PAUSE_SECONDS
                log.error(
                    "PRC refused the bot's global key ([erlc] global_key / ERLC_GLOBAL_KEY): no request is sent for"
                    " %.0f s; every server's reads wait, none is disconnected",
                    GLOBAL_KEY_PAUSE_SECONDS,
                )
                raise
        finally:
            self.limiter.release(
                route, taken, answer_headers, key=key, retry_after=retry_after, bucket_hint=bucket_hint
            )

    async def _read_capped(self, resp: aiohttp.ClientResponse, method: str, path: str) -> bytes:
        cap = self.max_answer_bytes
        if resp.content_length is not None and resp.content_length > cap:
            resp.close()
            raise self._too_large(method, path, f"{resp.content_length} bytes announced")
        body = bytearray()
        async for chunk in resp.content.iter_chunked(_READ_CHUNK):
            body += chunk
            if len(body) > cap:
                resp.close()  # drops the connection: the rest is never read
                raise self._too_large(method, path, f"more than {cap} bytes sent")
        return bytes(body)

    def _too_large(self, method: str, path: str, what: str) -> PrcAnswerTooLarge:
        log.warning(
            "PRC's answer to %s %s was refused unread: %s (the cap is %d)", method, path, what, self.max_answer_bytes
        )
        return PrcAnswerTooLarge(f"PRC sent an answer to {method} {path} larger than {self.max_answer_bytes} bytes")


def _interpret(method: str, path: str, status: int, raw: bytes) -> Any:
    """The answer's JSON, or the port's typed error."""
    data: Any = None
    if raw:
        try:
            data = json.loads(raw)
        except ValueError:
            data = None
    if 200 <= status < 300:
        if data is None and raw:
            raise GameTemporary(f"PRC answered {method} {path} with a body that is not JSON")
        return data
    code = data.get("code") if isinstance(data, dict) else None
    if isinstance(code, bool) or not isinstance(code, int):
        code = None
    where = f"{method} {path}"
    if code == OFFLINE_CODE:
        raise _Offline()
    if code == RATE_LIMITED_CODE or status == 429:
        retry_after = _retry_after(data)
        bucket = data.get("bucket") if isinstance(data, dict) and isinstance(data.get("bucket"), str) else None
        raise GameRateLimited(f"PRC rate limited {where}; retry after {retry_after:g}s", retry_after, bucket)
    meaning = CODE_MEANINGS.get(code, "unknown error") if code is not None else None
    told = (
        f"PRC refused {where} with code {code} ({meaning})"
        if code is not None
        else f"PRC answered {where} with HTTP {status}"
    )
    if code in KEY_INVALID_CODES:
        raise GameKeyInvalid(told)
    if code == GLOBAL_KEY_INVALID_CODE:
        raise PrcGlobalKeyInvalid(told)
    if code in TEMPORARY_CODES or status >= 500 or (code is None and status in (408, 425)):
        raise GameTemporary(told)
    raise GameRefused(told)


def _retry_after(data: Any) -> float:
    value = data.get("retry_after") if isinstance(data, dict) else None
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value < 0 or value != value:
        return DEFAULT_RETRY_AFTER
    return min(float(value), 300.0)


def _model(model: type[ServerV2], data: Any, where: str) -> ServerV2:
    try:
        return model.model_validate(data)
    except ValidationError:
        raise GameTemporary(f"PRC answered {where} with a body the client cannot read") from None


__all__ = [
    "CODE_MEANINGS",
    "DEFAULT_BASE_URL",
    "MAX_ANSWER_BYTES",
    "PrcAnswerTooLarge",
    "PrcClient",
    "PrcGlobalKeyInvalid",
]
