"""The ``datasets.profile`` job: a version's column types, statistics and quality.

Profiling reads the whole file (a few passes of DuckDB over the Parquet file) so it runs
in a job's process, off the web process, with progress the dataset page shows live. The
dataset's type overrides are read when the job runs, so a change made while it waited
is included.
"""

from __future__ import annotations

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

        with ctx.db.session() as session:
            version = session.get(DatasetVersion, params.version_id)
            if version is None or version.org_id != ctx.org_id:
                raise ValueError(f"dataset version {params.version_id} not found")
            dataset = session.get(Dataset, version.dataset_id)
            overrides = dict(dataset.type_overrides or {})
            version.profile_status = "running"
            path = storage_for(ctx.settings).path(version.storage_key)
        cfg = ctx.settings.datasets
        try:
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
        with ctx.db.session() as session:
            version = session.get(DatasetVersion, version_id)
            if version is None:  # deleted while it was profiled
                return
            version.profile = result
            version.profile_status = "complete" if error is None else "failed"
            version.profile_error = None if error is None else error[:2000]
            dataset = session.get(Dataset, version.dataset_id)
            if dataset is not None:
                dataset.updated_at = clock.now()
