"""Every SQL statement of the ER:LC link (migration 032): servers, presence, history, links, codes, webhook
events, emergency calls, boards. Portable SQL (SQLite and PostgreSQL).

Admin actions (connect, disconnect, webhook rotation, staff links) write their audit row into `settings_audit`
in the same transaction, under an `erlc.*` key, so `/settings history` shows them beside every setting; an
audit value never holds a server key.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence

from bot.core.errors import Conflict, ErrorKind
from bot.core.sharding import ShardSet
from bot.erlc.port import GamePlayer
from bot.erlc.records import (
    ErlcLink,
    ErlcServer,
    InGameSpan,
    PresenceChange,
    PresenceEntry,
    PresenceKind,
)
from bot.storage import INTEGRITY_ERRORS, Database
from bot.storage.grouped import GROUP_READ_KEYS, GroupReader, rows_by_pair
from bot.storage.rows import Row
from bot.storage.shards import shard_condition

# Every ER:LC table keyed by guild_id: deleted with the guild's other data (bot/core/settings/store.GUILD_TABLES).
ERLC_GUILD_TABLES: tuple[str, ...] = (
    "erlc_servers",
    "erlc_presence",
    "erlc_presence_history",
    "erlc_links",
    "erlc_verify_codes",
    "erlc_webhook_events",
    "erlc_emergency_calls",
    "erlc_boards",
)


class ClaimLost(Exception):
    """Another poll of the server claimed it after this one: this one's result is dropped."""


def _audit_sql() -> str:
    return (
        "INSERT INTO settings_audit (guild_id, actor_id, at_ms, setting_key, old_json, new_json)"
        " VALUES (?, ?, ?, ?, ?, ?)"
    )


def _link(row: Row) -> ErlcLink:
    return ErlcLink(
        guild_id=int(row["guild_id"]),
        discord_id=int(row["discord_id"]),
        roblox_id=int(row["roblox_id"]),
        roblox_name=None if row["roblox_name"] is None else str(row["roblox_name"]),
        how=str(row["how"]),
        linked_by=int(row["linked_by"]),
        linked_ms=int(row["linked_ms"]),
    )


def _entry(row: Row) -> PresenceEntry:
    return PresenceEntry(
        guild_id=int(row["guild_id"]),
        user_id=int(row["user_id"]),
        name=str(row["name"]),
        team=str(row["team"]),
        callsign=None if row["callsign"] is None else str(row["callsign"]),
        permission=str(row["permission"]),
        since_ms=int(row["since_ms"]),
    )


def presence_diff(
    guild_id: int, before: Sequence[PresenceEntry], players: Iterable[GamePlayer], at_ms: int
) -> list[PresenceChange]:
    """The history rows between what was in game and what is now: leaves, joins, then team/callsign changes."""
    old = {e.user_id: e for e in before}
    new = {p.user_id: p for p in players}
    changes: list[PresenceChange] = []
    for uid, e in old.items():
        if uid not in new:
            changes.append(PresenceChange(guild_id, uid, e.name, "leave", e.team, e.callsign, at_ms))
    for uid, p in new.items():
        was = old.get(uid)
        if was is None:
            changes.append(PresenceChange(guild_id, uid, p.name, "join", p.team, p.callsign, at_ms))
            continue
        if was.team != p.team:
            changes.append(PresenceChange(guild_id, uid, p.name, "team", p.team, p.callsign, at_ms))
        elif (was.callsign or None) != (p.callsign or None):
            changes.append(PresenceChange(guild_id, uid, p.name, "callsign", p.team, p.callsign, at_ms))
    return changes


class ErlcStore:
    def __init__(self, db: Database) -> None:
        self.db = db
        # Every start without a chosen callsign asks for the member's Roblox link (their in-game callsign is the
        # unit): under a burst of starts, one statement for the burst (bot/storage/grouped.py).
        self._link_reads: GroupReader[tuple[int, int], ErlcLink | None] = GroupReader(
            db, self._links_of, missing=lambda: None, max_items=GROUP_READ_KEYS, name="erlc-link-group-read"
        )

    # --- servers ---------------------------------------------------------------------------------------
    async def server(self, guild_id: int) -> ErlcServer | None:
        row = await self.db.fetchone("SELECT * FROM erlc_servers WHERE guild_id = ?", (guild_id,))
        return None if row is None else ErlcServer.from_row(row)

    async def server_by_webhook(self, token: str) -> ErlcServer | None:
        row = await self.db.fetchone("SELECT * FROM erlc_servers WHERE webhook_token = ?", (token,))
        return None if row is None else ErlcServer.from_row(row)

    async def connected_guilds(self, shards: ShardSet | None = None) -> list[int]:
        rows = await self.db.fetchall(
            "SELECT guild_id FROM erlc_servers WHERE state = 'connected' AND key_cipher IS NOT NULL"
            + shard_condition("guild_id", shards)
            + " ORDER BY guild_id"
        )
        return [int(r["guild_id"]) for r in rows]

    async def all_ciphers(self) -> list[tuple[int, str]]:
        rows = await self.db.fetchall("SELECT guild_id, key_cipher FROM erlc_servers WHERE key_cipher IS NOT NULL")
        return [(int(r["guild_id"]), str(r["key_cipher"])) for r in rows]

    async def replace_ciphers(self, pairs: Sequence[tuple[int, str, str]]) -> int:
        """(guild, old cipher, new cipher): each replaced only if unchanged meanwhile; how many were."""
        done = 0
        async with self.db.transaction() as conn:
            for guild_id, old, new in pairs:
                done += await conn.execute(
                    "UPDATE erlc_servers SET key_cipher = ? WHERE guild_id = ? AND key_cipher = ?", (new, guild_id, old)
                )
        return done

    async def connect(
        self,
        guild_id: int,
        *,
        key_cipher: str,
        server_name: str,
        owner_id: int,
        players: int,
        max_players: int,
        actor_id: int,
        at_ms: int,
        webhook_token: str,
    ) -> ErlcServer:
        """Stores (or replaces) the guild's server key and marks it connected; audited (never the key)."""
        async with self.db.transaction() as conn:
            before = await conn.fetchone("SELECT server_name, state FROM erlc_servers WHERE guild_id = ?", (guild_id,))
            await conn.execute(
                "INSERT INTO erlc_servers (guild_id, key_cipher, state, server_name, owner_id, connected_by,"
                " connected_ms, last_ok_ms, current_players, max_players, webhook_token)"
                " VALUES (?, ?, 'connected', ?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (guild_id) DO UPDATE SET key_cipher = excluded.key_cipher, state = 'connected',"
                " disconnected_reason = NULL, server_name = excluded.server_name, owner_id = excluded.owner_id,"
                " connected_by = excluded.connected_by, connected_ms = excluded.connected_ms,"
                " last_ok_ms = excluded.last_ok_ms, last_error = NULL, failures = 0,"
                " current_players = excluded.current_players, max_players = excluded.max_players",
                (guild_id, key_cipher, server_name, owner_id, actor_id, at_ms, at_ms, players, max_players,
                 webhook_token),
            )  # fmt: skip
            old = None if before is None or before["state"] != "connected" else f"connected: {before['server_name']}"
            await conn.execute(
                _audit_sql(),
                (guild_id, actor_id, at_ms, "erlc.server", json.dumps(old), json.dumps(f"connected: {server_name}")),
            )
            row = await conn.fetchone("SELECT * FROM erlc_servers WHERE guild_id = ?", (guild_id,))
        assert row is not None
        return ErlcServer.from_row(row)

    async def disconnect(
        self, guild_id: int, *, reason: str, actor_id: int, at_ms: int, only_cipher: str | None = None
    ) -> ErlcServer | None:
        """Forgets the key and marks the server disconnected (its players leave the presence); None when it was
        not connected (or, with `only_cipher`, when the key was replaced meanwhile: a new key is not dropped for
        the old one's 2002). Audited."""
        async with self.db.transaction() as conn:
            row = await conn.fetchone(
                "UPDATE erlc_servers SET state = 'disconnected', key_cipher = NULL, disconnected_reason = ?,"
                " poll_claim = poll_claim + 1"
                " WHERE guild_id = ? AND state = 'connected'"
                " AND (CAST(? AS TEXT) IS NULL OR key_cipher = ?) RETURNING *",
                (reason, guild_id, only_cipher, only_cipher),
            )
            if row is None:
                return None
            await self._close_presence(conn, guild_id, at_ms)
            server = ErlcServer.from_row(row)
            await conn.execute(
                _audit_sql(),
                (guild_id, actor_id, at_ms, "erlc.server", json.dumps(f"connected: {server.server_name}"),
                 json.dumps(f"disconnected ({reason})")),
            )  # fmt: skip
        return server

    async def rotate_webhook(self, guild_id: int, token: str, actor_id: int, at_ms: int) -> bool:
        async with self.db.transaction() as conn:
            changed = await conn.execute(
                "UPDATE erlc_servers SET webhook_token = ? WHERE guild_id = ? AND state = 'connected'",
                (token, guild_id),
            )
            if changed:
                await conn.execute(
                    _audit_sql(),
                    (guild_id, actor_id, at_ms, "erlc.webhook", json.dumps("old URL"), json.dumps("new URL")),
                )
        return changed > 0

    async def claim_poll(self, guild_id: int, at_ms: int) -> tuple[int, str] | None:
        """Claims the next poll of a connected server: (the claim number, the encrypted key), or None when it is
        not connected."""
        rows = await self.db.execute_fetchall(
            "UPDATE erlc_servers SET poll_claim = poll_claim + 1, last_poll_ms = ?"
            " WHERE guild_id = ? AND state = 'connected' AND key_cipher IS NOT NULL RETURNING poll_claim, key_cipher",
            (at_ms, guild_id),
        )
        return (int(rows[0]["poll_claim"]), str(rows[0]["key_cipher"])) if rows else None

    async def poll_failed(self, guild_id: int, claim: int, error: str) -> int:
        """Counts a failed poll (the claim still ours); the consecutive failures so far (0: claim lost)."""
        rows = await self.db.execute_fetchall(
            "UPDATE erlc_servers SET failures = failures + 1, last_error = ?"
            " WHERE guild_id = ? AND poll_claim = ? RETURNING failures",
            (error, guild_id, claim),
        )
        return int(rows[0]["failures"]) if rows else 0

    # --- presence ---------------------------------------------------------------------------------------
    async def presence(self, guild_id: int) -> list[PresenceEntry]:
        rows = await self.db.fetchall(
            "SELECT * FROM erlc_presence WHERE guild_id = ? ORDER BY team, name, user_id", (guild_id,)
        )
        return [_entry(r) for r in rows]

    async def apply_poll(
        self,
        guild_id: int,
        claim: int,
        players: Sequence[GamePlayer],
        *,
        server_name: str | None,
        current_players: int,
        max_players: int,
        queue_count: int,
        at_ms: int,
    ) -> list[PresenceChange]:
        """One successful poll, in one transaction: the presence replaced by `players`, the history rows of what
        changed, the server's figures. Raises ClaimLost (nothing written) when a newer poll claimed the server."""
        async with self.db.transaction() as conn:
            ours = await conn.execute(
                "UPDATE erlc_servers SET last_ok_ms = ?, failures = 0, last_error = NULL,"
                " server_name = COALESCE(CAST(? AS TEXT), server_name),"
                " current_players = ?, max_players = ?, queue_count = ?"
                " WHERE guild_id = ? AND poll_claim = ? AND state = 'connected'",
                (at_ms, server_name, current_players, max_players, queue_count, guild_id, claim),
            )
            if not ours:
                raise ClaimLost(guild_id)
            before = [
                _entry(r) for r in await conn.fetchall("SELECT * FROM erlc_presence WHERE guild_id = ?", (guild_id,))
            ]
            changes = presence_diff(guild_id, before, players, at_ms)
            await self._write_changes(conn, guild_id, changes, {p.user_id: p for p in players})
            # A permission (or name) change alone is no history, but the row follows it.
            known = {e.user_id: e for e in before}
            changed = {c.user_id for c in changes}
            for p in players:
                was = known.get(p.user_id)
                if (
                    was is not None
                    and p.user_id not in changed
                    and (was.permission, was.name) != (p.permission, p.name)
                ):
                    await conn.execute(
                        "UPDATE erlc_presence SET permission = ?, name = ? WHERE guild_id = ? AND user_id = ?",
                        (p.permission, p.name, guild_id, p.user_id),
                    )
        return changes

    async def _write_changes(
        self, conn: Database, guild_id: int, changes: Sequence[PresenceChange], players: dict[int, GamePlayer]
    ) -> None:
        if not changes:
            return
        for c in changes:
            if c.kind == "leave":
                await conn.execute(
                    "DELETE FROM erlc_presence WHERE guild_id = ? AND user_id = ?", (guild_id, c.user_id)
                )
            elif c.kind == "join":
                p = players[c.user_id]
                await conn.execute(
                    "INSERT INTO erlc_presence (guild_id, user_id, name, team, callsign, permission, since_ms)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (guild_id, user_id) DO UPDATE SET"
                    " name = excluded.name, team = excluded.team, callsign = excluded.callsign,"
                    " permission = excluded.permission, since_ms = excluded.since_ms",
                    (guild_id, p.user_id, p.name, p.team, p.callsign, p.permission, c.at_ms),
                )
            else:
                p = players[c.user_id]
                await conn.execute(
                    "UPDATE erlc_presence SET name = ?, team = ?, callsign = ?, permission = ?"
                    " WHERE guild_id = ? AND user_id = ?",
                    (p.name, p.team, p.callsign, p.permission, guild_id, p.user_id),
                )
        await conn.executemany(
            "INSERT INTO erlc_presence_history (guild_id, user_id, name, kind, team, callsign, at_ms)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            [(c.guild_id, c.user_id, c.name, c.kind, c.team, c.callsign, c.at_ms) for c in changes],
        )

    async def _close_presence(self, conn: Database, guild_id: int, at_ms: int) -> None:
        """Everyone in game leaves (the server was disconnected: nothing can be known of it any more)."""
        before = [_entry(r) for r in await conn.fetchall("SELECT * FROM erlc_presence WHERE guild_id = ?", (guild_id,))]
        await self._write_changes(conn, guild_id, presence_diff(guild_id, before, (), at_ms), {})

    async def history(self, guild_id: int, user_id: int | None = None, limit: int = 100) -> list[PresenceChange]:
        rows = await self.db.fetchall(
            "SELECT * FROM erlc_presence_history WHERE guild_id = ?"
            " AND (CAST(? AS BIGINT) IS NULL OR user_id = ?) ORDER BY at_ms, id LIMIT ?",
            (guild_id, user_id, user_id, limit),
        )
        return [
            PresenceChange(
                int(r["guild_id"]), int(r["user_id"]), str(r["name"]), _kind(str(r["kind"])), str(r["team"]),
                None if r["callsign"] is None else str(r["callsign"]), int(r["at_ms"]),
            )
            for r in rows
        ]  # fmt: skip

    async def spans(self, guild_id: int, user_id: int, start_ms: int, end_ms: int) -> list[InGameSpan]:
        """The stretches of [start_ms, end_ms] the player was in game, and on which team."""
        first = await self.db.fetchone(
            "SELECT kind, team, at_ms FROM erlc_presence_history WHERE guild_id = ? AND user_id = ? AND at_ms <= ?"
            " ORDER BY at_ms DESC, id DESC LIMIT 1",
            (guild_id, user_id, start_ms),
        )
        rows = await self.db.fetchall(
            "SELECT kind, team, at_ms FROM erlc_presence_history WHERE guild_id = ? AND user_id = ?"
            " AND at_ms > ? AND at_ms <= ? ORDER BY at_ms, id",
            (guild_id, user_id, start_ms, end_ms),
        )
        spans: list[InGameSpan] = []
        team: str | None = None
        since = start_ms
        if first is not None and first["kind"] != "leave":
            team = str(first["team"])
        for r in rows:
            kind, at = str(r["kind"]), int(r["at_ms"])
            if team is not None and (kind == "leave" or (kind == "team" and str(r["team"]) != team)):
                if at > since:
                    spans.append(InGameSpan(team, since, at))
                team = None
            if kind in ("join", "team", "callsign") and team is None:
                team, since = str(r["team"]), at
        if team is not None:
            spans.append(InGameSpan(team, since, None))
        return spans

    async def prune_history(self, guild_id: int, before_ms: int) -> int:
        return await self.db.execute(
            "DELETE FROM erlc_presence_history WHERE guild_id = ? AND at_ms < ?", (guild_id, before_ms)
        )

    async def history_guilds(self, shards: ShardSet | None = None) -> list[int]:
        rows = await self.db.fetchall(
            "SELECT DISTINCT guild_id FROM erlc_presence_history WHERE 1 = 1" + shard_condition("guild_id", shards)
        )
        return [int(r["guild_id"]) for r in rows]

    # --- links ------------------------------------------------------------------------------------------
    async def links(self, guild_id: int) -> list[ErlcLink]:
        rows = await self.db.fetchall("SELECT * FROM erlc_links WHERE guild_id = ? ORDER BY discord_id", (guild_id,))
        return [_link(r) for r in rows]

    async def link_of(self, guild_id: int, discord_id: int) -> ErlcLink | None:
        return await self._link_reads.read((guild_id, discord_id))

    async def _links_of(self, keys: list[tuple[int, int]]) -> dict[tuple[int, int], ErlcLink | None]:
        rows = await rows_by_pair(self.db, "erlc_links", "guild_id", "discord_id", keys)
        return {key: _link(row) for key, row in rows.items()}

    async def set_auto_duty_opt_out(self, guild_id: int, discord_id: int, opted_out: bool) -> bool:
        """The member's choice about automatic shifts; False when the member has no link here."""
        done = await self.db.execute(
            "UPDATE erlc_links SET auto_duty_opt_out = ? WHERE guild_id = ? AND discord_id = ?",
            (1 if opted_out else 0, guild_id, discord_id),
        )
        return bool(done)

    async def auto_duty_links(self, guild_id: int) -> dict[int, int]:
        """Roblox id -> member, of the members who did not opt out of automatic shifts."""
        rows = await self.db.fetchall(
            "SELECT roblox_id, discord_id FROM erlc_links WHERE guild_id = ? AND auto_duty_opt_out = 0", (guild_id,)
        )
        return {int(r["roblox_id"]): int(r["discord_id"]) for r in rows}

    async def team_since(self, guild_id: int, user_id: int) -> int | None:
        """When the player joined, or last changed team (the start of their current team in game)."""
        row = await self.db.fetchone(
            "SELECT at_ms FROM erlc_presence_history WHERE guild_id = ? AND user_id = ? AND kind IN ('join', 'team')"
            " ORDER BY at_ms DESC, id DESC LIMIT 1",
            (guild_id, user_id),
        )
        return None if row is None else int(row["at_ms"])

    async def team_starts(self, guild_id: int) -> dict[int, int]:
        """`team_since` of every player in game now, in one statement: player -> when they joined or last changed
        team."""
        rows = await self.db.fetchall(
            "SELECT user_id, MAX(at_ms) AS at_ms FROM erlc_presence_history WHERE guild_id = ?"
            " AND kind IN ('join', 'team') AND user_id IN (SELECT user_id FROM erlc_presence WHERE guild_id = ?)"
            " GROUP BY user_id",
            (guild_id, guild_id),
        )
        return {int(r["user_id"]): int(r["at_ms"]) for r in rows}

    async def callsigns_since(self, guild_id: int, user_id: int, since_ms: int) -> set[str]:
        """Every callsign the player had in game from `since_ms` on (the one they had then included)."""
        rows = await self.db.fetchall(
            "SELECT DISTINCT callsign FROM erlc_presence_history WHERE guild_id = ? AND user_id = ?"
            " AND callsign IS NOT NULL AND at_ms >= COALESCE((SELECT MAX(at_ms) FROM erlc_presence_history"
            " WHERE guild_id = ? AND user_id = ? AND at_ms <= ?), ?)",
            (guild_id, user_id, guild_id, user_id, since_ms, since_ms),
        )
        return {str(r["callsign"]) for r in rows}

    async def last_leave_ms(self, guild_id: int, user_id: int) -> int | None:
        """When the player last left the game (None: never seen leaving)."""
        row = await self.db.fetchone(
            "SELECT MAX(at_ms) AS at_ms FROM erlc_presence_history WHERE guild_id = ? AND user_id = ?"
            " AND kind = 'leave'",
            (guild_id, user_id),
        )
        return None if row is None or row["at_ms"] is None else int(row["at_ms"])

    async def link_of_roblox(self, guild_id: int, roblox_id: int) -> ErlcLink | None:
        row = await self.db.fetchone(
            "SELECT * FROM erlc_links WHERE guild_id = ? AND roblox_id = ?", (guild_id, roblox_id)
        )
        return None if row is None else _link(row)

    async def link(
        self,
        guild_id: int,
        discord_id: int,
        roblox_id: int,
        roblox_name: str | None,
        how: str,
        actor_id: int,
        at_ms: int,
        *,
        audit: bool,
        conn: Database | None = None,
    ) -> ErlcLink:
        """Links the member to the Roblox account (replacing the member's earlier link); Conflict when that
        account is another member's here."""
        if conn is None:
            async with self.db.transaction() as tx:
                return await self.link(
                    guild_id, discord_id, roblox_id, roblox_name, how, actor_id, at_ms, audit=audit, conn=tx
                )
        other = await conn.fetchone(
            "SELECT discord_id FROM erlc_links WHERE guild_id = ? AND roblox_id = ? AND discord_id <> ?",
            (guild_id, roblox_id, discord_id),
        )
        if other is not None:
            raise Conflict(ErrorKind.ERLC_ROBLOX_TAKEN_BY, member_id=int(other["discord_id"]), roblox_id=roblox_id)
        try:
            await conn.execute(
                "INSERT INTO erlc_links (guild_id, discord_id, roblox_id, roblox_name, how, linked_by, linked_ms)"
                " VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (guild_id, discord_id) DO UPDATE SET"
                " roblox_id = excluded.roblox_id, roblox_name = excluded.roblox_name, how = excluded.how,"
                " linked_by = excluded.linked_by, linked_ms = excluded.linked_ms",
                (guild_id, discord_id, roblox_id, roblox_name, how, actor_id, at_ms),
            )
        except INTEGRITY_ERRORS:
            raise Conflict(ErrorKind.ERLC_ROBLOX_TAKEN, roblox_id=roblox_id) from None
        if audit:
            await conn.execute(
                _audit_sql(),
                (guild_id, actor_id, at_ms, "erlc.link", json.dumps(None),
                 json.dumps({"member_id": discord_id, "roblox_id": roblox_id, "how": how})),
            )  # fmt: skip
        return ErlcLink(guild_id, discord_id, roblox_id, roblox_name, how, actor_id, at_ms)

    async def unlink(
        self, guild_id: int, discord_id: int, actor_id: int, at_ms: int, *, audit: bool
    ) -> ErlcLink | None:
        async with self.db.transaction() as conn:
            row = await conn.fetchone(
                "DELETE FROM erlc_links WHERE guild_id = ? AND discord_id = ? RETURNING *", (guild_id, discord_id)
            )
            if row is None:
                return None
            link = _link(row)
            if audit:
                await conn.execute(
                    _audit_sql(),
                    (guild_id, actor_id, at_ms, "erlc.link",
                     json.dumps({"member_id": discord_id, "roblox_id": link.roblox_id}), json.dumps(None)),
                )  # fmt: skip
        return link

    async def import_links(
        self, guild_id: int, pairs: Sequence[tuple[int, int]], actor_id: int, at_ms: int
    ) -> tuple[int, list[tuple[int, int]]]:
        """A staff CSV import: each (discord, roblox) pair linked unless its Roblox account is another member's;
        (how many linked, the refused (discord, roblox) pairs). One audit row for the import."""
        done, refused = 0, []
        async with self.db.transaction() as conn:
            for discord_id, roblox_id in pairs:
                try:
                    await self.link(
                        guild_id, discord_id, roblox_id, None, "import", actor_id, at_ms, audit=False, conn=conn
                    )
                    done += 1
                except Conflict:
                    refused.append((discord_id, roblox_id))
            await conn.execute(
                _audit_sql(),
                (guild_id, actor_id, at_ms, "erlc.link", json.dumps(None), json.dumps({"imported": done})),
            )
        return done, refused

    # --- verification codes -----------------------------------------------------------------------------
    async def new_code(
        self, guild_id: int, discord_id: int, code: str, roblox_name: str | None, at_ms: int, expires_ms: int
    ) -> bool:
        """Stores a member's new code (their earlier unused ones are dropped); False when the code is taken."""
        async with self.db.transaction() as conn:
            await conn.execute(
                "DELETE FROM erlc_verify_codes WHERE guild_id = ? AND (discord_id = ? OR expires_ms <= ?)",
                (guild_id, discord_id, at_ms),
            )
            try:
                await conn.execute(
                    "INSERT INTO erlc_verify_codes (guild_id, code, discord_id, roblox_name, created_ms, expires_ms)"
                    " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (guild_id, code) DO NOTHING",
                    (guild_id, code, discord_id, roblox_name, at_ms, expires_ms),
                )
            except INTEGRITY_ERRORS:
                return False
            row = await conn.fetchone(
                "SELECT discord_id FROM erlc_verify_codes WHERE guild_id = ? AND code = ?", (guild_id, code)
            )
        return row is not None and int(row["discord_id"]) == discord_id

    async def pending_codes(self, guild_id: int, at_ms: int) -> dict[str, tuple[int, str | None]]:
        rows = await self.db.fetchall(
            "SELECT code, discord_id, roblox_name FROM erlc_verify_codes"
            " WHERE guild_id = ? AND used_ms IS NULL AND expires_ms > ?",
            (guild_id, at_ms),
        )
        return {
            str(r["code"]): (int(r["discord_id"]), None if r["roblox_name"] is None else str(r["roblox_name"]))
            for r in rows
        }

    async def use_code(
        self, guild_id: int, code: str, roblox_id: int, roblox_name: str, how: str, at_ms: int
    ) -> ErlcLink | None:
        """Consumes the code (unused, unexpired) and links its member to the player, in one transaction; None
        when the code is not (or no longer) valid. Conflict (code kept) when the account is another member's."""
        async with self.db.transaction() as conn:
            row = await conn.fetchone(
                "UPDATE erlc_verify_codes SET used_ms = ? WHERE guild_id = ? AND code = ? AND used_ms IS NULL"
                " AND expires_ms > ? RETURNING discord_id",
                (at_ms, guild_id, code, at_ms),
            )
            if row is None:
                return None
            discord_id = int(row["discord_id"])
            return await self.link(
                guild_id, discord_id, roblox_id, roblox_name, how, discord_id, at_ms, audit=False, conn=conn
            )

    # --- webhook events and emergency calls ---------------------------------------------------------------
    async def first_time(self, guild_id: int, event_key: str, at_ms: int) -> bool:
        """True once per (guild, event): the de-duplication of webhook deliveries."""
        rows = await self.db.execute_fetchall(
            "INSERT INTO erlc_webhook_events (guild_id, event_key, received_ms) VALUES (?, ?, ?)"
            " ON CONFLICT (guild_id, event_key) DO NOTHING RETURNING event_key",
            (guild_id, event_key, at_ms),
        )
        return bool(rows)

    async def prune_webhook_events(self, before_ms: int) -> int:
        return await self.db.execute("DELETE FROM erlc_webhook_events WHERE received_ms < ?", (before_ms,))

    async def save_call(
        self,
        guild_id: int,
        number: int,
        started_at_ms: int,
        *,
        ended_ms: int | None,
        team: str,
        caller_id: int | None,
        description: str | None,
        location: str | None,
        players: Sequence[int],
        at_ms: int,
    ) -> None:
        await self.db.execute(
            "INSERT INTO erlc_emergency_calls (guild_id, call_number, started_at_ms, ended_ms, team, caller_id,"
            " description, location, players_json, received_ms) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (guild_id, call_number, started_at_ms) DO UPDATE SET"
            " ended_ms = COALESCE(excluded.ended_ms, erlc_emergency_calls.ended_ms), team = excluded.team,"
            " description = COALESCE(excluded.description, erlc_emergency_calls.description),"
            " location = COALESCE(excluded.location, erlc_emergency_calls.location),"
            " players_json = excluded.players_json",
            (guild_id, number, started_at_ms, ended_ms, team, caller_id, description, location,
             json.dumps(list(players)), at_ms),
        )  # fmt: skip

    async def calls(self, guild_id: int) -> list[Row]:
        return await self.db.fetchall(
            "SELECT * FROM erlc_emergency_calls WHERE guild_id = ? ORDER BY started_at_ms, call_number", (guild_id,)
        )

    # --- boards -----------------------------------------------------------------------------------------
    async def set_board(self, guild_id: int, channel_id: int, message_id: int) -> None:
        await self.db.execute(
            "INSERT INTO erlc_boards (guild_id, channel_id, message_id) VALUES (?, ?, ?)"
            " ON CONFLICT (guild_id) DO UPDATE SET channel_id = excluded.channel_id,"
            " message_id = excluded.message_id, rendered_ms = 0",
            (guild_id, channel_id, message_id),
        )

    async def board(self, guild_id: int) -> tuple[int, int] | None:
        row = await self.db.fetchone("SELECT channel_id, message_id FROM erlc_boards WHERE guild_id = ?", (guild_id,))
        return None if row is None else (int(row["channel_id"]), int(row["message_id"]))

    async def boards(self, shards: ShardSet | None = None) -> list[tuple[int, int, int]]:
        rows = await self.db.fetchall(
            "SELECT guild_id, channel_id, message_id FROM erlc_boards WHERE 1 = 1" + shard_condition("guild_id", shards)
        )
        return [(int(r["guild_id"]), int(r["channel_id"]), int(r["message_id"])) for r in rows]

    async def drop_board(self, guild_id: int, message_id: int) -> None:
        await self.db.execute("DELETE FROM erlc_boards WHERE guild_id = ? AND message_id = ?", (guild_id, message_id))


def _kind(value: str) -> PresenceKind:
    if value == "join":
        return "join"
    if value == "leave":
        return "leave"
    if value == "team":
        return "team"
    return "callsign"
