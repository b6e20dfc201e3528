"""Predictive models on tables: the applications an organization subscribes to, its
subscriptions, the models it trains (their versions, files, predictions and what-ifs)
and the summaries of what they did (``client.applications``, ``client.subscriptions``,
``client.models``).

Training is a job: :meth:`Models.create` (a new model) and :meth:`Models.retrain` (a new
version of one) answer ``{"model", "version", "job"}`` at once; ``wait=True`` (or
:meth:`Models.wait`) polls the version until it is ready and raises
:class:`ModelJobError` if it failed or was aborted. A batch prediction is a job too
(:meth:`Models.predict_dataset`), whose output dataset is read with the jobs' data
routes (``GET /jobs/{id}/data``). Model files come down whole and go up as streams.
"""

from __future__ import annotations

import builtins
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from augury.client.base import JSON, Resource, _body, _query
from augury.client.errors import AuguryAPIError

_PathLike = str | os.PathLike[str]
_Progress = Callable[[JSON], None]
"""Called with the version at each poll of a wait (to show its job's ``progress``)."""
_Row = Mapping[str, Any]


class ModelJobError(AuguryAPIError):
    """A training or batch prediction waited for (``wait=True``) that ended failed or
    aborted.

    The requests succeeded, the work did not, so ``status`` is that of the answer that
    showed it (200); ``code`` is ``TRAINING_FAILED``, ``PREDICTION_FAILED`` or
    ``ABORTED``, ``message`` the server's reason, and ``details`` holds the version (or
    the job) as it ended under ``"version"`` (or ``"job"``).
    """


class Applications(Resource):
    """The applications augury offers (forecast, failure, classification, regression),
    each with the organization's subscription, and the summaries of their use
    (``client.applications``)."""

    def list(self) -> builtins.list[JSON]:
        """Every application: ``name``, ``title``, ``description``, ``tasks`` and the
        organization's ``subscription`` (or None)."""
        return self._client.request("GET", "/applications")

    def summaries(
        self,
        *,
        start: datetime | date | str | None = None,
        end: datetime | date | str | None = None,
        bucket: str | None = None,
    ) -> JSON:
        """What the applications did between ``start`` and ``end``: subscription counts,
        per application its models, versions, predicted rows, what-ifs, jobs and their
        consumptions, and trainings and predictions ``over_time`` per ``bucket`` (day)."""
        params = _query({"start": _stamp(start), "end": _stamp(end), "bucket": bucket})
        return self._client.request("GET", "/summaries", params=params)


class Subscriptions(Resource):
    """The organization's subscriptions to applications; only an active one lets it
    train (``client.subscriptions``). Changing them needs the admin role."""

    def list(self, *, status: str | None = None, search: str | None = None) -> builtins.list[JSON]:
        """Every subscription, or those of ``status`` (active, paused, cancelled)."""
        params = _query({"status": status, "search": search})
        return self._client.request("GET", "/subscriptions", params=params)

    def create(self, application: str) -> JSON:
        """Subscribe to ``application``; a cancelled subscription becomes active again
        (:class:`~augury.client.ConflictError` when one is already active)."""
        return self._client.request("POST", "/subscriptions", json={"application": application})

    def update(self, subscription_id: int, status: str) -> JSON:
        """Set the ``status``: ``paused`` (no training) or ``active``."""
        route = f"/subscriptions/{subscription_id}"
        return self._client.request("PATCH", route, json={"status": status})

    def pause(self, subscription_id: int) -> JSON:
        """Pause a subscription: its application's models cannot train until resumed."""
        return self.update(subscription_id, "paused")

    def resume(self, subscription_id: int) -> JSON:
        """Make a paused subscription active again."""
        return self.update(subscription_id, "active")

    def cancel(self, subscription_id: int) -> JSON:
        """Cancel a subscription (kept, with ``cancelled_at``; subscribing again
        reactivates it)."""
        return self._client.request("DELETE", f"/subscriptions/{subscription_id}")


class Models(Resource):
    """Predictive models, their versions and files, predictions and what-ifs
    (``client.models``).

    A model is a named training of one application; each training run is a numbered
    version, and one version is ``current`` (predictions use it unless they name
    another). Columns are the dataset's: ``target``, ``features`` (default: every usable
    one), ``exclude``, ``date_column`` and ``series_columns``.
    """

    # --- planning and training ------------------------------------------------------

    def plan(
        self,
        dataset_id: int,
        target: str,
        application: str,
        *,
        version: int | None = None,
        features: Iterable[str] | None = None,
        exclude: Iterable[str] | None = None,
        date_column: str | None = None,
        series_columns: Iterable[str] | None = None,
    ) -> JSON:
        """What training would do, without training: the detected ``task``, the
        ``features``, the ``excluded`` columns with their reasons, the ``classes``, the
        ``date_column`` and ``warnings``."""
        body = _body(
            dataset_id=dataset_id,
            version=version,
            application=application,
            target=target,
            features=_names(features),
            exclude=_names(exclude),
            date_column=date_column,
            series_columns=_names(series_columns),
        )
        return self._client.request("POST", "/models/plan", json=body)

    def create(
        self,
        name: str,
        dataset_id: int,
        target: str,
        application: str,
        *,
        description: str | None = None,
        version: int | None = None,
        features: Iterable[str] | None = None,
        exclude: Iterable[str] | None = None,
        date_column: str | None = None,
        series_columns: Iterable[str] | None = None,
        time_budget_s: float | None = None,
        cost_missed: float | None = None,
        cost_false_alarm: float | None = None,
        horizon: int | None = None,
        wait: bool = False,
        timeout: float = 900.0,
        poll_interval: float = 0.5,
        on_progress: _Progress | None = None,
    ) -> JSON:
        """Create a model and train its first version on a dataset (its newest version
        unless ``version``), as a job. ``{"model", "version", "job"}``; with ``wait``
        the same once the version is ready (``on_progress`` sees it at each poll).

        Refused with :class:`~augury.client.ConflictError` (``NOT_SUBSCRIBED``) unless
        the application's subscription is active, and with
        :class:`~augury.client.ValidationError` for a target or column the dataset
        cannot train on (a target with one class, an unknown column ...).
        """
        body = _body(
            name=name,
            description=description,
            application=application,
            dataset_id=dataset_id,
            version=version,
            target=target,
            **_training(
                features,
                exclude,
                date_column,
                series_columns,
                time_budget_s,
                cost_missed,
                cost_false_alarm,
                horizon,
            ),
        )
        answer = self._client.request("POST", "/models", json=body)
        return self._waited(answer, wait, timeout, poll_interval, on_progress)

    def retrain(
        self,
        model_id: int,
        *,
        dataset_id: int | None = None,
        version: int | None = None,
        target: str | None = None,
        features: Iterable[str] | None = None,
        exclude: Iterable[str] | None = None,
        date_column: str | None = None,
        series_columns: Iterable[str] | None = None,
        time_budget_s: float | None = None,
        cost_missed: float | None = None,
        cost_false_alarm: float | None = None,
        horizon: int | None = None,
        wait: bool = False,
        timeout: float = 900.0,
        poll_interval: float = 0.5,
        on_progress: _Progress | None = None,
    ) -> JSON:
        """Train a new version of a model; what is not given (a newer dataset version,
        another target or options) is taken from its newest trained version. As
        :meth:`create`: ``{"model", "version", "job"}``, waited for with ``wait``."""
        body = _body(
            dataset_id=dataset_id,
            version=version,
            target=target,
            **_training(
                features,
                exclude,
                date_column,
                series_columns,
                time_budget_s,
                cost_missed,
                cost_false_alarm,
                horizon,
            ),
        )
        answer = self._client.request("POST", f"/models/{model_id}/versions", json=body)
        return self._waited(answer, wait, timeout, poll_interval, on_progress)

    def _waited(
        self,
        answer: JSON,
        wait: bool,
        timeout: float,
        poll_interval: float,
        on_progress: _Progress | None,
    ) -> JSON:
        if not wait:
            return answer
        model_id, number = answer["model"]["id"], answer["version"]["number"]
        version = self.wait(
            model_id, number, timeout=timeout, poll_interval=poll_interval, on_progress=on_progress
        )
        return {"model": self.get(model_id), "version": version, "job": version.get("job")}

    def wait(
        self,
        model_id: int,
        number: int,
        *,
        timeout: float = 900.0,
        poll_interval: float = 0.5,
        on_progress: _Progress | None = None,
    ) -> JSON:
        """Poll version ``number`` until it is ready and return it; :class:`ModelJobError`
        if its training failed or was aborted, ``TimeoutError`` after ``timeout``
        seconds (the training goes on; :meth:`abort` stops it)."""
        deadline = time.monotonic() + timeout
        while True:
            current = self.version(model_id, number)
            if on_progress is not None:
                on_progress(current)
            status = str(current["status"]).lower()
            if status == "ready":
                return current
            if status in ("failed", "aborted"):
                code = "ABORTED" if status == "aborted" else "TRAINING_FAILED"
                reason = current.get("error") or status
                message = f"model {model_id} version {number}: {reason}"
                raise ModelJobError(200, code, message, {"version": current})
            left = deadline - time.monotonic()
            if left <= 0:
                raise TimeoutError(
                    f"model {model_id} version {number} is still {status} after {timeout} s"
                )
            time.sleep(min(poll_interval, left))

    # --- the registry -----------------------------------------------------------------

    def list(
        self,
        *,
        application: str | None = None,
        search: str | None = None,
        status: str | None = None,
        offset: int = 0,
        limit: int = 50,
    ) -> JSON:
        """One page of the organization's models; ``search`` matches names, ``status``
        that of the newest version."""
        filters = _query({"application": application, "search": search, "status": status})
        return self._page("/models", offset, limit, **filters)

    def iter(
        self,
        *,
        application: str | None = None,
        search: str | None = None,
        status: str | None = None,
        page_size: int = 100,
    ) -> Iterator[JSON]:
        """Every model matching the filters."""
        filters = _query({"application": application, "search": search, "status": status})
        return self._iter("/models", page_size, **filters)

    def get(self, model_id: int) -> JSON:
        """A model: its name, application, current and newest version."""
        return self._client.request("GET", f"/models/{model_id}")

    def update(
        self, model_id: int, *, name: str | None = None, description: str | None = None
    ) -> JSON:
        """Rename or describe a model; what is not given stays."""
        body = _body(name=name, description=description)
        return self._client.request("PATCH", f"/models/{model_id}", json=body)

    def delete(self, model_id: int) -> None:
        """Delete a model with all its versions and files."""
        self._client.request("DELETE", f"/models/{model_id}")

    def versions(self, model_id: int, *, offset: int = 0, limit: int = 50) -> JSON:
        """One page of a model's versions."""
        return self._page(f"/models/{model_id}/versions", offset, limit)

    def iter_versions(self, model_id: int, *, page_size: int = 100) -> Iterator[JSON]:
        """Every version of a model."""
        return self._iter(f"/models/{model_id}/versions", page_size)

    def version(self, model_id: int, number: int) -> JSON:
        """A version in full: ``status``, ``options``, ``task``, ``target``, ``features``,
        ``excluded``, ``metrics`` (per fold, mean and std), ``report`` (importance,
        confusion, threshold, candidates, residuals), ``dataset``, ``content_hash``,
        ``size_bytes``, ``training_seconds``, ``job`` and whether it is ``current``."""
        return self._client.request("GET", f"/models/{model_id}/versions/{number}")

    def promote(self, model_id: int, number: int) -> JSON:
        """Make version ``number`` the model's current one (predictions use it)."""
        route = f"/models/{model_id}/versions/{number}/promote"
        return self._client.request("POST", route)

    def abort(self, model_id: int, number: int) -> JSON:
        """Stop a version's training (it ends aborted, with no file)."""
        return self._client.request("POST", f"/models/{model_id}/versions/{number}/abort")

    def delete_version(self, model_id: int, number: int) -> None:
        """Delete a version and its file (the current one: promote another first)."""
        self._client.request("DELETE", f"/models/{model_id}/versions/{number}")

    def compare(self, model_id: int, numbers: Iterable[int]) -> JSON:
        """Versions side by side: their metrics and feature importance."""
        params = {"versions": builtins.list(numbers)}
        return self._client.request("GET", f"/models/{model_id}/compare", params=params)

    def download(self, model_id: int, number: int, path: _PathLike | None = None) -> bytes | Path:
        """A version's file, a zip this server signed: its bytes, or written to ``path``
        (returned) when one is given."""
        return self._download(f"/models/{model_id}/versions/{number}/file", {}, path)

    def upload(self, model_id: int, path: _PathLike, *, timeout: float | None = None) -> JSON:
        """A file :meth:`download` gave, back as a new version of the model (refused
        with :class:`~augury.client.ValidationError` when this server did not sign it
        or it was changed since)."""
        route = f"/models/{model_id}/versions/upload"
        return self._upload(route, path, timeout=timeout, content_type="application/zip")

    # --- using a model ----------------------------------------------------------------

    def predict(
        self,
        model_id: int,
        rows: Sequence[_Row],
        *,
        version: int | None = None,
        explain: bool = False,
    ) -> JSON:
        """Predict rows (``{column: value}``) at once with the current version (or
        ``version``): per row ``prediction``, ``probability`` per class or ``lower`` and
        ``upper``, and with ``explain`` each feature's ``contributions`` and the
        ``base``."""
        body = _body(rows=[dict(r) for r in rows], version=version, explain=explain or None)
        return self._client.request("POST", f"/models/{model_id}/predict", json=body)

    def predict_dataset(
        self,
        model_id: int,
        dataset_id: int,
        *,
        version: int | None = None,
        model_version: int | None = None,
        output_name: str | None = None,
        wait: bool = False,
        timeout: float = 900.0,
        poll_interval: float = 0.5,
    ) -> JSON:
        """Predict a whole dataset (its newest version unless ``version``) as a job that
        writes an output dataset: the input columns plus ``prediction`` and
        ``probability_<class>`` (or ``lower``, ``upper``). ``{"job", "model_id",
        "model_version", "dataset_id", "dataset_version", "output_name"}``; with
        ``wait`` the same once the job succeeded (:class:`ModelJobError` if it failed or
        was aborted). Its rows: :meth:`job_data`."""
        body = _body(
            dataset_id=dataset_id,
            version=version,
            model_version=model_version,
            output_name=output_name,
        )
        answer: JSON = self._client.request("POST", f"/models/{model_id}/predictions", json=body)
        if not wait:
            return answer
        job_id = answer["job"]["id"]
        done: JSON = self._client.jobs.wait(job_id, timeout=timeout, poll_interval=poll_interval)
        if done["status"] != "succeeded":
            code = "ABORTED" if done["status"] == "aborted" else "PREDICTION_FAILED"
            reason = done.get("error") or done["status"]
            raise ModelJobError(200, code, f"job {job_id}: {reason}", {"job": done})
        return {**answer, "job": done}

    def job_data(
        self,
        job_id: int,
        *,
        output: bool = True,
        count_only: bool = False,
        limit: int | None = None,
        estimate: str | None = None,
        insight: int | None = None,
        alter: float | None = None,
    ) -> JSON:
        """The rows a batch prediction wrote (``output=False``: the rows it read), as
        Anaimo's job data: ``limit`` rows, ``count_only``, the top rows by the numeric
        column ``estimate`` (``insight`` 1: the top 80 %, 2: the top 20 rows) or those rows
        with ``alter`` percent added to it."""
        params = _query(
            {
                "output": "true" if output else "false",
                "count_only": "true" if count_only else None,
                "limit": limit,
                "estimate": estimate,
                "insight": insight,
                "alter": alter,
            }
        )
        return self._client.request("GET", f"/jobs/{job_id}/data", params=params)

    def what_if(
        self,
        model_id: int,
        changes: Sequence[Mapping[str, Any]],
        *,
        rows: Sequence[_Row] | None = None,
        dataset_id: int | None = None,
        version: int | None = None,
        row_indices: Iterable[int] | None = None,
        model_version: int | None = None,
    ) -> JSON:
        """How predictions move when columns change: ``changes`` are ``{"column",
        "percent"}`` or ``{"column", "value"}``, applied to ``rows`` or to the rows
        ``row_indices`` of a dataset. Per row ``before``, ``after``, ``delta`` and the
        changed row's ``explanation``."""
        target: Any
        if rows is not None:
            target = [dict(r) for r in rows]
        else:
            target = _body(
                dataset_id=dataset_id,
                version=version,
                row_indices=None if row_indices is None else builtins.list(row_indices),
            )
        body = _body(rows=target, changes=[dict(c) for c in changes], model_version=model_version)
        return self._client.request("POST", f"/models/{model_id}/what-if", json=body)


def _names(values: Iterable[str] | None) -> builtins.list[str] | None:
    return (
        None if values is None else [values] if isinstance(values, str) else builtins.list(values)
    )


def _training(
    features: Iterable[str] | None,
    exclude: Iterable[str] | None,
    date_column: str | None,
    series_columns: Iterable[str] | None,
    time_budget_s: float | None,
    cost_missed: float | None,
    cost_false_alarm: float | None,
    horizon: int | None,
) -> JSON:
    """The training options both :meth:`Models.create` and :meth:`Models.retrain` take."""
    return {
        "features": _names(features),
        "exclude": _names(exclude),
        "date_column": date_column,
        "series_columns": _names(series_columns),
        "time_budget_s": time_budget_s,
        "cost_missed": cost_missed,
        "cost_false_alarm": cost_false_alarm,
        "horizon": horizon,
    }


def _stamp(value: datetime | date | str | None) -> str | None:
    return value.isoformat() if isinstance(value, date) else value
