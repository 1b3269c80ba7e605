"""What the stores read rows as: by column name (sqlite3.Row today, other drivers' rows later)."""

from __future__ import annotations

from typing import Any, Protocol


class Row(Protocol):
    def __getitem__(self, key: str, /) -> Any: ...
