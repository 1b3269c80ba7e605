"""What the stores read rows as: by column name or index (aiosqlite.Row on SQLite, asyncpg.Record on PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, Protocol


class Row(Protocol):
    def __getitem__(self, key: str | int, /) -> Any: ...
    def __iter__(self) -> Iterator[Any]: ...
    def keys(self) -> Any: ...
