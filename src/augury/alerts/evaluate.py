"""The alert evaluator: anomalies, values and silences in; triggered alerts and
outbox rows out.

It runs as a periodic task of the stream processor, right after detection, one short
transaction per configuration. Each configuration keeps a cursor on
``metric_anomaly`` ids plus the open anomalies it saw last time, so every anomaly is
looked at until it closes, none twice after, and a restart resumes where it stopped.

For each configuration the evaluator finds its *hits* (metrics that meet every
condition now), groups them by the configuration's ``group_by`` dimensions, and
reconciles each group with its open trigger:

* no open trigger: open one (message ``open``);
* more metrics joined, or the peak score rose by ``SCORE_STEP``: ``update`` (at most
  once per ``repeat_interval_s``; never while acknowledged);
* every metric's anomaly closed, or the value is back within bounds, or data came
  back: close it (message ``close``, only when the open went out).

Anomalies that fit a rule learned from *not interesting* feedback on that metric (see
:mod:`augury.engines.detect.feedback`) are not hits, so the same benign deviation does
not alert again while a larger, longer or different one still does. One held only for
now (its values are still away from their level) stays watched after it closes, and
alerts if it outlasts the rule.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass

from sqlalchemy import bindparam, or_, select, text
from sqlalchemy.orm import Session

from augury import clock
from augury.alerts import notify
from augury.alerts.models import AlertConfig, AlertTrigger, AlertTriggerMetric, FeedbackProfile
from augury.anomalies.models import MetricAnomaly
from augury.engines.detect import feedback
from augury.events import service as platform_events
from augury.metrics import expressions
from augury.metrics import service as metrics_service
from augury.metrics.models import Metric, MetricPoint
from augury.store.db import Database

log = logging.getLogger("augury.alerts")

SCORE_STEP = 5.0
"""A trigger's peak score must rise this much (0-100) to be worth an update."""
STATIC_LOOKBACK_S = 3600.0
"""Static alerts read this much history beyond their duration to find a breach's start."""
MAX_METRICS = 10_000
"""Metrics one static or no-data configuration evaluates."""
FEEDBACK_AFTER_S = 86400.0
"""Feedback reads a metric's values this far after an anomaly's start to see how long
it stayed away (a longer hold is not decided by duration anyway)."""


@dataclass
class Hit:
    """A metric that meets the configuration's conditions now."""

    metric: Metric
    anomaly_id: int | None
    state: str
    """open, or closed (its anomaly ended; anomaly alerts only)."""
    start: float
    end: float
    """Anomaly alerts: one interval after the last anomalous point (as its duration)."""
    value: float | None = None
    expected: float | None = None
    delta: float | None = None
    delta_pct: float | None = None
    score: float | None = None
    direction: str | None = None


class AlertEvaluator:
    """Evaluates every live configuration: a periodic task of the stream processor,
    registered right after detection's consumer so that new anomalies alert at once."""

    name = "alerts.evaluate"

    def __init__(self, base_url: str, every_s: float = 1.0):
        self.base_url = base_url
        self.every_s = every_s

    def run(self, db: Database) -> int:
        return evaluate(db, base_url=self.base_url)


def evaluate(db: Database, *, base_url: str, now: float | None = None) -> int:
    """Evaluate every live configuration once; return how many messages were queued."""
    now = clock.now().timestamp() if now is None else now
    with db.session() as session:
        ids = list(session.scalars(select(AlertConfig.id).where(AlertConfig.paused.is_(False))))
    queued = 0
    for config_id in ids:
        try:
            with db.session() as session:
                stmt = select(AlertConfig).where(AlertConfig.id == config_id)
                if session.get_bind().dialect.name == "postgresql":
                    stmt = stmt.with_for_update(skip_locked=True)
                config = session.scalar(stmt)
                if config is None or config.paused:
                    continue
                queued += Evaluation(session, config, now, base_url).run()
        except Exception:  # one broken configuration must not stop the others
            log.exception("evaluating alert configuration %s failed", config_id)
    return queued


class Evaluation:
    def __init__(self, session: Session, config: AlertConfig, now: float, base_url: str):
        self.session = session
        self.config = config
        self.now = now
        self.base_url = base_url
        self.cond = config.conditions or {}
        self.tree = expressions.parse(config.expression or "")
        self.queued = 0

    # ------------------------------------------------------------------ hits

    def hits(self) -> list[Hit]:
        if self.config.type == "anomaly":
            return self.anomaly_hits()
        if self.config.type == "static":
            return self.static_hits()
        return self.no_data_hits()

    def anomaly_hits(self) -> list[Hit]:
        c = self.config
        s = self.session
        attached_open = set(
            s.scalars(
                select(AlertTriggerMetric.anomaly_id)
                .join(AlertTrigger, AlertTrigger.id == AlertTriggerMetric.trigger_id)
                .where(AlertTrigger.config_id == c.id, AlertTrigger.status == "open")
            )
        )
        again = (set(c.watching or []) | attached_open) - {None}
        clauses = [MetricAnomaly.id > c.cursor, MetricAnomaly.state == "open"]
        if again:
            clauses.append(MetricAnomaly.id.in_(again))
        candidates = list(
            s.scalars(
                select(MetricAnomaly)
                .where(
                    MetricAnomaly.org_id == c.org_id,
                    MetricAnomaly.timescale == c.timescale,
                    or_(*clauses),
                )
                .order_by(MetricAnomaly.id)
            )
        )
        if candidates:
            c.cursor = max(c.cursor, candidates[-1].id)
        c.watching = [a.id for a in candidates if a.state == "open"]
        if not candidates:
            return []
        ids = [a.id for a in candidates]
        done = set(
            s.scalars(
                select(AlertTriggerMetric.anomaly_id)
                .join(AlertTrigger, AlertTrigger.id == AlertTriggerMetric.trigger_id)
                .where(
                    AlertTrigger.config_id == c.id,
                    AlertTrigger.status == "closed",
                    AlertTriggerMetric.anomaly_id.in_(ids),
                )
            )
        )
        metric_ids = {a.metric_id for a in candidates}
        metrics = {m.id: m for m in s.scalars(select(Metric).where(Metric.id.in_(metric_ids)))}
        profiles = {
            p.metric_id: feedback.from_json(p.profile)
            for p in s.scalars(
                select(FeedbackProfile).where(FeedbackProfile.metric_id.in_(metric_ids))
            )
        }
        best: dict[int, Hit] = {}
        pending: list[int] = []
        for a in candidates:
            metric = metrics.get(a.metric_id)
            if metric is None or a.id in done:
                continue
            if not expressions.matches(self.tree, metric.what, metric.dimensions):
                continue
            if not anomaly_passes(self.cond, a):
                continue
            held = verdict(profiles.get(a.metric_id), a, s)
            if held is not None and held.benign:
                if held.provisional and a.state != "open":
                    pending.append(a.id)  # look again: it may outlast the rule
                continue
            best[a.metric_id] = Hit(  # the newest qualifying anomaly of each metric
                metric=metric,
                anomaly_id=a.id,
                state=a.state,
                start=a.start,
                end=a.end + (a.interval or 0.0),  # a one-point anomaly lasts one interval
                value=a.peak_value,
                expected=a.expected,
                delta=a.delta,
                delta_pct=a.delta_pct,
                score=a.peak_score,
                direction=a.direction,
            )
        if pending:
            c.watching = [*c.watching, *pending]
        return list(best.values())

    def matching_metrics(self) -> list[Metric]:
        return list(
            self.session.scalars(
                select(Metric)
                .where(
                    Metric.org_id == self.config.org_id,
                    Metric.last_ts.is_not(None),
                    metrics_service.expression_clause(self.tree),
                )
                .order_by(Metric.id)
                .limit(MAX_METRICS)
            )
        )

    def static_hits(self) -> list[Hit]:
        above = self.cond.get("above")
        below = self.cond.get("below")
        duration = float(self.cond.get("duration_s") or 0.0)
        metrics = {m.id: m for m in self.matching_metrics()}
        if not metrics:
            return []
        rows = self.session.execute(
            text(
                "SELECT p.metric_id, p.ts, p.value FROM metric_point p "
                "JOIN metric m ON m.id = p.metric_id "
                "WHERE m.id IN :ids AND p.ts >= m.last_ts - :back "
                "ORDER BY p.metric_id, p.ts"
            ).bindparams(bindparam("ids", expanding=True)),
            {"ids": list(metrics), "back": 2 * duration + STATIC_LOOKBACK_S},
        ).all()
        series: dict[int, list[tuple[float, float]]] = {}
        for metric_id, ts, value in rows:
            series.setdefault(metric_id, []).append((float(ts), float(value)))
        hits = []
        for metric_id, points in series.items():
            breach_start = None
            for ts, value in reversed(points):
                if not breaches(value, above, below):
                    break
                breach_start = ts
            if breach_start is None:
                continue
            last_ts, last_value = points[-1]
            if last_ts - breach_start < duration:
                continue
            bound = above if above is not None and last_value > above else below
            hits.append(
                Hit(
                    metric=metrics[metric_id],
                    anomaly_id=None,
                    state="open",
                    start=breach_start,
                    end=last_ts,
                    value=last_value,
                    expected=bound,
                    delta=last_value - bound if bound is not None else None,
                    direction="up" if bound == above else "down",
                )
            )
        return hits

    def no_data_hits(self) -> list[Hit]:
        quiet = float(self.cond.get("no_data_s") or 3600.0)
        return [
            Hit(metric=m, anomaly_id=None, state="open", start=m.last_ts, end=self.now)
            for m in self.matching_metrics()
            if m.last_ts is not None and m.last_ts < self.now - quiet
        ]

    # ------------------------------------------------------------- reconcile

    def run(self) -> int:
        c = self.config
        s = self.session
        hits = self.hits()
        groups: dict[str, list[Hit]] = {}
        for hit in hits:
            groups.setdefault(group_key(c.group_by, hit.metric), []).append(hit)
        open_triggers = {
            t.group_key: t
            for t in s.scalars(
                select(AlertTrigger).where(
                    AlertTrigger.config_id == c.id, AlertTrigger.status == "open"
                )
            )
        }
        min_metrics = int(self.cond.get("min_metrics") or 1)
        for key, group in groups.items():
            trigger = open_triggers.pop(key, None)
            if trigger is None:
                if len(group) < min_metrics:
                    continue
                trigger = self.open_trigger(key, group)
                fresh = True
            else:
                fresh = False
            self.sync(trigger, group)
            if all(h.state == "closed" for h in group):
                self.close(trigger)
            elif not fresh:
                self.maybe_update(trigger)
        for trigger in open_triggers.values():  # nothing meets the conditions any more
            self.sync(trigger, [])
            self.close(trigger)
        return self.queued

    def open_trigger(self, key: str, group: list[Hit]) -> AlertTrigger:
        c = self.config
        trigger = AlertTrigger(
            org_id=c.org_id,
            config_id=c.id,
            group_key=key,
            group=json.loads(key) if key else {},
            type=c.type,
            severity=c.severity,
            title=render_title(c.title, group[0].metric, json.loads(key) if key else {}),
            status="open",
            start=min(h.start for h in group),
            updated=max(h.end for h in group),
            end=None,
            metric_count=0,
            opened_sent=False,
            notified_metrics=0,
        )
        self.session.add(trigger)
        self.session.flush()
        platform_events.emit(
            self.session,
            org_id=c.org_id,
            type="alert.triggered",
            data={
                "trigger_id": trigger.id,
                "alert_id": c.id,
                "title": trigger.title,
                "type": trigger.type,
                "severity": trigger.severity,
                "group": trigger.group,
                "start": trigger.start,
                "metrics": len(group),
            },
        )
        return trigger

    def sync(self, trigger: AlertTrigger, group: list[Hit]) -> None:
        """Make the trigger's metric rows match ``group`` (metrics no longer hit close)."""
        s = self.session
        rows = {
            r.metric_id: r
            for r in s.scalars(
                select(AlertTriggerMetric).where(AlertTriggerMetric.trigger_id == trigger.id)
            )
        }
        for hit in group:
            row = rows.get(hit.metric.id)
            if row is None:
                row = AlertTriggerMetric(trigger_id=trigger.id, metric_id=hit.metric.id)
                s.add(row)
                rows[hit.metric.id] = row
            row.anomaly_id = hit.anomaly_id
            row.state = hit.state
            row.start = hit.start if row.start is None else min(row.start, hit.start)
            row.end = hit.end
            row.value, row.expected = hit.value, hit.expected
            row.delta, row.delta_pct = hit.delta, hit.delta_pct
            row.score, row.direction = hit.score, hit.direction
        hit_ids = {h.metric.id for h in group}
        for metric_id, row in rows.items():
            if metric_id not in hit_ids and row.state == "open":
                row.state = "closed"
                row.end = max(row.end, trigger.updated)
        trigger.metric_count = len(rows)
        trigger.updated = max([trigger.updated, *(h.end for h in group)])
        scores = [r.score for r in rows.values() if r.score is not None]
        trigger.peak_score = max(scores) if scores else None
        directions = {r.direction for r in rows.values() if r.direction}
        trigger.direction = (
            directions.pop() if len(directions) == 1 else ("both" if directions else None)
        )
        metrics = [h.metric for h in group] or list(
            s.scalars(select(Metric).where(Metric.id.in_(list(rows))))
        )
        silenced = notify.silence_reason(s, self.config, metrics, self.now)
        if trigger.silenced_by != silenced:
            trigger.silenced_by = silenced
        if not trigger.opened_sent and silenced is None and trigger.status == "open":
            self.send(trigger, "open")  # new, or its silence just ended
        elif not trigger.opened_sent and silenced is not None and trigger.last_notified_at is None:
            self.send(trigger, "open", silenced=silenced)  # logged as held, once

    def maybe_update(self, trigger: AlertTrigger) -> None:
        c = self.config
        if not trigger.opened_sent or trigger.silenced_by or trigger.acknowledged_at:
            return
        if "update" not in (c.notify_on or []):
            return
        grew = trigger.metric_count > (trigger.notified_metrics or 0)
        rose = (trigger.peak_score or 0) >= (trigger.notified_score or 0) + SCORE_STEP
        if not (grew or rose):
            return
        if trigger.last_notified_at is not None and (
            self.now - trigger.last_notified_at < (c.repeat_interval_s or 0)
        ):
            return  # looked at again next time; sent once the interval has passed
        self.send(trigger, "update")

    def close(self, trigger: AlertTrigger) -> None:
        trigger.status = "closed"
        trigger.end = trigger.updated
        if trigger.opened_sent and "close" in (self.config.notify_on or []):
            self.send(trigger, "close")

    def send(self, trigger: AlertTrigger, event: str, silenced: str | None = None) -> None:
        c = self.config
        if event != "close" and event not in (c.notify_on or []) and silenced is None:
            if event == "open":
                trigger.opened_sent = True  # nothing to send, but it counts as opened
            return
        rows = notify.enqueue(
            self.session,
            c,
            trigger,
            event,
            now=self.now,
            base_url=self.base_url,
            silenced=silenced,
        )
        trigger.last_notified_at = self.now
        if silenced is None:
            trigger.opened_sent = True
            trigger.notified_score = trigger.peak_score
            trigger.notified_metrics = trigger.metric_count
            self.queued += len(rows)


# ------------------------------------------------------------------ helpers


def anomaly_passes(cond: dict, a: MetricAnomaly) -> bool:
    """Whether one anomaly meets an anomaly configuration's conditions."""
    if a.peak_score < float(cond.get("min_score") or 0.0):
        return False
    duration = a.end - a.start + (a.interval or 0.0)
    if duration < float(cond.get("min_duration_s") or 0.0):
        return False
    if cond.get("min_delta_abs") is not None and abs(a.delta) < float(cond["min_delta_abs"]):
        return False
    if cond.get("min_delta_pct") is not None and (
        a.delta_pct is None or abs(a.delta_pct) < float(cond["min_delta_pct"])
    ):
        return False
    direction = cond.get("direction") or "both"
    if direction != "both" and a.direction != direction:
        return False
    volume = cond.get("volume")
    if volume:
        baseline = a.expected
        if volume.get("bound") == "above" and not baseline > float(volume["value"]):
            return False
        if volume.get("bound") == "below" and not baseline < float(volume["value"]):
            return False
    return True


def deviation(a: MetricAnomaly, session: Session | None = None) -> feedback.Deviation:
    """The anomaly as feedback judges it; the hour of day is the peak's hour in UTC
    (a scheduled job's blip recurs at the same one). Given a session, how long the
    metric's values stayed away from their level before is read too (native time
    scale only: :func:`augury.engines.detect.feedback.displacement`)."""
    interval = a.interval or feedback.DEFAULT_INTERVAL_S
    away_s = level_delta = None
    ongoing = False
    if session is not None and a.timescale == 0:
        rows = session.execute(
            select(MetricPoint.ts, MetricPoint.value)
            .where(
                MetricPoint.metric_id == a.metric_id,
                MetricPoint.ts >= a.start - feedback.LEVEL_LOOKBACK_S,
                MetricPoint.ts <= a.start + FEEDBACK_AFTER_S,
            )
            .order_by(MetricPoint.ts)
        ).all()
        away_s, level_delta, ongoing = feedback.displacement(
            [float(t) for t, _ in rows],
            [float(v) for _, v in rows],
            start=a.start,
            peak_ts=a.peak_ts,
            direction=a.direction,
            interval_s=interval,
        )
    return feedback.Deviation(
        direction=a.direction,
        delta=a.delta,
        delta_pct=a.delta_pct,
        duration_s=a.end - a.start + (a.interval or 0.0),
        peak_score=a.peak_score,
        hour_of_day=int(a.peak_ts // 3600 % 24),
        start=a.start,
        away_s=away_s,
        level_delta=level_delta,
        ongoing=ongoing,
    )


def verdict(
    profile: feedback.BenignProfile | None, a: MetricAnomaly, session: Session | None = None
) -> feedback.Verdict | None:
    """What feedback on this metric says about ``a``; None when there is none."""
    if profile is None or not profile.benign:
        return None
    return feedback.judge(
        profile, deviation(a, session), interval_s=a.interval or feedback.DEFAULT_INTERVAL_S
    )


def benign(
    profile: feedback.BenignProfile | None, a: MetricAnomaly, session: Session | None = None
) -> bool:
    """Whether feedback on this metric says an anomaly like ``a`` is not worth an alert."""
    v = verdict(profile, a, session)
    return v is not None and v.benign


def breaches(value: float, above: float | None, below: float | None) -> bool:
    return (above is not None and value > above) or (below is not None and value < below)


def group_key(group_by: list[str] | None, metric: Metric) -> str:
    if not group_by:
        return ""
    return json.dumps({k: metric.dimensions.get(k, "") for k in group_by}, sort_keys=True)


def render_title(title: str, metric: Metric, group: dict[str, str]) -> str:
    """``{{dimension}}`` and ``{{what}}`` placeholders, as Anodot's alert titles have."""
    values = {"what": metric.what, **metric.dimensions, **group}
    out = title
    for key, value in values.items():
        out = out.replace("{{" + key + "}}", str(value))
    return out[:200]
