"""The words of the core's facts: every error kind's sentence, and the markup it is written in.

The core (bot/core/errors.py) raises an `ErrorKind` with its data; this is the one place a front door's sentences for
them live. `error_text(exc)` words an error for Discord (mentions `<@id>`, channels `<#id>`, timestamps `<t:…>`,
slash-command names); `error_text(exc, PLAIN)` words the same error without Discord markup, for the web front
door (which may pass its own `Markup`, e.g. member names it looked up, links instead of command names).
`northca_text(exc)` words an error of Northca (the outside system's own typed family) the same way.
No discord.py here, so a front door other than Discord can import it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

from bot.core.errors import ErrorKind, UserFacingError
from bot.core.timefmt import duration_text, from_ms, utc_text
from bot.northca.errors import (
    NorthcaBadRequest,
    NorthcaError,
    NorthcaForbidden,
    NorthcaRateLimited,
    NorthcaUnauthorized,
)


def discord_ts(value: datetime, style: str = "R") -> str:
    """`<t:…:R>`: rendered by each reader's Discord client in their own time zone."""
    return f"<t:{int(value.timestamp())}:{style}>"


class Markup(Protocol):
    """How a front door writes the references inside a sentence."""

    def member(self, member_id: int) -> str: ...
    def channel(self, channel_id: int) -> str: ...
    def time(self, value: datetime, style: str) -> str: ...
    def command(self, name: str) -> str: ...


class DiscordMarkup:
    def member(self, member_id: int) -> str:
        return f"<@{member_id}>"

    def channel(self, channel_id: int) -> str:
        return f"<#{channel_id}>"

    def time(self, value: datetime, style: str) -> str:
        return discord_ts(value, style)

    def command(self, name: str) -> str:
        return f"/{name}"


class PlainMarkup:
    """Plain text: no mention or timestamp markup (a web page, a log line)."""

    def member(self, member_id: int) -> str:
        return f"member {member_id}"

    def channel(self, channel_id: int) -> str:
        return f"channel {channel_id}"

    def time(self, value: datetime, style: str) -> str:
        return utc_text(value)

    def command(self, name: str) -> str:
        return f"/{name}"


DISCORD = DiscordMarkup()
PLAIN = PlainMarkup()

Data = Mapping[str, Any]
Words = Callable[[Data, Markup], str]


_ROSTER_DATE_NAMES: dict[str, str] = {
    "valid_from": "The first day (valid_from)",
    "valid_until": "The last day (valid_until)",
}


def meanwhile_text(d: Data) -> str:
    """What happened to a link meanwhile (`meanwhile`: removed, other_mdt, new_request)."""
    if d["meanwhile"] == "removed":
        return "this server's link was removed meanwhile"
    if d["meanwhile"] == "other_mdt":
        return f"meanwhile this server asked to link MDT `{d['now_mdt_id']}` instead"
    if d["meanwhile"] == "new_request":
        return "meanwhile a new link request was made for this server"
    return "another request was stored meanwhile"


def _in_game_required(rest: str) -> str:
    return f"This server requires you to be in the ER:LC game server to go on duty, {rest}"


K = ErrorKind
WORDS: dict[ErrorKind, Words] = {
    K.SAID: lambda d, m: str(d["text"]),
    K.NOT_LINKED: lambda d, m: f"This server is not linked to a Northca MDT yet: an admin runs {m.command('link')}",
    K.GUILD_ONLY: lambda d, m: "This works in a server only, not in direct messages.",
    K.DATABASE_UNAVAILABLE: lambda d, m: (
        "The bot's database is not answering right now (it may be restarting)."
        + (
            " What you did may or may not have been saved: check, then try again in a few seconds."
            if d.get("maybe_applied")
            else " Try again in a few seconds."
        )
    ),
    K.BUTTON_NO_LONGER_VALID: lambda d, m: "This button is no longer valid: run the command again.",
    K.UNKNOWN_DEPARTMENT: lambda d, m: f"Unknown department “{d['value']}”. Pick one of: {', '.join(d['names'])}.",
    # Profiles and callsigns
    K.CALLSIGN_EMPTY: lambda d, m: "A callsign can't be empty. Use letters, digits and dashes, for example `ADAM-12`.",
    K.CALLSIGN_TOO_LONG: lambda d, m: f"A callsign has at most {d['most']} characters, for example `ADAM-12`.",
    K.CALLSIGN_MALFORMED: lambda d, m: (
        "A callsign uses letters, digits and single dashes between them, for example `ADAM-12`."
    ),
    K.PROFILE_FIELD_TOO_LONG: lambda d, m: f"{str(d['field']).capitalize()} has at most {d['most']} characters.",
    K.CALLSIGN_TAKEN: lambda d, m: (
        f"Callsign `{d['callsign']}` is already used by another officer in this server."
        + (f" Pick another one with {m.command('shift start')} callsign:" if d.get("at_start") else "")
    ),
    K.CALLSIGN_NEEDED: lambda d, m: f"Set your callsign first: {m.command('profile set')} callsign:ADAM-12",
    # Links
    K.MDT_ID_EMPTY: lambda d, m: (
        f"Give the MDT id from your Northca MDT settings, for example `{m.command('link')} mdt_id:0c7f6a0c-…`."
    ),
    K.MDT_ID_TOO_LONG: lambda d, m: (
        f"That MDT id is too long ({d['length']} characters; at most {d['most']}). Copy it again from Northca."
    ),
    K.MDT_ID_MALFORMED: lambda d, m: (
        "An MDT id has no spaces or special characters. Copy it again from your Northca MDT settings."
    ),
    K.LINK_CHANGED_WHILE_SENT: lambda d, m: (
        f"This server's link changed while the request was sent ({meanwhile_text(d)}). Nothing was replaced:"
        f" check with {m.command('link')}, then run {m.command('link')} again if needed."
    ),
    K.ALREADY_LINKED_SAME: lambda d, m: (
        f"This server is already linked to MDT `{d['mdt_id']}`; nothing changed and officers keep working."
        f" {m.command('link')} shows the link, checked live on Northca."
    ),
    K.ALREADY_LINKED_OTHER: lambda d, m: (
        f"This server is already linked to MDT `{d['mdt_id']}`. Run {m.command('unlink')} first to link another."
    ),
    K.LINK_REQUEST_NOT_CURRENT: lambda d, m: (
        f"This link request is no longer the server's current one. An admin can run {m.command('link')} again."
    ),
    K.LINK_OWNER_UNKNOWN: lambda d, m: "Northca did not say who owns this MDT, so it can only be approved on Northca.",
    K.LINK_OWNER_ONLY: lambda d, m: f"Only the MDT owner, {m.member(d['owner_id'])}, can approve this link.",
    K.LINK_REQUEST_EXPIRED: lambda d, m: (
        f"This link request has expired. An admin runs {m.command('link')} again to make a new one."
    ),
    K.LINK_REQUEST_DENIED: lambda d, m: (
        f"This link request was denied on Northca. An admin runs {m.command('link')} again if that was a mistake."
    ),
    K.LINK_APPROVED_BUT_CHANGED: lambda d, m: (
        f"Northca approved linking MDT `{d['mdt_id']}`, but {meanwhile_text(d)}; this server keeps"
        f" that. An admin runs {m.command('link')} mdt_id:{d['mdt_id']} to use MDT `{d['mdt_id']}` after all."
    ),
    K.UNLINK_CHANGED: lambda d, m: (
        f"This server's link changed since {m.command('unlink')} asked (it is now MDT `{d['mdt_id']}`,"
        f" {d['status']}). Nothing was removed: run {m.command('unlink')} again to remove it."
    ),
    K.UNLINK_CHANGED_MEANWHILE: lambda d, m: (
        f"Not removed: {meanwhile_text(d)}. Check with {m.command('link')}, then {m.command('unlink')} again if needed."
    ),
    # Shifts
    K.ALREADY_ON_DUTY: lambda d, m: (
        f"You have been on duty since {m.time(from_ms(d['started_ms']), 'R')}."
        f" Use {m.command('shift end')} to go off duty first."
    ),
    K.NO_BREAK_OFF_DUTY: lambda d, m: (
        f"You are not on duty, so there is no break to take. Use {m.command('shift start')} first."
    ),
    K.NOT_ON_DUTY: lambda d, m: (
        f"{m.member(d['member_id'])} is not on duty: there is no open shift to end."
        if d.get("member_id") is not None
        else f"You are not on duty: there is no open shift to end. Use {m.command('shift start')} to go on duty."
    ),
    K.SHIFT_NOT_PENDING: lambda d, m: (
        "That shift is no longer waiting for a decision (someone already chose, or it was synced)."
        f" {m.command('shift admin pending')} shows what is left."
    ),
    # Duty time
    K.NO_SUCH_SHIFT: lambda d, m: (
        f"There is no shift `{str(d['shift_id'])[:64]}` in this server. Copy its id from the export."
    ),
    K.SHIFT_STILL_OPEN: lambda d, m: "That shift is still open: end it first, then void it.",
    K.SHIFT_ALREADY_VOIDED: lambda d, m: "That shift is already voided.",
    K.PAGE_LINK_INVALID: lambda d, m: "That page link is not valid: go back to the first page.",
    K.DURATION_TOO_SHORT: lambda d, m: "The duration must be at least one second, e.g. `30m` or `1h30m`.",
    K.ADJUSTMENT_TOO_LARGE: lambda d, m: (
        f"One adjustment can be at most {duration_text(d['most_ms'])}; split larger ones."
    ),
    K.REASON_MISSING: lambda d, m: "Give a reason: it is stored with the change and shown in the history.",
    K.REASON_TOO_LONG: lambda d, m: f"The reason is {d['length']} characters long; keep it within {d['most']}.",
    K.NOT_A_DURATION: lambda d, m: f"`{str(d['text'])[:20]}` is not a duration: write it like `30m`, `1h30m` or `2h`.",
    # Unit status
    K.UNKNOWN_STATUS_CODE: lambda d, m: (
        f"Unknown status code `{str(d['value'])[:20]}`. Use one of: {', '.join(d['known'])}."
    ),
    K.OFF_DUTY_STATUS: lambda d, m: (
        f"You are off duty, so your status can't be set to {d['code']} {d['label']}. "
        f"Start your shift first with {m.command('shift start')} (or the button below)."
    ),
    # Leave
    K.LEAVE_NOT_A_DATE: lambda d, m: (
        f"“{str(d['text'])[:30]}” is not a date: write it as YYYY-MM-DD (e.g. {d['today'].isoformat()}),"
        " or today / tomorrow."
    ),
    K.LEAVE_REASON_MISSING: lambda d, m: "Give a reason: supervisors read it before they approve.",
    K.LEAVE_REASON_TOO_LONG: lambda d, m: f"The reason is {d['length']} characters long; keep it within {d['most']}.",
    K.LEAVE_START_PAST: lambda d, m: f"The start ({d['start'].isoformat()}) is in the past: start today or later.",
    K.LEAVE_END_BEFORE_START: lambda d, m: (
        f"The end ({d['end'].isoformat()}) is before the start ({d['start'].isoformat()})."
    ),
    K.LEAVE_TOO_LONG: lambda d, m: f"That is {d['days']} days; one leave is at most {d['most']} days. Split it.",
    K.LEAVE_TOO_FAR_AHEAD: lambda d, m: f"A leave may start at most {d['most']} days ahead.",
    K.LEAVE_OVERLAPS: lambda d, m: (
        f"You already have a {d['status']} leave overlapping these dates (LOA #{d['number']}):"
        f" end it with {m.command('loa end')} or wait for its decision."
    ),
    K.LEAVE_UNKNOWN: lambda d, m: "That leave request does not exist in this server.",
    K.LEAVE_OWN_DECISION: lambda d, m: "You cannot decide your own leave request: another supervisor does.",
    K.LEAVE_ALREADY_DECIDED: lambda d, m: (
        f"This request was already {d['status'] if d['status'] != 'pending' else 'decided'}."
    ),
    K.LEAVE_END_OTHERS: lambda d, m: "Only a supervisor can end someone else's leave.",
    K.LEAVE_NONE_TO_END: lambda d, m: (
        f"{'You have' if d.get('own') else m.member(d['member_id']) + ' has'} no current or upcoming approved leave."
    ),
    K.LEAVE_JUST_ENDED: lambda d, m: "That leave has just ended.",
    K.ON_LEAVE: lambda d, m: (
        f"You are on approved leave until {m.time(from_ms(d['until_ms']), 'f')}, and this server does not allow"
        f" going on duty during leave. End your leave first with {m.command('loa end')}."
    ),
    # Rosters
    K.ROSTER_START_INVALID: lambda d, m: (
        f"The start time must be a time of day from 00:00 to 23:59, such as 21:30 or 9pm"
        f" (you typed “{str(d['text']).strip()[:20]}”)."
    ),
    K.ROSTER_DURATION_INVALID: lambda d, m: (
        f"The duration must be from 1 minute to 24 hours, such as 90m, 2h or 1h30m"
        f" (you typed “{str(d['text']).strip()[:20]}”)."
    ),
    K.ROSTER_DAYS_INVALID: lambda d, m: (
        f"The days must be day names such as mon,wed,fri or mon-fri (“{str(d['part'])[:20]}” is not one)."
    ),
    K.ROSTER_DATE_INVALID: lambda d, m: (
        f"{_ROSTER_DATE_NAMES.get(str(d['field']), 'The date')} must be a date written 2026-12-01"
        f" (you typed “{str(d['text']).strip()[:20]}”)."
    ),
    K.ROSTER_NAME_EMPTY: lambda d, m: "The name is empty: type one, such as Night patrol.",
    K.ROSTER_NAME_TOO_LONG: lambda d, m: f"The name is {d['length']} characters long; at most {d['most']} fit.",
    K.ROSTER_START_OUT_OF_RANGE: lambda d, m: (
        "The start time must be a time of day from 00:00 to 23:59, such as 21:30."
    ),
    K.ROSTER_DURATION_OUT_OF_RANGE: lambda d, m: (
        "The duration must be from 1 minute to 24 hours, such as 90m, 2h or 1h30m."
    ),
    K.ROSTER_NO_DAYS: lambda d, m: "Name at least one day of the week, such as mon-fri.",
    K.ROSTER_UNTIL_BEFORE_FROM: lambda d, m: (
        f"The last day (valid_until: {d['valid_until'].isoformat()}) is before the first day"
        f" (valid_from: {d['valid_from'].isoformat()}): pick a last day on or after the first."
    ),
    K.ROSTER_UNKNOWN_ZONE: lambda d, m: (
        f"“{str(d['zone'])[:40]}” is not a time zone: use a name such as Europe/London or America/New_York."
    ),
    K.ROSTER_NAME_TAKEN: lambda d, m: f"A scheduled shift named “{d['name']}” already exists: pick another name.",
    K.ROSTER_TOO_MANY: lambda d, m: (
        f"This server already has {d['most']} scheduled shifts, the most allowed: delete one first."
    ),
    K.ROSTER_NO_SUCH_TEMPLATE: lambda d, m: "That scheduled shift is not on this server: pick one from the list.",
    K.ROSTER_OCCURRENCE_OVER: lambda d, m: "That scheduled shift is over: nothing was sent.",
    # Dispatch
    K.DISPATCH_BAD_DATE_TIME: lambda d, m: (
        "Date and time are typed as YYYY-MM-DD HH:MM (for example 2026-11-28 21:30), or left blank for now."
    ),
    K.PANIC_COOLING_DOWN: lambda d, m: (
        f"You pressed panic moments ago; your alert is out. You can press again in {d['wait_seconds']}s."
    ),
    K.PANIC_UNKNOWN: lambda d, m: "That panic is not known on this server.",
    K.PANIC_CLEAR_NOT_ALLOWED: lambda d, m: "Only the officer who pressed panic or a supervisor can clear it.",
    K.PANIC_ALREADY_CLEARED: lambda d, m: "That panic was already cleared.",
    K.PANIC_RESPOND_CLEARED: lambda d, m: "That panic was cleared: nobody needs to respond any more.",
    K.PANIC_RESPOND_OWN: lambda d, m: "This is your own panic: responders come to you.",
    K.FIELDS_EMPTY: lambda d, m: f"Fill in {', '.join(d['fields'])}: nothing was created.",
    K.CALL_UNKNOWN: lambda d, m: "That call is not known on this server.",
    K.CALL_CLOSE_NOT_ALLOWED: lambda d, m: "Only the officer who created this call or a supervisor can close it.",
    K.CALL_CLOSED: lambda d, m: "This call is closed.",
    # Settings
    K.ROLE_EVERYONE: lambda d, m: "@everyone cannot be used here: create a role for it and pick that one.",
    K.ROLE_MANAGED: lambda d, m: (
        f"“{d['role']}” is managed by an integration (a bot's or a booster role) and cannot be given by hand: "
        "pick a role you created."
    ),
    K.ROLE_TOO_HIGH: lambda d, m: (
        f"“{d['role']}” is at or above my highest role, so I cannot give or remove it: "
        "move my role above it in Server Settings → Roles, then try again."
    ),
    K.QUOTA_ROLE_EVERYONE: lambda d, m: "@everyone cannot hold a quota: pick the role whose members owe the hours.",
    K.CHANNEL_PERMISSIONS_MISSING: lambda d, m: (
        f"I lack {', '.join(d['missing'])} in {m.channel(d['channel_id'])}: "
        "grant it to my role in that channel's permissions, then try again."
    ),
    K.TEXT_EMPTY: lambda d, m: f"The {d['field']} is empty: type a {d['field']}.",
    K.TEXT_TOO_LONG: lambda d, m: f"The {d['field']} is {d['length']} characters long; at most {d['most']} fit.",
    K.CODE_MALFORMED: lambda d, m: "A code is letters, digits, spaces, dots, slashes and dashes, such as 10-8.",
    K.UNKNOWN_TIME_ZONE: lambda d, m: (
        f"“{str(d['zone'])[:60]}” is not a time zone: pick one from the list, or type a name such as"
        " Europe/London or America/New_York."
    ),
    K.SETTINGS_RACED: lambda d, m: (
        "This server's settings kept changing elsewhere meanwhile: nothing was changed, try again."
    ),
    K.NOT_A_SUPERVISOR_ROLE: lambda d, m: f"“{d['role']}” is not a supervisor role here.",
    K.TOO_MANY_SUPERVISOR_ROLES: lambda d, m: f"At most {d['most']} supervisor roles: remove one first.",
    K.NOT_THE_ROLE: lambda d, m: f"“{d['role']}” is not the {d['slot']} role here.",
    K.DEPARTMENT_QUOTA_RANGE: lambda d, m: f"The quota is hours per week: a number from {d['least']} to {d['most']}.",
    K.DEPARTMENT_EXISTS: lambda d, m: f"There is already a department “{d['name']}”.",
    K.TOO_MANY_DEPARTMENTS: lambda d, m: f"At most {d['most']} departments: remove one first.",
    K.NO_SUCH_DEPARTMENT: lambda d, m: f"There is no department “{str(d['name']).strip()[:60]}”.",
    K.CODE_EXISTS: lambda d, m: f"The code {d['code']} exists already: remove it first to change it.",
    K.TOO_MANY_CODES: lambda d, m: f"At most {d['most']} codes fit on a status panel: remove one first.",
    K.NO_SUCH_CODE: lambda d, m: f"There is no code “{str(d['code']).strip()[:20]}”.",
    K.CODE_PROTECTED: lambda d, m: (
        f"{d['code']} is the code shifts set when they start or end: it stays"
        " (the bot's host changes it in the config file)."
    ),
    K.LAST_CODE: lambda d, m: "A status panel needs at least one code: add another before removing this one.",
    K.MAX_SHIFT_HOURS_RANGE: lambda d, m: f"The maximum shift length is hours: more than 0, at most {d['most']}.",
    K.REMINDER_MINUTES_RANGE: lambda d, m: f"The reminder lead time is minutes: 1 to {d['most']} (24 hours), e.g. 30.",
    K.PRESENCE_DAYS_RANGE: lambda d, m: f"The presence history is kept for 1 to {d['most']} days.",
    K.GAMELOCK_MINUTES_RANGE: lambda d, m: (
        f"The gamelock grace is minutes: 1 to {d['most']} (24 hours), or 0 to turn gamelock off."
    ),
    K.GAMELOCK_NEEDED_BY_AUTO_DUTY: lambda d, m: (
        f"Automatic shifts end by gamelock: turn them off first ({m.command('erlc auto-duty')})."
    ),
    K.AUTO_DUTY_NEEDS_GAMELOCK: lambda d, m: (
        "Automatic shifts end by gamelock (leaving the duty team or the game for longer than its grace): "
        f"turn gamelock on first with {m.command('erlc gamelock')} minutes."
    ),
    K.UNKNOWN_GAME_TEAM: lambda d, m: f"The in-game duty teams are {', '.join(d['teams'])}.",
    K.TEAM_NOT_MAPPED: lambda d, m: f"The {d['team']} team is not mapped to a department here.",
    K.NOT_A_DEPARTMENT: lambda d, m: (
        f"“{str(d['name']).strip()[:40]}” is not one of this server's departments: "
        + (", ".join(d["departments"]) or f"none yet (add them with {m.command('settings departments')})")
        + "."
    ),
    K.QUOTA_HOURS_RANGE: lambda d, m: f"A quota is hours per activity period: more than 0, at most {d['most']}.",
    K.ROLE_HAS_NO_QUOTA: lambda d, m: f"“{d['role']}” has no quota here.",
    K.TOO_MANY_ROLE_QUOTAS: lambda d, m: f"At most {d['most']} roles can have a quota: remove one first.",
    K.NO_SETTING_HOLDS_ROLE: lambda d, m: "No setting holds that role: pick one from the list.",
    # ER:LC
    K.ERLC_KEYS_NOT_CONFIGURED: lambda d, m: (
        "This bot cannot store ER:LC keys yet: its host must set [erlc] key_encryption_key"
        " (or ERLC_KEK). Nothing was saved."
    ),
    K.ERLC_KEY_EMPTY: lambda d, m: "The key is empty: paste the server key from the game's server settings (API key).",
    K.ERLC_KEY_MALFORMED: lambda d, m: (
        "That does not look like a server key (one word, as the game shows it): paste it again."
    ),
    K.ERLC_IMPORT_LINE_MALFORMED: lambda d, m: (
        f"Line {d['line']}: expected two numbers, Discord id then Roblox id. Nothing was imported."
    ),
    K.ERLC_IMPORT_ID_RANGE: lambda d, m: f"Line {d['line']}: an id is out of range. Nothing was imported.",
    K.ERLC_IMPORT_DUPLICATE: lambda d, m: (
        f"Line {d['line']}: that member or Roblox account is listed twice. Nothing was imported."
    ),
    K.ERLC_IMPORT_TOO_MANY: lambda d, m: f"At most {d['most']} lines per import. Nothing was imported.",
    K.ERLC_IMPORT_EMPTY: lambda d, m: "The file holds no line of `discord_id,roblox_id`. Nothing was imported.",
    K.ERLC_NOT_CONNECTED: lambda d, m: "No ER:LC server is connected here.",
    K.ERLC_NOT_CONNECTED_CONNECT_FIRST: lambda d, m: (
        f"No ER:LC server is connected here: an admin runs {m.command('erlc connect')} first."
    ),
    K.ERLC_NO_PUBLIC_ADDRESS: lambda d, m: (
        "The webhook URL changed, but this bot has no public web address ([web] public_base_url)."
    ),
    K.ERLC_ROBLOX_NAME_MALFORMED: lambda d, m: "A Roblox username is 3 to 20 letters, digits or underscores.",
    K.ERLC_CODE_NOT_MADE: lambda d, m: "Could not make a code: try again.",
    K.ERLC_ROBLOX_ID_MALFORMED: lambda d, m: "A Roblox user id is a positive number (from the profile's address).",
    K.ERLC_NO_LINK: lambda d, m: (
        "Your Discord account is not linked to a Roblox account here."
        if d.get("own")
        else "No Roblox account is linked to that member here."
    ),
    K.ERLC_ROBLOX_TAKEN_BY: lambda d, m: f"That Roblox account is already linked to {m.member(d['member_id'])} here.",
    K.ERLC_ROBLOX_TAKEN: lambda d, m: "That Roblox account is already linked to another member here.",
    K.ERLC_NOT_VERIFIED: lambda d, m: _in_game_required(
        f"and your Roblox account is not linked here: verify first with {m.command('erlc verify')}."
    ),
    K.ERLC_GAME_NOT_CONNECTED: lambda d, m: _in_game_required(
        f"but no game server is connected: ask an admin to run {m.command('erlc connect')}."
    ),
    K.ERLC_NOT_IN_GAME: lambda d, m: (
        "You are not in the ER:LC game server now: join it, then go on duty (the bot sees you within a poll, "
        "usually seconds)."
    ),
}


def _said(text: str) -> str:
    """Northca's own sentence with its internal names said as people say them (mdt_id is the MDT)."""
    return text.replace("mdt_id", "MDT id").replace("Invalid MDT id", "that MDT id is not valid").rstrip(".")


def counted(number: int, word: str, plural: str | None = None) -> str:
    """`1 shift`, `3 shifts`, `0 members`: a count with its noun, the plural right (`plural` when not word + s)."""
    return f"{number} {word if number == 1 else (plural or word + 's')}"


def cut(text: str, limit: int = 400) -> str:
    """Someone else's text (Northca's error) inside one of our sentences, cut short so the sentence still says
    what to do (the Discord front door passes its own, which counts as Discord does: bot.discord_text.quoted)."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def northca_text(exc: NorthcaError, markup: Markup = DISCORD, quote: Callable[[str], str] = cut) -> str:
    """The sentence for an error of Northca (the outside system's own family: its kind is its class)."""
    if isinstance(exc, NorthcaForbidden) and "not linked" in exc.message.lower():
        return (
            "Northca says this server's MDT is not linked (MDT not linked to this guild)."
            f" An admin checks it with {markup.command('link')}."
        )
    if isinstance(exc, NorthcaForbidden):
        return f"Northca refused this: {quote(exc.message)}."
    if isinstance(exc, NorthcaUnauthorized):
        return "Northca refused the bot's partner key. Tell the person who runs this bot to check its configuration."
    if isinstance(exc, NorthcaRateLimited):
        wait = f" in {exc.retry_after:.0f} s" if exc.retry_after else " in a moment"
        return f"Northca is busy right now. Try again{wait}."
    if isinstance(exc, NorthcaBadRequest):
        return f"The MDT refused this: {_said(quote(exc.message))}."
    if exc.retryable:
        return "Northca is not answering right now. Nothing was lost; try again in a minute."
    return f"Northca answered with an error: {quote(exc.message)}."


def error_text(error: UserFacingError, markup: Markup = DISCORD) -> str:
    """The sentence a person reads for `error`, in `markup` (Discord's by default)."""
    return WORDS[error.kind](error.data, markup)
