"""`northca-bot migrate-db`: a SQLite file's data moved to another database (PostgreSQL in the PostgreSQL pass),
verified by per-table counts and checksums; the bot then runs on the copy and carries on where it left off."""

from __future__ import annotations

import re
import subprocess
import sys
import uuid
from pathlib import Path

from bot.core.shifts.store import ShiftStore
from bot.core.timefmt import now_ms
from bot.northca.sandbox import NorthcaSandbox
from bot.storage import Database
from bot.storage.leases import LeaseStore
from tests.helpers.bot import link_guild_in
from tests.helpers.ids import ADMIN, GUILD, MDT, OFFICER, OFFICER_M
from tests.helpers.northca import shift_posts
from tests.helpers.waiting import until

PASSWORD = "s3cret-pw"
ROOT = Path(__file__).resolve().parents[2]


def migrate(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", "migrate-db", *args], capture_output=True, text=True, timeout=120, cwd=ROOT
    )


async def sqlite_with_data(path: Path, sandbox: NorthcaSandbox) -> str:
    """A bot's SQLite file: a linked guild, an officer on duty, 1,200 ended shifts (several batches), audit rows."""
    db = Database(path)
    await db.open()
    try:
        await link_guild_in(db, sandbox)
        shifts = ShiftStore(db)
        open_id = str(uuid.uuid4())
        await shifts.insert_open(
            shift_id=open_id, guild_id=GUILD, member_id=OFFICER, mdt_id=MDT, officer_name="Officer On Duty",
            officer_badge="B-1", department="Patrol", callsign="1-ADAM-1", started_ms=now_ms() - 3_600_000,
        )  # fmt: skip
        for n in range(1_200):
            shift_id = str(uuid.uuid4())
            await db.execute(
                "INSERT INTO shifts (id, guild_id, member_id, mdt_id, officer_name, started_ms, ended_ms, duration_ms,"
                " sync_state, synced_ms, status) VALUES (?, ?, ?, 'demo', ?, ?, ?, 1000, 'synced', ?, 'completed')",
                (shift_id, GUILD + 1, 1000 + n, f"Officer “{n}” ünïcode", n, n + 1000, n + 2000),
            )
            if n % 100 == 0:
                await db.execute(
                    "INSERT INTO shift_audit (guild_id, shift_id, actor_id, action, at_ms) VALUES (?, ?, ?, 'test', ?)",
                    (GUILD + 1, shift_id, ADMIN, n),
                )
        await LeaseStore(db).acquire("scheduler", "old-process", 1, now=0)
    finally:
        await db.close()
    return open_id


async def test_sqlite_file_moves_to_the_other_database_verified_and_the_bot_carries_on(
    tmp_path: Path, db_path: Path | str, sandbox: NorthcaSandbox, start_bot
) -> None:
    source = tmp_path / "old.sqlite3"
    open_id = await sqlite_with_data(source, sandbox)
    target = str(db_path)

    done = migrate("--from", f"sqlite:{source}", "--to", target)
    assert done.returncode == 0, done.stderr
    lines = {m.group(1): m for m in re.finditer(r"^\s+(\w+)\s+(\d+) rows\s+(\w+) -> \s*(\d+) rows\s+(\w+)\s+(\w+)$",
                                                 done.stdout, re.M)}  # fmt: skip
    assert lines["shifts"].group(2) == lines["shifts"].group(4) == "1201"
    assert lines["shift_audit"].group(2) == lines["shift_audit"].group(4) == "12"
    assert lines["guild_links"].group(4) == "1" and lines["leases"].group(4) == "1"
    assert all(m.group(3) == m.group(5) and m.group(6) == "ok" for m in lines.values())
    assert "Copied and verified" in done.stdout

    # A second copy would mix two databases: refused, unless --force.
    again = migrate("--from", f"sqlite:{source}", "--to", target)
    assert again.returncode == 1 and "already holds data" in again.stderr and "--force" in again.stderr
    forced = migrate("--from", f"sqlite:{source}", "--to", target, "--force")
    assert forced.returncode == 0, forced.stderr
    # And back again, into a new SQLite file.
    back = migrate("--from", target, "--to", f"sqlite:{tmp_path / 'back.sqlite3'}")
    assert back.returncode == 0, back.stderr
    assert "Copied and verified" in back.stdout and "DIFFERENT" not in back.stdout

    # The bot runs on the copy: the guild is linked, the officer's shift is still open and ends to Northca;
    # new audit rows get ids after the copied ones.
    h = await start_bot()
    h.add_guild(GUILD, name="Moved RP", owner_id=ADMIN)
    reply = await h.slash("shift", sub="end", member=OFFICER_M, guild_id=GUILD)
    assert reply.callback_type == 4 and "not on duty" not in str(reply.data).lower(), reply
    await until(lambda: any(open_id.encode() in r.body for r in shift_posts(sandbox)), 20, "the moved shift's write")
    await h.bot.db.execute(
        "INSERT INTO shift_audit (guild_id, shift_id, actor_id, action, at_ms) VALUES (?, ?, ?, 'after', 1)",
        (GUILD, open_id, ADMIN),
    )
    assert len(await h.bot.db.fetchall("SELECT id FROM shift_audit")) == 13


def test_migrate_db_never_shows_the_password(tmp_path: Path) -> None:
    source = tmp_path / "old.sqlite3"
    done = migrate("--from", f"sqlite:{source}", "--to", f"postgresql://bot:{PASSWORD}@127.0.0.1:1/northca")
    assert done.returncode == 1
    assert "Not copied" in done.stderr
    assert PASSWORD not in done.stdout + done.stderr
