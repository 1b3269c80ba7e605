"""Several bot processes on one PostgreSQL database (docs/scaling.md), driven the way Discord drives them.

The test process hosts the fake Discord with its gateway (tests/harness/gateway.py: REST and one websocket per
shard, on loopback) and the Northca sandbox (latency, held writes, lost answers). Three real `python -m bot run`
processes, each running one of three shards, connect to it: each is told only about the guilds of its shard, and
every interaction of a guild goes to the socket of its shard's process. Officers in twelve servers go on and off
duty with real /shift start and /shift end interactions; one process is SIGKILLed while its Northca writes are
out, restarted, re-identifies for its shard and answers the interactions its guilds got meanwhile. In the end:
every interaction answered exactly once, every shift on Northca exactly once and nothing else, each shard's
scheduled work held by one process, and each server's scheduled activity report posted exactly once: those due
at start by the process of their shard (the killed one's before it was killed, and not again by its successor),
and those that came due while their shard's process was down by the restarted one (no other process posts
them)."""

from __future__ import annotations

import asyncio
import re
import sys
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable
from pathlib import Path
from typing import Any

import pytest

from bot.core.config import Config
from bot.core.events import EventHub
from bot.core.links import LinkStore
from bot.core.settings import ChannelFacts, RoleFacts, SettingsService
from bot.core.sharding import shard_of
from bot.core.shifts import now_ms
from bot.northca.sandbox import NorthcaSandbox
from bot.ops.services import build_settings_service
from bot.storage import Database
from tests.harness import GatewayDiscord, builders
from tests.helpers.ids import ADMIN, KEY, MDT, MEMBER_PERMS, OWNER
from tests.ops.botproc import REPO, bot_env

pytestmark = [pytest.mark.asyncio, pytest.mark.postgresql_only("three processes share one database server")]

SHARDS = 3
KILLED = 1  # the shard whose process is killed and restarted
GUILDS = [((n + 1) << 22) + 7 for n in range(12)]  # four servers per shard
PER_GUILD = 8  # officers each going on and off duty before the kill
LATER = 2  # officers per server of the killed shard going on and off duty after the restart
DEADLINE = 150.0  # the whole run on a slow shared machine: a killed process's claims expire after 30 s
WAIT = 60.0  # for one step (interactions answered, a shard ready)


def general(guild_id: int) -> int:
    return guild_id + 1


def reports(guild_id: int) -> int:
    return guild_id + 2


def quota_role(guild_id: int) -> int:
    return guild_id + 3


def officer(guild_id: int, n: int) -> int:
    return guild_id + 100 + n


def guilds_of(shard: int) -> list[int]:
    return [g for g in GUILDS if shard_of(g, SHARDS) == shard]


# Of the killed shard's servers, these get their reports configured while its process is down.
DUE_WHILE_DOWN = guilds_of(KILLED)[:2]


def officer_member(guild_id: int, n: int) -> dict[str, Any]:
    return builders.member(
        officer(guild_id, n), permissions=MEMBER_PERMS, username=f"officer{n}", roles=[quota_role(guild_id)]
    )


def shift_payload(fake: GatewayDiscord, command: str, guild_id: int, n: int) -> dict[str, Any]:
    return builders.slash_payload(
        "shift", sub=command, app_id=fake.application_id, guild_id=guild_id, member=officer_member(guild_id, n),
        channel_id=general(guild_id),
    )  # fmt: skip


def add_guilds(fake: GatewayDiscord) -> None:
    for guild_id in GUILDS:
        fake.add_guild(
            guild_id, owner_id=OWNER, name=f"County {guild_id >> 22}",
            channels=[
                builders.channel(general(guild_id), guild_id=guild_id, name="general"),
                builders.channel(reports(guild_id), guild_id=guild_id, name="reports"),
            ],
            roles=[builders.role(quota_role(guild_id), "Officer", position=2)],
            members=[officer_member(guild_id, n) for n in range(PER_GUILD + LATER)],
        )  # fmt: skip


async def configure_reports(settings: SettingsService, guild_ids: Iterable[int]) -> None:
    """A reports channel and a quota role: each server's report of the period that ended last is due."""
    for guild_id in guild_ids:
        await settings.set_channel(guild_id, ADMIN, "reports", ChannelFacts(reports(guild_id), "reports"))
        await settings.set_role_quota(guild_id, ADMIN, RoleFacts(quota_role(guild_id), "Officer"), 10.0)


async def seed(db: Database, sandbox: NorthcaSandbox, settings: SettingsService) -> None:
    links = LinkStore(db)
    for guild_id in GUILDS:
        sandbox.link(guild_id, MDT)
        await links.save_request(guild_id, MDT, f"req-{guild_id}", "approved", OWNER, ADMIN, None)
    await configure_reports(settings, [g for g in GUILDS if g not in DUE_WHILE_DOWN])


def report_posts(fake: GatewayDiscord, guild_id: int) -> int:
    return len(fake.find("POST", rf"^/channels/{reports(guild_id)}/messages$"))


async def count(db: Database, sql: str, params: tuple[Any, ...] = ()) -> int:
    row = await db.fetchone(sql, params)
    return int(row[0]) if row else 0


async def test_three_sharded_processes_answer_interactions_and_write_shifts_and_reports_once_when_one_is_killed(
    tmp_path: Path, db_path: str, sandbox: NorthcaSandbox
) -> None:
    assert sorted(Counter(shard_of(g, SHARDS) for g in GUILDS).values()) == [4, 4, 4]
    db = Database(db_path)
    await db.open()
    settings = build_settings_service(Config(), db, EventHub())
    await settings.load()
    fake = GatewayDiscord()
    add_guilds(fake)
    await fake.start()
    procs: dict[int, asyncio.subprocess.Process] = {}
    sent: list[int] = []
    try:
        await seed(db, sandbox, settings)
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
            # The database from the environment (as a container would); Discord is the fake, REST and gateway
            # (GET /gateway/bot and discord.py's default gateway URL point at it). The log goes to a file: a
            # pipe nobody reads would fill up and stall the process.
            log = (tmp_path / f"bot-{shard}.log").open("ab")
            try:
                return await asyncio.create_subprocess_exec(
                    sys.executable, "-m", "bot", "run", "--config", str(config), cwd=str(REPO),
                    env=bot_env(fake.base_url, {"NORTHCA_BOT_DATABASE_URL": db_path}), stdout=log, stderr=log,
                )  # fmt: skip
            finally:
                log.close()

        loop = asyncio.get_running_loop()
        deadline = loop.time() + DEADLINE

        def remaining() -> float:
            return max(1.0, min(WAIT, deadline - loop.time()))

        def check_alive() -> None:
            for shard, proc in procs.items():
                if proc.returncode is not None:
                    err = (tmp_path / f"bot-{shard}.log").read_text(errors="replace")
                    raise AssertionError(f"bot process {shard} exited ({proc.returncode}): {err[-2000:]}")

        async def until(condition: Callable[[], Awaitable[bool]], what: str) -> None:
            while not await condition():
                if loop.time() > deadline:
                    raise AssertionError(f"timed out waiting for {what}")
                check_alive()
                await asyncio.sleep(0.1)

        async def drive(payloads: list[dict[str, Any]]) -> None:
            """Send each interaction to its guild's shard and wait until every one is answered."""
            try:
                ids = await asyncio.gather(*(fake.send_interaction(p, remaining()) for p in payloads))
                sent.extend(ids)
                await fake.wait_answered(ids, remaining())
            except TimeoutError:
                check_alive()  # a process that died says why
                raise

        for shard in range(SHARDS):
            procs[shard] = await start(shard)
        await fake.wait_ready(range(SHARDS), remaining())
        assert {s: fake.shards[s].guild_ids for s in range(SHARDS)} == {s: guilds_of(s) for s in range(SHARDS)}

        # Every officer goes on duty, then off: 2 x 96 interactions, each to the process of its server's shard.
        everyone = [(g, n) for g in GUILDS for n in range(PER_GUILD)]
        await drive([shift_payload(fake, "start", g, n) for g, n in everyone])
        await drive([shift_payload(fake, "end", g, n) for g, n in everyone])

        async def claims_out_in_every_process() -> bool:
            # Each process claims up to 32 at once: 90 of 96 claimed means all three have some out.
            claimed = await count(
                db, "SELECT COUNT(*) FROM shifts WHERE sync_state = 'pending' AND attempt_started_ms IS NOT NULL"
            )
            return claimed >= 90

        async def reports_posted_at_start() -> bool:
            # Posted (at the fake Discord) and marked posted (in the database): none is half done at the kill.
            posted = await count(db, "SELECT COUNT(*) FROM activity_reports WHERE posted_at_ms IS NOT NULL")
            return posted == len(GUILDS) - len(DUE_WHILE_DOWN)

        async def scheduler_holder(shard: int) -> str | None:
            row = await db.fetchone(
                "SELECT holder FROM leases WHERE name = ? AND expires_ms > ?", (f"scheduler:{shard}/{SHARDS}", now_ms())
            )
            return str(row[0]) if row else None

        await until(claims_out_in_every_process, "writes in flight in every process")
        await until(reports_posted_at_start, "each shard's process to post its servers' due reports")
        killed_holder = await scheduler_holder(KILLED)
        identified = len(fake.identified)
        procs[KILLED].kill()  # SIGKILL: no clean shutdown, its claims, lease and socket stay as they are
        await procs[KILLED].wait()
        await fake.wait_gone([KILLED], remaining())  # the gateway saw its socket end

        # While it is down: two of its servers' reports come due (set in the database, as another process's
        # /settings would), and officers of its servers run /shift start: held at the gateway until a process
        # identifies for the shard again.
        await configure_reports(settings, DUE_WHILE_DOWN)
        later = [(g, n) for g in guilds_of(KILLED) for n in range(PER_GUILD, PER_GUILD + LATER)]
        starts = asyncio.create_task(drive([shift_payload(fake, "start", g, n) for g, n in later]))
        procs[KILLED] = await start(KILLED)
        await fake.wait_ready([KILLED], remaining(), after=identified)  # re-identified, on a new socket
        await starts
        await drive([shift_payload(fake, "end", g, n) for g, n in later])

        async def restarted_process_runs() -> bool:
            # It took over its shard's lease once the dead one's expired: its scheduled work runs there now.
            holder = await scheduler_holder(KILLED)
            return holder is not None and holder != killed_holder

        await until(restarted_process_runs, "the restarted process to take its shard's scheduler over")
        sandbox.faults.release_all()

        async def all_synced() -> bool:
            return await count(db, "SELECT COUNT(*) FROM shifts WHERE sync_state = 'synced'") == len(everyone) + len(
                later
            )

        async def reports_due_while_down_posted() -> bool:
            return all(report_posts(fake, g) >= 1 for g in DUE_WHILE_DOWN)

        async def one_holder_per_shard_set() -> bool:
            rows = await db.fetchall("SELECT name FROM leases WHERE expires_ms > ?", (now_ms(),))
            held = sorted(str(r[0]) for r in rows)
            return held == [
                "dispatch-outbox",
                # The ER:LC poller of each shard set (no server is connected here: it holds its lease, polls nothing).
                *(f"erlc-poller:{s}/{SHARDS}" for s in range(SHARDS)),
                *(f"scheduler:{s}/{SHARDS}" for s in range(SHARDS)),
                "unit-status-resend",
            ]

        await until(all_synced, "every shift synced")
        await until(reports_due_while_down_posted, "the restarted process to post the reports due while it was down")
        # (one row per name: one holder each; the dispatch outbox and the unit status resend, shared by all servers,
        # each in one process of three)
        await until(one_holder_per_shard_set, "each process holding its own scheduler lease")
        local = [str(r[0]) for r in await db.fetchall("SELECT id FROM shifts WHERE ended_ms IS NOT NULL")]
        still_open = await count(db, "SELECT COUNT(*) FROM shifts WHERE ended_ms IS NULL")
        unposted = await count(db, "SELECT COUNT(*) FROM activity_reports WHERE posted_at_ms IS NULL")
    finally:
        for proc in procs.values():
            if proc.returncode is None:
                proc.kill()
                await proc.wait()
        await fake.stop()
        await db.close()

    # Every interaction answered exactly once, by the process of its server's shard (its own answer, not an error).
    assert [i for i in sent if len(fake.callbacks(i)) != 1] == []
    for shard in range(SHARDS):
        log = (tmp_path / f"bot-{shard}.log").read_text(errors="replace")
        served = {int(g) for g in re.findall(r"started: member \d+ in guild (\d+)", log)}
        assert served == set(guilds_of(shard)), shard
    contents = [str(fake.callbacks(i)[0].json["data"]["content"]) for i in sent]
    assert [c for c in contents if not c.startswith(("You are on duty", "Shift ended"))] == []
    assert len(sent) == 2 * (len(everyone) + len(later))
    assert still_open == 0 and len(local) == len(everyone) + len(later)
    # Every shift on Northca, nothing else, none twice.
    written = Counter(shift["id"] for shift in sandbox.shifts(MDT))
    assert set(written) == set(local)
    assert [i for i, n in written.items() if n > 1] == []
    posts = [r for r in sandbox.requests if r.method == "POST" and r.path.endswith("/shifts")]
    assert len(posts) >= len(local)  # (retries after the injected failures come on top)
    # Each server's activity report posted exactly once, in its reports channel.
    assert {g: report_posts(fake, g) for g in GUILDS} == {g: 1 for g in GUILDS}
    assert unposted == 0
