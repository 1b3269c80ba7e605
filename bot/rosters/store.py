"""The roster tables (migrations 017, 023, 027): every SQL statement about rosters, and nothing else.

Portable SQL (also valid on PostgreSQL): no SQLite-only functions; ON CONFLICT DO NOTHING for the
reminder claims, and compare-and-set updates for their leases.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from bot.audit import audit_source
from bot.rosters.attendance import DutySpan
from bot.rosters.records import (
    Assignment,
    ReminderClaim,
    RosterAuditEntry,
    RosterTemplate,
    TargetKind,
    TemplateDraft,
)
from bot.storage import Database
from bot.storage.turns import take_turn

_TEMPLATE_COLUMNS = (
    "id, guild_id, name, department, start_minute, duration_minutes, days_mask, valid_from, valid_until,"
    " created_by, created_ms, updated_ms"
)


def _iso(value: date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _key(claim: ReminderClaim) -> tuple[int, int, int]:
    return claim.template_id, claim.occurrence_start_ms, claim.member_id


def _draft_values(draft: TemplateDraft) -> tuple[str, str | None, int, int, int, str | None, str | None]:
    """The draft's columns, in the order name .. valid_until."""
    return (
        draft.name, draft.department, draft.start_minute, draft.duration_minutes, draft.days_mask,
        _iso(draft.valid_from), _iso(draft.valid_until),
    )  # fmt: skip


class RosterStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def insert_template(
        self, guild_id: int, draft: TemplateDraft, *, actor_id: int, at_ms: int, limit: int
    ) -> RosterTemplate | None:
        """The new template; None (nothing written) when the guild already has `limit` templates.
        IntegrityError on a taken name. The count and the insert hold the guild's roster turn
        (bot/storage/turns.py): on PostgreSQL two creates at once, in two processes, would otherwise both
        count one below the limit and both insert."""
        async with self.db.transaction() as tx:
            await take_turn(tx, guild_id, "roster_templates")
            rows = await tx.execute_fetchall(
                "INSERT INTO roster_templates (guild_id, name, department, start_minute, duration_minutes,"
                " days_mask, valid_from, valid_until, created_by, created_ms, updated_ms)"
                " SELECT ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?"
                " WHERE (SELECT COUNT(*) FROM roster_templates WHERE guild_id = ?) < ?"
                f" RETURNING {_TEMPLATE_COLUMNS}",
                (guild_id, *_draft_values(draft), actor_id, at_ms, at_ms, guild_id, limit),
            )
        return RosterTemplate.from_row(rows[0]) if rows else None

    async def update_template(
        self, guild_id: int, template_id: int, draft: TemplateDraft, *, at_ms: int
    ) -> RosterTemplate | None:
        rows = await self.db.execute_fetchall(
            "UPDATE roster_templates SET name = ?, department = ?, start_minute = ?, duration_minutes = ?,"
            " days_mask = ?, valid_from = ?, valid_until = ?, updated_ms = ? WHERE guild_id = ? AND id = ?"
            f" RETURNING {_TEMPLATE_COLUMNS}",
            (*_draft_values(draft), at_ms, guild_id, template_id),
        )
        return RosterTemplate.from_row(rows[0]) if rows else None

    async def delete_template(self, guild_id: int, template_id: int) -> bool:
        """Deletes the template with its assignments (one transaction); False when it is not this guild's."""
        async with self.db.transaction() as conn:
            deleted = await conn.execute(
                "DELETE FROM roster_templates WHERE guild_id = ? AND id = ?", (guild_id, template_id)
            )
            if deleted:
                await conn.execute("DELETE FROM roster_assignments WHERE template_id = ?", (template_id,))
        return bool(deleted)

    async def get(self, guild_id: int, template_id: int) -> RosterTemplate | None:
        row = await self.db.fetchone(
            f"SELECT {_TEMPLATE_COLUMNS} FROM roster_templates WHERE guild_id = ? AND id = ?", (guild_id, template_id)
        )
        return RosterTemplate.from_row(row) if row is not None else None

    async def by_name(self, guild_id: int, name: str) -> RosterTemplate | None:
        row = await self.db.fetchone(
            f"SELECT {_TEMPLATE_COLUMNS} FROM roster_templates WHERE guild_id = ? AND LOWER(name) = LOWER(?)",
            (guild_id, name),
        )
        return RosterTemplate.from_row(row) if row is not None else None

    async def templates(self, guild_id: int) -> list[RosterTemplate]:
        rows = await self.db.fetchall(
            f"SELECT {_TEMPLATE_COLUMNS} FROM roster_templates WHERE guild_id = ? ORDER BY start_minute, name",
            (guild_id,),
        )
        return [RosterTemplate.from_row(r) for r in rows]

    async def assign(self, template_id: int, kind: TargetKind, target_id: int, *, actor_id: int, at_ms: int) -> bool:
        """False when it was already assigned."""
        changed = await self.db.execute(
            "INSERT INTO roster_assignments (template_id, target_kind, target_id, assigned_by, assigned_ms)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            (template_id, kind, target_id, actor_id, at_ms),
        )
        return changed > 0

    async def unassign(self, template_id: int, kind: TargetKind, target_id: int) -> bool:
        changed = await self.db.execute(
            "DELETE FROM roster_assignments WHERE template_id = ? AND target_kind = ? AND target_id = ?",
            (template_id, kind, target_id),
        )
        return changed > 0

    async def assignments(self, guild_id: int) -> list[Assignment]:
        rows = await self.db.fetchall(
            "SELECT a.template_id, a.target_kind, a.target_id FROM roster_assignments a"
            " JOIN roster_templates t ON t.id = a.template_id WHERE t.guild_id = ?"
            " ORDER BY a.template_id, a.target_kind, a.target_id",
            (guild_id,),
        )
        return [Assignment.from_row(r) for r in rows]

    async def reminders_taken(self, guild_id: int, since_ms: int, live_after_ms: int) -> set[tuple[int, int, int]]:
        """(template, occurrence start, member) of the reminders for occurrences from `since_ms` on that are sent,
        given up, or claimed by a sender that renewed its claim after `live_after_ms` (still sending)."""
        rows = await self.db.fetchall(
            "SELECT r.template_id, r.occurrence_start_ms, r.member_id FROM roster_reminders_sent r"
            " JOIN roster_templates t ON t.id = r.template_id WHERE t.guild_id = ? AND r.occurrence_start_ms >= ?"
            " AND (r.sent_at_ms IS NOT NULL OR r.given_up_ms IS NOT NULL OR r.claimed_at_ms > ?)",
            (guild_id, since_ms, live_after_ms),
        )
        return {(int(r[0]), int(r[1]), int(r[2])) for r in rows}

    async def claim_reminder(
        self, template_id: int, occurrence_start_ms: int, member_id: int, *, now_ms: int, lease_ms: int
    ) -> ReminderClaim | None:
        """Claim the reminder: a new row, or one whose claim was last renewed `lease_ms` ago or earlier (or given
        back after a failure) and never marked sent nor given up (`earlier_claim_ms` says so: that sender may have
        sent it). None: sent, given up, or claimed by a sender still at work. A takeover is a compare-and-set on the
        claim it replaces, so two claimers never both take one over (the same rule as bot/duty's report claims)."""
        key = (template_id, occurrence_start_ms, member_id)
        inserted = await self.db.execute_fetchall(
            "INSERT INTO roster_reminders_sent (template_id, occurrence_start_ms, member_id, claimed_ms, claimed_at_ms)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT DO NOTHING RETURNING claimed_at_ms",
            (*key, now_ms, now_ms),
        )
        if inserted:
            return ReminderClaim(*key, now_ms)
        rows = await self.db.fetchall(
            "SELECT claimed_at_ms, sent_at_ms, given_up_ms FROM roster_reminders_sent"
            " WHERE template_id = ? AND occurrence_start_ms = ? AND member_id = ?",
            key,
        )
        if not rows or rows[0][1] is not None or rows[0][2] is not None:
            return None
        earlier_ms = int(rows[0][0])
        if earlier_ms > now_ms - lease_ms:
            return None
        taken = await self.db.execute(
            "UPDATE roster_reminders_sent SET claimed_at_ms = ? WHERE template_id = ? AND occurrence_start_ms = ?"
            " AND member_id = ? AND sent_at_ms IS NULL AND given_up_ms IS NULL AND claimed_at_ms = ?",
            (now_ms, *key, earlier_ms),
        )
        return ReminderClaim(*key, now_ms, earlier_ms) if taken == 1 else None

    async def renew_reminder_claim(self, claim: ReminderClaim, now_ms: int) -> ReminderClaim | None:
        """The claim renewed to `now_ms`, when it is still this sender's (nobody took it over) and not sent."""
        renewed_ms = max(now_ms, claim.claimed_at_ms)
        changed = await self.db.execute(
            "UPDATE roster_reminders_sent SET claimed_at_ms = ? WHERE template_id = ? AND occurrence_start_ms = ?"
            " AND member_id = ? AND sent_at_ms IS NULL AND claimed_at_ms = ?",
            (renewed_ms, *_key(claim), claim.claimed_at_ms),
        )
        return replace(claim, claimed_at_ms=renewed_ms) if changed == 1 else None

    async def mark_reminder_sent(self, claim: ReminderClaim, *, at_ms: int, channel_id: int, message_id: int) -> bool:
        """Marks the reminder sent (with its message), whoever holds the claim now; False when it already was."""
        changed = await self.db.execute(
            "UPDATE roster_reminders_sent SET sent_at_ms = ?, channel_id = ?, message_id = ?, given_up_ms = NULL"
            " WHERE template_id = ? AND occurrence_start_ms = ? AND member_id = ? AND sent_at_ms IS NULL",
            (at_ms, channel_id, message_id, *_key(claim)),
        )
        return changed == 1

    async def reminder_failed(self, claim: ReminderClaim, failure: str, *, given_up_ms: int | None) -> bool:
        """Gives this sender's claim back after a failed attempt (counted, its failure kept): the next round takes it
        over at once (and looks first); with `given_up_ms`, for good. False when the claim was no longer this one's."""
        changed = await self.db.execute(
            "UPDATE roster_reminders_sent SET claimed_at_ms = 0, attempts = attempts + 1, failure = ?, given_up_ms = ?"
            " WHERE template_id = ? AND occurrence_start_ms = ? AND member_id = ? AND sent_at_ms IS NULL"
            " AND claimed_at_ms = ?",
            (failure[:500], given_up_ms, *_key(claim), claim.claimed_at_ms),
        )
        return changed == 1

    async def reminders_given_up(self, guild_id: int, start_ms: int, end_ms: int) -> set[tuple[int, int, int]]:
        """(template, occurrence start, member) of the reminders given up for occurrences starting in [start, end)."""
        rows = await self.db.fetchall(
            "SELECT r.template_id, r.occurrence_start_ms, r.member_id FROM roster_reminders_sent r"
            " JOIN roster_templates t ON t.id = r.template_id WHERE t.guild_id = ? AND r.occurrence_start_ms >= ?"
            " AND r.occurrence_start_ms < ? AND r.given_up_ms IS NOT NULL",
            (guild_id, start_ms, end_ms),
        )
        return {(int(r[0]), int(r[1]), int(r[2])) for r in rows}

    async def prune_reminders(self, before_ms: int, given_up_before_ms: int) -> int:
        """Forgets the claims of occurrences that started before `before_ms` (never due again); those given up are
        kept until `given_up_before_ms` (roster attendance shows them)."""
        return await self.db.execute(
            "DELETE FROM roster_reminders_sent WHERE occurrence_start_ms < ?"
            " AND (given_up_ms IS NULL OR occurrence_start_ms < ?)",
            (before_ms, given_up_before_ms),
        )

    async def duty_spans(self, guild_id: int, start_ms: int, end_ms: int, member_ids: Sequence[int]) -> list[DutySpan]:
        """The recorded shifts (bot/shifts) of these members that overlap [start_ms, end_ms)."""
        if not member_ids:
            return []
        marks = ", ".join("?" for _ in member_ids)
        rows = await self.db.fetchall(
            "SELECT member_id, started_ms, ended_ms, break_ms, break_started_ms FROM shifts"
            f" WHERE guild_id = ? AND started_ms < ? AND (ended_ms IS NULL OR ended_ms > ?) AND member_id IN ({marks})"
            " ORDER BY member_id, started_ms",
            (guild_id, end_ms, start_ms, *member_ids),
        )
        return [DutySpan(int(r[0]), int(r[1]), None if r[2] is None else int(r[2]), int(r[3]), r[4]) for r in rows]

    async def add_audit(
        self,
        guild_id: int,
        actor_id: int,
        at_ms: int,
        action: str,
        template_id: int | None,
        old_text: str | None,
        new_text: str | None,
    ) -> None:
        await self.db.execute(
            "INSERT INTO roster_audit (guild_id, actor_id, at_ms, action, template_id, old_text, new_text, source)"
            " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            (guild_id, actor_id, at_ms, action, template_id, old_text, new_text, audit_source()),
        )

    async def audit(self, guild_id: int, limit: int = 50) -> list[RosterAuditEntry]:
        """The guild's latest roster changes, newest first."""
        rows = await self.db.fetchall(
            "SELECT actor_id, at_ms, action, template_id, old_text, new_text FROM roster_audit"
            " WHERE guild_id = ? ORDER BY at_ms DESC, id DESC LIMIT ?",
            (guild_id, limit),
        )
        return [RosterAuditEntry.from_row(r) for r in rows]
