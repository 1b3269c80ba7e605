"""The rules behind /roster: templates and assignments (audited), the week, reminders and attendance.

The guild's time zone (a zoneinfo key) and who holds which role are parameters: the settings and
the Discord side own them. Nothing here knows about Discord.

Reminders: an occurrence's reminder is due from `lead` before its start. If the bot was down then,
it is still sent late, until `REMINDER_CUTOFF` after the start; later than that it is skipped (a
reminder for a shift long under way helps nobody). Each (template, occurrence start, member) is
claimed in the database before it is sent (`claim_reminder`): a short lease, renewed while it is
sent, then marked sent with its message. A sender that dies leaves its claim to be taken over after
the lease; one that fails (Discord 5xx, a timeout) gives it back to be retried until the occurrence
starts, then gives it up (shown in attendance). A takeover looks for the reminder first
(bot/core/rosters/reminders.py), so it goes out exactly once, also across restarts and processes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.audit import audit_source
from bot.core.changes import ChangeNotices
from bot.core.errors import Conflict, ErrorKind, InvalidInput
from bot.core.rosters.attendance import (
    Attendance,
    AttendanceCounts,
    AttendanceRules,
    DutySpan,
    classify,
    count_by_member,
)
from bot.core.rosters.occurrences import Occurrence, occurrences_between, occurrences_overlapping, week_start
from bot.core.rosters.records import (
    MAX_TEMPLATES_PER_GUILD,
    Assignment,
    ReminderClaim,
    RosterAssignmentChanged,
    RosterAuditEntry,
    RosterTemplate,
    TargetKind,
    TemplateDraft,
    template_text,
    validate_template,
)
from bot.core.rosters.store import RosterStore
from bot.core.timefmt import now_ms
from bot.storage import INTEGRITY_ERRORS

log = logging.getLogger(__name__)

REMINDER_CUTOFF_MS = 15 * 60_000
# A reminder claimed and not marked sent, its claim not renewed for this long, is claimed again (its sender died).
# The sender renews it every REMINDER_RENEW_MS while it sends.
REMINDER_LEASE_MS = 30 * 1000
REMINDER_RENEW_MS = 10 * 1000
# How long a reminder given up (never delivered) is remembered: roster attendance shows it.
GIVEN_UP_KEPT_MS = 62 * 24 * 3600 * 1000

# Who holds each role, as the Discord side knows it (role id -> member ids).
RoleMembers = Mapping[int, Collection[int]]


@dataclass(frozen=True)
class DueReminder:
    occurrence: Occurrence
    member_id: int


@dataclass(frozen=True)
class OccurrenceAttendance:
    occurrence: Occurrence
    members: list[Attendance]
    # Members whose reminder of this occurrence was given up (it kept failing until the start, or they could not
    # be reached): a supervisor looking at an absence sees that they were not reminded.
    not_reminded: frozenset[int] = frozenset()


def zone_of(key: str) -> ZoneInfo:
    try:
        return ZoneInfo(key)
    except (KeyError, ValueError) as exc:
        raise InvalidInput(ErrorKind.ROSTER_UNKNOWN_ZONE, zone=key[:40]) from exc


def members_for(template_id: int, assignments: Collection[Assignment], role_members: RoleMembers) -> set[int]:
    """Everyone assigned to the template: directly, or through a role they hold."""
    members: set[int] = set()
    for a in assignments:
        if a.template_id != template_id:
            continue
        if a.target_kind == "member":
            members.add(a.target_id)
        else:
            members.update(role_members.get(a.target_id, ()))
    return members


class RosterService:
    def __init__(
        self,
        store: RosterStore,
        *,
        max_templates: int = MAX_TEMPLATES_PER_GUILD,
        clock: Callable[[], int] = now_ms,
        changes: ChangeNotices | None = None,
    ) -> None:
        self.store = store
        self.max_templates = max_templates
        self.clock = clock
        # Every assignment change published (the shift log in Discord shows the dashboard's too).
        self.changes = changes if changes is not None else ChangeNotices(None)

    # -- templates and assignments (admin actions: each logged with who and what) --

    async def create(self, guild_id: int, actor_id: int, draft: TemplateDraft) -> RosterTemplate:
        draft = validate_template(draft)
        try:
            created = await self.store.insert_template(
                guild_id, draft, actor_id=actor_id, at_ms=self.clock(), limit=self.max_templates
            )
        except INTEGRITY_ERRORS as exc:
            raise Conflict(ErrorKind.ROSTER_NAME_TAKEN, name=draft.name) from exc
        if created is None:
            raise Conflict(ErrorKind.ROSTER_TOO_MANY, most=self.max_templates)
        log.info("roster audit: guild %s actor %s created template %s %r", guild_id, actor_id, created.id, draft)
        await self._audit(guild_id, actor_id, "create", created.id, None, template_text(created))
        return created

    async def edit(self, guild_id: int, actor_id: int, template_id: int, draft: TemplateDraft) -> RosterTemplate:
        draft = validate_template(draft)
        old = await self.template(guild_id, template_id)
        try:
            updated = await self.store.update_template(guild_id, template_id, draft, at_ms=self.clock())
        except INTEGRITY_ERRORS as exc:
            raise Conflict(ErrorKind.ROSTER_NAME_TAKEN, name=draft.name) from exc
        if updated is None:
            raise InvalidInput(ErrorKind.ROSTER_NO_SUCH_TEMPLATE)
        log.info("roster audit: guild %s actor %s edited template %s %r", guild_id, actor_id, template_id, draft)
        await self._audit(guild_id, actor_id, "edit", template_id, template_text(old), template_text(updated))
        return updated

    async def delete(self, guild_id: int, actor_id: int, template_id: int) -> None:
        old = await self.store.get(guild_id, template_id)
        if old is None or not await self.store.delete_template(guild_id, template_id):
            raise InvalidInput(ErrorKind.ROSTER_NO_SUCH_TEMPLATE)
        log.info("roster audit: guild %s actor %s deleted template %s", guild_id, actor_id, template_id)
        await self._audit(guild_id, actor_id, "delete", template_id, template_text(old), None)

    async def template(self, guild_id: int, template_id: int) -> RosterTemplate:
        found = await self.store.get(guild_id, template_id)
        if found is None:
            raise InvalidInput(ErrorKind.ROSTER_NO_SUCH_TEMPLATE)
        return found

    async def cant_make_it(
        self, guild_id: int, template_id: int, start_ms: int, member_id: int
    ) -> tuple[RosterTemplate, bool]:
        """The member says they cannot make the occurrence of `template_id` starting at `start_ms` (from their
        reminder). Recorded once (the database decides): True only for the first say, which the front door passes
        on to the supervisors; a second press, or a retry from another process, is False and changes nothing."""
        template = await self.template(guild_id, template_id)
        if start_ms + template.duration_minutes * 60_000 <= self.clock():
            raise Conflict(ErrorKind.ROSTER_OCCURRENCE_OVER)
        added = await self.store.add_absence(guild_id, template_id, start_ms, member_id, self.clock())
        return template, added

    async def withdraw_absence(self, guild_id: int, template_id: int, start_ms: int, member_id: int) -> None:
        """Forget a say that could not be passed on (so pressing again tries again)."""
        await self.store.remove_absence(guild_id, template_id, start_ms, member_id)

    async def templates(self, guild_id: int) -> list[RosterTemplate]:
        return await self.store.templates(guild_id)

    async def assign(self, guild_id: int, actor_id: int, template_id: int, kind: TargetKind, target_id: int) -> bool:
        """False when already assigned (nothing changed)."""
        template = await self.template(guild_id, template_id)
        added = await self.store.assign(template_id, kind, target_id, actor_id=actor_id, at_ms=self.clock())
        log.info(
            "roster audit: guild %s actor %s assigned %s %s to template %s (new: %s)",
            guild_id,
            actor_id,
            kind,
            target_id,
            template_id,
            added,
        )
        if added:
            await self._audit(guild_id, actor_id, "assign", template_id, None, f"{kind} {target_id}")
            self.changes.publish(
                RosterAssignmentChanged(guild_id, actor_id, template, kind, target_id, True, audit_source())
            )
        return added

    async def unassign(self, guild_id: int, actor_id: int, template_id: int, kind: TargetKind, target_id: int) -> bool:
        template = await self.template(guild_id, template_id)
        removed = await self.store.unassign(template_id, kind, target_id)
        log.info(
            "roster audit: guild %s actor %s unassigned %s %s from template %s (was assigned: %s)",
            guild_id,
            actor_id,
            kind,
            target_id,
            template_id,
            removed,
        )
        if removed:
            await self._audit(guild_id, actor_id, "unassign", template_id, f"{kind} {target_id}", None)
            self.changes.publish(
                RosterAssignmentChanged(guild_id, actor_id, template, kind, target_id, False, audit_source())
            )
        return removed

    async def _audit(
        self, guild_id: int, actor_id: int, action: str, template_id: int, old: str | None, new: str | None
    ) -> None:
        await self.store.add_audit(guild_id, actor_id, self.clock(), action, template_id, old, new)

    async def history(self, guild_id: int, limit: int = 50) -> list[RosterAuditEntry]:
        """The latest audited roster changes of the guild, newest first."""
        return await self.store.audit(guild_id, limit)

    # -- the schedule --

    async def week(self, guild_id: int, zone: ZoneInfo, day: date) -> list[Occurrence]:
        """The occurrences of the week containing `day` (Monday..Sunday, local dates), plus the previous
        Sunday's that run on into Monday (a timetable shows their overnight part)."""
        monday = week_start(day)
        templates = await self.store.templates(guild_id)
        found = occurrences_between(templates, monday - timedelta(days=1), monday + timedelta(days=6), zone)
        monday_midnight = datetime.combine(monday, time(), tzinfo=zone)
        return [o for o in found if o.day >= monday or o.end > monday_midnight]

    async def template_ids_for(self, guild_id: int, member_id: int, role_ids: Collection[int]) -> set[int]:
        """The templates the member is assigned to, directly or through one of their roles (the viewer's own)."""
        return {
            a.template_id
            for a in await self.store.assignments(guild_id)
            if (a.target_kind == "member" and a.target_id == member_id)
            or (a.target_kind == "role" and a.target_id in role_ids)
        }

    async def upcoming_for(
        self, guild_id: int, zone: ZoneInfo, member_id: int, role_ids: Collection[int], limit: int = 5
    ) -> list[Occurrence]:
        """The member's next occurrences (not yet ended), directly or through one of their roles."""
        templates = await self.store.templates(guild_id)
        mine = await self.template_ids_for(guild_id, member_id, role_ids)
        now = self.clock()
        today = datetime.fromtimestamp(now / 1000, tz=zone).date()
        chosen = [t for t in templates if t.id in mine]
        found = occurrences_between(chosen, today - timedelta(days=1), today + timedelta(days=14), zone)
        return [o for o in found if o.end_ms > now][:limit]

    # -- reminders --

    async def due_reminders(
        self, guild_id: int, zone: ZoneInfo, lead_ms: int, role_members: RoleMembers
    ) -> list[DueReminder]:
        """Reminders due now and not sent, given up or being sent: occurrences starting within `lead_ms` from
        now, or started less than REMINDER_CUTOFF_MS ago (sent late after downtime)."""
        now = self.clock()
        templates = await self.store.templates(guild_id)
        occurrences = [
            o
            for o in occurrences_overlapping(templates, now - REMINDER_CUTOFF_MS, now + lead_ms + 1, zone)
            if now - REMINDER_CUTOFF_MS < o.start_ms <= now + lead_ms
        ]
        if not occurrences:
            return []
        assignments = await self.store.assignments(guild_id)
        taken = await self.store.reminders_taken(guild_id, now - REMINDER_CUTOFF_MS, now - REMINDER_LEASE_MS)
        due: list[DueReminder] = []
        for occurrence in occurrences:
            for member in sorted(members_for(occurrence.template_id, assignments, role_members)):
                if (occurrence.template_id, occurrence.start_ms, member) not in taken:
                    due.append(DueReminder(occurrence, member))
        return due

    async def claim_reminder(self, reminder: DueReminder) -> ReminderClaim | None:
        """This sender's claim on the reminder (a REMINDER_LEASE_MS lease, renewed with `renew_reminder` while
        sending, then `reminder_sent` or `reminder_failed`); None when it is sent, given up, or being sent.
        A claim that took over a dead or failed sender's (`earlier_claim_ms`) may find the reminder already sent."""
        o = reminder.occurrence
        return await self.store.claim_reminder(
            o.template_id, o.start_ms, reminder.member_id, now_ms=self.clock(), lease_ms=REMINDER_LEASE_MS
        )

    async def renew_reminder(self, claim: ReminderClaim) -> ReminderClaim | None:
        """The claim renewed now; None when another sender took it over (this one's lease ran out)."""
        return await self.store.renew_reminder_claim(claim, self.clock())

    async def reminder_sent(self, claim: ReminderClaim, channel_id: int, message_id: int) -> bool:
        """Marks it sent with its message; False when it already was (by another sender)."""
        return await self.store.mark_reminder_sent(
            claim, at_ms=self.clock(), channel_id=channel_id, message_id=message_id
        )

    async def reminder_failed(self, claim: ReminderClaim, failure: str, *, final: bool = False) -> bool:
        """A failed attempt: retried by a later round while the occurrence has not started; after its start (or
        when `final`: the member cannot be reached) given up for good. True when given up (False also when the
        claim was taken over meanwhile: its new holder decides)."""
        now = self.clock()
        give_up = final or now >= claim.occurrence_start_ms
        recorded = await self.store.reminder_failed(claim, failure, given_up_ms=now if give_up else None)
        return give_up and recorded

    async def prune_reminders(self) -> int:
        """Drops reminder claims that can no longer matter: their occurrence started more than the
        cutoff ago, so it is never due again (keeps the table small; run it now and then). Given-up
        ones stay for GIVEN_UP_KEPT_MS: roster attendance shows them."""
        now = self.clock()
        return await self.store.prune_reminders(now - REMINDER_CUTOFF_MS, now - GIVEN_UP_KEPT_MS)

    # -- attendance --

    async def attendance(
        self,
        guild_id: int,
        zone: ZoneInfo,
        start_ms: int,
        end_ms: int,
        role_members: RoleMembers,
        excused: Collection[int] = (),
        rules: AttendanceRules | None = None,
    ) -> list[OccurrenceAttendance]:
        """Attendance of every finished occurrence starting in [start_ms, end_ms), from the recorded shifts.
        `excused`: the members on approved leave then (the leave rules live elsewhere)."""
        rules = rules or AttendanceRules()
        now = self.clock()
        templates = await self.store.templates(guild_id)
        assignments = await self.store.assignments(guild_id)
        found = [
            o
            for o in occurrences_overlapping(templates, start_ms, end_ms, zone)
            if start_ms <= o.start_ms < end_ms and o.end_ms <= now
        ]
        if not found:
            return []
        assigned = {o.template_id: sorted(members_for(o.template_id, assignments, role_members)) for o in found}
        everyone = sorted({m for members in assigned.values() for m in members})
        # One read of the recorded shifts for the whole range, then split per member (not one per occurrence).
        spans_by_member: dict[int, list[DutySpan]] = {}
        for span in await self.store.duty_spans(
            guild_id, min(o.start_ms for o in found), max(o.end_ms for o in found), everyone
        ):
            spans_by_member.setdefault(span.member_id, []).append(span)
        given_up = await self.store.reminders_given_up(
            guild_id, min(o.start_ms for o in found), max(o.start_ms for o in found) + 1
        )
        results: list[OccurrenceAttendance] = []
        for o in found:
            members = [
                classify(
                    m, o.start_ms, o.end_ms, spans_by_member.get(m, []), excused=m in excused, rules=rules, now_ms=now
                )
                for m in assigned[o.template_id]
            ]
            not_reminded = frozenset(m for t, start, m in given_up if t == o.template_id and start == o.start_ms)
            results.append(OccurrenceAttendance(o, members, not_reminded))
        return results

    async def attendance_counts(
        self,
        guild_id: int,
        zone: ZoneInfo,
        start_ms: int,
        end_ms: int,
        role_members: RoleMembers,
        excused: Collection[int] = (),
    ) -> dict[int, AttendanceCounts]:
        """Per member with finished scheduled shifts starting in [start_ms, end_ms): how many they were
        present at, late to, left early, missed, or were excused from (for the activity report)."""
        results = await self.attendance(guild_id, zone, start_ms, end_ms, role_members, excused)
        return count_by_member(a for r in results for a in r.members)
