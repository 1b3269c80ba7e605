"""The pieces every parser of what people type, or of what a custom id carries, is built from: so that each
parser is total (a value, or None / ValueError its caller words as a clear refusal; never an exception of its own).

- Digits are ASCII only. `str.isdigit()` is true for `²` or `①`, which `int()` refuses, and `\\d` matches `٣`;
  `whole_number` takes `[0-9]` alone, and the regexes of the parsers are compiled with `re.ASCII`.
- A number that reaches the database fits in its 64-bit INTEGER: every id (a Discord snowflake, a row id) is
  below 2^63 (`MAX_ID`). A bigger one is no id of ours: "not found", never "int too large" inside a query.
- A date is one the bot can compute with: ISO `YYYY-MM-DD` within `FIRST_DAY`..`LAST_DAY`, so a week after it, the
  day before it, or its midnight in any time zone never leaves Python's calendar ("date value out of range").
"""

from __future__ import annotations

import re
from datetime import date

# Discord snowflakes and our row ids are stored in 64-bit signed INTEGER columns.
MAX_ID = 2**63 - 1
# 20 digits hold every value up to MAX_ID and more: what a bound check needs to see, and no more.
_MAX_DIGITS = len(str(MAX_ID)) + 1
_WHOLE_NUMBER = re.compile(r"[0-9]+", re.ASCII)

FIRST_DAY = date(1970, 1, 1)
LAST_DAY = date(9998, 12, 31)
_ISO_DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)


def whole_number(text: str, most: int = MAX_ID) -> int | None:
    """`text` as a whole number 0..`most` written in ASCII digits (no sign, no spaces); None otherwise."""
    if not text or len(text) > _MAX_DIGITS or _WHOLE_NUMBER.fullmatch(text) is None:
        return None
    value = int(text)
    return value if value <= most else None


def database_id(text: str) -> int | None:
    """A snowflake or a row id: 1..MAX_ID in ASCII digits; None for anything else (it names nothing we store)."""
    value = whole_number(text)
    return value if value else None


def iso_day(text: str) -> date:
    """`YYYY-MM-DD` within FIRST_DAY..LAST_DAY; ValueError otherwise (callers say what to type)."""
    if _ISO_DAY.fullmatch(text) is None:
        raise ValueError(f"not a date as YYYY-MM-DD: {text[:20]!r}")
    day = date.fromisoformat(text)
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ValueError(f"{day.isoformat()} is outside {FIRST_DAY.isoformat()}..{LAST_DAY.isoformat()}")
    return day
