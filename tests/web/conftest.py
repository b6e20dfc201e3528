"""Timeouts of the browser tests, in one place.

Generous on purpose: on a busy 2-core machine (other test runs, a build) a page, a
click or a password hash can take many seconds, and a test must then wait, not fail.
A wait that is not met still fails, just later. Pages (``page.set_default_timeout``),
web-first assertions (``expect``) and the tests' HTTP clients use these.
"""

from __future__ import annotations

import time

import pytest
from playwright.sync_api import expect

UI_TIMEOUT_MS = 60_000
"""Playwright actions, navigations, waits and ``expect`` assertions."""

HTTP_TIMEOUT_S = 60.0
"""The tests' own HTTP calls to the server under test (sign-up, seeding, checks)."""


@pytest.fixture(autouse=True)
def _patient_expect():
    """``expect``'s timeout is global to the process: set before each test, so that a
    test module setting its own at import time does not shorten the others'."""
    expect.set_options(timeout=UI_TIMEOUT_MS)


def wait_js(page, expression: str, arg=None, timeout: float = UI_TIMEOUT_MS) -> None:
    """Wait until ``expression`` (a JS expression, or a function of ``arg``) is truthy.

    Playwright's ``page.wait_for_function`` polls by evaluating a string inside the
    page, which the UI's Content-Security-Policy (no 'unsafe-eval') forbids; this polls
    from the test through ``page.evaluate``, which the policy does not govern.
    """
    source = expression.strip()
    function = source.startswith(("function", "(")) or "=>" in source.split("\n")[0][:40]
    if not function:
        source = f"() => ({source})"
    deadline = time.monotonic() + timeout / 1000
    while not page.evaluate(source, arg):
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout / 1000:.0f} s: {expression}")
        page.wait_for_timeout(50)
