"""Duty management without Discord: adjustments (audited), period totals split at boundaries,
the leaderboard, the activity report against quotas, the CSV export, and the exactly-once claim
of a period's activity report. Every per-server setting (time zone, week start, period kind,
quotas, who is on leave) is passed in by the caller.

Adjustments are local: Northca has no endpoint to change a written shift. add/subtract count in
the period they were made in, for the department they name (a department filter counts only those
made for it; one without a department counts only in unfiltered totals); a void keeps the shift
and excludes it from every total.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from zoneinfo import ZoneInfo

from bot.core.audit import audit_source
from bot.core.changes import ChangeNotices
from bot.core.duty.export import MAX_EXPORT_BYTES, ExportedCsv, build_csv
from bot.core.duty.periods import ActivityKind, Period, last_ended_activity_period
from bot.core.duty.records import (
    ActivityLine,
    Adjustment,
    AdjustmentKind,
    DutyAdjusted,
    MemberDuty,
    ReportClaim,
    ShiftCursor,
    ShiftFilter,
    ShiftPage,
    WeekDuty,
)
from bot.core.duty.rule import part_duty_ms
from bot.core.duty.store import DutyStore
from bot.core.errors import Conflict, ErrorKind, InvalidInput
from bot.core.timefmt import duration_text, now_ms

log = logging.getLogger(__name__)

MAX_ADJUSTMENT_MS = 7 * 24 * 3600 * 1000
MAX_REASON_CHARS = 300
# A claimed report not marked posted, and its claim not renewed for this long, is claimed again (the claimer
# died). The claimer renews it every REPORT_RENEW_MS while it posts (a report is up to ten messages).
REPORT_LEASE_MS = 30 * 1000
REPORT_RENEW_MS = 10 * 1000
EXPORT_MAX_SHIFTS = 250_000


@dataclass(frozen=True)
class ReportDue:
    """The activity period that ended last, and its claim when this caller is to post it."""

    period: Period
    claim: ReportClaim | None


class DutyService:
    def __init__(
        self, store: DutyStore, clock: Callable[[], int] = now_ms, changes: ChangeNotices | None = None
    ) -> None:
        self.store = store
        self.clock = clock
        # Every adjustment and void published (the shift log in Discord shows the dashboard's too).
        self.changes = changes if changes is not None else ChangeNotices(None)

    # --- adjustments ---

    async def add_time(
        self, guild_id: int, member_id: int, amount_ms: int, reason: str, actor_id: int, department: str | None = None
    ) -> Adjustment:
        """`department`: already matched by the department rule (bot/core/departments.py); None for none."""
        return await self._adjust(guild_id, member_id, "add", amount_ms, reason, actor_id, department)

    async def subtract_time(
        self, guild_id: int, member_id: int, amount_ms: int, reason: str, actor_id: int, department: str | None = None
    ) -> Adjustment:
        return await self._adjust(guild_id, member_id, "subtract", amount_ms, reason, actor_id, department)

    async def void_shift(self, guild_id: int, shift_id: str, reason: str, actor_id: int) -> Adjustment:
        why = _reason(reason)
        shift = await self.store.shift(guild_id, shift_id)
        if shift is None:
            raise InvalidInput(ErrorKind.NO_SUCH_SHIFT, shift_id=shift_id[:64])
        if shift.ended_ms is None:
            raise Conflict(ErrorKind.SHIFT_STILL_OPEN)
        done = await self.store.add_adjustment(
            guild_id, shift.member_id, "void", 0, shift_id, why, actor_id, self.clock()
        )
        if done is None:
            raise Conflict(ErrorKind.SHIFT_ALREADY_VOIDED)
        self.changes.publish(DutyAdjusted(guild_id, done, audit_source()))
        log.info("duty: %s voided shift %s of member %s in guild %s (%s): %s", actor_id, shift_id, shift.member_id,
                 guild_id, audit_source(), why)  # fmt: skip
        return done

    async def _adjust(
        self, guild_id: int, member_id: int, kind: AdjustmentKind, amount_ms: int, reason: str, actor_id: int,
        department: str | None,
    ) -> Adjustment:  # fmt: skip
        if amount_ms < 1000:
            raise InvalidInput(ErrorKind.DURATION_TOO_SHORT)
        if amount_ms > MAX_ADJUSTMENT_MS:
            raise InvalidInput(ErrorKind.ADJUSTMENT_TOO_LARGE, most_ms=MAX_ADJUSTMENT_MS)
        why = _reason(reason)
        done = await self.store.add_adjustment(
            guild_id, member_id, kind, amount_ms, None, why, actor_id, self.clock(), department
        )
        assert done is not None  # only voids can conflict
        self.changes.publish(DutyAdjusted(guild_id, done, audit_source()))
        log.info("duty: %s %s %s (department %s) for member %s in guild %s (%s): %s", actor_id, kind,
                 duration_text(amount_ms), department or "none", member_id, guild_id, audit_source(), why)  # fmt: skip
        return done

    async def history(self, guild_id: int, member_id: int) -> list[Adjustment]:
        return await self.store.history(guild_id, member_id)

    # --- totals ---

    async def totals(
        self,
        guild_id: int,
        period: Period,
        *,
        department: str | None = None,
        now: int | None = None,
        in_game: bool = False,
    ) -> dict[int, MemberDuty]:
        """Per member, duty time inside the period: shifts split at its bounds, open shifts up to now,
        voided shifts left out, adjustments made in it added (with a department filter: those made for it).
        `in_game`: also, of it, the time in game (one more statement for the guild), when it has ER:LC links."""
        current = now if now is not None else self.clock()
        start, end = period.start_ms, period.end_ms
        inside = await self.store.inside_totals(guild_id, start, end, department)
        spans = await self.store.crossing_and_open(guild_id, start, end, department)
        need_intervals = [s.id for s in spans if s.break_count > 0]
        intervals = await self.store.break_intervals(need_intervals)
        sums: dict[int, list[int]] = {m: [ms, n, 0] for m, (ms, n) in inside.items()}
        for span in spans:
            own = intervals.get(span.id, [])
            part = part_duty_ms(
                span.started_ms, span.until_ms(current), span.break_total_ms(current), start, end,
                own if len(own) >= span.break_count else None,
            )  # fmt: skip
            entry = sums.setdefault(span.member_id, [0, 0, 0])
            entry[0] += part
            entry[1] += 1
            if span.ended_ms is None:
                entry[2] = 1
        for member, signed in (await self.store.adjustment_sums(guild_id, start, end, department)).items():
            sums.setdefault(member, [0, 0, 0])[0] += signed
        played = await self._in_game_by_member(guild_id, period, current, department) if in_game else None
        return {
            m: MemberDuty(m, v[0], v[1], bool(v[2]), None if played is None else played.get(m, 0))
            for m, v in sums.items()
        }

    async def _in_game_by_member(
        self, guild_id: int, period: Period, now: int, department: str | None
    ) -> dict[int, int] | None:
        if not await self.store.has_game_links(guild_id):
            return None
        by_shift = await self.store.in_game_by_shift(guild_id, period.start_ms, period.end_ms, now, department)
        played: dict[int, int] = {}
        for member, ms in by_shift.values():
            played[member] = played.get(member, 0) + ms
        return played

    async def leaderboard(
        self, guild_id: int, period: Period, *, department: str | None = None, now: int | None = None
    ) -> list[MemberDuty]:
        """Most duty time first (ties by member id); members with no time in the period left out."""
        totals = await self.totals(guild_id, period, department=department, now=now, in_game=True)
        return sorted((t for t in totals.values() if t.duty_ms > 0 or t.open), key=lambda t: (-t.duty_ms, t.member_id))

    async def activity(
        self,
        guild_id: int,
        period: Period,
        member_roles: Mapping[int, Collection[int]],
        role_quotas_ms: Mapping[int, int],
        on_leave: Collection[int],
        *,
        now: int | None = None,
        quota_in_game: bool = False,
    ) -> list[ActivityLine]:
        """Each member holding a quota role: duty time (and of it the time in game), quota (the highest among their
        roles), leave. `quota_in_game` (the server's `erlc.quota_in_game`): the quota counts the time in game.
        Not met first, then by the time counted."""
        totals = await self.totals(guild_id, period, now=now, in_game=True)
        lines = []
        for member, roles in member_roles.items():
            quotas = [role_quotas_ms[r] for r in roles if r in role_quotas_ms]
            if not quotas:
                continue
            duty = totals.get(member)
            duty_now = duty.duty_ms if duty else 0
            lines.append(
                ActivityLine(
                    member,
                    duty_now,
                    max(quotas),
                    member in on_leave,
                    bool(duty and duty.open),
                    duty.in_game_ms if duty is not None else (0 if quota_in_game else None),
                    quota_in_game,
                )
            )
        return sorted(lines, key=lambda line: (line.met, -line.counted_ms, line.member_id))

    async def weekly(
        self, guild_id: int, weeks: Sequence[tuple[date, Period]], *, member_id: int | None = None,
        department: str | None = None, now: int | None = None,
    ) -> list[WeekDuty]:  # fmt: skip
        """Duty time of each week (`recent_weeks`): the guild's together, or one member's. Each week is the
        leaderboard's own totals (the one rule, split at the week's bounds), so the chart and the board agree."""
        current = now if now is not None else self.clock()
        found = []
        # One week after the other, not side by side: the reads then take turns with the bot's own statements on
        # the shared connection (a page's sixty reads queued at once put a /shift start behind all of them).
        for first_day, period in weeks:
            totals = await self.totals(guild_id, period, department=department, now=current)
            if member_id is not None:
                duty = totals[member_id].duty_ms if member_id in totals else 0
            else:
                duty = sum(t.duty_ms for t in totals.values())
            found.append(WeekDuty(period, first_day, duty))
        return found

    # --- the shift list ---

    async def shift_page(
        self, guild_id: int, wanted: ShiftFilter, after: ShiftCursor | None = None, limit: int = 50
    ) -> ShiftPage:
        """A page of the guild's shifts, newest first (keyset pages: `page.next_cursor` gives the next)."""
        if not 1 <= limit <= 200:
            raise ValueError("limit must be within 1..200")
        return await self.store.shift_page(guild_id, wanted, after, limit)

    async def member_names(self, guild_id: int, member_ids: Iterable[int]) -> dict[int, str]:
        return await self.store.member_names(guild_id, member_ids)

    # --- export ---

    async def export_csv(
        self,
        guild_id: int,
        period: Period,
        *,
        member_id: int | None = None,
        now: int | None = None,
        max_bytes: int = MAX_EXPORT_BYTES,
    ) -> ExportedCsv:
        current = now if now is not None else self.clock()
        shifts = await self.store.export_shifts(guild_id, period.start_ms, period.end_ms, member_id, EXPORT_MAX_SHIFTS)
        adjustments = await self.store.adjustments_in(guild_id, period.start_ms, period.end_ms, member_id)
        voided = await self.store.voided([s.id for s, _ in shifts])
        in_game = (
            {
                shift_id: ms
                for shift_id, (_, ms) in (
                    await self.store.in_game_by_shift(
                        guild_id, period.start_ms, period.end_ms, current, member_id=member_id
                    )
                ).items()
            }
            if await self.store.has_game_links(guild_id)
            else None
        )
        return build_csv(shifts, adjustments, voided, current, max_bytes, in_game)

    # --- activity reports ---

    async def report_due(
        self,
        guild_id: int,
        kind: ActivityKind,
        tz: ZoneInfo,
        week_start: int,
        anchor: date | None = None,
        *,
        now: int | None = None,
    ) -> ReportDue:
        """The period that ended last and, when its report is not posted yet and nobody else is posting
        it, the claim to post it (renewed with `renew_report` while posting, then `report_posted`). Late is
        fine: a bot down at the boundary posts on its next check. A claim that took over an earlier one
        (`claim.earlier_claim_ms`) may find the report already posted by that claimer."""
        current = now if now is not None else self.clock()
        period = last_ended_activity_period(current, kind, tz, week_start, anchor)
        assert period.start_ms is not None and period.end_ms is not None
        claim = await self.store.claim_report(guild_id, period.start_ms, period.end_ms, current, REPORT_LEASE_MS)
        return ReportDue(period, claim)

    async def renew_report(self, claim: ReportClaim, now: int) -> ReportClaim | None:
        """The claim, renewed for another lease; None when another claimer took it over or it was posted."""
        return await self.store.renew_report_claim(claim, now)

    async def report_posted(
        self, claim: ReportClaim, channel_id: int | None = None, message_id: int | None = None
    ) -> bool:
        return await self.store.mark_report_posted(claim.guild_id, claim.period_start_ms, self.clock(), channel_id,
                                                   message_id)  # fmt: skip


def _reason(reason: str) -> str:
    text = " ".join(reason.split())
    if not text:
        raise InvalidInput(ErrorKind.REASON_MISSING)
    if len(text) > MAX_REASON_CHARS:
        raise InvalidInput(ErrorKind.REASON_TOO_LONG, length=len(text), most=MAX_REASON_CHARS)
    return text
