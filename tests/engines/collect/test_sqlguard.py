"""The read-only statement check: reads pass, writes and tricks are refused clearly,
and a keyword in a string or comment is not a false alarm."""

from __future__ import annotations

import pytest

from augury.engines.collect.sqlguard import UnsafeQuery, check_read_only

READS = [
    "SELECT * FROM events",
    "select ts, sum(n) from t where kind = 'x' group by ts",
    "WITH d AS (SELECT date_trunc('day', ts) d, count(*) n FROM t GROUP BY 1) SELECT * FROM d",
    "(SELECT 1) UNION ALL (SELECT 2)",
    "VALUES (1, 2)",
    "TABLE events",
    "SELECT 'DELETE FROM t; DROP TABLE t' AS note",  # keywords inside a string
    'SELECT "update", "delete" FROM t',  # quoted identifiers
    "SELECT `insert` FROM t",
    "SELECT t.update, t.set FROM t",  # qualified names
    "SELECT replace(name, 'a', 'b') FROM t",  # a function, not MySQL REPLACE INTO
    "SELECT CAST(x AS CHAR CHARACTER SET utf8) FROM t",
    "SELECT load, close, commit, cluster FROM metrics",  # common column names
    "SELECT * FROM t ORDER BY ts FETCH FIRST 10 ROWS ONLY",
    "SELECT 1 -- ; DROP TABLE t\n",
    "SELECT /* DELETE FROM t; */ 1",
    "SELECT 1 /* nested /* DELETE */ still comment */",
    "SELECT 'it''s' FROM t",
    "SELECT * FROM t WHERE updated_at > now() - interval '1 hour'",
    "SELECT 1;",
    "SELECT 1;  -- done",
]


@pytest.mark.parametrize("sql", READS)
def test_reads_pass(sql):
    out = check_read_only(sql)
    assert not out.rstrip().endswith(";")


def test_the_statement_comes_back_ready_to_wrap():
    assert check_read_only("  SELECT 1;  -- done\n") == "SELECT 1"
    # a trailing -- comment gets its newline back: a wrapper's ')' must not be swallowed
    assert check_read_only("SELECT 1 -- note") == "SELECT 1 -- note\n"
    assert check_read_only("SELECT 1 /* note */") == "SELECT 1 /* note */\n"


@pytest.mark.parametrize(
    "sql, reason",
    [
        ("INSERT INTO t VALUES (1)", "starts with 'INSERT'"),
        ("UPDATE t SET n = 1", "starts with 'UPDATE'"),
        ("DELETE FROM t", "starts with 'DELETE'"),
        ("MERGE INTO t USING s ON true WHEN MATCHED THEN DELETE", "starts with 'MERGE'"),
        ("DROP TABLE t", "starts with 'DROP'"),
        ("CREATE TABLE x AS SELECT 1", "starts with 'CREATE'"),
        ("ALTER TABLE t ADD c int", "starts with 'ALTER'"),
        ("TRUNCATE t", "starts with 'TRUNCATE'"),
        ("COPY t TO '/tmp/x'", "starts with 'COPY'"),
        ("CALL proc()", "starts with 'CALL'"),
        ("SET statement_timeout = 0", "starts with 'SET'"),
        ("EXPLAIN ANALYZE DELETE FROM t", "starts with 'EXPLAIN'"),
        ("DO $$ BEGIN DELETE FROM t; END $$", "starts with 'DO'"),
        ("GRANT ALL ON t TO public", "starts with 'GRANT'"),
        ("", "empty"),
        ("   ;", "empty"),
        ("-- only a comment", "empty"),
    ],
)
def test_statements_that_are_not_reads(sql, reason):
    with pytest.raises(UnsafeQuery, match=reason):
        check_read_only(sql)


@pytest.mark.parametrize(
    "sql, reason",
    [
        ("SELECT 1; DELETE FROM t", "Only one statement"),
        ("SELECT 1; SELECT 2", "Only one statement"),
        ("SELECT 1;;", "Only one statement"),
        ("SELECT * INTO backup FROM t", "SELECT ... INTO"),
        ("SELECT n FROM t INTO OUTFILE '/tmp/x'", "SELECT ... INTO"),
        ("SELECT @x := 1 INTO @y", "SELECT ... INTO"),
        ("SELECT * FROM t FOR UPDATE", "UPDATE writes or locks rows"),
        ("SELECT * FROM t FOR NO KEY UPDATE", "UPDATE writes or locks rows"),
        ("SELECT * FROM t FOR SHARE", "FOR SHARE"),
        ("SELECT * FROM t LOCK IN SHARE MODE", "LOCK writes or locks rows"),
        ("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", "DELETE is not a read"),
        ("WITH d AS (UPDATE t SET n = 1 RETURNING *) SELECT 1", "UPDATE"),
        ("SELECT * FROM (SET x = 1) s", "SET is not a read"),
        ("SELECT pg_read_file('/etc/passwd')", r"pg_read_file\(\)"),
        ("SELECT pg_catalog.pg_read_file('/etc/passwd')", r"pg_read_file\(\)"),
        ("SELECT \"lo_export\"(1, '/tmp/x')", "lo_export"),
        ("SELECT nextval('s')", "nextval"),
        ("SELECT set_config('x', 'y', false)", "set_config"),
        ("SELECT LOAD_FILE('/etc/passwd')", "LOAD_FILE"),
        ("SELECT update FROM t", 'quote it \\("update"\\)'),
    ],
)
def test_writes_hidden_inside_a_select(sql, reason):
    with pytest.raises(UnsafeQuery, match=reason):
        check_read_only(sql)


@pytest.mark.parametrize(
    "sql",
    [
        # PostgreSQL ends the string at \' : a second statement follows. MySQL reads one
        # string. Checked both ways by default, so refused.
        "SELECT 'a\\'; DELETE FROM t; -- '",
        # MySQL runs the content of /*! */ comments
        "SELECT 1 /*! , (SELECT 1 INTO OUTFILE '/tmp/x') */",
        # MySQL: --x is not a comment, so the DELETE is a second statement there
        "SELECT 1 --x\n; DELETE FROM t",
        # PostgreSQL dollar quoting hides nothing from the MySQL reading
        "SELECT $$; DROP TABLE t; $$",
        # an escape string E'..\'..' in PostgreSQL
        "SELECT E'\\'; DELETE FROM t; --'",
        "SELECT 'unterminated",
        "SELECT 1 /* unterminated",
        'SELECT "unterminated',
        "SELECT 1\x00; DELETE FROM t",
    ],
)
def test_dialect_tricks_are_refused(sql):
    with pytest.raises(UnsafeQuery):
        check_read_only(sql)


def test_a_single_dialect_reads_its_own_strings():
    mysql = "SELECT 'it\\'s; fine' FROM t"
    assert check_read_only(mysql, "mysql") == mysql
    with pytest.raises(UnsafeQuery):
        check_read_only(mysql, "postgresql")  # there \' ends the string
    pg = "SELECT $tag$ ; DELETE $tag$, E'\\'' FROM t"
    assert check_read_only(pg, "postgresql") == pg
    # standard strings: a backslash, then the closing quote; unterminated for MySQL
    assert check_read_only("SELECT 'a\\' FROM t", "postgresql") == "SELECT 'a\\' FROM t"
    with pytest.raises(UnsafeQuery, match="Unterminated"):
        check_read_only("SELECT 'a\\' FROM t")
    sqlite = "SELECT [delete] FROM t"
    assert check_read_only(sqlite, "sqlite") == sqlite
    with pytest.raises(ValueError, match="dialect"):
        check_read_only("SELECT 1", "oracle")


def test_the_error_says_where():
    with pytest.raises(UnsafeQuery) as info:
        check_read_only("SELECT 1; DELETE FROM t")
    assert info.value.position == 8
