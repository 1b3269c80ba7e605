"""The guild_settings, settings_audit and guild_presence tables: every SQL statement about settings,
and the deletion of all of a guild's data. Portable SQL only (a later issue adds PostgreSQL)."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.audit import audit_source
from bot.erlc.store import ERLC_GUILD_TABLES
from bot.settings.records import AuditEntry, Json
from bot.sharding import ShardSet
from bot.storage import Database
from bot.storage.shards import shard_condition
from bot.storage.turns import take_turn

# Every table keyed by guild_id: what /settings delete-data and the retention purge remove.
# Every table holding a guild's data, children before the rows they reference (foreign keys are on).
# tests/bot/test_settings.py checks that every table with a guild_id (or a child of one) is listed here.
GUILD_TABLES: tuple[str, ...] = (
    "guild_settings",
    "settings_audit",
    "guild_links",
    "officer_profiles",
    "shift_audit",
    "duty_adjustments",
    "activity_reports",
    "shift_boards",
    "leaves",
    "dispatch_panics",
    "dispatch_panic_gates",
    "dispatch_game_calls",
    "dispatch_calls",
    "dispatch_outbox",
    "shifts",
    "unit_status",
    "status_panels",
    "roster_audit",
    "roster_templates",
    "guild_presence",
    "write_turns",
    # Changes the dashboard's own process made, not yet shown by a bot process (bot/notices.py).
    "process_notices",
    # ER:LC: the server and its encrypted key, presence, links, events (named where they are made).
    *ERLC_GUILD_TABLES,
)
# Tables with a guild_id that outlive the deletion on purpose: only that (and when) the data was deleted, so
# other processes drop the guild from their caches; pruned after DELETION_MARK_KEEP_MS.
GUILD_DELETION_TABLES: tuple[str, ...] = ("guild_data_deletions",)
# A deletion mark is kept this long: far longer than any process's settings watcher takes to see it.
DELETION_MARK_KEEP_MS = 24 * 60 * 60 * 1000
# Tables keyed by a parent row of the guild rather than by guild_id: (table, column, parent table).
GUILD_CHILD_TABLES: tuple[tuple[str, str, str], ...] = (
    ("shift_breaks", "shift_id", "shifts"),
    ("shift_roles", "shift_id", "shifts"),
    ("roster_reminders_sent", "template_id", "roster_templates"),
    ("roster_assignments", "template_id", "roster_templates"),
)


@dataclass(frozen=True)
class SettingChange:
    key: str
    old: Json
    new: Json
    # True: the new value is the default (the stored override is removed).
    to_default: bool


def _dump(value: Json) -> str:
    return json.dumps(value, separators=(",", ":"))


def _load(text: str | None) -> Json:
    if text is None:
        return None
    loaded: Json = json.loads(text)
    return loaded


class StaleSettings(Exception):
    """The guild's settings changed (in another process) since the state a change was computed from."""


class SettingsStore:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def load_all(self) -> dict[int, dict[str, Json]]:
        """Every guild's stored overrides (read once at start; the service caches them)."""
        rows = await self.db.fetchall("SELECT guild_id, setting_key, value_json FROM guild_settings")
        result: dict[int, dict[str, Json]] = {}
        for row in rows:
            result.setdefault(int(row["guild_id"]), {})[str(row["setting_key"])] = _load(row["value_json"])
        return result

    async def load(self, guild_id: int) -> dict[str, Json]:
        rows = await self.db.fetchall(
            "SELECT setting_key, value_json FROM guild_settings WHERE guild_id = ?", (guild_id,)
        )
        return {str(r["setting_key"]): _load(r["value_json"]) for r in rows}

    async def changed_since(self, since_ms: int) -> list[int]:
        """The guilds with a settings change, or whose data was deleted, at or after `since_ms` (by any process:
        every change is audited, every deletion marked)."""
        rows = await self.db.fetchall(
            "SELECT guild_id FROM settings_audit WHERE at_ms >= ?1"
            " UNION SELECT guild_id FROM guild_data_deletions WHERE deleted_ms >= ?1",
            (since_ms,),
        )
        return [int(r[0]) for r in rows]

    async def audit_marks(self) -> dict[int, int]:
        """Each guild's mark: the id of its newest audit row (every change writes one). Read it before the
        settings it goes with: a change landing in between then only costs a re-read."""
        rows = await self.db.fetchall("SELECT guild_id, MAX(id) FROM settings_audit GROUP BY guild_id")
        return {int(r[0]): int(r[1]) for r in rows}

    async def audit_mark(self, guild_id: int) -> int:
        """The guild's mark (0: never changed, or its data deleted)."""
        row = await self.db.fetchone("SELECT MAX(id) FROM settings_audit WHERE guild_id = ?", (guild_id,))
        return int(row[0]) if row is not None and row[0] is not None else 0

    async def apply(
        self, guild_id: int, actor_id: int, at_ms: int, changes: Sequence[SettingChange], *, seen_mark: int
    ) -> int:
        """Every change and its audit row in one transaction: all applied, or none; the guild's new mark.
        Only when the guild's mark is still `seen_mark` (the state the changes were computed from): else
        StaleSettings and nothing is written. The check and the writes hold the guild's settings turn
        (bot/storage/turns.py), so two processes changing a list at once (each from its own cache) never
        lose one of the changes."""
        async with self.db.transaction() as conn:
            await take_turn(conn, guild_id, "settings")
            if await self.audit_mark(guild_id) != seen_mark:
                raise StaleSettings(guild_id)
            for change in changes:
                if change.to_default:
                    await conn.execute(
                        "DELETE FROM guild_settings WHERE guild_id = ? AND setting_key = ?", (guild_id, change.key)
                    )
                else:
                    await conn.execute(
                        "INSERT INTO guild_settings (guild_id, setting_key, value_json, updated_ms, updated_by)"
                        " VALUES (?, ?, ?, ?, ?) ON CONFLICT (guild_id, setting_key) DO UPDATE SET"
                        " value_json = excluded.value_json, updated_ms = excluded.updated_ms,"
                        " updated_by = excluded.updated_by",
                        (guild_id, change.key, _dump(change.new), at_ms, actor_id),
                    )
                await conn.execute(
                    "INSERT INTO settings_audit (guild_id, actor_id, at_ms, setting_key, old_json, new_json, source)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (guild_id, actor_id, at_ms, change.key, _dump(change.old), _dump(change.new), audit_source()),
                )
            return await self.audit_mark(guild_id)

    async def history(self, guild_id: int, *, limit: int, offset: int = 0) -> list[AuditEntry]:
        """The guild's audit, newest first."""
        rows = await self.db.fetchall(
            "SELECT actor_id, at_ms, setting_key, old_json, new_json FROM settings_audit WHERE guild_id = ?"
            " ORDER BY at_ms DESC, id DESC LIMIT ? OFFSET ?",
            (guild_id, limit, offset),
        )
        return [
            AuditEntry(
                guild_id,
                int(r["actor_id"]),
                int(r["at_ms"]),
                str(r["setting_key"]),
                _load(r["old_json"]),
                _load(r["new_json"]),
            )
            for r in rows
        ]

    async def history_count(self, guild_id: int) -> int:
        row = await self.db.fetchone("SELECT COUNT(*) AS n FROM settings_audit WHERE guild_id = ?", (guild_id,))
        return int(row["n"]) if row is not None else 0

    async def mark_left(self, guild_id: int, at_ms: int) -> None:
        await self.db.execute(
            "INSERT INTO guild_presence (guild_id, left_at_ms) VALUES (?, ?)"
            " ON CONFLICT (guild_id) DO UPDATE SET left_at_ms = excluded.left_at_ms",
            (guild_id, at_ms),
        )

    async def mark_present(self, guild_id: int) -> bool:
        """Clears the guild's left mark; True when it had one (the guild came back within retention)."""
        changed = await self.db.execute(
            "UPDATE guild_presence SET left_at_ms = NULL WHERE guild_id = ? AND left_at_ms IS NOT NULL", (guild_id,)
        )
        return changed > 0

    async def left_at(self, guild_id: int) -> int | None:
        row = await self.db.fetchone("SELECT left_at_ms FROM guild_presence WHERE guild_id = ?", (guild_id,))
        return None if row is None or row["left_at_ms"] is None else int(row["left_at_ms"])

    async def left_before(self, cutoff_ms: int, shards: ShardSet | None = None) -> list[int]:
        """The guilds the bot left before the cutoff (of `shards`; None: every guild)."""
        rows = await self.db.fetchall(
            "SELECT guild_id FROM guild_presence WHERE left_at_ms IS NOT NULL AND left_at_ms < ?"
            + shard_condition("guild_id", shards),
            (cutoff_ms,),
        )
        return [int(r["guild_id"]) for r in rows]

    async def delete_guild(
        self, guild_id: int, at_ms: int, tables: Sequence[str] = GUILD_TABLES, *, left_before_ms: int | None = None
    ) -> Mapping[str, int] | None:
        """Deletes every row of the guild in every guild table and marks it deleted at `at_ms`, in one
        transaction; rows deleted per table. With `left_before_ms` (the retention purge), only while the bot
        still has been out of the guild since before then: None (nothing deleted) when it came back since the
        purge read it. That check is the transaction's first statement, a conditional DELETE of the guild's
        presence row, so a rejoin (`mark_present`, an UPDATE of that row) either comes first and stops the purge,
        or waits for it and finds the guild new."""
        deleted: dict[str, int] = {}
        async with self.db.transaction() as conn:
            if left_before_ms is not None:
                still_left = await conn.execute(
                    "DELETE FROM guild_presence WHERE guild_id = ? AND left_at_ms IS NOT NULL AND left_at_ms < ?",
                    (guild_id, left_before_ms),
                )
                if not still_left:
                    return None
            for table, column, parent in GUILD_CHILD_TABLES:
                deleted[table] = await conn.execute(
                    f"DELETE FROM {table} WHERE {column} IN (SELECT id FROM {parent} WHERE guild_id = ?)", (guild_id,)
                )
            for table in tables:
                deleted[table] = await conn.execute(f"DELETE FROM {table} WHERE guild_id = ?", (guild_id,))
            await conn.execute(
                "INSERT INTO guild_data_deletions (guild_id, deleted_ms) VALUES (?, ?)"
                " ON CONFLICT (guild_id) DO UPDATE SET deleted_ms = excluded.deleted_ms",
                (guild_id, at_ms),
            )
        return deleted

    async def prune_deletion_marks(self, before_ms: int) -> int:
        """Forgets the deletion marks older than `before_ms` (every process has seen them)."""
        return await self.db.execute("DELETE FROM guild_data_deletions WHERE deleted_ms < ?", (before_ms,))
