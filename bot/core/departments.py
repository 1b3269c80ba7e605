"""Departments: the one rule for which department a shift or a profile may name.

The configured list (shifts.departments) is the rule. A configured department is kept as configured,
whatever the case typed; an unknown one is refused where it is set (/shift start, /profile set).
With no list configured, any department is accepted.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot.core.errors import ErrorKind, InvalidInput
from bot.core.profiles import clean_text

log = logging.getLogger(__name__)


class Departments:
    def __init__(self, configured: Sequence[str]) -> None:
        self.names = list(configured)

    def choices(self, current: str, limit: int = 25) -> list[str]:
        """For autocomplete: those containing the typed text, those starting with it first."""
        text = (current or "").strip().lower()
        matches = [d for d in self.names if text in d.lower()]
        matches.sort(key=lambda d: (not d.lower().startswith(text), d.lower()))
        return matches[:limit]

    def match(self, raw: str | None, *, strict: bool = True) -> str | None:
        """A configured department (any case), or None for none (empty or `-`). Unknown ones are
        refused when `strict` (setting one), kept as typed otherwise (filters)."""
        if raw is None:
            return None
        value = clean_text("department", raw)
        if value is None:
            return None
        for known in self.names:
            if known.lower() == value.lower():
                return known
        if strict and self.names:
            raise InvalidInput(ErrorKind.UNKNOWN_DEPARTMENT, value=value, names=tuple(self.names))
        return value

    def known(self, stored: str | None) -> str | None:
        """A stored department if the rule still allows it (the list may have changed since), else None."""
        if stored is None:
            return None
        try:
            return self.match(stored)
        except InvalidInput:
            log.info("stored department %r is not configured (any more): not used", stored)
            return None
