"""Publishing the slash commands: at start only when the command tree changed since the last publish
(its hash is kept in the database), and by hand with `northca-bot sync` (which also removes a server's copies)."""

from __future__ import annotations

import hashlib
import json
import logging

import discord
from discord import app_commands

from bot.core.timefmt import to_iso, utcnow
from bot.storage import Database

log = logging.getLogger(__name__)


class CommandPublications:
    """The command_publications table: one hash per scope."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def last_hash(self, scope: str) -> str | None:
        row = await self.db.fetchone("SELECT tree_hash FROM command_publications WHERE scope = ?", (scope,))
        return None if row is None else str(row["tree_hash"])

    async def save(self, scope: str, tree_hash: str) -> None:
        await self.db.execute(
            "INSERT INTO command_publications (scope, tree_hash, published_at) VALUES (?, ?, ?)"
            " ON CONFLICT (scope) DO UPDATE SET tree_hash = excluded.tree_hash, published_at = excluded.published_at",
            (scope, tree_hash, to_iso(utcnow())),
        )


def scope_name(guild_id: int | None) -> str:
    return "global" if guild_id is None else f"guild:{guild_id}"


def tree_hash(tree: app_commands.CommandTree) -> str:
    """A hash of exactly what would be published (names, options, descriptions, permissions)."""
    payload = sorted((command.to_dict(tree) for command in tree.get_commands()), key=lambda c: str(c.get("name")))
    return hashlib.sha256(json.dumps(payload, sort_keys=True, default=str).encode()).hexdigest()


async def publish(tree: app_commands.CommandTree, guild_id: int | None) -> int:
    """Publish the global commands, globally or (copied) to one guild; returns how many were published."""
    if guild_id is None:
        return len(await tree.sync())
    guild = discord.Object(guild_id)
    tree.copy_global_to(guild=guild)
    return len(await tree.sync(guild=guild))


async def remove(tree: app_commands.CommandTree, guild_id: int | None) -> None:
    """Remove the published copies of one guild (or the global ones): publish an empty list there."""
    guild = None if guild_id is None else discord.Object(guild_id)
    tree.clear_commands(guild=guild)
    await tree.sync(guild=guild)


async def publish_if_changed(tree: app_commands.CommandTree, db: Database, guild_id: int | None) -> bool:
    """Publish when the tree differs from the last publish to this scope. A failure is logged, never fatal."""
    scope = scope_name(guild_id)
    current = tree_hash(tree)
    store = CommandPublications(db)
    if await store.last_hash(scope) == current:
        log.info("slash commands unchanged since the last publish (%s): not publishing", scope)
        return False
    try:
        count = await publish(tree, guild_id)
    except discord.HTTPException as exc:
        log.warning(
            "could not publish the slash commands (%s, HTTP %s): run `northca-bot sync` later", scope, exc.status
        )
        return False
    await store.save(scope, current)
    where = "globally (Discord may take up to an hour to show them)" if guild_id is None else f"to guild {guild_id}"
    log.info("published %d slash commands %s: the command tree changed", count, where)
    return True
