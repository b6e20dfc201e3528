"""The ``datasets.profile`` job: a version's column types, statistics and quality.

Profiling reads the whole file (a few passes of DuckDB over the Parquet file) so it runs
in a job's process, off the web process, with progress the dataset page shows live. The
dataset's type overrides are read when the job runs, so a change made while it waited
is included.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from augury import clock
from augury.datasets.models import Dataset, DatasetVersion
from augury.datasets.storage import storage_for


class ProfileDataset:
    name = "datasets.profile"
    title = "Datasets: profile a version (types, statistics, quality)"

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")
        version_id: int = Field(ge=1, le=2**31 - 1)

    def run(self, ctx, params: Params) -> dict:
        from augury.engines.tabular.profile import profile

        with ctx.session() as session:
            version = session.get(DatasetVersion, params.version_id)
            if version is None or version.org_id != ctx.org_id:
                raise ValueError(f"dataset version {params.version_id} not found")
            dataset = session.get(Dataset, version.dataset_id)
            overrides = dict(dataset.type_overrides or {})
            version.profile_status = "running"
            key = version.storage_key
        path = storage_for(ctx.settings).path(key)  # from S3: may download first
        cfg = ctx.settings.datasets
        try:
            # An abort is raised by the progress callback, between the profile's queries.
            with ctx.uninterrupted():
                result = profile(
                    path,
                    overrides=overrides,
                    progress=ctx.progress,
                    memory_limit=f"{cfg.memory_limit_mb}MB",
                    threads=cfg.threads,
                )
        except BaseException as exc:
            self._finish(ctx, params.version_id, None, f"{type(exc).__name__}: {exc}")
            raise
        self._finish(ctx, params.version_id, result, None)
        quality = result.get("quality", {})
        return {
            "version_id": params.version_id,
            "rows": result.get("rows"),
            "columns": len(result.get("columns", [])),
            "quality_score": quality.get("score"),
        }

    @staticmethod
    def _finish(ctx, version_id: int, result: dict | None, error: str | None) -> None:
        with ctx.session() as session:
            version = session.get(DatasetVersion, version_id)
            if version is None:  # deleted while it was profiled
                return
            version.profile = result
            version.profile_status = "complete" if error is None else "failed"
            version.profile_error = None if error is None else error[:2000]
            dataset = session.get(Dataset, version.dataset_id)
            if dataset is not None:
                dataset.updated_at = clock.now()


class MetricsToDataset:
    """``datasets.from_metrics``: the points of the metrics an expression matches, over a
    time range, as a dataset (one row per metric and timestamp), so the tables tools
    (queries, profiles, later the models) work on metrics too."""

    name = "datasets.from_metrics"
    title = "Datasets: export metrics to a dataset"
    MAX_METRICS = 10_000
    BATCH = 100_000

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")
        name: str = Field(min_length=1, max_length=200)
        description: str = Field("", max_length=5000)
        tags: list[str] = Field(default_factory=list, max_length=20)
        expression: str = Field(min_length=1, max_length=2000)
        start: float = Field(ge=0, le=2**33)
        end: float = Field(ge=0, le=2**33)
        resolution: Literal["native", "1m", "5m", "1h", "1d"] = "native"

    def run(self, ctx, params: Params) -> dict:
        import pyarrow as pa
        import pyarrow.parquet as pq

        from augury.datasets import service
        from augury.datasets.schemas import DatasetMeta
        from augury.metrics import service as metrics_service
        from augury.metrics.models import Metric

        with ctx.session() as session:
            ids = metrics_service.ids_matching(
                session=session, org_id=ctx.org_id, q=params.expression
            )[: self.MAX_METRICS]
            metrics = [session.get(Metric, i) for i in ids]
            keys = sorted({k for m in metrics if m for k in m.dimensions if k != "what"})
        rollup = params.resolution != "native"
        fields = [
            pa.field("timestamp", pa.timestamp("us")),
            pa.field("metric", pa.string()),
            pa.field("what", pa.string()),
            *(pa.field(k, pa.string()) for k in keys),
            pa.field("value", pa.float64()),
        ]
        if rollup:
            fields += [
                pa.field("min", pa.float64()),
                pa.field("max", pa.float64()),
                pa.field("count", pa.int64()),
            ]
        schema = pa.schema(fields)
        raw = storage_for(ctx.settings).staging_file(".parquet")
        rows = 0
        try:
            with pq.ParquetWriter(raw, schema, compression="zstd") as writer:
                for done, metric_id in enumerate(ids, start=1):
                    with ctx.session() as session:
                        metric = session.get(Metric, metric_id)
                        if metric is None:  # deleted meanwhile
                            continue
                        points = metrics_service.export_points(
                            session, metric, params.resolution, params.start, params.end
                        )
                        dims = dict(metric.dimensions)
                        name, what = metric.name, metric.what
                    for lo in range(0, len(points), self.BATCH):
                        chunk = points[lo : lo + self.BATCH]
                        n = len(chunk)
                        columns: dict = {
                            "timestamp": [int(p[0] * 1_000_000) for p in chunk],
                            "metric": [name] * n,
                            "what": [what] * n,
                            **{k: [dims.get(k)] * n for k in keys},
                            "value": [p[1] for p in chunk],
                        }
                        if rollup:
                            columns |= {
                                "min": [p[2] for p in chunk],
                                "max": [p[3] for p in chunk],
                                "count": [p[4] for p in chunk],
                            }
                        writer.write_table(pa.table(columns, schema=schema))
                        rows += n
                    ctx.progress(90.0 * done / max(1, len(ids)), f"{done} of {len(ids)} metrics")
            if rows == 0:
                raise ValueError("no points of the matching metrics in that time range")
        except BaseException:
            raw.unlink(missing_ok=True)
            raise
        meta = DatasetMeta(name=params.name, description=params.description, tags=params.tags)
        # the conversion (DuckDB) and the version's rows: one piece an abort awaits
        with ctx.session() as session:
            dataset, version = service.add_job_output(
                session=session,
                settings=ctx.settings,
                org_id=ctx.org_id,
                user_id=ctx.user_id,
                job_id=ctx.job_id,
                parquet=raw,
                meta=meta,
                source="metrics",
            )
            result = {"dataset_id": dataset.id, "version": version.number, "rows": rows}
        ctx.progress(100.0, f"{rows} rows")
        return {**result, "metrics": len(ids)}
