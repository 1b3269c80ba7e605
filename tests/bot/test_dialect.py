"""The SQL translator (bot/storage/dialect.py): every rewrite, as text and run on the engine of the pass (a real
SQLite file, or with NORTHCA_TEST_DB=postgresql a real PostgreSQL), each next to a string literal, a quoted
identifier or a comment that spells the same thing and must come back untouched."""

from __future__ import annotations

import json

import pytest

from bot.storage import INTEGRITY_ERRORS, Database, _ddl, _pg_statement
from bot.storage.dialect import is_read, postgresql_ddl, postgresql_sql, sqlite_sql, statements

# --- each rewrite, run ------------------------------------------------------------------------------------


async def test_greatest_and_least_outside_literals(db: Database) -> None:
    row = await db.fetchone(
        "SELECT GREATEST(?, 3) AS g, LEAST(?, 3) AS l, 'GREATEST(1, 2)' AS text, \"LEAST(\" AS quoted"
        " FROM (SELECT 'kept' AS \"LEAST(\") AS q",
        (5, 1),
    )
    assert row is not None
    assert (row["g"], row["l"], row["text"], row["quoted"]) == (5, 1, "GREATEST(1, 2)", "kept")


async def test_positional_parameters_outside_literals_and_comments(db: Database) -> None:
    row = await db.fetchone(
        "SELECT ? AS a, '?' AS q, -- is this a parameter? no\n ? AS b, 'it''s ?' AS quote /* nor ? here */",
        (1, "x"),
    )
    assert row is not None
    assert (row["a"], row["q"], row["b"], row["quote"]) == (1, "?", "x", "it's ?")


async def test_numbered_parameters_reused_and_reordered(db: Database) -> None:
    row = await db.fetchone("SELECT ?2 AS second, ?1 AS first, ?2 AS again, '?1' AS lit", (1, 2))
    assert row is not None
    assert (row["second"], row["first"], row["again"], row["lit"]) == (2, 1, 2, "?1")


async def test_named_parameters_outside_literals(db: Database) -> None:
    row = await db.fetchone("SELECT :x AS x, ':x' AS lit, :y AS y, :x + 1 AS next", {"x": 41, "y": "why"})
    assert row is not None
    assert (row["x"], row["lit"], row["y"], row["next"]) == (41, ":x", "why", 42)


async def test_parameters_typed_from_their_values(db: Database) -> None:
    """PostgreSQL cannot type `? IS NULL` or `? = ?` alone: each parameter says its type (int, str, None)."""
    row = await db.fetchone(
        "SELECT CAST(? AS TEXT) IS NULL AS missing, ? = ? AS same, ? AS big, ? AS name",
        (None, 5, 5, 2**53, "n"),
    )
    assert row is not None
    assert (bool(row["missing"]), bool(row["same"]), row["big"], row["name"]) == (True, True, 2**53, "n")


async def test_json_aggregates_outside_literals(db: Database) -> None:
    row = await db.fetchone(
        "SELECT COALESCE(json_group_array(json_array(v.column1, v.column2)), '[]') AS j,"
        " 'json_group_array(json_array(' AS lit FROM (VALUES (1, 'x'), (2, 'y')) AS v"
    )
    assert row is not None
    assert sorted(json.loads(row["j"])) == [[1, "x"], [2, "y"]]
    assert row["lit"] == "json_group_array(json_array("


async def test_index_hint_kept_for_sqlite_dropped_for_postgresql(db: Database) -> None:
    await db.execute(
        "INSERT INTO shifts (id, guild_id, member_id, mdt_id, officer_name, started_ms)"
        " VALUES ('s1', 7, 8, 'm', 'hint INDEXED BY nothing', 1000)"
    )
    row = await db.fetchone(
        "SELECT officer_name FROM shifts INDEXED BY shifts_by_guild_start WHERE guild_id = ?"
        " AND officer_name = 'hint INDEXED BY nothing'",
        (7,),
    )
    assert row is not None and row["officer_name"] == "hint INDEXED BY nothing"
    if db.engine == "sqlite":  # SQLite really uses the hint: an index it does not have is an error
        with pytest.raises(Exception, match="no such index"):
            await db.fetchone("SELECT id FROM shifts INDEXED BY no_such_index WHERE guild_id = 7")


async def test_row_lock_inside_a_transaction(db: Database) -> None:
    await db.execute(
        "INSERT INTO shifts (id, guild_id, member_id, mdt_id, officer_name, started_ms)"
        " VALUES ('s1', 7, 8, 'm', 'FOR UPDATE', 1000)"
    )
    async with db.transaction():
        row = await db.fetchone(
            "SELECT officer_name FROM shifts WHERE id = ? AND officer_name = 'FOR UPDATE' FOR UPDATE", ("s1",)
        )
        assert row is not None and row["officer_name"] == "FOR UPDATE"
        await db.execute("UPDATE shifts SET officer_name = 'locked' WHERE id = ?", ("s1",))
    assert (await db.fetchone("SELECT officer_name FROM shifts WHERE id = 's1'"))["officer_name"] == "locked"


async def test_migration_ddl_rewrites(db: Database) -> None:
    """INTEGER is 64-bit, INTEGER PRIMARY KEY AUTOINCREMENT fills itself in, `IS 'x'` in a CHECK holds; the same
    words inside a default literal are data."""
    sql = (
        "CREATE TABLE dialect_probe (id INTEGER PRIMARY KEY AUTOINCREMENT, big INTEGER NOT NULL,"
        " state TEXT NOT NULL CHECK (state IS 'a' OR state IS 'b'),"
        " note TEXT NOT NULL DEFAULT 'INTEGER PRIMARY KEY; IS ''x''')"
    )
    [statement] = statements(sql + ";\n-- a comment; with a semicolon\n")
    await db.execute(_ddl(statement, db.engine))
    await db.execute("INSERT INTO dialect_probe (big, state) VALUES (?, 'a')", (2**40,))
    await db.execute("INSERT INTO dialect_probe (big, state) VALUES (?, 'b')", (-(2**40),))
    rows = await db.fetchall("SELECT id, big, state, note FROM dialect_probe ORDER BY id")
    assert [(r["id"], r["big"], r["state"]) for r in rows] == [(1, 2**40, "a"), (2, -(2**40), "b")]
    assert rows[0]["note"] == "INTEGER PRIMARY KEY; IS 'x'"
    with pytest.raises(INTEGRITY_ERRORS):  # the CHECK holds
        await db.execute("INSERT INTO dialect_probe (big, state) VALUES (1, 'c')")


# --- the same rewrites, as text -----------------------------------------------------------------------------


def pg_text(sql: str, *params: object) -> str:
    return _pg_statement(sql, params)[0]


def test_sqlite_spelling() -> None:
    assert sqlite_sql("SELECT GREATEST(a, 1), least (b, 2), 'GREATEST(' FROM t") == (
        "SELECT MAX(a, 1), MIN (b, 2), 'GREATEST(' FROM t"
    )
    assert sqlite_sql("SELECT greatest FROM t") == "SELECT greatest FROM t"  # a column, not a call
    assert sqlite_sql("SELECT x FROM t WHERE id = ? FOR UPDATE") == "SELECT x FROM t WHERE id = ?"
    assert sqlite_sql("SELECT 'FOR UPDATE' -- FOR UPDATE\n") == "SELECT 'FOR UPDATE' -- FOR UPDATE\n"
    assert sqlite_sql("INSERT INTO t VALUES (1) ON CONFLICT DO UPDATE SET a = 1") == (
        "INSERT INTO t VALUES (1) ON CONFLICT DO UPDATE SET a = 1"
    )


def test_postgresql_spelling() -> None:
    assert pg_text("SELECT ? , '?', \"?\", ? -- ?\n", 1, "a") == "SELECT $1::bigint , '?', \"?\", $2::text -- ?\n"
    assert pg_text("SELECT ?2, ?1, ?2", 1, 2) == "SELECT $1::bigint, $2::bigint, $1::bigint"
    assert _pg_statement("SELECT :a, ':a', :b, :a", {"a": 1, "b": None}) == (
        "SELECT $1::bigint, ':a', $2, $1::bigint",
        [1, None],
    )
    assert (
        _pg_statement("SELECT x::text FROM t WHERE y = :y", {"y": "v"})[0] == "SELECT x::text FROM t WHERE y = $1::text"
    )
    assert pg_text("SELECT ? /* ? */", 1.5) == "SELECT $1::float8 /* ? */"
    assert pg_text("SELECT json_group_array(json_array(a)), 'json_array(' FROM t") == (
        "SELECT json_agg(json_build_array(a)), 'json_array(' FROM t"
    )
    assert pg_text("SELECT a FROM t INDEXED BY t_by_a WHERE a = 'INDEXED BY t_by_a'") == (
        "SELECT a FROM t WHERE a = 'INDEXED BY t_by_a'"
    )
    assert pg_text("SELECT a FROM t WHERE id = ? FOR UPDATE", 1) == "SELECT a FROM t WHERE id = $1::bigint FOR UPDATE"
    assert pg_text("SELECT GREATEST(a, b) FROM t") == "SELECT GREATEST(a, b) FROM t"
    # Booleans are sent as integers (SQLite's 0/1 columns).
    assert _pg_statement("SELECT ?", (True,)) == ("SELECT $1::bigint", [1])
    assert postgresql_sql("SELECT 1").order == ()


def test_migration_spelling() -> None:
    assert postgresql_ddl(
        "CREATE TABLE t (id INTEGER PRIMARY KEY AUTOINCREMENT, n INTEGER, s TEXT DEFAULT 'INTEGER')"
    ) == ("CREATE TABLE t (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, n BIGINT, s TEXT DEFAULT 'INTEGER')")
    assert postgresql_ddl("CREATE TABLE t (id INTEGER PRIMARY KEY, c CHECK (s IS 'failed' OR s IS NOT NULL))") == (
        "CREATE TABLE t (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,"
        " c CHECK (s = 'failed' OR s IS NOT NULL))"
    )
    assert statements("CREATE TABLE a (s TEXT DEFAULT ';');\n-- b; c\nCREATE INDEX i ON a (s); /* ; */") == [
        "CREATE TABLE a (s TEXT DEFAULT ';')",
        "CREATE INDEX i ON a (s)",
    ]


def test_reads_are_told_from_writes() -> None:
    """Only a read is sent again after its connection was lost with the answer (a write may have been applied)."""
    assert is_read("SELECT * FROM t WHERE note = 'DELETE'")
    assert is_read("  select count(*) from t")
    assert is_read("WITH x AS (SELECT 1) SELECT * FROM x")
    assert not is_read("WITH x AS (INSERT INTO t VALUES (1) RETURNING *) SELECT * FROM x")
    assert not is_read("INSERT INTO t SELECT 1")
    assert not is_read("UPDATE t SET a = 'SELECT'")
    assert not is_read("SELECT * FROM t FOR UPDATE")
    assert not is_read("-- SELECT\nDELETE FROM t")
