"""ER:LC polling at scale: N connected servers (default 1,000) on one bot process, against the PRC sandbox in
its own process (so its CPU is not the bot's), all on one global key whose read bucket the sandbox really
limits (35 a second, the documented example). The bot runs the real graph (bot/ops/services.py): the PrcClient with
its shared token bucket, the ErlcService and the ErlcPoller, on a SQLite file.

While it runs, a player joins a random server every `--join-every` seconds (through the sandbox's admin API);
the time from that join to the poll that stores it is the presence freshness.

Prints: polls per second achieved vs the limit (and the 429s the sandbox answered: 0 expected), the bot's CPU
time per poll (this process only), freshness p50 / p99, the poll errors. Figures only, no asserts.

    python -m bench.erlc_poll [--servers 1000] [--seconds 60] [--poll-seconds 10] [--join-every 0.5]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import aiohttp

from bot.core.config import parse_config
from bot.erlc.client import PrcClient
from bot.erlc.keys import KeyVault, new_kek
from bot.erlc.records import PresenceUpdated
from bot.northca.client import NorthcaClient
from bot.ops.services import build_services
from bot.storage import Database

GLOBAL_KEY = "bench-global-key"
LIMIT = 35


def guild(i: int) -> int:
    return 10_000_000 + i


def key(i: int) -> str:
    return f"bench-server-key-{i:05d}"


async def start_sandbox(port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "bot.erlc.sandbox", "--port", str(port), "--global-key", GLOBAL_KEY,
         "--rate-limit", str(LIMIT), "--rate-window", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    return proc


async def admin(session: aiohttp.ClientSession, base: str, method: str, path: str, body: Any = None) -> None:
    async with session.request(method, f"{base}/_sandbox{path}", json=body) as resp:
        if resp.status >= 300:
            raise RuntimeError(f"sandbox admin {method} {path}: {resp.status} {await resp.text()}")


async def wait_up(session: aiohttp.ClientSession, base: str) -> None:
    for _ in range(200):
        with contextlib.suppress(aiohttp.ClientError):
            async with session.get(f"{base}/_sandbox/public-key") as resp:
                if resp.status == 200:
                    return
        await asyncio.sleep(0.05)
    raise RuntimeError("the PRC sandbox did not start")


async def run(servers: int, seconds: float, poll_seconds: float, join_every: float, port: int) -> None:
    base = f"http://127.0.0.1:{port}"
    proc = await start_sandbox(port)
    tmp = Path(tempfile.mkdtemp(prefix="erlc-bench-"))
    db = Database(tmp / "bot.sqlite3")
    await db.open()
    session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=200))
    try:
        await wait_up(session, base)
        sem = asyncio.Semaphore(50)

        async def seed(i: int) -> None:
            async with sem:
                await admin(session, base, "POST", "/servers", {"key": key(i), "name": f"Bench {i}", "max_players": 40})
                for p in range(3):
                    await admin(session, base, "POST", f"/servers/{key(i)}/players",
                                {"user_id": i * 100 + p + 1, "name": f"P{i}x{p}", "team": "Police",
                                 "callsign": f"{p}A-{i}"})  # fmt: skip

        await asyncio.gather(*(seed(i) for i in range(servers)))
        kek = new_kek()
        config = parse_config(
            {
                "discord": {"token": "bench"},
                "northca": {"base_url": "http://127.0.0.1:9", "partner_key": "unused"},
                "database": {"path": str(tmp / "bot.sqlite3")},
                "erlc": {
                    "base_url": base, "key_encryption_key": kek, "poll_seconds": poll_seconds,
                    "poll_fast_seconds": poll_seconds, "poll_slow_seconds": poll_seconds * 4,
                    "first_poll_spread_seconds": min(poll_seconds, 10.0), "poll_concurrency": 32,
                },
            },
            env={},
        )  # fmt: skip
        prc = PrcClient(session, base, global_key=GLOBAL_KEY, timeout=10.0)
        northca = NorthcaClient(session, "http://127.0.0.1:9", "unused")
        services = build_services(config, db, northca, game=prc)
        vault = KeyVault(kek)
        # Connected as /erlc connect leaves them (its live check skipped: that would be N more reads).
        for i in range(servers):
            await services.erlc.store.connect(
                guild(i), key_cipher=vault.encrypt(key(i)), server_name=f"Bench {i}", owner_id=1, players=3,
                max_players=40, actor_id=1, at_ms=int(time.time() * 1000), webhook_token=f"t{i}",
            )  # fmt: skip

        joined_at: dict[int, float] = {}
        freshness: list[float] = []

        def on_presence(event: object) -> None:
            if isinstance(event, PresenceUpdated):
                now = time.monotonic()
                for change in event.changes:
                    started = joined_at.pop(change.user_id, None) if change.kind == "join" else None
                    if started is not None:
                        freshness.append(now - started)

        services.events.erlc.subscribe_now(on_presence)
        poller = services.erlc_poller
        wall0 = time.monotonic()
        await poller.start()
        next_user = 10_000_000
        # Warm-up: the first polls (spread) and the limiter's first headers; then measure.
        await asyncio.sleep(min(poll_seconds, 10.0))
        polls0, cpu1, wall1 = poller.stats.polls, time.process_time(), time.monotonic()
        sent0 = prc.requests_sent
        end = wall1 + seconds
        while time.monotonic() < end:
            i = random.randrange(servers)
            next_user += 1
            joined_at[next_user] = time.monotonic()
            await admin(session, base, "POST", f"/servers/{key(i)}/players",
                        {"user_id": next_user, "name": f"J{next_user}"})  # fmt: skip
            await asyncio.sleep(join_every)
        polls1, cpu2, wall2 = poller.stats.polls, time.process_time(), time.monotonic()
        await poller.stop()
        async with session.get(f"{base}/_sandbox/state") as resp:
            state = await resp.json()
        polls = polls1 - polls0
        elapsed = wall2 - wall1
        # The join requests (admin API) also cost this process some CPU: counted in, so the figure is an upper bound.
        cpu_ms = (cpu2 - cpu1) * 1000
        print(f"servers: {servers}, measured {elapsed:.0f} s after a {wall1 - wall0:.0f} s warm-up "
              f"(cadence {poll_seconds:g} s per server: demand {servers / poll_seconds:.0f} polls/s)")  # fmt: skip
        print(f"polls per second achieved: {polls / elapsed:.1f} vs the limit {LIMIT}/s "
              f"({polls / elapsed / LIMIT:.0%}); requests sent {prc.requests_sent - sent0}")  # fmt: skip
        print(f"errors: {dict(poller.stats.errors) or 'none'}; 429s: {poller.stats.rate_limited}")
        print(f"bot CPU per poll: {cpu_ms / max(polls, 1):.2f} ms ({cpu_ms / 1000 / elapsed:.0%} of one core)")
        if freshness:
            qs = statistics.quantiles(freshness, n=100)
            print(f"presence freshness (join in the sandbox -> stored): n={len(freshness)} "
                  f"p50 {statistics.median(freshness):.1f} s, p99 {qs[98]:.1f} s, max {max(freshness):.1f} s; "
                  f"{len(joined_at)} joins not yet seen at the end")  # fmt: skip
        summary = state.get("data", state) if isinstance(state, dict) else {}
        if isinstance(summary, dict) and "rate_limited" in summary:
            print(f"sandbox: {summary['rate_limited']} answers were 429")
    finally:
        await session.close()
        await db.close()
        proc.terminate()
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(5)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--servers", type=int, default=1000)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--poll-seconds", type=float, default=10.0)
    parser.add_argument("--join-every", type=float, default=0.5)
    parser.add_argument("--port", type=int, default=int(os.environ.get("ERLC_BENCH_PORT", "18789")))
    args = parser.parse_args()
    asyncio.run(run(args.servers, args.seconds, args.poll_seconds, args.join_every, args.port))


if __name__ == "__main__":
    main()
