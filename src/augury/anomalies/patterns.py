""" "Seen before": the past episodes most like an anomaly, saved patterns, and the later
anomalies labelled with them (Anomify's patterns and matches).

An *episode* is a metric anomaly with ``similar.CONTEXT`` points before it, read from
the metric store with the detector's band (``engines/detect/similar.py`` makes its
shape and compares two). A *pattern* stores one episode's shape under a name; the
periodic task :class:`PatternMatcher` compares each anomaly recorded, grown or closed
since a pattern's ``matched_until`` with it, off the detection path, and keeps an
``anomaly_match`` row while the similarity is at least the pattern's threshold.

Changes of patterns are audited here with the acting principal; functions never
commit (the caller's unit of work does), except the periodic task's own session.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from datetime import datetime, timedelta

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from augury import clock
from augury.accounts.principal import Principal
from augury.anomalies import service as anomalies_service
from augury.anomalies.models import (
    TIMESCALES,
    AnomalyGroup,
    AnomalyMatch,
    AnomalyPattern,
    MetricAnomaly,
)
from augury.anomalies.pattern_schemas import PatternCreate, PatternUpdate
from augury.audit import service as audit
from augury.engines.detect import similar
from augury.errors import Conflict, ValidationFailed
from augury.events import service as events
from augury.metrics import service as metrics_service
from augury.metrics.models import Metric
from augury.store.owned import get_owned
from augury.store.pagination import PageParams, paginate

log = logging.getLogger(__name__)

MAX_SPAN_POINTS = 1000
"""Points of an anomaly read for its shape (a longer one is read from its start)."""
MAX_CANDIDATES = 200
"""Past anomalies (the newest) an anomaly is compared with for "seen before"."""
OVERLAP_S = 120.0
"""The matcher looks this far before a pattern's ``matched_until`` again: an anomaly
stamped just before a run may commit after it (a rescan only rewrites the same row)."""
MAX_PER_RUN = 500
"""Changed anomalies one organization's patterns are compared with per run; the rest
wait for the next run (the watermark stops at the last one compared)."""
_FIELDS = ("name", "description", "scope", "threshold", "enabled", "metric_anomaly_id")


def link(anomaly_id: int) -> str:
    return f"/anomalies/{anomaly_id}"


# ------------------------------------------------------------------------ episodes


def read_episode(
    session: Session, anomaly: MetricAnomaly, metric: Metric
) -> tuple[similar.Episode, float, float] | None:
    """The episode of ``anomaly`` from the stored points and band, with the start and
    end of what was read; None when its points are no longer stored.

    A closed anomaly's episode is final once the ``similar.AFTER`` points after it are
    stored: it is kept on the anomaly then (written with the caller's unit of work) and
    read from there afterwards, so "seen before" reads no points of past anomalies."""
    if anomaly.episode is not None:
        return similar.Episode.from_dict(anomaly.episode), anomaly.start, anomaly.end
    interval = anomaly.interval if anomaly.interval > 0 else 1.0
    end = min(anomaly.end, anomaly.start + (MAX_SPAN_POINTS - 1) * interval)
    s = metrics_service.timeseries(
        session=session,
        metric=metric,
        start=anomaly.start - (similar.CONTEXT + 0.5) * interval,
        end=end + (similar.AFTER + 0.5) * interval,
        resolution=anomalies_service.RESOLUTION_OF[anomaly.timescale],
    )
    ts = s.timestamps
    first = next((i for i, t in enumerate(ts) if t >= anomaly.start), None)
    if first is None:
        return None
    last = max(i for i, t in enumerate(ts) if t <= end or i == first)
    band = anomalies_service.band(session, metric.id, anomaly.timescale, ts) or {}
    stored = similar.episode(
        s.values,
        start=first,
        end=last,
        expected=band.get("expected"),
        lower=band.get("lower"),
        upper=band.get("upper"),
    ).to_dict()
    if anomaly.state == "closed" and ts[-1] >= end + (similar.AFTER - 0.5) * interval:
        anomaly.episode = stored
    # In the stored precision whether kept or not: a comparison gives the same score
    # before and after the episode is kept.
    return similar.Episode.from_dict(stored), anomaly.start, anomaly.end


def _member(
    session: Session, group: AnomalyGroup, metric_id: int | None
) -> tuple[MetricAnomaly, Metric]:
    parts = anomalies_service.members(session, [group])[group.id]
    if metric_id is None:
        if not parts:
            raise ValidationFailed("The anomaly has no metrics.")
        return parts[0]  # the strongest
    for anomaly, metric in parts:
        if metric.id == metric_id:
            return anomaly, metric
    raise ValidationFailed(
        "That metric is not part of the anomaly.",
        details={"metric_ids": sorted({m.id for _, m in parts})},
    )


def similar_episodes(
    *,
    session: Session,
    org_id: int,
    group: AnomalyGroup,
    metric_id: int | None = None,
    limit: int = 10,
    min_similarity: float = 0.5,
) -> dict:
    """The past anomalies (before this one started) of the same metric and of metrics
    with the same ``what``, at the same time scale, most similar first; and the saved
    patterns this anomaly matched."""
    anomaly, metric = _member(session, group, metric_id)
    read = read_episode(session, anomaly, metric)
    out: dict = {
        "anomaly_id": group.id,
        "metric_anomaly_id": anomaly.id,
        "metric_id": metric.id,
        "episode": read[0].to_dict() if read else {},
        "items": [],
        "candidates": 0,
        "patterns": pattern_labels(session, org_id, group.id),
    }
    if read is None:
        return out
    target = read[0]
    rows = session.execute(
        select(MetricAnomaly, Metric)
        .join(Metric, Metric.id == MetricAnomaly.metric_id)
        .where(
            MetricAnomaly.org_id == org_id,
            MetricAnomaly.timescale == anomaly.timescale,
            MetricAnomaly.group_id != group.id,
            MetricAnomaly.start < anomaly.start,
            (MetricAnomaly.metric_id == metric.id) | (Metric.what == metric.what),
        )
        .order_by(MetricAnomaly.start.desc(), MetricAnomaly.id.desc())
        .limit(MAX_CANDIDATES)
    ).all()
    kept: list[tuple[MetricAnomaly, Metric]] = []
    episodes: list[similar.Episode] = []
    for past, past_metric in reversed(rows):  # oldest first: ties go to the newer
        got = read_episode(session, past, past_metric)
        if got is not None:
            kept.append((past, past_metric))
            episodes.append(got[0])
    out["candidates"] = len(episodes)
    for i, score in similar.rank(target, episodes, limit=limit, min_similarity=min_similarity):
        past, past_metric = kept[i]
        out["items"].append(
            {
                "anomaly_id": past.group_id,
                "metric_anomaly_id": past.id,
                "metric_id": past_metric.id,
                "metric_name": past_metric.name,
                "same_metric": past_metric.id == metric.id,
                "similarity": round(score, 4),
                "start": past.start,
                "end": past.end,
                "duration": past.end - past.start + past.interval,
                "points": past.points,
                "direction": past.direction,
                "peak_score": past.peak_score,
                "delta": past.delta,
                "state": past.state,
                "link": link(past.group_id),
            }
        )
    return out


def pattern_labels(session: Session, org_id: int, anomaly_id: int) -> list[dict]:
    """The saved patterns the anomaly's metrics matched, best first."""
    rows = session.execute(
        select(AnomalyMatch, AnomalyPattern.name)
        .join(AnomalyPattern, AnomalyPattern.id == AnomalyMatch.pattern_id)
        .where(AnomalyMatch.org_id == org_id, AnomalyMatch.anomaly_id == anomaly_id)
        .order_by(AnomalyMatch.similarity.desc(), AnomalyMatch.id)
    ).all()
    return [
        {
            "pattern_id": m.pattern_id,
            "name": name,
            "metric_id": m.metric_id,
            "similarity": round(m.similarity, 4),
        }
        for m, name in rows
    ]


# ------------------------------------------------------------------------ patterns


def _audit(session, principal, action, row, *, before=None, after=None) -> None:
    audit.record_change(
        session=session,
        principal=principal,
        action=action,
        target_type="pattern",
        target_id=row.id,
        before=before,
        after=after,
    )


def _name_free(session: Session, org_id: int, name: str, but: int | None = None) -> None:
    stmt = select(AnomalyPattern.id).where(
        AnomalyPattern.org_id == org_id, AnomalyPattern.name == name
    )
    found = session.scalar(stmt)
    if found is not None and found != but:
        raise Conflict(f"A pattern named {name!r} exists.", details={"pattern_id": found})


def create(*, session: Session, principal: Principal, body: PatternCreate) -> AnomalyPattern:
    """Save an anomaly's episode (its strongest metric's, or ``metric_id``'s) as a
    named pattern; the anomalies touched in its last ``backfill_days`` and every later
    one are compared with it (the matcher's watermark starts that far back)."""
    group = anomalies_service.get_or_raise(
        session=session, org_id=principal.org_id, anomaly_id=body.anomaly_id
    )
    anomaly, metric = _member(session, group, body.metric_id)
    _name_free(session, principal.org_id, body.name)
    read = read_episode(session, anomaly, metric)
    if read is None:
        raise ValidationFailed("The anomaly's points are no longer stored.")
    ep = read[0]
    summary = {
        "points": ep.points,
        "direction": "up" if ep.direction > 0 else "down",
        "peak": round(ep.peak, 4),
        "duration_s": anomaly.end - anomaly.start + anomaly.interval,
        "start": anomaly.start,
        "end": anomaly.end,
    }
    now = clock.now()
    row = AnomalyPattern(
        org_id=principal.org_id,
        name=body.name,
        description=body.description,
        anomaly_id=group.id,
        metric_anomaly_id=anomaly.id,
        metric_id=metric.id,
        what=metric.what,
        timescale=anomaly.timescale,
        scope=body.scope,
        threshold=body.threshold,
        enabled=body.enabled,
        shape=ep.to_dict()["shape"],
        summary=summary,
        matched_until=now - timedelta(days=body.backfill_days),
        label_from=now - timedelta(days=body.backfill_days),
        created_by_id=principal.user_id,
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    session.flush()
    _audit(session, principal, "pattern.create", row, after=audit.snapshot(row, _FIELDS))
    return row


def get_or_raise(*, session: Session, org_id: int, pattern_id: int) -> AnomalyPattern:
    return get_owned(session, AnomalyPattern, org_id, pattern_id, "Pattern")


def list_page(
    *,
    session: Session,
    org_id: int,
    page: PageParams,
    metric_id: int | None = None,
    enabled: bool | None = None,
) -> tuple[list[AnomalyPattern], int]:
    """The organization's patterns, newest first."""
    stmt = select(AnomalyPattern).where(AnomalyPattern.org_id == org_id)
    if metric_id is not None:
        stmt = stmt.where(AnomalyPattern.metric_id == metric_id)
    if enabled is not None:
        stmt = stmt.where(AnomalyPattern.enabled == enabled)
    return paginate(session, stmt.order_by(AnomalyPattern.id.desc()), page)


def update(
    *, session: Session, principal: Principal, row: AnomalyPattern, body: PatternUpdate
) -> AnomalyPattern:
    """Change the fields given. A higher threshold drops the matches below it (a lower
    one labels only anomalies compared from now on)."""
    before = audit.snapshot(row, _FIELDS)
    changes = body.model_dump(exclude_unset=True)
    for field in ("name", "scope", "threshold", "enabled"):
        if changes.get(field, ...) is None:
            raise ValidationFailed(f"'{field}' cannot be null.")
    if "name" in changes:
        _name_free(session, row.org_id, changes["name"], but=row.id)
    for field, value in changes.items():
        setattr(row, field, value)
    if "threshold" in changes:
        session.execute(
            delete(AnomalyMatch).where(
                AnomalyMatch.pattern_id == row.id, AnomalyMatch.similarity < row.threshold
            )
        )
    row.updated_at = clock.now()
    after = audit.snapshot(row, _FIELDS)
    _audit(session, principal, "pattern.update", row, before=before, after=after)
    return row


def delete_pattern(*, session: Session, principal: Principal, row: AnomalyPattern) -> None:
    """Delete the pattern and its matches."""
    _audit(session, principal, "pattern.delete", row, before=audit.snapshot(row, _FIELDS))
    session.execute(delete(AnomalyMatch).where(AnomalyMatch.pattern_id == row.id))
    session.delete(row)


def match_counts(session: Session, pattern_ids: list[int]) -> dict[int, int]:
    if not pattern_ids:
        return {}
    rows = session.execute(
        select(AnomalyMatch.pattern_id, func.count())
        .where(AnomalyMatch.pattern_id.in_(pattern_ids))
        .group_by(AnomalyMatch.pattern_id)
    ).all()
    return {pid: int(n) for pid, n in rows}


def read(row: AnomalyPattern, match_count: int) -> dict:
    return {
        "id": row.id,
        "name": row.name,
        "description": row.description,
        "anomaly_id": row.anomaly_id,
        "metric_anomaly_id": row.metric_anomaly_id,
        "metric_id": row.metric_id,
        "what": row.what,
        "timescale": TIMESCALES[row.timescale],
        "scope": row.scope,
        "threshold": row.threshold,
        "enabled": row.enabled,
        "summary": row.summary,
        "shape": row.shape,
        "match_count": match_count,
        "label_from": row.label_from,
        "created_by_id": row.created_by_id,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


def matches_page(
    *, session: Session, pattern: AnomalyPattern, page: PageParams
) -> tuple[list[dict], int]:
    """The anomalies labelled with the pattern, newest first."""
    stmt = (
        select(AnomalyMatch.id)
        .join(MetricAnomaly, MetricAnomaly.id == AnomalyMatch.metric_anomaly_id)
        .where(AnomalyMatch.pattern_id == pattern.id, AnomalyMatch.org_id == pattern.org_id)
        .order_by(MetricAnomaly.start.desc(), AnomalyMatch.id.desc())
    )
    ids, total = paginate(session, stmt, page)
    if not ids:
        return [], total
    rows = session.execute(
        select(AnomalyMatch, MetricAnomaly, Metric.name)
        .join(MetricAnomaly, MetricAnomaly.id == AnomalyMatch.metric_anomaly_id)
        .join(Metric, Metric.id == AnomalyMatch.metric_id)
        .where(AnomalyMatch.id.in_(ids))
    ).all()
    by_id = {m.id: (m, a, name) for m, a, name in rows}
    items = []
    for mid in ids:
        m, a, name = by_id[mid]
        items.append(
            {
                "id": m.id,
                "pattern_id": m.pattern_id,
                "anomaly_id": m.anomaly_id,
                "metric_anomaly_id": m.metric_anomaly_id,
                "metric_id": m.metric_id,
                "metric_name": name,
                "similarity": round(m.similarity, 4),
                "start": a.start,
                "end": a.end,
                "direction": a.direction,
                "peak_score": a.peak_score,
                "state": a.state,
                "link": link(m.anomaly_id),
                "created_at": m.created_at,
                "updated_at": m.updated_at,
            }
        )
    return items, total


# ------------------------------------------------------------------------ labelling


def _applies(pattern: AnomalyPattern, anomaly: MetricAnomaly, metric: Metric) -> bool:
    if anomaly.id == pattern.metric_anomaly_id or anomaly.timescale != pattern.timescale:
        return False
    if pattern.scope == "metric":
        return anomaly.metric_id == pattern.metric_id
    if pattern.scope == "what":
        return metric.what == pattern.what
    return True


def label(session: Session, now: datetime | None = None) -> int:
    """Compare the anomalies recorded, grown or closed since each enabled pattern's
    ``matched_until`` (at first, its backfill's start) with it: a match row where the
    similarity reaches its threshold, none where it does not (an open anomaly that grew
    away from it loses its label). Returns how many match rows were written or removed."""
    now = now or clock.now()
    patterns = list(
        session.scalars(
            select(AnomalyPattern)
            .where(AnomalyPattern.enabled.is_(True))
            .order_by(AnomalyPattern.org_id, AnomalyPattern.id)
        )
    )
    by_org: dict[int, list[AnomalyPattern]] = defaultdict(list)
    for p in patterns:
        by_org[p.org_id].append(p)
    changed = 0
    overlap = timedelta(seconds=OVERLAP_S)
    for org_id, pats in by_org.items():
        since = min(p.matched_until for p in pats) - overlap
        rows = session.execute(
            select(MetricAnomaly, Metric, AnomalyGroup.updated_at)
            .join(AnomalyGroup, AnomalyGroup.id == MetricAnomaly.group_id)
            .join(Metric, Metric.id == MetricAnomaly.metric_id)
            .where(
                MetricAnomaly.org_id == org_id,
                AnomalyGroup.updated_at > since,
                AnomalyGroup.updated_at <= now,
                MetricAnomaly.timescale.in_({p.timescale for p in pats}),
            )
            .order_by(AnomalyGroup.updated_at, MetricAnomaly.id)
            .limit(MAX_PER_RUN + 1)
        ).all()
        until = now
        if len(rows) > MAX_PER_RUN:
            rows = rows[:MAX_PER_RUN]
            until = rows[-1][2]
        for anomaly, metric, touched in rows:
            due = [
                p
                for p in pats
                if touched > max(p.matched_until - overlap, p.label_from)
                and _applies(p, anomaly, metric)
            ]
            if due:
                changed += _label_one(session, anomaly, metric, due)
        for p in pats:
            if until > p.matched_until:
                p.matched_until = until
    return changed


def _label_one(
    session: Session, anomaly: MetricAnomaly, metric: Metric, patterns: list[AnomalyPattern]
) -> int:
    read = read_episode(session, anomaly, metric)
    if read is None:
        return 0
    ep = read[0]
    existing = {
        m.pattern_id: m
        for m in session.scalars(
            select(AnomalyMatch).where(
                AnomalyMatch.metric_anomaly_id == anomaly.id,
                AnomalyMatch.pattern_id.in_([p.id for p in patterns]),
            )
        )
    }
    changed = 0
    for p in patterns:
        stored = similar.Episode.from_dict({"shape": p.shape, **p.summary})
        score = similar.similarity(stored, ep)
        row = existing.get(p.id)
        if score >= p.threshold:
            if row is None:
                session.add(
                    AnomalyMatch(
                        org_id=anomaly.org_id,
                        pattern_id=p.id,
                        metric_anomaly_id=anomaly.id,
                        anomaly_id=anomaly.group_id,
                        metric_id=anomaly.metric_id,
                        similarity=score,
                    )
                )
                _matched_event(session, p, anomaly, metric, score)
                changed += 1
            elif abs(row.similarity - score) > 1e-9:
                row.similarity, row.updated_at = score, clock.now()
                changed += 1
        elif row is not None:
            session.delete(row)
            changed += 1
    return changed


def _matched_event(
    session: Session,
    pattern: AnomalyPattern,
    anomaly: MetricAnomaly,
    metric: Metric,
    similarity: float,
) -> None:
    """The platform event ``anomaly.matched``, when an anomaly metric gets a pattern's
    label (a later change of its similarity is not news)."""
    events.emit(
        session,
        org_id=anomaly.org_id,
        type="anomaly.matched",
        data={
            "pattern_id": pattern.id,
            "pattern": pattern.name,
            "anomaly_id": anomaly.group_id,
            "metric_anomaly_id": anomaly.id,
            "metric_id": metric.id,
            "metric": metric.name,
            "similarity": round(similarity, 4),
            "start": float(anomaly.start),
            "link": link(anomaly.group_id),
        },
    )


class PatternMatcher:
    """Labels anomalies with the saved patterns they match: a periodic task of the
    stream processor, after detection (a comparison reads an anomaly's points, which
    the detection consumer must not wait for)."""

    name = "anomalies.patterns"

    def __init__(self, every_s: float = 30.0):
        self.every_s = every_s

    def run(self, db) -> int:
        with db.session() as session:
            return label(session)
