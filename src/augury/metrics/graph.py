"""PNG charts of a series (Anomify's /image endpoints), drawn with matplotlib's Agg.

The figure is built with the object API (no pyplot global state), so concurrent
requests never share a figure.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.dates import AutoDateLocator, ConciseDateFormatter
from matplotlib.figure import Figure

from augury.metrics.service import Series

LINE = "#2563eb"
RANGE = "#93c5fd"
DPI = 100


def render(series: Series, *, width: int = 900, height: int = 300) -> bytes:
    """The series as PNG bytes, ``width`` x ``height`` pixels."""
    fig = Figure(figsize=(width / DPI, height / DPI), dpi=DPI)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    times = [datetime.fromtimestamp(t, UTC) for t in series.timestamps]
    if series.minimums is not None and times:
        ax.fill_between(
            times, series.minimums, series.maximums, color=RANGE, alpha=0.4, linewidth=0
        )
    if times:
        ax.plot(
            times, series.values, color=LINE, linewidth=1.2, marker="." if len(times) < 60 else None
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
