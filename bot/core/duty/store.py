"""All duty SQL: adjustments, break intervals, period totals, export rows, activity-report claims.

Period reads stay on the guild's indexes (shifts_by_guild_start / _end, the open-shift index,
duty_adjustments_by_guild_time): ended shifts wholly inside a period are summed in SQL from
their stored duration (the same rule, see rule.py); only shifts crossing a boundary and open
shifts come back as rows, to be split in Python.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import replace
from typing import Any

from bot.core.audit import audit_source
from bot.core.duty.records import (
    Adjustment,
    AdjustmentKind,
    ReportClaim,
    ShiftCursor,
    ShiftFilter,
    ShiftListing,
    ShiftPage,
    ShiftSpan,
)
from bot.core.duty.rule import BreakInterval
from bot.storage import Database

Params = Iterable[Any] | Mapping[str, Any]

# Stand-ins for an unbounded period (all time).
FAR_PAST = -(2**62)
FAR_FUTURE = 2**62
_NOT_VOID = "NOT EXISTS (SELECT 1 FROM duty_adjustments v WHERE v.shift_id = s.id AND v.kind = 'void')"
_DEPT = "(CAST(:dept AS TEXT) IS NULL OR s.department = :dept)"
_SPAN = "s.id, s.member_id, s.department, s.started_ms, s.ended_ms, s.break_ms, s.break_started_ms, s.break_count"


class DutyStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    # --- adjustments ---

    async def add_adjustment(
        self, guild_id: int, member_id: int, kind: AdjustmentKind, amount_ms: int, shift_id: str | None,
        reason: str, actor_id: int, at_ms: int, department: str | None = None,
    ) -> Adjustment | None:  # fmt: skip
        """None when the shift is already voided (one void per shift)."""
        rows = await self.db.execute_fetchall(
            "INSERT INTO duty_adjustments"
            " (guild_id, member_id, kind, amount_ms, shift_id, reason, actor_id, at_ms, department, source)"
            " VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT DO NOTHING RETURNING *",
            (guild_id, member_id, kind, amount_ms, shift_id, reason, actor_id, at_ms, department, audit_source()),
        )
        return Adjustment.from_row(rows[0]) if rows else None

    async def adjustment(self, guild_id: int, adjustment_id: int) -> Adjustment | None:
        """One adjustment of the guild (None: not one of its)."""
        rows = await self.db.execute_fetchall(
            "SELECT * FROM duty_adjustments WHERE guild_id = ? AND id = ?", (guild_id, adjustment_id)
        )
        return Adjustment.from_row(rows[0]) if rows else None

    async def history(self, guild_id: int, member_id: int, limit: int = 500) -> list[Adjustment]:
        rows = await self.db.execute_fetchall(
            "SELECT * FROM duty_adjustments WHERE guild_id = ? AND member_id = ? ORDER BY at_ms DESC, id DESC LIMIT ?",
            (guild_id, member_id, limit),
        )
        return [Adjustment.from_row(r) for r in rows]

    async def adjustments_in(
        self, guild_id: int, start_ms: int | None, end_ms: int | None, member_id: int | None = None
    ) -> list[Adjustment]:
        rows = await self.db.execute_fetchall(
            "SELECT * FROM duty_adjustments WHERE guild_id = :g AND at_ms >= :a AND at_ms < :b"
            " AND (CAST(:m AS BIGINT) IS NULL OR member_id = :m) ORDER BY at_ms, id",
            {"g": guild_id, "a": _lo(start_ms), "b": _hi(end_ms), "m": member_id},
        )
        return [Adjustment.from_row(r) for r in rows]

    async def adjustment_sums(
        self, guild_id: int, start_ms: int | None, end_ms: int | None, department: str | None = None
    ) -> dict[int, int]:
        """Per member: adds minus subtracts made in [start, end); with a department, only those made for it
        (None: all of them, with or without a department)."""
        rows = await self.db.execute_fetchall(
            "SELECT member_id, CAST(SUM(CASE kind WHEN 'add' THEN amount_ms ELSE -amount_ms END) AS BIGINT)"
            " FROM duty_adjustments WHERE guild_id = :g AND at_ms >= :a AND at_ms < :b AND kind != 'void'"
            " AND (CAST(:dept AS TEXT) IS NULL OR department = :dept) GROUP BY member_id",
            {"g": guild_id, "a": _lo(start_ms), "b": _hi(end_ms), "dept": department},
        )
        return {int(r[0]): int(r[1]) for r in rows}

    async def voided(self, shift_ids: list[str]) -> set[str]:
        if not shift_ids:
            return set()
        marks = ",".join("?" * len(shift_ids))
        rows = await self.db.execute_fetchall(
            f"SELECT shift_id FROM duty_adjustments WHERE kind = 'void' AND shift_id IN ({marks})", shift_ids
        )
        return {str(r[0]) for r in rows}

    async def shift(self, guild_id: int, shift_id: str) -> ShiftSpan | None:
        rows = await self.db.execute_fetchall(
            f"SELECT {_SPAN} FROM shifts s WHERE s.guild_id = ? AND s.id = ?", (guild_id, shift_id)
        )
        return ShiftSpan.from_row(rows[0]) if rows else None

    # --- break intervals (written by the shifts store's break toggle) ---

    async def break_intervals(self, shift_ids: list[str]) -> dict[str, list[BreakInterval]]:
        found: dict[str, list[BreakInterval]] = {}
        for i in range(0, len(shift_ids), 500):
            chunk = shift_ids[i : i + 500]
            rows = await self.db.execute_fetchall(
                "SELECT shift_id, started_ms, ended_ms FROM shift_breaks"
                f" WHERE shift_id IN ({','.join('?' * len(chunk))})"
                " ORDER BY shift_id, started_ms",
                chunk,
            )
            for r in rows:
                found.setdefault(str(r[0]), []).append(BreakInterval(int(r[1]), r[2]))
        return found

    # --- period totals ---

    async def inside_totals(
        self, guild_id: int, start_ms: int | None, end_ms: int | None, department: str | None
    ) -> dict[int, tuple[int, int]]:
        """Per member: (summed stored duration, count) of ended, not voided shifts wholly inside [start, end).

        Summed over all of them on a covering index, then the few voided ones taken off (a NOT EXISTS per
        shift would cost one lookup per shift of the guild for all time)."""
        params = {"g": guild_id, "a": _lo(start_ms), "b": _hi(end_ms), "dept": department}
        inside = "s.started_ms >= :a AND s.ended_ms IS NOT NULL AND s.ended_ms <= :b AND " + _DEPT
        if start_ms is None and end_ms is None:
            source, where = "shifts s INDEXED BY shifts_by_guild_member_duty", "s.ended_ms IS NOT NULL AND " + _DEPT
        else:
            source, where = "shifts s INDEXED BY shifts_by_guild_start", inside
        rows = await self.db.execute_fetchall(
            f"SELECT s.member_id, CAST(SUM(s.duration_ms) AS BIGINT), COUNT(*) FROM {source}"
            f" WHERE s.guild_id = :g AND {where} GROUP BY s.member_id",
            params,
        )
        totals = {int(r[0]): (int(r[1]), int(r[2])) for r in rows}
        voided = await self.db.execute_fetchall(
            "SELECT s.member_id, CAST(SUM(s.duration_ms) AS BIGINT), COUNT(*) FROM duty_adjustments v"
            " INDEXED BY duty_adjustments_voids_by_guild JOIN shifts s ON s.id = v.shift_id"
            f" WHERE v.guild_id = :g AND v.kind = 'void' AND s.guild_id = :g AND {inside} GROUP BY s.member_id",
            params,
        )
        for r in voided:
            ms, n = totals[int(r[0])]
            totals[int(r[0])] = (ms - int(r[1]), n - int(r[2]))
        return {m: v for m, v in totals.items() if v[1] > 0}

    async def crossing_and_open(
        self, guild_id: int, start_ms: int | None, end_ms: int | None, department: str | None
    ) -> list[ShiftSpan]:
        """Not voided shifts to split: ended ones crossing a bound of [start, end), and open ones started before end."""
        params = {"g": guild_id, "a": _lo(start_ms), "b": _hi(end_ms), "dept": department}
        parts = [
            f"SELECT {_SPAN} FROM shifts s WHERE s.guild_id = :g AND s.ended_ms IS NULL AND s.started_ms < :b"
            f" AND {_DEPT} AND {_NOT_VOID}"
        ]
        if start_ms is not None:
            parts.append(
                f"SELECT {_SPAN} FROM shifts s INDEXED BY shifts_by_guild_end WHERE s.guild_id = :g"
                f" AND s.ended_ms > :a AND s.started_ms < :a AND {_DEPT} AND {_NOT_VOID}"
            )
        if end_ms is not None:
            parts.append(
                f"SELECT {_SPAN} FROM shifts s INDEXED BY shifts_by_guild_start WHERE s.guild_id = :g"
                f" AND s.started_ms >= :a AND s.started_ms < :b AND s.ended_ms > :b AND {_DEPT} AND {_NOT_VOID}"
            )
        rows = await self.db.execute_fetchall(" UNION ".join(parts), params)
        return [ShiftSpan.from_row(r) for r in rows]

    # --- in-game time (the rule: bot/core/duty/rule.py) ---

    async def has_game_links(self, guild_id: int) -> bool:
        """Whether any member of the guild is linked to a Roblox account (in-game time means something here)."""
        rows = await self.db.execute_fetchall("SELECT 1 FROM erlc_links WHERE guild_id = ? LIMIT 1", (guild_id,))
        return bool(rows)

    async def in_game_by_shift(
        self, guild_id: int, start_ms: int | None, end_ms: int | None, now_ms: int, department: str | None = None,
        member_id: int | None = None,
    ) -> dict[str, tuple[int, int]]:  # fmt: skip
        """Per shift overlapping [start, end) (not voided; of the department / member when given): its member,
        and the time the member was in game during its duty inside the period. One statement for the whole guild:
        the shifts' parts, their breaks, and the members' in-game stretches from the presence history (read from
        the earliest part on, with each member's state just before it), overlapped in SQL. Shifts with no time in
        game are left out."""
        rows = await self.db.execute_fetchall(
            "WITH sh AS ("
            " SELECT s.id, s.member_id, GREATEST(s.started_ms, :a) AS lo,"
            " LEAST(COALESCE(s.ended_ms, GREATEST(:now, s.started_ms)), :b) AS hi"
            " FROM shifts s WHERE s.guild_id = :g AND s.started_ms < :b AND (s.ended_ms IS NULL OR s.ended_ms > :a)"
            f" AND {_DEPT} AND (CAST(:m AS BIGINT) IS NULL OR s.member_id = :m) AND {_NOT_VOID}),"
            " part AS (SELECT id, member_id, lo, hi, 1 AS sign FROM sh WHERE hi > lo"
            # A break inside the part: its in-game time is taken off (an open break runs to the part's end).
            " UNION ALL SELECT sh.id, sh.member_id, GREATEST(k.started_ms, sh.lo),"
            " LEAST(COALESCE(k.ended_ms, sh.hi), sh.hi), -1 FROM sh JOIN shift_breaks k ON k.shift_id = sh.id"
            " WHERE LEAST(COALESCE(k.ended_ms, sh.hi), sh.hi) > GREATEST(k.started_ms, sh.lo)),"
            " earliest AS (SELECT COALESCE(MIN(lo), 0) AS lo FROM sh),"
            " who AS (SELECT l.discord_id, l.roblox_id FROM erlc_links l WHERE l.guild_id = :g"
            " AND l.discord_id IN (SELECT member_id FROM sh)),"
            " ev AS ("
            " SELECT w.discord_id AS member_id, h.kind, h.at_ms, h.id FROM erlc_presence_history h"
            " JOIN who w ON w.roblox_id = h.user_id"
            " WHERE h.guild_id = :g AND h.at_ms >= (SELECT lo FROM earliest) AND h.at_ms < :b"
            # Each member's state just before the earliest part (in game or not), as a row at that moment.
            " UNION ALL SELECT w.discord_id, (SELECT h.kind FROM erlc_presence_history h WHERE h.guild_id = :g"
            " AND h.user_id = w.roblox_id AND h.at_ms < (SELECT lo FROM earliest) ORDER BY h.at_ms DESC, h.id DESC"
            " LIMIT 1), (SELECT lo FROM earliest), 0 FROM who w),"
            " seg AS (SELECT member_id, kind, at_ms AS s,"
            " LEAD(at_ms) OVER (PARTITION BY member_id ORDER BY at_ms, id) AS e FROM ev),"
            " play AS (SELECT member_id, s, COALESCE(e, GREATEST(:now, s)) AS e FROM seg"
            " WHERE kind IS NOT NULL AND kind != 'leave')"
            " SELECT part.id, part.member_id,"
            " CAST(SUM(part.sign * GREATEST(0, LEAST(play.e, part.hi) - GREATEST(play.s, part.lo))) AS BIGINT) AS ms"
            " FROM part JOIN play ON play.member_id = part.member_id"
            " AND play.s < part.hi AND play.e > part.lo GROUP BY part.id, part.member_id",
            {"g": guild_id, "a": _lo(start_ms), "b": _hi(end_ms), "now": now_ms, "dept": department, "m": member_id},
        )
        return {str(r[0]): (int(r[1]), int(r[2])) for r in rows if int(r[2]) > 0}

    # --- export ---

    async def export_shifts(
        self, guild_id: int, start_ms: int | None, end_ms: int | None, member_id: int | None, limit: int
    ) -> list[tuple[ShiftSpan, str | None]]:
        """Shifts overlapping [start, end) (voided too), oldest first, with their sync state."""
        rows = await self.db.execute_fetchall(
            f"SELECT {_SPAN}, s.sync_state FROM shifts s WHERE s.guild_id = :g AND s.started_ms < :b"
            " AND (s.ended_ms IS NULL OR s.ended_ms > :a) AND (CAST(:m AS BIGINT) IS NULL OR s.member_id = :m)"
            " ORDER BY s.started_ms, s.id LIMIT :limit",
            {"g": guild_id, "a": _lo(start_ms), "b": _hi(end_ms), "m": member_id, "limit": limit},
        )
        return [(ShiftSpan.from_row(r), r["sync_state"]) for r in rows]

    # --- the shift list (the dashboard) ---

    async def shift_page(self, guild_id: int, wanted: ShiftFilter, after: ShiftCursor | None, limit: int) -> ShiftPage:
        """Shifts of the guild started in [start, end), newest first, `limit` of them after the cursor.

        Keyset: the cursor becomes the upper bound of the index range (`started_ms < cursor + 1`), so a deep page
        reads only its own rows. One member: their index (guild, member, start); else the guild's by start, which
        also carries the department (a department filter reads no table row it does not show)."""
        hi = _hi(wanted.end_ms) if after is None else min(_hi(wanted.end_ms), after.started_ms + 1)
        params = {
            "g": guild_id, "a": _lo(wanted.start_ms), "b": hi, "dept": wanted.department, "m": wanted.member_id,
            "cs": FAR_FUTURE if after is None else after.started_ms, "ci": "" if after is None else after.shift_id,
            "limit": limit + 1,
        }  # fmt: skip
        if wanted.member_id is None:
            source, member = "shifts s INDEXED BY shifts_by_guild_start", ""
        else:
            source, member = "shifts s INDEXED BY shifts_by_member", " AND s.member_id = :m"
        rows = await self.db.execute_fetchall(
            f"SELECT {_SPAN}, s.officer_name, s.callsign, s.end_reason, s.sync_state,"
            " CASE WHEN v.shift_id IS NULL THEN 0 ELSE 1 END AS voided"
            f" FROM {source} LEFT JOIN duty_adjustments v ON v.shift_id = s.id AND v.kind = 'void'"
            f" WHERE s.guild_id = :g{member} AND s.started_ms >= :a AND s.started_ms < :b AND {_DEPT}"
            " AND (s.started_ms < :cs OR s.id < :ci)"
            " ORDER BY s.started_ms DESC, s.id DESC LIMIT :limit",
            params,
        )
        items = [ShiftListing.from_row(r) for r in rows[:limit]]
        more = len(rows) > limit and items
        return ShiftPage(items, ShiftCursor(items[-1].span.started_ms, items[-1].span.id) if more else None)

    async def member_names(self, guild_id: int, member_ids: Iterable[int]) -> dict[int, str]:
        """Each member's officer name on their latest shift (what the bot knew them as; members without a shift
        are left out): the dashboard's fallback when Discord has no name for them."""
        wanted = sorted(set(member_ids))
        names: dict[int, str] = {}
        for i in range(0, len(wanted), 500):
            chunk = wanted[i : i + 500]
            values = ", ".join(["(CAST(? AS BIGINT))"] + ["(?)"] * (len(chunk) - 1))
            rows = await self.db.execute_fetchall(
                "SELECT m.member_id, (SELECT l.officer_name FROM shifts l INDEXED BY shifts_by_member"
                " WHERE l.guild_id = ? AND l.member_id = m.member_id ORDER BY l.started_ms DESC LIMIT 1)"
                f" FROM (SELECT column1 AS member_id FROM (VALUES {values}) AS v) AS m",
                (guild_id, *chunk),
            )
            names.update({int(r[0]): str(r[1]) for r in rows if r[1] is not None})
        return names

    # --- activity reports, exactly once ---

    async def claim_report(
        self, guild_id: int, period_start_ms: int, period_end_ms: int, now_ms: int, lease_ms: int
    ) -> ReportClaim | None:
        """Claim the period's report: a new row, or one whose claim was last renewed `lease_ms` ago or earlier
        and never marked posted (its claimer died, or failed, maybe after posting: `earlier_claim_ms` says so).
        None: posted already, or claimed by someone still working. One row per guild and period; a takeover
        is a compare-and-set on the claim it replaces, so two claimers never both take it over."""
        rows = await self.db.execute_fetchall(
            "SELECT period_end_ms, claimed_at_ms, posted_at_ms FROM activity_reports"
            " WHERE guild_id = ? AND period_start_ms = ?",
            (guild_id, period_start_ms),
        )
        if not rows:
            inserted = await self.db.execute_fetchall(
                "INSERT INTO activity_reports (guild_id, period_start_ms, period_end_ms, claimed_at_ms)"
                " VALUES (?,?,?,?) ON CONFLICT (guild_id, period_start_ms) DO NOTHING RETURNING claimed_at_ms",
                (guild_id, period_start_ms, period_end_ms, now_ms),
            )
            return ReportClaim(guild_id, period_start_ms, period_end_ms, now_ms) if inserted else None
        end_ms, earlier_ms, posted_ms = int(rows[0][0]), int(rows[0][1]), rows[0][2]
        if posted_ms is not None or earlier_ms > now_ms - lease_ms:
            return None
        taken = await self.db.execute(
            "UPDATE activity_reports SET claimed_at_ms = ? WHERE guild_id = ? AND period_start_ms = ?"
            " AND posted_at_ms IS NULL AND claimed_at_ms = ?",
            (now_ms, guild_id, period_start_ms, earlier_ms),
        )
        return ReportClaim(guild_id, period_start_ms, end_ms, now_ms, earlier_ms) if taken == 1 else None

    async def renew_report_claim(self, claim: ReportClaim, now_ms: int) -> ReportClaim | None:
        """The claim renewed to `now_ms`, when it is still this claimer's (nobody took it over) and not posted."""
        renewed_ms = max(now_ms, claim.claimed_at_ms)
        changed = await self.db.execute(
            "UPDATE activity_reports SET claimed_at_ms = ? WHERE guild_id = ? AND period_start_ms = ?"
            " AND posted_at_ms IS NULL AND claimed_at_ms = ?",
            (renewed_ms, claim.guild_id, claim.period_start_ms, claim.claimed_at_ms),
        )
        return replace(claim, claimed_at_ms=renewed_ms) if changed == 1 else None

    async def mark_report_posted(
        self, guild_id: int, period_start_ms: int, posted_at_ms: int, channel_id: int | None, message_id: int | None
    ) -> bool:
        changed = await self.db.execute(
            "UPDATE activity_reports SET posted_at_ms = ?, channel_id = ?, message_id = ?"
            " WHERE guild_id = ? AND period_start_ms = ? AND posted_at_ms IS NULL",
            (posted_at_ms, channel_id, message_id, guild_id, period_start_ms),
        )
        return changed == 1

    async def report_posted_at(self, guild_id: int, period_start_ms: int) -> int | None:
        rows = await self.db.execute_fetchall(
            "SELECT posted_at_ms FROM activity_reports WHERE guild_id = ? AND period_start_ms = ?",
            (guild_id, period_start_ms),
        )
        return rows[0][0] if rows else None


def _lo(start_ms: int | None) -> int:
    return FAR_PAST if start_ms is None else start_ms


def _hi(end_ms: int | None) -> int:
    return FAR_FUTURE if end_ms is None else end_ms


async def recent_ended_shifts(db: Database, guild_id: int, member_id: int | None, limit: int) -> list[ShiftSpan]:
    """The guild's (or one member's) latest ended shifts, newest first: what /shift admin void offers."""
    rows = await db.execute_fetchall(
        f"SELECT {_SPAN} FROM shifts s WHERE s.guild_id = :g AND s.ended_ms IS NOT NULL"
        " AND (CAST(:m AS BIGINT) IS NULL OR s.member_id = :m) ORDER BY s.ended_ms DESC LIMIT :limit",
        {"g": guild_id, "m": member_id, "limit": limit},
    )
    return [ShiftSpan.from_row(r) for r in rows]
