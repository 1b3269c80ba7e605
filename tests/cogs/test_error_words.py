"""The front door's words for the core's error kinds (bot/wording.py). The core raises a kind and its data
(tests/bot/ assert those); the sentences people read are pinned here, word for word as they were when the core
still wrote them, and the same errors worded without Discord markup for the web front door. The harness tests of
tests/cogs/ show the same sentences reaching Discord through the one error handler."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.core.errors import Conflict, ErrorKind, InvalidInput, MissingPermission, NotLinked, UserFacingError
from bot.core.leave.service import parse_day
from bot.core.links import validate_mdt_id
from bot.core.profiles import normalise_callsign
from bot.core.rosters import RosterTemplate, TemplateDraft, occurrences_of, validate_template
from bot.core.rosters.records import parse_date, parse_days, parse_duration, parse_start
from bot.core.settings.service import check_code, check_timezone
from bot.discord.custom_ids import NO_LONGER_VALID
from bot.erlc.service import parse_import
from bot.northca.errors import NorthcaBadRequest, NorthcaForbidden, NorthcaRateLimited
from bot.storage import DatabaseUnavailable
from bot.wording import PLAIN, WORDS, error_text, northca_text
from cogs.roster.embeds import upcoming_text

LONDON = ZoneInfo("Europe/London")
STARTED = datetime(2026, 12, 1, 21, 30, tzinfo=UTC)
STARTED_MS = int(STARTED.timestamp() * 1000)


def refusal(call: Callable[[], Any]) -> UserFacingError:
    """The error the core raised for `call` (it must raise one)."""
    with pytest.raises(UserFacingError) as info:
        call()
    return info.value


def test_every_kind_the_core_can_raise_has_words() -> None:
    assert set(WORDS) == set(ErrorKind)


@pytest.mark.parametrize(
    ("call", "words"),
    [
        (lambda: parse_start("24:00"), "The start time must be a time of day from 00:00 to 23:59, such as 21:30 or 9pm (you typed “24:00”)."),  # noqa: E501
        (lambda: parse_duration("25h"), "The duration must be from 1 minute to 24 hours, such as 90m, 2h or 1h30m (you typed “25h”)."),  # noqa: E501
        (lambda: parse_days("someday"),
         "The days must be day names such as mon,wed,fri or mon-fri (“someday” is not one)."),
        (lambda: parse_date("10/12/2026", "valid_from"),
         "The first day (valid_from) must be a date written 2026-12-01 (you typed “10/12/2026”)."),
        (lambda: validate_template(TemplateDraft("Patrol", None, 600, 60, valid_from=date(2026, 12, 10),
                                                 valid_until=date(2026, 12, 1))),
         "The last day (valid_until: 2026-12-01) is before the first day (valid_from: 2026-12-10): pick a last day on or after the first."),  # noqa: E501
        (lambda: validate_template(TemplateDraft("   ", None, 0, 1)), "The name is empty: type one, such as Night patrol."),  # noqa: E501
        (lambda: validate_template(TemplateDraft("x" * 41, None, 0, 1)),
         "The name is 41 characters long; at most 40 fit."),
        (lambda: parse_day("01/02/2025", date(2025, 1, 15)),
         "“01/02/2025” is not a date: write it as YYYY-MM-DD (e.g. 2025-01-15), or today / tomorrow."),
        (lambda: check_timezone("Mars/Olympus"),
         "“Mars/Olympus” is not a time zone: pick one from the list, or type a name such as Europe/London or America/New_York."),  # noqa: E501
        (lambda: check_code("<@1>"), "A code is letters, digits, spaces, dots, slashes and dashes, such as 10-8."),
        (lambda: normalise_callsign("ADAM--12"),
         "A callsign uses letters, digits and single dashes between them, for example `ADAM-12`."),
        (lambda: validate_mdt_id(""),
         "Give the MDT id from your Northca MDT settings, for example `/link mdt_id:0c7f6a0c-…`."),
        (lambda: parse_import("1,101\nnot,numbers\n"),
         "Line 2: expected two numbers, Discord id then Roblox id. Nothing was imported."),
    ],
)  # fmt: skip
def test_refusals_of_what_people_type_read_as_before(call: Callable[[], Any], words: str) -> None:
    assert error_text(refusal(call)) == words


# The errors the services raise (their kind and data are asserted in tests/bot/), and the sentence each reads as.
WORDED = [
    (Conflict(ErrorKind.ALREADY_ON_DUTY, started_ms=STARTED_MS),
     f"You have been on duty since <t:{STARTED_MS // 1000}:R>. Use /shift end to go off duty first."),
    (Conflict(ErrorKind.NOT_ON_DUTY),
     "You are not on duty: there is no open shift to end. Use /shift start to go on duty."),
    (Conflict(ErrorKind.NOT_ON_DUTY, member_id=42), "<@42> is not on duty: there is no open shift to end."),
    (Conflict(ErrorKind.NO_BREAK_OFF_DUTY),
     "You are not on duty, so there is no break to take. Use /shift start first."),
    (InvalidInput(ErrorKind.UNKNOWN_DEPARTMENT, value="Mall Cops", names=("Patrol", "Traffic")),
     "Unknown department “Mall Cops”. Pick one of: Patrol, Traffic."),
    (Conflict(ErrorKind.SHIFT_NOT_PENDING),
     "That shift is no longer waiting for a decision (someone already chose, or it was synced)."
     " /shift admin pending shows what is left."),
    (Conflict(ErrorKind.CALLSIGN_TAKEN, callsign="ADAM-12", at_start=True),
     "Callsign `ADAM-12` is already used by another officer in this server. Pick another one with /shift start"
     " callsign:"),
    (Conflict(ErrorKind.CALLSIGN_TAKEN, callsign="ADAM-12"),
     "Callsign `ADAM-12` is already used by another officer in this server."),
    (InvalidInput(ErrorKind.CALLSIGN_NEEDED), "Set your callsign first: /profile set callsign:ADAM-12"),
    (InvalidInput(ErrorKind.UNKNOWN_STATUS_CODE, value="10-99", known=("10-8", "10-6", "10-7", "10-23", "10-97")),
     "Unknown status code `10-99`. Use one of: 10-8, 10-6, 10-7, 10-23, 10-97."),
    (Conflict(ErrorKind.OFF_DUTY_STATUS, code="10-23", label="On scene"),
     "You are off duty, so your status can't be set to 10-23 On scene. Start your shift first with /shift start"
     " (or the button below)."),
    (InvalidInput(ErrorKind.DURATION_TOO_SHORT), "The duration must be at least one second, e.g. `30m` or `1h30m`."),
    (InvalidInput(ErrorKind.ADJUSTMENT_TOO_LARGE, most_ms=7 * 24 * 3_600_000),
     "One adjustment can be at most 168 h; split larger ones."),
    (InvalidInput(ErrorKind.REASON_MISSING), "Give a reason: it is stored with the change and shown in the history."),
    (InvalidInput(ErrorKind.REASON_TOO_LONG, length=301, most=300),
     "The reason is 301 characters long; keep it within 300."),
    (Conflict(ErrorKind.SHIFT_ALREADY_VOIDED), "That shift is already voided."),
    (Conflict(ErrorKind.SHIFT_STILL_OPEN), "That shift is still open: end it first, then void it."),
    (InvalidInput(ErrorKind.NO_SUCH_SHIFT, shift_id="nope"),
     "There is no shift `nope` in this server. Copy its id from the export."),
    (Conflict(ErrorKind.ON_LEAVE, until_ms=STARTED_MS, leave_id="x"),
     f"You are on approved leave until <t:{STARTED_MS // 1000}:f>, and this server does not allow going on duty"
     " during leave. End your leave first with /loa end."),
    (Conflict(ErrorKind.LEAVE_OVERLAPS, status="pending", leave_id="0123456789abcdef", number=27),
     "You already have a pending leave overlapping these dates (LOA #27): end it with /loa end or wait for its"
     " decision."),
    (Conflict(ErrorKind.LEAVE_NONE_TO_END, member_id=42, own=False),
     "<@42> has no current or upcoming approved leave."),
    (Conflict(ErrorKind.LEAVE_NONE_TO_END, member_id=42, own=True), "You have no current or upcoming approved leave."),
    (Conflict(ErrorKind.LEAVE_ALREADY_DECIDED, status="approved"), "This request was already approved."),
    (Conflict(ErrorKind.LEAVE_ALREADY_DECIDED, status="pending"), "This request was already decided."),
    (Conflict(ErrorKind.ROSTER_TOO_MANY, most=2),
     "This server already has 2 scheduled shifts, the most allowed: delete one first."),
    (Conflict(ErrorKind.ROSTER_NAME_TAKEN, name="Evening patrol"),
     "A scheduled shift named “Evening patrol” already exists: pick another name."),
    (InvalidInput(ErrorKind.ROSTER_NO_SUCH_TEMPLATE), "That scheduled shift is not on this server: pick one from the list."),  # noqa: E501
    (Conflict(ErrorKind.PANIC_COOLING_DOWN, wait_seconds=12),
     "You pressed panic moments ago; your alert is out. You can press again in 12s."),
    (InvalidInput(ErrorKind.FIELDS_EMPTY, fields=("description", "location")),
     "Fill in description, location: nothing was created."),
    (InvalidInput(ErrorKind.ROLE_TOO_HIGH, role="Boss", role_id=1),
     "“Boss” is at or above my highest role, so I cannot give or remove it: move my role above it in Server"
     " Settings → Roles, then try again."),
    (InvalidInput(ErrorKind.ROLE_MANAGED, role="Nitro Booster", role_id=2),
     "“Nitro Booster” is managed by an integration (a bot's or a booster role) and cannot be given by hand: pick a"
     " role you created."),
    (InvalidInput(ErrorKind.ROLE_EVERYONE), "@everyone cannot be used here: create a role for it and pick that one."),
    (InvalidInput(ErrorKind.CHANNEL_PERMISSIONS_MISSING, channel_id=5, missing=("Embed Links", "Attach Files")),
     "I lack Embed Links, Attach Files in <#5>: grant it to my role in that channel's permissions, then try again."),
    (InvalidInput(ErrorKind.CODE_EXISTS, code="10-8"), "The code 10-8 exists already: remove it first to change it."),
    (InvalidInput(ErrorKind.TEXT_TOO_LONG, field="department name", length=41, most=40),
     "The department name is 41 characters long; at most 40 fit."),
    (InvalidInput(ErrorKind.DEPARTMENT_EXISTS, name="patrol"), "There is already a department “patrol”."),
    (InvalidInput(ErrorKind.DEPARTMENT_QUOTA_RANGE, least=0, most=168),
     "The quota is hours per week: a number from 0 to 168."),
    (InvalidInput(ErrorKind.TOO_MANY_CODES, most=25), "At most 25 codes fit on a status panel: remove one first."),
    (InvalidInput(ErrorKind.TOO_MANY_DEPARTMENTS, most=25), "At most 25 departments: remove one first."),
    (InvalidInput(ErrorKind.NOT_A_DEPARTMENT, name="Harbor", departments=()),
     "“Harbor” is not one of this server's departments: none yet (add them with /settings departments)."),
    (InvalidInput(ErrorKind.NOT_A_DEPARTMENT, name="Harbor", departments=("Patrol", "Traffic")),
     "“Harbor” is not one of this server's departments: Patrol, Traffic."),
    (InvalidInput(ErrorKind.AUTO_DUTY_NEEDS_GAMELOCK),
     "Automatic shifts end by gamelock (leaving the duty team or the game for longer than its grace): turn gamelock"
     " on first with /erlc gamelock minutes."),
    (MissingPermission(ErrorKind.LINK_OWNER_ONLY, owner_id=7), "Only the MDT owner, <@7>, can approve this link."),
    (Conflict(ErrorKind.LINK_APPROVED_BUT_CHANGED, mdt_id="m1", meanwhile="other_mdt", now_mdt_id="m2"),
     "Northca approved linking MDT `m1`, but meanwhile this server asked to link MDT `m2` instead; this server keeps"
     " that. An admin runs /link mdt_id:m1 to use MDT `m1` after all."),
    (Conflict(ErrorKind.LINK_CHANGED_WHILE_SENT, meanwhile="other_request", now_mdt_id=None),
     "This server's link changed while the request was sent (another request was stored meanwhile). Nothing was"
     " replaced: check with /link, then run /link again if needed."),
    (Conflict(ErrorKind.UNLINK_CHANGED_MEANWHILE, meanwhile="removed", now_mdt_id=None),
     "Not removed: this server's link was removed meanwhile. Check with /link, then /unlink again if needed."),
    (NotLinked(), "This server is not linked to a Northca MDT yet: an admin runs /link"),
    (Conflict(ErrorKind.ERLC_ROBLOX_TAKEN_BY, member_id=42, roblox_id=7),
     "That Roblox account is already linked to <@42> here."),
    (Conflict(ErrorKind.ERLC_NOT_VERIFIED),
     "This server requires you to be in the ER:LC game server to go on duty, and your Roblox account is not linked"
     " here: verify first with /erlc verify."),
    (Conflict(ErrorKind.ERLC_NO_LINK, member_id=42, own=True),
     "Your Discord account is not linked to a Roblox account here."),
    (DatabaseUnavailable(),
     "The bot's database is not answering right now (it may be restarting). Try again in a few seconds."),
    (DatabaseUnavailable(maybe_applied=True),
     "The bot's database is not answering right now (it may be restarting). What you did may or may not have been"
     " saved: check, then try again in a few seconds."),
    (InvalidInput.said("The front door's own words."), "The front door's own words."),
]  # fmt: skip


@pytest.mark.parametrize(("error", "words"), WORDED, ids=[e.kind.value for e, _ in WORDED])
def test_each_kind_reads_as_before_on_discord(error: UserFacingError, words: str) -> None:
    assert error_text(error) == words


def test_a_refused_button_reads_as_before() -> None:
    assert NO_LONGER_VALID == "This button is no longer valid: run the command again."


@pytest.mark.parametrize(("error", "words"), WORDED, ids=[e.kind.value for e, _ in WORDED])
def test_the_plain_wording_has_no_discord_markup(error: UserFacingError, words: str) -> None:
    """What the web front door words: the same sentence, with references it can show (no `<@`, `<#`, `<t:`)."""
    plain = error_text(error, PLAIN)
    assert not any(token in plain for token in ("<@", "<#", "<t:"))
    if not any(token in words for token in ("<@", "<#", "<t:")):
        assert plain == words


def test_the_plain_wording_names_members_channels_and_times() -> None:
    assert error_text(MissingPermission(ErrorKind.LINK_OWNER_ONLY, owner_id=7), PLAIN) == (
        "Only the MDT owner, member 7, can approve this link."
    )
    assert error_text(Conflict(ErrorKind.ON_LEAVE, until_ms=STARTED_MS, leave_id="x"), PLAIN).startswith(
        "You are on approved leave until 2026-12-01 21:30 UTC, and"
    )
    missing = InvalidInput(ErrorKind.CHANNEL_PERMISSIONS_MISSING, channel_id=5, missing=("Embed Links",))
    assert "in channel 5:" in error_text(missing, PLAIN)


def test_northca_errors_are_worded_here_too() -> None:
    """Northca's own errors (their kind is their class) read as the Discord handler always said them."""
    not_linked = NorthcaForbidden("MDT not linked to this guild", 403)
    assert northca_text(not_linked) == (
        "Northca says this server's MDT is not linked (MDT not linked to this guild). An admin checks it with /link."
    )
    assert northca_text(NorthcaBadRequest("Invalid mdt_id", 400)) == "The MDT refused this: that MDT id is not valid."
    long = northca_text(NorthcaBadRequest("x" * 1000, 400), PLAIN)
    assert long.endswith("x….") and len(long) < 450
    assert (
        northca_text(NorthcaRateLimited("slow down", retry_after=12)) == "Northca is busy right now. Try again in 12 s."
    )


def test_mine_text_uses_discord_timestamps_and_fits_one_message() -> None:
    def template(name: str = "Night patrol", department: str | None = None) -> RosterTemplate:
        return RosterTemplate(1, 1, name, department, 22 * 60, 8 * 60, 0b1111111, None, None, 7, 0, 0)

    found = occurrences_of(template(department="Patrol"), date(2026, 12, 1), date(2026, 12, 2), LONDON)
    text = upcoming_text(found)
    first = int(datetime(2026, 12, 1, 22, 0, tzinfo=UTC).timestamp())
    assert f"- Night patrol (Patrol): <t:{first}:F> to <t:{first + 8 * 3600}:t>, <t:{first}:R>" in text
    many = occurrences_of(template(name="x" * 40), date(2026, 12, 1), date(2027, 3, 1), LONDON)
    crowded = upcoming_text(many)
    assert len(crowded) <= 2000 and crowded.splitlines()[-1].startswith("… and ")
    assert upcoming_text([]) == "You have no scheduled shifts in the next two weeks."
