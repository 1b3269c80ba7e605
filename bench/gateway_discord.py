"""The fake Discord for the out-of-process benchmarks: the harness's fake REST API plus a fake gateway websocket.

A real discord.py client in another process connects to it the way it connects to Discord: HELLO, IDENTIFY,
READY, GUILD_CREATE, heartbeats; interactions then reach the bot as INTERACTION_CREATE events on that socket.
This process is also the load generator and the stopwatch: it sends each event and notes when the bot's first
answer (the interaction callback) arrives at its REST API, on one clock. The benchmark runner drives it through
a few `/_bench/...` routes on the same port.

Run: python -m bench.gateway_discord   (prints "READY <REST base URL>" on stdout when listening)
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import re
import signal
import time
from dataclasses import dataclass, field
from typing import Any

from aiohttp import WSMsgType, web

from tests.harness import FakeDiscord, builders
from tests.harness.recorded import Recorded

log = logging.getLogger(__name__)

GUILD = 111111111111111111
ADMIN = 333333333333333333
FIRST_OFFICER = 900000000000000000
MEMBER_PERMS = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 16) | (1 << 31)
HEARTBEAT_MS = 41250
_CALLBACK = re.compile(r"^/interactions/(\d+)/[^/]+/callback$")


@dataclass
class Run:
    """One batch of interactions: when each was sent and when its first answer arrived."""

    expected: int
    sent: dict[int, float] = field(default_factory=dict)  # interaction id -> monotonic time sent
    answered: dict[int, float] = field(default_factory=dict)
    callback_types: dict[int, int] = field(default_factory=dict)
    contents: dict[int, str] = field(default_factory=dict)
    done: asyncio.Event = field(default_factory=asyncio.Event)


class GatewayDiscord(FakeDiscord):
    """FakeDiscord with a gateway websocket and load-driving routes."""

    def __init__(self) -> None:
        super().__init__()
        self.ws: web.WebSocketResponse | None = None
        self.guild_sent = asyncio.Event()
        self.sequence = 0
        self.run: Run | None = None
        self.last_request = time.monotonic()

    # --- the gateway --------------------------------------------------------------

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.headers.get("Upgrade", "").lower() == "websocket":
            return await self._gateway(request)
        if request.path.startswith("/_bench/"):
            return await self._control(request)
        self.last_request = time.monotonic()
        return await super()._handle(request)

    async def _send(self, op: int, d: Any, event: str | None = None) -> None:
        assert self.ws is not None
        frame: dict[str, Any] = {"op": op, "d": d}
        if event is not None:
            self.sequence += 1
            frame.update(t=event, s=self.sequence)
        await self.ws.send_str(json.dumps(frame))

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse(max_msg_size=0, autoping=True)
        await ws.prepare(request)
        self.ws, self.sequence = ws, 0
        self.guild_sent.clear()
        await self._send(10, {"heartbeat_interval": HEARTBEAT_MS})
        async for msg in ws:
            if msg.type != WSMsgType.TEXT:
                continue
            frame = json.loads(msg.data)
            op = frame.get("op")
            if op == 1:  # heartbeat
                await self._send(11, None)
            elif op == 2:  # identify
                await self._ready()
            elif op == 8:  # request guild members: none beyond what GUILD_CREATE carried
                d = frame["d"]
                chunk = {"guild_id": d["guild_id"], "members": [], "chunk_index": 0, "chunk_count": 1}
                if d.get("nonce"):
                    chunk["nonce"] = d["nonce"]
                await self._send(0, chunk, "GUILD_MEMBERS_CHUNK")
        self.ws = None
        return ws

    async def _ready(self) -> None:
        user = self.bot_user_payload()
        await self._send(
            0,
            {
                "v": 10,
                "user": user,
                "guilds": [{"id": str(GUILD), "unavailable": True}],
                "session_id": "bench-session",
                "resume_gateway_url": f"ws://127.0.0.1:{self.port}",
                "application": {"id": str(self.application_id), "flags": 0},
                "shard": [0, 1],
            },
            "READY",
        )
        bot_role = builders.role(
            builders.snowflake(), user["username"], permissions=builders.DEFAULT_APP_PERMISSIONS, position=1,
            managed=True, tags={"bot_id": str(self.bot_user_id)},
        )  # fmt: skip
        me = builders.member(self.bot_user_id, roles=[int(bot_role["id"])], username=user["username"], bot=True)
        channel = builders.channel(builders.DEFAULT_CHANNEL_ID, guild_id=GUILD, name="general")
        guild = builders.guild_payload(
            GUILD, name="Rush County RP", owner_id=ADMIN, roles=[bot_role], members=[me], channels=[channel]
        )
        self.channel_guilds[builders.DEFAULT_CHANNEL_ID] = GUILD
        await self._send(0, guild, "GUILD_CREATE")
        self.guild_sent.set()

    # --- load and stopwatch -----------------------------------------------------------

    def _record(self, rec: Recorded) -> None:
        super()._record(rec)
        run = self.run
        if run is None or rec.method != "POST":
            return
        m = _CALLBACK.match(rec.path)
        if m is None:
            return
        iid = int(m[1])
        if iid in run.sent and iid not in run.answered:
            run.answered[iid] = rec.time
            body = rec.json if isinstance(rec.json, dict) else {}
            run.callback_types[iid] = int(body.get("type", 0))
            run.contents[iid] = str((body.get("data") or {}).get("content") or "")
            if len(run.answered) == run.expected:
                run.done.set()

    def _payload(self, command: str, officer: int) -> dict[str, Any]:
        member = builders.member(FIRST_OFFICER + officer, permissions=MEMBER_PERMS, username=f"officer{officer:05d}")
        return builders.slash_payload(
            "shift", sub=command, app_id=self.application_id, guild_id=GUILD, member=member,
            channel_id=builders.DEFAULT_CHANNEL_ID,
        )  # fmt: skip

    async def drive(self, commands: list[tuple[str, int]], rate: float, timeout: float) -> dict[str, Any]:
        """Send each `/shift <command>` as its officer: all at once (rate 0) or `rate` per second, on schedule."""
        payloads = [self._payload(command, officer) for command, officer in commands]
        for p in payloads:
            self.register_interaction(p)
        run = self.run = Run(len(payloads))
        loop = asyncio.get_running_loop()
        begin = loop.time()
        for i, p in enumerate(payloads):
            if rate > 0:
                delay = begin + i / rate - loop.time()
                if delay > 0:
                    await asyncio.sleep(delay)
            run.sent[int(p["id"])] = time.monotonic()
            await self._send(0, p, "INTERACTION_CREATE")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(run.done.wait(), timeout)
        self.run = None
        latencies = [(run.answered[i] - t) * 1000 for i, t in run.sent.items() if i in run.answered]
        return {
            "sent": len(run.sent),
            "answered": len(run.answered),
            "latency_ms": latencies,
            "send_seconds": max(run.sent.values()) - min(run.sent.values()) if run.sent else 0.0,
            "contents": list(run.contents.values()),
            "callback_types": list(run.callback_types.values()),
        }

    async def _control(self, request: web.Request) -> web.Response:
        body = await request.json() if request.body_exists else {}
        if request.path == "/_bench/ready":
            await asyncio.wait_for(self.guild_sent.wait(), float(body.get("timeout", 60)))
            return web.json_response({"ready": True})
        if request.path == "/_bench/drive":
            result = await self.drive(
                [(str(c), int(o)) for c, o in body["commands"]], float(body.get("rate", 0)),
                float(body.get("timeout", 60)),
            )  # fmt: skip
            return web.json_response(result)
        if request.path == "/_bench/idle":
            # Until the bot has sent nothing for `quiet` seconds (its follow-up work is done), or `timeout`.
            quiet, deadline = float(body.get("quiet", 1.0)), time.monotonic() + float(body.get("timeout", 30))
            while time.monotonic() - self.last_request < quiet and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            return web.json_response({"requests": len(self.requests)})
        return web.json_response({"error": "unknown"}, status=404)


async def serve() -> None:
    fake = GatewayDiscord()
    await fake.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"READY {fake.base_url}", flush=True)
    try:
        await stop.wait()
    finally:
        if fake.ws is not None:
            await fake.ws.close()
        await fake.stop()


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    asyncio.run(serve())


if __name__ == "__main__":
    main()
