"""How data sources and streams appear in the global search (installed by
runtime.wiring): by name, then their type and, for a stream, what it reads (its table,
query or path), so "orders" finds the stream reading that table whatever it is called.
A source links to the collectors page (it has no page of its own), a stream to its
page. Everyone of the organization reads both, so every role finds them; a source's
config and credentials are never indexed."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from augury.collectors.models import DataSource, DataStream
from augury.search.service import Entry, Searchable

SOURCE_KIND = "data_source"
STREAM_KIND = "data_stream"
QUERY_CHARS = 2000
"""Of a stream's query, what is indexed (the words that name it come first)."""


def _source(source: DataSource, _conn) -> Entry:
    return Entry(title=source.name, body=source.type, link="/collect")


def reads(definition: Mapping[str, Any]) -> list[str]:
    """What a stream object reads: its table (with its schema), query, path and the
    pattern of its files, as they are written.

    >>> reads({"schemaName": "public", "tableName": "orders", "customQuery": False})
    ['public.orders']
    >>> reads({"path": "daily", "fileNamePattern": "*.csv", "query": None})
    ['daily', '*.csv']
    """
    words: list[str] = []
    table = definition.get("tableName")
    if isinstance(table, str) and table:
        schema = definition.get("schemaName")
        words.append(f"{schema}.{table}" if isinstance(schema, str) and schema else table)
    for key in ("query", "path", "fileNamePattern"):
        value = definition.get(key)
        if isinstance(value, str) and value.strip():
            words.append(value.strip()[:QUERY_CHARS])
    return words


def _stream(stream: DataStream, _conn) -> Entry:
    body = " · ".join([stream.type, *reads(stream.definition or {})])
    return Entry(title=stream.name, body=body, link=f"/collect/streams/{stream.id}")


SEARCHABLE = [
    Searchable(DataSource, SOURCE_KIND, ("name", "type"), _source),
    Searchable(DataStream, STREAM_KIND, ("name", "type", "definition"), _stream),
]
