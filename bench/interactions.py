"""Interactions benchmark: the real bot in its own process, measured against a null bot, through a fake gateway.

Three processes at a time: the Northca sandbox (bench/sandbox_proc.py), the fake Discord with its gateway websocket,
which is also the load generator and stopwatch (bench/gateway_discord.py), and the bot under test, each of the three
with fresh ones of the first two: first the null bot
(bench/null_bot.py: same discord.py, answers everything with a constant message), then the floor bot
(bench/floor_bot.py: the null bot plus what no shift bot can skip: each start and end committed, the end written to
Northca and its answer edited with the verdict, nothing else), then the real bot (`python -m bot run`, all cogs, a
fresh SQLite file). All get the same interactions, the way Discord sends them: INTERACTION_CREATE events on the
gateway socket. Measured, for each:

  * CPU time of the bot's process (utime + stime from /proc) per interaction, including the work each one sets
    off afterwards (the Northca sync, the answer's edit), counted until the bot has been quiet for a second;
  * first answer: from the event being sent on the gateway to the interaction callback arriving at the fake REST;
  * the REST requests to Discord per interaction (the answer, and for /shift end the edit with Northca's verdict).

Scenarios: 200 simultaneous /shift start; /shift end for those 200 officers spread over one second; a sustained
rate (500/s by default) of /shift start then /shift end for fresh officers. Goals are printed as met / not met.

Run:  python -m bench.interactions  [--officers 200] [--rate 500] [--seconds 4] [--latency-ms 150]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import shutil
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

import aiohttp
from discord.utils import HAS_ORJSON

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.floor_bot import DATABASE_ENV as FLOOR_DATABASE_ENV
from bench.floor_bot import NORTHCA_ENV as FLOOR_NORTHCA_ENV
from bench.gateway_discord import ADMIN, GUILD
from bench.sandbox_proc import KEY, MDT, OWNER
from bench.shift_rush import percentile
from bot.core.links import LinkStore
from bot.ops.cli import LOG_LEVEL_ENV, TEST_DISCORD_API_ENV
from bot.ops.runtime import EventLoopChoice, loop_factory
from bot.storage import Database

REPO = Path(__file__).resolve().parents[1]
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
START_TIMEOUT = 60.0
GOAL_CPU_RATIO = 2.0
GOAL_SUSTAINED_P99_MS = 50.0
GOAL_RUSH_P99_RATIO = 1.5  # the bot's p99 for the simultaneous starts against the null bot's, in the same run
SUSTAINED_OFFICER_BASE = 100_000  # sustained-phase officers never overlap the rush's
# The null bot (the floor of discord.py itself), the floor bot (plus what no shift bot can skip: the commit, the
# answer, the Northca write, the verdict edit), the bot; each in turn, on the same machine state.
TARGETS = ("null", "floor", "bot")


def cpu_seconds(pid: int, *, thread: int | None = None) -> float:
    """User + system CPU time of a running process, from /proc/<pid>/stat; of one of its threads with `thread`
    (the main thread's id is the pid: the event loop's, without the database thread and its fsyncs)."""
    where = f"/proc/{pid}/task/{thread}/stat" if thread is not None else f"/proc/{pid}/stat"
    stat = Path(where).read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # after "pid (comm) ": fields[0] is the state (field 3)
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


@dataclass
class Child:
    name: str
    proc: asyncio.subprocess.Process
    stderr_path: Path

    def stderr_tail(self, lines: int = 20) -> str:
        text = self.stderr_path.read_text(errors="replace") if self.stderr_path.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


@dataclass
class Processes:
    """Every process this benchmark started; all are stopped (SIGTERM, then SIGKILL) when it ends."""

    workdir: Path
    children: list[Child] = field(default_factory=list)
    spawned: list[int] = field(default_factory=list)  # every pid ever started, for the smoke test's clean-up check

    async def spawn(self, name: str, args: Sequence[str], env: dict[str, str] | None = None) -> Child:
        full_env = {k: v for k, v in os.environ.items() if not k.startswith(("DISCORD_", "NORTHCA_"))}
        full_env.update(env or {})
        full_env["PYTHONPATH"] = str(REPO)
        stderr_path = self.workdir / f"{name}.stderr"
        with stderr_path.open("wb") as stderr:
            proc = await asyncio.create_subprocess_exec(
                sys.executable, *args, cwd=str(REPO), env=full_env, stdout=asyncio.subprocess.PIPE, stderr=stderr
            )
        child = Child(name, proc, stderr_path)
        self.children.append(child)
        self.spawned.append(proc.pid)
        return child

    async def spawn_server(self, name: str, args: Sequence[str]) -> tuple[Child, str]:
        """Start a server process and wait for its "READY <url>" line."""
        child = await self.spawn(name, args)
        assert child.proc.stdout is not None
        try:
            line = await asyncio.wait_for(child.proc.stdout.readline(), START_TIMEOUT)
        except TimeoutError:
            line = b""
        if not line.startswith(b"READY "):
            raise RuntimeError(f"{name} did not start:\n{child.stderr_tail()}")
        return child, line.decode().split()[1]

    async def stop(self, child: Child, grace: float = 15.0) -> int:
        if child.proc.returncode is None:
            with contextlib.suppress(ProcessLookupError):
                child.proc.terminate()
            try:
                await asyncio.wait_for(child.proc.wait(), grace)
            except TimeoutError:
                child.proc.kill()
                await child.proc.wait()
        if child in self.children:
            self.children.remove(child)
        assert child.proc.returncode is not None
        return child.proc.returncode

    async def stop_all(self) -> None:
        for child in reversed(list(self.children)):
            await self.stop(child)


@contextlib.asynccontextmanager
async def processes(keep_logs: Path | None = None) -> AsyncIterator[Processes]:
    """A work directory for the processes' files; with `keep_logs`, each process's stderr (its log) is copied there
    once every process has stopped."""
    with tempfile.TemporaryDirectory(prefix="bench-interactions-") as tmp:
        procs = Processes(Path(tmp))
        try:
            yield procs
        finally:
            await procs.stop_all()
            if keep_logs is not None:
                keep_logs.mkdir(parents=True, exist_ok=True)
                for log_file in procs.workdir.glob("*.stderr"):
                    shutil.copyfile(log_file, keep_logs / log_file.name)


@dataclass
class Phase:
    name: str
    sent: int
    answered: int
    latency_ms: list[float]
    cpu_s: float
    fake_cpu_s: float  # the fake Discord's own CPU time in the phase: near a full core means it is the limit
    send_seconds: float
    contents: list[str]
    discord_requests: int  # REST requests the bot made in the phase (answers, edits, ...), follow-up work included
    loop_cpu_s: float = float("nan")  # the bot's main thread (its event loop) alone, without the database thread

    @property
    def cpu_ms_per_interaction(self) -> float:
        return self.cpu_s * 1000 / max(1, self.sent)

    @property
    def loop_cpu_ms_per_interaction(self) -> float:
        return self.loop_cpu_s * 1000 / max(1, self.sent)

    @property
    def requests_per_interaction(self) -> float:
        return self.discord_requests / max(1, self.sent)

    def p(self, q: float) -> float:
        return percentile(self.latency_ms, q) if self.latency_ms else float("nan")


class Driver:
    """Talks to the fake Discord's `/_bench` routes and reads the bot's CPU time around each phase."""

    def __init__(self, session: aiohttp.ClientSession, discord_api: str, bot: Child, fake: Child) -> None:
        self.session = session
        self.fake = fake
        self.control = discord_api.split("/api/", 1)[0] + "/_bench"
        self.bot = bot

    async def call(self, route: str, timeout: float, **body: Any) -> dict[str, Any]:
        async with self.session.post(
            f"{self.control}/{route}", json={**body, "timeout": timeout},
            timeout=aiohttp.ClientTimeout(total=timeout + 30),
        ) as resp:  # fmt: skip
            resp.raise_for_status()
            result: dict[str, Any] = await resp.json()
            return result

    async def ready(self) -> None:
        try:
            await self.call("ready", START_TIMEOUT)
        except (aiohttp.ClientError, TimeoutError):
            raise RuntimeError(f"{self.bot.name} never connected to the gateway:\n{self.bot.stderr_tail()}") from None
        await self.call("idle", 30.0, quiet=1.0)  # its start-up requests (command sync, ...) are over

    async def phase(self, name: str, commands: list[tuple[str, int]], rate: float, timeout: float) -> Phase:
        pid, fake_pid = self.bot.proc.pid, self.fake.proc.pid
        requests_before = (await self.call("idle", 30.0, quiet=0.0))["requests"]
        before, fake_before = cpu_seconds(pid), cpu_seconds(fake_pid)
        loop_before = cpu_seconds(pid, thread=pid)
        result = await self.call("drive", timeout, commands=commands, rate=rate)
        fake_cpu = cpu_seconds(fake_pid) - fake_before
        idle = await self.call("idle", 30.0, quiet=1.0)  # the follow-up work each interaction set off is counted too
        cpu = cpu_seconds(pid) - before
        loop_cpu = cpu_seconds(pid, thread=pid) - loop_before
        return Phase(
            name, result["sent"], result["answered"], result["latency_ms"], cpu, fake_cpu, result["send_seconds"],
            result["contents"], idle["requests"] - requests_before, loop_cpu,
        )  # fmt: skip


async def seed_database(path: Path) -> None:
    """The server is linked to the sandbox's MDT, as after an approved link request."""
    db = Database(path)
    await db.open()
    try:
        await LinkStore(db).save_request(GUILD, MDT, "bench-request", "approved", OWNER, ADMIN, None)
    finally:
        await db.close()


def write_bot_config(path: Path, db_path: Path, northca_url: str, event_loop: EventLoopChoice = "auto") -> Path:
    path.write_text(
        "[discord]\ntoken = 'bench-token'\n"
        f"[database]\npath = {str(db_path)!r}\n"
        f"[northca]\nbase_url = {northca_url!r}\npartner_key = {KEY!r}\n"
        # Only when chosen: "auto" is the default (and a bot from before the setting runs this benchmark too).
        + (f"[bot]\nevent_loop = {event_loop!r}\n" if event_loop != "auto" else ""),
        encoding="utf-8",
    )
    return path


@dataclass
class Plan:
    officers: int = 200
    end_window: float = 1.0
    rate: float = 500.0
    seconds: float = 4.0
    timeout: float = 120.0
    event_loop: EventLoopChoice = "auto"  # the bot's [bot] event_loop (the null bot always runs on asyncio's own loop)

    def sustained(self) -> list[tuple[str, int]]:
        half = max(1, int(self.rate * self.seconds) // 2)
        officers = range(SUSTAINED_OFFICER_BASE, SUSTAINED_OFFICER_BASE + half)
        return [("start", o) for o in officers] + [("end", o) for o in officers]


async def measure(
    procs: Processes, session: aiohttp.ClientSession, target: str, northca_url: str, plan: Plan
) -> list[Phase]:
    """One bot ("null", "floor" or "bot") in its own process, against a fresh fake Discord; returns its phases."""
    fake, discord_api = await procs.spawn_server(f"discord-{target}", ["-m", "bench.gateway_discord"])
    env = {TEST_DISCORD_API_ENV: discord_api, LOG_LEVEL_ENV: "WARNING"}
    if target == "null":
        bot = await procs.spawn("null-bot", ["-m", "bench.null_bot"], env)
    elif target == "floor":
        floor_env = {FLOOR_NORTHCA_ENV: northca_url, FLOOR_DATABASE_ENV: str(procs.workdir / "floor.sqlite3")}
        bot = await procs.spawn("floor-bot", ["-m", "bench.floor_bot"], env | floor_env)
    else:
        db_path = procs.workdir / "bot.sqlite3"
        await seed_database(db_path)
        config = write_bot_config(procs.workdir / "config.toml", db_path, northca_url, plan.event_loop)
        bot = await procs.spawn("bot", ["-m", "bot", "run", "--config", str(config)], env)
    driver = Driver(session, discord_api, bot, fake)
    try:
        await driver.ready()
        officers = range(plan.officers)
        starts = [("start", o) for o in officers]
        rush = await driver.phase(f"start x{plan.officers} at once", starts, 0.0, plan.timeout)
        end_rate = plan.officers / plan.end_window
        ends = [("end", o) for o in officers]
        end = await driver.phase(f"end over {plan.end_window:g} s", ends, end_rate, plan.timeout)
        sustained = await driver.phase(f"sustained {plan.rate:g}/s", plan.sustained(), plan.rate, plan.timeout)
        return [rush, end, sustained]
    finally:
        code = await procs.stop(bot)
        await procs.stop(fake)
        if code not in (0, -15):
            print(f"  ({bot.name} exited with {code}:\n{bot.stderr_tail()})", file=sys.stderr)


async def benchmark(plan: Plan, latency: float, spawned: list[int] | None = None) -> dict[str, list[Phase]]:
    """Run the plan on the null bot, the floor bot, then the bot, each with a fresh Northca sandbox (the floor's
    writes do not make the bot's sandbox bigger); `spawned` receives the pid of every process started."""
    LOAD_AT_START[0] = load_average()
    async with processes() as procs, aiohttp.ClientSession() as session:
        if spawned is not None:
            procs.spawned = spawned
        results = {}
        for target in TARGETS:
            sandbox, northca_url = await procs.spawn_server(
                f"sandbox-{target}", ["-m", "bench.sandbox_proc", "--latency-ms", str(latency * 1000)]
            )
            results[target] = await measure(procs, session, target, northca_url, plan)
            if await procs.stop(sandbox) != 0:
                raise RuntimeError(f"the sandbox saw a request outside the spec:\n{sandbox.stderr_tail()}")
        return results


def load_average() -> str:
    """The machine's load average (1, 5, 15 min): these machines are shared, figures are read with it."""
    try:
        return " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "?"


LOAD_AT_START = ["?"]


def event_loop_used(choice: EventLoopChoice) -> str:
    return "uvloop" if loop_factory(choice) is not None else "asyncio"


def verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def report(results: dict[str, list[Phase]], plan: Plan) -> list[str]:
    null, floor, bot = results["null"], results["floor"], results["bot"]
    lines = [
        "interactions benchmark: the bot, a null bot and a floor bot, each in its own process, through a fake gateway",
        f"{'phase':<22}{'who':<6}{'answered':>10}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}"
        f"{'CPU ms/int':>12}{'loop ms/int':>12}{'REST/int':>10}{'fake CPU s':>12}",
    ]
    for n, f, b in zip(null, floor, bot, strict=True):
        for who, ph in (("null", n), ("floor", f), ("bot", b)):
            lines.append(
                f"{ph.name:<22}{who:<6}{f'{ph.answered}/{ph.sent}':>10}{ph.p(50):>9.1f}{ph.p(99):>9.1f}"
                f"{max(ph.latency_ms, default=float('nan')):>9.1f}{ph.cpu_ms_per_interaction:>12.2f}"
                f"{ph.loop_cpu_ms_per_interaction:>12.2f}"
                f"{ph.requests_per_interaction:>10.2f}{ph.fake_cpu_s:>12.2f}"
            )
    rush, ends, sustained = bot
    null_end = max(null[1].cpu_ms_per_interaction, 1e-9)
    floor_end = max(floor[1].cpu_ms_per_interaction, 1e-9)
    ratio = ends.cpu_ms_per_interaction / null_end
    rush_ratio = rush.p(99) / max(null[0].p(99), 1e-9)
    loop_ratio = ends.loop_cpu_ms_per_interaction / max(null[1].loop_cpu_ms_per_interaction, 1e-9)
    lines += [
        f"bot CPU per /shift end / null bot's: {ratio:.1f}x"
        f"  (goal <= {GOAL_CPU_RATIO:g}x: {verdict(ratio <= GOAL_CPU_RATIO)});"
        f" event loop thread alone: {loop_ratio:.1f}x",
        f"floor bot (the commit, the answer, the Northca write, the verdict edit; nothing else) CPU per /shift end:"
        f" {floor_end:.2f} ms, {floor_end / null_end:.1f}x the null bot's;"
        f" the bot's {ends.cpu_ms_per_interaction:.2f} ms, {ends.cpu_ms_per_interaction / floor_end:.1f}x the floor's",
        f"first answer p99 at {plan.rate:g}/s sustained (sent in {sustained.send_seconds:.2f} s):"
        f" {sustained.p(99):.1f} ms  (goal < {GOAL_SUSTAINED_P99_MS:g} ms:"
        f" {verdict(sustained.answered == sustained.sent and sustained.p(99) < GOAL_SUSTAINED_P99_MS)})",
        f"{plan.officers} simultaneous /shift start p99: {rush.p(99):.1f} ms, null bot's {null[0].p(99):.1f} ms:"
        f" {rush_ratio:.2f}x  (goal <= {GOAL_RUSH_P99_RATIO:g}x:"
        f" {verdict(rush.answered == rush.sent and rush_ratio <= GOAL_RUSH_P99_RATIO)})",
        f"bot: event loop {event_loop_used(plan.event_loop)}, JSON {'orjson' if HAS_ORJSON else 'json (stdlib)'}"
        f" (discord.py's); load average before the run {LOAD_AT_START[0]}",
    ]
    bad = [c for ph in bot for c in ph.contents if not c.startswith(("You are on duty", "Shift ended"))]
    if bad:
        lines.append(f"note: {len(bad)} bot answers were not a start/end confirmation, e.g. {bad[0]!r}")
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--officers", type=int, default=200, help="simultaneous /shift start, then their ends")
    parser.add_argument("--rate", type=float, default=500.0, help="interactions per second in the sustained phase")
    parser.add_argument("--seconds", type=float, default=4.0, help="length of the sustained phase")
    parser.add_argument("--latency-ms", type=float, default=150.0, help="added to every Northca answer")
    parser.add_argument(
        "--event-loop", choices=("auto", "asyncio", "uvloop"), default="auto", help="the bot's [bot] event_loop"
    )
    args = parser.parse_args(argv)
    event_loop = cast(EventLoopChoice, args.event_loop)
    plan = Plan(officers=args.officers, rate=args.rate, seconds=args.seconds, event_loop=event_loop)
    started = time.monotonic()
    results = asyncio.run(benchmark(plan, args.latency_ms / 1000))
    for line in report(results, plan):
        print(line)
    print(
        f"(whole run {time.monotonic() - started:.0f} s; CPU {os.cpu_count()} cores, shared;"
        f" load average after the run {load_average()})"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
