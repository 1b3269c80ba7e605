"""The portable SQL subset in each engine's spelling (bot/storage's docstring lists the subset's rules).

Every rewrite works on tokens, never on the raw text: string literals ('...', with '' inside), quoted
identifiers ("..."), comments (-- to the end of the line, /* ... */) and `::` casts pass through as they are,
so a literal that happens to read `GREATEST(`, `?` or `INDEXED BY x` is data and stays data. The rewrites:

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
import itertools
import re
from dataclasses import dataclass

# One token per match. The order matters: literals and comments first, so nothing inside them is seen.
_TOKEN = re.compile(
    r"""
    (?P<literal>'(?:[^']|'')*'?)          # a string literal ('' is a quote inside; unterminated: to the end)
  | (?P<quoted>"(?:[^"]|"")*"?)           # a quoted identifier
  | (?P<comment>--[^\n]*|/\*.*?(?:\*/|\Z))  # comments
  | (?P<cast>::)                          # a PostgreSQL cast, never a :name parameter
  | (?P<param>\?\d*|:[A-Za-z_]\w*)        # parameters
  | (?P<word>[A-Za-z_]\w*)
  | (?P<space>\s+)
  | (?P<other>.)
    """,
    re.VERBOSE | re.DOTALL,
)

# Tokens the rewrites never look into.
OPAQUE = frozenset({"literal", "quoted", "comment", "cast"})


@dataclass(frozen=True, slots=True)
class Token:
    kind: str  # literal, quoted, comment, cast, param, word, space, other
    text: str

    def is_word(self, *words: str) -> bool:
        return self.kind == "word" and self.text.upper() in words


@functools.lru_cache(maxsize=2048)
def tokens(sql: str) -> tuple[Token, ...]:
    found = []
    for match in _TOKEN.finditer(sql):
        kind = match.lastgroup
        assert kind is not None
        found.append(Token(kind, match.group()))
    return tuple(found)


def _next_code(toks: tuple[Token, ...], i: int) -> int:
    """The index of the first token at or after `i` that is neither space nor comment (len(toks) if none)."""
    while i < len(toks) and toks[i].kind in ("space", "comment"):
        i += 1
    return i


def _is_call(toks: tuple[Token, ...], i: int) -> bool:
    """Whether the word at `i` is called: its next code token is `(`."""
    j = _next_code(toks, i + 1)
    return j < len(toks) and toks[j].text == "("


# --- SQLite -----------------------------------------------------------------------------------------------

_SQLITE_FUNCTIONS = {"GREATEST": "MAX", "LEAST": "MIN"}


def _row_lock_end(toks: tuple[Token, ...], i: int) -> int | None:
    """When `FOR UPDATE` starts at `i`, the index just after it."""
    if not toks[i].is_word("FOR"):
        return None
    j = _next_code(toks, i + 1)
    return j + 1 if j < len(toks) and toks[j].is_word("UPDATE") else None


@functools.lru_cache(maxsize=1024)
def sqlite_sql(sql: str) -> str:
    """The portable subset in SQLite's spelling: scalar MAX / MIN for GREATEST / LEAST; no `FOR UPDATE` (a
    transaction's BEGIN IMMEDIATE already holds the write lock of the whole database)."""
    toks = tokens(sql)
    out: list[str] = []
    i = 0
    while i < len(toks):
        tok = toks[i]
        lock_end = _row_lock_end(toks, i)
        if lock_end is not None:
            while out and out[-1].isspace():  # with the space before it
                out.pop()
            i = lock_end
            continue
        name = tok.text.upper()
        if tok.kind == "word" and name in _SQLITE_FUNCTIONS and _is_call(toks, i):
            out.append(_SQLITE_FUNCTIONS[name])
        else:
            out.append(tok.text)
        i += 1
    return "".join(out)


# --- PostgreSQL -------------------------------------------------------------------------------------------

_PG_FUNCTIONS = {"JSON_GROUP_ARRAY": "json_agg", "JSON_ARRAY": "json_build_array"}


@dataclass(frozen=True, slots=True)
class PgStatement:
    """A statement for PostgreSQL: `pieces` around its parameters (len(order) + 1 of them); per `$n`, the
    position (int) or name (str) of the value it takes."""

    pieces: tuple[str, ...]
    order: tuple[int | str, ...]
    slots: tuple[int, ...]  # per parameter in the text, its $n (a repeated :name reuses its number)


def _index_hint_end(toks: tuple[Token, ...], i: int) -> int | None:
    """When `INDEXED BY name` starts at `i`, the index just after the name."""
    if not toks[i].is_word("INDEXED"):
        return None
    j = _next_code(toks, i + 1)
    if j >= len(toks) or not toks[j].is_word("BY"):
        return None
    k = _next_code(toks, j + 1)
    if k >= len(toks) or toks[k].kind not in ("word", "quoted"):
        return None
    return k + 1


@functools.lru_cache(maxsize=1024)
def postgresql_sql(sql: str) -> PgStatement:
    """The portable subset in PostgreSQL's spelling, its parameters numbered (see the module docstring)."""
    toks = tokens(sql)
    pieces: list[str] = []
    current: list[str] = []
    order: list[int | str] = []
    by_key: dict[int | str, int] = {}
    slots: list[int] = []
    next_positional = 0
    i = 0
    while i < len(toks):
        tok = toks[i]
        hint_end = _index_hint_end(toks, i)
        if hint_end is not None:
            while current and current[-1].isspace():  # with the space before it
                current.pop()
            i = hint_end
            continue
        if tok.kind == "param":
            key: int | str
            if tok.text.startswith("?"):
                if len(tok.text) > 1:
                    key = int(tok.text[1:]) - 1
                else:
                    key = next_positional
                    next_positional += 1
            else:
                key = tok.text[1:]
            if key not in by_key:
                order.append(key)
                by_key[key] = len(order)
            slots.append(by_key[key])
            pieces.append("".join(current))
            current = []
        elif tok.kind == "word" and tok.text.upper() in _PG_FUNCTIONS and _is_call(toks, i):
            current.append(_PG_FUNCTIONS[tok.text.upper()])
        else:
            current.append(tok.text)
        i += 1
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


@functools.lru_cache(maxsize=256)
def postgresql_ddl(statement: str) -> str:
    """A migration statement for PostgreSQL: INTEGER is BIGINT (snowflakes and millisecond times need 64 bits),
    an INTEGER PRIMARY KEY (SQLite's rowid alias, filled in when an INSERT leaves it out, AUTOINCREMENT or not)
    an identity column, and `IS 'literal'` (007's CHECK) `= 'literal'`."""
    toks = tokens(statement)
    out: list[str] = []
    i = 0
    while i < len(toks):
        tok = toks[i]
        if tok.is_word("INTEGER"):
            j = _next_code(toks, i + 1)
            k = _next_code(toks, j + 1)
            if j < len(toks) and k < len(toks) and toks[j].is_word("PRIMARY") and toks[k].is_word("KEY"):
                out.append("BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY")
                i = k + 1
                a = _next_code(toks, i)
                if a < len(toks) and toks[a].is_word("AUTOINCREMENT"):
                    i = a + 1
                continue
            out.append("BIGINT")
        elif tok.is_word("IS"):
            j = _next_code(toks, i + 1)
            out.append("=" if j < len(toks) and toks[j].kind == "literal" else tok.text)
        else:
            out.append(tok.text)
        i += 1
    return "".join(out)


def statements(sql: str) -> list[str]:
    """A migration file's statements: split at each `;` outside literals and comments, comments dropped."""
    found: list[str] = []
    current: list[str] = []
    for tok in tokens(sql):
        if tok.kind == "comment":
            current.append("\n" if tok.text.startswith("--") else " ")
        elif tok.kind == "other" and tok.text == ";":
            found.append("".join(current).strip())
            current = []
        else:
            current.append(tok.text)
    found.append("".join(current).strip())
    return [s for s in found if s]


# --- what a statement does ------------------------------------------------------------------------------

_WRITES = frozenset({"INSERT", "UPDATE", "DELETE", "CREATE", "DROP", "ALTER", "TRUNCATE", "COPY", "GRANT"})


@functools.lru_cache(maxsize=2048)
def is_read(sql: str) -> bool:
    """Whether the statement only reads: it starts with SELECT / WITH / VALUES / SHOW / EXPLAIN, names no
    writing keyword (a WITH may hold an INSERT), and locks nothing (FOR UPDATE / FOR SHARE). Only such a
    statement is sent again when the connection was lost with its answer: a write may have been applied."""
    words = [tok.text.upper() for tok in tokens(sql) if tok.kind == "word"]
    if not words or words[0] not in ("SELECT", "WITH", "VALUES", "SHOW", "EXPLAIN"):
        return False
    if _WRITES.intersection(words):
        return False
    return not any(a == "FOR" and b in ("UPDATE", "SHARE", "NO") for a, b in itertools.pairwise(words))
