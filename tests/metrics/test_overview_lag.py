"""The metrics overview says how far anomaly detection lags behind ingestion, per
organization (the Overview page shows it as ingestion health)."""

from __future__ import annotations

from datetime import timedelta

from augury import clock
from augury.metrics.models import StreamQueueItem
from tests.fixtures.factories import signup


def test_overview_reports_the_detection_lag_of_its_own_organization(app, client):
    mine = signup(client, org="Lagging")
    other = signup(client, org="Other")
    r = client.get("/api/v1/metrics/overview", headers=mine.headers)
    assert r.status_code == 200 and r.json()["detection_lag_s"] == 0

    now = clock.now()
    with app.state.db.session() as session:
        session.add_all(
            [
                # Points waiting for detection for two minutes: that is the lag.
                StreamQueueItem(
                    consumer="detect",
                    org_id=mine.org_id,
                    spans={},
                    created_at=now - timedelta(seconds=120),
                ),
                StreamQueueItem(consumer="detect", org_id=mine.org_id, spans={}, created_at=now),
                # Rollups waiting longer are not detection; another org's backlog is not ours.
                StreamQueueItem(
                    consumer="rollup",
                    org_id=mine.org_id,
                    spans={},
                    created_at=now - timedelta(hours=1),
                ),
                StreamQueueItem(
                    consumer="detect",
                    org_id=other.org_id,
                    spans={},
                    created_at=now - timedelta(hours=2),
                ),
            ]
        )
    lag = client.get("/api/v1/metrics/overview", headers=mine.headers).json()["detection_lag_s"]
    assert 120 <= lag < 180
    lag = client.get("/api/v1/metrics/overview", headers=other.headers).json()["detection_lag_s"]
    assert 7200 <= lag < 7260
