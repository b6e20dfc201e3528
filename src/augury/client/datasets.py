"""Datasets: tables uploaded as files or records, versioned, profiled and queried.

Files travel as streams both ways: :meth:`Datasets.upload` hands httpx an open file,
which it sends in chunks (with its length, so the server can refuse a file over its
limit before reading it), and :meth:`Datasets.download` writes the answer to disk as it
arrives. Neither fits :meth:`augury.client.Client.request`, which sends and returns
whole bodies, so they go through :meth:`~augury.client.base.Resource._stream`.
"""

from __future__ import annotations

import builtins
import os
import re
import time
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from pathlib import Path, PurePath
from typing import Any, BinaryIO

from augury.client.base import JSON, Resource, _body, _query

_PROFILED = frozenset({"complete", "failed"})

_Filter = Mapping[str, Any] | Sequence[Any]
"""``{"column", "op", "value"}``, or the tuple ``(column, op[, value])``."""


def _filters(filters: Iterable[_Filter] | None) -> builtins.list[JSON] | None:
    """Filters as the API reads them; tuples are a shorter way to write them."""
    if filters is None:
        return None
    out = []
    for f in filters:
        if isinstance(f, Mapping):
            out.append(dict(f))
        else:
            column, op, *value = f
            out.append({"column": column, "op": op, **({"value": value[0]} if value else {})})
    return out


def _attachment_name(disposition: str) -> str:
    """The file name a ``Content-Disposition`` answer suggests, never a path."""
    encoded = re.search(r"filename\*=utf-8''([^;]+)", disposition, re.I)
    plain = re.search(r'filename="([^"]+)"', disposition)
    if encoded:
        name = urllib.parse.unquote(encoded.group(1))
    elif plain:
        name = plain.group(1)
    else:
        name = ""
    return PurePath(name.replace("\\", "/")).name.lstrip(".") or "dataset"


class Datasets(Resource):
    """Datasets, their versions, profiles and queries (``client.datasets``)."""

    # --- the datasets -------------------------------------------------------------------

    def upload(
        self,
        path: str | os.PathLike[str],
        name: str | None = None,
        *,
        description: str = "",
        tags: Iterable[str] = (),
        format: str | None = None,
        sheet: str | None = None,
        timeout: float | None = None,
    ) -> JSON:
        """Upload a file as a new dataset, or as the next version of the dataset called
        ``name`` (default: the file's name without its extension).

        The format (csv, tsv, xlsx, json, jsonl, parquet), encoding and delimiter are
        detected unless ``format`` is given; ``sheet`` picks an XLSX sheet. The answer
        comes once the server has converted the file (``timeout`` seconds, default the
        client's); the profile follows as a job (``version.profile_job_id``, see
        :meth:`wait_profiled`).
        """
        file_path = Path(path)
        fields: dict[str, Any] = _body(
            name=name or file_path.stem,
            description=description,
            tags=list(tags) or None,
            format=format,
            sheet=sheet,
        )
        with (
            file_path.open("rb") as file,
            self._stream(
                "POST",
                "/datasets",
                data=fields,
                files={"file": (file_path.name, file, "application/octet-stream")},
                timeout=timeout,
            ) as response,
        ):
            response.read()
            return response.json()

    def create(
        self,
        name: str,
        records: Iterable[Mapping[str, Any]],
        *,
        description: str = "",
        tags: Iterable[str] = (),
    ) -> JSON:
        """A dataset (or the next version of ``name``) from records: dicts with the same keys."""
        body = {
            "name": name,
            "description": description,
            "tags": list(tags),
            "records": [dict(r) for r in records],
        }
        return self._client.request("POST", "/datasets/records", json=body)

    def from_metrics(
        self,
        name: str,
        expression: str,
        start: float,
        end: float,
        *,
        resolution: str = "native",
        description: str = "",
        tags: Iterable[str] = (),
    ) -> JSON:
        """Export the points of the metrics ``expression`` matches in ``[start, end)``
        (epoch seconds) at ``resolution`` to the dataset ``name`` (its next version if it
        exists); answers the ``datasets.from_metrics`` job, whose result names the
        dataset (wait for it with ``client.jobs.wait``)."""
        body = {
            "name": name,
            "description": description,
            "tags": builtins.list(tags),
            "expression": expression,
            "start": start,
            "end": end,
            "resolution": resolution,
        }
        return self._client.request("POST", "/datasets/from-metrics", json=body)

    def types(self) -> builtins.list[JSON]:
        """The column types a column can have (``column_types`` in :meth:`update`), each
        with what it holds."""
        return self._client.request("GET", "/datasets/types")["items"]

    def list(
        self,
        q: str | None = None,
        tags: Iterable[str] | None = None,
        *,
        format: str | None = None,
        created_after: datetime | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> JSON:
        """One page of datasets, most recently changed first, each with its latest version;
        ``q`` searches names and descriptions, and a dataset must carry every tag in ``tags``."""
        return self._page(
            "/datasets", offset, limit, **self._list_filters(q, tags, format, created_after)
        )

    def iter(
        self,
        q: str | None = None,
        tags: Iterable[str] | None = None,
        *,
        format: str | None = None,
        created_after: datetime | None = None,
        page_size: int = 100,
    ) -> Iterator[JSON]:
        """Every dataset matching the filters, most recently changed first."""
        return self._iter(
            "/datasets", page_size, **self._list_filters(q, tags, format, created_after)
        )

    @staticmethod
    def _list_filters(
        q: str | None,
        tags: Iterable[str] | None,
        format: str | None,
        created_after: datetime | None,
    ) -> JSON:
        tag = builtins.list(tags or ()) or None
        return _query({"q": q, "tag": tag, "format": format, "created_after": created_after})

    def get(self, dataset_id: int) -> JSON:
        """One dataset with its latest version (``version``)."""
        return self._client.request("GET", f"/datasets/{dataset_id}")

    def update(
        self,
        dataset_id: int,
        *,
        description: str | None = None,
        tags: Iterable[str] | None = None,
        column_types: Mapping[str, str | None] | None = None,
    ) -> JSON:
        """Change the description, the tags, or columns' types (``{column: type}``; ``None``
        gives a column back its inferred type). A type change profiles the latest version
        again, under a new ``version.profile_job_id``."""
        body = _body(
            description=description,
            tags=None if tags is None else builtins.list(tags),
            column_types=None if column_types is None else dict(column_types),
        )
        return self._client.request("PATCH", f"/datasets/{dataset_id}", json=body)

    def delete(self, dataset_id: int) -> None:
        """Delete the dataset, every version and their files."""
        self._client.request("DELETE", f"/datasets/{dataset_id}")

    # --- versions and profiles ----------------------------------------------------------

    def versions(self, dataset_id: int, *, offset: int = 0, limit: int = 50) -> JSON:
        """One page of the dataset's versions, newest first, each with its schema changes."""
        return self._page(f"/datasets/{dataset_id}/versions", offset, limit)

    def iter_versions(self, dataset_id: int, *, page_size: int = 100) -> Iterator[JSON]:
        """Every version of the dataset, newest first."""
        return self._iter(f"/datasets/{dataset_id}/versions", page_size)

    def version(self, dataset_id: int, number: int) -> JSON:
        return self._client.request("GET", f"/datasets/{dataset_id}/versions/{number}")

    def delete_version(self, dataset_id: int, number: int) -> None:
        """Delete one version and its file (the only one cannot be: delete the dataset)."""
        self._client.request("DELETE", f"/datasets/{dataset_id}/versions/{number}")

    def schema(self, dataset_id: int, version: int | None = None) -> JSON:
        """Each column's type, nullability, unique count, samples and meaning, and the
        quality score and issues (``None`` until the profile is complete)."""
        params = {"version": version}
        return self._client.request("GET", f"/datasets/{dataset_id}/schema", params=params)

    def profile(self, dataset_id: int, version: int | None = None) -> JSON:
        """The full profile of a version (statistics, histograms, top values, quality);
        its ``profile`` is ``None`` until the profile job completes."""
        params = {"version": version}
        return self._client.request("GET", f"/datasets/{dataset_id}/profile", params=params)

    def reprofile(self, dataset_id: int, version: int | None = None) -> JSON:
        """Profile a version again; answers the version with its new ``profile_job_id``."""
        params = {"version": version}
        return self._client.request("POST", f"/datasets/{dataset_id}/profile", params=params)

    def wait_profiled(
        self, dataset_id: int, timeout: float = 300.0, poll_interval: float = 0.5
    ) -> JSON:
        """Poll until the latest version's profile is complete or failed; return the dataset.

        Raises ``TimeoutError`` if it is still pending or running after ``timeout``
        seconds (the profile job goes on).
        """
        deadline = time.monotonic() + timeout
        while True:
            dataset = self.get(dataset_id)
            status = dataset["version"]["profile_status"]
            if status in _PROFILED:
                return dataset
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(
                    f"dataset {dataset_id}'s profile is still {status} after {timeout} s"
                )
            time.sleep(min(poll_interval, left))

    # --- reading the rows ---------------------------------------------------------------

    def preview(
        self, dataset_id: int, offset: int = 0, limit: int = 100, *, version: int | None = None
    ) -> JSON:
        """``limit`` rows (at most 1000) from ``offset``, read with the columns' types:
        ``{"version", "columns", "types", "rows", "offset", "limit", "total"}``."""
        params = {"version": version, "offset": offset, "limit": limit}
        return self._client.request("GET", f"/datasets/{dataset_id}/preview", params=params)

    def query(
        self,
        dataset_id: int,
        *,
        filters: Iterable[_Filter] | None = None,
        **query: Any,
    ) -> JSON:
        """A structured query; keywords are the API's query fields: ``select``,
        ``filters``, ``group_by``, ``aggregates`` (``[{"fn", "column"}]``), ``bucket``
        (``{"column", "unit"}``), ``order`` (``[{"column", "direction"}]``), ``limit``,
        ``offset``, ``version``, ``top``. Answers ``{"columns", "types", "rows", "total",
        "truncated"}``.

            >>> client.datasets.query(  # doctest: +SKIP
            ...     7, filters=[("region", "eq", "North")], group_by=["product"],
            ...     aggregates=[{"fn": "sum", "column": "units"}])
        """
        body = _body(filters=_filters(filters), **query)
        return self._client.request("POST", f"/datasets/{dataset_id}/query", json=body)

    def count(
        self,
        dataset_id: int,
        filters: Iterable[_Filter] | None = None,
        *,
        version: int | None = None,
    ) -> int:
        """How many rows hold every filter."""
        answer = self.query(dataset_id, filters=filters, version=version, count_only=True)
        return int(answer["count"])

    def what_if(
        self,
        dataset_id: int,
        column: str,
        percent: float,
        aggregate: str = "sum",
        *,
        group_by: Iterable[str] | None = None,
        filters: Iterable[_Filter] | None = None,
        version: int | None = None,
    ) -> builtins.list[JSON]:
        """``aggregate`` of ``column`` as it is and with every value changed by
        ``percent``, per group: ``[{"group", "baseline", "altered", "change", ...}]``."""
        body = _body(
            column=column,
            percent=percent,
            aggregate=aggregate,
            group_by=None if group_by is None else builtins.list(group_by),
            filters=_filters(filters),
            version=version,
        )
        return self._client.request("POST", f"/datasets/{dataset_id}/what-if", json=body)["items"]

    def sql(self, sql: str, max_rows: int | None = None) -> JSON:
        """One read-only ``SELECT`` over the organization's datasets, each a table named
        as the dataset (quote other names: ``'SELECT * FROM "sales 2024"'``)."""
        return self._client.request("POST", "/datasets/sql", json=_body(sql=sql, max_rows=max_rows))

    def download(
        self,
        dataset_id: int,
        path: str | os.PathLike[str] | BinaryIO,
        format: str = "csv",
        version: int | None = None,
        *,
        timeout: float | None = None,
    ) -> Path | None:
        """Write a version (default the latest) as csv, json, jsonl, parquet or xlsx to
        ``path`` as it arrives, and return the file's path; a folder gets the server's
        name for it (``sales-v2.csv``), a binary file object the bytes (returns None).

        A path is written through ``<path>.part`` and renamed at the end, so it never
        holds half a file, and is left untouched when the server refuses. The server
        writes the file before it sends it: ``timeout`` (seconds, default the client's)
        bounds the wait for each part of the answer, the first one included.
        """
        params = _query({"format": format, "version": version})
        route = f"/datasets/{dataset_id}/download"
        return self._save(path, "GET", route, params=params, timeout=timeout)

    def export(
        self,
        dataset_id: int,
        path: str | os.PathLike[str] | BinaryIO,
        format: str = "csv",
        *,
        filters: Iterable[_Filter] | None = None,
        timeout: float | None = None,
        **query: Any,
    ) -> Path | None:
        """Write the whole answer of a structured query (the keywords of :meth:`query`)
        as csv, jsonl, json, parquet or xlsx to ``path``, as :meth:`download` does;
        unlike :meth:`query`'s JSON, it is never cut short."""
        body = _body(filters=_filters(filters), **query)
        route = f"/datasets/{dataset_id}/query"
        params = {"format": format}
        return self._save(path, "POST", route, params=params, json=body, timeout=timeout)

    # --- plumbing -----------------------------------------------------------------------

    def _save(
        self, path: str | os.PathLike[str] | BinaryIO, method: str, route: str, **send: Any
    ) -> Path | None:
        """Write a streamed answer to a file object, or to a path through ``<path>.part``."""
        with self._stream(method, route, **send) as response:
            if not isinstance(path, str | os.PathLike):
                for chunk in response.iter_bytes():
                    path.write(chunk)
                return None
            target = Path(path)
            if target.is_dir():
                target /= _attachment_name(response.headers.get("content-disposition", ""))
            part = target.with_name(target.name + ".part")
            try:
                with part.open("wb") as out:
                    for chunk in response.iter_bytes():
                        out.write(chunk)
                part.replace(target)
            finally:
                part.unlink(missing_ok=True)
            return target
