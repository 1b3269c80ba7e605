"""A server's history (bot/history.py): settings, time edits, leave decisions and roster changes, newest first,
each with who and where from (bot/audit.py: Discord unless the dashboard is acting), scoped to the server."""

from __future__ import annotations

from bot.audit import acting_from, audit_source
from bot.history import GuildHistory
from bot.services import build_services
from tests.helpers import GUILD, make_config

OTHER_GUILD = 121212121212121212
ADMIN, SERGEANT, MEMBER = 3, 4, 5


async def test_history_lists_every_kind_of_action_with_who_and_where_from(db, db_path, sandbox, client) -> None:
    now = [1_800_000_000_000]
    services = build_services(make_config(sandbox, db_path), db, client, clock=lambda: now[0])
    await services.settings.start()
    await services.settings.set_shifts(GUILD, ADMIN, max_hours=8)  # from Discord
    now[0] += 1000
    with acting_from("dashboard"):
        assert audit_source() == "dashboard"
        await services.duty.add_time(GUILD, MEMBER, 90 * 60_000, "forgot to clock in", SERGEANT)
        now[0] += 1000
        leave = await services.leave.request(GUILD, MEMBER, "2027-01-20", "2027-01-22", "exams")
        await services.leave.decide(GUILD, leave.id, SERGEANT, approve=True)
        now[0] += 1000
        await services.rosters.store.add_audit(GUILD, ADMIN, now[0], "create", 1, None, "Patrol Mon 18:00")
    assert audit_source() == "discord"
    now[0] += 1000
    await services.settings.set_shifts(OTHER_GUILD, ADMIN, max_hours=9)  # another server: not in GUILD's history

    entries = await GuildHistory(db).recent(GUILD)
    summary = [(e.area, e.action, e.actor_id, e.where, e.member_id) for e in entries]
    assert summary == [
        ("roster", "create", ADMIN, "the dashboard", None),
        ("leave", "approved", SERGEANT, "the dashboard", MEMBER),
        ("time", "add", SERGEANT, "the dashboard", MEMBER),
        ("settings", "max_shift_hours", ADMIN, "Discord", None),
    ]
    assert entries[2].before == str(90 * 60_000) and entries[2].after == "forgot to clock in"
    assert [e.area for e in await GuildHistory(db).recent(GUILD, areas=("time", "leave"))] == ["leave", "time"]
    assert len(await GuildHistory(db).recent(GUILD, limit=2, offset=3)) == 1
    await services.settings.stop()
