"""The ``analytics.workflow`` job: a workflow's steps, in dependency order, with progress.

The job reads the dataset versions that :func:`augury.analytics.workflows.start`
resolved (never a newer one), runs the steps with :func:`augury.engines.ask.workflow.run`
(independent steps in threads when ``parallel_execution`` is set), and after each step
records its progress, a log line and, with ``save_intermediate_results``, its output as
a dataset version linked to the job as ``output``. Database work stays in the job's
main thread: the steps' threads only compute.

The result holds each step's summary (a trend's slope and direction, the forecast
points with their interval, what cleaning changed), the first rows of its output, its
duration and the dataset it was saved as. An abort stops the job between steps.
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, Field

from augury.analytics.workflow_schemas import WorkflowCreate


class RunWorkflow:
    name = "analytics.workflow"
    title = "Analytics: run a workflow (data preparation, trend analysis, forecasting)"

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")
        workflow: WorkflowCreate
        sources: dict[str, int] = Field(
            default_factory=dict, description="Each data source as given -> its version id."
        )

    def run(self, ctx, params: Params) -> dict:
        from augury.engines.ask import workflow as engine

        wf = params.workflow
        nodes = engine.plan([s.model_dump(mode="json") for s in wf.steps], wf.data_source)
        parallel = wf.options.parallel_execution
        waves = engine.waves(nodes)
        ctx.log(
            f"workflow '{wf.workflow_name}': {len(nodes)} steps; "
            + (
                "run together: " + "; then ".join(", ".join(map(str, w)) for w in waves)
                if parallel
                else "one at a time"
            )
        )
        run = _Run(ctx, params, len(nodes))
        ctx.progress(0.0, f"0 of {len(nodes)} steps")
        engine.run(nodes, run.load, parallel=parallel, on_start=run.started, on_done=run.done)
        return {
            "workflow_name": wf.workflow_name,
            "parallel_execution": parallel,
            "waves": waves if parallel else [[n.step] for n in nodes],
            "steps": [run.steps[n.step] for n in nodes],
            "saved": [s["dataset"] for s in (run.steps[n.step] for n in nodes) if s["dataset"]],
        }


class _Run:
    """The callbacks of one run: loading its datasets, and what each step leaves."""

    def __init__(self, ctx, params: RunWorkflow.Params, total: int) -> None:
        self.ctx = ctx
        self.params = params
        self.total = total
        self.steps: dict[int, dict[str, Any]] = {}
        self.inputs: dict[str, dict[str, int]] = {}

    def load(self, source: str | int):
        from augury.datasets import service as datasets_service
        from augury.datasets.models import Dataset, DatasetVersion
        from augury.engines.ask import workflow as engine

        version_id = self.params.sources.get(str(source))
        # DuckDB turns an exception raised by the abort signal into "Query interrupted"
        # (a failed job); inside ctx.session() the abort waits for the next progress()
        with self.ctx.session() as session:
            version = session.get(DatasetVersion, version_id) if version_id else None
            if version is None or version.org_id != self.ctx.org_id:
                raise ValueError(f"the dataset version of '{source}' was deleted")
            dataset = session.get(Dataset, version.dataset_id)
            assert dataset is not None
            specs = datasets_service.specs(dataset, version)
            path = datasets_service.path_of(self.ctx.settings, version)
            self.inputs[str(source)] = {"dataset_id": dataset.id, "version": version.number}
            name = dataset.name
            frame = engine.read_frame(path, specs)
        self.ctx.log(
            f"read '{name}' version {self.inputs[str(source)]['version']}: {len(frame)} rows"
        )
        return frame

    def started(self, node) -> None:
        self.ctx.log(f"step {node.step} ({node.type}) started")

    def done(self, node, result, seconds: float) -> None:
        from augury.engines.ask import workflow as engine

        wf = self.params.workflow
        saved = None
        if wf.options.save_intermediate_results:
            saved = self._save(node, result.frame)
        self.steps[node.step] = {
            "step": node.step,
            "type": node.type,
            "input": (
                {"step": node.feed} if node.feed is not None else self.inputs[str(node.source)]
            ),
            "seconds": round(seconds, 3),
            "rows": len(result.frame),
            "summary": result.summary,
            "preview": engine.preview(result.frame),
            "dataset": saved,
        }
        done = len(self.steps)
        self.ctx.log(
            f"step {node.step} ({node.type}) done in {seconds:.2f} s: {len(result.frame)} rows"
            + (f", saved as dataset {saved['dataset_id']}" if saved else "")
        )
        self.ctx.progress(
            100.0 * done / self.total, f"{done} of {self.total} steps (step {node.step} done)"
        )

    def _save(self, node, frame) -> dict[str, int]:
        import pyarrow as pa
        import pyarrow.parquet as pq

        from augury.datasets import service as datasets_service
        from augury.datasets.schemas import DatasetMeta
        from augury.datasets.storage import storage_for

        ctx = self.ctx
        name = f"{self.params.workflow.workflow_name} step {node.step} {node.type}"
        meta = DatasetMeta(
            name=name,
            description=f"Step {node.step} ({node.type}) of workflow "
            f"'{self.params.workflow.workflow_name}', job {ctx.job_id}.",
            tags=["workflow"],
        )
        # the conversion (DuckDB, see load) and the version's rows: one piece an abort awaits
        with ctx.session() as session:
            raw = storage_for(ctx.settings).staging_file(".parquet")
            try:
                pq.write_table(pa.Table.from_pandas(frame, preserve_index=False), raw)
            except BaseException:
                raw.unlink(missing_ok=True)
                raise
            dataset, version = datasets_service.add_job_output(
                session=session,
                settings=ctx.settings,
                org_id=ctx.org_id,
                user_id=ctx.user_id,
                job_id=ctx.job_id,
                parquet=raw,
                meta=meta,
                source="workflow",
            )
            return {"dataset_id": dataset.id, "version": version.number}
