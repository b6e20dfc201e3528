"""Timeouts of the browser tests, in one place.

Generous on purpose: on a busy 2-core machine (other test runs, a build) a page, a
click or a password hash can take many seconds, and a test must then wait, not fail.
A wait that is not met still fails, just later. Pages (``page.set_default_timeout``),
web-first assertions (``expect``) and the tests' HTTP clients use these.
"""

from __future__ import annotations

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
