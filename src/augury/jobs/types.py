"""What a job type is, and the registry the composition root fills.

A job type is a class with ``name``, ``title``, a pydantic ``Params`` model and
``run(ctx, params) -> dict | None``. A domain declares its types (``forecasts/jobs.py``
...); :mod:`augury.runtime.wiring` registers each under its name, as a ``"module:Class"``
reference: a type's module is imported when a job of it first runs, so a job process
only pays for the libraries its own job needs. The API validates params against
``Params`` before queueing.
"""

from __future__ import annotations

import importlib
from typing import Any, Protocol

from pydantic import BaseModel


class JobType(Protocol):
    name: str
    title: str
    Params: type[BaseModel]

    def run(self, ctx: Any, params: Any) -> dict | None: ...


def ended_by_abort(ctx: Any, exc: BaseException) -> bool:
    """Whether ``exc``, raised out of a job's work, ends the job aborted rather than
    failed: the runner's ``JobAborted`` (which domains below the runtime know by name),
    or any error once the job has noticed an abort (``ctx.aborted``), since a library
    can catch the abort raised inside it and raise its own error instead."""
    return type(exc).__name__ == "JobAborted" or bool(getattr(ctx, "aborted", False))


class Registry:
    """Job types by name, each imported on first use."""

    def __init__(self) -> None:
        self._refs: dict[str, str] = {}

    def register(self, name: str, ref: str) -> None:
        """Register ``ref`` (``"package.module:Class"``) as job type ``name``."""
        if self._refs.get(name, ref) != ref:
            raise ValueError(f"job type {name!r} is already registered as {self._refs[name]}")
        self._refs[name] = ref

    def __contains__(self, name: object) -> bool:
        return name in self._refs

    def names(self) -> list[str]:
        return sorted(self._refs)

    def load(self, name: str) -> JobType:
        """The job type registered under ``name``; KeyError if there is none."""
        module, _, attr = self._refs[name].partition(":")
        return getattr(importlib.import_module(module), attr)()

    def describe(self) -> list[dict]:
        out = []
        for name in self.names():
            jt = self.load(name)
            out.append(
                {"name": name, "title": jt.title, "params_schema": jt.Params.model_json_schema()}
            )
        return out


registry = Registry()
"""The job types of this process, filled by :func:`augury.runtime.wiring.install`."""
