"""``metrics.backfill``: store the history in an uploaded CSV, with progress.

The upload is written by ``POST /api/v1/metrics/import`` to
``<data_dir>/uploads/<org id>/<upload id>.csv``; the job parses it (the same parser as
``augury.metrics.ingest.csv``), stores the samples in chunks of ``chunk_size`` (one
transaction each, so progress is real and an abort keeps what was stored) and deletes
the upload when it is done. History is exempt from the lateness limit.
"""

from __future__ import annotations

import time

from pydantic import BaseModel, ConfigDict, Field

from augury.metrics import writer
from augury.metrics.ingest import csv as csv_format
from augury.metrics.ingest.points import IngestError, ParseResult

MAX_REPORTED_ERRORS = 100


class Backfill:
    name = "metrics.backfill"
    title = "Metrics: backfill history from an uploaded CSV"

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")
        upload_id: str = Field(pattern=r"^[0-9a-f]{32}$", description="Id of the upload.")
        chunk_size: int = Field(20_000, ge=100, le=1_000_000, description="Samples per commit.")

    def run(self, ctx, params: Params) -> dict:
        path = ctx.settings.upload_path(ctx.org_id, params.upload_id)
        if not path.exists():
            raise FileNotFoundError(f"upload {params.upload_id} is gone")
        try:
            parsed = csv_format.parse(path.read_bytes(), now=time.time())
        except IngestError as exc:
            raise ValueError(f"{exc.code}: {exc.message}") from exc
        ctx.log(f"{len(parsed.samples)} samples and {len(parsed.errors)} refused rows parsed")
        cache = writer.MetricCache()
        accepted = 0
        metrics: set[writer.MetricKey] = set()
        errors = list(parsed.errors)
        total = max(1, len(parsed.samples))
        for start in range(0, len(parsed.samples), params.chunk_size):
            chunk = ParseResult(
                samples=parsed.samples[start : start + params.chunk_size],
                indices=parsed.indices[start : start + params.chunk_size],
            )
            with ctx.session() as session:
                outcome = writer.write(
                    session,
                    org_id=ctx.org_id,
                    result=chunk,
                    cache=cache,
                    source="csv",
                    max_lateness_s=None,
                    # History is not a rate: only the metrics and stored points quotas.
                    quotas=ctx.settings.quotas.model_copy(update={"points_per_minute": 0}),
                    retention_days=ctx.settings.metrics.retention_days,
                )
            accepted += outcome.accepted
            errors.extend(outcome.errors)
            metrics.update(sample.key for sample in chunk.samples)
            done = start + len(chunk.samples)
            ctx.progress(100.0 * done / total, f"{done} of {len(parsed.samples)} samples")
        path.unlink(missing_ok=True)
        errors.sort(key=lambda e: e.index)
        return {
            "accepted": accepted,
            "refused": len(errors),
            "metrics": len(metrics),
            "errors": [
                {"row": e.index, "code": e.code, "message": e.message}
                for e in errors[:MAX_REPORTED_ERRORS]
            ],
        }
