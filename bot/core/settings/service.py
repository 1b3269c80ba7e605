"""Per-guild settings: read from memory, changed only through validated, audited, atomic edits.

`get(guild_id)` never touches the database: every guild's stored settings are loaded once at start
and kept in a cache, replaced on every change (each guild has a version, bumped per change, so a later
multi-process setup can invalidate across processes). A change is validated whole first, then written
with its audit rows in one transaction, then the cache is replaced and `SettingsChanged` is published.

Guild presence: when the bot leaves a guild it is marked left; its data is kept for `retention_days`
and then purged (`purge_expired`, run by bot/core/settings/retention.py); rejoining within that time clears the mark.
Deleting a guild's data marks it deleted, so other processes' caches drop it too (bot/core/settings/watch.py).
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, replace
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from bot.core.errors import Conflict, ErrorKind, InvalidInput
from bot.core.events import EventHub
from bot.core.parsing import database_id
from bot.core.settings.records import (
    DISCORD_ACTOR_ID,
    MAX_CODE,
    MAX_CODES,
    MAX_DEPARTMENT_NAME,
    MAX_DEPARTMENTS,
    MAX_LABEL,
    MAX_ROLE_QUOTAS,
    MAX_SUPERVISOR_ROLES,
    SETTING_KEYS,
    ActivityPeriod,
    AuditEntry,
    ButtonStyle,
    ChannelKind,
    Department,
    GuildSettings,
    Json,
    OffDutyPolicy,
    RoleKind,
    SettingsChanged,
    TenCode,
    WeekStart,
    apply_overrides,
    configured_channel_ids,
    configured_role_ids,
    from_json,
    to_json,
    without_ids,
)
from bot.core.settings.store import DELETION_MARK_KEEP_MS, SettingChange, SettingsStore, StaleSettings
from bot.core.sharding import ShardSet
from bot.core.timefmt import now_ms

log = logging.getLogger(__name__)

DAY_MS = 24 * 60 * 60 * 1000
MAX_ROSTER_REMINDER_MINUTES = 24 * 60
MAX_ERLC_PRESENCE_DAYS = 3650
MAX_GAMELOCK_MINUTES = 1440
# The in-game teams that are on duty (as the game names them); Civilian and Jail are not.
ERLC_DUTY_TEAMS = ("Police", "Sheriff", "Fire", "DOT")
# A month's activity period holds at most 744 hours.
MAX_QUOTA_HOURS = 744
_CODE_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ./-]*")


@dataclass(frozen=True)
class RoleFacts:
    """What the Discord side knows about a role being set (services never see discord.py objects)."""

    role_id: int
    name: str
    managed: bool = False
    is_everyone: bool = False
    # The role is at or above the bot's highest role: the bot cannot give or remove it.
    above_bot: bool = False


@dataclass(frozen=True)
class ChannelFacts:
    channel_id: int
    name: str
    # The permissions the bot lacks there, by their Discord names ("View Channel", ...).
    missing: tuple[str, ...] = ()


def _check_role(role: RoleFacts) -> None:
    if role.is_everyone:
        raise InvalidInput(ErrorKind.ROLE_EVERYONE)
    if role.managed:
        raise InvalidInput(ErrorKind.ROLE_MANAGED, role=role.name, role_id=role.role_id)
    if role.above_bot:
        raise InvalidInput(ErrorKind.ROLE_TOO_HIGH, role=role.name, role_id=role.role_id)


def _check_quota_role(role: RoleFacts) -> None:
    """A quota role is only read (never given), so managed roles are fine; @everyone is not a role to owe hours."""
    if role.is_everyone:
        raise InvalidInput(ErrorKind.QUOTA_ROLE_EVERYONE)


def _check_presence_days(days: int) -> None:
    if not 1 <= days <= MAX_ERLC_PRESENCE_DAYS:
        raise InvalidInput(ErrorKind.PRESENCE_DAYS_RANGE, least=1, most=MAX_ERLC_PRESENCE_DAYS)


def _check_gamelock_minutes(minutes: int) -> None:
    if not 0 <= minutes <= MAX_GAMELOCK_MINUTES:
        raise InvalidInput(ErrorKind.GAMELOCK_MINUTES_RANGE, least=1, most=MAX_GAMELOCK_MINUTES)


def _check_channel(channel: ChannelFacts) -> None:
    if channel.missing:
        raise InvalidInput(
            ErrorKind.CHANNEL_PERMISSIONS_MISSING, channel_id=channel.channel_id, missing=channel.missing
        )


def _clean_name(what: str, raw: str, limit: int) -> str:
    value = " ".join((raw or "").split())
    if not value:
        raise InvalidInput(ErrorKind.TEXT_EMPTY, field=what)
    if len(value) > limit:
        raise InvalidInput(ErrorKind.TEXT_TOO_LONG, field=what, length=len(value), most=limit)
    return value


def check_code(code: str) -> str:
    """A 10-code as typed, cleaned: `10-8`, `Code 4`; InvalidInput saying what a code may hold."""
    clean = _clean_name("code", code, MAX_CODE)
    if not _CODE_PATTERN.fullmatch(clean):
        raise InvalidInput(ErrorKind.CODE_MALFORMED)
    return clean


def check_timezone(name: str) -> str:
    value = (name or "").strip()
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a key naming an unreadable file
        raise InvalidInput(ErrorKind.UNKNOWN_TIME_ZONE, zone=value[:60]) from None
    return value


_ZONES: list[str] = []


def timezone_choices(current: str, limit: int = 25) -> list[str]:
    """IANA time zones for autocomplete: those containing the typed text, those starting with it first."""
    if not _ZONES:
        _ZONES.extend(sorted(available_timezones()))
    text = (current or "").strip().lower().replace(" ", "_")
    matches = [z for z in _ZONES if text in z.lower()]
    matches.sort(key=lambda z: (not z.lower().startswith(text), z))
    return matches[:limit]


# How many times a change is validated again on a state re-read after another process changed the guild first.
STALE_RETRIES = 5


class SettingsService:
    def __init__(
        self,
        store: SettingsStore,
        defaults: GuildSettings,
        events: EventHub,
        *,
        protected_codes: tuple[str, ...] = (),
        retention_days: float = 30,
        clock: Callable[[], int] = now_ms,
    ) -> None:
        self.store = store
        self.defaults = replace(defaults, defaults=None)
        self.events = events
        # The codes /shift start and /shift end set ([status] on_duty_code, off_duty_code): never removed.
        self.protected_codes = protected_codes
        self.retention_ms = int(retention_days * DAY_MS)
        self.clock = clock
        self._cache: dict[int, GuildSettings] = {}
        # Per guild, the audit mark (SettingsStore.audit_mark) of the stored state the cache holds: a change is
        # written only while it is still the guild's mark, i.e. no other process changed the guild meanwhile.
        self._marks: dict[int, int] = {}
        self._lock = asyncio.Lock()  # one change at a time: each validates against the state it replaces
        self._deliveries: set[asyncio.Task[None]] = set()

    # --- reading -------------------------------------------------------------------------------------
    def get(self, guild_id: int) -> GuildSettings:
        """The guild's settings, from memory (no database trip)."""
        cached = self._cache.get(guild_id)
        if cached is None:
            cached = apply_overrides(self.defaults, guild_id, {}, 0)
            self._cache[guild_id] = cached
        return cached

    def guild_ids(self) -> list[int]:
        """The guilds whose settings are loaded (every guild that changed one; the scheduled reports' round)."""
        return list(self._cache)

    def shortest_max_shift_hours(self) -> float:
        """The shortest maximum shift length of any guild (the auto-end sweep's first cut)."""
        return min([self.defaults.max_shift_hours, *(s.max_shift_hours for s in self._cache.values())])

    async def load(self) -> None:
        """Reads every guild's stored settings into the cache (at start)."""
        marks = await self.store.audit_marks()  # before the settings (SettingsStore.audit_marks)
        stored = await self.store.load_all()
        self._marks = marks
        self._cache = {
            guild_id: apply_overrides(self.defaults, guild_id, overrides, 1) for guild_id, overrides in stored.items()
        }

    async def reload(self, guild_id: int) -> GuildSettings:
        """Re-reads one guild from the database (for cross-process invalidation)."""
        version = self.get(guild_id).version + 1
        mark = await self.store.audit_mark(guild_id)  # before the settings (SettingsStore.audit_marks)
        self._cache[guild_id] = apply_overrides(self.defaults, guild_id, await self.store.load(guild_id), version)
        self._marks[guild_id] = mark
        return self._cache[guild_id]

    async def history(self, guild_id: int, *, limit: int = 10, offset: int = 0) -> tuple[list[AuditEntry], int]:
        """The latest audit entries (newest first) and how many there are in all."""
        return await self.store.history(guild_id, limit=limit, offset=offset), await self.store.history_count(guild_id)

    # --- changing ------------------------------------------------------------------------------------
    async def _change(
        self, guild_id: int, actor_id: int, edit: Callable[[GuildSettings], GuildSettings]
    ) -> GuildSettings:
        async with self._lock:
            for _ in range(STALE_RETRIES):
                current = self.get(guild_id)
                wanted = edit(current)  # validates; raises InvalidInput before anything is written
                changes = [
                    SettingChange(
                        key,
                        to_json(key, current.value(key)),
                        to_json(key, wanted.value(key)),
                        wanted.value(key) == self.defaults.value(key),
                    )
                    for key in SETTING_KEYS
                    if wanted.value(key) != current.value(key)
                ]
                if not changes:
                    return current
                try:
                    mark = await self.store.apply(
                        guild_id, actor_id, self.clock(), changes, seen_mark=self._marks.get(guild_id, 0)
                    )
                except StaleSettings:
                    # Another process changed the guild since our cache was read: validate again on its state.
                    await self.reload(guild_id)
                    continue
                updated = replace(wanted, version=current.version + 1)
                self._cache[guild_id] = updated
                self._marks[guild_id] = mark
                break
            else:
                raise Conflict(ErrorKind.SETTINGS_RACED)
        self._publish(SettingsChanged(guild_id, tuple(c.key for c in changes), updated, actor_id, previous=current))
        return updated

    async def changed_elsewhere(
        self, guild_id: int, keys: tuple[str, ...], actor_id: int, before: Mapping[str, Json]
    ) -> GuildSettings:
        """A change another process made (the dashboard's own process, bot/core/notices.py): the guild re-read, and the
        change published here as if made here, with who made it and the values before."""
        updated = await self.reload(guild_id)
        known = tuple(k for k in keys if k in SETTING_KEYS)
        previous = updated
        for key in known:
            previous = previous.with_value(key, from_json(key, before.get(key)))
        self._publish(SettingsChanged(guild_id, known, updated, actor_id, previous=previous))
        return updated

    def _publish(self, event: SettingsChanged) -> None:
        """Immediate subscribers at once (panels marked stale); the awaited ones (the shift-log line) in the
        background, so an admin's answer never waits for another channel's post."""
        self.events.settings.publish_now(event)
        if self.events.settings.has_subscribers:
            task = asyncio.get_running_loop().create_task(self.events.settings.deliver(event), name="settings-changed")
            self._deliveries.add(task)
            task.add_done_callback(self._deliveries.discard)

    async def drain(self) -> None:
        """Wait for the deliveries already started (tests, shutdown)."""
        while self._deliveries:
            await asyncio.gather(*list(self._deliveries), return_exceptions=True)

    async def set_channel(
        self, guild_id: int, actor_id: int, kind: ChannelKind, channel: ChannelFacts | None
    ) -> GuildSettings:
        """Sets (or, with None, clears) a channel; refused when the bot cannot post there."""
        if channel is not None:
            _check_channel(channel)
        value = channel.channel_id if channel is not None else None
        return await self._change(guild_id, actor_id, lambda s: s.with_value(f"channel.{kind}", value))

    async def set_role(
        self, guild_id: int, actor_id: int, kind: RoleKind, role: RoleFacts, *, remove: bool = False
    ) -> GuildSettings:
        """Sets (or removes) a role; supervisor roles are a list (added to, removed from)."""
        if not remove:
            _check_role(role)

        def edit(s: GuildSettings) -> GuildSettings:
            if kind == "supervisor":
                roles = [r for r in s.supervisor_role_ids if r != role.role_id]
                if remove and len(roles) == len(s.supervisor_role_ids):
                    raise InvalidInput(ErrorKind.NOT_A_SUPERVISOR_ROLE, role=role.name, role_id=role.role_id)
                if not remove:
                    roles.append(role.role_id)
                    if len(roles) > MAX_SUPERVISOR_ROLES:
                        raise InvalidInput(ErrorKind.TOO_MANY_SUPERVISOR_ROLES, most=MAX_SUPERVISOR_ROLES)
                return replace(s, supervisor_role_ids=tuple(roles))
            key = f"role.{kind}"
            if remove:
                if s.value(key) != role.role_id:
                    raise InvalidInput(ErrorKind.NOT_THE_ROLE, role=role.name, role_id=role.role_id, slot=kind)
                return s.with_value(key, None)
            return s.with_value(key, role.role_id)

        return await self._change(guild_id, actor_id, edit)

    async def add_department(
        self,
        guild_id: int,
        actor_id: int,
        name: str,
        role: RoleFacts | None = None,
        quota_hours: float | None = None,
    ) -> GuildSettings:
        clean = _clean_name("department name", name, MAX_DEPARTMENT_NAME)
        if role is not None:
            _check_role(role)
        if quota_hours is not None and not 0 <= quota_hours <= 168:
            raise InvalidInput(ErrorKind.DEPARTMENT_QUOTA_RANGE, least=0, most=168)

        def edit(s: GuildSettings) -> GuildSettings:
            if s.department(clean) is not None:
                raise InvalidInput(ErrorKind.DEPARTMENT_EXISTS, name=clean)
            if len(s.departments) >= MAX_DEPARTMENTS:
                raise InvalidInput(ErrorKind.TOO_MANY_DEPARTMENTS, most=MAX_DEPARTMENTS)
            dept = Department(clean, role.role_id if role is not None else None, quota_hours)
            return replace(s, departments=(*s.departments, dept))

        return await self._change(guild_id, actor_id, edit)

    async def remove_department(self, guild_id: int, actor_id: int, name: str) -> GuildSettings:
        def edit(s: GuildSettings) -> GuildSettings:
            found = s.department((name or "").strip())
            if found is None:
                raise InvalidInput(ErrorKind.NO_SUCH_DEPARTMENT, name=(name or "").strip()[:60])
            return replace(s, departments=tuple(d for d in s.departments if d is not found))

        return await self._change(guild_id, actor_id, edit)

    async def add_code(
        self, guild_id: int, actor_id: int, code: str, label: str, style: ButtonStyle = "secondary"
    ) -> GuildSettings:
        clean_code = check_code(code)
        clean_label = _clean_name("label", label, MAX_LABEL)

        def edit(s: GuildSettings) -> GuildSettings:
            if s.code(clean_code) is not None:
                raise InvalidInput(ErrorKind.CODE_EXISTS, code=clean_code)
            if len(s.codes) >= MAX_CODES:
                raise InvalidInput(ErrorKind.TOO_MANY_CODES, most=MAX_CODES)
            order = max((c.order for c in s.codes), default=-1) + 1
            return replace(s, codes=(*s.codes, TenCode(clean_code, clean_label, style, order)))

        return await self._change(guild_id, actor_id, edit)

    async def remove_code(self, guild_id: int, actor_id: int, code: str) -> GuildSettings:
        def edit(s: GuildSettings) -> GuildSettings:
            found = s.code((code or "").strip())
            if found is None:
                raise InvalidInput(ErrorKind.NO_SUCH_CODE, code=(code or "").strip()[:20])
            if found.code in self.protected_codes:
                raise InvalidInput(ErrorKind.CODE_PROTECTED, code=found.code)
            if len(s.codes) == 1:
                raise InvalidInput(ErrorKind.LAST_CODE)
            return replace(s, codes=tuple(c for c in s.codes if c is not found))

        return await self._change(guild_id, actor_id, edit)

    async def set_shifts(
        self,
        guild_id: int,
        actor_id: int,
        *,
        max_hours: float | None = None,
        timezone: str | None = None,
        week_start: WeekStart | None = None,
        off_duty: OffDutyPolicy | None = None,
        activity_period: ActivityPeriod | None = None,
        leave_blocks_duty: bool | None = None,
    ) -> GuildSettings:
        if max_hours is not None and not 0 < max_hours <= 72:
            raise InvalidInput(ErrorKind.MAX_SHIFT_HOURS_RANGE, most=72)
        zone = check_timezone(timezone) if timezone is not None else None
        given: dict[str, object] = {
            "max_shift_hours": max_hours,
            "timezone": zone,
            "week_start": week_start,
            "off_duty": off_duty,
            "activity_period": activity_period,
            "leave_blocks_duty": leave_blocks_duty,
        }

        def edit(s: GuildSettings) -> GuildSettings:
            for key, value in given.items():
                if value is not None:
                    s = s.with_value(key, value)
            return s

        return await self._change(guild_id, actor_id, edit)

    async def set_roster_reminder_minutes(self, guild_id: int, actor_id: int, minutes: int) -> GuildSettings:
        """How long before a scheduled shift its members are reminded (audited like any change)."""
        if not 1 <= minutes <= MAX_ROSTER_REMINDER_MINUTES:
            raise InvalidInput(ErrorKind.REMINDER_MINUTES_RANGE, least=1, most=MAX_ROSTER_REMINDER_MINUTES)
        return await self._change(guild_id, actor_id, lambda s: s.with_value("roster.reminder_minutes", minutes))

    async def set_erlc_presence_days(self, guild_id: int, actor_id: int, days: int) -> GuildSettings:
        """How long the ER:LC presence history is kept (audited like any change)."""
        _check_presence_days(days)
        return await self._change(guild_id, actor_id, lambda s: s.with_value("erlc.presence_days", days))

    async def set_erlc_game(
        self,
        guild_id: int,
        actor_id: int,
        *,
        presence_days: int,
        calls_to_cad: bool,
        in_game_required: bool,
        gamelock_minutes: int,
        auto_duty: bool,
        status_from_game: bool | None = None,
        quota_in_game: bool | None = None,
    ) -> GuildSettings:
        """The game's settings of one form (the dashboard's), each checked as its own setter checks it, saved
        together in one audited change: a value refused changes none of them."""
        _check_presence_days(presence_days)
        _check_gamelock_minutes(gamelock_minutes)
        if auto_duty and gamelock_minutes <= 0:
            raise InvalidInput(ErrorKind.AUTO_DUTY_NEEDS_GAMELOCK)
        wanted = {
            "erlc.presence_days": presence_days,
            "erlc.calls_to_cad": calls_to_cad,
            "erlc.in_game_required": in_game_required,
            "erlc.gamelock_minutes": gamelock_minutes,
            "erlc.auto_duty": auto_duty,
        }
        # None: left as it is (a form that does not show the switch).
        if status_from_game is not None:
            wanted["erlc.status_from_game"] = status_from_game
        if quota_in_game is not None:
            wanted["erlc.quota_in_game"] = quota_in_game

        def edit(s: GuildSettings) -> GuildSettings:
            for key, value in wanted.items():
                s = s.with_value(key, value)
            return s

        return await self._change(guild_id, actor_id, edit)

    async def set_erlc_calls_to_cad(self, guild_id: int, actor_id: int, enabled: bool) -> GuildSettings:
        """Whether in-game emergency calls become CAD calls on the linked MDT (audited like any change)."""
        return await self._change(guild_id, actor_id, lambda s: s.with_value("erlc.calls_to_cad", enabled))

    async def set_erlc_in_game_required(self, guild_id: int, actor_id: int, required: bool) -> GuildSettings:
        """Whether going on duty needs the member in the game server now (audited like any change)."""
        return await self._change(guild_id, actor_id, lambda s: s.with_value("erlc.in_game_required", required))

    async def set_erlc_gamelock_minutes(self, guild_id: int, actor_id: int, minutes: int) -> GuildSettings:
        """Gamelock's grace: how long a member on duty may be out of the game (0: off). Audited like any change."""
        _check_gamelock_minutes(minutes)

        def edit(s: GuildSettings) -> GuildSettings:
            if minutes == 0 and s.erlc_auto_duty:
                raise InvalidInput(ErrorKind.GAMELOCK_NEEDED_BY_AUTO_DUTY)
            return s.with_value("erlc.gamelock_minutes", minutes)

        return await self._change(guild_id, actor_id, edit)

    async def set_erlc_status_from_game(self, guild_id: int, actor_id: int, enabled: bool) -> GuildSettings:
        """Whether the game sets the unit status of members on duty (audited like any change)."""
        return await self._change(guild_id, actor_id, lambda s: s.with_value("erlc.status_from_game", enabled))

    async def set_erlc_quota_in_game(self, guild_id: int, actor_id: int, enabled: bool) -> GuildSettings:
        """Whether quotas count the time in game during shifts instead of the duty time (audited like any change)."""
        return await self._change(guild_id, actor_id, lambda s: s.with_value("erlc.quota_in_game", enabled))

    async def set_erlc_auto_duty(self, guild_id: int, actor_id: int, enabled: bool) -> GuildSettings:
        """Automatic shifts from the game (audited like any change); they need gamelock, which ends them."""

        def edit(s: GuildSettings) -> GuildSettings:
            if enabled and s.erlc_gamelock_minutes <= 0:
                raise InvalidInput(ErrorKind.AUTO_DUTY_NEEDS_GAMELOCK)
            return s.with_value("erlc.auto_duty", enabled)

        return await self._change(guild_id, actor_id, edit)

    async def set_erlc_team_department(
        self, guild_id: int, actor_id: int, team: str, department: str | None
    ) -> GuildSettings:
        """Maps an in-game duty team to one of the server's departments, or (None) removes its mapping."""
        game_team = next((t for t in ERLC_DUTY_TEAMS if t.lower() == team.strip().lower()), None)
        if game_team is None:
            raise InvalidInput(ErrorKind.UNKNOWN_GAME_TEAM, teams=ERLC_DUTY_TEAMS)

        def edit(s: GuildSettings) -> GuildSettings:
            others = tuple(p for p in s.erlc_team_departments if p[0] != game_team)
            if department is None:
                if len(others) == len(s.erlc_team_departments):
                    raise InvalidInput(ErrorKind.TEAM_NOT_MAPPED, team=game_team)
                return replace(s, erlc_team_departments=others)
            found = s.department(department.strip())
            if found is None:
                raise InvalidInput(
                    ErrorKind.NOT_A_DEPARTMENT, name=department.strip()[:40], departments=tuple(s.department_names)
                )
            return replace(s, erlc_team_departments=(*others, (game_team, found.name)))

        return await self._change(guild_id, actor_id, edit)

    async def set_role_quota(self, guild_id: int, actor_id: int, role: RoleFacts, hours: float | None) -> GuildSettings:
        """Sets the hours a role's members owe per activity period, or (None) removes the role's quota."""
        if hours is not None:
            _check_quota_role(role)
            if not 0 < hours <= MAX_QUOTA_HOURS:
                raise InvalidInput(ErrorKind.QUOTA_HOURS_RANGE, most=MAX_QUOTA_HOURS)

        def edit(s: GuildSettings) -> GuildSettings:
            others = tuple(q for q in s.role_quotas if q[0] != role.role_id)
            if hours is None:
                if len(others) == len(s.role_quotas):
                    raise InvalidInput(ErrorKind.ROLE_HAS_NO_QUOTA, role=role.name, role_id=role.role_id)
                return replace(s, role_quotas=others)
            if len(others) >= MAX_ROLE_QUOTAS:
                raise InvalidInput(ErrorKind.TOO_MANY_ROLE_QUOTAS, most=MAX_ROLE_QUOTAS)
            return replace(s, role_quotas=(*others, (role.role_id, float(hours))))

        return await self._change(guild_id, actor_id, edit)

    async def reset(self, guild_id: int, actor_id: int) -> GuildSettings:
        """Every setting back to the config-file default (audited like any change)."""
        return await self._change(
            guild_id, actor_id, lambda s: replace(self.defaults, guild_id=guild_id, defaults=self.defaults)
        )

    # --- roles and channels deleted in Discord ------------------------------------------------------------
    async def forget_deleted(
        self, guild_id: int, *, role_ids: Collection[int] = (), channel_ids: Collection[int] = ()
    ) -> tuple[str, ...]:
        """Removes roles and channels deleted in Discord from every setting holding them, audited as Discord's
        change (DISCORD_ACTOR_ID) and versioned like any change, so other processes' caches follow; the keys
        changed (none when no setting held them)."""
        if not role_ids and not channel_ids:
            return ()
        keys = await self._remove_ids(guild_id, DISCORD_ACTOR_ID, role_ids, channel_ids)
        if keys:
            log.info(
                "guild %s: roles %s / channels %s were deleted in Discord: removed from %s",
                guild_id,
                sorted(role_ids),
                sorted(channel_ids),
                ", ".join(keys),
            )
        return keys

    async def remove_role_everywhere(self, guild_id: int, actor_id: int, role_text: str) -> tuple[str, ...]:
        """An admin removes a role (by id: it may be deleted in Discord, so no role option can name it) from
        every setting holding it; the keys changed."""
        role_id = database_id(role_text.strip())
        if role_id is None or role_id not in configured_role_ids(self.get(guild_id)):
            raise InvalidInput(ErrorKind.NO_SETTING_HOLDS_ROLE, role_id=role_id)
        return await self._remove_ids(guild_id, actor_id, (role_id,), ())

    async def _remove_ids(
        self, guild_id: int, actor_id: int, role_ids: Collection[int], channel_ids: Collection[int]
    ) -> tuple[str, ...]:
        before = self.get(guild_id)
        after = await self._change(guild_id, actor_id, lambda s: without_ids(s, role_ids, channel_ids))
        return tuple(k for k in SETTING_KEYS if after.value(k) != before.value(k))

    async def forget_missing(
        self, guild_id: int, present_role_ids: Collection[int], present_channel_ids: Collection[int]
    ) -> tuple[str, ...]:
        """At guild availability: removes the configured roles and channels the guild no longer has (deleted
        while the bot was offline). Only settings an admin changed are looked at: a config-file default names
        one server's ids and is not "deleted" in the others. An empty role list (a guild not really loaded;
        every guild has @everyone) changes nothing."""
        if not present_role_ids:
            return ()
        settings = self.get(guild_id)
        dead_roles = configured_role_ids(settings, changed_only=True) - set(present_role_ids)
        dead_channels = configured_channel_ids(settings, changed_only=True) - set(present_channel_ids)
        return await self.forget_deleted(guild_id, role_ids=dead_roles, channel_ids=dead_channels)

    # --- presence and retention -----------------------------------------------------------------------
    async def guild_left(self, guild_id: int) -> None:
        await self.store.mark_left(guild_id, self.clock())
        log.info("guild %s left: its data is kept for %d days", guild_id, self.retention_ms // DAY_MS)

    async def guild_joined(self, guild_id: int) -> bool:
        """True when the guild came back within retention (its settings were kept)."""
        restored = await self.store.mark_present(guild_id)
        if restored:
            log.info("guild %s rejoined within retention: its settings are restored", guild_id)
        return restored

    async def delete_guild_data(self, guild_id: int, actor_id: int | None = None) -> Mapping[str, int]:
        """Deletes all of the guild's data (settings, audit, links, shifts, statuses, profiles, panels)."""
        deleted = await self._delete_guild_data(guild_id, actor_id)
        assert deleted is not None  # unconditional
        return deleted

    async def _delete_guild_data(
        self, guild_id: int, actor_id: int | None, *, left_before_ms: int | None = None
    ) -> Mapping[str, int] | None:
        """None: nothing deleted (the guild came back since `left_before_ms`; see SettingsStore.delete_guild)."""
        async with self._lock:
            deleted = await self.store.delete_guild(guild_id, self.clock(), left_before_ms=left_before_ms)
            if deleted is None:
                return None
            self._cache.pop(guild_id, None)
            self._marks.pop(guild_id, None)  # its audit went with it: mark 0
            fresh = self.get(guild_id)
        log.info("guild %s: all data deleted (by %s): %s", guild_id, actor_id or "retention", dict(deleted))
        self._publish(SettingsChanged(guild_id, SETTING_KEYS, fresh, actor_id, deleted=True))
        return deleted

    async def purge_expired(self, shards: ShardSet | None = None) -> list[int]:
        """Deletes the data of every guild (of `shards`; None: every guild) the bot left more than the retention
        time ago, and forgets deletion marks every process has seen (bot/core/settings/retention.py runs it)."""
        purged = []
        cutoff = self.clock() - self.retention_ms
        for guild_id in await self.store.left_before(cutoff, shards):
            if await self._delete_guild_data(guild_id, None, left_before_ms=cutoff) is not None:
                purged.append(guild_id)
        await self.store.prune_deletion_marks(self.clock() - DELETION_MARK_KEEP_MS)
        return purged

    async def start(self) -> None:
        await self.load()

    async def stop(self) -> None:
        await self.drain()


def audit_value(value: Json) -> str:
    """An audit value in a line of text (for history and the shift-log line)."""
    if value is None:
        return "—"
    return str(value)
