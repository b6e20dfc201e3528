"""Every DuckDB connection of the tabular engines starts here."""

from __future__ import annotations

import duckdb

Config = dict[str, str | bool | int | float | list[str]]

CONFIG: Config = {
    # Extensions are never downloaded (these machines reach no extension repository, and
    # a server must not fetch code at run time); parquet and json are built in.
    "autoload_known_extensions": False,
    "autoinstall_known_extensions": False,
}


def connect(config: Config | None = None) -> duckdb.DuckDBPyConnection:
    """An in-memory connection with :data:`CONFIG` and ``config``, and no progress bar
    (a long conversion or profile would otherwise draw one on the server's stderr)."""
    con = duckdb.connect(":memory:", config={**CONFIG, **(config or {})})
    con.execute("SET enable_progress_bar=false")
    return con
