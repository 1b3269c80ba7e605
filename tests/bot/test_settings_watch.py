"""Several processes on one database: a setting changed in one process reaches the others' caches
(bot/core/settings/watch.py). Each "process" is its own Database connection and its own settings service."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.config import parse_config
from bot.core.errors import ErrorKind, InvalidInput
from bot.core.events import EventHub
from bot.core.settings import RoleFacts, SettingsService
from bot.core.settings.watch import SettingsWatcher
from bot.ops.services import build_settings_service
from bot.storage import Database
from tests.helpers.ids import ADMIN, GUILD


@pytest.fixture
async def two_processes(db_path: Path, db: Database) -> AsyncIterator[tuple[SettingsService, SettingsService]]:
    other = Database(db_path)
    await other.open()
    config = parse_config({"discord": {"token": "t"}}, env={})
    first, second = build_settings_service(config, db, EventHub()), build_settings_service(config, other, EventHub())
    await first.load()
    await second.load()
    yield first, second
    await other.close()


async def test_a_setting_changed_in_one_process_reaches_the_others_cache(
    two_processes: tuple[SettingsService, SettingsService],
) -> None:
    first, second = two_processes
    watcher = SettingsWatcher(second)
    assert await watcher.run_once() == []
    before = second.get(GUILD).roster_reminder_minutes
    await first.set_roster_reminder_minutes(GUILD, ADMIN, before + 15)
    assert second.get(GUILD).roster_reminder_minutes == before  # its cache: not yet
    assert await watcher.run_once() == [GUILD]
    assert second.get(GUILD).roster_reminder_minutes == before + 15
    # Seen once: the next look re-reads nothing (the change is still in its overlap window, but already cached).
    assert await watcher.run_once() == []
    # Back to the default (the stored row is deleted): seen too.
    await first.reset(GUILD, ADMIN)
    assert await watcher.run_once() == [GUILD]
    assert second.get(GUILD).roster_reminder_minutes == before


async def test_a_role_deleted_in_discord_leaves_the_other_processes_cache_too(
    two_processes: tuple[SettingsService, SettingsService],
) -> None:
    first, second = two_processes
    watcher = SettingsWatcher(second)
    duty = RoleFacts(4242, "On Duty")
    await first.set_role(GUILD, ADMIN, "on-duty", duty)
    await first.set_role_quota(GUILD, ADMIN, duty, 5.0)
    assert await watcher.run_once() == [GUILD]
    assert second.get(GUILD).on_duty_role_id == 4242

    assert await first.forget_deleted(GUILD, role_ids=(4242,)) == ("role.on-duty", "role_quotas")
    assert await watcher.run_once() == [GUILD]
    assert second.get(GUILD).on_duty_role_id is None and second.get(GUILD).role_quotas == ()
    # A second notice of the same deletion (another process, a repeated event): nothing changes, nothing audited.
    _, count = await second.history(GUILD)
    assert await second.forget_deleted(GUILD, role_ids=(4242,)) == ()
    assert (await second.history(GUILD))[1] == count


async def test_list_changes_at_once_in_two_processes_lose_nothing_and_refuse_a_duplicate(
    two_processes: tuple[SettingsService, SettingsService],
) -> None:
    """Each process validates a change against its own cache, which may not have seen the other's change yet
    (its watcher looks every few seconds): the database refuses a change computed from a stale state, and the
    process re-reads and re-applies it."""
    first, second = two_processes
    codes_before = {c.code for c in first.get(GUILD).codes}

    await asyncio.gather(
        first.add_code(GUILD, ADMIN, "10-50", "Collision"), second.add_code(GUILD, ADMIN, "10-52", "Ambulance")
    )
    await first.add_department(GUILD, ADMIN, "Harbor")
    # The second process has not looked yet: its cache does not know Harbor.
    await second.add_department(GUILD, ADMIN, "Marine")
    with pytest.raises(InvalidInput) as exists:
        await second.add_department(GUILD, ADMIN, "Harbor")
    assert exists.value.kind is ErrorKind.DEPARTMENT_EXISTS and exists.value.data == {"name": "Harbor"}

    for process in (first, second):
        stored = await process.reload(GUILD)
        assert {c.code for c in stored.codes} == codes_before | {"10-50", "10-52"}
        assert {d.name for d in stored.departments} >= {"Harbor", "Marine"}
        assert [d.name for d in stored.departments].count("Harbor") == 1
