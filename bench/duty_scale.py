"""Duty at community scale: one server, 500 members, 200,000 past shifts (with breaks and their
intervals, adjustments, voids, a few shifts open now), in a generated SQLite file migrated by the
bot itself. Prints the bot-side time (service call to answer, through the real DutyService and
aiosqlite) of the leaderboard and the activity report for each period, and the query plans of the
period reads (no full-table scan). The goal is under 200 ms each; figures only, no asserts.

Then the shift sync worker on the same table: 200 shifts ended and waiting to be sent among the 200,000, claimed one
at a time as the worker does when ends come one by one (ShiftStore.claim_due, then next_due_ms for its next
wake-up), each marked synced; measured on this database and, as the baseline in the same run, on a copy without
the worker's index (migration 042: the plans the code had before it).

    python -m bench.duty_scale [--members 500] [--shifts 200000] [--runs 5] [--db PATH]
"""

from __future__ import annotations

import argparse
import asyncio
import random
import sqlite3
import statistics
import tempfile
import time
import uuid
from collections.abc import Awaitable
from pathlib import Path
from zoneinfo import ZoneInfo

from bot.core.duty import PERIOD_CHOICES, DutyService, DutyStore, period_for
from bot.core.shifts.store import ShiftStore
from bot.core.timefmt import now_ms
from bot.storage import Database

GUILD = 1
HOUR = 3_600_000
DEPARTMENTS = ["Patrol", "Traffic", "Fire", "EMS", "Dispatch"]


def generate(path: Path, members: int, shifts: int, now: int, seed: int = 11) -> None:
    """Shifts spread over the last two years, 0.5-8 h long, a third with one or two breaks."""
    rng = random.Random(seed)
    span = 730 * 24 * HOUR
    conn = sqlite3.connect(path)
    shift_rows: list[tuple[object, ...]] = []
    break_rows: list[tuple[object, ...]] = []
    adjustment_rows: list[tuple[object, ...]] = []
    for _ in range(shifts):
        member = 1000 + rng.randrange(members)
        start = now - rng.randrange(9 * HOUR, span)
        length = rng.randrange(HOUR // 2, 8 * HOUR)
        sid = str(uuid.UUID(int=rng.getrandbits(128)))
        breaks = rng.choice((0, 0, 1, 2))
        break_ms = 0
        for i in range(breaks):
            on = start + length * (i + 1) // (breaks + 1)
            off = on + rng.randrange(60_000, 20 * 60_000)
            break_rows.append((sid, on, off))
            break_ms += off - on
        duration = max(0, length - break_ms)
        shift_rows.append(
            (sid, GUILD, member, "mdt", f"Officer {member}", rng.choice(DEPARTMENTS), start, break_ms, breaks,
             start + length, duration, "member", "completed", "synced")
        )  # fmt: skip
    for member in range(1000, 1000 + min(members, 40)):  # on duty right now
        shift_rows.append(
            (str(uuid.uuid4()), GUILD, member, "mdt", f"Officer {member}", "Patrol",
             now - rng.randrange(HOUR, 6 * HOUR), 0, 0, None, None, None, None, None)
        )  # fmt: skip
    for _ in range(shifts // 100):
        member = 1000 + rng.randrange(members)
        adjustment_rows.append(
            (GUILD, member, rng.choice(("add", "subtract")), rng.randrange(60_000, 2 * HOUR), None, "bench", 1,
             now - rng.randrange(0, span))
        )  # fmt: skip
    for voided in rng.sample(shift_rows[:shifts], shifts // 400):  # (id, guild, member, ...)
        adjustment_rows.append((GUILD, voided[2], "void", 0, voided[0], "bench", 1, now - rng.randrange(0, span)))
    with conn:
        conn.executemany(
            "INSERT INTO shifts (id, guild_id, member_id, mdt_id, officer_name, department, started_ms, break_ms,"
            " break_count, ended_ms, duration_ms, end_reason, status, sync_state) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            shift_rows,
        )
        conn.executemany("INSERT INTO shift_breaks (shift_id, started_ms, ended_ms) VALUES (?,?,?)", break_rows)
        conn.executemany(
            "INSERT INTO duty_adjustments (guild_id, member_id, kind, amount_ms, shift_id, reason, actor_id, at_ms)"
            " VALUES (?,?,?,?,?,?,?,?)",
            adjustment_rows,
        )
    conn.execute("ANALYZE")
    conn.close()
    print(f"generated {len(shift_rows)} shifts, {len(break_rows)} breaks, {len(adjustment_rows)} adjustments")


async def measure(path: Path, members: int, runs: int, now: int) -> None:
    db = Database(path)
    await db.open()
    duty = DutyService(DutyStore(db))
    tz = ZoneInfo("America/New_York")
    rng = random.Random(3)
    roles = {m: [rng.choice((1, 2, 3))] for m in range(1000, 1000 + members)}
    quotas = {1: 2 * HOUR, 2: 4 * HOUR, 3: 8 * HOUR}
    on_leave = set(rng.sample(sorted(roles), members // 20))
    print(f"{'period':<12} {'leaderboard ms (median/max)':>28} {'activity ms (median/max)':>26} {'rows':>6}")
    try:
        for choice in PERIOD_CHOICES:
            period = period_for(choice, now, tz, 6, "biweekly")
            board_ms, activity_ms = [], []
            rows = 0
            for _ in range(runs):
                t0 = time.perf_counter()
                board = await duty.leaderboard(GUILD, period, now=now)
                t1 = time.perf_counter()
                await duty.activity(GUILD, period, roles, quotas, on_leave, now=now)
                t2 = time.perf_counter()
                board_ms.append((t1 - t0) * 1000)
                activity_ms.append((t2 - t1) * 1000)
                rows = len(board)
            dept = await _timed(duty.leaderboard(GUILD, period, department="Traffic", now=now))
            print(
                f"{choice:<12} {statistics.median(board_ms):>17.1f} / {max(board_ms):>7.1f}"
                f" {statistics.median(activity_ms):>15.1f} / {max(activity_ms):>7.1f} {rows:>6}"
                f"   (department filter: {dept:.1f} ms)"
            )
        await explain(db, duty, now, tz)
    finally:
        await db.close()


OUTBOX_WAITING = 200


def add_waiting(path: Path, now: int, count: int = OUTBOX_WAITING) -> None:
    """`count` shifts ended in the last minutes and due to be sent to Northca (sync_state 'pending')."""
    conn = sqlite3.connect(path)
    rows = [
        (str(uuid.uuid4()), GUILD, 2000 + i, "mdt", f"Officer {2000 + i}", "Patrol", now - 2 * HOUR, 0, 0,
         now - 60_000 + i, 2 * HOUR, "member", "completed", "pending", now - 60_000 + i)
        for i in range(count)
    ]  # fmt: skip
    with conn:
        conn.executemany(
            "INSERT INTO shifts (id, guild_id, member_id, mdt_id, officer_name, department, started_ms, break_ms,"
            " break_count, ended_ms, duration_ms, end_reason, status, sync_state, next_attempt_ms)"
            " VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
    conn.close()


async def claim_each(path: Path, now: int) -> tuple[float, float, int]:
    """Claim the waiting shifts one at a time, each followed by the next wake-up read and its verdict: (median ms
    per claim, median ms per wake-up read, shifts claimed)."""
    db = Database(path)
    await db.open()
    store = ShiftStore(db)
    claim_ms: list[float] = []
    wake_ms: list[float] = []
    claimed = 0
    try:
        while True:
            t0 = time.perf_counter()
            got = await store.claim_due(now, 1)
            t1 = time.perf_counter()
            await store.next_due_ms()
            t2 = time.perf_counter()
            if not got:
                break
            claimed += len(got)
            claim_ms.append((t1 - t0) * 1000)
            wake_ms.append((t2 - t1) * 1000)
            await store.mark_synced(got[0].id, now)
    finally:
        await db.close()
    return statistics.median(claim_ms), statistics.median(wake_ms), claimed


async def outbox(path: Path, tmp: Path, now: int) -> None:
    add_waiting(path, now)
    before = tmp / "without_shifts_due.sqlite3"
    source, copy = sqlite3.connect(path), sqlite3.connect(before)
    source.backup(copy)
    source.close()
    copy.execute("DROP INDEX shifts_due")
    copy.commit()
    copy.close()
    print(f"shift sync worker: {OUTBOX_WAITING} waiting shifts among all, claimed one at a time")
    base = await claim_each(before, now)
    new = await claim_each(path, now)
    for name, (claim, wake, n) in (("before (no shifts_due index)", base), ("now", new)):
        print(f"  {name:<30} claim {claim:7.2f} ms, next wake-up read {wake:7.2f} ms (median; {n} claimed)")
    print(f"  claim {base[0] / max(new[0], 1e-9):.0f}x faster, wake-up read {base[1] / max(new[1], 1e-9):.0f}x faster")


async def _timed(call: Awaitable[object]) -> float:
    t0 = time.perf_counter()
    await call
    return (time.perf_counter() - t0) * 1000


async def explain(db: Database, duty: DutyService, now: int, tz: ZoneInfo) -> None:
    """The plan of every statement the leaderboard runs (last week, all time): each on an index of the guild."""
    statements: list[str] = []
    async with db.transaction():  # the trace sees the statements of this transaction only
        conn = db.conn
        await conn.set_trace_callback(statements.append)
        for choice in ("last_week", "all_time"):
            await duty.leaderboard(GUILD, period_for(choice, now, tz, 6), now=now)
        await conn.set_trace_callback(lambda _sql: None)  # off again (sqlite3 takes None, the stubs do not)
    plans = sqlite3.connect(db.path)
    for sql in statements:
        if sql.lstrip().upper().startswith("SELECT"):
            steps = [str(r[3]) for r in plans.execute("EXPLAIN QUERY PLAN " + sql)]
            flag = "FULL SCAN: " if any(step.startswith("SCAN") for step in steps) else ""
            print(f"plan: {flag}{'; '.join(steps)}")
    plans.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--members", type=int, default=500)
    parser.add_argument("--shifts", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--db", type=Path, help="keep the generated database here (default: a temporary one)")
    args = parser.parse_args()
    now = now_ms()
    with tempfile.TemporaryDirectory() as tmp:
        path = args.db or Path(tmp) / "duty_scale.sqlite3"
        path.unlink(missing_ok=True)

        async def migrate() -> None:
            db = Database(path)
            await db.open()
            await db.close()

        asyncio.run(migrate())
        t0 = time.perf_counter()
        generate(path, args.members, args.shifts, now)
        print(f"generation took {time.perf_counter() - t0:.1f} s")
        asyncio.run(measure(path, args.members, args.runs, now))
        asyncio.run(outbox(path, Path(tmp), now))


if __name__ == "__main__":
    main()
