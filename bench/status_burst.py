"""Status burst benchmark: 500 officers click the status panel 4 times each within 2 seconds.

The real bot (all cogs, SQLite file, its aiohttp session) runs in this process. As in
production, Discord and Northca are elsewhere: each runs in its own process, so what is
measured is the bot and not the simulators sharing its event loop:

- Discord: the offline harness's `FakeDiscord` REST server (interaction callbacks,
  followups, message edits). It notes when each interaction's first answer arrives.
- Northca: the local sandbox (`python -m bot.northca.sandbox`) with 100 ms added to every answer.

Clicks are injected through discord.py's own gateway parser at planned times (uniform
over the spread, per officer in order). "First answer" is the time from the planned
arrival of the interaction to the arrival of its callback at Discord, so a bot that lags
behind is charged for the lag. Printed per run: p50/p99 of that time, PUTs sent, the
largest PUT, the shortest gap between two PUTs, and whether Northca's final state equals
each officer's last click. The same run with batching off (one PUT per click) follows
as the baseline.

    python -m bench.status_burst [--officers 500] [--clicks 4] [--spread 2.0] [--latency-ms 100] [--window-ms 250]
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import gc
import itertools
import logging
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import aiohttp
import discord
import discord.http

from bot.core.config import parse_config
from bot.core.links import LinkStore
from bot.discord.bot import NorthcaBot
from bot.northca.sandbox import DEFAULT_SANDBOX_KEY
from tests.harness import builders

if TYPE_CHECKING:
    import re

    from tests.harness.recorded import Recorded

GUILD = 111111111111111111
CHANNEL = 900000000000000001
ADMIN = 333333333333333333
OWNER = 222222222222222222
MDT = "0c7f6a0c-2c4f-4f44-b16a-2b6b8d8fe2c2"
FIRST_OFFICER = 500000000000000000
MEMBER_PERMS = (1 << 10) | (1 << 11) | (1 << 14) | (1 << 16) | (1 << 31)
ADMIN_PERMS = MEMBER_PERMS | (1 << 5)
CODES = ["10-8", "10-6", "10-7", "10-23", "10-97"]
ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Result:
    name: str
    window_ms: int
    clicks: int
    answered: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    arrival_p50_ms: float
    arrival_p99_ms: float
    puts: int
    largest_put: int
    min_gap_ms: float | None
    wrong: int
    right_answers: int
    renders: int
    settle_s: float

    @property
    def final_ok(self) -> bool:
        return self.wrong == 0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    rank = max(1, -(-len(ordered) * q // 100))  # nearest rank
    return ordered[int(rank) - 1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


# --- the simulated Discord, in its own process -------------------------------------


async def serve_discord(port: int) -> None:
    from tests.harness import FakeDiscord

    fake = FakeDiscord()
    acks: dict[str, tuple[float, str]] = {}

    def note_ack(rec: Recorded, m: re.Match[str]) -> None:
        # time.monotonic() on arrival, and what the officer reads; then the fake answers as usual.
        content = ((rec.json or {}).get("data") or {}).get("content") or ""
        acks.setdefault(m["iid"], (rec.time, content))
        return None

    fake.route("POST", r"^/interactions/(?P<iid>\d+)/[^/]+/callback$", note_ack)
    fake.route("GET", r"^/bench/acks$", lambda rec, m: (200, acks))

    def reset(rec: Recorded, m: re.Match[str]) -> tuple[int, dict[str, Any]]:
        acks.clear()
        fake.requests.clear()
        return 200, {}

    fake.route("POST", r"^/bench/reset$", reset)
    # FakeDiscord binds a free port; the parent gives one instead, so bind it here.
    from aiohttp import web

    app = web.Application(client_max_size=64 * 1024 * 1024)
    app.router.add_route("*", "/{tail:.*}", fake._handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", port).start()
    print("ready", flush=True)
    await asyncio.Event().wait()


# --- helpers for the child processes -----------------------------------------------


def spawn(args: list[str]) -> subprocess.Popen[str]:
    env = dict(os.environ, PYTHONPATH=str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen(
        [sys.executable, *args], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True
    )
    assert proc.stdout is not None
    line = proc.stdout.readline()  # each child prints one line once it listens
    if not line:
        raise RuntimeError(f"{' '.join(args)} did not start")
    return proc


def stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()


# --- one run --------------------------------------------------------------------------


async def run(
    name: str,
    *,
    officers: int,
    clicks: int,
    spread: float,
    latency: float,
    window_ms: int,
    seed: int,
    debug: bool = False,
) -> Result:
    rng = random.Random(seed)
    northca_port, discord_port = free_port(), free_port()
    sandbox = spawn(
        ["-m", "bot.northca.sandbox", "--port", str(northca_port), "--mdt", f"{MDT}:{OWNER}", "--no-auto-approve"]
    )
    fake = spawn(["-m", "bench.status_burst", "--serve-discord", str(discord_port)])
    northca = f"http://127.0.0.1:{northca_port}"
    old_base = discord.http.Route.BASE
    discord.http.Route.BASE = f"http://127.0.0.1:{discord_port}/api/v10"
    tmp = tempfile.TemporaryDirectory(prefix="status-burst-")
    bot: NorthcaBot | None = None
    try:
        async with aiohttp.ClientSession() as http:
            headers = {
                "x-partner-key": DEFAULT_SANDBOX_KEY,
                "x-discord-guild": str(GUILD),
                "x-discord-actor": str(ADMIN),
            }
            async with http.post(f"{northca}/v1/link-requests", json={"mdt_id": MDT}, headers=headers) as resp:
                request_id = (await resp.json())["data"]["id"]
            async with http.post(f"{northca}/_sandbox/link-requests/{request_id}/approve") as resp:
                assert resp.status == 200

            config = parse_config(
                {
                    "discord": {"token": "bench-token"},
                    "northca": {
                        "base_url": f"{northca}/v1",
                        "partner_key": DEFAULT_SANDBOX_KEY,
                        "timeout_seconds": 10.0,
                        "deadline_seconds": 30.0,
                    },
                    "database": {"path": str(Path(tmp.name) / "bot.sqlite3")},
                    # The default rule: a status needs an open shift (every officer starts one below).
                    "status": {"batch_window_ms": window_ms, "off_duty": "prompt"},
                },
                env={},
            )
            # When each interaction's answer leaves the bot (its request is on the wire).
            sent: dict[str, float] = {}

            async def on_headers_sent(_session: Any, _ctx: Any, params: aiohttp.TraceRequestHeadersSentParams) -> None:
                parts = params.url.path.split("/")
                if len(parts) > 3 and parts[-1] == "callback" and parts[-4] == "interactions":
                    sent.setdefault(parts[-3], time.monotonic())

            trace = aiohttp.TraceConfig()
            trace.on_request_headers_sent.append(on_headers_sent)
            bot = NorthcaBot(config, http_trace=trace)
            await bot.__aenter__()
            await bot.login("bench-token")
            state = bot._connection
            assert bot.user is not None and bot.application_id is not None
            bot_role = builders.role(
                builders.snowflake(), "Duty Bot", permissions=builders.DEFAULT_APP_PERMISSIONS, position=1, managed=True
            )
            me = builders.member(bot.user.id, roles=[int(bot_role["id"])], username="bot", bot=True)
            state._add_guild_from_data(
                # A raw guild payload, as the gateway sends it (discord.py's TypedDict is stricter).
                builders.guild_payload(  # type: ignore[arg-type]
                    GUILD,
                    name="Bench County RP",
                    owner_id=ADMIN,
                    roles=[bot_role],
                    members=[me],
                    channels=[builders.channel(CHANNEL, guild_id=GUILD, name="dispatch")],
                )
            )
            await LinkStore(bot.db).save_request(GUILD, MDT, request_id, "approved", OWNER, ADMIN, None)
            ids = [FIRST_OFFICER + i for i in range(officers)]
            for i, member_id in enumerate(ids):
                await bot.profiles.update(
                    GUILD, member_id, callsign=f"UNIT-{i}", badge=str(1000 + i), rank="PO", department="Patrol"
                )
                await bot.shifts.start(GUILD, member_id, display_name=f"Officer {i}")
            # Their shift starts set them 10-8 (duty listener): let that settle before the burst.
            await bot.shifts.drain()
            await bot.unit_status.coalescer.flush(timeout=30)

            # The public panel, posted with /status panel as an admin would.
            svc = bot.unit_status
            state.parse_interaction_create(
                # A raw interaction payload, as the gateway sends it (discord.py's TypedDict is stricter).
                builders.slash_payload(  # type: ignore[arg-type]
                    "status",
                    app_id=bot.application_id,
                    guild_id=GUILD,
                    channel_id=CHANNEL,
                    sub="panel",
                    member=builders.member(ADMIN, permissions=ADMIN_PERMS, username="admin"),
                )
            )
            while not await svc.panels(GUILD):
                await asyncio.sleep(0.01)
            [panel_row] = await svc.panels(GUILD)
            async with http.get(
                f"{discord.http.Route.BASE}/channels/{CHANNEL}/messages/{panel_row.message_id}"
            ) as resp:
                panel = await resp.json()
            async with http.post(f"{discord.http.Route.BASE}/bench/reset") as resp:
                assert resp.status == 200
            async with http.post(f"{northca}/_sandbox/faults", json={"latency_ms": latency * 1000}) as resp:
                assert resp.status == 200

            # Every click's payload, built before the burst (as Discord would have it ready).
            plan: list[tuple[float, int, str, dict[str, Any]]] = []
            last: dict[int, str] = {}
            for i, member_id in enumerate(ids):
                member = builders.member(member_id, permissions=MEMBER_PERMS, username=f"officer{i}")
                for at in sorted(rng.uniform(0, spread) for _ in range(clicks)):
                    code = rng.choice(CODES)
                    payload = builders.click_payload(
                        f"northca:status:set:{code}",
                        app_id=bot.application_id,
                        message=copy.deepcopy(panel),
                        guild_id=GUILD,
                        member=copy.deepcopy(member),
                        channel_id=CHANNEL,
                    )
                    plan.append((at, member_id, code, payload))
                    last[member_id] = code
            plan.sort(key=lambda p: p[0])
            # The prebuilt payloads are the simulator's, not the bot's: keep them out of the
            # garbage collector's full scans, which would otherwise pause the bot's loop for them.
            gc.collect()
            gc.freeze()
            puts_before, log_before = svc.coalescer.puts_sent, len(svc.coalescer.sent_log)

            loop = asyncio.get_running_loop()
            start_loop, start_mono = loop.time() + 0.3, time.monotonic() + 0.3
            planned: dict[str, float] = {}
            for at, _member_id, _code, payload in plan:
                planned[payload["id"]] = start_mono + at
                # A raw interaction payload, as the gateway sends it (discord.py's TypedDict is stricter).
                loop.call_at(start_loop + at, state.parse_interaction_create, payload)  # type: ignore[arg-type]

            # Wait for every answer (polling Discord's side: it is another process).
            deadline = time.monotonic() + spread + 120
            acks: dict[str, list[Any]] = {}
            renders_before = svc.renders
            while time.monotonic() < deadline:
                await asyncio.sleep(0.25)
                async with http.get(f"{discord.http.Route.BASE}/bench/acks") as resp:
                    acks = await resp.json()
                if len(acks) >= len(plan):
                    break
            answered_at = time.monotonic()
            if not await svc.coalescer.flush(timeout=120):
                print(f"[{name}] warning: updates still pending after 120 s", file=sys.stderr)
            settle = time.monotonic() - max(answered_at, start_mono + spread)

            async with http.get(f"{northca}/_sandbox/state") as resp:
                units = {u["id"]: u["status"] for u in (await resp.json())["data"]["units"][MDT]}
            wrong = sum(1 for i, m in enumerate(ids) if units.get(f"UNIT-{i}") != last[m])
            if debug:
                for i, m in enumerate(ids):
                    if units.get(f"UNIT-{i}") != last[m]:
                        row = await bot.unit_status.status_of(GUILD, m)
                        if row is None:
                            raise RuntimeError(f"UNIT-{i} (member {m}) has no stored unit status after the burst")
                        mine = [(round(at, 4), code, p["id"] in sent) for at, mm, code, p in plan if mm == m]
                        print(
                            "WRONG",
                            f"UNIT-{i}",
                            "northca",
                            units.get(f"UNIT-{i}"),
                            "db",
                            row.status,
                            row.version,
                            row.synced_version,
                            mine,
                        )
            times = [(sent[iid] - planned[iid]) * 1000 for iid in planned if iid in sent]
            arrivals = [(acks[iid][0] - planned[iid]) * 1000 for iid in planned if iid in acks]
            expected = {p["id"]: code for _, _, code, p in plan}
            right = sum(
                1 for iid, (_, content) in acks.items() if content.startswith(f"You are now **{expected.get(iid)}**")
            )
            sends = svc.coalescer.sent_log[log_before:]
            gaps = [b[0] - a[0] for a, b in itertools.pairwise(sends)]
            result = Result(
                name=name,
                window_ms=window_ms,
                clicks=len(plan),
                answered=len(times),
                p50_ms=percentile(times, 50),
                p99_ms=percentile(times, 99),
                max_ms=max(times),
                arrival_p50_ms=percentile(arrivals, 50),
                arrival_p99_ms=percentile(arrivals, 99),
                puts=svc.coalescer.puts_sent - puts_before,
                largest_put=max((len(u) for _, u in sends), default=0),
                min_gap_ms=min(gaps) * 1000 if gaps else None,
                wrong=wrong,
                settle_s=max(0.0, settle),
                right_answers=right,
                renders=svc.renders - renders_before,
            )
        await bot.close()
        bot = None
        return result
    finally:
        gc.unfreeze()
        if bot is not None:
            await bot.close()
        discord.http.Route.BASE = old_base
        stop(fake)
        stop(sandbox)
        tmp.cleanup()


def show(result: Result) -> None:
    print(f"== {result.name} (batch_window_ms={result.window_ms}) ==")
    print(
        f"  clicks answered              {result.answered} of {result.clicks}"
        f" ({result.right_answers} told their new status)"
    )
    print(
        f"  first answer p50 / p99       {result.p50_ms:.1f} ms / {result.p99_ms:.1f} ms"
        f" (max {result.max_ms:.1f} ms): sent by the bot"
    )
    print(
        f"    arrived at fake Discord    {result.arrival_p50_ms:.1f} ms / {result.arrival_p99_ms:.1f} ms"
        " (adds the simulator's own queueing)"
    )
    print(f"  PUTs sent                    {result.puts}")
    print(f"  largest PUT                  {result.largest_put} units")
    if result.min_gap_ms is None:
        print("  shortest gap between PUTs    n/a")
    else:
        per_window = (
            f"; at most one per window: {'yes' if result.min_gap_ms >= result.window_ms * 0.999 else 'no'}"
            if result.window_ms
            else ""
        )
        print(f"  shortest gap between PUTs    {result.min_gap_ms:.0f} ms{per_window}")
    print(f"  panel re-renders             {result.renders}")
    print(f"  Northca settled              {result.settle_s:.2f} s after the burst")
    print(f"  final state == last clicks   {'yes' if result.final_ok else f'NO ({result.wrong} units wrong)'}")


async def main_async(args: argparse.Namespace) -> int:
    common = dict(
        officers=args.officers,
        clicks=args.clicks,
        spread=args.spread,
        latency=args.latency_ms / 1000,
        seed=args.seed,
        debug=args.debug,
    )
    print(
        f"{args.officers} officers x {args.clicks} clicks within {args.spread:g} s "
        f"(Northca sandbox +{args.latency_ms} ms per answer; Discord and Northca in their own processes)",
        flush=True,
    )
    batched = await run("batched", window_ms=args.window_ms, **common)
    show(batched)
    baseline = await run("baseline: batching off, one PUT per click", window_ms=0, **common)
    show(baseline)
    met = (
        batched.answered == batched.right_answers == batched.clicks
        and batched.p99_ms < 100
        and batched.final_ok
        and (batched.min_gap_ms is None or batched.min_gap_ms >= args.window_ms * 0.999)
    )
    print(f"goal (p99 < 100 ms, at most one PUT per MDT per window, final state exact): {'met' if met else 'NOT met'}")
    return 0 if met else 1


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.status_burst", description=__doc__.split("\n\n")[0])
    parser.add_argument("--officers", type=int, default=500)
    parser.add_argument("--clicks", type=int, default=4)
    parser.add_argument("--spread", type=float, default=2.0, help="seconds over which each officer's clicks fall")
    parser.add_argument("--latency-ms", type=int, default=100)
    parser.add_argument("--window-ms", type=int, default=250)
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--debug", action="store_true", help="list every unit whose final state is wrong")
    parser.add_argument("--serve-discord", type=int, metavar="PORT", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    if args.serve_discord:
        asyncio.run(serve_discord(args.serve_discord))
        return
    sys.exit(asyncio.run(main_async(args)))


if __name__ == "__main__":
    main()
