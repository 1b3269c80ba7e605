"""What one guild's settings are: typed, frozen values, their defaults, and their stored (JSON) form.

A guild starts from the config file's values ([shifts], [status]); every setting it changes is stored
under its key. `GuildSettings.is_default(key)` says whether a setting still holds the config default.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, replace
from typing import Any, Literal, Protocol, get_args

from bot.config import Config, ShiftConfig, StatusConfig

ButtonStyle = Literal["primary", "secondary", "success", "danger"]
OffDutyPolicy = Literal["prompt", "allow"]
WeekStart = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
ActivityPeriod = Literal["weekly", "biweekly", "monthly"]
ChannelKind = Literal["shift-log", "reports", "alerts", "dispatch"]
RoleKind = Literal["on-duty", "on-break", "supervisor", "on-leave", "responder"]

WEEK_DAYS: tuple[WeekStart, ...] = get_args(WeekStart)
BUTTON_STYLES: tuple[ButtonStyle, ...] = get_args(ButtonStyle)
CHANNEL_KINDS: tuple[ChannelKind, ...] = get_args(ChannelKind)
ROLE_KINDS: tuple[RoleKind, ...] = get_args(RoleKind)

MAX_CODES = 25  # a status panel holds at most 25 buttons (5 rows of 5)
MAX_DEPARTMENTS = 25  # an autocomplete answer holds at most 25 choices
MAX_DEPARTMENT_NAME = 40
MAX_CODE = 16
MAX_LABEL = 40  # a button label stays readable (Discord allows 80)
MAX_SUPERVISOR_ROLES = 10
MAX_ROLE_QUOTAS = 25


@dataclass(frozen=True)
class Department:
    name: str
    role_id: int | None = None
    quota_hours: float | None = None


@dataclass(frozen=True)
class TenCode:
    code: str
    label: str
    style: ButtonStyle = "secondary"
    order: int = 0


@dataclass(frozen=True)
class GuildSettings:
    """One guild's settings. `defaults` are the config-file values it started from (None for the defaults
    themselves); `version` counts the guild's changes (for invalidation across processes later)."""

    guild_id: int
    shift_log_channel_id: int | None = None
    reports_channel_id: int | None = None
    alerts_channel_id: int | None = None
    dispatch_channel_id: int | None = None
    on_duty_role_id: int | None = None
    on_break_role_id: int | None = None
    on_leave_role_id: int | None = None
    responder_role_id: int | None = None
    supervisor_role_ids: tuple[int, ...] = ()
    departments: tuple[Department, ...] = ()
    codes: tuple[TenCode, ...] = ()
    max_shift_hours: float = 12.0
    off_duty: OffDutyPolicy = "prompt"
    timezone: str = "UTC"
    week_start: WeekStart = "monday"
    activity_period: ActivityPeriod = "weekly"
    leave_blocks_duty: bool = False
    role_quotas: tuple[tuple[int, float], ...] = ()
    roster_reminder_minutes: int = 30
    # How long the ER:LC presence history (joins, leaves, team and callsign changes) is kept.
    erlc_presence_days: int = 90
    # In-game emergency calls become CAD calls on the linked MDT (issue 23, point 8): off until an admin says so.
    erlc_calls_to_cad: bool = False
    # /shift start and the panel's On duty button refuse a member who is not in the game server now (bot/erlc/duty.py).
    erlc_in_game_required: bool = False
    # In-game team -> one of the server's departments: a shift started by a member in game on a mapped team
    # carries that department unless the member chose one.
    erlc_team_departments: tuple[tuple[str, str], ...] = ()
    # Gamelock: a member on duty out of the game longer than this has the shift ended when they left (0: off).
    erlc_gamelock_minutes: int = 0
    # Automatic shifts: a verified member joining a duty team in game goes on duty (needs gamelock, which ends them).
    erlc_auto_duty: bool = False
    version: int = 0
    defaults: GuildSettings | None = field(default=None, compare=False, repr=False)

    def team_department(self, team: str | None) -> str | None:
        """The department mapped to an in-game team (None: not mapped, or no longer one of the departments)."""
        for mapped_team, name in self.erlc_team_departments:
            if team is not None and mapped_team.lower() == team.lower():
                found = self.department(name)
                return found.name if found is not None else None
        return None

    @property
    def department_names(self) -> list[str]:
        return [d.name for d in self.departments]

    def department(self, name: str | None) -> Department | None:
        for d in self.departments:
            if name is not None and d.name.lower() == name.lower():
                return d
        return None

    def code(self, code: str) -> TenCode | None:
        for c in self.codes:
            if c.code.lower() == code.lower():
                return c
        return None

    def channel_id(self, kind: ChannelKind) -> int | None:
        value: int | None = getattr(self, CHANNEL_FIELDS[kind])
        return value

    def value(self, key: str) -> object:
        return getattr(self, KEY_FIELDS[key])

    def is_default(self, key: str) -> bool:
        base = self.defaults if self.defaults is not None else self
        return bool(self.value(key) == base.value(key))

    def with_value(self, key: str, value: object) -> GuildSettings:
        # The value's type follows the key (to_json/from_json keep them paired); replace takes it as given.
        changes: dict[str, Any] = {KEY_FIELDS[key]: value}
        return replace(self, **changes)


# Stored key -> GuildSettings field. The key is what the audit and /settings show name.
KEY_FIELDS: dict[str, str] = {
    "channel.shift-log": "shift_log_channel_id",
    "channel.reports": "reports_channel_id",
    "channel.alerts": "alerts_channel_id",
    "channel.dispatch": "dispatch_channel_id",
    "role.on-duty": "on_duty_role_id",
    "role.on-break": "on_break_role_id",
    "role.on-leave": "on_leave_role_id",
    "role.responder": "responder_role_id",
    "role.supervisor": "supervisor_role_ids",
    "departments": "departments",
    "codes": "codes",
    "max_shift_hours": "max_shift_hours",
    "off_duty": "off_duty",
    "timezone": "timezone",
    "week_start": "week_start",
    "activity_period": "activity_period",
    "leave_blocks_duty": "leave_blocks_duty",
    "role_quotas": "role_quotas",
    "roster.reminder_minutes": "roster_reminder_minutes",
    "erlc.presence_days": "erlc_presence_days",
    "erlc.calls_to_cad": "erlc_calls_to_cad",
    "erlc.in_game_required": "erlc_in_game_required",
    "erlc.team_departments": "erlc_team_departments",
    "erlc.gamelock_minutes": "erlc_gamelock_minutes",
    "erlc.auto_duty": "erlc_auto_duty",
}
# What /settings show, the history and the dashboard call each setting (and each audited ER:LC action).
SETTING_LABELS: dict[str, str] = {
    "channel.shift-log": "Shift-log channel",
    "channel.reports": "Reports channel",
    "channel.alerts": "Alerts channel",
    "channel.dispatch": "Dispatch channel",
    "role.on-duty": "On Duty role",
    "role.on-break": "On Break role",
    "role.on-leave": "On Leave role",
    "role.responder": "Responder role",
    "role.supervisor": "Supervisor roles",
    "departments": "Departments",
    "codes": "10-codes",
    "max_shift_hours": "Maximum shift length",
    "off_duty": "Status while off duty",
    "timezone": "Time zone",
    "week_start": "First day of the week",
    "activity_period": "Activity period",
    "leave_blocks_duty": "Leave blocks duty",
    "role_quotas": "Role quotas",
    "roster.reminder_minutes": "Roster reminder lead time",
    "erlc.presence_days": "ER:LC presence history kept",
    "erlc.calls_to_cad": "ER:LC emergency calls to the CAD",
    "erlc.in_game_required": "In game required for duty",
    "erlc.team_departments": "ER:LC teams to departments",
    "erlc.gamelock_minutes": "Gamelock (off duty after leaving the game)",
    "erlc.auto_duty": "Automatic shifts from the game",
    # Audited ER:LC actions (bot/erlc/store.py), shown in /settings history.
    "erlc.server": "ER:LC server",
    "erlc.link": "ER:LC member link",
    "erlc.webhook": "ER:LC webhook URL",
}
SETTING_KEYS: tuple[str, ...] = tuple(KEY_FIELDS)
CHANNEL_FIELDS: dict[ChannelKind, str] = {k: KEY_FIELDS[f"channel.{k}"] for k in CHANNEL_KINDS}
SINGLE_ROLE_KINDS: tuple[RoleKind, ...] = ("on-duty", "on-break", "on-leave", "responder")

Json = None | bool | int | float | str | list["Json"] | dict[str, "Json"]


def to_json(key: str, value: object) -> Json:
    """A setting's value in its stored form (plain JSON types)."""
    if key == "departments":
        assert isinstance(value, tuple)
        return [{"name": d.name, "role_id": d.role_id, "quota_hours": d.quota_hours} for d in value]
    if key == "codes":
        assert isinstance(value, tuple)
        return [{"code": c.code, "label": c.label, "style": c.style, "order": c.order} for c in value]
    if key == "role_quotas":
        assert isinstance(value, tuple)
        return [[role_id, hours] for role_id, hours in value]
    if key == "role.supervisor":
        assert isinstance(value, tuple)
        return list(value)
    if key == "erlc.team_departments":
        assert isinstance(value, tuple)
        return {team: department for team, department in value}
    assert value is None or isinstance(value, (bool, int, float, str))
    return value


def from_json(key: str, data: Json) -> object:
    """The typed value of a stored setting (the inverse of `to_json`)."""
    if key == "departments":
        assert isinstance(data, list)
        return tuple(
            Department(str(d["name"]), _opt_int(d.get("role_id")), _opt_float(d.get("quota_hours")))
            for d in data
            if isinstance(d, dict)
        )
    if key == "codes":
        assert isinstance(data, list)
        return tuple(
            TenCode(str(c["code"]), str(c["label"]), _style(c.get("style")), int(_num(c.get("order"))))
            for c in data
            if isinstance(c, dict)
        )
    if key == "role_quotas":
        assert isinstance(data, list)
        return tuple((int(_num(p[0])), float(_num(p[1]))) for p in data if isinstance(p, list))
    if key == "role.supervisor":
        assert isinstance(data, list)
        return tuple(int(_num(r)) for r in data)
    if key == "erlc.team_departments":
        assert isinstance(data, dict)
        return tuple((str(team), str(department)) for team, department in data.items() if isinstance(department, str))
    if key in ("erlc.in_game_required", "erlc.auto_duty"):
        return bool(data)
    if key == "max_shift_hours":
        return float(_num(data))
    if key in ("roster.reminder_minutes", "erlc.presence_days", "erlc.gamelock_minutes"):
        return int(_num(data))
    return data


def _num(value: Json) -> float:
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    raise ValueError(f"not a number: {value!r}")


def _opt_int(value: Json) -> int | None:
    return None if value is None else int(_num(value))


def _opt_float(value: Json) -> float | None:
    return None if value is None else float(_num(value))


def _style(value: Json) -> ButtonStyle:
    for style in BUTTON_STYLES:
        if value == style:
            return style
    return "secondary"


def defaults_from_config(config: Config) -> GuildSettings:
    """The settings a new guild starts from: the config file's [shifts] and [status] values."""
    return defaults_from(config.shifts, config.status)


def defaults_from(shifts: ShiftConfig, status: StatusConfig) -> GuildSettings:
    return GuildSettings(
        guild_id=0,
        shift_log_channel_id=shifts.log_channel_id,
        on_duty_role_id=shifts.on_duty_role_id,
        supervisor_role_ids=tuple(shifts.supervisor_role_ids),
        departments=tuple(Department(name) for name in shifts.departments),
        codes=tuple(TenCode(c.code, c.label, c.style, i) for i, c in enumerate(status.codes)),
        max_shift_hours=shifts.max_shift_hours,
        off_duty=status.off_duty,
    )


def apply_overrides(
    defaults: GuildSettings, guild_id: int, overrides: Mapping[str, Json], version: int
) -> GuildSettings:
    """The guild's settings: the defaults with its stored values on top (unknown keys are ignored)."""
    settings = replace(defaults, guild_id=guild_id, version=version, defaults=defaults)
    for key, data in overrides.items():
        if key in KEY_FIELDS:
            settings = settings.with_value(key, from_json(key, data))
    return settings


@dataclass(frozen=True)
class AuditEntry:
    guild_id: int
    actor_id: int
    at_ms: int
    key: str
    old: Json
    new: Json


@dataclass(frozen=True)
class SettingsChanged:
    """A guild's settings changed (keys: what changed; all keys on reset); `settings` is the new state.
    `deleted`: the guild's data was deleted (by /settings delete-data or the retention purge)."""

    guild_id: int
    keys: tuple[str, ...]
    settings: GuildSettings
    actor_id: int | None = None
    deleted: bool = False
    previous: GuildSettings | None = None


class SettingsSource(Protocol):
    """Where a service reads a guild's settings (the SettingsService; StaticSettings without one)."""

    def get(self, guild_id: int) -> GuildSettings: ...

    def shortest_max_shift_hours(self) -> float: ...


class StaticSettings:
    """The same (config-file) settings for every guild: services built without a SettingsService."""

    def __init__(self, defaults: GuildSettings) -> None:
        self.defaults = replace(defaults, defaults=None)

    def get(self, guild_id: int) -> GuildSettings:
        return replace(self.defaults, guild_id=guild_id, defaults=self.defaults)

    def shortest_max_shift_hours(self) -> float:
        return self.defaults.max_shift_hours


# The audit's actor of a change Discord made: a role or channel deleted there, removed from the settings.
DISCORD_ACTOR_ID = 0


def configured_role_ids(settings: GuildSettings, *, changed_only: bool = False) -> set[int]:
    """Every role id a setting holds (`changed_only`: only in settings changed from the config default)."""

    def wanted(key: str) -> bool:
        return not (changed_only and settings.is_default(key))

    ids: set[int] = set()
    for kind in SINGLE_ROLE_KINDS:
        role_id = settings.value(f"role.{kind}")
        if isinstance(role_id, int) and wanted(f"role.{kind}"):
            ids.add(role_id)
    if wanted("role.supervisor"):
        ids.update(settings.supervisor_role_ids)
    if wanted("departments"):
        ids.update(d.role_id for d in settings.departments if d.role_id is not None)
    if wanted("role_quotas"):
        ids.update(role_id for role_id, _ in settings.role_quotas)
    return ids


def configured_channel_ids(settings: GuildSettings, *, changed_only: bool = False) -> set[int]:
    """Every channel id a setting holds (`changed_only`: only in settings changed from the config default)."""
    return {
        channel_id
        for kind in CHANNEL_KINDS
        if (channel_id := settings.channel_id(kind)) is not None
        and not (changed_only and settings.is_default(f"channel.{kind}"))
    }


def without_ids(settings: GuildSettings, role_ids: Collection[int], channel_ids: Collection[int]) -> GuildSettings:
    """The settings with every mention of the given roles and channels removed: a single role or channel is
    cleared, a list loses the entry, a department keeps its name but loses its role."""
    for kind in SINGLE_ROLE_KINDS:
        if settings.value(f"role.{kind}") in role_ids:
            settings = settings.with_value(f"role.{kind}", None)
    for channel_kind in CHANNEL_KINDS:
        channel_id = settings.channel_id(channel_kind)
        if channel_id is not None and channel_id in channel_ids:
            settings = settings.with_value(f"channel.{channel_kind}", None)
    return replace(
        settings,
        supervisor_role_ids=tuple(r for r in settings.supervisor_role_ids if r not in role_ids),
        departments=tuple(replace(d, role_id=None) if d.role_id in role_ids else d for d in settings.departments),
        role_quotas=tuple(q for q in settings.role_quotas if q[0] not in role_ids),
    )
