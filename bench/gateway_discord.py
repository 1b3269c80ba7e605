"""The fake Discord for the out-of-process benchmarks, as a process: the harness's GatewayDiscord (fake REST API plus
gateway websocket, tests/harness/gateway.py) with one guild, or many over several shards, and a few `/_bench/...`
control routes.

A real discord.py client in another process connects to it the way it connects to Discord: HELLO, IDENTIFY,
READY, GUILD_CREATE, heartbeats; interactions then reach the bot as INTERACTION_CREATE events on that socket.
This process is also the load generator and the stopwatch: it sends each event and notes when the bot's first
answer (the interaction callback) arrives at its REST API, on one clock. The benchmark runner drives it through
the `/_bench/...` routes on the same port.

Many servers (bench/cluster_scale.py): `--guilds FILE` (a JSON list of guild ids) and `--shards N`; each shard's
bot process gets its own servers on its own socket, and `/_bench/ready` waits for all N shards. A driven command
names its server (`[command, guild, officer]`; `[command, officer]` is the first server's).

Run: python -m bench.gateway_discord [--guilds FILE --shards N]   (prints "READY <REST base URL>" when listening)
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import signal
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.harness import builders
from tests.harness.gateway import GatewayDiscord

log = logging.getLogger(__name__)

GUILD = 111111111111111111
ADMIN = 333333333333333333
FIRST_OFFICER = 900000000000000000
MEMBER_PERMS = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 16) | (1 << 31)
OFFICERS_PER_GUILD = 1_000_000  # officer numbers per server: each server's officers are distinct users


class BenchDiscord(GatewayDiscord):
    """GatewayDiscord with the benchmark's guilds (by default the one GUILD) and its control routes."""

    def __init__(self, guilds: Sequence[int] = (GUILD,), shards: int = 1) -> None:
        super().__init__()
        self.shard_total = shards
        self.guild_order = list(guilds)  # a server's place in it numbers its officers
        self.guild_channels: dict[int, int] = {}
        for n, guild in enumerate(self.guild_order):
            channel_id = builders.DEFAULT_CHANNEL_ID if guild == GUILD else guild + 1
            channel = builders.channel(channel_id, guild_id=guild, name="general")
            name = "Rush County RP" if guild == GUILD else f"Server {n}"
            self.add_guild(guild, name=name, owner_id=ADMIN, channels=[channel])
            self.guild_channels[guild] = channel_id
        self.guild_index = {guild: n for n, guild in enumerate(self.guild_order)}
        self.last_request = time.monotonic()

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        if request.path.startswith("/_bench/"):
            return await self._control(request)
        if request.headers.get("Upgrade", "").lower() != "websocket":
            self.last_request = time.monotonic()
        return await super()._handle(request)

    def _payload(self, command: str, guild: int, officer: int) -> dict[str, Any]:
        user_id = FIRST_OFFICER + self.guild_index[guild] * OFFICERS_PER_GUILD + officer
        member = builders.member(user_id, permissions=MEMBER_PERMS, username=f"officer{officer:05d}")
        return builders.slash_payload(
            "shift", sub=command, app_id=self.application_id, guild_id=guild, member=member,
            channel_id=self.guild_channels[guild],
        )  # fmt: skip

    async def drive_commands(self, commands: list[tuple[str, int, int]], rate: float, timeout: float) -> dict[str, Any]:
        """Send each `/shift <command>` as its officer of its server: all at once (rate 0) or `rate` per second, on
        schedule, each on the socket of its server's shard."""
        payloads = [self._payload(command, guild, officer) for command, guild, officer in commands]
        run = await self.drive(payloads, rate, timeout)
        return {
            "sent": len(run.sent),
            "answered": len(run.answered),
            "latency_ms": run.latencies_ms(),
            "send_seconds": max(run.sent.values()) - min(run.sent.values()) if run.sent else 0.0,
            # first sent to last answered: the span the answered ones took
            "span_seconds": max(run.answered.values()) - min(run.sent.values()) if run.answered else 0.0,
            "contents": list(run.contents.values()),
            "callback_types": list(run.callback_types.values()),
            # which shard's socket each went out on (bench.cluster_scale: one process per shard)
            "sent_by_shard": dict(Counter(str(self.sent_on[i].shard_id) for i in run.sent if i in self.sent_on)),
        }

    async def _control(self, request: web.Request) -> web.Response:
        body = await request.json() if request.body_exists else {}
        if request.path == "/_bench/ready":
            await self.wait_ready(range(self.shard_total), float(body.get("timeout", 60)))
            return web.json_response({"ready": True})
        if request.path == "/_bench/drive":
            commands = [_command(c, self.guild_order[0]) for c in body["commands"]]
            result = await self.drive_commands(commands, float(body.get("rate", 0)), float(body.get("timeout", 60)))
            return web.json_response(result)
        if request.path == "/_bench/idle":
            # Until the bot has sent nothing for `quiet` seconds (its follow-up work is done), or `timeout`.
            quiet, deadline = float(body.get("quiet", 1.0)), time.monotonic() + float(body.get("timeout", 30))
            while time.monotonic() - self.last_request < quiet and time.monotonic() < deadline:
                await asyncio.sleep(0.05)
            return web.json_response({"requests": len(self.requests)})
        return web.json_response({"error": "unknown"}, status=404)


def _command(fields: list[Any], first_guild: int) -> tuple[str, int, int]:
    """[command, guild, officer], or [command, officer] of the first server."""
    if len(fields) == 2:
        return str(fields[0]), first_guild, int(fields[1])
    return str(fields[0]), int(fields[1]), int(fields[2])


async def serve(guilds: Sequence[int], shards: int) -> None:
    fake = BenchDiscord(guilds, shards)
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
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--guilds", type=Path, help="JSON list of guild ids (default: the one GUILD)")
    parser.add_argument("--shards", type=int, default=1, help="shards the bot processes run, together")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    guilds = [int(g) for g in json.loads(args.guilds.read_text())] if args.guilds else [GUILD]
    asyncio.run(serve(guilds, args.shards))


if __name__ == "__main__":
    main()
