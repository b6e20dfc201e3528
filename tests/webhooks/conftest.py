"""A real receiver on loopback for event webhooks (the alert tests' :class:`Receiver`)."""

from __future__ import annotations

import pytest

from tests.alerts.conftest import Receiver


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()
