"""Scheduled work done once across processes (docs/scaling-design.md, "What happens once, across processes").

Each "process" is a whole service graph (bot.services.build_services) with a sharded config of its own (two
shards, one each) and its own Database connection to one database, against the real sandbox over HTTP. Work
for a guild runs in the process whose shard carries it: only that process has the guild's channels and
members in its cache, so a shift-log line, an On Duty or on-leave role done elsewhere would never happen."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import aiohttp
import pytest

from bot.core.leave import RoleAction
from bot.core.ports import Ports
from bot.core.settings import SettingsChanged
from bot.core.sharding import ShardSet, shard_of
from bot.core.shifts import ShiftEvent, ShiftStore
from bot.core.shifts.store import OTHER_SHARDS_CLAIM_DELAY_MS
from bot.northca.client import NorthcaClient
from bot.northca.sandbox import NorthcaSandbox
from bot.ops.services import Services, build_services
from bot.storage import Database
from tests.helpers.bot import link_guild_in, make_config
from tests.helpers.ids import ADMIN, GUILD, KEY, MDT, OFFICER, SUPERVISOR
from tests.helpers.northca import shift_posts
from tests.helpers.waiting import until

E = TypeVar("E")
SHARDS = 2
# GUILD is on shard 1; this one on shard 0.
GUILD_ON_SHARD_0 = GUILD + (1 << 22)
DEFAULT_MAX_HOURS = 12.0
DAY_MS = 86_400_000


class RecordedRoles:
    """The `RoleApplier` port of a process: what it was asked to give or take back (its guild's roles)."""

    def __init__(self) -> None:
        self.actions: list[RoleAction] = []

    async def apply_role(self, action: RoleAction) -> bool:
        self.actions.append(action)
        return True  # its guild is always "in the cache"


@dataclass
class Process:
    """One bot process's services, and what its hub published (what its cogs would act on)."""

    name: str
    services: Services
    db: Database
    roles: RecordedRoles
    shift_events: list[ShiftEvent] = field(default_factory=list)
    settings_events: list[SettingsChanged] = field(default_factory=list)
    started: bool = False

    async def start(self) -> None:
        for service in self.services.background:
            await service.start()
        self.started = True

    async def stop(self) -> None:
        if self.started:
            for service in reversed(self.services.background):
                await service.stop()
            self.started = False
        await self.services.shifts.drain()
        await self.services.settings.drain()


Processes = tuple[Process, Process]


@pytest.fixture
async def processes(
    db_path: Path | str, db: Database, sandbox: NorthcaSandbox, http: aiohttp.ClientSession
) -> AsyncIterator[Processes]:
    """(on shard 0, on shard 1) of two; GUILD (shard 1) linked to MDT."""
    assert shard_of(GUILD, SHARDS) == 1 and shard_of(GUILD_ON_SHARD_0, SHARDS) == 0
    second_db = Database(db_path)
    await second_db.open()
    made = []
    for shard, database in ((0, db), (1, second_db)):
        config = make_config(
            sandbox,
            db_path,
            discord={"shard_count": SHARDS, "shard_ids": [shard]},
            shifts={"sync_interval_seconds": 0.05},
        )
        assert sandbox.base_url
        northca = NorthcaClient(http, sandbox.base_url, KEY, timeout=2.0, deadline=6.0, backoff_base=0.02)
        roles = RecordedRoles()
        services = build_services(config, database, northca, ports=Ports(leave_roles=roles))
        process = Process(f"shard {shard}", services, database, roles)
        process.services.events.shifts.subscribe(recorder(process.shift_events))
        process.services.events.settings.subscribe(recorder(process.settings_events))
        await process.services.settings.load()
        made.append(process)
    await link_guild_in(second_db, sandbox)
    try:
        yield made[0], made[1]
    finally:
        for process in reversed(made):
            await process.stop()
        await second_db.close()


def recorder(into: list[E]) -> Callable[[E], Awaitable[None]]:
    async def record(event: E) -> None:
        into.append(event)

    return record


async def test_an_overdue_shift_is_ended_once_by_the_process_of_its_guilds_shard(
    processes: Processes, sandbox: NorthcaSandbox, caplog: pytest.LogCaptureFixture
) -> None:
    elsewhere, owner = processes
    started = datetime.now(UTC) - timedelta(hours=DEFAULT_MAX_HOURS + 1)
    shift = await owner.services.shifts.start(GUILD, OFFICER, display_name="officer", at=started)
    # The process of the other shard starts first: it must leave GUILD's shift alone.
    await elsewhere.start()
    await owner.start()
    store = owner.services.shifts.store

    async def synced() -> bool:
        current = await store.get(shift.id)
        return current is not None and current.synced

    await until(synced, 10.0, "the auto-ended shift synced to Northca")
    stored = await store.get(shift.id)
    assert stored is not None and stored.end_reason == "auto"
    assert stored.duration_ms == DEFAULT_MAX_HOURS * 3_600_000
    for process in processes:
        await process.services.shifts.drain()
    # Announced once, by the process whose cache has GUILD's shift log and roles.
    ends = {p.name: [e.shift.id for e in p.shift_events if e.kind == "end"] for p in processes}
    assert ends == {owner.name: [shift.id], elsewhere.name: []}
    auto_ended = [r for r in caplog.records if r.name == "bot.core.shifts.service" and "ended (auto" in r.getMessage()]
    assert len(auto_ended) == 1
    assert len(shift_posts(sandbox)) == 1 and sandbox.shifts(MDT)[0]["id"] == shift.id


async def test_the_on_leave_role_is_given_by_the_process_of_the_guilds_shard(processes: Processes) -> None:
    elsewhere, owner = processes
    leave = await owner.services.leave.request(GUILD, OFFICER, "today", "tomorrow", "exams")
    await owner.services.leave.decide(GUILD, leave.id, SUPERVISOR, approve=True)
    # The other shard's process looks first: giving the role needs GUILD's members, which only the owner has.
    assert await elsewhere.services.leave_worker.run_once() == 0
    assert await owner.services.leave_worker.run_once() == 1
    assert await elsewhere.services.leave_worker.run_once() == 0
    assert [(a.kind, a.leave.id) for a in owner.roles.actions] == [("give", leave.id)]
    assert elsewhere.roles.actions == []


async def test_the_retention_purge_deletes_each_left_guild_once_in_the_process_of_its_shard(
    processes: Processes,
) -> None:
    elsewhere, owner = processes
    settings = owner.services.settings
    long_ago = settings.clock() - 31 * DAY_MS  # retention: 30 days by default
    for guild_id in (GUILD, GUILD_ON_SHARD_0):
        await settings.set_shifts(guild_id, ADMIN, max_hours=3)
        await settings.store.mark_left(guild_id, long_ago)
    await settings.drain()
    owner.settings_events.clear()
    await elsewhere.start()
    await owner.start()

    async def both_purged() -> bool:
        return await settings.store.left_before(settings.clock()) == []

    await until(both_purged, 10.0, "both left guilds purged")
    for process in processes:
        await process.services.settings.drain()
    purged = {p.name: [e.guild_id for e in p.settings_events if e.deleted] for p in processes}
    assert purged == {owner.name: [GUILD], elsewhere.name: [GUILD_ON_SHARD_0]}
    assert await settings.store.load(GUILD) == {} and await settings.store.load(GUILD_ON_SHARD_0) == {}


async def test_data_deleted_in_one_process_is_dropped_from_the_others_settings_cache(processes: Processes) -> None:
    deleting, other = processes
    for process in processes:
        await process.start()
    await deleting.services.settings.set_shifts(GUILD, ADMIN, max_hours=3)
    await until(lambda: other.services.settings.get(GUILD).max_shift_hours == 3, timeout=10, what="change seen")
    await deleting.services.settings.delete_guild_data(GUILD, ADMIN)
    # Within the watcher's interval (2 s), the other process serves the defaults again.
    await until(
        lambda: other.services.settings.get(GUILD).max_shift_hours == DEFAULT_MAX_HOURS,
        timeout=10,
        what="the deletion seen by the other process",
    )
    assert replace(other.services.settings.get(GUILD), version=0) == replace(
        deleting.services.settings.get(GUILD), version=0
    )


async def test_a_refused_shift_is_announced_by_the_process_of_its_guilds_shard(
    processes: Processes, sandbox: NorthcaSandbox
) -> None:
    elsewhere, owner = processes
    sandbox.faults.add("error", times=1, method="POST", path=r"/shifts$", status=400, message="Invalid department")
    shift = await owner.services.shifts.start(GUILD, OFFICER, display_name="officer")
    await owner.services.shifts.end(GUILD, OFFICER)
    # The other shard's process starts first and finds the shift due: it leaves it to GUILD's process.
    await elsewhere.start()
    await owner.start()
    store = owner.services.shifts.store

    async def failed() -> bool:
        current = await store.get(shift.id)
        return current is not None and current.sync_state == "failed"

    await until(failed, 10.0, "the refused shift kept as failed")
    for process in processes:
        await process.services.shifts.drain()
    refused = {p.name: [e.shift.id for e in p.shift_events if e.kind == "sync_failed"] for p in processes}
    assert refused == {owner.name: [shift.id], elsewhere.name: []}
    assert len(shift_posts(sandbox)) == 1


async def test_a_shift_of_a_shard_whose_process_is_down_is_sent_by_another_after_a_delay(
    processes: Processes,
) -> None:
    elsewhere, owner = processes
    shift = await owner.services.shifts.start(GUILD, OFFICER, display_name="officer")
    ended = await owner.services.shifts.end(GUILD, OFFICER)
    assert ended.next_attempt_ms is not None
    due = ended.next_attempt_ms
    other_shard = ShardSet(SHARDS, frozenset({0}))
    others = ShiftStore(elsewhere.db)
    assert await others.claim_due(due, 10, other_shard) == []
    assert await others.next_due_ms(other_shard) == due + OTHER_SHARDS_CLAIM_DELAY_MS
    assert await others.claim_due(due + OTHER_SHARDS_CLAIM_DELAY_MS - 1, 10, other_shard) == []
    # GUILD's process never came: the shift goes to Northca through another process all the same.
    [taken] = await others.claim_due(due + OTHER_SHARDS_CLAIM_DELAY_MS, 10, other_shard)
    assert taken.id == shift.id
