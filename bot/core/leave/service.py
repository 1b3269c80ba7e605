"""Leave of absence without Discord: requests, decisions (never by the requester), early ends, who is on
leave (for quotas and the on-duty block), and the on-leave role's give/take-back, each exactly once.

Dates are whole local days in the guild's time zone: a leave from 2026-12-01 to 2026-12-03 runs from local
midnight on the 1st to local midnight after the 3rd.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import date, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo

from bot.core.audit import audit_source
from bot.core.changes import ChangeNotices
from bot.core.duty.periods import local_midnight
from bot.core.errors import Conflict, ErrorKind, InvalidInput, MissingPermission
from bot.core.leave.records import Leave, LeaveDecided, RoleAction
from bot.core.leave.store import LeaveStore
from bot.core.polling import PollingService
from bot.core.settings.records import SettingsSource
from bot.core.sharding import ShardSet
from bot.core.timefmt import from_ms, now_ms

log = logging.getLogger(__name__)

MAX_LEAVE_DAYS = 180
MAX_REASON_CHARS = 300
# How far ahead a leave may start.
MAX_AHEAD_DAYS = 365


class RoleApplier(Protocol):
    """The port that gives or takes back a role (the Discord front door)."""

    async def apply_role(self, action: RoleAction) -> bool:
        """Gives (`action.kind == "give"`) or takes back the role `action.role_id` of the leave's member. False: it
        could not be applied here now (the guild is not in this process's cache yet, e.g. right after a start), so
        the claim is given back and the next round tries again."""
        ...


def parse_day(text: str, today: date) -> date:
    """YYYY-MM-DD, "today" or "tomorrow"."""
    value = (text or "").strip().lower()
    if value == "today":
        return today
    if value == "tomorrow":
        return today + timedelta(days=1)
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidInput(ErrorKind.LEAVE_NOT_A_DATE, text=value[:30], today=today) from None


class LeaveService:
    def __init__(
        self, store: LeaveStore, settings: SettingsSource, clock: Callable[[], int] = now_ms,
        changes: ChangeNotices | None = None,
    ) -> None:  # fmt: skip
        self.store = store
        self.settings = settings
        self.clock = clock
        # Every decision published (the shift log in Discord shows the dashboard's too).
        self.changes = changes if changes is not None else ChangeNotices(None)

    def _zone(self, guild_id: int) -> ZoneInfo:
        return ZoneInfo(self.settings.get(guild_id).timezone)

    async def request(self, guild_id: int, member_id: int, start: str, end: str, reason: str) -> Leave:
        zone = self._zone(guild_id)
        now = self.clock()
        today = from_ms(now).astimezone(zone).date()
        first, last = parse_day(start, today), parse_day(end, today)
        why = " ".join((reason or "").split())
        if not why:
            raise InvalidInput(ErrorKind.LEAVE_REASON_MISSING)
        if len(why) > MAX_REASON_CHARS:
            raise InvalidInput(ErrorKind.LEAVE_REASON_TOO_LONG, length=len(why), most=MAX_REASON_CHARS)
        if first < today:
            raise InvalidInput(ErrorKind.LEAVE_START_PAST, start=first, today=today)
        if last < first:
            raise InvalidInput(ErrorKind.LEAVE_END_BEFORE_START, start=first, end=last)
        days = (last - first).days + 1
        if days > MAX_LEAVE_DAYS:
            raise InvalidInput(ErrorKind.LEAVE_TOO_LONG, days=days, most=MAX_LEAVE_DAYS)
        if (first - today).days > MAX_AHEAD_DAYS:
            raise InvalidInput(ErrorKind.LEAVE_TOO_FAR_AHEAD, most=MAX_AHEAD_DAYS)
        start_ms, end_ms = local_midnight(first, zone), local_midnight(last + timedelta(days=1), zone)
        leave, inserted = await self.store.insert_unless_overlapping(
            str(uuid.uuid4()), guild_id, member_id, start_ms, end_ms, why, now
        )
        if not inserted:
            raise Conflict(ErrorKind.LEAVE_OVERLAPS, status=leave.status, leave_id=leave.id, number=leave.number)
        log.info("leave: %s asked for leave %s in guild %s (%s to %s)", member_id, leave.id, guild_id, first, last)
        return leave

    async def decide(self, guild_id: int, leave_id: str, actor_id: int, *, approve: bool) -> Leave:
        leave = await self.store.get(guild_id, leave_id)
        if leave is None:
            raise InvalidInput(ErrorKind.LEAVE_UNKNOWN)
        if leave.member_id == actor_id:
            raise MissingPermission(ErrorKind.LEAVE_OWN_DECISION)
        done = await self.store.decide(guild_id, leave_id, "approved" if approve else "denied", actor_id, self.clock())
        if done is None:
            raise Conflict(ErrorKind.LEAVE_ALREADY_DECIDED, status=leave.status)
        log.info("leave: %s %s leave %s of %s in guild %s (%s)", actor_id, done.status, leave_id, leave.member_id,
                 guild_id, audit_source())  # fmt: skip
        self.changes.publish(LeaveDecided(guild_id, done, actor_id, audit_source()))
        return done

    async def end(self, guild_id: int, member_id: int, actor_id: int, *, supervisor: bool) -> Leave:
        """Ends the member's current (or else next) approved leave now."""
        if member_id != actor_id and not supervisor:
            raise MissingPermission(ErrorKind.LEAVE_END_OTHERS)
        now = self.clock()
        mine = [x for x in await self.store.listed(guild_id, now, member_id) if x.status == "approved"]
        if not mine:
            raise Conflict(ErrorKind.LEAVE_NONE_TO_END, member_id=member_id, own=member_id == actor_id)
        done = await self.store.end_early(guild_id, mine[0].id, actor_id, now)
        if done is None:
            raise Conflict(ErrorKind.LEAVE_JUST_ENDED)
        log.info("leave: %s ended leave %s of %s in guild %s early", actor_id, done.id, member_id, guild_id)
        return done

    async def listed(self, guild_id: int) -> list[Leave]:
        """Current and upcoming leave (approved and pending), soonest first."""
        return await self.store.listed(guild_id, self.clock())

    async def on_leave_between(self, guild_id: int, start_ms: int, end_ms: int) -> set[int]:
        """Members with approved leave at any time in [start, end): exempt from that period's quota."""
        return await self.store.members_on_leave(guild_id, start_ms, end_ms)

    async def excused(self, guild_id: int, start_ms: int, end_ms: int) -> set[int]:
        """Roster attendance's question (bot.rosters.leave.ExcusedSource): who was on approved leave then."""
        return await self.on_leave_between(guild_id, start_ms, end_ms)

    async def blocking_reason(self, guild_id: int, member_id: int) -> Conflict | None:
        """Why the member may not go on duty now (approved leave, when the server blocks it), or None."""
        if not self.settings.get(guild_id).leave_blocks_duty:
            return None
        now = self.clock()
        for leave in await self.store.listed(guild_id, now, member_id):
            if leave.current(now):
                return Conflict(ErrorKind.ON_LEAVE, until_ms=leave.end_ms, leave_id=leave.id)
        return None

    async def due_role_actions(self, shards: ShardSet | None = None) -> list[RoleAction]:
        """Claims what is due now (in the guilds of `shards`; None: every guild): removals first (a member whose
        leave ended), then gives."""
        now = self.clock()
        removals = await self.store.claim_removals(now, shards)
        gives = await self.store.claim_gives(now, shards)
        actions = []
        for leave in removals:
            setting = self.settings.get(leave.guild_id).on_leave_role_id
            role_id = leave.role_to_take_back(setting)
            # Another current leave of the same member that gave the same role keeps it.
            others = await self.store.listed(leave.guild_id, now, leave.member_id)
            if not any(x.current(now) and x.role_to_take_back(setting) == role_id for x in others):
                actions.append(RoleAction("remove", leave, role_id))
        for leave in gives:
            # The role as set now is the one given, recorded first: the end takes back this one, whatever the
            # setting says by then (a role set mid-leave is not given to who is already on leave).
            role_id = self.settings.get(leave.guild_id).on_leave_role_id
            await self.store.record_given_role(leave.id, role_id)
            actions.append(RoleAction("give", leave, role_id))
        return actions


class LeaveWorker(PollingService):
    """Gives and takes back the on-leave role when leave starts and ends (a background service).

    Each action is claimed in the database first, so it happens once across restarts, late when the bot was
    down. The front door's `RoleApplier` port (bot/core/ports.py) acts; without it, nothing is claimed. With several
    processes only the actions of the guilds of this process's `shards` are claimed: giving a role needs the guild
    in the cache.
    """

    name = "leave-roles"

    def __init__(
        self,
        service: LeaveService,
        interval_seconds: float = 30.0,
        shards: ShardSet | None = None,
        roles: RoleApplier | None = None,
    ) -> None:
        super().__init__(interval_seconds)
        self.service = service
        self.shards = shards
        self.roles = roles

    async def run_once(self) -> int:
        roles = self.roles
        if roles is None:
            return 0
        actions = await self.service.due_role_actions(self.shards)
        for action in actions:
            try:
                applied = await roles.apply_role(action)
            except Exception:
                log.exception("leave: %s of the on-leave role for leave %s failed", action.kind, action.leave.id)
                continue
            if not applied:
                await self.service.store.unclaim_role_action(action.leave.id, action.kind)
        return len(actions)
