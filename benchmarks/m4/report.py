"""Render the M4 results as a Markdown table and refresh it inside docs/benchmarks.md.

Only the block between the ``<!-- m4-table:start -->`` and ``<!-- m4-table:end -->``
markers of the ``## M4`` section is rewritten; other sections of the file (written by
other benchmarks) are never touched.
"""

from __future__ import annotations

from pathlib import Path

START, END = "<!-- m4-table:start -->", "<!-- m4-table:end -->"

LABELS = {
    "naive2": "Naive2 (M4 reference)",
    "seasonal_naive": "Seasonal naive (24)",
    "statsforecast_auto_ets": "statsforecast AutoETS (24)",
    "statsforecast_auto_theta": "statsforecast AutoTheta (24)",
    "augury_auto": "**augury `auto_forecast`**",
}


def _fmt(v, spec: str = ".3f") -> str:
    return "n/a" if v is None else format(v, spec)


def render_table(result: dict) -> str:
    """Markdown table of one results dict (as written to benchmarks/results/m4.json)."""
    lines = [
        f"M4 Hourly, {result['series']} series, horizon {result['horizon']}, "
        f"split `{result['split']}`; made by `{result['command']}` on "
        f"{result['generated_at']} ({result['machine']['cpus']} CPUs, "
        f"Python {result['machine']['python']}; total {result['total_wall_s']:.0f} s).",
        "",
        "| method | sMAPE | MASE | OWA | wall time (s) | peak RSS (MB) | coverage 80 % | "
        "coverage 95 % |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for name, row in result["methods"].items():
        lines.append(
            f"| {LABELS.get(name, name)} | {_fmt(row['smape'])} | {_fmt(row['mase'])} | "
            f"{_fmt(row['owa'])} | {_fmt(row['wall_s'], '.1f')} | "
            f"{_fmt(row['peak_rss_mb'], '.0f')} | {_fmt(row.get('coverage_80'), '.1f')} | "
            f"{_fmt(row.get('coverage_95'), '.1f')} |"
        )
    return "\n".join(lines)


def update_docs(path: Path, table: str) -> bool:
    """Replace the marked table block in ``path``; False when the markers are absent."""
    if not path.exists():
        return False
    text = path.read_text()
    if START not in text or END not in text:
        return False
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    path.write_text(f"{head}{START}\n{table}\n{END}{tail}")
    return True
