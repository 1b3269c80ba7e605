"""All leave SQL. Every decision and role action is a conditional UPDATE ... RETURNING, so two
presses (or two processes) never both win; a request checks for an overlapping leave and inserts in one
transaction holding the member's turn (bot/storage/turns.py), so requests at once store one leave."""

from __future__ import annotations

from bot.audit import audit_source
from bot.leave.records import Leave, LeaveStatus
from bot.sharding import ShardSet
from bot.storage import Database
from bot.storage.shards import shard_condition
from bot.storage.turns import take_turn


class LeaveStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def insert_unless_overlapping(
        self, leave_id: str, guild_id: int, member_id: int, start_ms: int, end_ms: int, reason: str, at_ms: int
    ) -> tuple[Leave, bool]:
        """The new pending leave and True; or, when the member already has a pending or approved leave
        overlapping [start, end), that leave and False (nothing written).

        The check and the insert run in one transaction holding the member's leave turn (bot/storage/turns.py),
        so requests at once, from any process, store one leave."""
        async with self.db.transaction() as tx:
            await take_turn(tx, guild_id, f"leave:{member_id}")
            clash = await tx.execute_fetchall(
                "SELECT * FROM leaves WHERE guild_id = ? AND member_id = ? AND end_ms > ? AND start_ms < ?"
                " AND status IN ('pending', 'approved') ORDER BY start_ms LIMIT 1",
                (guild_id, member_id, start_ms, end_ms),
            )
            if clash:
                return Leave.from_row(clash[0]), False
            rows = await tx.execute_fetchall(
                "INSERT INTO leaves (id, guild_id, member_id, start_ms, end_ms, planned_end_ms, reason, status,"
                " requested_ms) VALUES (?,?,?,?,?,?,?,'pending',?) RETURNING *",
                (leave_id, guild_id, member_id, start_ms, end_ms, end_ms, reason, at_ms),
            )
        return Leave.from_row(rows[0]), True

    async def get(self, guild_id: int, leave_id: str) -> Leave | None:
        rows = await self.db.execute_fetchall(
            "SELECT * FROM leaves WHERE guild_id = ? AND id = ?", (guild_id, leave_id)
        )
        return Leave.from_row(rows[0]) if rows else None

    async def decide(
        self, guild_id: int, leave_id: str, status: LeaveStatus, actor_id: int, at_ms: int
    ) -> Leave | None:
        """None: not pending any more (decided by someone else first)."""
        rows = await self.db.execute_fetchall(
            "UPDATE leaves SET status = ?, decided_by = ?, decided_ms = ?, decided_source = ?"
            " WHERE guild_id = ? AND id = ? AND status = 'pending' RETURNING *",
            (status, actor_id, at_ms, audit_source(), guild_id, leave_id),
        )
        return Leave.from_row(rows[0]) if rows else None

    async def end_early(self, guild_id: int, leave_id: str, actor_id: int, at_ms: int) -> Leave | None:
        """Ends an approved leave now (an upcoming one ends before it starts). None: already over."""
        rows = await self.db.execute_fetchall(
            "UPDATE leaves SET end_ms = CASE WHEN start_ms < :now THEN :now ELSE start_ms END,"
            " ended_by = :actor, ended_ms = :now, ended_source = :source"
            " WHERE guild_id = :g AND id = :id AND status = 'approved' AND end_ms > :now RETURNING *",
            {"now": at_ms, "actor": actor_id, "g": guild_id, "id": leave_id, "source": audit_source()},
        )
        return Leave.from_row(rows[0]) if rows else None

    async def listed(self, guild_id: int, from_ms: int, member_id: int | None = None) -> list[Leave]:
        """Pending and approved leaves not over at `from_ms`, soonest first."""
        rows = await self.db.execute_fetchall(
            "SELECT * FROM leaves WHERE guild_id = :g AND status IN ('pending', 'approved') AND end_ms > :t"
            " AND (CAST(:m AS BIGINT) IS NULL OR member_id = :m) ORDER BY start_ms, id",
            {"g": guild_id, "t": from_ms, "m": member_id},
        )
        return [Leave.from_row(r) for r in rows]

    async def members_on_leave(self, guild_id: int, start_ms: int, end_ms: int) -> set[int]:
        """Members with approved leave overlapping [start, end)."""
        rows = await self.db.execute_fetchall(
            "SELECT DISTINCT member_id FROM leaves WHERE guild_id = ? AND status = 'approved'"
            " AND end_ms > ? AND start_ms < ?",
            (guild_id, start_ms, end_ms),
        )
        return {int(r[0]) for r in rows}

    async def claim_gives(self, now_ms: int, shards: ShardSet | None = None) -> list[Leave]:
        """Approved leaves that have started and not ended whose role is not given yet (of the guilds of
        `shards`; None: every guild): claimed."""
        rows = await self.db.execute_fetchall(
            "UPDATE leaves SET role_given_ms = :now WHERE status = 'approved' AND role_given_ms IS NULL"
            f" AND start_ms <= :now AND end_ms > :now{shard_condition('guild_id', shards)} RETURNING *",
            {"now": now_ms},
        )
        return [Leave.from_row(r) for r in rows]

    async def claim_removals(self, now_ms: int, shards: ShardSet | None = None) -> list[Leave]:
        """Ended leaves whose role was given and not yet taken back (of the guilds of `shards`; None: every
        guild): claimed."""
        rows = await self.db.execute_fetchall(
            "UPDATE leaves SET role_removed_ms = :now WHERE status = 'approved' AND role_given_ms IS NOT NULL"
            f" AND role_removed_ms IS NULL AND end_ms <= :now{shard_condition('guild_id', shards)} RETURNING *",
            {"now": now_ms},
        )
        return [Leave.from_row(r) for r in rows]

    async def unclaim_role_action(self, leave_id: str, kind: str) -> None:
        """Gives back the claim of a role action that could not be applied (the guild not cached yet): the next
        round claims it again."""
        column = "role_given_ms" if kind == "give" else "role_removed_ms"
        await self.db.execute(f"UPDATE leaves SET {column} = NULL WHERE id = ?", (leave_id,))

    async def record_given_role(self, leave_id: str, role_id: int | None) -> None:
        """The on-leave role given for this leave (before it is given: so its end takes back this one)."""
        await self.db.execute(
            "UPDATE leaves SET given_role_id = ?, given_role_recorded = 1 WHERE id = ?", (role_id, leave_id)
        )

    async def next_change_ms(self, now_ms: int) -> int | None:
        """When the next approved leave starts or ends (the sweep's next wake-up)."""
        rows = await self.db.execute_fetchall(
            "SELECT MIN(CASE WHEN start_ms > :now THEN start_ms ELSE end_ms END) FROM leaves"
            " WHERE status = 'approved' AND end_ms > :now",
            {"now": now_ms},
        )
        return int(rows[0][0]) if rows and rows[0][0] is not None else None
