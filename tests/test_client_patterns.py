"""The Python client's "seen before" group (``augury.client.patterns.Patterns``)
against a live server: anomalies planted through the client's own ingestion."""

from __future__ import annotations

import time

import numpy as np
import pytest

from augury.client import ConflictError, NotFoundError
from augury.client.patterns import Patterns
from tests.test_client import owner, signed_up  # noqa: F401  (the fixture)


def test_similar_and_the_pattern_lifecycle(live_server, owner):  # noqa: F811
    now = int(time.time()) // 60 * 60
    n = 1500
    rng = np.random.default_rng(0)
    for host, level, noise, at in (("a", 10.0, 0.2, (1000, 1300)), ("b", 1000.0, 20.0, (1150,))):
        y = level + noise * rng.standard_normal(n)
        y[list(at)] += 30 * noise
        owner.metrics.send(
            {
                "properties": {"what": "cpu", "host": host},
                "timestamp": now - (n - i) * 60,
                "value": v,
            }
            for i, v in enumerate(y.tolist())
        )
    deadline = time.monotonic() + 60
    spikes: list = []
    while len(spikes) < 2:
        assert time.monotonic() < deadline, spikes
        time.sleep(0.2)
        spikes = list(owner.anomalies.iter(min_score=90, timescale="native"))
    newest = max(spikes, key=lambda a: (a["start"], a["id"]))
    patterns = Patterns(owner)
    seen = patterns.similar(newest["id"], min_similarity=0.8)
    earlier = {a["id"] for a in spikes if a["start"] < newest["start"]}
    assert earlier and earlier <= {i["anomaly_id"] for i in seen["items"]}
    assert all(i["similarity"] >= 0.8 for i in seen["items"])

    p = patterns.create(newest["id"], "cpu spike", threshold=0.9, scope="metric", backfill_days=0)
    assert p["threshold"] == 0.9 and p["scope"] == "metric"
    assert p["label_from"] == p["created_at"]  # no backfill: only later anomalies
    with pytest.raises(ConflictError):
        patterns.create(newest["id"], "cpu spike")
    assert [x["id"] for x in patterns.iter()] == [p["id"]]
    assert patterns.list(enabled=False)["total"] == 0
    assert patterns.update(p["id"], enabled=False)["enabled"] is False
    assert patterns.list(enabled=False)["total"] == 1
    assert patterns.get(p["id"])["name"] == "cpu spike"
    assert patterns.matches(p["id"])["total"] == 0 and list(patterns.iter_matches(p["id"])) == []
    patterns.delete(p["id"])
    with pytest.raises(NotFoundError):
        patterns.get(p["id"])
