"""Helpers for the roster tests: a clock the test moves, UTC wall times in ms, shifts recorded as
the bot records them (through the shifts store), and a bot whose rosters run on that clock."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.shifts import ShiftStore
from bot.storage import Database
from tests.helpers.ids import GUILD, MDT

MIN = 60_000


def ms(year: int, month: int, day: int, hour: int, minute: int) -> int:
    """Epoch ms of a UTC wall time."""
    return int(datetime(year, month, day, hour, minute, tzinfo=UTC).timestamp() * 1000)


class Clock:
    def __init__(self, now: int) -> None:
        self.now = now

    def __call__(self) -> int:
        return self.now


async def record_shift(
    db: Database,
    member: int,
    start: int,
    end: int | None,
    *,
    guild: int = GUILD,
    breaks: tuple[tuple[int, int], ...] = (),
) -> None:
    """A shift recorded as the bot records one (through the shifts store)."""
    shifts = ShiftStore(db)
    await shifts.insert_open(
        shift_id=f"s-{guild}-{member}-{start}", guild_id=guild, member_id=member, mdt_id=MDT,
        officer_name=f"Ofc {member}", officer_badge=None, department="Patrol", callsign=None, started_ms=start,
    )  # fmt: skip
    for off, on in breaks:
        await shifts.toggle_break(guild, member, off)
        await shifts.toggle_break(guild, member, on)
    if end is not None:
        await shifts.end_open(
            guild, member, end_ms=end, reason="member", ended_by=None, note=None, status="10-7", now=end
        )
