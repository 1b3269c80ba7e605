"""Scale benchmark: many servers and officers on several bot processes over one PostgreSQL.

Processes: the Northca sandbox (bench/sandbox_proc.py: one MDT per server by default, a latency on every answer;
the first shift writes answered 500, 50 stored with the answer lost, then 50 unstored, so the bot must look up and
retry without writing twice; a second write of a shift is stored, so a double write would show), the fake Discord
with its multi-shard gateway (bench/gateway_discord.py: one websocket per shard, each server's events on its own
shard's socket; also the load generator and the stopwatch), a throwaway PostgreSQL (tests/postgres.py) and N
`python -m bot run` processes, each with `shard_count = N` and `shard_ids = [i]`, on the one database. Every
server is linked to its MDT in the database and on the sandbox, as after an approved link request.

Measured besides the bots: the CPU of the sandbox, the fake Discord and the bots' PostgreSQL server processes, and
the database's write transactions, per interaction; the same with no interactions (idle, per second); the load
average of the machine; what the bots logged at ERROR.

Phases: every officer's `/shift start` at a sustained rate, then every officer's `/shift end` at the same rate
(each a real INTERACTION_CREATE on the shard of the officer's server). Measured per phase: first answer
p50/p99/max (event sent on the gateway to the interaction callback at the fake REST, one clock), throughput
(answered per second, first send to last answer), unanswered interactions, and each bot process's CPU time per
interaction it received (/proc, until the fake Discord has seen no request for a second). Then: the Northca
requests by kind, and exactly-once: the shifts the database holds as ended against the shifts stored on Northca
(every one there once, on its server's MDT; none twice, none lost, none unknown; every one synced).

Latency goals are printed as met / not met, never asserted; the exit status is 1 when exactly-once fails. Also
printed: how many first answers were the bot's generic error ("Something went wrong ...", an unexpected error) per
phase, and what the bots logged at ERROR (`--keep-logs DIR` keeps every process's whole log for a closer look).

Run:  python -m bench.cluster_scale [--servers 50] [--officers 100] [--processes 3] [--rate 250] [--latency-ms 150]
      [--mdts M] [--lost-answers 50] [--failed-writes 50] [--keep-logs DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import sys
import time
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.gateway_discord import ADMIN
from bench.interactions import GOAL_SUSTAINED_P99_MS, Child, Driver, Phase, Processes, cpu_seconds, processes, verdict
from bench.sandbox_proc import KEY, OWNER, Link, write_links
from bot.core.links import LinkStore
from bot.core.sharding import shard_of
from bot.discord.interactions import GENERIC_ERROR_START
from bot.ops.cli import LOG_LEVEL_ENV, TEST_DISCORD_API_ENV
from bot.storage import Database
from tests.postgres import PostgresServer, start_server

# Snowflakes of servers created on consecutive milliseconds: `(id >> 22) % shards` deals them out round-robin.
FIRST_GUILD_MS = 320_000_000_000  # ~2025
DISCORD_ANSWER_LIMIT_MS = 3000.0  # an interaction not answered within 3 s has failed for the officer
SYNC_DEADLINE = 600.0  # seconds after the last /shift end for every ended shift to be on Northca
IDLE_SECONDS = 5.0  # measured with no interactions first: each process's background work (leases, watches)


def guild_id(server: int) -> int:
    return ((FIRST_GUILD_MS + server) << 22) + server


def mdt_id(index: int) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"northca-bench-mdt-{index}"))


@dataclass
class Scale:
    servers: int = 50
    officers: int = 100  # per server
    processes: int = 3  # one shard each
    rate: float = 250.0  # interactions per second, in both phases
    mdts: int | None = None  # None: one MDT per server
    latency: float = 0.15  # seconds added to every Northca answer
    lost_answers: int = 50  # shift writes Northca stores but whose answer is lost (a 500): looked up, not rewritten
    failed_writes: int = 50  # shift writes answered 500 unstored: retried

    def links(self) -> list[Link]:
        mdts = self.mdts or self.servers
        return [Link(guild_id(n), mdt_id(n % mdts), OWNER + n % mdts) for n in range(self.servers)]

    def commands(self, command: str) -> list[tuple[str, int, int]]:
        """Every officer once, servers interleaved (officer 0 of each server, then officer 1, ...), so the load
        reaches every shard at once as it would at a busy hour."""
        guilds = [guild_id(n) for n in range(self.servers)]
        return [(command, g, o) for o in range(self.officers) for g in guilds]

    def process_of(self, guild: int) -> int:
        return shard_of(guild, self.processes)

    @property
    def drive_timeout(self) -> float:
        return self.servers * self.officers / self.rate + 120.0


@dataclass
class ScalePhase:
    phase: Phase
    seconds: float  # first event sent to last answer (idle: the time measured)
    cpu_by_process: list[float]
    sent_by_process: list[int]
    sandbox_cpu_s: float
    database_cpu_s: float  # the bots' PostgreSQL backends (nan when they cannot be read)
    writes: int  # write transactions on the database server (transaction ids it handed out)

    @property
    def throughput(self) -> float:
        return self.phase.answered / max(self.seconds, 1e-9)

    def cpu_ms_per_interaction(self, process: int) -> float:
        return self.cpu_by_process[process] * 1000 / max(1, self.sent_by_process[process])

    def per_interaction(self, total: float) -> float:
        return total / max(1, self.phase.sent)


@dataclass
class ExactlyOnce:
    expected: int  # officers x servers: every officer started and ended one shift
    ended_in_db: int
    synced_in_db: int
    on_northca: int  # distinct shift ids stored
    twice: list[str]  # stored more than once
    lost: list[str]  # ended in the database, not on Northca
    unknown: list[str]  # on Northca, not an ended shift of the database
    wrong_mdt: list[str]  # on another MDT than the database's
    seconds_to_synced: float  # from the first /shift end to every ended shift synced (nan: never)

    @property
    def ok(self) -> bool:
        return (
            not self.twice
            and not self.lost
            and not self.unknown
            and not self.wrong_mdt
            and self.synced_in_db == self.ended_in_db
        )


@dataclass
class Result:
    scale: Scale
    guilds_per_process: list[int]
    idle: ScalePhase  # no interactions: the background work alone
    phases: list[ScalePhase]
    requests: dict[str, int]
    exactly_once: ExactlyOnce
    errors: list[str]  # logged by the bots at ERROR or above
    peak_rss_mib: list[float]
    spawned: list[int] = field(default_factory=list)


class ClusterDriver(Driver):
    """The interactions benchmark's driver, over several bot processes: CPU is read from each of them, from the
    sandbox and from the bots' PostgreSQL backends."""

    def __init__(
        self, session: aiohttp.ClientSession, discord_api: str, bots: list[Child], fake: Child, sandbox: Child,
        db: Database, scale: Scale,
    ) -> None:  # fmt: skip
        super().__init__(session, discord_api, bots[0], fake)
        self.bots, self.sandbox, self.db, self.scale = bots, sandbox, db, scale

    async def ready(self) -> None:
        for bot in self.bots:
            if bot.proc.returncode is not None:
                raise RuntimeError(f"{bot.name} exited ({bot.proc.returncode}):\n{bot.stderr_tail()}")
        await super().ready()

    async def database_side(self) -> tuple[float, int]:
        """CPU seconds of the other connections' server processes so far, and the server's next transaction id (each
        write transaction takes one; this read takes one too)."""
        rows = await self.db.fetchall(
            "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
        )
        cpu = 0.0
        for row in rows:
            try:
                cpu += cpu_seconds(int(row[0]))
            except OSError:  # gone, or not ours to read
                cpu = float("nan")
        xid = await self.db.fetchone("SELECT pg_current_xact_id()::text")
        return cpu, int(xid[0]) if xid else 0

    async def _counters(self) -> tuple[list[float], float, float, float, int]:
        """CPU seconds so far of each bot, the fake Discord, the sandbox and the bots' database backends; the xid."""
        database_cpu, xid = await self.database_side()
        bots = [cpu_seconds(bot.proc.pid) for bot in self.bots]
        return bots, cpu_seconds(self.fake.proc.pid), cpu_seconds(self.sandbox.proc.pid), database_cpu, xid

    async def cluster_phase(self, name: str, commands: list[tuple[str, int, int]]) -> ScalePhase:
        requests_before = (await self.call("idle", 30.0, quiet=0.0))["requests"]
        bots, fake, sandbox, database, xid = await self._counters()
        started = time.monotonic()
        if commands:
            result = await self.call("drive", self.scale.drive_timeout, commands=commands, rate=self.scale.rate)
        else:  # the background work alone, for IDLE_SECONDS
            await asyncio.sleep(IDLE_SECONDS)
            result = {"sent": 0, "answered": 0, "latency_ms": [], "send_seconds": 0.0, "contents": []}
        seconds = float(result.get("span_seconds", 0.0)) or time.monotonic() - started
        fake_cpu = cpu_seconds(self.fake.proc.pid) - fake
        idle = await self.call("idle", 60.0, quiet=1.0)  # the follow-up work each interaction set off is counted too
        bots_after, _, sandbox_after, database_after, xid_after = await self._counters()
        sent = {int(shard): int(n) for shard, n in result.get("sent_by_shard", {}).items()}  # as the gateway routed
        phase = Phase(
            name, result["sent"], result["answered"], result["latency_ms"], sum(bots_after) - sum(bots), fake_cpu,
            result["send_seconds"], result["contents"], idle["requests"] - requests_before,
        )  # fmt: skip
        return ScalePhase(
            phase, seconds, [a - b for a, b in zip(bots_after, bots, strict=True)],
            [sent.get(i, 0) for i in range(self.scale.processes)], sandbox_after - sandbox, database_after - database,
            xid_after - xid - 1,
        )  # fmt: skip


async def seed(database_url: str, scale: Scale) -> None:
    """Every server linked to its MDT, as after an approved link request."""
    db = Database(database_url)
    await db.open()
    try:
        links = LinkStore(db)
        for link in scale.links():
            await links.save_request(link.guild, link.mdt, f"bench-{link.guild}", "approved", link.owner, ADMIN, None)
    finally:
        await db.close()


def write_bot_config(path: Path, database_url: str, northca_url: str, process: int, processes: int) -> Path:
    path.write_text(
        f"[discord]\ntoken = 'bench-token'\nshard_count = {processes}\nshard_ids = [{process}]\n"
        f"[database]\nurl = {database_url!r}\n"
        f"[northca]\nbase_url = {northca_url!r}\npartner_key = {KEY!r}\n",
        encoding="utf-8",
    )
    return path


async def count_ended(db: Database) -> tuple[int, int]:
    row = await db.fetchone(
        "SELECT COUNT(*), SUM(CASE WHEN sync_state = 'synced' THEN 1 ELSE 0 END) FROM shifts WHERE ended_ms IS NOT NULL"
    )
    return (int(row[0]), int(row[1] or 0)) if row else (0, 0)


async def wait_synced(db: Database, deadline: float, bots: list[Child]) -> bool:
    """Until every ended shift is synced (True), or the deadline or a bot process's exit (False)."""
    loop = asyncio.get_running_loop()
    while loop.time() < deadline:
        ended, synced = await count_ended(db)
        if ended == synced:
            return True
        if any(bot.proc.returncode is not None for bot in bots):
            return False
        await asyncio.sleep(0.2)
    return False


async def check_exactly_once(db: Database, scale: Scale, summary: dict[str, object], seconds: float) -> ExactlyOnce:
    rows = await db.fetchall("SELECT id, mdt_id, sync_state FROM shifts WHERE ended_ms IS NOT NULL")
    ended = {str(r[0]): str(r[1]) for r in rows}
    stored = summary["shift_ids"]
    assert isinstance(stored, dict)
    where = {str(sid): str(mdt) for mdt, ids in stored.items() for sid in ids}
    written = Counter(str(sid) for ids in stored.values() for sid in ids)
    return ExactlyOnce(
        expected=scale.servers * scale.officers,
        ended_in_db=len(ended),
        synced_in_db=sum(1 for r in rows if r[2] == "synced"),
        on_northca=len(written),
        twice=sorted(sid for sid, n in written.items() if n > 1),
        lost=sorted(set(ended) - set(written)),
        unknown=sorted(set(written) - set(ended)),
        wrong_mdt=sorted(sid for sid, mdt in ended.items() if sid in where and where[sid] != mdt),
        seconds_to_synced=seconds,
    )


@dataclass
class ClusterRun:
    phases: list[ScalePhase]  # idle, start, end
    summary: dict[str, object]  # the sandbox's (bench/sandbox_proc.py)
    seconds_to_synced: float  # from the first /shift end
    errors: list[str]  # what the bots logged at ERROR or above
    peak_rss_mib: list[float]  # each bot process's


def peak_rss_mib(pid: int) -> float:
    """A running process's peak resident memory (VmHWM), in MiB."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return float("nan")
    kib = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")), None)
    return kib / 1024 if kib is not None else float("nan")


def logged_errors(bot: Child) -> list[str]:
    text = bot.stderr_path.read_text(errors="replace") if bot.stderr_path.exists() else ""
    return [f"{bot.name}: {line}" for line in text.splitlines() if " ERROR " in line or " CRITICAL " in line]


async def run_cluster(procs: Processes, session: aiohttp.ClientSession, scale: Scale, database_url: str) -> ClusterRun:
    """Start everything, measure the idle processes, drive both phases, wait for every ended shift to be synced;
    stop the bots and the sandbox."""
    links = write_links(procs.workdir / "links.json", scale.links())
    summary_path = procs.workdir / "sandbox-summary.json"
    sandbox, northca_url = await procs.spawn_server(
        "sandbox",
        ["-m", "bench.sandbox_proc", "--latency-ms", str(scale.latency * 1000), "--links", str(links),
         "--summary", str(summary_path), "--accept-duplicate-shift-ids", "--lost-answers", str(scale.lost_answers),
         "--failed-writes", str(scale.failed_writes)],
    )  # fmt: skip
    guilds = procs.workdir / "guilds.json"
    guilds.write_text(json.dumps([link.guild for link in scale.links()]))
    fake, discord_api = await procs.spawn_server(
        "discord", ["-m", "bench.gateway_discord", "--guilds", str(guilds), "--shards", str(scale.processes)]
    )
    env = {TEST_DISCORD_API_ENV: discord_api, LOG_LEVEL_ENV: "WARNING"}
    bots = []
    for i in range(scale.processes):
        config = write_bot_config(procs.workdir / f"bot-{i}.toml", database_url, northca_url, i, scale.processes)
        bots.append(await procs.spawn(f"bot-{i}", ["-m", "bot", "run", "--config", str(config)], env))
    errors: list[str] = []
    peak_rss: list[float] = []
    db = Database(database_url)
    await db.open()
    driver = ClusterDriver(session, discord_api, bots, fake, sandbox, db, scale)
    try:
        await driver.ready()
        idle = await driver.cluster_phase(f"idle {IDLE_SECONDS:g} s", [])
        n = scale.servers * scale.officers
        start = await driver.cluster_phase(f"start x{n} at {scale.rate:g}/s", scale.commands("start"))
        first_end = time.monotonic()
        end = await driver.cluster_phase(f"end x{n} at {scale.rate:g}/s", scale.commands("end"))
        loop = asyncio.get_running_loop()
        synced = await wait_synced(db, loop.time() + SYNC_DEADLINE, bots)
        seconds = time.monotonic() - first_end if synced else float("nan")
    finally:
        await db.close()
        for bot in bots:
            peak_rss.append(peak_rss_mib(bot.proc.pid))
            code = await procs.stop(bot)
            if code not in (0, -15):
                print(f"  ({bot.name} exited with {code}:\n{bot.stderr_tail()})", file=sys.stderr)
            errors += logged_errors(bot)
        await procs.stop(fake)
    if await procs.stop(sandbox) != 0:
        raise RuntimeError(f"the sandbox saw a request outside the spec:\n{sandbox.stderr_tail()}")
    summary: dict[str, object] = json.loads(summary_path.read_text())
    return ClusterRun([idle, start, end], summary, seconds, errors, peak_rss)


async def benchmark(
    scale: Scale, database_url: str, spawned: list[int] | None = None, keep_logs: Path | None = None
) -> Result:
    """The whole run on a fresh, migrated database; `spawned` receives the pid of every process started; with
    `keep_logs`, every process's log (stderr) is copied into that directory at the end."""
    await seed(database_url, scale)
    async with processes(keep_logs) as procs, aiohttp.ClientSession() as session:
        if spawned is not None:
            procs.spawned = spawned
        run = await run_cluster(procs, session, scale, database_url)
    db = Database(database_url)
    await db.open()
    try:
        once = await check_exactly_once(db, scale, run.summary, run.seconds_to_synced)
    finally:
        await db.close()
    requests = run.summary["requests"]
    assert isinstance(requests, dict)
    per_process = Counter(scale.process_of(link.guild) for link in scale.links())
    return Result(
        scale, [per_process[i] for i in range(scale.processes)], run.phases[0], run.phases[1:],
        {str(k): int(v) for k, v in requests.items()}, once, run.errors, run.peak_rss_mib, procs.spawned,
    )  # fmt: skip


def report(result: Result) -> list[str]:
    s = result.scale
    lines = [
        f"cluster scale: {s.servers} servers x {s.officers} officers on {s.processes} bot processes"
        f" (one shard each) over PostgreSQL; {s.mdts or s.servers} MDTs; Northca +{s.latency * 1000:g} ms,"
        f" {s.lost_answers} shift writes with the answer lost and {s.failed_writes} failed",
        "servers per process (peak RSS): "
        + ", ".join(
            f"bot-{i} {n} ({rss:.0f} MiB)"
            for i, (n, rss) in enumerate(zip(result.guilds_per_process, result.peak_rss_mib, strict=True))
        ),
        f"{'phase':<24}{'answered':>12}{'unanswered':>11}{'per s':>8}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}",
    ]
    for sp in result.phases:
        ph = sp.phase
        lines.append(
            f"{ph.name:<24}{f'{ph.answered}/{ph.sent}':>12}{ph.sent - ph.answered:>11}{sp.throughput:>8.0f}"
            f"{ph.p(50):>9.1f}{ph.p(99):>9.1f}{max(ph.latency_ms, default=float('nan')):>9.1f}"
        )
    lines.append(
        f"{'CPU ms / interaction':<24}" + "".join(f"{f'bot-{i}':>9}" for i in range(s.processes))
        + f"{'PG':>9}{'sandbox':>9}{'fake':>9}{'DB writes/int':>14}"
    )  # fmt: skip
    for sp in result.phases:
        lines.append(
            f"{sp.phase.name:<24}" + "".join(f"{sp.cpu_ms_per_interaction(i):>9.2f}" for i in range(s.processes))
            + f"{sp.per_interaction(sp.database_cpu_s * 1000):>9.2f}{sp.per_interaction(sp.sandbox_cpu_s * 1000):>9.2f}"
            f"{sp.per_interaction(sp.phase.fake_cpu_s * 1000):>9.2f}{sp.per_interaction(sp.writes):>14.1f}"
        )  # fmt: skip
    idle = result.idle
    lines.append(
        f"{'idle, CPU ms / s':<24}" + "".join(f"{c * 1000 / idle.seconds:>9.2f}" for c in idle.cpu_by_process)
        + f"{idle.database_cpu_s * 1000 / idle.seconds:>9.2f}{idle.sandbox_cpu_s * 1000 / idle.seconds:>9.2f}"
        f"{idle.phase.fake_cpu_s * 1000 / idle.seconds:>9.2f}{idle.writes / idle.seconds:>14.1f}  (DB writes / s)"
    )  # fmt: skip
    lines.append("Northca requests by kind:")
    for kind, n in sorted(result.requests.items(), key=lambda kv: (-kv[1], kv[0])):
        lines.append(f"  {n:>7}  {kind}")
    once = result.exactly_once
    lines += [
        f"exactly-once: {'yes' if once.ok else 'NO'} - {once.ended_in_db}/{once.expected} shifts ended in the database,"
        f" {once.synced_in_db} synced, {once.on_northca} on Northca; twice {len(once.twice)}, lost {len(once.lost)},"
        f" unknown {len(once.unknown)}, wrong MDT {len(once.wrong_mdt)}; all synced"
        f" {once.seconds_to_synced:.1f} s after the first /shift end",
    ]
    for what, ids in (("twice", once.twice), ("lost", once.lost), ("unknown", once.unknown)):
        if ids:
            lines.append(f"  {what}: {', '.join(ids[:5])}{' ...' if len(ids) > 5 else ''}")
    for sp in result.phases:
        ph = sp.phase
        everyone = ph.answered == ph.sent
        lines.append(
            f"{ph.name}: p99 {ph.p(99):.1f} ms (goal < {GOAL_SUSTAINED_P99_MS:g} ms:"
            f" {verdict(everyone and ph.p(99) < GOAL_SUSTAINED_P99_MS)}); every answer within Discord's 3 s:"
            f" {verdict(everyone and max(ph.latency_ms, default=0.0) < DISCORD_ANSWER_LIMIT_MS)}"
        )
    generic = [sum(1 for c in sp.phase.contents if c.startswith(GENERIC_ERROR_START)) for sp in result.phases]
    lines.append(
        f"generic error answers ({GENERIC_ERROR_START!r}, an unexpected error in the bot): "
        + ", ".join(f"{n} in {sp.phase.name}" for n, sp in zip(generic, result.phases, strict=True))
        + f"; the bots logged {len(result.errors)} lines at ERROR"
        + (" (each generic answer has one, with its trace id)" if any(generic) else "")
    )
    if result.errors:
        lines.append("  e.g.:")
        lines += [f"  {line[:300]}" for line in result.errors[:3]]
    bad = [c for sp in result.phases for c in sp.phase.contents if not c.startswith(("You are on duty", "Shift ended"))]
    if bad:
        lines.append(f"note: {len(bad)} answers were not a start/end confirmation, e.g. {bad[0]!r}")
    return lines


@contextlib.contextmanager
def postgres_server() -> Iterator[PostgresServer]:
    yield from start_server()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--servers", type=int, default=50)
    parser.add_argument("--officers", type=int, default=100, help="per server")
    parser.add_argument("--processes", type=int, default=3, help="bot processes, one shard each")
    parser.add_argument("--rate", type=float, default=250.0, help="interactions per second in each phase")
    parser.add_argument("--mdts", type=int, default=None, help="MDTs the servers share (default: one per server)")
    parser.add_argument("--latency-ms", type=float, default=150.0, help="added to every Northca answer")
    parser.add_argument("--lost-answers", type=int, default=50, help="shift writes stored whose answer is a 500")
    parser.add_argument("--failed-writes", type=int, default=50, help="then shift writes answered 500, unstored")
    parser.add_argument(
        "--keep-logs", type=Path, default=None, metavar="DIR",
        help="copy every process's log (bot-N.stderr, discord.stderr, sandbox.stderr) into DIR at the end",
    )  # fmt: skip
    args = parser.parse_args(argv)
    scale = Scale(
        args.servers, args.officers, args.processes, args.rate, args.mdts, args.latency_ms / 1000, args.lost_answers,
        args.failed_writes,
    )  # fmt: skip
    started = time.monotonic()
    with postgres_server() as server:
        result = asyncio.run(run_on(server, scale, args.keep_logs))
    for line in report(result):
        print(line)
    load = ", ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"(whole run {time.monotonic() - started:.0f} s; CPU {os.cpu_count()} cores, shared; load average at the end"
          f" {load})")  # fmt: skip
    return 0 if result.exactly_once.ok else 1


async def run_on(server: PostgresServer, scale: Scale, keep_logs: Path | None = None) -> Result:
    return await benchmark(scale, await server.fresh_database(), keep_logs=keep_logs)


if __name__ == "__main__":
    raise SystemExit(main())
