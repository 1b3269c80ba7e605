"""Short per-server numbers (migration 039): the numbers people read and type instead of ids ("Call #12",
"LOA #27"). Each kind counts on its own per server, from 1.

`next_number` is one upsert that adds 1 to the server's counter and returns it. Called inside the transaction
that inserts the numbered record: on PostgreSQL the counter's row stays locked until that transaction ends, so
two processes numbering at once wait for each other and never share a number (the unique indexes of migration
039 would refuse it anyway); on SQLite the write transactions take turns. A transaction rolled back gives its
number back with it, so numbers have no gaps from refused inserts."""

from __future__ import annotations

from typing import Any, Literal

NumberKind = Literal["call", "ticket", "report", "panic", "leave"]


async def next_number(conn: Any, guild_id: int, kind: NumberKind) -> int:
    """The next number of `kind` in the server (1 for the first), taken inside `conn`'s transaction."""
    rows = await conn.execute_fetchall(
        "INSERT INTO guild_numbers (guild_id, kind, last_number) VALUES (?, ?, 1)"
        " ON CONFLICT (guild_id, kind) DO UPDATE SET last_number = guild_numbers.last_number + 1"
        " RETURNING last_number",
        (guild_id, kind),
    )
    return int(rows[0][0])
