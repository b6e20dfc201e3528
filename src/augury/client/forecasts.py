"""Forecast tasks on metrics, their runs, results and accuracy."""

from __future__ import annotations

import builtins
import time
from collections.abc import Iterable

from augury.client.base import JSON, Resource, _body


class Forecasts(Resource):
    """Forecast tasks on metrics and their results."""

    def create(
        self,
        expression: str,
        horizon: int,
        *,
        name: str | None = None,
        resolution: str = "native",
        levels: Iterable[float] = (80, 95),
        every_minutes: int | None = None,
    ) -> JSON:
        """Create a task; its first run is queued at once."""
        body = _body(
            name=name or expression[:200],
            expression=expression,
            horizon=horizon,
            resolution=resolution,
            levels=list(levels),
            every_minutes=every_minutes,
        )
        return self._client.request("POST", "/forecasts", json=body)

    def list(self, *, offset: int = 0, limit: int = 50) -> JSON:
        return self._page("/forecasts", offset, limit)

    def get(self, task_id: int) -> JSON:
        return self._client.request("GET", f"/forecasts/{task_id}")

    def run(self, task_id: int) -> JSON:
        return self._client.request("POST", f"/forecasts/{task_id}/run")

    def delete(self, task_id: int) -> None:
        self._client.request("DELETE", f"/forecasts/{task_id}")

    def wait(self, task_id: int, timeout: float = 300.0, poll_interval: float = 0.5) -> JSON:
        """Wait until the newest run has finished; return it."""
        deadline = time.monotonic() + timeout
        while True:
            run = self.get(task_id)["runs"][0]
            if run["status"] not in ("pending", "running"):
                return run
            if time.monotonic() > deadline:
                raise TimeoutError(f"forecast task {task_id} still {run['status']}")
            time.sleep(poll_interval)

    def results(self, task_id: int, metric_id: int | None = None) -> JSON:
        params = {"metric_id": metric_id}
        return self._client.request("GET", f"/forecasts/{task_id}/results", params=params)

    def accuracy(self, task_id: int) -> builtins.list[JSON]:
        return self._client.request("GET", f"/forecasts/{task_id}/accuracy")

    def yhat(self, metric_id: int, *, steps: int = 10, resolution: str = "native") -> JSON:
        params = {"steps": steps, "resolution": resolution}
        return self._client.request("GET", f"/metrics/{metric_id}/yhat", params=params)
