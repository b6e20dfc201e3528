"""Tables of streaming detection: learned state, point scores, anomalies and controls.

Detection runs per metric and time scale (``0`` = the metric's native resolution,
``3600`` = hourly rollup, ``86400`` = daily rollup). ``detector_state`` holds the
detector's learned state (a float64 vector, ~2.6 KB) and the last point it scored;
``metric_score`` keeps each scored point's score and learned band for charts.
A ``metric_anomaly`` is one metric's run of anomalous points; anomalies of metrics
with the same ``what`` that overlap in time share an ``anomaly_group``, which is the
Anomaly object of the API (as Anodot groups them).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, LargeBinary, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from augury import clock
from augury.store.base import Base, CreatedMixin, IdMixin, OrgMixin

TIMESCALES = {0: "native", 3600: "1h", 86400: "1d"}
TIMESCALE_BY_NAME = {name: seconds for seconds, name in TIMESCALES.items()}


class DetectorState(Base):
    __tablename__ = "detector_state"

    metric_id: Mapped[int] = mapped_column(
        ForeignKey("metric.id", ondelete="CASCADE"), primary_key=True
    )
    timescale: Mapped[int] = mapped_column(Integer, primary_key=True)
    state: Mapped[bytes] = mapped_column(LargeBinary)
    last_ts: Mapped[float | None] = mapped_column(Float)
    """The newest point (or closed bucket start) this detector has scored."""
    open_anomaly_id: Mapped[int | None] = mapped_column(Integer)
    points: Mapped[int] = mapped_column(Integer, default=0)
    late_points: Mapped[int] = mapped_column(Integer, default=0)
    """Points that arrived more than a day (detection.LATE_WINDOW_S) older than
    ``last_ts``: stored and rolled up, never scored. Later ones within the window are
    scored when they arrive."""
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)


class PointScore(Base):
    __tablename__ = "metric_score"
    __table_args__ = {"sqlite_with_rowid": False}

    metric_id: Mapped[int] = mapped_column(
        ForeignKey("metric.id", ondelete="CASCADE"), primary_key=True
    )
    timescale: Mapped[int] = mapped_column(Integer, primary_key=True)
    ts: Mapped[float] = mapped_column(Float, primary_key=True)
    score: Mapped[float] = mapped_column(Float)
    """0-100."""
    expected: Mapped[float | None] = mapped_column(Float)
    lower: Mapped[float | None] = mapped_column(Float)
    upper: Mapped[float | None] = mapped_column(Float)


class AnomalyGroup(IdMixin, CreatedMixin, OrgMixin, Base):
    """The Anomaly object: metrics of one ``what`` that were anomalous together."""

    __tablename__ = "anomaly_group"
    __table_args__ = (Index("ix_anomaly_group_org_start", "org_id", "start"),)

    what: Mapped[str] = mapped_column(String(255))
    timescale: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(10), default="open")
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    peak_score: Mapped[float] = mapped_column(Float)
    metric_count: Mapped[int] = mapped_column(Integer, default=1)
    direction: Mapped[str] = mapped_column(String(10))
    """up, down, or both when its metrics went different ways."""
    delta: Mapped[float] = mapped_column(Float)
    """Delta of its strongest metric at that metric's peak."""
    delta_pct: Mapped[float | None] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)


class MetricAnomaly(IdMixin, CreatedMixin, OrgMixin, Base):
    """One metric's anomalous interval."""

    __tablename__ = "metric_anomaly"
    # The alert evaluator looks at an organization's open anomalies every second.
    __table_args__ = (Index("ix_metric_anomaly_org_state", "org_id", "state"),)

    group_id: Mapped[int] = mapped_column(
        ForeignKey("anomaly_group.id", ondelete="CASCADE"), index=True
    )
    metric_id: Mapped[int] = mapped_column(ForeignKey("metric.id", ondelete="CASCADE"), index=True)
    timescale: Mapped[int] = mapped_column(Integer)
    type: Mapped[str] = mapped_column(String(20), default="transient")
    """transient (a spike or dip that went back) or pattern_change (a lasting change)."""
    state: Mapped[str] = mapped_column(String(10), default="open")
    start: Mapped[float] = mapped_column(Float)
    end: Mapped[float] = mapped_column(Float)
    points: Mapped[int] = mapped_column(Integer, default=1)
    interval: Mapped[float] = mapped_column(Float)
    """Seconds between the metric's points at this time scale (for the duration)."""
    peak_score: Mapped[float] = mapped_column(Float)
    peak_ts: Mapped[float] = mapped_column(Float)
    peak_value: Mapped[float] = mapped_column(Float)
    expected: Mapped[float] = mapped_column(Float)
    delta: Mapped[float] = mapped_column(Float)
    delta_pct: Mapped[float | None] = mapped_column(Float)
    direction: Mapped[str] = mapped_column(String(10))
    closing: Mapped[int] = mapped_column(Integer, default=0)
    """Calm points in a row since the last anomalous one (it closes at CLOSE_RUN)."""
    episode: Mapped[dict | None] = mapped_column(default=None)
    """Its "seen before" episode (``engines.detect.similar.Episode.to_dict``), kept once
    it is closed and the points after it are in, so comparing it reads no points."""


class LearningPause(OrgMixin, Base):
    """Stop learning: the metric's points are scored but do not change what is normal."""

    __tablename__ = "learning_pause"

    metric_id: Mapped[int] = mapped_column(
        ForeignKey("metric.id", ondelete="CASCADE"), primary_key=True
    )
    until: Mapped[float | None] = mapped_column(Float)
    """Epoch seconds when learning resumes by itself; ``None``: until resumed."""
    created_by_id: Mapped[int | None] = mapped_column(Integer)


class Exclusion(IdMixin, CreatedMixin, OrgMixin, Base):
    """Points to ignore (neither scored nor learned), as Anomify's exclusions.

    Metrics matching ``expression`` (empty: all), within ``[start, end)`` when given.
    """

    __tablename__ = "detection_exclusion"

    expression: Mapped[str] = mapped_column(Text, default="")
    start: Mapped[float | None] = mapped_column(Float)
    end: Mapped[float | None] = mapped_column(Float)
    reason: Mapped[str | None] = mapped_column(String(500))


class SensitivityRule(IdMixin, CreatedMixin, OrgMixin, Base):
    """Sensitivity for metrics matching ``expression``; the newest matching rule wins."""

    __tablename__ = "sensitivity_rule"

    expression: Mapped[str] = mapped_column(Text, default="")
    sensitivity: Mapped[str] = mapped_column(String(10))
    """low, medium (the default) or high."""


class AnomalyPattern(IdMixin, CreatedMixin, OrgMixin, Base):
    """A saved episode (Anomify's pattern): one metric anomaly's normalised shape, with
    a name; later anomalies like it are labelled with it (``anomaly_match``).

    The shape is stored, not re-read: the pattern outlives its source anomaly and the
    points that retention removes.
    """

    __tablename__ = "anomaly_pattern"
    __table_args__ = (Index("ix_anomaly_pattern_org_name", "org_id", "name", unique=True),)

    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    anomaly_id: Mapped[int | None] = mapped_column(
        ForeignKey("anomaly_group.id", ondelete="SET NULL"), index=True
    )
    """The Anomaly (group) it was saved from."""
    metric_anomaly_id: Mapped[int | None] = mapped_column(
        ForeignKey("metric_anomaly.id", ondelete="SET NULL")
    )
    metric_id: Mapped[int | None] = mapped_column(
        ForeignKey("metric.id", ondelete="SET NULL"), index=True
    )
    what: Mapped[str] = mapped_column(String(255))
    """The source metric's ``what`` (scope ``what`` matches metrics with the same)."""
    timescale: Mapped[int] = mapped_column(Integer)
    scope: Mapped[str] = mapped_column(String(10), default="what")
    """Which later anomalies it is compared with: ``metric`` (its metric's), ``what``
    (metrics with the same ``what``) or ``all`` (every metric), at its time scale."""
    threshold: Mapped[float] = mapped_column(Float, default=0.8)
    """Similarity (0-1) from which a later anomaly is labelled with it."""
    enabled: Mapped[bool] = mapped_column(default=True)
    shape: Mapped[list] = mapped_column()
    """The episode's normalised shape (``engines.detect.similar.Episode.shape``)."""
    summary: Mapped[dict] = mapped_column()
    """``points``, ``direction``, ``peak`` (band units), ``duration_s``, ``start``, ``end``."""
    matched_until: Mapped[datetime] = mapped_column(default=clock.now)
    """Anomalies changed (recorded, grown or closed) up to this time were compared."""
    label_from: Mapped[datetime] = mapped_column(default=clock.now)
    """Anomalies changed before this time are never compared (its save, less the
    backfill asked for)."""
    created_by_id: Mapped[int | None] = mapped_column(Integer)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)


class AnomalyMatch(IdMixin, CreatedMixin, OrgMixin, Base):
    """A later metric anomaly that matched a saved pattern, with its similarity."""

    __tablename__ = "anomaly_match"
    __table_args__ = (
        Index("ix_anomaly_match_pattern_anomaly", "pattern_id", "metric_anomaly_id", unique=True),
    )

    pattern_id: Mapped[int] = mapped_column(ForeignKey("anomaly_pattern.id", ondelete="CASCADE"))
    metric_anomaly_id: Mapped[int] = mapped_column(
        ForeignKey("metric_anomaly.id", ondelete="CASCADE"), index=True
    )
    anomaly_id: Mapped[int] = mapped_column(
        ForeignKey("anomaly_group.id", ondelete="CASCADE"), index=True
    )
    """The Anomaly (group) of the metric anomaly, as the API names it."""
    metric_id: Mapped[int] = mapped_column(ForeignKey("metric.id", ondelete="CASCADE"))
    similarity: Mapped[float] = mapped_column(Float)
    updated_at: Mapped[datetime] = mapped_column(default=clock.now)
