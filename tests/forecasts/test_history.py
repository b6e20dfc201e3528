"""What a forecast task learns from: complete rollup buckets only, and not the
metric's anomalies."""

from __future__ import annotations

import time

import numpy as np
from sqlalchemy import select

from augury.anomalies.models import AnomalyGroup, MetricAnomaly
from augury.forecasts import service
from augury.metrics.models import Metric
from augury.metrics.rollups import bucket_is_partial
from tests.fixtures.factories import make_key, signup
from tests.forecasts.test_api import create, send, wait_run

HOUR = 3600
FIVE = 300
DAYS = 14


def daily_five_minute(n: int, start: float, seed: int) -> np.ndarray:
    """Requests per 5 minutes: a smooth daily cycle (about 6,000 an hour at its
    lowest, 30,000 at its highest) with 5 % noise."""
    t = start + FIVE * np.arange(n)
    hour = (t % 86400) / HOUR
    level = 1500 * (1 + 0.6 * np.sin((hour - 9) / 24 * 2 * np.pi))
    return level * (1 + 0.05 * np.random.default_rng(seed).standard_normal(n))


def account_of(client, org):
    owner = signup(client, org=org)
    owner.key = make_key(client, owner, ["ingest", "read"])
    return owner


def hourly_result(client, owner, what, **body):
    task = create(client, owner, expression=what, resolution="1h", **body)
    assert wait_run(client, owner, task["id"])["status"] == "complete"
    (r,) = client.get(f"/api/v1/forecasts/{task['id']}/results", headers=owner.headers).json()[
        "results"
    ]
    assert r["status"] == "ok", r
    return r


def test_a_seasonal_counter_with_a_partial_last_hour_forecasts_smoothly(runner_client):
    owner = account_of(runner_client, "Partial")
    # Two weeks of 5-minute counts, then the first 10 minutes of an hour (3 of its 12
    # points): that hour's sum is a quarter of a full one. It ended two hours ago, so
    # this is about the newest point, not about the clock.
    last_hour = (int(time.time()) // HOUR - 2) * HOUR
    start = last_hour - DAYS * 86400
    n = DAYS * 288 + 3
    y = daily_five_minute(n, start, seed=12)
    send(runner_client, owner.key, "requests", y, start, step=FIVE, target_type="counter")

    r = hourly_result(runner_client, owner, "requests", horizon=24)
    hourly = y[: DAYS * 288].reshape(-1, 12).sum(axis=1)
    # the partial hour is not history: the forecast starts with it
    assert r["history_points"] == DAYS * 24
    assert r["origin"] == last_hour - HOUR and r["timestamps"][0] == last_hour
    mean = np.array(r["mean"])
    # smooth: no step larger than the series' own hour-to-hour changes, nothing near the
    # partial hour's quarter of a sum
    assert np.max(np.abs(np.diff(np.r_[hourly[-1], mean]))) <= np.max(np.abs(np.diff(hourly)))
    assert mean.min() >= 0.8 * hourly.min(), mean.round()
    # and close to the daily cycle it continues
    t = last_hour + HOUR * np.arange(24)
    truth = 18000 * (1 + 0.6 * np.sin(((t % 86400) / HOUR - 9 + 5.5 / 12) / 24 * 2 * np.pi))
    assert np.mean(np.abs(mean - truth) / truth) < 0.1


def test_the_newest_bucket_is_partial_while_it_fills():
    now = 100 * HOUR + 600
    # the clock is still inside it
    assert bucket_is_partial(100 * HOUR, HOUR, [12, 12, 1], 100 * HOUR, now)
    # 5-minute points up to 10:10 do not fill 10:00-11:00, even long after
    counts = [12] * 5 + [3]
    assert bucket_is_partial(90 * HOUR, HOUR, counts, 90 * HOUR + 600, now)
    # minute points up to 10:59 do; hourly points fill their own hour, even the
    # current one (its point has come)
    assert not bucket_is_partial(90 * HOUR, HOUR, [60, 60, 60], 91 * HOUR - 60, now)
    assert not bucket_is_partial(90 * HOUR, HOUR, [1, 1, 1], 90 * HOUR, now)
    assert not bucket_is_partial(100 * HOUR, HOUR, [1, 1, 1], 100 * HOUR, now)
    # irregular events: the current hour is filling
    assert bucket_is_partial(100 * HOUR, HOUR, [10, 12, 11, 3], 100 * HOUR + 590, now)


def test_stored_anomalies_are_not_learned_from(runner_client, db):
    owner = account_of(runner_client, "Incidents")
    # Hourly latency (a gauge): two weeks of a daily cycle, with an incident of three
    # hours at four times the usual level, 21 hours ago.
    now_hour = int(time.time()) // HOUR * HOUR
    n = DAYS * 24
    start = now_hour - n * HOUR
    t = np.arange(n)
    y = 100 + 30 * np.sin(2 * np.pi * t / 24)
    y = y + np.random.default_rng(5).normal(0, 1, n)
    incident = n - 21
    y[incident : incident + 3] *= 4
    send(runner_client, owner.key, "latency", y, start)
    with db.session() as s:
        metric = s.scalar(select(Metric).where(Metric.org_id == owner.org_id))
        # what detection stores (replaced by one known anomaly, for a fixed test)
        s.query(MetricAnomaly).filter(MetricAnomaly.metric_id == metric.id).delete()
        first, last = start + incident * HOUR, start + (incident + 2) * HOUR
        group = AnomalyGroup(
            org_id=owner.org_id,
            what="latency",
            timescale=0,
            state="closed",
            start=first,
            end=last,
            peak_score=99.0,
            metric_count=1,
            direction="up",
            delta=300.0,
            delta_pct=300.0,
        )
        s.add(group)
        s.flush()
        s.add(
            MetricAnomaly(
                org_id=owner.org_id,
                group_id=group.id,
                metric_id=metric.id,
                timescale=0,
                type="pattern_change",
                state="closed",
                start=first,
                end=last,
                points=3,
                interval=HOUR,
                peak_score=99.0,
                peak_ts=first,
                peak_value=float(y[incident]),
                expected=130.0,
                delta=300.0,
                delta_pct=300.0,
                direction="up",
            )
        )

    r = hourly_result(runner_client, owner, "latency", horizon=24)
    mean = np.array(r["mean"])
    truth = 100 + 30 * np.sin(2 * np.pi * np.arange(n, n + 24) / 24)
    # the incident's hours, a day on, are forecast as usual
    assert np.max(np.abs(mean - truth)) < 10.0, mean.round(1)
    assert "3 excluded points replaced" in r["reason"]


def test_anomaly_spans_leave_out_an_open_pattern_change_and_cover_their_buckets(runner_client, db):
    owner = account_of(runner_client, "Spans")
    start = (int(time.time()) // HOUR - 48) * HOUR
    send(runner_client, owner.key, "cpu", np.ones(48), start)
    with db.session() as s:
        metric = s.scalar(select(Metric).where(Metric.org_id == owner.org_id))
        s.query(MetricAnomaly).filter(MetricAnomaly.metric_id == metric.id).delete()
        group = AnomalyGroup(
            org_id=owner.org_id,
            what="cpu",
            timescale=0,
            state="open",
            start=start,
            end=start,
            peak_score=90.0,
            metric_count=1,
            direction="up",
            delta=1.0,
            delta_pct=None,
        )
        s.add(group)
        s.flush()
        common = dict(
            org_id=owner.org_id,
            group_id=group.id,
            metric_id=metric.id,
            points=1,
            interval=HOUR,
            peak_score=90.0,
            peak_value=2.0,
            expected=1.0,
            delta=1.0,
            direction="up",
        )
        for kind, state, at, timescale in (
            ("transient", "closed", 2, 0),  # a spike at one hour
            ("pattern_change", "closed", 10, 3600),  # an hourly bucket, over
            ("transient", "open", 40, 0),  # going on, short so far
            ("pattern_change", "open", 44, 0),  # going on: maybe the new normal
        ):
            t = start + at * HOUR
            s.add(
                MetricAnomaly(
                    type=kind, state=state, start=t, end=t, peak_ts=t, timescale=timescale, **common
                )
            )
        s.flush()
        spans = service.anomaly_spans(s, metric, start)
    assert sorted(spans) == [
        (start + 2 * HOUR, start + 2 * HOUR + 1e-3),
        (start + 10 * HOUR, start + 11 * HOUR),
        (start + 40 * HOUR, start + 40 * HOUR + 1e-3),
    ]
    mask = service.grid_mask(start, HOUR, 48, spans, centred=False)
    assert np.flatnonzero(mask).tolist() == [2, 10, 40]
    # native points on a grid: a step covers half a step either side of its point
    mask = service.grid_mask(start, HOUR, 48, [(start + 2.6 * HOUR, start + 2.7 * HOUR)], True)
    assert np.flatnonzero(mask).tolist() == [3]
