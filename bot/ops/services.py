"""The one place that builds every service of the bot, and the order they start and stop in.

NorthcaBot.setup_hook calls `build_services`; the tests build the same graph through the same
functions. Cogs only reach the services (typed attributes of the bot); they never build one.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from bot.core.activity_reports import ActivityReporter
from bot.core.changes import ChangeNotices
from bot.core.config import Config, DiscordConfig, ShiftConfig, StatusConfig
from bot.core.dispatch import DispatchService, DispatchStore
from bot.core.duty import DutyService, DutyStore
from bot.core.events import EventHub
from bot.core.foreground import Foreground
from bot.core.history import GuildHistory
from bot.core.leave import LeaveService, LeaveStore, LeaveWorker
from bot.core.links import LinkService, LinkStore
from bot.core.notices import NoticeRelay, NoticeStore
from bot.core.polling import Background
from bot.core.ports import Ports
from bot.core.profiles import ProfileStore
from bot.core.rosters import RosterService, RosterStore
from bot.core.rosters.leave import ExcusedSource
from bot.core.rosters.reminders import RosterReminderWorker
from bot.core.settings import SettingsService, SettingsStore
from bot.core.settings.records import SettingsSource, defaults_from_config
from bot.core.settings.retention import RetentionPurge
from bot.core.settings.watch import SettingsWatcher
from bot.core.sharding import ShardSet
from bot.core.shifts import ShiftAutoEnder, ShiftService, ShiftStore, ShiftSync, ShiftWorker
from bot.core.shifts.boards import ShiftBoards
from bot.core.shifts.notices import ShiftNotices
from bot.core.shifts.service import DutyGate, DutyGates
from bot.core.timefmt import now_ms
from bot.core.unit_status import StatusService, UnitCoalescer, UnitStatusStore
from bot.core.unit_status.order import UnitSendOrder
from bot.erlc.calls import EmergencyCallRelay
from bot.erlc.duty import InGameGate
from bot.erlc.gamelock import Gamelock
from bot.erlc.keys import KeyVault
from bot.erlc.poller import ErlcPoller
from bot.erlc.port import GameServerPort, GameSnapshot, GameTemporary
from bot.erlc.retention import PresencePrune
from bot.erlc.service import ErlcService
from bot.erlc.store import ErlcStore
from bot.erlc.units import GameUnits
from bot.erlc.webhook import SignatureCheck, webhook_routes
from bot.northca.client import NorthcaClient
from bot.storage import Database
from bot.storage.leases import LeasedServices, LeaseStore
from bot.web.server import WebServer


class NoGameServer:
    """The game port when no PRC client was given (a test graph without ER:LC): every read is a temporary
    failure, worded as such, never a fake answer."""

    async def snapshot(
        self, key: str, *, players: bool = True, queue: bool = False, calls: bool = False, joins: bool = False
    ) -> GameSnapshot:
        raise GameTemporary("no PRC client is configured in this process")


@dataclass(frozen=True)
class Services:
    events: EventHub
    # How the core reaches the outside (bot/core/ports.py), as given to build_services.
    ports: Ports
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
    erlc: ErlcService
    erlc_poller: ErlcPoller
    # In-game emergency calls into the CAD (subscribed to the hub's `erlc_calls`).
    erlc_calls: EmergencyCallRelay
    # Ends shifts of members out of the game past the grace (under the scheduler lease).
    gamelock: Gamelock
    # Every admin action of a server, read together (the dashboard's History page).
    history: GuildHistory
    # Changes another process (the dashboard's own) made, shown in Discord by this one (bot/core/notices.py).
    notices: NoticeStore
    notice_relay: NoticeRelay
    # The hub's audited admin changes as the services publish them (drained at shutdown: a forwarder's writes).
    changes: ChangeNotices
    # The public web server (the ER:LC webhook; the dashboard when [web] enabled), when [web] port is set or the
    # dashboard is enabled.
    web: WebServer | None = None
    # Started in this order, stopped in the reverse order.
    background: list[Background] = field(default_factory=list)


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


def build_roster_service(
    db: Database, clock: Callable[[], int] = now_ms, changes: ChangeNotices | None = None
) -> RosterService:
    """Rosters (templates, reminders, attendance) on `clock` (epoch ms)."""
    return RosterService(RosterStore(db), clock=clock, changes=changes)


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


def build_erlc_service(
    config: Config,
    db: Database,
    game: GameServerPort,
    events: EventHub,
    settings: SettingsService,
    shifts: ShiftService,
    *,
    clock: Callable[[], int] = now_ms,
    webhook_base_url: str | None = None,
    rate_limits: Callable[[], str | None] | None = None,
) -> ErlcService:
    """The ER:LC link: keys encrypted under [erlc] key_encryption_key; on duty = an open shift."""
    section = config.erlc
    vault = KeyVault(
        section.key_encryption_key.get_secret_value() if section.key_encryption_key else None,
        [k.get_secret_value() for k in section.previous_key_encryption_keys],
    )

    async def on_duty(guild_id: int) -> set[int]:
        return {s.member_id for s in await shifts.open_in_guild(guild_id)}

    return ErlcService(
        ErlcStore(db),
        game,
        vault,
        events,
        presence_days=lambda guild_id: settings.get(guild_id).erlc_presence_days,
        calls_wanted=lambda guild_id: settings.get(guild_id).erlc_calls_to_cad,
        on_duty=on_duty,
        clock=clock,
        webhook_base_url=webhook_base_url if webhook_base_url is not None else config.web.public_base_url,
        rate_limits=rate_limits,
    )


def build_erlc_poller(config: Config, erlc: ErlcService, shards: ShardSet | None) -> ErlcPoller:
    section = config.erlc
    return ErlcPoller(
        erlc,
        erlc.events,
        shards=shards,
        fast_seconds=section.poll_fast_seconds,
        seconds=section.poll_seconds,
        slow_seconds=section.poll_slow_seconds,
        max_backoff_seconds=section.poll_max_backoff_seconds,
        concurrency=section.poll_concurrency,
        first_spread_seconds=section.first_poll_spread_seconds,
    )


def build_services(
    config: Config,
    db: Database,
    northca: NorthcaClient,
    *,
    clock: Callable[[], int] = now_ms,
    game: GameServerPort | None = None,
    game_rate_limits: Callable[[], str | None] | None = None,
    ports: Ports | None = None,
    foreground: Foreground | None = None,
) -> Services:
    """Every service of the bot. `clock` (epoch ms) is the one clock of every service and background worker
        (shifts and their sync, auto-end, reports, leave, reminders, leases, dispatch, settings, retention, the ER:LC
        link and its poller): tests inject one and move it; nothing below reads the wall clock on its own. `game`: the
        PRC client (None: ER:LC answers that the game is not reachable). `ports`: how the core reaches the outside
    (bot/core/ports.py; the bot gives the Discord front door's), handed here and nowhere else; none: the workers that
    need one claim nothing."""
    ports = ports if ports is not None else Ports()
    # Several processes on one database, each running its own shards (docs/scaling.md).
    sharded = config.discord.shard_count is not None
    # The guilds whose scheduled work is this process's (None: every guild).
    shards = ShardSet.of(config.discord)
    events = EventHub()
    settings = build_settings_service(config, db, events, clock)
    links = LinkService(LinkStore(db, clock), northca)
    profiles = ProfileStore(db, clock)
    # The audited admin changes (time edits, leave decisions, roster assignments) on the hub, from either front door.
    changes = ChangeNotices(events.changes)
    leave = LeaveService(LeaveStore(db), settings, clock, changes)
    # Approved leave may hold members back from going on duty (the guild's leave_blocks_duty).
    shifts = build_shift_service(
        db, links, profiles, northca, config.shifts, events, settings, duty_gate=leave, clock=clock
    )
    duty = DutyService(DutyStore(db), clock, changes)
    leave_worker = LeaveWorker(leave, shards=shards, roles=ports.leave_roles)
    reports = ActivityReporter(
        duty, settings, owned_guilds(settings.guild_ids, config.discord), clock=clock, publisher=ports.reports
    )
    # `foreground`: the front door's count of interactions waiting for a first answer; the writes go after them.
    worker = ShiftWorker(shifts, sole_process=not sharded, shards=shards, foreground=foreground)
    coalescer = UnitCoalescer(northca, config.status.batch_window_ms / 1000)
    unit_status = build_status_service(
        db, links, profiles, config.status, coalescer, events, shifts=shifts, settings=settings,
        sharded=sharded, clock=clock,
    )  # fmt: skip
    rosters = build_roster_service(db, clock, changes)
    # Sends nothing without its delivery (DMs need Discord).
    roster_reminders = RosterReminderWorker(rosters, settings.get, delivery=ports.reminders)
    dispatch = DispatchService(DispatchStore(db), links, profiles, unit_status, northca, clock=clock)
    # Several processes (sharded): settings another process changes reach this one's cache within seconds.
    watchers: list[Background] = [SettingsWatcher(settings)] if sharded else []
    # Scheduled work runs in one process only (of several on this database with the same shards): the one
    # holding the lease. Each process does it only for the guilds of its own shards (their members, roles and
    # channels are in its cache): reports, leave roles, reminders, the auto-end of long shifts, the retention purge.
    auto_end = ShiftAutoEnder(shifts, shards)
    retention = RetentionPurge(settings, shards, config.settings.purge_interval_seconds)
    erlc = build_erlc_service(
        config, db, game if game is not None else NoGameServer(), events, settings, shifts,
        clock=clock, rate_limits=game_rate_limits,
    )  # fmt: skip
    # Going on duty may need the member in game (erlc.in_game_required): after leave, the game's gate; a shift
    # started without a department takes the one mapped to the member's in-game team (erlc.team_departments).
    in_game = InGameGate(erlc.store, settings)
    shifts.duty_gate = DutyGates(leave, in_game)
    shifts.team_departments = in_game
    presence_prune = PresencePrune(erlc, shards, config.settings.purge_interval_seconds)
    erlc_calls = EmergencyCallRelay(erlc.store, dispatch, lambda guild_id: settings.get(guild_id).erlc_calls_to_cad)
    events.erlc_calls.subscribe(erlc_calls.on_call)
    # Units follow the game (callsign, and status when the server turned it on): looked at by the gamelock job.
    game_units = GameUnits(shifts, erlc.store, unit_status, profiles, settings)
    gamelock = Gamelock(shifts, erlc.store, settings, events, shards, units=game_units)
    scheduler = LeasedServices(
        LeaseStore(db),
        scheduler_lease_name(config.discord),
        [leave_worker, reports, roster_reminders, auto_end, retention, presence_prune, gamelock],
        clock=clock,
    )
    # ER:LC polling: only by the process owning the servers' shards, and of several with the same shards only by
    # the holder of their poller lease, so two processes never poll one server (each poll also claims it).
    erlc_poller = build_erlc_poller(config, erlc, shards)
    poller = LeasedServices(
        LeaseStore(db),
        scheduler_lease_name(config.discord).replace("scheduler", "erlc-poller", 1),
        [erlc_poller],
        clock=clock,
    )
    # The dashboard ([web] enabled) is mounted on it by the bot (bot/discord/bot.py), which builds it over these
    # services.
    web_port = config.web.listen_port
    web = (
        WebServer(
            config.web.host,
            web_port,
            webhook_routes(erlc, SignatureCheck(config.erlc.webhook_public_key, config.erlc.webhook_max_age_seconds)),
        )
        if web_port is not None
        else None
    )
    # The dispatch outbox is shared by every server: one process of all sends it (another takes over within the
    # lease when it dies; meanwhile the others' new entries wait for the holder's next pass, every 2 s).
    dispatch_outbox = LeasedServices(LeaseStore(db), "dispatch-outbox", [dispatch], clock=clock)
    # Unit statuses Northca has not acknowledged (after a restart, a refusal) are resent by one process of all
    # (unsharded: by the status service itself). Any process may send any MDT's units: they take turns per MDT.
    status_resend: list[Background] = (
        [LeasedServices(LeaseStore(db), "unit-status-resend", [unit_status.resender], clock=clock)] if sharded else []
    )
    notices = NoticeStore(db, clock)
    notice_relay = NoticeRelay(notices, settings, shards, duty=duty, leave=leave, rosters=rosters, changes=changes)
    return Services(
        events=events,
        ports=ports,
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
        erlc=erlc,
        erlc_poller=erlc_poller,
        erlc_calls=erlc_calls,
        gamelock=gamelock,
        history=GuildHistory(db),
        notices=notices,
        notice_relay=notice_relay,
        changes=changes,
        web=web,
        # Settings first (loaded before anything reads them). Links next (stopped late: cancels live link
        # checks still out); the status service after
        # the coalescer it feeds, so at shutdown it stops before the coalescer drains.
        background=[
            settings,
            *watchers,
            notice_relay,
            links,
            worker,
            coalescer,
            unit_status,
            *status_resend,
            scheduler,
            dispatch_outbox,
            poller,
            *([web] if web is not None else []),
        ],
    )
