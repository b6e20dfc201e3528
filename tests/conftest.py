"""Test fixtures live in tests/fixtures/ and load here as plugins.

The suite runs in parallel under pytest-xdist (``make test`` passes ``-n``; ``-n 0``
runs it in one process). This file keeps two things true under xdist:

- a test module that shares a module-scoped fixture among its tests (a browser, a
  benchmark replay) runs on one worker, so the fixture is built once, not once per
  worker; so does every module marked ``xdist_group("name")`` with the same name
  (``--dist loadgroup``, the default in pyproject.toml, through ``_ModuleGroups``);
- a skipped test fails the run when AUGURY_FAIL_ON_SKIP is set: the controller sees
  every worker's reports through ``pytest_runtest_logreport``.

With AUGURY_DATABASE_TESTS_ONLY set (CI's PostgreSQL pass, after the whole suite ran on
SQLite) only the tests whose outcome can depend on the database under test run: those
that use it through the ``database_url`` fixture (directly, or through ``db``, a client,
a live server …) or are marked ``database``. The others (engines, parsers, the CLI on
its own SQLite file …) never see it, so a second run would repeat the first; they are
deselected, not skipped.
"""

from __future__ import annotations

import functools
import os
import re

import pytest
from xdist.scheduler import LoadScopeScheduling

pytest_plugins = [
    "tests.fixtures.db",
    "tests.fixtures.app",
    "tests.fixtures.factories",
    "tests.fixtures.clock",
]

_skipped: list[str] = []

_MODULE_FIXTURE = re.compile(r"scope\s*=\s*[\"'](module|class|package)[\"']")
_GROUP_MARK = re.compile(r"xdist_group\(\s*(?:name\s*=\s*)?[\"']([^\"']+)[\"']")


class _ModuleGroups(LoadScopeScheduling):
    """``--dist loadgroup`` by module: xdist 3.8 groups tests by renaming them in a way
    pytest 9 ignores, so its own loadgroup spreads a group over all workers. The
    controller sees only test ids, so a module's grouping is read from its source: a
    module that defines a module/class-scoped fixture is one unit of work, a module
    marked ``xdist_group("name")`` joins the unit ``name``; any other test is its own."""

    def _split_scope(self, nodeid: str) -> str:
        return _group_of(self.config.rootpath / nodeid.split("::", 1)[0]) or nodeid


@functools.cache
def _group_of(path) -> str | None:
    try:
        source = path.read_text()
    except OSError:
        return None
    if named := _GROUP_MARK.search(source):
        return named.group(1)
    return str(path) if _MODULE_FIXTURE.search(source) else None


def pytest_collection_modifyitems(config, items):
    if not os.environ.get("AUGURY_DATABASE_TESTS_ONLY"):
        return
    keep, drop = [], []
    for item in items:
        uses = "database_url" in item.fixturenames or item.get_closest_marker("database")
        (keep if uses else drop).append(item)
    if drop:
        config.hook.pytest_deselected(items=drop)
        items[:] = keep


@pytest.hookimpl(tryfirst=True, optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") == "loadgroup":
        return _ModuleGroups(config, log)
    return None


def pytest_runtest_logreport(report):
    if report.skipped:
        _skipped.append(report.nodeid)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    # In CI a skipped test is a failing test: a service that is not there must be installed.
    # Under xdist the controller decides, from the reports of all workers.
    if hasattr(session.config, "workerinput"):
        return
    if os.environ.get("AUGURY_FAIL_ON_SKIP") and _skipped:
        print(f"\n{len(_skipped)} test(s) skipped, which CI does not allow: {_skipped[:10]}")
        session.exitstatus = 1
