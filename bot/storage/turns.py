"""Turns: transactions about the same thing (one member's leave, one server's roster templates) run one after
the other on both engines, so a "read, then insert if nothing is in the way" inside one cannot be raced by
another coroutine or process (table `write_turns`, migration 030).

SQLite needs nothing: its write transactions (BEGIN IMMEDIATE) already take turns across connections and
processes. PostgreSQL runs transactions side by side (READ COMMITTED): two that both read "no overlapping
leave" and both insert would store two. Each first updates its turn row in one upsert; the row lock is held
until the transaction ends, so the second waits there, and its next read (a new snapshot) sees what the first
committed. Use it as the first statement of the transaction, before the read it protects.
"""

from __future__ import annotations

from collections.abc import Iterable

from bot.storage import Database


def callsign_turn(callsign: str) -> str:
    """The turn of a callsign in a guild: shift starts and profile changes that check it is free take it."""
    return f"callsign:{callsign}"


async def take_turn(tx: Database, guild_id: int, name: str) -> None:
    """Wait for, and hold until `tx` ends, the turn `name` of `guild_id` (`tx`: inside Database.transaction())."""
    if not tx.in_transaction:
        raise RuntimeError("take_turn is for use inside Database.transaction(): outside one it holds nothing")
    await tx.execute(
        "INSERT INTO write_turns (guild_id, name, taken) VALUES (?, ?, 1)"
        " ON CONFLICT (guild_id, name) DO UPDATE SET taken = write_turns.taken + 1",
        (guild_id, name),
    )


async def take_turns(tx: Database, turns: Iterable[tuple[int, str]]) -> None:
    """Several turns (guild, name) in one statement, taken in sorted order (so two transactions wanting some of
    the same turns never each wait for the other)."""
    if not tx.in_transaction:
        raise RuntimeError("take_turns is for use inside Database.transaction(): outside one it holds nothing")
    keys = sorted(set(turns))
    if not keys:
        return
    values = ", ".join("(?, ?, 1)" for _ in keys)
    await tx.execute(
        f"INSERT INTO write_turns (guild_id, name, taken) VALUES {values}"
        " ON CONFLICT (guild_id, name) DO UPDATE SET taken = write_turns.taken + 1",
        tuple(x for key in keys for x in key),
    )
