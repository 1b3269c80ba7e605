"""PRC client benchmark: many servers read through one client against the PRC sandbox in its own process.

The sandbox (`python -m bot.erlc.sandbox`) runs in another process with a `global` bucket of `--limit` requests
per `--window` seconds, as PRC limits one IP; this process's one `PrcClient` reads every server's snapshot
(players, queue, calls) `--rounds` times, all servers at once each round. Printed: requests per second achieved
vs the limit and the share of what the windows touched allow (close to 100%, never above: fixed windows
let a burst at the end of one window and the start of the next exceed limit/window briefly), 429s the
sandbox answered (should be 0: the client waits for room instead), this process's CPU per request, and the
p50/p99 read latency including the wait for room.

    python -m bench.prc_client [--servers 200] [--players 30] [--limit 35] [--window 1] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import subprocess
import sys
import time

import aiohttp

from bot.erlc.client import PrcClient


async def _setup(http: aiohttp.ClientSession, base: str, servers: int, players: int) -> list[str]:
    keys = [f"bench-key-{i:05d}" for i in range(servers)]
    for i, key in enumerate(keys):
        async with http.post(f"{base}/_sandbox/servers", json={"key": key, "name": f"Bench RP {i}"}) as resp:
            resp.raise_for_status()
        for p in range(players):
            team = ("Police", "Sheriff", "Fire", "Civilian")[p % 4]
            body = {"user_id": i * 1000 + p, "name": f"P{i}x{p}", "team": team, "callsign": f"{p}A"}
            async with http.post(f"{base}/_sandbox/servers/{key}/players", json=body) as resp:
                resp.raise_for_status()
    return keys


async def run(servers: int, players: int, limit: int, window: int, rounds: int) -> dict[str, float]:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "bot.erlc.sandbox",
            "--port",
            "0",
            "--rate-limit",
            str(limit),
            "--rate-window",
            str(window),
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        assert proc.stdout is not None
        base = proc.stdout.readline().split()[3]
        async with aiohttp.ClientSession() as http:
            keys = await _setup(http, base, servers, players)
            client = PrcClient(http, base, timeout=30.0)
            waits: list[float] = []

            async def read(key: str) -> None:
                asked = time.perf_counter()
                snap = await client.snapshot(key, queue=True, calls=True)
                waits.append(time.perf_counter() - asked)
                assert snap.current_players == players

            await client.snapshot(keys[0])  # the first answer tells the limit
            cpu0, wall0, sent0 = time.process_time(), time.perf_counter(), client.requests_sent
            epoch0 = time.time()
            for _ in range(rounds):
                await asyncio.gather(*[read(k) for k in keys])
            wall = time.perf_counter() - wall0
            # The sandbox's windows are aligned on the epoch: those the run touched, and what they allow.
            windows = int(time.time() // window) - int(epoch0 // window) + 1
            cpu = time.process_time() - cpu0
            sent = client.requests_sent - sent0
            async with http.get(f"{base}/_sandbox/state") as resp:
                refused = (await resp.json())["data"]["rate_limited"]
        waits.sort()
        return {
            "requests": sent,
            "seconds": wall,
            "rate": sent / wall,
            "limit_rate": limit / window,
            "windows": windows,
            "capacity_used": sent / (limit * windows),
            "refused_429": refused,
            "cpu_ms_per_request": cpu * 1000 / sent,
            "p50_latency_s": statistics.median(waits),
            "p99_latency_s": waits[int(len(waits) * 0.99) - 1],
        }
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--servers", type=int, default=200)
    parser.add_argument("--players", type=int, default=30)
    parser.add_argument("--limit", type=int, default=35)
    parser.add_argument("--window", type=int, default=1)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    figures = asyncio.run(run(args.servers, args.players, args.limit, args.window, args.rounds))
    print(
        f"{figures['requests']:.0f} reads of {args.servers} servers ({args.players} players each) in "
        f"{figures['seconds']:.1f} s: {figures['rate']:.1f} requests/s vs the limit {figures['limit_rate']:.1f}/s "
        f"({figures['capacity_used']:.0%} of what the {figures['windows']:.0f} windows touched allow; the first and "
        "last are partial); 429s from the sandbox: "
        f"{figures['refused_429']:.0f}; client CPU {figures['cpu_ms_per_request']:.2f} ms per request; "
        f"read latency (incl. waiting for room) p50 {figures['p50_latency_s']:.1f} s, "
        f"p99 {figures['p99_latency_s']:.1f} s"
    )
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
