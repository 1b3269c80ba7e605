"""The fake Discord for the out-of-process benchmarks, as a process: the harness's GatewayDiscord (fake REST API plus
gateway websocket, tests/harness/gateway.py) with one guild, and a few `/_bench/...` control routes.

A real discord.py client in another process connects to it the way it connects to Discord: HELLO, IDENTIFY,
READY, GUILD_CREATE, heartbeats; interactions then reach the bot as INTERACTION_CREATE events on that socket.
This process is also the load generator and the stopwatch: it sends each event and notes when the bot's first
answer (the interaction callback) arrives at its REST API, on one clock. The benchmark runner drives it through
the `/_bench/...` routes on the same port.

Run: python -m bench.gateway_discord   (prints "READY <REST base URL>" on stdout when listening)
"""

from __future__ import annotations

import asyncio
import logging
import signal
import time
from typing import Any

from aiohttp import web

from tests.harness import builders
from tests.harness.gateway import GatewayDiscord

log = logging.getLogger(__name__)

GUILD = 111111111111111111
ADMIN = 333333333333333333
FIRST_OFFICER = 900000000000000000
MEMBER_PERMS = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 16) | (1 << 31)


class BenchDiscord(GatewayDiscord):
    """GatewayDiscord with the benchmark's one guild and its control routes."""

    def __init__(self) -> None:
        super().__init__()
        channel = builders.channel(builders.DEFAULT_CHANNEL_ID, guild_id=GUILD, name="general")
        self.add_guild(GUILD, name="Rush County RP", owner_id=ADMIN, channels=[channel])
        self.last_request = time.monotonic()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.path.startswith("/_bench/"):
            return await self._control(request)
        if request.headers.get("Upgrade", "").lower() != "websocket":
            self.last_request = time.monotonic()
        return await super()._handle(request)

    def _payload(self, command: str, officer: int) -> dict[str, Any]:
        member = builders.member(FIRST_OFFICER + officer, permissions=MEMBER_PERMS, username=f"officer{officer:05d}")
        return builders.slash_payload(
            "shift", sub=command, app_id=self.application_id, guild_id=GUILD, member=member,
            channel_id=builders.DEFAULT_CHANNEL_ID,
        )  # fmt: skip

    async def drive_commands(self, commands: list[tuple[str, int]], rate: float, timeout: float) -> dict[str, Any]:
        """Send each `/shift <command>` as its officer: all at once (rate 0) or `rate` per second, on schedule."""
        run = await self.drive([self._payload(command, officer) for command, officer in commands], rate, timeout)
        return {
            "sent": len(run.sent),
            "answered": len(run.answered),
            "latency_ms": run.latencies_ms(),
            "send_seconds": max(run.sent.values()) - min(run.sent.values()) if run.sent else 0.0,
            "contents": list(run.contents.values()),
            "callback_types": list(run.callback_types.values()),
        }

    async def _control(self, request: web.Request) -> web.Response:
        body = await request.json() if request.body_exists else {}
        if request.path == "/_bench/ready":
            await self.wait_ready([0], float(body.get("timeout", 60)))
            return web.json_response({"ready": True})
        if request.path == "/_bench/drive":
            result = await self.drive_commands(
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
    fake = BenchDiscord()
    await fake.start()
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    print(f"READY {fake.base_url}", flush=True)
    try:
        await stop.wait()
    finally:
        await fake.stop()


def main() -> None:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    asyncio.run(serve())


if __name__ == "__main__":
    main()
