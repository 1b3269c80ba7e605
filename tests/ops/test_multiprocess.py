"""Several bot processes on one PostgreSQL database (docs/scaling.md): three real `python -m bot run` processes,
each with its own shard, against the Northca sandbox with latency and lost answers; one is SIGKILLed while its
writes are out, then restarted. Every ended shift reaches Northca exactly once, and each shard set's scheduled
work has exactly one holder.

The fake Discord has no gateway, so the processes never receive interactions here: the shifts are ended in the
database as /shift end leaves them (in many servers, spread over the three shards), and what is proven is the
part that must happen once across processes: the claims and writes of the shared outbox, and the leases."""

from __future__ import annotations

import asyncio
import sys
import uuid
from collections import Counter
from pathlib import Path

import pytest

from bot.links import LinkStore
from bot.northca.sandbox import NorthcaSandbox
from bot.services import shard_of
from bot.shifts import ShiftStore, now_ms
from bot.storage import Database
from tests.harness import FakeDiscord
from tests.helpers import ADMIN, KEY, MDT, OWNER
from tests.ops.botproc import REPO, bot_env

pytestmark = [pytest.mark.asyncio, pytest.mark.postgresql_only("three processes share one database server")]

SHARDS = 3
GUILDS = [((n + 1) << 22) + 7 for n in range(12)]  # four servers per shard
PER_GUILD = 10
DEADLINE = 150.0  # the whole run on a slow shared machine: a killed process's claims expire after 30 s


async def seed(db: Database, sandbox: NorthcaSandbox) -> list[str]:
    """Every server linked, PER_GUILD officers each with a shift ended and awaiting sync."""
    ids = []
    links, shifts = LinkStore(db), ShiftStore(db)
    start = now_ms() - 3_600_000
    for guild in GUILDS:
        sandbox.link(guild, MDT)
        await links.save_request(guild, MDT, f"req-{guild}", "approved", OWNER, ADMIN, None)
        for member in range(1, PER_GUILD + 1):
            shift_id = str(uuid.uuid4())
            await shifts.insert_open(
                shift_id=shift_id, guild_id=guild, member_id=member, mdt_id=MDT, officer_name=f"Officer {member}",
                officer_badge=None, department="Patrol", callsign=None, started_ms=start,
            )  # fmt: skip
            await shifts.end_open(
                guild, member, end_ms=start + 1_800_000, reason="member", ended_by=member, note=None,
                status="completed", now=now_ms(),
            )  # fmt: skip
            ids.append(shift_id)
    return ids


async def synced_count(db: Database) -> int:
    row = await db.fetchone("SELECT COUNT(*) FROM shifts WHERE sync_state = 'synced'")
    return int(row[0]) if row else 0


async def test_three_processes_write_every_shift_exactly_once_when_one_is_killed_mid_sync(
    tmp_path: Path, db_path: str, sandbox: NorthcaSandbox, fake_discord: FakeDiscord
) -> None:
    assert sorted(Counter(shard_of(g, SHARDS) for g in GUILDS).values()) == [4, 4, 4]
    db = Database(db_path)
    await db.open()
    procs: dict[int, asyncio.subprocess.Process] = {}
    try:
        ids = await seed(db, sandbox)
        sandbox.faults.latency = 0.3
        # Every write is held at Northca's door until the killed process is back: so the processes that live on
        # have their writes out (claimed, unanswered) all through the kill and the restart.
        sandbox.faults.hold("/shifts$", method="POST", times=100_000)
        sandbox.accept_duplicate_shift_ids()  # a second write of a shift is stored, so a double write shows
        sandbox.faults.add("commit_then_500", 6, path="/shifts$", method="POST")  # written, answer lost
        sandbox.faults.add("500", 4, path="/shifts$", method="POST")

        async def start(shard: int) -> asyncio.subprocess.Process:
            config = tmp_path / f"bot-{shard}.toml"
            config.write_text(
                f"[discord]\ntoken = 'test-bot-token'\nshard_count = {SHARDS}\nshard_ids = [{shard}]\n"
                f"[northca]\nbase_url = '{sandbox.base_url}'\npartner_key = '{KEY}'\n"
                # Long enough that a write held at Northca (below) is still out when the hold ends.
                "timeout_seconds = 60.0\ndeadline_seconds = 90.0\n"
                "[shifts]\nsync_interval_seconds = 0.2\n",
                encoding="utf-8",
            )
            # The database from the environment (as a container would). The log goes to a file: a pipe nobody
            # reads would fill up and stall the process.
            log = (tmp_path / f"bot-{shard}.log").open("ab")
            try:
                return await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bot", "run", "--config", str(config), cwd=str(REPO),
                    env=bot_env(fake_discord.base_url, {"NORTHCA_BOT_DATABASE_URL": db_path}),
                    stdout=log, stderr=log,
                )  # fmt: skip
            finally:
                log.close()

        for shard in range(SHARDS):
            procs[shard] = await start(shard)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + DEADLINE

        async def until(condition: object, what: str) -> None:
            while not await condition():  # type: ignore[operator]
                if loop.time() > deadline:
                    raise AssertionError(f"timed out waiting for {what}")
                for shard, proc in procs.items():
                    if proc.returncode is not None:
                        err = (tmp_path / f"bot-{shard}.log").read_text(errors="replace")
                        raise AssertionError(f"bot process {shard} exited ({proc.returncode}): {err[-2000:]}")
                await asyncio.sleep(0.1)

        async def claims_out_in_every_process() -> bool:
            row = await db.fetchone(
                "SELECT COUNT(*) FROM shifts WHERE sync_state = 'pending' AND attempt_started_ms IS NOT NULL"
            )
            return bool(row) and int(row[0]) >= 90  # each process claims up to 32 at once: all three have some

        async def scheduler_holder(shard: int) -> str | None:
            row = await db.fetchone(
                "SELECT holder FROM leases WHERE name = ? AND expires_ms > ?", (f"scheduler:{shard}/{SHARDS}", now_ms())
            )
            return str(row[0]) if row else None

        async def every_process_started() -> bool:
            return all("background services running" in (tmp_path / f"bot-{n}.log").read_text() for n in range(SHARDS))

        await until(every_process_started, "the three processes to start")
        await until(claims_out_in_every_process, "writes in flight in every process")
        killed_holder = await scheduler_holder(1)
        procs[1].kill()  # SIGKILL: no clean shutdown, its claims and its lease stay as they are
        await procs[1].wait()
        procs[1] = await start(1)

        async def restarted_process_runs() -> bool:
            # It took over its shard's lease once the dead one's expired: its shift worker has long started.
            holder = await scheduler_holder(1)
            return holder is not None and holder != killed_holder

        await until(restarted_process_runs, "the restarted process to take its shard's scheduler over")
        sandbox.faults.release_all()

        async def all_synced() -> bool:
            return await synced_count(db) == len(ids)

        await until(all_synced, "every shift synced")

        async def one_holder_per_shard_set() -> bool:
            rows = await db.fetchall("SELECT name FROM leases WHERE expires_ms > ?", (now_ms(),))
            held = sorted(str(r[0]) for r in rows)
            return held == [
                "dispatch-outbox",
                *(f"scheduler:{s}/{SHARDS}" for s in range(SHARDS)),
                "unit-status-resend",
            ]

        # (one row per name: one holder each; the dispatch outbox and the unit status resend, shared by all servers,
        # each in one process of three)
        await until(one_holder_per_shard_set, "each process holding its own scheduler lease")
    finally:
        for proc in procs.values():
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        await db.close()

    written = Counter(shift["id"] for shift in sandbox.shifts(MDT))
    assert set(written) == set(ids)  # every shift on Northca, nothing else
    assert [i for i, n in written.items() if n > 1] == []  # none twice
    posts = [r for r in sandbox.requests if r.method == "POST" and r.path.endswith("/shifts")]
    assert len(posts) >= len(ids)  # (retries after the injected failures come on top)
