"""The shift lifecycle: start, break, end (by the officer, a supervisor, the maximum length, a
member leaving, the bot removed), totals, the list on Northca, and the supervisor's outbox.

Ending a shift commits it as "ended, awaiting sync" before anything else happens; the sync
engine (bot/core/shifts/sync.py) then sends it. Nothing here knows about Discord: events go out
through the hub (bot/core/events.py) to whoever subscribed.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.core.config import ShiftConfig, StatusConfig
from bot.core.departments import Departments
from bot.core.errors import Conflict, ErrorKind
from bot.core.events import EventHub
from bot.core.links import GuildLink, LinkService
from bot.core.profiles import ProfileStore, normalise_callsign, officer_name
from bot.core.settings.records import WEEK_DAYS, GuildSettings, SettingsSource, StaticSettings, defaults_from
from bot.core.sharding import ShardSet
from bot.core.shifts.notices import ShiftNotices
from bot.core.shifts.records import (
    Decision,
    DutyTotals,
    EndReason,
    GivenRoleKind,
    RemoteShifts,
    RoleChange,
    ShiftEventKind,
    ShiftRecord,
)
from bot.core.shifts.store import ShiftStore
from bot.core.shifts.sync import LOOKUP_LIMIT, ShiftSync
from bot.core.timefmt import duration_text, from_ms, now_ms, to_ms
from bot.northca.client import NorthcaClient
from bot.storage import INTEGRITY_ERRORS

log = logging.getLogger(__name__)


class DutyGate(Protocol):
    """Why a member may not go on duty now (bot.leave.LeaveService, bot.erlc.duty.InGameGate): the refusal, as a
    Conflict with its kind and data (the front door words it), or None."""

    async def blocking_reason(self, guild_id: int, member_id: int) -> Conflict | None: ...


class DutyGates:
    """Several gates as one: the first reason any of them gives (leave, then the game, as composed)."""

    def __init__(self, *gates: DutyGate) -> None:
        self.gates = gates

    async def blocking_reason(self, guild_id: int, member_id: int) -> Conflict | None:
        for gate in self.gates:
            reason = await gate.blocking_reason(guild_id, member_id)
            if reason is not None:
                return reason
        return None


class TeamDepartments(Protocol):
    """The department of the in-game team a member is on now (bot.erlc.duty.InGameGate), or None; and the member's
    callsign in game now (their unit for a shift they start without choosing one), or None."""

    async def team_department(self, guild_id: int, member_id: int) -> str | None: ...

    async def game_callsign(self, guild_id: int, member_id: int) -> str | None: ...


# The row of shift_roles marking a shift open before roles were recorded (migration 031).
LEGACY_ROLE_MARK = 0


def _role_kind(kind: str) -> GivenRoleKind:
    return "duty" if kind == "duty" else "department" if kind == "department" else "break"


class ShiftService:
    """The rules behind /shift. Times can be given (`at=`) so the maths can be tested exactly."""

    def __init__(
        self,
        store: ShiftStore,
        links: LinkService,
        profiles: ProfileStore,
        northca: NorthcaClient,
        config: ShiftConfig,
        sync: ShiftSync,
        notices: ShiftNotices,
        settings: SettingsSource | None = None,
        duty_gate: DutyGate | None = None,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.store = store
        # The one injected clock (epoch ms): every "now" of the shift rules and of their background work.
        self.clock = clock
        # Who may not go on duty now (approved leave, when the server blocks it); None: nobody is held back.
        self.duty_gate = duty_gate
        # The department of the member's in-game team (set by bot/ops/services.py once the ER:LC link is built).
        self.team_departments: TeamDepartments | None = None
        # Per-guild settings (departments, maximum length, time zone...); the config file's without a source.
        self.settings = settings if settings is not None else StaticSettings(defaults_from(config, StatusConfig()))
        self.links = links
        self.profiles = profiles
        self.northca = northca
        self.config = config
        self.sync = sync
        self.notices = notices

    @property
    def events(self) -> EventHub:
        """Where this service publishes (start, end: the duty topic; every event: the shifts topic)."""
        return self.notices.events

    async def drain(self, timeout: float = 10.0) -> None:
        """Wait for the event deliveries already started (tests, shutdown)."""
        await self.notices.drain(timeout)

    async def wait_for_sync(self, shift_id: str, timeout: float, *, since_ms: int = 0) -> ShiftRecord | None:
        """See ShiftSync.wait_for_sync."""
        return await self.sync.wait_for_sync(shift_id, timeout, since_ms=since_ms)

    def watch_sync(self, shift_id: str) -> AbstractContextManager[asyncio.Future[ShiftRecord]]:
        """See ShiftSync.watching: for the caller that just ended the shift (no read of it needed)."""
        return self.sync.watching(shift_id)

    async def verdict_within(self, verdict: asyncio.Future[ShiftRecord], timeout: float) -> ShiftRecord | None:
        """The watched verdict, or None if there is none within `timeout` seconds."""
        return await self.sync.verdict_within(verdict, timeout)

    # --- helpers ---

    def guild_settings(self, guild_id: int) -> GuildSettings:
        return self.settings.get(guild_id)

    # --- the duty roles (On Duty, the department's, On Break): what to give and take back ---

    async def role_changes(self, shift: ShiftRecord, event: ShiftEventKind) -> list[RoleChange]:
        """The roles a shift event gives or takes back. What a shift is given is recorded with it (in the database,
        `record_given_role`, before the role is given), and the end of the shift (of its break, for On Break) takes
        back exactly those, whatever the settings say by then; a role an admin sets mid-shift is not given to who is
        already on duty. A late start event for a shift already ended gives nothing."""
        if event not in ("start", "break", "end"):
            return []
        settings = self.guild_settings(shift.guild_id)
        if event == "start":
            wanted = self._roles_by_settings(settings, shift, with_break=False)
            if not wanted:
                return []  # no duty role in this server: nothing to read or give
            open_now = await self.store.open_for(shift.guild_id, shift.member_id)
            if open_now is None or open_now.id != shift.id:
                return []
            given = await self.store.given_roles(shift.id)
            return [RoleChange(role_id, True, kind) for role_id, kind in wanted.items() if role_id not in given]
        given = await self.store.given_roles(shift.id)
        # A shift open before roles were recorded (migration 031): its roles are the ones the settings name now.
        legacy = given.pop(LEGACY_ROLE_MARK, None) == "legacy"
        if event == "end":
            back = {role_id: _role_kind(kind) for role_id, kind in given.items()}
            if legacy:
                for role_id, kind in self._roles_by_settings(settings, shift, with_break=True).items():
                    back.setdefault(role_id, kind)
            return [RoleChange(role_id, False, kind) for role_id, kind in back.items()]
        open_now = await self.store.open_for(shift.guild_id, shift.member_id)
        if open_now is not None and open_now.id == shift.id and open_now.on_break:
            on_break = settings.on_break_role_id
            if on_break is None or on_break in given:
                return []
            return [RoleChange(on_break, True, "break")]
        breaks = {role_id for role_id, kind in given.items() if kind == "break"}
        if legacy and settings.on_break_role_id is not None:
            breaks.add(settings.on_break_role_id)
        return [RoleChange(role_id, False, "break") for role_id in breaks]

    @staticmethod
    def _roles_by_settings(
        settings: GuildSettings, shift: ShiftRecord, *, with_break: bool
    ) -> dict[int, GivenRoleKind]:
        roles: dict[int, GivenRoleKind] = {}
        if settings.on_duty_role_id is not None:
            roles[settings.on_duty_role_id] = "duty"
        department = settings.department(shift.department)
        if department is not None and department.role_id is not None:
            roles.setdefault(department.role_id, "department")
        if with_break and settings.on_break_role_id is not None:
            roles.setdefault(settings.on_break_role_id, "break")
        return roles

    async def record_given_role(self, shift_id: str, change: RoleChange) -> None:
        """Before giving the role: so the end takes it back even if this process dies right after."""
        await self.store.record_given_role(shift_id, change.role_id, change.kind)

    async def forget_given_role(self, shift_id: str, role_id: int) -> None:
        """After taking the role back (or when giving it failed)."""
        await self.store.forget_given_roles(shift_id, (role_id,))

    def departments(self, guild_id: int) -> list[str]:
        return self.department_rule(guild_id).names

    def department_rule(self, guild_id: int) -> Departments:
        """The guild's departments (from its settings: a change is seen at once)."""
        return Departments(self.settings.get(guild_id).department_names)

    def department_choices(self, guild_id: int, current: str, limit: int = 25) -> list[str]:
        return self.department_rule(guild_id).choices(current, limit)

    def match_department(self, guild_id: int, raw: str | None, *, strict: bool = True) -> str | None:
        """See Departments.match: the one rule, shared with /profile set."""
        return self.department_rule(guild_id).match(raw, strict=strict)

    def max_shift_ms(self, guild_id: int) -> int:
        return int(self.settings.get(guild_id).max_shift_hours * 3_600_000)

    async def next_auto_end_ms(self, shards: ShardSet | None = None) -> int | None:
        """When the next open shift (of the guilds of `shards`; None: every guild) reaches its guild's maximum
        length (None: no open shift)."""
        earliest = await self.store.earliest_open_start_per_guild(shards)
        return min((started + self.max_shift_ms(g) for g, started in earliest.items()), default=None)

    # --- lifecycle ---

    async def open_shift(self, guild_id: int, member_id: int) -> ShiftRecord | None:
        return await self.store.open_for(guild_id, member_id)

    async def open_in_guild(self, guild_id: int) -> list[ShiftRecord]:
        """Who is on duty now (the "On duty now" boards)."""
        return await self.store.open_in_guild(guild_id)

    async def start(
        self,
        guild_id: int,
        member_id: int,
        *,
        display_name: str,
        department: str | None = None,
        callsign: str | None = None,
        at: datetime | None = None,
        stored_link: GuildLink | None = None,
    ) -> ShiftRecord:
        """Open a shift. `stored_link`: the guild's link as the caller just read it (one read less); an approved one
        is used as is, anything else is checked again by LinkService.require_linked."""
        departments = self.department_rule(guild_id)  # once: the match below and the profile's default
        dept = departments.match(department)
        sign = normalise_callsign(callsign) if callsign is not None else None
        # No read of the open shift first: the insert itself leaves an open shift alone (and then says so below).
        if self.duty_gate is not None:
            refusal = await self.duty_gate.blocking_reason(guild_id, member_id)
            if refusal is not None:
                current = await self.store.open_for(guild_id, member_id)
                raise self._already_on_duty(current) if current is not None else refusal
        if stored_link is not None and stored_link.guild_id == guild_id and stored_link.approved:
            link = stored_link
        else:
            link = await self.links.require_linked(guild_id)
        profile = await self.profiles.get(guild_id, member_id)
        name = officer_name(member_id, profile.name, display_name)
        if dept is None and self.team_departments is not None:
            # Not chosen: the department of the team the member is on in game, before the profile's.
            dept = await self.team_departments.team_department(guild_id, member_id)
        # Not chosen: the member's callsign in game is the unit, before the profile's.
        game_sign = None
        if sign is None and self.team_departments is not None:
            game_sign = await self.team_departments.game_callsign(guild_id, member_id)
        started_ms = to_ms(at) if at else self.clock()
        try:
            shift = await self.store.insert_open(
                shift_id=str(uuid.uuid4()),
                guild_id=guild_id,
                member_id=member_id,
                mdt_id=link.mdt_id,
                officer_name=name,
                officer_badge=profile.badge,
                department=dept or departments.known(profile.department),
                callsign=sign or game_sign or profile.callsign,
                started_ms=started_ms,
            )
            if shift is None and game_sign is not None and game_sign != profile.callsign:
                # The in-game callsign is another officer's here: the profile's unit, as without the game.
                shift = await self.store.insert_open(
                    shift_id=str(uuid.uuid4()),
                    guild_id=guild_id,
                    member_id=member_id,
                    mdt_id=link.mdt_id,
                    officer_name=name,
                    officer_badge=profile.badge,
                    department=dept or self.department_rule(guild_id).known(profile.department),
                    callsign=profile.callsign,
                    started_ms=started_ms,
                )
        except INTEGRITY_ERRORS:
            # Two starts at once: the unique index let one through.
            current = await self.store.open_for(guild_id, member_id)
            if current is None:
                raise
            raise self._already_on_duty(current) from None
        if shift is None:
            # Nothing written: a start of the same member got in first, or the callsign is taken.
            current = await self.store.open_for(guild_id, member_id)
            if current is not None:
                raise self._already_on_duty(current)
            raise Conflict(ErrorKind.CALLSIGN_TAKEN, callsign=sign or profile.callsign, at_start=True)
        log.info("shift %s started: member %s in guild %s (%s)", shift.id, member_id, guild_id, shift.department)
        self.notices.emit("start", shift)
        return shift

    @staticmethod
    def _already_on_duty(shift: ShiftRecord) -> Conflict:
        return Conflict(ErrorKind.ALREADY_ON_DUTY, started_ms=shift.started_ms)

    async def toggle_break(self, guild_id: int, member_id: int, *, at: datetime | None = None) -> ShiftRecord:
        shift = await self.store.toggle_break(guild_id, member_id, to_ms(at) if at else self.clock())
        if shift is None:
            raise Conflict(ErrorKind.NO_BREAK_OFF_DUTY)
        log.info("shift %s: break %s", shift.id, "started" if shift.on_break else "ended")
        self.notices.emit("break", shift)  # the On Break role follows
        return shift

    async def end(
        self,
        guild_id: int,
        member_id: int,
        *,
        reason: EndReason = "member",
        ended_by: int | None = None,
        note: str | None = None,
        at: datetime | None = None,
    ) -> ShiftRecord:
        shift = await self.end_if_open(guild_id, member_id, reason=reason, ended_by=ended_by, note=note, at=at)
        if shift is None:
            if ended_by is not None and ended_by != member_id:
                raise Conflict(ErrorKind.NOT_ON_DUTY, member_id=member_id)
            raise Conflict(ErrorKind.NOT_ON_DUTY)
        return shift

    async def end_if_open(
        self,
        guild_id: int,
        member_id: int,
        *,
        reason: EndReason = "member",
        ended_by: int | None = None,
        note: str | None = None,
        at: datetime | None = None,
    ) -> ShiftRecord | None:
        now = self.clock()
        shift = await self.store.end_open(
            guild_id,
            member_id,
            end_ms=to_ms(at) if at else now,
            reason=reason,
            ended_by=ended_by,
            note=note,
            status=self.config.end_status,
            now=now,
        )
        if shift is not None:
            self._ended(shift)
        return shift

    def _ended(self, shift: ShiftRecord) -> None:
        if log.isEnabledFor(logging.INFO):  # its arguments are worked out before the call: not when nobody reads it
            log.info(
                "shift %s ended (%s%s): %s on duty, awaiting sync",
                shift.id,
                shift.end_reason,
                f" by {shift.ended_by}" if shift.ended_by and shift.ended_by != shift.member_id else "",
                duration_text(shift.duration_ms or 0),
            )
        # No auto-end wake-up: an ended shift can only make the next automatic end later, and the loop looks
        # again at its planned time anyway.
        self.sync.request()
        self.notices.emit("end", shift)

    async def end_all_in_guild(self, guild_id: int, reason: EndReason, note: str | None = None) -> list[ShiftRecord]:
        ended = []
        for shift in await self.store.open_in_guild(guild_id):
            now = self.clock()
            done = await self.store.end_by_id(
                shift.id, end_ms=now, reason=reason, ended_by=None, note=note, status=self.config.end_status, now=now
            )
            if done is not None:
                self._ended(done)
                ended.append(done)
        return ended

    async def auto_end_overdue(
        self, *, now: datetime | None = None, shards: ShardSet | None = None
    ) -> list[ShiftRecord]:
        """End every shift that reached its guild's maximum length, at exactly that length (only the guilds of
        `shards`: their shift log and On Duty role are this process's; None: every guild). Each end is one
        conditional UPDATE, so a shift ended meanwhile (by its member, or another process) is left alone."""
        current = to_ms(now) if now else self.clock()
        shortest = int(self.settings.shortest_max_shift_hours() * 3_600_000)
        ended = []
        for shift in await self.store.overdue_open(current - shortest, shards):
            limit = self.max_shift_ms(shift.guild_id)
            if shift.started_ms + limit > current:
                continue  # this guild allows longer shifts
            hours = self.settings.get(shift.guild_id).max_shift_hours
            done = await self.store.end_by_id(
                shift.id,
                end_ms=shift.started_ms + limit,
                reason="auto",
                ended_by=None,
                note=f"the maximum shift length ({hours:g} h) was reached",
                status=self.config.end_status,
                now=current,
            )
            if done is not None:
                self._ended(done)
                ended.append(done)
        return ended

    async def end_left_game(self, shift: ShiftRecord, left_ms: int, now: int) -> ShiftRecord | None:
        """Gamelock (bot/erlc/gamelock.py): ends the shift at the moment its member left the game (never before
        its start); one conditional UPDATE, so a shift ended meanwhile (here or by another process) is left alone."""
        done = await self.store.end_by_id(
            shift.id,
            end_ms=max(left_ms, shift.started_ms),
            reason="left_game",
            ended_by=None,
            note=None,
            status=self.config.end_status,
            now=now,
        )
        if done is not None:
            self._ended(done)
        return done

    async def totals(self, guild_id: int, member_id: int, *, now: datetime | None = None) -> DutyTotals:
        """On-duty time of shifts started today and this week (in the guild's time zone, weeks from its
        first day), the open shift counted up to now."""
        current = now or from_ms(self.clock())
        current_ms = to_ms(current)
        settings = self.settings.get(guild_id)
        day = current.astimezone(ZoneInfo(settings.timezone)).replace(hour=0, minute=0, second=0, microsecond=0)
        week = day - timedelta(days=(day.weekday() - WEEK_DAYS.index(settings.week_start)) % 7)
        today = await self.store.ended_duty_ms(guild_id, member_id, to_ms(day))
        this_week = await self.store.ended_duty_ms(guild_id, member_id, to_ms(week))
        open_shift = await self.store.open_for(guild_id, member_id)
        if open_shift is not None:
            running = open_shift.duty_ms(current_ms)
            if open_shift.started_ms >= to_ms(day):
                today += running
            if open_shift.started_ms >= to_ms(week):
                this_week += running
        return DutyTotals(today, this_week, day, week)

    # --- Northca ---

    async def list_remote(
        self,
        guild_id: int,
        actor_id: int | None,
        *,
        limit: int = 25,
        department: str | None = None,
        member_id: int | None = None,
    ) -> RemoteShifts:
        """The MDT's recent shifts, most recently updated first. Northca cannot filter by
        member, so for one member the newest 200 are fetched and filtered here. Records that
        do not parse are left out and counted."""
        link = await self.links.require_linked(guild_id)
        dept = self.match_department(guild_id, department, strict=False)
        fetch = LOOKUP_LIMIT if member_id is not None else max(1, min(LOOKUP_LIMIT, limit))
        window = await self.northca.list_shift_window(link.mdt_id, guild_id, actor_id, limit=fetch, department=dept)
        shifts = window.items
        if member_id is not None:
            shifts = [s for s in shifts if s.created_by_discord_id == str(member_id)]
        return RemoteShifts(shifts[:limit], window.skipped)

    async def outbox(self, guild_id: int, limit: int = 25) -> list[ShiftRecord]:
        return await self.store.outbox(guild_id, limit)

    async def decide(self, guild_id: int, shift_id: str, actor_id: int, decision: Decision) -> ShiftRecord:
        """A supervisor's decision about an unconfirmed shift: "send_anyway" (one write, even if
        the lookup cannot tell) or "on_northca" (marked synced, never written). Audited."""
        done = await self.store.decide_unconfirmed(guild_id, shift_id, actor_id, decision, self.clock())
        if done is None:
            raise Conflict(ErrorKind.SHIFT_NOT_PENDING)
        log.info(
            "audit: supervisor %s chose %s for shift %s of member %s in guild %s",
            actor_id,
            "Send anyway" if decision == "send_anyway" else "It is on Northca",
            shift_id,
            done.member_id,
            guild_id,
        )
        if decision == "send_anyway":
            self.sync.request()
        else:
            self.sync.verdict(done)
        return done

    async def retry(self, guild_id: int, shift_id: str | None = None) -> list[ShiftRecord]:
        """Send failed (and waiting) shifts again now, e.g. after the link was fixed."""
        mdt = await self.links.approved_mdt(guild_id)
        rows = await self.store.retry(guild_id, self.clock(), shift_id, mdt)
        if rows:
            log.info("retrying %d shifts of guild %s", len(rows), guild_id)
            self.sync.request()
        return rows
