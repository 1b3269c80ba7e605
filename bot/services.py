"""The one place that builds every service of the bot, and the order they start and stop in.

NorthcaBot.setup_hook calls `build_services`; the tests build the same graph through the same
functions. Cogs only reach the services (typed attributes of the bot); they never build one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Protocol

from bot.activity_reports import ActivityReporter
from bot.config import Config, DiscordConfig, ShiftConfig, StatusConfig
from bot.dispatch import DispatchService, DispatchStore
from bot.duty import DutyService, DutyStore
from bot.events import EventHub
from bot.leave import LeaveService, LeaveStore, LeaveWorker
from bot.links import LinkService, LinkStore
from bot.northca.client import NorthcaClient
from bot.profiles import ProfileStore
from bot.rosters import RosterService, RosterStore
from bot.rosters.leave import ExcusedSource
from bot.rosters.reminders import RosterReminderWorker
from bot.settings import SettingsService, SettingsStore
from bot.settings.records import SettingsSource, defaults_from_config
from bot.settings.retention import RetentionPurge
from bot.settings.watch import SettingsWatcher
from bot.sharding import ShardSet
from bot.shifts import ShiftAutoEnder, ShiftService, ShiftStore, ShiftSync, ShiftWorker
from bot.shifts.boards import ShiftBoards
from bot.shifts.notices import ShiftNotices
from bot.shifts.service import DutyGate
from bot.storage import Database
from bot.storage.leases import LeasedServices, LeaseStore
from bot.timefmt import now_ms
from bot.unit_status import StatusService, UnitCoalescer, UnitStatusStore
from bot.unit_status.order import UnitSendOrder


class BackgroundService(Protocol):
    async def start(self) -> None: ...
    async def stop(self) -> None: ...


@dataclass(frozen=True)
class Services:
    events: EventHub
    links: LinkService
    profiles: ProfileStore
    shifts: ShiftService
    shift_worker: ShiftWorker
    coalescer: UnitCoalescer
    unit_status: StatusService
    duty: DutyService
    boards: ShiftBoards
    rosters: RosterService
    roster_reminders: RosterReminderWorker
    # Who is on approved leave, for roster attendance (excused): the leave service.
    roster_leave: ExcusedSource
    settings: SettingsService
    leave: LeaveService
    leave_worker: LeaveWorker
    activity_reports: ActivityReporter
    dispatch: DispatchService
    # Started in this order, stopped in the reverse order.
    background: list[BackgroundService] = field(default_factory=list)


def build_shift_service(
    db: Database,
    links: LinkService,
    profiles: ProfileStore,
    northca: NorthcaClient,
    config: ShiftConfig,
    events: EventHub | None = None,
    settings: SettingsSource | None = None,
    duty_gate: DutyGate | None = None,
    clock: Callable[[], int] = now_ms,
) -> ShiftService:
    """The shift lifecycle with its store, sync engine and notices (a fresh hub unless given;
    the config file's settings for every guild unless a settings source is given)."""
    store = ShiftStore(db)
    notices = ShiftNotices(events if events is not None else EventHub())
    sync = ShiftSync(store, northca, config, notices, clock)
    return ShiftService(store, links, profiles, northca, config, sync, notices, settings, duty_gate, clock)


def build_status_service(
    db: Database,
    links: LinkService,
    profiles: ProfileStore,
    config: StatusConfig,
    coalescer: UnitCoalescer,
    events: EventHub | None = None,
    *,
    shifts: ShiftService | None = None,
    settings: SettingsSource | None = None,
    sharded: bool = False,
    clock: Callable[[], int] = now_ms,
) -> StatusService:
    """The unit status service, and the order its coalescer sends in (UnitSendOrder). Given `shifts`, it shares
    their hub (it stamps their duty events). `sharded`: several processes on the database: versions come from
    the database, an MDT's sends take turns in the database, and the resend is left to the caller to run under
    one (`StatusService.resender`)."""
    if events is None:
        events = shifts.notices.events if shifts is not None else EventHub()
    store = UnitStatusStore(db, shared=sharded, clock=clock)
    coalescer.order = UnitSendOrder(store, shared=sharded)
    return StatusService(
        store, links, profiles, config, coalescer, events, shifts=shifts, settings=settings, own_resend=not sharded
    )


def build_settings_service(
    config: Config, db: Database, events: EventHub, clock: Callable[[], int] = now_ms
) -> SettingsService:
    """Per-guild settings, starting from the config file's values."""
    return SettingsService(
        SettingsStore(db),
        defaults_from_config(config),
        events,
        protected_codes=(config.status.on_duty_code, config.status.off_duty_code),
        retention_days=config.settings.retention_days,
        clock=clock,
    )


def build_roster_service(db: Database, clock: Callable[[], int] = now_ms) -> RosterService:
    """Rosters (templates, reminders, attendance) on `clock` (epoch ms)."""
    return RosterService(RosterStore(db), clock=clock)


def scheduler_lease_name(section: DiscordConfig) -> str:
    """One scheduler per set of shards: "scheduler" unsharded, else e.g. "scheduler:0,1/4"."""
    if section.shard_count is None:
        return "scheduler"
    ids = section.shard_ids if section.shard_ids is not None else range(section.shard_count)
    return f"scheduler:{','.join(str(i) for i in sorted(ids))}/{section.shard_count}"


def owned_guilds(guild_ids: Callable[[], list[int]], section: DiscordConfig) -> Callable[[], list[int]]:
    """`guild_ids` narrowed to the guilds of this process's shards."""
    shards = ShardSet.of(section)
    if shards is None:
        return guild_ids
    return lambda: [g for g in guild_ids() if shards.owns(g)]


def build_services(
    config: Config, db: Database, northca: NorthcaClient, *, clock: Callable[[], int] = now_ms
) -> Services:
    """Every service of the bot. `clock` (epoch ms) is the one clock of every service and background worker
    (shifts and their sync, auto-end, reports, leave, reminders, leases, dispatch, settings, retention): tests
    inject one and move it; nothing below reads the wall clock on its own."""
    # Several processes on one database, each running its own shards (docs/scaling.md).
    sharded = config.discord.shard_count is not None
    # The guilds whose scheduled work is this process's (None: every guild).
    shards = ShardSet.of(config.discord)
    events = EventHub()
    settings = build_settings_service(config, db, events, clock)
    links = LinkService(LinkStore(db), northca)
    profiles = ProfileStore(db)
    leave = LeaveService(LeaveStore(db), settings, clock)
    # Approved leave may hold members back from going on duty (the guild's leave_blocks_duty).
    shifts = build_shift_service(
        db, links, profiles, northca, config.shifts, events, settings, duty_gate=leave, clock=clock
    )
    duty = DutyService(DutyStore(db), clock)
    leave_worker = LeaveWorker(leave, shards=shards)
    reports = ActivityReporter(duty, settings, owned_guilds(settings.guild_ids, config.discord), clock=clock)
    worker = ShiftWorker(shifts, sole_process=not sharded, shards=shards)
    coalescer = UnitCoalescer(northca, config.status.batch_window_ms / 1000)
    unit_status = build_status_service(
        db, links, profiles, config.status, coalescer, events, shifts=shifts, settings=settings,
        sharded=sharded, clock=clock,
    )  # fmt: skip
    rosters = build_roster_service(db, clock)
    # Sends nothing until the roster cog attaches its delivery (DMs need Discord).
    roster_reminders = RosterReminderWorker(rosters, settings.get)
    dispatch = DispatchService(DispatchStore(db), links, profiles, unit_status, northca, clock=clock)
    # Several processes (sharded): settings another process changes reach this one's cache within seconds.
    watchers: list[BackgroundService] = [SettingsWatcher(settings)] if sharded else []
    # Scheduled work runs in one process only (of several on this database with the same shards): the one
    # holding the lease. Each process does it only for the guilds of its own shards (their members, roles and
    # channels are in its cache): reports, leave roles, reminders, the auto-end of long shifts, the retention purge.
    auto_end = ShiftAutoEnder(shifts, shards)
    retention = RetentionPurge(settings, shards, config.settings.purge_interval_seconds)
    scheduler = LeasedServices(
        LeaseStore(db),
        scheduler_lease_name(config.discord),
        [leave_worker, reports, roster_reminders, auto_end, retention],
        clock=clock,
    )
    # The dispatch outbox is shared by every server: one process of all sends it (another takes over within the
    # lease when it dies; meanwhile the others' new entries wait for the holder's next pass, every 2 s).
    dispatch_outbox = LeasedServices(LeaseStore(db), "dispatch-outbox", [dispatch], clock=clock)
    # Unit statuses Northca has not acknowledged (after a restart, a refusal) are resent by one process of all
    # (unsharded: by the status service itself). Any process may send any MDT's units: they take turns per MDT.
    status_resend: list[BackgroundService] = (
        [LeasedServices(LeaseStore(db), "unit-status-resend", [unit_status.resender], clock=clock)] if sharded else []
    )
    return Services(
        events=events,
        links=links,
        profiles=profiles,
        shifts=shifts,
        shift_worker=worker,
        coalescer=coalescer,
        unit_status=unit_status,
        duty=duty,
        boards=ShiftBoards(db, clock),
        rosters=rosters,
        roster_reminders=roster_reminders,
        roster_leave=leave,
        settings=settings,
        leave=leave,
        dispatch=dispatch,
        leave_worker=leave_worker,
        activity_reports=reports,
        # Settings first (loaded before anything reads them). Links next (stopped late: cancels live link
        # checks still out); the status service after
        # the coalescer it feeds, so at shutdown it stops before the coalescer drains.
        background=[
            settings,
            *watchers,
            links,
            worker,
            coalescer,
            unit_status,
            *status_resend,
            scheduler,
            dispatch_outbox,
        ],
    )
