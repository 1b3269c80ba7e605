"""The portable SQL subset in each engine's spelling (bot/storage's docstring lists the subset's rules).

Every rewrite runs on a scanner, never on the raw text: one regular expression per direction matches, left
to right, either a token no rewrite may look into (a string literal '...' with '' inside, a quoted identifier
"...", a comment -- to the end of the line or /* ... */, a `::` cast), taken whole and kept as it is, or a
token a rewrite changes; the text between them is copied unread (the regex engine skips it, so a miss of the
cache costs about as much as the old plain regexes). So a literal that happens to read `GREATEST(`, `?` or
`INDEXED BY x` is data and stays data. The rewrites:

- to SQLite (`sqlite_sql`): GREATEST( / LEAST( -> MAX( / MIN( (SQLite's scalar forms); the row lock
  `FOR UPDATE` is dropped (inside a transaction SQLite already holds the write lock of the whole database; on
  PostgreSQL, whose transactions run concurrently, a read-then-write in a transaction needs it).
- to PostgreSQL (`postgresql_sql`): `?`, `?NNN`, `:name` -> `$n` (each typed from its Python value by
  `postgresql_typed`); json_group_array( / json_array( -> json_agg( / json_build_array(; the SQLite planner
  hint `INDEXED BY name` is dropped (PostgreSQL plans alone; this module owns the hint, so the stores may
  write it).
- migrations to PostgreSQL (`postgresql_ddl`): INTEGER -> BIGINT, INTEGER PRIMARY KEY [AUTOINCREMENT] -> an
  identity column, `IS 'literal'` -> `= 'literal'`.
- `statements` splits a migration file at the `;` that end statements (never one inside a literal/comment).
- `is_read` tells a statement that changes nothing (safe to send again after a lost connection).

Each result is cached per statement text, so the hot paths pay a dict lookup.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass

# What no rewrite looks into: string literals ('' is a quote inside; unterminated: to the end), quoted
# identifiers, comments.
_LITERAL = r"'(?:[^']|'')*'?"
_OPAQUE = rf"{_LITERAL}|\"(?:[^\"]|\"\")*\"?|--[^\n]*|/\*.*?(?:\*/|\Z)"
_FLAGS = re.IGNORECASE | re.DOTALL

# --- SQLite -----------------------------------------------------------------------------------------------

_SQLITE_SCAN = re.compile(
    rf"(?P<opaque>{_OPAQUE})|\b(?P<fn>GREATEST|LEAST)(?=\s*\()|(?P<lock>\s+FOR\s+UPDATE\b)", _FLAGS
)
_SQLITE_FUNCTIONS = {"GREATEST": "MAX", "LEAST": "MIN"}


@functools.lru_cache(maxsize=1024)
def sqlite_sql(sql: str) -> str:
    """The portable subset in SQLite's spelling: scalar MAX / MIN for GREATEST / LEAST; no `FOR UPDATE` (a
    transaction's BEGIN IMMEDIATE already holds the write lock of the whole database)."""

    def replace(match: re.Match[str]) -> str:
        if match.group("fn") is not None:
            return _SQLITE_FUNCTIONS[match.group("fn").upper()]
        if match.group("lock") is not None:
            return ""  # with the space before it
        return match.group(0)

    return _SQLITE_SCAN.sub(replace, sql)


# --- PostgreSQL -------------------------------------------------------------------------------------------

_PG_SCAN = re.compile(
    rf"(?P<opaque>{_OPAQUE}|::)"
    r"|(?P<param>\?\d*|:[A-Za-z_]\w*)"
    r"|\b(?P<fn>json_group_array|json_array)(?=\s*\()"
    r"|(?P<hint>\s+INDEXED\s+BY\s+(?:\w+|\"[^\"]*\"))",
    _FLAGS,
)
_PG_FUNCTIONS = {"JSON_GROUP_ARRAY": "json_agg", "JSON_ARRAY": "json_build_array"}


@dataclass(frozen=True, slots=True)
class PgStatement:
    """A statement for PostgreSQL: `pieces` around its parameters (one more piece than parameters in the text);
    per `$n`, the position (int) or name (str) of the value it takes."""

    pieces: tuple[str, ...]
    order: tuple[int | str, ...]
    slots: tuple[int, ...]  # per parameter in the text, its $n (a repeated :name or ?NNN reuses its number)


@functools.lru_cache(maxsize=1024)
def postgresql_sql(sql: str) -> PgStatement:
    """The portable subset in PostgreSQL's spelling, its parameters numbered (see the module docstring)."""
    pieces: list[str] = []
    current: list[str] = []
    order: list[int | str] = []
    by_key: dict[int | str, int] = {}
    slots: list[int] = []
    next_positional = 0
    done = 0
    for match in _PG_SCAN.finditer(sql):
        current.append(sql[done : match.start()])
        done = match.end()
        param, fn = match.group("param"), match.group("fn")
        if param is not None:
            key: int | str
            if param.startswith("?"):
                if len(param) > 1:
                    key = int(param[1:]) - 1
                else:
                    key = next_positional
                    next_positional += 1
            else:
                key = param[1:]
            if key not in by_key:
                order.append(key)
                by_key[key] = len(order)
            slots.append(by_key[key])
            pieces.append("".join(current))
            current = []
        elif fn is not None:
            current.append(_PG_FUNCTIONS[fn.upper()])
        elif match.group("hint") is None:  # an index hint is dropped, with the space before it
            current.append(match.group(0))
    current.append(sql[done:])
    pieces.append("".join(current))
    return PgStatement(tuple(pieces), tuple(order), tuple(slots))


# SQLite compares loosely; PostgreSQL must know each parameter's type, and cannot always tell it from the
# statement (`? IS NULL`, a parameter compared with another). So each one says its type, from its Python value.
PG_CASTS: dict[type, str] = {int: "::bigint", bool: "::bigint", str: "::text", float: "::float8"}


@functools.lru_cache(maxsize=4096)
def postgresql_typed(statement: PgStatement, casts: tuple[str, ...]) -> str:
    """The statement's text with `$n` and its cast (`casts[n - 1]`, "" for none) at each parameter."""
    out = [statement.pieces[0]]
    for slot, piece in zip(statement.slots, statement.pieces[1:], strict=True):
        out.append(f"${slot}{casts[slot - 1]}")
        out.append(piece)
    return "".join(out)


# --- migrations -------------------------------------------------------------------------------------------

_DDL_SCAN = re.compile(
    rf"(?P<opaque>{_OPAQUE})"
    r"|(?P<key>\bINTEGER\s+PRIMARY\s+KEY(?:\s+AUTOINCREMENT)?\b)"
    r"|(?P<integer>\bINTEGER\b)"
    rf"|(?P<is>\bIS)(?=\s*{_LITERAL})",
    _FLAGS,
)


@functools.lru_cache(maxsize=256)
def postgresql_ddl(statement: str) -> str:
    """A migration statement for PostgreSQL: INTEGER is BIGINT (snowflakes and millisecond times need 64 bits),
    an INTEGER PRIMARY KEY (SQLite's rowid alias, filled in when an INSERT leaves it out, AUTOINCREMENT or not)
    an identity column, and `IS 'literal'` (007's CHECK) `= 'literal'`."""

    def replace(match: re.Match[str]) -> str:
        if match.group("key") is not None:
            return "BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY"
        if match.group("integer") is not None:
            return "BIGINT"
        if match.group("is") is not None:
            return "="
        return match.group(0)

    return _DDL_SCAN.sub(replace, statement)


_SPLIT_SCAN = re.compile(rf"(?P<comment>--[^\n]*|/\*.*?(?:\*/|\Z))|(?P<opaque>{_OPAQUE})|(?P<end>;)", re.DOTALL)


def statements(sql: str) -> list[str]:
    """A migration file's statements: split at each `;` outside literals and comments, comments dropped."""
    found: list[str] = []
    current: list[str] = []
    done = 0
    for match in _SPLIT_SCAN.finditer(sql):
        current.append(sql[done : match.start()])
        done = match.end()
        if match.group("comment") is not None:
            current.append("\n" if match.group(0).startswith("--") else " ")
        elif match.group("end") is not None:
            found.append("".join(current).strip())
            current = []
        else:
            current.append(match.group(0))
    current.append(sql[done:])
    found.append("".join(current).strip())
    return [s for s in found if s]


# --- what a statement does ------------------------------------------------------------------------------

_OPAQUE_SCAN = re.compile(_OPAQUE, re.DOTALL)
_READ_START = re.compile(r"\s*\(*\s*(?:SELECT|WITH|VALUES|SHOW|EXPLAIN)\b", re.IGNORECASE)
_WRITES = re.compile(
    r"\b(?:INSERT|UPDATE|DELETE|MERGE|CREATE|DROP|ALTER|TRUNCATE|COPY|GRANT|LOCK)\b"
    r"|\bFOR\s+(?:NO\s+KEY\s+)?(?:UPDATE|SHARE|KEY\s+SHARE)\b",
    re.IGNORECASE,
)


@functools.lru_cache(maxsize=2048)
def is_read(sql: str) -> bool:
    """Whether the statement only reads: it starts with SELECT / WITH / VALUES / SHOW / EXPLAIN, names no
    writing keyword outside literals and comments (a WITH may hold an INSERT), and locks nothing (FOR UPDATE /
    FOR SHARE). Only such a statement is sent again when the connection was lost with its answer: a write may
    have been applied."""
    code = _OPAQUE_SCAN.sub(" ", sql)
    return _READ_START.match(code) is not None and _WRITES.search(code) is None
