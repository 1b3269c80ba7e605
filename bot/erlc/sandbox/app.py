"""`PrcSandbox`: the aiohttp application serving the PRC API (v1 and v2), its rate limits, faults, recording,
and the sandbox-only admin routes; start and stop.

The order every API request goes through, as the notes describe PRC: the rate limit (every answer carries
the bucket's headers; over the limit: 429, code 4001, `retry_after`), an injected fault if one matches, the
keys (2000 none, 2001 malformed, 2002 unknown or revoked, 2003 bad global key, 2004 banned), 3002 while
nobody is in game, then the endpoint.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import aiohttp
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bot.erlc.sandbox import wire
from bot.erlc.sandbox.config import PrcSandboxConfig
from bot.erlc.sandbox.faults import Fault, Faults
from bot.erlc.sandbox.limits import FixedWindows, Verdict
from bot.erlc.sandbox.script import play, validate_script
from bot.erlc.sandbox.state import GameState
from bot.erlc.sandbox.webhooks import (
    WebhookSigner,
    custom_command,
    emergency_call,
    private_key_from_raw_b64,
    private_key_raw_b64,
    webhook_probe,
)
from bot.erlc.sandbox.wire import PrcError

log = logging.getLogger(__name__)

# assumption: PRC's key format is not documented; the sandbox calls malformed a key that is empty after
# trimming, longer than this, or holds characters other than printable ASCII without spaces.
MAX_KEY_LENGTH = 256
_KEY_SHAPE = re.compile(r"[\x21-\x7e]+")

Endpoint = Callable[[web.Request, str], Awaitable[web.Response]]


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: bytes
    status: int = 0
    at: float = 0.0  # the sandbox's clock (epoch seconds) when it arrived


class PrcSandbox(GameState):
    """A local PRC API. The game state methods (`add_server`, `join`, `leave`, `set_team`, `set_callsign`,
    `add_emergency_call`, `revoke_key`, ...) come from `GameState`; faults from `inject`."""

    def __init__(self, config: PrcSandboxConfig | None = None, *, clock: Callable[[], float] = time.time) -> None:
        super().__init__(config or PrcSandboxConfig(), clock)
        self.faults = Faults()
        self.limits = FixedWindows(clock)
        self.requests: deque[RecordedRequest] = deque(maxlen=100_000)
        self.signer = WebhookSigner(self._signing_key(), clock)
        self.app = self._build_app()
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None
        self._scripts: set[asyncio.Task[list[Any]]] = set()
        self._deliveries: set[asyncio.Task[int | None]] = set()
        self.webhook_statuses: list[int] = []  # what the event webhook answered, in order
        self.base_url: str | None = None

    # --- life -----------------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve on host:port (0 picks a free port); returns the base URL (the client adds /v1 or /v2)."""
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False, shutdown_timeout=0.5)
        await self._runner.setup()
        await web.TCPSite(self._runner, host, port).start()
        bound = self._runner.addresses[0]
        self.base_url = f"http://{host}:{bound[1]}"
        log.info("PRC sandbox listening on %s", self.base_url)
        return self.base_url

    async def stop(self) -> None:
        for task in list(self._scripts) + list(self._deliveries):
            task.cancel()
        if self._session is not None:
            await self._session.close()
            self._session = None
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        self.close()

    async def __aenter__(self) -> PrcSandbox:
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.stop()

    # --- faults, scripts, webhooks ------------------------------------------------------------------

    def inject(
        self,
        code: int | None = None,
        status: int | None = None,
        times: int = 1,
        key: str | None = None,
        *,
        path: str | None = None,
        retry_after: float = 1.0,
        hang_seconds: float | None = None,
        body_bytes: int | None = None,
        raw_body: bytes | None = None,
        announce_length: bool = True,
    ) -> None:
        """The next `times` requests (with server key `key`, on paths matching `path`) answer this instead:
        a PRC error `code` (with its HTTP status, or `status`), a bare HTTP `status`, a hang, an oversized
        200 of `body_bytes`, or `raw_body` as is."""
        self.faults.add(
            Fault(
                code=code,
                status=status,
                times=times,
                key=key,
                path=re.compile(path) if path else None,
                retry_after=retry_after,
                hang_seconds=hang_seconds,
                body_bytes=body_bytes,
                raw_body=raw_body,
                announce_length=announce_length,
            )
        )

    def clear_faults(self) -> None:
        self.faults.clear()

    def play(self, steps: Sequence[dict[str, Any]], *, speed: float = 1.0) -> asyncio.Task[list[Any]]:
        """Replay a script of events in the background (see `script`); await the task to wait for its end.
        A script that is not valid raises ScriptError here, before anything is applied."""
        checked = validate_script(list(steps))
        task = asyncio.get_running_loop().create_task(play(self, checked, speed=speed))
        self._scripts.add(task)
        task.add_done_callback(self._script_done)
        return task

    def _script_done(self, task: asyncio.Task[list[Any]]) -> None:
        self._scripts.discard(task)
        if not task.cancelled() and task.exception() is not None:
            log.warning("PRC sandbox script stopped: %s", task.exception())

    # --- the event webhook, as PRC drives it --------------------------------------------------------

    async def set_event_webhook(self, key: str, url: str | None) -> int | None:
        """The owner saves (or clears) the server's "Event Webhook" URL; PRC then sends a `WebhookProbe`.
        Returns the receiver's HTTP status (None: nothing sent or not delivered)."""
        self._store_event_webhook(key, url)
        return await self._deliver(key, [webhook_probe()]) if url else None

    async def chat(self, key: str, user_id: int, message: str) -> int | None:
        """A player in game types in the chat. A message starting with `;` is a custom command and reaches the
        event webhook as `CustomCommand` (`;verify 4KX2`: command "verify", argument "4KX2"); others go nowhere.
        Returns the receiver's HTTP status (None: not a custom command, no webhook, or not delivered)."""
        if self.player(key, user_id) is None:
            raise KeyError(f"player {user_id} is not in that server")
        if not message.startswith(";"):
            return None
        command, _, argument = message[1:].strip().partition(" ")
        return await self._deliver(key, [custom_command(int(user_id), command, argument.strip())])

    def add_emergency_call(
        self,
        key: str,
        team: str = "Police",
        caller: int | None = None,
        description: str | None = None,
        *,
        position: tuple[float, float] = (0.0, 0.0),
        descriptor: str | None = None,
        players: list[int] | None = None,
    ) -> int:
        """A 911 call (see `GameState`); with an event webhook set, `EmergencyCallStarted` is sent to it in the
        background (`await sandbox.events_sent()` waits for it)."""
        number = super().add_emergency_call(
            key, team, caller, description, position=position, descriptor=descriptor, players=players
        )
        self._call_event(key, number, "EmergencyCallStarted")
        return number

    def end_emergency_call(self, key: str, number: int) -> None:
        self._call_event(key, number, "EmergencyCallEnded")
        super().end_emergency_call(key, number)

    def _call_event(self, key: str, number: int, name: str) -> None:
        if self.event_webhook(key) is None:
            return
        row = self.db.execute("SELECT * FROM calls WHERE key = ? AND number = ?", (key, number)).fetchone()
        if row is None:
            return
        event = emergency_call(
            name,
            call_number=number,
            team=row["team"],
            caller=row["caller"],
            players=json.loads(row["players"]),
            description=row["description"],
            position=(row["x"], row["z"]),
            position_descriptor=row["descriptor"],
            started_at=row["started_at"],
        )
        try:
            task = asyncio.get_running_loop().create_task(self._deliver(key, [event]))
        except RuntimeError:
            return  # no event loop (a synchronous script): nothing is sent
        self._deliveries.add(task)
        task.add_done_callback(self._deliveries.discard)

    async def events_sent(self) -> None:
        """Wait until the webhook deliveries started so far are done."""
        while self._deliveries:
            await asyncio.gather(*list(self._deliveries), return_exceptions=True)

    async def _deliver(self, key: str, events: Sequence[dict[str, Any]]) -> int | None:
        url = self.event_webhook(key)
        if url is None:
            return None
        try:
            status = await self.send_event(url, key, events)
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.info("PRC sandbox: the event webhook was not reached (%s)", type(exc).__name__)
            return None
        self.webhook_statuses.append(status)
        return status

    @property
    def public_key_b64(self) -> str:
        """The webhook public key as PRC publishes its own: SPKI DER, base64."""
        return self.signer.public_key_b64

    async def send_event(
        self, url: str, server_name_or_key: str, events: Sequence[dict[str, Any]], *, timeout: float = 10.0
    ) -> int:
        """POST the events to `url`, signed; returns the HTTP status the receiver answered."""
        server = server_name_or_key
        if self.key_state(server_name_or_key) is not None:
            server = self.server_name(server_name_or_key)
        signed = self.signer.sign(self.signer.payload(server, events))
        return await self.post_signed(url, signed.body, signed.headers, timeout=timeout)

    async def post_signed(self, url: str, body: bytes, headers: dict[str, str], *, timeout: float = 10.0) -> int:
        """POST a body with the given headers (a forged, stale or tampered request from `signer`)."""
        if self._session is None:
            self._session = aiohttp.ClientSession()
        async with self._session.post(
            url, data=body, headers=headers, timeout=aiohttp.ClientTimeout(total=timeout), allow_redirects=False
        ) as resp:
            await resp.read()
            return resp.status

    def _signing_key(self) -> Ed25519PrivateKey:
        # Kept in the state file, so a sandbox run from the CLI keeps its public key across restarts.
        stored = self.meta("webhook_private_key")
        if stored:
            return private_key_from_raw_b64(stored)
        key = Ed25519PrivateKey.generate()
        self.set_meta("webhook_private_key", private_key_raw_b64(key))
        return key

    # --- the application ------------------------------------------------------------------------

    def _build_app(self) -> web.Application:
        from bot.erlc.sandbox.admin import add_admin_routes

        app = web.Application(client_max_size=64 * 1024)
        routes: list[tuple[str, str, Endpoint]] = [
            ("GET", "/v1/server", self._v1_server),
            ("GET", "/v1/server/players", self._v1_players),
            ("GET", "/v1/server/joinlogs", self._v1_joinlogs),
            ("GET", "/v1/server/queue", self._v1_queue),
            ("GET", "/v1/server/killlogs", self._v1_empty_list),
            ("GET", "/v1/server/commandlogs", self._v1_commandlogs),
            ("GET", "/v1/server/modcalls", self._v1_empty_list),
            ("GET", "/v1/server/bans", self._v1_bans),
            ("GET", "/v1/server/vehicles", self._v1_vehicles),
            ("GET", "/v1/server/staff", self._v1_staff),
            ("POST", "/v1/server/command", self._v1_command),
            ("GET", "/v2/server", self._v2_server),
            ("POST", "/v2/server/command", self._v2_command),
        ]
        for method, path, endpoint in routes:
            app.router.add_route(method, path, self._api(endpoint))
        # Anything else under the API: 404, with the rate-limit headers too (every answer carries them).
        for prefix in ("/v1", "/v2"):
            app.router.add_route("*", prefix + "/{tail:.*}", self._api(None))
        add_admin_routes(app, self)
        return app

    def _api(self, endpoint: Endpoint | None) -> Callable[[web.Request], Awaitable[web.StreamResponse]]:
        """The handler of an API route (`endpoint` None: a path the API does not have)."""

        async def handle(request: web.Request) -> web.StreamResponse:
            body = await request.read()
            record = None
            if self.config.record_requests:
                record = RecordedRequest(
                    request.method,
                    request.path,
                    dict(request.query),
                    {k.lower(): v for k, v in request.headers.items()},
                    body,
                    at=self.clock(),
                )
                self.requests.append(record)
            if endpoint is None:
                response = await self._unknown(request)
            else:
                response = await self._answer(request, endpoint)
            if record is not None:
                record.status = response.status
            return response

        return handle

    async def _answer(self, request: web.Request, endpoint: Endpoint) -> web.StreamResponse:
        if self.faults.latency:
            await asyncio.sleep(self.faults.latency)
        key = request.headers.get("Server-Key")
        verdict = self._rate_limit(request, key)
        headers = verdict.headers()
        if not verdict.allowed:
            return wire.rate_limited_response(verdict.retry_after, verdict.bucket, headers)
        fault = self.faults.take(key, request.path)
        if fault is not None:
            faulty = await self._fault_answer(request, fault, headers)
            if faulty is not None:
                return faulty
        try:
            server_key = self._authenticate(request, key)
            if self.config.offline_when_empty and self.player_count(server_key) == 0:
                raise PrcError(3002)
            response = await endpoint(request, server_key)
        except PrcError as exc:
            return wire.error_response(exc, headers)
        response.headers.update(headers)
        return response

    async def _unknown(self, request: web.Request) -> web.StreamResponse:
        verdict = self._rate_limit(request, request.headers.get("Server-Key"))
        if not verdict.allowed:
            return wire.rate_limited_response(verdict.retry_after, verdict.bucket, verdict.headers())
        return wire.json_response(404, {"message": "Not Found"}, verdict.headers())

    def _rate_limit(self, request: web.Request, key: str | None) -> Verdict:
        if request.method == "POST" and request.path.endswith("/command") and key:
            cfg = self.config
            return self.limits.hit(f"command-{key}", key, cfg.command_limit, cfg.command_window_seconds)
        global_key = request.headers.get("Authorization")
        who = f"key:{global_key}" if global_key in self.config.global_keys else f"ip:{request.remote}"
        return self.limits.hit("global", who, self.config.rate_limit, self.config.rate_window_seconds)

    async def _fault_answer(
        self, request: web.Request, fault: Fault, headers: dict[str, str]
    ) -> web.StreamResponse | None:
        log.info("PRC sandbox fault: code %s status %s", fault.code, fault.status)
        if fault.hang_seconds:
            await asyncio.sleep(fault.hang_seconds)
            if fault.code is None and fault.status is None and fault.body_bytes is None and fault.raw_body is None:
                return None  # only late: the real answer follows
        if fault.body_bytes is not None:
            padding = "x" * max(0, fault.body_bytes - 64)
            payload = ('{"Name":"' + padding + '","OwnerId":1,"CurrentPlayers":0,"MaxPlayers":40}').encode()
            if fault.announce_length:
                return web.Response(status=200, body=payload, content_type="application/json", headers=headers)
            return await _streamed(request, payload, headers)
        if fault.raw_body is not None:
            return web.Response(status=fault.status or 200, body=fault.raw_body, headers=headers)
        if fault.code == 4001:
            # As a real refusal says it: nothing left in the bucket.
            limited = {**headers, "X-RateLimit-Remaining": "0"}
            return wire.rate_limited_response(fault.retry_after, headers["X-RateLimit-Bucket"], limited)
        if fault.code is not None:
            return wire.error_response(PrcError(fault.code, fault.status), headers)
        assert fault.status is not None
        return web.Response(status=fault.status, text=f"{fault.status} error", headers=headers)

    def _authenticate(self, request: web.Request, key: str | None) -> str:
        global_key = request.headers.get("Authorization")
        if global_key is not None and global_key not in self.config.global_keys:
            raise PrcError(2003)
        if key is None or not key.strip():
            raise PrcError(2000)
        if len(key) > MAX_KEY_LENGTH or not _KEY_SHAPE.fullmatch(key):
            raise PrcError(2001)
        state = self.key_state(key)
        if state is None or state == "revoked":
            raise PrcError(2002)
        if state == "banned":
            raise PrcError(2004)
        return key

    # --- endpoints ------------------------------------------------------------------------------

    def _status(self, key: str) -> dict[str, Any]:
        row = self._server(key)
        assert row is not None
        return wire.server_status(row, self.player_count(key))

    async def _v1_server(self, request: web.Request, key: str) -> web.Response:
        return wire.json_response(200, self._status(key))

    async def _v1_players(self, request: web.Request, key: str) -> web.Response:
        return wire.json_response(200, [wire.player(r, v2=False) for r in self.players(key)])

    async def _v1_joinlogs(self, request: web.Request, key: str) -> web.Response:
        return wire.json_response(200, [wire.join_log(r) for r in self.join_logs(key)])

    async def _v1_queue(self, request: web.Request, key: str) -> web.Response:
        return wire.json_response(200, self.queue(key))

    async def _v1_empty_list(self, request: web.Request, key: str) -> web.Response:
        # Kill logs and mod calls: the sandbox keeps none.
        return wire.json_response(200, [])

    async def _v1_vehicles(self, request: web.Request, key: str) -> web.Response:
        return wire.json_response(200, [wire.vehicle(r, v2=False) for r in self.vehicles(key)])

    async def _v1_commandlogs(self, request: web.Request, key: str) -> web.Response:
        rows = self.db.execute("SELECT at, command FROM commands WHERE key = ? ORDER BY id", (key,))
        return wire.json_response(
            200, [{"Player": "Remote Server", "Timestamp": r["at"], "Command": r["command"]} for r in rows]
        )

    async def _v1_bans(self, request: web.Request, key: str) -> web.Response:
        bans = self.bans(key)
        # The quirk: an empty map comes back as [].
        return wire.json_response(200, {str(k): v for k, v in bans.items()} if bans else [])

    async def _v1_staff(self, request: web.Request, key: str) -> web.Response:
        row = self._server(key)
        assert row is not None
        co_owners = wire.server_status(row, 0)["CoOwnerIds"]
        return wire.json_response(
            200, {"CoOwners": co_owners, "Admins": self.staff(key, "Admin"), "Mods": self.staff(key, "Mod")}
        )

    async def _command(self, request: web.Request, key: str) -> str:
        try:
            body = await request.json()
        except ValueError:
            raise PrcError(3001) from None
        command = body.get("command") if isinstance(body, dict) else None
        if not isinstance(command, str) or not command.strip().startswith(":"):
            raise PrcError(3001)
        self.record_command(key, command)
        return command

    async def _v1_command(self, request: web.Request, key: str) -> web.Response:
        await self._command(request, key)
        return web.Response(status=200)

    async def _v2_command(self, request: web.Request, key: str) -> web.Response:
        await self._command(request, key)
        return wire.json_response(200, {"message": "Success"})

    async def _v2_server(self, request: web.Request, key: str) -> web.Response:
        def asked(name: str) -> bool:
            return request.query.get(name, "").lower() == "true"

        answer = self._status(key)
        if asked("Players"):
            answer["Players"] = [wire.player(r, v2=True) for r in self.players(key)]
        if asked("Staff"):
            answer["Staff"] = {
                "Admins": self.staff(key, "Admin"),
                "Mods": self.staff(key, "Mod"),
                "Helpers": self.staff(key, "Helper"),
            }
        if asked("JoinLogs"):
            answer["JoinLogs"] = [wire.join_log(r) for r in self.join_logs(key)]
        if asked("Queue"):
            answer["Queue"] = self.queue(key)
        if asked("Vehicles"):
            answer["Vehicles"] = [wire.vehicle(r, v2=True) for r in self.vehicles(key)]
        for empty in ("KillLogs", "ModCalls"):
            if asked(empty):
                answer[empty] = []
        if asked("CommandLogs"):
            rows = self.db.execute("SELECT at, command FROM commands WHERE key = ? ORDER BY id", (key,))
            answer["CommandLogs"] = [
                {"Player": "Remote Server", "Timestamp": r["at"], "Command": r["command"]} for r in rows
            ]
        if asked("EmergencyCalls"):
            answer["EmergencyCalls"] = [wire.emergency_call(r) for r in self.calls(key)]
        return wire.json_response(200, answer)


async def _streamed(request: web.Request, payload: bytes, headers: dict[str, str]) -> web.StreamResponse:
    # No Content-Length, sent in chunks: a body whose size is only seen while it is read.
    response = web.StreamResponse(status=200, headers={**headers, "Content-Type": "application/json"})
    await response.prepare(request)
    for start in range(0, len(payload), 64 * 1024):
        try:
            await response.write(payload[start : start + 64 * 1024])
        except (ConnectionResetError, aiohttp.ClientConnectionResetError):
            break  # the client stopped reading: that is what the test wants to see
    return response
