"""Built-in job types.

``demo.work`` does a measurable amount of real work in steps (sleeping, burning CPU,
holding memory, writing to disk) and reports progress: it is what the tour, the UI and
the tests use to show progress, abort and resource accounting on real numbers.
"""

from __future__ import annotations

import os
import tempfile
import time
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class DemoWork:
    name = "demo.work"
    title = "Demo: work in steps, reporting progress"

    class Params(BaseModel):
        model_config = ConfigDict(extra="forbid")
        steps: int = Field(10, ge=1, le=10_000, description="Number of progress steps.")
        step_seconds: float = Field(0.5, ge=0, le=60, description="Duration of one step.")
        kind: Literal["sleep", "cpu", "memory", "disk"] = Field(
            "sleep", description="What each step spends: wall time, CPU, RAM or disk writes."
        )
        megabytes: int = Field(0, ge=0, le=4096, description="RAM held or bytes written (MB).")
        fail_at_step: int | None = Field(None, ge=1, description="Raise an error at this step.")

    @staticmethod
    def quota_errors(params: Params, quotas) -> list[dict]:
        """What in ``params`` is over the per-job quotas (``AUGURY_QUOTAS__JOB_*``)."""
        errors = []
        if quotas.job_memory_mb and params.megabytes > quotas.job_memory_mb:
            errors.append(
                {
                    "loc": ["params", "megabytes"],
                    "msg": f"at most {quotas.job_memory_mb} MB per job "
                    "(AUGURY_QUOTAS__JOB_MEMORY_MB)",
                }
            )
        seconds = params.steps * params.step_seconds
        if quotas.job_seconds and seconds > quotas.job_seconds:
            errors.append(
                {
                    "loc": ["params", "step_seconds"],
                    "msg": f"steps x step_seconds is {seconds:g} s; at most "
                    f"{quotas.job_seconds:g} s per job (AUGURY_QUOTAS__JOB_SECONDS)",
                }
            )
        return errors

    def run(self, ctx, params: Params) -> dict:
        held = []
        written = 0
        checksum = 0
        for step in range(1, params.steps + 1):
            if params.fail_at_step == step:
                raise RuntimeError(f"demo failure at step {step}")
            if params.kind == "cpu":
                end = time.process_time() + params.step_seconds
                while time.process_time() < end:
                    checksum = (checksum * 31 + step) % 1_000_003
            elif params.kind == "memory":
                chunk = bytearray(params.megabytes * 1024 * 1024 // params.steps)
                chunk[::4096] = b"\x01" * len(chunk[::4096])  # touch every page
                held.append(chunk)
                time.sleep(params.step_seconds)
            elif params.kind == "disk":
                written += _write_megabytes(ctx.workdir, params.megabytes / params.steps)
                time.sleep(params.step_seconds)
            else:
                time.sleep(params.step_seconds)
            ctx.progress(100.0 * step / params.steps, f"step {step} of {params.steps}")
        ctx.log(f"finished {params.steps} {params.kind} steps")
        return {
            "steps": params.steps,
            "kind": params.kind,
            "bytes_written": written,
            "held_mb": sum(len(c) for c in held) / 2**20,
            "checksum": checksum,
        }


def _write_megabytes(folder, mb: float) -> int:
    data = os.urandom(1024 * 1024)
    n = int(mb * 1024 * 1024)
    # In the job's folder under the data dir: real disk, unlike a tmpfs /tmp.
    with tempfile.NamedTemporaryFile(prefix="demo-", dir=folder) as fh:
        left = n
        while left > 0:
            fh.write(data[: min(left, len(data))])
            left -= len(data)
        fh.flush()
        os.fsync(fh.fileno())
    return n
