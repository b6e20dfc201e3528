"""Replaying one series through augury's real pipeline, with or without a user.

Per replay: a fresh SQLite database (a copy of one migrated template that already
holds an organization, its owner and one alert configuration), then, one evaluation
step (:data:`STEP_S`) of points at a time,

1. the points are stored through :func:`augury.metrics.writer.write` (what every
   ingestion route calls),
2. the stream processor's ``drain()`` moves them into place and runs detection,
3. :func:`augury.alerts.evaluate.evaluate` turns anomalies into triggered alerts
   (``now`` is the step's last timestamp), holding back those that feedback says are
   benign,
4. the user (when there is one) looks at every alert opened in this step and gives
   feedback through :func:`augury.alerts.services.feedback.give`, as the UI's buttons
   do: *not interesting* when the alert covers a benign blip, *good catch* when it
   covers an incident, nothing when it covers neither (an alert on the base series
   itself, which the user cannot judge from the ground truth).

Nothing here detects or alerts by itself: the counts are read back from the
``alert_trigger`` rows the evaluator wrote.
"""

from __future__ import annotations

import shutil
import statistics
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Literal
from unittest import mock

from sqlalchemy import select

from augury.accounts import organizations, users
from augury.accounts.principal import Principal
from augury.alerts import schemas
from augury.alerts.evaluate import evaluate
from augury.alerts.models import AlertTrigger, FeedbackProfile
from augury.alerts.services import configs
from augury.alerts.services import feedback as alert_feedback
from augury.anomalies.models import MetricAnomaly
from augury.config import Settings
from augury.engines.detect import feedback
from augury.metrics import writer
from augury.metrics.ingest.points import ParseResult, Sample
from augury.runtime import wiring
from augury.runtime.stream import StreamProcessor
from augury.store import migrate
from augury.store.db import Database
from benchmarks.feedback.series import SLACK_POINTS, Case, Window
from benchmarks.feedback.series import STEP_S as POINT_S

STEP_S = 3600
"""Points written, detected and evaluated together (the server evaluates about once a
second; an hour keeps the replay fast, and feedback is given at the end of the hour
the alert opened in)."""
MIN_SCORE = 50.0
"""The configuration's ``min_score``: the detector's own decision level (an anomaly is
raised at a calibrated score of 0.5 at medium sensitivity), so every anomaly may alert
and only feedback holds any back."""
MATCH_SLACK_S = SLACK_POINTS * POINT_S
"""An alert starting this soon after an injection ends is still caused by it."""
BASE_URL = "http://127.0.0.1:8000"
ORG_ID = 1
USER_ID = 1
USER = Principal(org_id=ORG_ID, user_id=USER_ID)
"""Who gives the feedback (and, unaudited, made the configuration)."""
Answer = Literal["good_catch", "not_interesting"]


def make_template(path: Path) -> Path:
    """A migrated database with an organization, its owner and the alert configuration:
    an anomaly alert on every metric, min_score 50, no grouping."""
    db = Database(f"sqlite:///{path}")
    migrate.upgrade(db.engine)
    with db.session() as session:
        user = users.create_user(
            session=session,
            settings=Settings(),
            email="oncall@example.com",
            password="correct horse battery",
            name="On-call engineer",
        )
        org = organizations.create_organization(session=session, owner=user, name="Bench")
        assert (org.id, user.id) == (ORG_ID, USER_ID)
        body = schemas.AlertConfigCreate(
            title="{{what}} is anomalous",
            type="anomaly",
            expression="",
            group_by=[],
            conditions=schemas.Conditions(min_score=MIN_SCORE),
        )
        configs.create(session, USER, body, audited=False)
    db.dispose()
    return path


@contextmanager
def margin(value: float) -> Iterator[None]:
    """Evaluate with feedback's margin set to ``value``.

    ``judge`` takes its default margin when it is defined, and the evaluator calls it
    without one, so the margin is set by wrapping the function the evaluator looks up
    (``feedback.judge``) for the duration of the block."""
    with mock.patch.object(feedback, "judge", partial(feedback.judge, margin=value)):
        yield


@dataclass
class Alert:
    trigger_id: int
    start: float
    end: float
    kind: str
    """What it covers: an incident kind, ``benign``, or ``other`` (neither)."""
    window: Window | None
    feedback: str | None = None


@dataclass
class Replay:
    """What one replay of one case gave."""

    alerts: list[Alert] = field(default_factory=list)
    anomalies: list[tuple[float, float]] = field(default_factory=list)
    """Every anomaly detection recorded (native time scale), as ``(start, end)``."""
    clicks: dict[str, int] = field(default_factory=lambda: {"not_interesting": 0, "good_catch": 0})
    rules: list[str] = field(default_factory=list)
    """The rules feedback taught, in words (:func:`feedback.rule_texts`), at the end."""

    @property
    def false_alerts(self) -> int:
        return sum(a.kind == "benign" for a in self.alerts)

    @property
    def other_alerts(self) -> int:
        return sum(a.kind == "other" for a in self.alerts)

    def caught(self, windows: list[Window]) -> list[Window]:
        """The incidents at least one alert covered."""
        hit = {id(a.window) for a in self.alerts if a.window is not None}
        return [w for w in windows if w.incident and id(w) in hit]

    def detected(self, windows: list[Window]) -> list[Window]:
        """The injections at least one anomaly covered (alerted or not)."""
        return [
            w
            for w in windows
            if any(classify(start, end, [w])[1] is w for start, end in self.anomalies)
        ]

    def benign_alerted_windows(self, windows: list[Window]) -> list[Window]:
        """The benign blips at least one alert covered, in time order."""
        hit = {id(a.window) for a in self.alerts if a.kind == "benign"}
        return [w for w in windows if not w.incident and id(w) in hit]

    def benign_alerted(self, windows: list[Window]) -> int:
        """Benign blips at least one alert covered."""
        hit = {id(a.window) for a in self.alerts if a.kind == "benign"}
        return sum(1 for w in windows if not w.incident and id(w) in hit)

    def delays(self) -> list[float]:
        """Seconds from each caught incident's start to its first alert's start."""
        first: dict[int, tuple[Window, float]] = {}
        for a in self.alerts:
            if a.window is not None and a.window.incident:
                w = a.window
                first[id(w)] = (w, min(first.get(id(w), (w, a.start))[1], a.start))
        return [max(0.0, t - w.start) for w, t in first.values()]

    def median_delay_s(self) -> float | None:
        d = self.delays()
        return statistics.median(d) if d else None


def classify(start: float, end: float, windows: list[Window]) -> tuple[str, Window | None]:
    """The injection an alert over ``[start, end]`` covers; incidents win over benign
    blips (they never overlap by construction, but the slack could join them)."""
    covered = [w for w in windows if start <= w.end + MATCH_SLACK_S and end >= w.start]
    for w in covered:
        if w.incident:
            return w.kind, w
    if covered:
        return "benign", covered[0]
    return "other", None


def replay(case: Case, template: Path, workdir: Path, *, user: bool) -> Replay:
    """Stream ``case`` through the pipeline on a fresh copy of ``template``."""
    path = workdir / f"replay-{'user' if user else 'alone'}.db"
    for suffix in ("", "-wal", "-shm"):
        Path(f"{path}{suffix}").unlink(missing_ok=True)
    shutil.copy(template, path)
    db = Database(f"sqlite:///{path}")
    try:
        return _run(case, db, user=user)
    finally:
        db.dispose()


def _run(case: Case, db: Database, *, user: bool) -> Replay:
    processor = StreamProcessor(db, wiring.consumers())
    cache = writer.MetricCache()
    out = Replay()
    last_id = 0
    ts, values = case.timestamps, case.values
    per_step = STEP_S // POINT_S
    for lo in range(0, len(ts), per_step):
        result = ParseResult()
        for i in range(lo, min(lo + per_step, len(ts))):
            sample = Sample("value", {"series": case.name}, float(ts[i]), float(values[i]))
            result.add(i - lo, sample)
        with db.session() as session:
            outcome = writer.write(
                session,
                org_id=ORG_ID,
                result=result,
                cache=cache,
                source="bench",
                max_lateness_s=None,
            )
            assert not outcome.errors, outcome.errors[:3]
        processor.drain()
        evaluate(db, base_url=BASE_URL, now=float(ts[min(lo + per_step, len(ts)) - 1]))
        with db.session() as session:
            fresh = session.scalars(
                select(AlertTrigger).where(AlertTrigger.id > last_id).order_by(AlertTrigger.id)
            ).all()
            for trigger in fresh:
                last_id = trigger.id
                end = trigger.end if trigger.end is not None else trigger.updated
                kind, window = classify(trigger.start, end, case.windows)
                alert = Alert(trigger.id, trigger.start, end, kind, window)
                out.alerts.append(alert)
                if user and kind != "other":
                    answer: Answer = "not_interesting" if kind == "benign" else "good_catch"
                    alert.feedback = answer
                    alert_feedback.give(
                        session,
                        USER,
                        schemas.FeedbackCreate(type=answer, trigger_id=trigger.id, origin="api"),
                    )
                    out.clicks[alert.feedback] += 1
    _final_spans(db, out, case)
    return out


def _final_spans(db: Database, out: Replay, case: Case) -> None:
    """Re-read every alert's span at the end (one opened in a step may have grown after
    it) and classify it again (feedback already given stays as it was); read the
    anomalies."""
    with db.session() as session:
        rows = {t.id: t for t in session.scalars(select(AlertTrigger))}
        out.anomalies = list(
            session.execute(
                select(MetricAnomaly.start, MetricAnomaly.end + MetricAnomaly.interval)
                .where(MetricAnomaly.timescale == 0)
                .order_by(MetricAnomaly.id)
            ).tuples()
        )
        out.rules = [
            text
            for p in session.scalars(select(FeedbackProfile))
            for text in feedback.rule_texts(feedback.from_json(p.profile), interval_s=POINT_S)
        ]
    for alert in out.alerts:
        t = rows[alert.trigger_id]
        alert.start = t.start
        alert.end = t.end if t.end is not None else t.updated
        alert.kind, alert.window = classify(alert.start, alert.end, case.windows)
