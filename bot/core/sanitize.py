"""The one cleaner for free text that goes to Northca (names, departments, callsigns, statuses...).

Discord lets members type characters that are invisible or reorder what a dispatcher reads on the
MDT: control characters, bidi overrides and isolates, zero-width characters. They are removed, and
runs of whitespace become one space.
"""

from __future__ import annotations

import unicodedata

# Unicode categories removed: Cc (control), Cf (format: bidi controls U+202A-202E and U+2066-2069,
# zero-width U+200B-200D, U+2060, U+FEFF, soft hyphen...), Co/Cs/Cn (private use, surrogates, unassigned).
_REMOVED_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Cn"})


def northca_text(value: str) -> str:
    """`value` without control, bidi and zero-width characters, whitespace collapsed, trimmed."""
    # Line breaks and tabs (Cc) separate words: turn them into spaces before removing the rest.
    spaced = "".join(" " if ch.isspace() else ch for ch in value)
    kept = "".join(ch for ch in spaced if unicodedata.category(ch) not in _REMOVED_CATEGORIES)
    return " ".join(kept.split())
