"""The SQL sandbox: one read-only SELECT over the named datasets, and nothing else.

Each refusal is proved twice where it matters: the statement check turns away what is
not a single SELECT, and the locked connection itself refuses files, settings and
extensions even to a statement that got past that check.
"""

import time

import duckdb
import pytest

from augury.engines.tabular._query_exec import Limits, connect
from augury.engines.tabular.errors import TableError
from augury.engines.tabular.query import ColumnSpec, lock_down, run_sql

SPECS = [
    ColumnSpec("id", "BIGINT", "integer"),
    ColumnSpec("day", "VARCHAR", "date", "strptime:%d/%m/%Y"),
    ColumnSpec("amount", "DOUBLE", "float"),
]


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    root = tmp_path_factory.mktemp("sandbox")
    sales, other = root / "sales.parquet", root / "other.parquet"
    duckdb.sql(
        "SELECT range::BIGINT AS id, '0' || (1 + range % 9)::VARCHAR || '/01/2024' AS day,"
        " range * 1.5 AS amount FROM range(50)"
    ).write_parquet(str(sales))
    duckdb.sql("SELECT 'secret' AS s").write_parquet(str(other))
    return {"sales": sales, "other": other, "root": root}


@pytest.fixture()
def tables(files):
    return {"sales": (files["sales"], SPECS)}


def test_a_select_reads_the_views_through_their_specs(tables):
    result = run_sql(
        tables, "SELECT day, count(*) AS n FROM sales GROUP BY day ORDER BY day LIMIT 2"
    )
    assert result.columns == ["day", "n"]
    assert result.types == ["date", "integer"]
    assert result.rows == [["2024-01-01", 6], ["2024-01-02", 6]]
    assert (result.total, result.truncated) == (2, False)


def test_several_tables_join(files, tables):
    tables["regions"] = (files["sales"], [ColumnSpec("id", "BIGINT", "integer")])
    result = run_sql(tables, "SELECT count(*) FROM sales JOIN regions USING (id);")
    assert result.rows == [[50]]


def test_the_row_cap_truncates_and_keeps_the_order(tables):
    result = run_sql(tables, "SELECT id FROM sales ORDER BY id DESC", max_rows=3)
    assert result.rows == [[49], [48], [47]]
    assert (result.total, result.truncated) == (None, True)


def test_describe_and_ctes_are_selects(tables):
    assert run_sql(tables, "DESCRIBE sales").rows[1][:2] == ["day", "DATE"]
    assert run_sql(tables, "WITH t AS (SELECT max(id) AS m FROM sales) FROM t").rows == [[49]]


@pytest.mark.parametrize(
    "sql",
    [
        "COPY sales TO '{root}/out.csv'",
        "COPY (SELECT 1) TO '{root}/out.parquet' (FORMAT parquet)",
        "EXPORT DATABASE '{root}/dump'",
        "ATTACH '{root}/x.duckdb' AS x",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET threads = 1",
        "SET enable_external_access = true",
        "RESET lock_configuration",
        "PRAGMA version",
        "CALL pragma_version()",
        "CREATE TABLE t AS SELECT 1",
        "CREATE VIEW v AS SELECT * FROM read_csv('/etc/passwd')",
        "DROP VIEW sales",
        "INSERT INTO sales VALUES (1, '01/01/2024', 1)",
        "EXPLAIN SELECT 1",
        "PIVOT sales ON day USING sum(amount)",
        "CONNECT",  # a statement type DuckDB's Python enum has no name for (was a 500)
        "SELECT 1; SELECT 2",
        "SELECT 1; COPY sales TO '{root}/out.csv'",
        "",
        "-- only a comment",
    ],
)
def test_anything_but_one_select_is_not_allowed(files, tables, sql):
    with pytest.raises(TableError) as err:
        run_sql(tables, sql.format(root=files["root"]))
    assert err.value.code == "SQL_NOT_ALLOWED"
    assert not (files["root"] / "out.csv").exists()
    assert not (files["root"] / "x.duckdb").exists()


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT * FROM read_csv('/etc/passwd')",
        "SELECT * FROM read_text('/etc/passwd')",
        "SELECT * FROM read_blob('/etc/hostname')",
        "SELECT * FROM sniff_csv('/etc/passwd')",
        "SELECT * FROM read_parquet('{other}')",
        "SELECT * FROM parquet_metadata('{other}')",
        "SELECT * FROM read_parquet(['{sales}', '{other}'])",
        "SELECT * FROM read_parquet('{root}/*.parquet')",
        "SELECT * FROM glob('/etc/*')",
        "SELECT * FROM glob('{root}/*')",
        "SELECT * FROM read_text('pyproject.toml')",
        "SELECT * FROM read_parquet('other.parquet')",
        "SELECT * FROM duckdb_extensions()",
    ],
)
def test_other_files_are_not_allowed(files, tables, sql, monkeypatch):
    monkeypatch.chdir(files["root"])  # so 'other.parquet' names a real file
    with pytest.raises(TableError) as err:
        run_sql(tables, sql.format(**files))
    assert err.value.code == "SQL_NOT_ALLOWED"
    assert "secret" not in err.value.message


@pytest.mark.parametrize(
    ("sql", "needle"),
    [
        ("SELECT getenv('HOME')", "getenv"),
        ("SELECT * FROM '/etc/passwd'", "/etc/passwd"),
        ("SELECT * FROM query('COPY sales TO ''/tmp/x.csv''')", "SELECT"),
        ("SELECT nope FROM sales", "nope"),
        ("SELEC 1", "syntax"),
    ],
)
def test_errors_carry_duckdbs_message(tables, sql, needle):
    with pytest.raises(TableError) as err:
        run_sql(tables, sql)
    assert err.value.code == "SQL_ERROR"
    assert needle in err.value.message


def test_settings_are_locked_and_readable_only(tables):
    result = run_sql(
        tables,
        "SELECT current_setting('enable_external_access'), current_setting('lock_configuration'),"
        " current_setting('threads')",
    )
    assert result.rows == [[False, True, 2]]


@pytest.mark.parametrize(
    "sql",
    [
        "COPY sales TO '{root}/out.csv'",
        "ATTACH '{root}/x.duckdb' AS x",
        "INSTALL httpfs",
        "LOAD httpfs",
        "SET threads = 1",
        "SET enable_external_access = true",
        "SET allowed_paths = ['/etc/passwd']",
        "PRAGMA threads = 1",
        "SELECT * FROM read_csv('/etc/passwd')",
    ],
)
def test_the_locked_connection_refuses_even_without_the_statement_check(files, tables, sql):
    con = connect(Limits())
    try:
        lock_down(con, tables)
        with pytest.raises((duckdb.PermissionException, duckdb.InvalidInputException)):
            con.execute(sql.format(root=files["root"]))
    finally:
        con.close()
    assert not (files["root"] / "out.csv").exists()


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT count(*) FROM range(10000000000) WHERE range % 7 = 3",
        "SELECT sum(a.range * b.range) FROM range(1000000) a, range(1000000) b",
        "SELECT count(*) FROM sales a, sales b, sales c, sales d, sales e, sales f",
    ],
)
def test_a_slow_query_is_interrupted_at_the_time_limit(tables, sql):
    started = time.perf_counter()
    with pytest.raises(TableError) as err:
        run_sql(tables, sql, timeout_s=0.3)
    assert err.value.code == "QUERY_TIMEOUT"
    assert time.perf_counter() - started < 3


def test_a_blank_table_name_is_refused(files):
    with pytest.raises(TableError) as err:
        run_sql({" ": (files["sales"], SPECS)}, "SELECT 1")
    assert err.value.code == "INVALID_TABLE_NAME"
