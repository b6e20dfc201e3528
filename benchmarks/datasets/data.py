"""The benchmark's CSV: sales lines, written by DuckDB from hashes of the row number.

Every cell is a function of ``(row, seed, column)`` through DuckDB's ``hash``, so the
file is the same on every run and machine with the same DuckDB, and DuckDB writes it in
seconds (a Python or numpy generator would take minutes for 10 M rows). About 100 bytes
a row: 10 M rows make a 1 GB file. Columns, each empty in about 5% of the rows except
``id``:

- ``id``: 1..rows;
- ``ts``: a datetime (``2023-04-17 13:45:12``) in 2022-2024, the date column;
- ``region``: one of 10 names; ``product``: one of 1,000 (``product-0421``);
- ``units``: 1..250; ``price``: 0.00..999.99 (two decimals); ``discount``: 0..0.4
  (four decimals); ``returned``: true in about 1 row of 20;
- ``note``: free text (``late parcel for customer C04213``).

The file is kept in a scratch folder between runs with a small JSON beside it saying
how it was made; a later run reuses it when that and the file's size agree.
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import duckdb

GENERATOR = 2
"""Bumped whenever the SQL below changes, so an old file is not taken for a new one."""

NULL_PERCENT = 5
REGIONS = (
    "north",
    "south",
    "east",
    "west",
    "central",
    "north-east",
    "north-west",
    "south-east",
    "south-west",
    "islands",
)
WORDS = ("delivered", "late", "damaged", "gift", "repeat", "express", "bulk", "online")
THINGS = ("order", "parcel", "box", "item", "batch")
SECONDS_IN_3_YEARS = 3 * 365 * 86400
KEYS = 32
"""Hash keys per row (columns use 1..18)."""
SEED_STRIDE = 2**40
"""Seeds apart by more than ``rows * KEYS`` for any file this makes."""


def _h(key: int) -> str:
    """A 64-bit hash of a number unique to (row, seed, key): DuckDB's ``hash`` of several
    arguments combines their hashes, which left columns correlated (a product's parity
    followed its region's), so each cell hashes one integer of its own instead."""
    return f"hash(i * {KEYS} + $seed * {SEED_STRIDE} + {key})"


def _list(values: tuple[str, ...]) -> str:
    return "[" + ", ".join(f"'{v}'" for v in values) + "]"


def _pick(values: tuple[str, ...], key: int) -> str:
    return f"{_list(values)}[({_h(key)} % {len(values)})::INTEGER + 1]"


def _nullable(key: int, expr: str, name: str) -> str:
    return f"CASE WHEN {_h(key)} % 100 < {NULL_PERCENT} THEN NULL ELSE {expr} END AS {name}"


def select_sql() -> str:
    """The ``SELECT`` over ``range($rows)`` that makes the rows (parameters ``$rows``,
    ``$seed``); column ``k`` draws its emptiness from key ``2k-1`` and its value from
    ``2k`` and up, so columns are independent of each other."""
    columns = [
        "i + 1 AS id",
        _nullable(
            1,
            "strftime(TIMESTAMP '2022-01-01' + to_seconds("
            f"({_h(2)} % {SECONDS_IN_3_YEARS})::BIGINT), '%Y-%m-%d %H:%M:%S')",
            "ts",
        ),
        _nullable(3, _pick(REGIONS, 4), "region"),
        _nullable(5, f"'product-' || lpad(({_h(6)} % 1000)::VARCHAR, 4, '0')", "product"),
        _nullable(7, f"(1 + {_h(8)} % 250)::INTEGER", "units"),
        _nullable(9, f"(({_h(10)} % 100000)::DECIMAL(12, 2) / 100)::DECIMAL(10, 2)", "price"),
        _nullable(11, f"round(({_h(12)} % 1000000) / 2500000.0, 4)", "discount"),
        _nullable(13, f"{_h(14)} % 20 = 0", "returned"),
        _nullable(
            15,
            f"{_pick(WORDS, 16)} || ' ' || {_pick(THINGS, 17)} || ' for customer C' || "
            f"lpad(({_h(18)} % 100000)::VARCHAR, 5, '0')",
            "note",
        ),
    ]
    return "SELECT\n  " + ",\n  ".join(columns) + "\nFROM range($rows) AS t(i)"


def _meta(rows: int, seed: int) -> dict:
    return {"generator": GENERATOR, "rows": rows, "seed": seed, "duckdb": duckdb.__version__}


def ensure_csv(scratch: Path, rows: int, seed: int) -> tuple[Path, dict]:
    """The CSV for ``rows`` and ``seed`` in ``scratch``, written unless an identical one is
    there; returns its path and ``{"bytes", "rows", "seed", "generated_s" | "reused"}``."""
    scratch.mkdir(parents=True, exist_ok=True)
    path = scratch / f"sales-{rows}-seed{seed}.csv"
    sidecar = path.with_suffix(".json")
    want = _meta(rows, seed)
    if path.exists() and sidecar.exists():
        have = json.loads(sidecar.read_text())
        if {k: have.get(k) for k in want} == want and have.get("bytes") == path.stat().st_size:
            return path, {**want, "bytes": have["bytes"], "reused": True}
    path.unlink(missing_ok=True)
    tmp = path.with_suffix(".csv.partial")
    t0 = time.perf_counter()
    con = duckdb.connect()
    try:
        con.execute("SET enable_progress_bar = false")
        con.execute(
            f"COPY ({select_sql()}) TO '{tmp}' (HEADER, DELIMITER ',')",
            {"rows": rows, "seed": seed},
        )
    finally:
        con.close()
    elapsed = time.perf_counter() - t0
    tmp.replace(path)
    info = {**want, "bytes": path.stat().st_size}
    sidecar.write_text(json.dumps(info, indent=2) + "\n")
    return path, {**info, "generated_s": round(elapsed, 1)}
