"""Tables: reading files of any common format into Parquet, profiling them, and
querying them with DuckDB. Pure code the server, the CLI (`augury profile`) and the
benchmarks share.

* :mod:`.read`: CSV/TSV/XLSX/JSON/JSONL/Parquet -> one Parquet file, streamed;
* :mod:`.profile`: each column's logical type, statistics and semantic hint, and the
  data-quality score;
* :mod:`.columns`: logical types over stored columns (:func:`~.columns.view_sql`);
* :mod:`.query`: the structured query and the read-only SQL sandbox;
* :mod:`.export`: a table or query result as CSV, JSON, JSONL, Parquet or XLSX;
* :mod:`.errors`: :class:`~.errors.TableError`, the one error they raise.
"""
