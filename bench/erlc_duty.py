"""Duty from the game at a rush: N members (default 200) of one server join a duty team in ER:LC, change callsign
and leave the game, all within one minute of scripted time.

The bot's real service graph (bot/ops/services.py) runs on a SQLite file, against the PRC sandbox and the Northca
sandbox on loopback (real HTTP), with gamelock (1 min), automatic shifts and the status from the game on. Time is the
injected clock: the script moves it; the ER:LC server is polled every `--poll-seconds` of scripted time, and after
each poll the bench waits (in real time) for the bot to settle: the gamelock job's look (automatic starts, units
following the in-game callsign, statuses from the game), the duty listeners, and the coalescer's requests to
Northca (its batching window runs in real time). The status cog's one duty listener (a shift's start or end sets
the on-duty or off-duty code) is subscribed here as the bot's cog does.

Member i joins Police at i·window/N s with callsign U<i>, changes it to V<i> 10 s later, and leaves the game 10 s
after that; past the grace every shift is ended at its leave time and sent to Northca.

Printed: the time from each game event to the Northca unit update that shows it (10-8 under U<i>; the unit moved to
V<i>), p50 / p99 / max, as the scripted wait for the next poll plus the bot's real processing time after the poll
(up to Northca's acknowledgement); the Northca requests sent (unit upserts: requests and units carried, i.e. the
batching; shift writes); the PRC reads; and exactly once: each member has exactly one shift, on Northca once, ended
at the leave time, and every unit ends at 10-7. Figures only, no asserts on time.

    python -m bench.erlc_duty [--members 200] [--window 30] [--poll-seconds 2]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import aiohttp

from bot.core.config import parse_config
from bot.core.links import LinkStore
from bot.core.shifts import DutyChanged
from bot.core.unit_status.coalescer import UnitsSent
from bot.erlc.client import PrcClient
from bot.erlc.keys import new_kek
from bot.erlc.sandbox import PrcSandbox, PrcSandboxConfig
from bot.northca.client import NorthcaClient
from bot.northca.sandbox import NorthcaSandbox, SandboxConfig, SandboxMdt
from bot.ops.services import Services, build_services
from bot.storage import Database

GUILD = 111111111111111111
ADMIN = 333333333333333333
OWNER = 222222222222222222
MDT = "0c7f6a0c-2c4f-4f44-b16a-2b6b8d8fe2c2"
PARTNER_KEY = "bench-partner-key"
SERVER_KEY = "bench-erlc-duty-key"
FIRST_MEMBER = 900000000000000000
FIRST_ROBLOX = 5_000_000
START_MS = 1_764_000_000_000
GRACE_MINUTES = 1
CALLSIGN_AFTER_S = 10.0
LEAVE_AFTER_S = 20.0


class Clock:
    """The injected clock (epoch ms) the script moves."""

    def __init__(self) -> None:
        self.ms = START_MS

    def __call__(self) -> int:
        return self.ms


@dataclass(frozen=True)
class GameEvent:
    at_s: float
    kind: str  # join | callsign | leave
    member: int  # index

    @property
    def expected(self) -> tuple[str, str] | None:
        """The Northca unit state (unit id, status) that shows this event (None: a leave, shown after the grace)."""
        if self.kind == "join":
            return (f"U{self.member}", "10-8")
        if self.kind == "callsign":
            return (f"V{self.member}", "10-8")
        return None


@dataclass
class Result:
    members: int
    latencies_ms: dict[str, list[float]] = field(default_factory=dict)  # per event kind: total
    processing_ms: list[float] = field(default_factory=list)  # after the poll, up to Northca's acknowledgement
    unseen: int = 0  # events whose unit update never came
    leave_processing_ms: float = 0.0  # past the grace: the ends, their 10-7 and their shift writes
    requests: Counter[str] = field(default_factory=Counter)
    units_carried: int = 0
    prc_reads: int = 0
    polls: int = 0
    wall_s: float = 0.0
    problems: list[str] = field(default_factory=list)

    @property
    def exactly_once(self) -> bool:
        return not self.problems


def script(members: int, window_s: float) -> list[GameEvent]:
    events = []
    for i in range(members):
        joined = window_s * i / max(1, members)
        events += [
            GameEvent(joined, "join", i),
            GameEvent(joined + CALLSIGN_AFTER_S, "callsign", i),
            GameEvent(joined + LEAVE_AFTER_S, "leave", i),
        ]
    return sorted(events, key=lambda e: (e.at_s, e.member))


def apply(prc: PrcSandbox, event: GameEvent) -> None:
    roblox = FIRST_ROBLOX + event.member
    if event.kind == "join":
        prc.join(SERVER_KEY, roblox, f"Player{event.member}", team="Police", callsign=f"U{event.member}")
    elif event.kind == "callsign":
        prc.set_callsign(SERVER_KEY, roblox, f"V{event.member}")
    else:
        prc.leave(SERVER_KEY, roblox)


async def settle(services: Services) -> None:
    """Until the bot has done what the last poll asked: the gamelock job's look, the duty listeners, and the
    coalescer's requests (its windows run as usual: not hurried)."""
    lock = services.gamelock
    while lock.busy or lock.wake.is_set() or lock._changed:
        await asyncio.sleep(0.001)
    await services.shifts.drain()
    await services.coalescer.flush(30.0)


async def benchmark(members: int = 200, window_s: float = 30.0, poll_s: float = 2.0) -> Result:
    result = Result(members)
    northca_sandbox = NorthcaSandbox(
        SandboxConfig(
            partner_key=PARTNER_KEY, auto_approve_after=None, mdts=[SandboxMdt(id=MDT, owner_discord_id=str(OWNER))]
        )
    )
    await northca_sandbox.start()
    prc = PrcSandbox(PrcSandboxConfig())
    await prc.start()
    prc.add_server(SERVER_KEY, name="Bench County RP", owner_id=7001, max_players=max(40, members + 10))
    tmp = tempfile.TemporaryDirectory(prefix="erlc-duty-bench-")
    db = Database(Path(tmp.name) / "bot.sqlite3")
    await db.open()
    session = aiohttp.ClientSession()
    clock = Clock()
    started: list[Any] = []
    northca_url, prc_url = northca_sandbox.base_url, prc.base_url
    assert northca_url is not None and prc_url is not None  # both started
    try:
        config = parse_config(
            {
                "discord": {"token": "bench"},
                "northca": {"base_url": northca_sandbox.base_url, "partner_key": PARTNER_KEY},
                "database": {"path": str(Path(tmp.name) / "bot.sqlite3")},
                "shifts": {"sync_interval_seconds": 0.05},
                "erlc": {"base_url": prc.base_url, "key_encryption_key": new_kek()},
            },
            env={},
        )
        northca = NorthcaClient(session, northca_url, PARTNER_KEY)
        services = build_services(config, db, northca, clock=clock, game=PrcClient(session, prc_url))
        northca_sandbox.link(GUILD, MDT)
        await LinkStore(db).save_request(GUILD, MDT, "bench-request", "approved", OWNER, ADMIN, None)
        for service in (services.settings, services.coalescer, services.shift_worker, services.gamelock):
            await service.start()
            started.append(service)

        # The status cog's duty listener (cogs/status.py): a shift's start or end sets the duty code.
        async def on_duty(event: DutyChanged) -> None:
            await services.unit_status.on_duty_changed(event.guild_id, event.member_id, event.on_duty)

        services.events.duty.subscribe(on_duty)
        acked: dict[tuple[str, str], float] = {}

        async def on_sent(sent: UnitsSent) -> None:
            now = time.monotonic()
            for change in sent.changes:
                acked.setdefault((change.unit.id, str(change.unit.status)), now)

        services.coalescer.sent.subscribe(on_sent)

        await services.erlc.connect(GUILD, ADMIN, SERVER_KEY)
        await services.settings.set_erlc_gamelock_minutes(GUILD, ADMIN, GRACE_MINUTES)
        await services.settings.set_erlc_auto_duty(GUILD, ADMIN, True)
        await services.settings.set_erlc_status_from_game(GUILD, ADMIN, True)
        for i in range(members):
            await services.erlc.store.link(GUILD, FIRST_MEMBER + i, FIRST_ROBLOX + i, f"player{i}", "staff", ADMIN,
                                           clock.ms, audit=False)  # fmt: skip
        await settle(services)
        northca_sandbox.requests.clear()
        reads0 = len([r for r in prc.requests if r.path == "/v2/server"])

        events = script(members, window_s)
        pending = list(events)
        waiting: list[GameEvent] = []  # applied in game, not yet seen by a poll
        wall0 = time.monotonic()
        t = 0.0
        last = events[-1].at_s if events else 0.0
        while t <= last + poll_s:
            while pending and pending[0].at_s <= t:
                event = pending.pop(0)
                apply(prc, event)
                waiting.append(event)
            clock.ms = START_MS + int(t * 1000)
            polled_at = time.monotonic()
            outcome = await services.erlc.poll(GUILD)
            result.polls += 1
            if not outcome.ok:
                result.problems.append(f"poll at {t:.0f} s failed: {outcome.error}")
            await settle(services)
            for event in waiting:
                expected = event.expected
                if expected is None:
                    continue
                done = acked.get(expected)
                if done is None:
                    result.unseen += 1
                    continue
                processing = max(0.0, (done - polled_at) * 1000)
                result.processing_ms.append(processing)
                result.latencies_ms.setdefault(event.kind, []).append((t - event.at_s) * 1000 + processing)
            waiting = []
            t += poll_s

        # Past the grace: every shift ends at its member's leave time; 10-7; the shifts go to Northca.
        clock.ms = START_MS + int((last + GRACE_MINUTES * 60 + 1) * 1000)
        ends_at = time.monotonic()
        services.gamelock.wake.set()
        await asyncio.sleep(0)
        await settle(services)
        deadline = time.monotonic() + 60
        while len(northca_sandbox.shifts(MDT)) < members and time.monotonic() < deadline:
            await asyncio.sleep(0.02)
        result.leave_processing_ms = (time.monotonic() - ends_at) * 1000
        result.wall_s = time.monotonic() - wall0

        for r in list(northca_sandbox.requests):
            result.requests[f"{r.method} {_route(r.path)} {r.status}"] += 1
            if r.method == "PUT" and r.path.endswith("/units/active"):
                result.units_carried += len(json.loads(r.body).get("units", []))
        result.prc_reads = len([r for r in prc.requests if r.path == "/v2/server"]) - reads0
        await check_exactly_once(result, services, db, northca_sandbox, events)
    finally:
        for service in reversed(started):
            await service.stop()
        await session.close()
        await db.close()
        await prc.stop()
        await northca_sandbox.stop()
        tmp.cleanup()
    return result


def _route(path: str) -> str:
    return "/mdts/{id}/units/active" if path.endswith("/units/active") else (
        "/mdts/{id}/shifts" if path.endswith("/shifts") else path
    )  # fmt: skip


async def check_exactly_once(
    result: Result, services: Services, db: Database, sandbox: NorthcaSandbox, events: list[GameEvent]
) -> None:
    # The leave time is the one the presence history holds (the poll that saw it), the join's likewise.
    history = await db.fetchall(
        "SELECT user_id, kind, at_ms FROM erlc_presence_history WHERE guild_id = ? AND kind IN ('join', 'leave')",
        (GUILD,),
    )
    left = {int(h["user_id"]) - FIRST_ROBLOX: int(h["at_ms"]) for h in history if h["kind"] == "leave"}
    joined = {int(h["user_id"]) - FIRST_ROBLOX: int(h["at_ms"]) for h in history if h["kind"] == "join"}
    if sorted(left) != list(range(result.members)) or len(history) != 2 * result.members:
        result.problems.append(f"presence history: {len(history)} joins and leaves for {result.members} members")
    rows = await db.fetchall("SELECT id, member_id, started_ms, ended_ms, end_reason FROM shifts WHERE guild_id = ?",
                             (GUILD,))  # fmt: skip
    per_member = Counter(int(r["member_id"]) for r in rows)
    for i in range(result.members):
        if per_member[FIRST_MEMBER + i] != 1:
            result.problems.append(f"member {i}: {per_member[FIRST_MEMBER + i]} shifts")
    for r in rows:
        i = int(r["member_id"]) - FIRST_MEMBER
        if r["ended_ms"] != left.get(i) or r["end_reason"] != "left_game" or r["started_ms"] != joined.get(i):
            result.problems.append(f"member {i}: shift {r['started_ms']}..{r['ended_ms']} ({r['end_reason']})")
    remote = Counter(str(s["id"]) for s in sandbox.shifts(MDT))
    ids = {str(r["id"]) for r in rows}
    if set(remote) != ids or any(n != 1 for n in remote.values()):
        result.problems.append(f"Northca has {sum(remote.values())} shifts for {len(ids)} stored")
    units = sandbox.units(MDT)
    for i in range(result.members):
        for unit_id in (f"U{i}", f"V{i}"):
            status = units.get(unit_id, {}).get("status")
            if status != "10-7":
                result.problems.append(f"unit {unit_id}: {status} on Northca (10-7 expected)")
    local = {u.member_id: u for u in await services.unit_status.store.in_guild(GUILD)}
    for i in range(result.members):
        unit = local.get(FIRST_MEMBER + i)
        if unit is None or unit.callsign != f"V{i}" or unit.status != "10-7":
            result.problems.append(f"member {i}: local unit {unit}")


def _quantiles(values: list[float]) -> str:
    if not values:
        return "none"
    ordered = sorted(values)
    p99 = ordered[max(0, -(-len(ordered) * 99 // 100) - 1)]
    return f"p50 {statistics.median(ordered):.0f} ms, p99 {p99:.0f} ms, max {ordered[-1]:.0f} ms (n={len(ordered)})"


def report(result: Result) -> list[str]:
    unit_puts = sum(n for k, n in result.requests.items() if k.startswith("PUT /mdts/{id}/units/active"))
    shift_posts = sum(n for k, n in result.requests.items() if k.startswith("POST /mdts/{id}/shifts"))
    lines = [
        f"members: {result.members}; polls: {result.polls}; PRC reads: {result.prc_reads}; "
        f"wall time {result.wall_s:.1f} s",
        f"game event -> Northca unit update (scripted wait for the poll + processing): "
        f"join -> 10-8 under the in-game callsign: {_quantiles(result.latencies_ms.get('join', []))}",
        f"  callsign changed -> unit moved: {_quantiles(result.latencies_ms.get('callsign', []))}",
        f"  processing alone (poll start -> Northca acknowledged): {_quantiles(result.processing_ms)}",
        f"  never shown: {result.unseen}",
        f"leave -> shift ended at the leave time, 10-7 and on Northca: the grace ({GRACE_MINUTES} min) + "
        f"{result.leave_processing_ms:.0f} ms for all {result.members}",
        f"Northca requests: {unit_puts} unit upserts carrying {result.units_carried} units "
        f"({result.units_carried / max(1, unit_puts):.1f} per request; "
        f"{result.units_carried / max(1, result.members):.1f} unit states per member), {shift_posts} shift writes",
        "requests by route: " + ", ".join(f"{k}: {n}" for k, n in sorted(result.requests.items())),
        f"exactly-once: {'yes' if result.exactly_once else 'NO'} (each member one shift, on Northca once, ended at "
        "the leave time; every unit 10-7 at the end)",
    ]
    lines += [f"  problem: {p}" for p in result.problems[:20]]
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=200)
    parser.add_argument("--window", type=float, default=30.0, help="joins spread over this many scripted seconds")
    parser.add_argument("--poll-seconds", type=float, default=2.0)
    args = parser.parse_args()
    result = asyncio.run(benchmark(args.members, args.window, args.poll_seconds))
    for line in report(result):
        print(line)


if __name__ == "__main__":
    main()
