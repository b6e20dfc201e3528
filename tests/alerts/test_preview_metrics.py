"""The preview names the metrics each would-have-fired alert involves, so that the alert
form can chart them with their band and mark when it would have fired."""

from __future__ import annotations

import time

from tests.alerts.test_alerts_api import api, spike_series
from tests.anomalies.test_detection import STEP, send


def test_preview_triggers_name_their_metrics(client, owner, key):
    now = int(time.time())
    start = now - 1500 * STEP
    for host, at in (("a", 1200), ("b", 1100), ("c", 1100)):
        send(client, key, spike_series(seed=ord(host), at=at), start=start, host=host)
    ids = {
        m["dimensions"]["host"]: m["id"]
        for m in api(client, owner, "GET", "/metrics", params={"q": "what=cpu"})["items"]
    }
    base = {"title": "x", "expression": "what=cpu", "conditions": {"min_score": 60}}
    got = api(client, owner, "POST", "/alerts/preview", json=base)
    by_count = {t["metrics"]: t for t in got["triggers"]}
    assert by_count[1]["metric_ids"] == [ids["a"]]  # minute 1200: host a alone
    assert by_count[2]["metric_ids"] == sorted([ids["b"], ids["c"]])  # minute 1100
    static = api(
        client,
        owner,
        "POST",
        "/alerts/preview",
        json={"type": "static", "expression": "what=cpu host=a", "conditions": {"above": 14.5}},
    )
    assert [t["metric_ids"] for t in static["triggers"]] == [[ids["a"]]]
