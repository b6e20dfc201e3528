"""Test fixtures live in tests/fixtures/ and load here as plugins."""

import os

import pytest

pytest_plugins = ["tests.fixtures.db", "tests.fixtures.app", "tests.fixtures.factories"]

_skipped: list[str] = []


def pytest_runtest_logreport(report):
    if report.skipped:
        _skipped.append(report.nodeid)


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session, exitstatus):
    # In CI a skipped test is a failing test: a service that is not there must be installed.
    if os.environ.get("AUGURY_FAIL_ON_SKIP") and _skipped:
        print(f"\n{len(_skipped)} test(s) skipped, which CI does not allow: {_skipped[:10]}")
        session.exitstatus = 1
