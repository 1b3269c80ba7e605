"""Per-guild settings (bot/core/settings): defaults from the config file, cached reads, validated audited
changes, two guilds apart, and retention after the bot leaves a guild. Real SQLite file, real hub."""

from __future__ import annotations

import asyncio

import pytest

from bot.core.config import parse_config
from bot.core.errors import ErrorKind, InvalidInput
from bot.core.events import EventHub
from bot.core.settings import ChannelFacts, RoleFacts, SettingsChanged, SettingsService
from bot.core.settings.store import GUILD_CHILD_TABLES, GUILD_DELETION_TABLES, GUILD_TABLES
from bot.ops.services import build_settings_service
from bot.storage import Database
from tests.helpers.clock import Clock
from tests.helpers.ids import ADMIN, GUILD, OTHER_GUILD

pytestmark = pytest.mark.asyncio

DAY_MS = 24 * 60 * 60 * 1000


def _config(**shifts: object):  # type: ignore[no-untyped-def]
    return parse_config(
        {
            "shifts": {"departments": ["Patrol", "EMS"], "max_shift_hours": 10, **shifts},
            "settings": {"retention_days": 30},
        },
        env={},
        require_token=False,
    )


async def _service(db: Database, clock: Clock | None = None, **shifts: object) -> SettingsService:
    service = build_settings_service(_config(**shifts), db, EventHub())
    if clock is not None:
        service.clock = clock
    await service.load()
    return service


def _role(role_id: int, name: str = "Role", **facts: bool) -> RoleFacts:
    return RoleFacts(role_id, name, **facts)


async def test_a_new_server_starts_from_the_config_file_values_and_says_they_are_defaults(db):
    settings = (await _service(db, log_channel_id=555, on_duty_role_id=777)).get(GUILD)
    assert settings.department_names == ["Patrol", "EMS"]
    assert settings.max_shift_hours == 10
    assert settings.shift_log_channel_id == 555 and settings.on_duty_role_id == 777
    assert [c.code for c in settings.codes][:3] == ["10-8", "10-6", "10-7"]
    assert all(settings.is_default(key) for key in ("departments", "codes", "max_shift_hours", "timezone"))


async def test_two_servers_keep_their_own_settings(db):
    service = await _service(db)
    await service.add_department(GUILD, ADMIN, "Sheriff", _role(31, "Sheriff"), quota_hours=5)
    await service.set_shifts(OTHER_GUILD, ADMIN, max_hours=4, timezone="Europe/Berlin", week_start="sunday")
    await service.set_role(OTHER_GUILD, ADMIN, "on-duty", _role(42, "On Duty B"))

    a, b = service.get(GUILD), service.get(OTHER_GUILD)
    assert a.department_names == ["Patrol", "EMS", "Sheriff"] and a.department("sheriff").role_id == 31  # type: ignore[union-attr]
    assert b.department_names == ["Patrol", "EMS"]
    assert (b.max_shift_hours, b.timezone, b.week_start, b.on_duty_role_id) == (4, "Europe/Berlin", "sunday", 42)
    assert (a.max_shift_hours, a.timezone, a.on_duty_role_id) == (10, "UTC", None)
    assert not a.is_default("departments") and b.is_default("departments")


async def test_settings_survive_a_restart_and_are_read_without_a_database_trip(db, db_path):
    service = await _service(db)
    await service.add_code(GUILD, ADMIN, "10-99", "Officer down", "danger")
    await service.set_channel(GUILD, ADMIN, "shift-log", ChannelFacts(808, "shift-log"))

    restarted = await _service(db)
    await db.close()  # every read below must come from memory: a database trip would now fail
    settings = restarted.get(GUILD)
    assert settings.code("10-99") is not None and settings.code("10-99").style == "danger"  # type: ignore[union-attr]
    assert settings.shift_log_channel_id == 808
    assert restarted.get(OTHER_GUILD).code("10-99") is None
    await db.open()


async def test_invalid_changes_are_refused_with_what_to_do_and_nothing_is_written(db):
    service = await _service(db)
    refusals = [
        (service.set_role(GUILD, ADMIN, "on-duty", _role(1, "Boss", above_bot=True)),
         ErrorKind.ROLE_TOO_HIGH, {"role": "Boss", "role_id": 1}),
        (service.set_role(GUILD, ADMIN, "on-duty", _role(2, "Nitro Booster", managed=True)),
         ErrorKind.ROLE_MANAGED, {"role": "Nitro Booster", "role_id": 2}),
        (service.set_role(GUILD, ADMIN, "supervisor", _role(GUILD, "@everyone", is_everyone=True)),
         ErrorKind.ROLE_EVERYONE, {}),
        (service.set_channel(GUILD, ADMIN, "alerts", ChannelFacts(5, "x", ("Embed Links",))),
         ErrorKind.CHANNEL_PERMISSIONS_MISSING, {"channel_id": 5, "missing": ("Embed Links",)}),
        (service.set_shifts(GUILD, ADMIN, max_hours=8, timezone="Mars/Olympus"),
         ErrorKind.UNKNOWN_TIME_ZONE, {"zone": "Mars/Olympus"}),
        (service.add_code(GUILD, ADMIN, "10-8", "Again"), ErrorKind.CODE_EXISTS, {"code": "10-8"}),
        (service.add_code(GUILD, ADMIN, "<@1>", "Ping"), ErrorKind.CODE_MALFORMED, {}),
        (service.add_department(GUILD, ADMIN, "P" * 41),
         ErrorKind.TEXT_TOO_LONG, {"field": "department name", "length": 41, "most": 40}),
        (service.add_department(GUILD, ADMIN, "patrol"), ErrorKind.DEPARTMENT_EXISTS, {"name": "patrol"}),
    ]  # fmt: skip
    for change, kind, data in refusals:
        with pytest.raises(InvalidInput) as refused:
            await change
        assert (refused.value.kind, dict(refused.value.data)) == (kind, data)
    assert (await service.history(GUILD))[1] == 0
    assert service.get(GUILD).max_shift_hours == 10  # the valid half of the time-zone call was not applied
    assert all(service.get(GUILD).is_default(key) for key in ("codes", "departments", "channel.alerts"))


async def test_more_than_25_codes_or_departments_are_refused(db):
    service = await _service(db)
    for i in range(25 - len(service.get(GUILD).codes)):
        await service.add_code(GUILD, ADMIN, f"10-{50 + i}", f"Code {i}")
    with pytest.raises(InvalidInput) as codes:
        await service.add_code(GUILD, ADMIN, "10-99", "One too many")
    assert codes.value.kind is ErrorKind.TOO_MANY_CODES and codes.value.data == {"most": 25}
    for i in range(23):
        await service.add_department(GUILD, ADMIN, f"Dept {i}")
    with pytest.raises(InvalidInput) as departments:
        await service.add_department(GUILD, ADMIN, "One too many")
    assert departments.value.kind is ErrorKind.TOO_MANY_DEPARTMENTS and departments.value.data == {"most": 25}
    assert len(service.get(GUILD).codes) == 25 and len(service.get(GUILD).departments) == 25


async def test_every_change_is_audited_with_who_old_and_new_and_published(db):
    service = await _service(db)
    heard: list[SettingsChanged] = []
    service.events.settings.subscribe_now(heard.append)
    await service.set_shifts(GUILD, ADMIN, max_hours=6)
    await service.set_shifts(GUILD, ADMIN + 1, off_duty="allow", week_start="sunday")

    entries, total = await service.history(GUILD)
    assert total == 3
    assert [(e.actor_id, e.key, e.old, e.new) for e in entries] == [
        (ADMIN + 1, "week_start", "monday", "sunday"),
        (ADMIN + 1, "off_duty", "prompt", "allow"),
        (ADMIN, "max_shift_hours", 10.0, 6.0),
    ]
    assert [e.keys for e in heard] == [("max_shift_hours",), ("off_duty", "week_start")]
    assert heard[-1].settings.version == 2 and service.get(GUILD).version == 2
    assert (await service.history(OTHER_GUILD))[1] == 0


async def test_reset_brings_every_setting_back_to_the_defaults_and_is_audited(db):
    service = await _service(db)
    await service.set_shifts(GUILD, ADMIN, max_hours=3, timezone="Asia/Tokyo")
    await service.remove_department(GUILD, ADMIN, "ems")
    await service.reset(GUILD, ADMIN)
    settings = (await _service(db)).get(GUILD)
    assert (settings.max_shift_hours, settings.timezone, settings.department_names) == (10, "UTC", ["Patrol", "EMS"])
    entries, total = await service.history(GUILD)
    assert total == 6 and {e.key for e in entries[:3]} == {"max_shift_hours", "timezone", "departments"}


async def test_a_left_server_is_purged_after_retention_and_a_returning_one_keeps_its_settings(db):
    clock = Clock()
    service = await _service(db, clock)
    await service.set_shifts(GUILD, ADMIN, max_hours=5)
    await service.set_shifts(OTHER_GUILD, ADMIN, max_hours=7)
    await service.guild_left(GUILD)
    await service.guild_left(OTHER_GUILD)

    clock.ms += 10 * DAY_MS
    assert await service.guild_joined(OTHER_GUILD) is True  # back within retention
    clock.ms += 21 * DAY_MS
    assert await service.purge_expired() == [GUILD]

    fresh = await _service(db, clock)
    assert fresh.get(GUILD).max_shift_hours == 10 and (await fresh.history(GUILD))[1] == 0
    assert fresh.get(OTHER_GUILD).max_shift_hours == 7
    assert await service.purge_expired() == []


async def test_a_server_returning_while_the_purge_runs_keeps_its_settings(db):
    """The purge reads the servers left long ago, then deletes each; a server that comes back in between (its
    join event handled at the same moment) is no longer left, and is not purged."""
    clock = Clock()
    service = await _service(db, clock)
    await service.set_shifts(GUILD, ADMIN, max_hours=5)
    await service.guild_left(GUILD)
    clock.ms += 31 * DAY_MS

    purged, returned = await asyncio.gather(service.purge_expired(), service.guild_joined(GUILD))

    assert (purged, returned) == ([], True)
    assert (await _service(db, clock)).get(GUILD).max_shift_hours == 5
    assert await service.purge_expired() == []


async def test_delete_data_removes_everything_keyed_by_the_guild_and_nothing_of_another(db):
    service = await _service(db)
    await service.set_shifts(GUILD, ADMIN, max_hours=5)
    await service.set_shifts(OTHER_GUILD, ADMIN, max_hours=7)
    for guild in (GUILD, OTHER_GUILD):
        await db.execute(
            "INSERT INTO officer_profiles (guild_id, member_id, updated_at) VALUES (?, ?, ?)",
            (guild, 5, "2026-01-01T00:00:00Z"),
        )
    deleted = await service.delete_guild_data(GUILD, ADMIN)
    assert deleted["officer_profiles"] == 1 and deleted["guild_settings"] == 1
    assert service.get(GUILD).max_shift_hours == 10 and service.get(OTHER_GUILD).max_shift_hours == 7
    rows = await db.fetchall("SELECT guild_id FROM officer_profiles")
    assert [r["guild_id"] for r in rows] == [OTHER_GUILD]


async def _schema(db: Database) -> list[tuple[str, set[str], set[str]]]:
    """Every table of the database: its name, its columns and the tables its foreign keys point at."""
    if db.engine == "sqlite":
        tables = [r["name"] for r in await db.fetchall("SELECT name FROM sqlite_master WHERE type = 'table'")]
        return [
            (
                table,
                {r["name"] for r in await db.fetchall(f"PRAGMA table_info({table})")},
                {r["table"] for r in await db.fetchall(f"PRAGMA foreign_key_list({table})")},
            )
            for table in tables
        ]
    here = "table_schema = current_schema()"
    tables = [
        r["table_name"]
        for r in await db.fetchall(
            f"SELECT table_name FROM information_schema.tables WHERE {here} AND table_type = 'BASE TABLE'"
        )
    ]
    return [
        (
            table,
            {
                r["column_name"]
                for r in await db.fetchall(
                    f"SELECT column_name FROM information_schema.columns WHERE {here} AND table_name = ?", (table,)
                )
            },
            {
                r["parent"]
                for r in await db.fetchall(
                    "SELECT u.table_name AS parent FROM information_schema.table_constraints c"
                    " JOIN information_schema.constraint_column_usage u"
                    " ON u.constraint_schema = c.constraint_schema AND u.constraint_name = c.constraint_name"
                    " WHERE c.constraint_type = 'FOREIGN KEY' AND c.table_schema = current_schema()"
                    " AND c.table_name = ?",
                    (table,),
                )
            },
        )
        for table in tables
    ]


async def test_delete_data_knows_every_table_that_holds_a_guilds_data(db):
    """A table added later with a guild_id (or rows hanging off a guild's rows) must be deleted with the guild."""
    guild_keyed, children = set(), set()
    for table, columns, parents in await _schema(db):
        if "guild_id" in columns:
            guild_keyed.add(table)
        elif parents or columns & {"shift_id", "template_id", "call_id"}:
            children.add(table)  # rows hanging off a guild's shifts, scheduled shifts or calls
    # The deletion marks stay on purpose (only the guild id and the time, so other processes drop their caches).
    assert guild_keyed == set(GUILD_TABLES) | set(GUILD_DELETION_TABLES)
    assert children == {table for table, _, _ in GUILD_CHILD_TABLES}
    # Children go first, and each parent is a guild table (so a guild's rows can be found).
    assert all(parent in GUILD_TABLES for _, _, parent in GUILD_CHILD_TABLES)


async def test_delete_data_removes_shift_breaks_and_roster_rows_of_the_guild(db):
    service = await _service(db)
    for guild, shift_id in ((GUILD, "shift-a"), (OTHER_GUILD, "shift-b")):
        await db.execute(
            "INSERT INTO shifts (id, guild_id, member_id, mdt_id, officer_name, started_ms)"
            " VALUES (?, ?, 5, 'mdt', 'Officer', 1000)",
            (shift_id, guild),
        )
        await db.execute(
            "INSERT INTO shift_breaks (shift_id, started_ms, ended_ms) VALUES (?, 1200, 1300)", (shift_id,)
        )
    deleted = await service.delete_guild_data(GUILD, ADMIN)
    assert deleted["shifts"] == 1 and deleted["shift_breaks"] == 1
    rows = await db.fetchall("SELECT shift_id FROM shift_breaks")
    assert [r["shift_id"] for r in rows] == ["shift-b"]
