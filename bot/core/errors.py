"""The one family of errors a person is told about: facts, never sentences.

Every error the core refuses with is a `UserFacingError` carrying a `kind` (`ErrorKind`: what went wrong) and its
`data` (ids, numbers, dates, names: what it went wrong with). The core writes no English and no Discord markup
here; each front door words every kind in one place (the Discord one: `bot/error_text.py`, `error_text(exc)`,
used by the one error handler in `bot/discord/interactions.py`), so the web front door words the same kinds its own way.
`str(exc)` is for logs: the kind and its data.

The classes say which sort of refusal it is (bad input, a conflict with the current state, a missing permission);
the kind says which one. A front door's own refusal (a sentence it already words, e.g. a form that took too long)
is `InvalidInput.said(text)` / `Conflict.said(text)`: kind `SAID`, which the core never uses
(tests/docs/test_core_words.py fails when it does).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from enum import StrEnum
from types import MappingProxyType
from typing import Any, Self

# What an error's data may hold: facts a front door words, never a sentence.
Fact = int | float | str | bool | date | datetime | tuple[str, ...] | tuple[int, ...] | None


class ErrorKind(StrEnum):
    """Every refusal the core can answer with. Each has its wording in every front door (`bot/error_text.py`);
    tests/cogs/test_error_words.py fails when one has none."""

    # A front door's own sentence (data: text). Never raised by the core.
    SAID = "said"
    # General
    NOT_LINKED = "not_linked"
    GUILD_ONLY = "guild_only"
    DATABASE_UNAVAILABLE = "database_unavailable"  # maybe_applied
    BUTTON_NO_LONGER_VALID = "button_no_longer_valid"  # why
    # Departments
    UNKNOWN_DEPARTMENT = "department.unknown"  # value, names
    # Profiles and callsigns
    CALLSIGN_EMPTY = "profile.callsign_empty"
    CALLSIGN_TOO_LONG = "profile.callsign_too_long"  # most
    CALLSIGN_MALFORMED = "profile.callsign_malformed"
    PROFILE_FIELD_TOO_LONG = "profile.field_too_long"  # field, most
    CALLSIGN_TAKEN = "profile.callsign_taken"  # callsign
    CALLSIGN_NEEDED = "profile.callsign_needed"
    # Links (guild <-> MDT)
    MDT_ID_EMPTY = "link.mdt_id_empty"
    MDT_ID_TOO_LONG = "link.mdt_id_too_long"  # length, most
    MDT_ID_MALFORMED = "link.mdt_id_malformed"
    LINK_CHANGED_WHILE_SENT = "link.changed_while_sent"  # meanwhile, now_mdt_id
    ALREADY_LINKED_SAME = "link.already_linked_same"  # mdt_id
    ALREADY_LINKED_OTHER = "link.already_linked_other"  # mdt_id
    LINK_REQUEST_NOT_CURRENT = "link.request_not_current"
    LINK_OWNER_UNKNOWN = "link.owner_unknown"
    LINK_OWNER_ONLY = "link.owner_only"  # owner_id
    LINK_REQUEST_EXPIRED = "link.request_expired"
    LINK_REQUEST_DENIED = "link.request_denied"
    LINK_APPROVED_BUT_CHANGED = "link.approved_but_changed"  # mdt_id, meanwhile, now_mdt_id
    UNLINK_CHANGED = "link.unlink_changed"  # mdt_id, status
    UNLINK_CHANGED_MEANWHILE = "link.unlink_changed_meanwhile"  # meanwhile, now_mdt_id
    # Shifts
    ALREADY_ON_DUTY = "shift.already_on_duty"  # started
    NO_BREAK_OFF_DUTY = "shift.no_break_off_duty"
    NOT_ON_DUTY = "shift.not_on_duty"  # member_id (None: the person acting)
    SHIFT_NOT_PENDING = "shift.not_pending"
    # Duty time
    NO_SUCH_SHIFT = "duty.no_such_shift"  # shift_id
    SHIFT_STILL_OPEN = "duty.shift_still_open"
    SHIFT_ALREADY_VOIDED = "duty.shift_already_voided"
    PAGE_LINK_INVALID = "duty.page_link_invalid"
    DURATION_TOO_SHORT = "duty.duration_too_short"
    ADJUSTMENT_TOO_LARGE = "duty.adjustment_too_large"  # most_ms
    REASON_MISSING = "duty.reason_missing"
    REASON_TOO_LONG = "duty.reason_too_long"  # length, most
    NOT_A_DURATION = "duty.not_a_duration"  # text
    # Unit status
    UNKNOWN_STATUS_CODE = "status.unknown_code"  # value, known
    OFF_DUTY_STATUS = "status.off_duty"  # code, label
    # Leave
    LEAVE_NOT_A_DATE = "leave.not_a_date"  # text, today
    LEAVE_REASON_MISSING = "leave.reason_missing"
    LEAVE_REASON_TOO_LONG = "leave.reason_too_long"  # length, most
    LEAVE_START_PAST = "leave.start_past"  # start
    LEAVE_END_BEFORE_START = "leave.end_before_start"  # start, end
    LEAVE_TOO_LONG = "leave.too_long"  # days, most
    LEAVE_TOO_FAR_AHEAD = "leave.too_far_ahead"  # most
    LEAVE_OVERLAPS = "leave.overlaps"  # status, leave_id
    LEAVE_UNKNOWN = "leave.unknown"
    LEAVE_OWN_DECISION = "leave.own_decision"
    LEAVE_ALREADY_DECIDED = "leave.already_decided"  # status
    LEAVE_END_OTHERS = "leave.end_others"
    LEAVE_NONE_TO_END = "leave.none_to_end"  # member_id, own
    LEAVE_JUST_ENDED = "leave.just_ended"
    ON_LEAVE = "leave.on_leave"  # until
    # Rosters
    ROSTER_START_INVALID = "roster.start_invalid"  # text
    ROSTER_DURATION_INVALID = "roster.duration_invalid"  # text
    ROSTER_DAYS_INVALID = "roster.days_invalid"  # part
    ROSTER_DATE_INVALID = "roster.date_invalid"  # field, text
    ROSTER_NAME_EMPTY = "roster.name_empty"
    ROSTER_NAME_TOO_LONG = "roster.name_too_long"  # most, length
    ROSTER_START_OUT_OF_RANGE = "roster.start_out_of_range"
    ROSTER_DURATION_OUT_OF_RANGE = "roster.duration_out_of_range"
    ROSTER_NO_DAYS = "roster.no_days"
    ROSTER_UNTIL_BEFORE_FROM = "roster.until_before_from"  # valid_from, valid_until
    ROSTER_UNKNOWN_ZONE = "roster.unknown_zone"  # zone
    ROSTER_NAME_TAKEN = "roster.name_taken"  # name
    ROSTER_TOO_MANY = "roster.too_many"  # most
    ROSTER_NO_SUCH_TEMPLATE = "roster.no_such_template"
    ROSTER_OCCURRENCE_OVER = "roster.occurrence_over"
    # Dispatch
    DISPATCH_BAD_DATE_TIME = "dispatch.bad_date_time"
    PANIC_COOLING_DOWN = "dispatch.panic_cooling_down"  # wait_seconds
    PANIC_UNKNOWN = "dispatch.panic_unknown"
    PANIC_CLEAR_NOT_ALLOWED = "dispatch.panic_clear_not_allowed"
    PANIC_ALREADY_CLEARED = "dispatch.panic_already_cleared"
    PANIC_RESPOND_CLEARED = "dispatch.panic_respond_cleared"
    PANIC_RESPOND_OWN = "dispatch.panic_respond_own"
    FIELDS_EMPTY = "dispatch.fields_empty"  # fields
    CALL_UNKNOWN = "dispatch.call_unknown"
    CALL_CLOSE_NOT_ALLOWED = "dispatch.call_close_not_allowed"
    CALL_CLOSED = "dispatch.call_closed"
    # Settings: what a setter refuses and why
    ROLE_EVERYONE = "settings.role_everyone"
    ROLE_MANAGED = "settings.role_managed"  # role
    ROLE_TOO_HIGH = "settings.role_too_high"  # role
    QUOTA_ROLE_EVERYONE = "settings.quota_role_everyone"
    CHANNEL_PERMISSIONS_MISSING = "settings.channel_permissions_missing"  # channel_id, missing
    TEXT_EMPTY = "settings.text_empty"  # field
    TEXT_TOO_LONG = "settings.text_too_long"  # field, length, most
    CODE_MALFORMED = "settings.code_malformed"
    UNKNOWN_TIME_ZONE = "settings.unknown_time_zone"  # zone
    SETTINGS_RACED = "settings.raced"
    NOT_A_SUPERVISOR_ROLE = "settings.not_a_supervisor_role"  # role
    TOO_MANY_SUPERVISOR_ROLES = "settings.too_many_supervisor_roles"  # most
    NOT_THE_ROLE = "settings.not_the_role"  # role, slot
    DEPARTMENT_QUOTA_RANGE = "settings.department_quota_range"  # most
    DEPARTMENT_EXISTS = "settings.department_exists"  # name
    TOO_MANY_DEPARTMENTS = "settings.too_many_departments"  # most
    NO_SUCH_DEPARTMENT = "settings.no_such_department"  # name
    CODE_EXISTS = "settings.code_exists"  # code
    TOO_MANY_CODES = "settings.too_many_codes"  # most
    NO_SUCH_CODE = "settings.no_such_code"  # code
    CODE_PROTECTED = "settings.code_protected"  # code
    LAST_CODE = "settings.last_code"
    MAX_SHIFT_HOURS_RANGE = "settings.max_shift_hours_range"  # most
    REMINDER_MINUTES_RANGE = "settings.reminder_minutes_range"  # most
    PRESENCE_DAYS_RANGE = "settings.presence_days_range"  # most
    GAMELOCK_MINUTES_RANGE = "settings.gamelock_minutes_range"  # most
    GAMELOCK_NEEDED_BY_AUTO_DUTY = "settings.gamelock_needed_by_auto_duty"
    AUTO_DUTY_NEEDS_GAMELOCK = "settings.auto_duty_needs_gamelock"
    UNKNOWN_GAME_TEAM = "settings.unknown_game_team"  # teams
    TEAM_NOT_MAPPED = "settings.team_not_mapped"  # team
    NOT_A_DEPARTMENT = "settings.not_a_department"  # name, departments
    QUOTA_HOURS_RANGE = "settings.quota_hours_range"  # most
    ROLE_HAS_NO_QUOTA = "settings.role_has_no_quota"  # role
    TOO_MANY_ROLE_QUOTAS = "settings.too_many_role_quotas"  # most
    NO_SETTING_HOLDS_ROLE = "settings.no_setting_holds_role"
    # ER:LC
    ERLC_KEYS_NOT_CONFIGURED = "erlc.keys_not_configured"
    ERLC_KEY_EMPTY = "erlc.key_empty"
    ERLC_KEY_MALFORMED = "erlc.key_malformed"
    ERLC_IMPORT_LINE_MALFORMED = "erlc.import_line_malformed"  # line
    ERLC_IMPORT_ID_RANGE = "erlc.import_id_range"  # line
    ERLC_IMPORT_DUPLICATE = "erlc.import_duplicate"  # line
    ERLC_IMPORT_TOO_MANY = "erlc.import_too_many"  # most
    ERLC_IMPORT_EMPTY = "erlc.import_empty"
    ERLC_NOT_CONNECTED = "erlc.not_connected"
    ERLC_NOT_CONNECTED_CONNECT_FIRST = "erlc.not_connected_connect_first"
    ERLC_NO_PUBLIC_ADDRESS = "erlc.no_public_address"
    ERLC_ROBLOX_NAME_MALFORMED = "erlc.roblox_name_malformed"
    ERLC_CODE_NOT_MADE = "erlc.code_not_made"
    ERLC_ROBLOX_ID_MALFORMED = "erlc.roblox_id_malformed"
    ERLC_NO_LINK = "erlc.no_link"  # own
    ERLC_ROBLOX_TAKEN_BY = "erlc.roblox_taken_by"  # member_id
    ERLC_ROBLOX_TAKEN = "erlc.roblox_taken"
    ERLC_NOT_VERIFIED = "erlc.not_verified"
    ERLC_GAME_NOT_CONNECTED = "erlc.game_not_connected"
    ERLC_NOT_IN_GAME = "erlc.not_in_game"


class UserFacingError(Exception):
    """A refusal a person is told about: its `kind` and `data`, worded by the front door."""

    def __init__(self, kind: ErrorKind, /, **data: Fact) -> None:
        super().__init__(f"{kind.value} {data}" if data else kind.value)
        self.kind = kind
        self.data: Mapping[str, Any] = MappingProxyType(data)

    @classmethod
    def said(cls, text: str) -> Self:
        """A front door's own refusal, already worded (never used by the core)."""
        return cls(ErrorKind.SAID, text=text)


class NotLinked(UserFacingError):
    def __init__(self) -> None:
        super().__init__(ErrorKind.NOT_LINKED)


class MissingPermission(UserFacingError):
    """The person may not do this (checked again on every button press)."""


class InvalidInput(UserFacingError):
    """Bad input, caught before any call was made; nothing was changed."""


class Conflict(UserFacingError):
    """The action does not fit the current state (already on duty, no open shift, …)."""


class GuildOnly(UserFacingError):
    def __init__(self) -> None:
        super().__init__(ErrorKind.GUILD_ONLY)
