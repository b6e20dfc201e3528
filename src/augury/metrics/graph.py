"""PNG charts of a series (Anomify's /image endpoints), drawn with matplotlib's Agg.

The figure is built with the object API (no pyplot global state), so concurrent
requests never share a figure.
"""

from __future__ import annotations

import io
import math
from datetime import UTC, datetime

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter, date2num
from matplotlib.figure import Figure

from augury.metrics.service import Series

LINE = "#2563eb"
RANGE = "#93c5fd"
BAND = "#a7f3d0"
ANOMALY = "#ef4444"
DPI = 100
DRAW_LIMIT = 1e300
"""Values are drawn clipped to +-1e300: matplotlib's axis range (max - min) overflows
for a series that spans +-1e308, which is a legal float gauge."""


def _drawable(values):
    if values is None:
        return None
    return [
        math.nan if v is None or not math.isfinite(v) else max(-DRAW_LIMIT, min(DRAW_LIMIT, v))
        for v in values
    ]


def render(
    series: Series,
    *,
    width: int = 900,
    height: int = 300,
    expected=None,
    lower=None,
    upper=None,
    anomalies=(),
    **_ignored,
) -> bytes:
    """The series as PNG bytes, ``width`` x ``height`` pixels; with the learned band
    (``lower``/``upper``, aligned to the points) and the anomalies shaded when given."""
    fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    times = [datetime.fromtimestamp(t, UTC) for t in series.timestamps]
    # The Axes API takes matplotlib's date numbers (days as floats); xaxis_date below
    # gives the axis the date converter that plotting datetimes themselves would.
    x = date2num(times)
    if series.minimums is not None and times:
        ax.fill_between(
            x,
            _drawable(series.minimums),
            _drawable(series.maximums),
            color=RANGE,
            alpha=0.4,
            linewidth=0,
        )
    if times and lower is not None and upper is not None:
        lo, hi = _drawable(lower), _drawable(upper)
        ax.fill_between(x, lo, hi, color=BAND, alpha=0.35, linewidth=0, label="normal")
    for anomaly in anomalies:
        start = datetime.fromtimestamp(anomaly["start"], UTC)
        end = datetime.fromtimestamp(max(anomaly["end"], anomaly["start"] + 1), UTC)
        ax.axvspan(date2num(start), date2num(end), color=ANOMALY, alpha=0.25, linewidth=0)
        ax.axvline(date2num(start), color=ANOMALY, alpha=0.6, linewidth=0.8)
    if anomalies or times:
        ax.xaxis_date(UTC)
    if times:
        ax.plot(
            x,
            _drawable(series.values),
            color=LINE,
            linewidth=1.2,
            marker="." if len(times) < 60 else None,
        )
        locator = AutoDateLocator()
        ax.xaxis.set_major_locator(locator)
        ax.xaxis.set_major_formatter(ConciseDateFormatter(locator))
    else:
        ax.text(0.5, 0.5, "no data in range", ha="center", va="center", transform=ax.transAxes)
        ax.set_xticks([])
    title = series.metric.name if len(series.metric.name) <= 90 else series.metric.name[:87] + "..."
    ax.set_title(f"{title}  ({series.resolution})", fontsize=9, loc="left")
    ax.grid(True, alpha=0.3)
    ax.tick_params(labelsize=8)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()
