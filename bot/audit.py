"""Where an audited admin action came from: Discord (a command, a button) or the web dashboard.

Every store that writes an audit row (settings, rosters, time adjustments, leave decisions) writes the source
of the action too (migration 037), read from `audit_source()`. Discord is the default; the dashboard marks
every request it serves with `acting_from("dashboard")`, so one setter, validated and audited once, serves both
front doors and the history says "from the dashboard" for what was done there.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Literal

AuditSource = Literal["discord", "dashboard"]
SOURCES: tuple[AuditSource, ...] = ("discord", "dashboard")
SOURCE_LABELS: dict[str, str] = {"discord": "Discord", "dashboard": "the dashboard"}

_SOURCE: ContextVar[AuditSource] = ContextVar("audit_source", default="discord")


def audit_source() -> AuditSource:
    """The source of the action being done in this task (Discord unless the dashboard said otherwise)."""
    return _SOURCE.get()


@contextmanager
def acting_from(source: AuditSource) -> Iterator[None]:
    token = _SOURCE.set(source)
    try:
        yield
    finally:
        _SOURCE.reset(token)
