"""The roster set-up: shifts recorded as the bot records them (through the shifts store), and a guild with the
supervisor, a patrol role, the shift log and the reports channel, on a bot whose rosters run on a `Clock`."""

from __future__ import annotations

from typing import Final

from bot.core.shifts import ShiftStore
from bot.storage import Database
from tests.harness import Harness, builders
from tests.helpers.bot import BotStarter, northca_bot
from tests.helpers.clock import Clock
from tests.helpers.ids import (
    ADMIN,
    ADMIN_M,
    DEPARTMENT_ROLE,
    GUILD,
    LOG_CH,
    MDT,
    MEMBER_PERMS,
    OFFICER_M,
    OTHER,
    REPORTS_CH,
    SUPERVISOR_M,
    SUPERVISOR_ROLE,
)

MIN: Final = 60_000
# The department role rosters assign shifts to ("Patrol"); OTHER holds it.
PATROL_ROLE: Final = DEPARTMENT_ROLE
OTHER_ON_PATROL_M: Final = builders.member(OTHER, permissions=MEMBER_PERMS, username="other", roles=[PATROL_ROLE])


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


async def boot_roster(
    start_bot: BotStarter, clock: Clock, *, timezone: str = "Europe/London", departments: tuple[str, ...] = ()
) -> Harness:
    """The bot on `clock` with GUILD in `timezone`: "Sergeant" (the supervisor role), "Patrol", #shift-log,
    #reports; ADMIN, OFFICER, SUPERVISOR and OTHER (on patrol) as members."""
    h = await start_bot(
        shifts={"log_channel_id": LOG_CH, "supervisor_role_ids": [SUPERVISOR_ROLE], "departments": list(departments)},
        clock=clock,
    )
    h.add_guild(
        GUILD,
        name="Test County RP",
        owner_id=ADMIN,
        roles=[
            builders.role(SUPERVISOR_ROLE, "Sergeant", position=2),
            builders.role(PATROL_ROLE, "Patrol", position=1),
        ],
        members=[ADMIN_M, OFFICER_M, SUPERVISOR_M, OTHER_ON_PATROL_M],
        channels=[
            builders.channel(LOG_CH, guild_id=GUILD, name="shift-log"),
            builders.channel(REPORTS_CH, guild_id=GUILD, name="reports"),
        ],
    )
    if timezone != "UTC":
        await northca_bot(h).settings.set_shifts(GUILD, ADMIN, timezone=timezone)
    return h
