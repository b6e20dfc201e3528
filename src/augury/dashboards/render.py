"""Charts and dashboards as files: PNG, SVG, PDF and self-contained HTML.

Vega-Lite specs become images with vl-convert (the Vega renderer compiled into a
Python wheel: no browser, no network). A metric chart is the spec
:func:`augury.metrics.graph.metric_spec` builds, the same one ``graph.png`` draws.

A dashboard PDF is one SVG per page, converted by vl-convert (fonts embedded) and
joined with pypdf: the grid's 12 columns span the page's width, and a page holds one
"screen" of grid rows (:data:`ROWS_PER_PAGE`); a tile that would cross the page's
bottom starts the next page. The HTML export is one file with every chart inlined as
SVG: it opens offline and loads nothing.
"""

from __future__ import annotations

import html
import io
import re
from datetime import UTC, datetime
from typing import Any

import vl_convert
from pypdf import PdfWriter

from augury.dashboards.schemas import COLUMNS
from augury.metrics.graph import ACCENT, FONT, THEMES, metric_spec, themed

BORDER = "#e4e7ee"
PAGE_SIZES = {"a4": (842.0, 595.0), "letter": (792.0, 612.0), "legal": (1008.0, 612.0)}
"""Page sizes in points, landscape (dashboards are wider than tall)."""
ROWS_PER_PAGE = 12
"""Grid rows on one page: about one screen of the UI's grid."""
MARGIN = 28.0
HEADER = 34.0
GAP = 8.0
MEDIA = {
    "png": "image/png",
    "svg": "image/svg+xml",
    "pdf": "application/pdf",
    "html": "text/html; charset=utf-8",
    "csv": "text/csv",
    "json": "application/json",
}


# --- one chart ----------------------------------------------------------------------------


def render_spec(spec: dict, fmt: str) -> bytes:
    """A Vega-Lite spec as PNG, SVG, PDF or a self-contained HTML page."""
    if fmt == "png":
        return vl_convert.vegalite_to_png(spec, scale=1)
    if fmt == "svg":
        return vl_convert.vegalite_to_svg(spec).encode()
    if fmt == "pdf":
        return vl_convert.vegalite_to_pdf(spec)
    if fmt == "html":
        return vl_convert.vegalite_to_html(spec, bundle=True).encode()
    raise ValueError(f"not an image format: {fmt}")


def forecast_spec(data: dict, *, width: int, height: int, theme: str = "light") -> dict:
    """A forecast tile: the history line, then the forecast's mean dashed with its
    widest interval as a band."""
    series, forecast = data.get("series") or {}, data["forecast"]
    hist = [
        {"t": t * 1000, "v": v}
        for t, v in zip(series.get("timestamps") or [], series.get("values") or [], strict=False)
    ]
    widest = forecast["levels"][-1] if forecast["levels"] else None
    ahead = []
    for i, t in enumerate(forecast["timestamps"]):
        row: dict[str, Any] = {"t": t * 1000, "m": forecast["mean"][i]}
        if widest:
            row["lo"], row["hi"] = widest["lower"][i], widest["upper"][i]
        ahead.append(row)
    x = {"field": "t", "type": "temporal", "title": None, "scale": {"type": "utc"}}
    layers: list[dict] = []
    if widest:
        layers.append(
            {
                "data": {"values": ahead},
                "mark": {"type": "area", "color": "#f59e0b", "opacity": 0.18},
                "encoding": {
                    "x": x,
                    "y": {"field": "lo", "type": "quantitative", "title": None},
                    "y2": {"field": "hi"},
                },
            }
        )
    layers.append(
        {
            "data": {"values": hist},
            "mark": {"type": "line", "color": ACCENT, "strokeWidth": 1.75},
            "encoding": {"x": x, "y": {"field": "v", "type": "quantitative", "title": None}},
        }
    )
    layers.append(
        {
            "data": {"values": ahead},
            "mark": {"type": "line", "color": "#d97706", "strokeDash": [5, 4], "strokeWidth": 1.75},
            "encoding": {"x": x, "y": {"field": "m", "type": "quantitative", "title": None}},
        }
    )
    return themed({"layer": layers}, width, height, theme)


# --- a dashboard --------------------------------------------------------------------------


def _esc(text: Any) -> str:
    return html.escape(str(text), quote=True)


def _fmt(value: float | None) -> str:
    if value is None:
        return "–"
    if abs(value) >= 1e6 or (value != 0 and abs(value) < 1e-3):
        return f"{value:.3g}"
    return f"{value:,.2f}".rstrip("0").rstrip(".")


def _when(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")


def _plain_lines(text: str) -> list[tuple[str, str]]:
    """Markdown as (style, line) pairs: headings, bullets and paragraphs; inline marks
    (``**``, ``_``, backticks, links) read as their text."""
    out = []
    for raw in text.splitlines():
        line = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", raw.strip())
        line = re.sub(r"(\*\*|__|`)", "", line)
        if not line:
            out.append(("gap", ""))
        elif line.startswith("#"):
            out.append(("head", line.lstrip("#").strip()))
        elif line[:2] in ("- ", "* "):
            out.append(("bullet", "• " + line[2:]))
        else:
            out.append(("text", line))
    return out


def _wrap(text: str, chars: int) -> list[str]:
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > chars:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}".strip()
    return [*lines, line] if line else lines or [""]


def _text_lines(lines: list[tuple[str, str]], w: float, h: float, colors: dict) -> str:
    out: list[str] = []
    y = 18.0
    for style, line in lines:
        size = 14.0 if style == "head" else 11.0
        for part in _wrap(line, max(10, int(w / (size * 0.55)))) if line else [""]:
            if y > h - 4:
                return "".join(out)
            weight = ' font-weight="bold"' if style == "head" else ""
            out.append(
                f'<text x="0" y="{y:.1f}" font-size="{size}"{weight} '
                f'fill="{colors["text"]}">{_esc(part)}</text>'
            )
            y += size * 1.45
    return "".join(out)


def _nested(svg_text: str, x: float, y: float) -> str:
    """A standalone SVG document as an element placed at ``x``, ``y``."""
    body = re.sub(r"^<\?xml[^>]*>\s*", "", svg_text.strip())
    return body.replace("<svg ", f'<svg x="{x:.1f}" y="{y:.1f}" ', 1)


def tile_svg(data: dict, w: float, h: float, theme: str) -> str:
    """What one tile shows, as SVG markup in a ``w`` x ``h`` box at the origin."""
    colors = THEMES[theme]
    kind = data["type"]
    iw, ih = int(w), int(h)
    try:
        if kind == "chart":
            body = data.get("chart_data") or {}
            spec = body.get("chart")
            if not spec or body.get("chart_type") == "table":
                rows = [" · ".join(str(c) for c in r) for r in (body.get("rows") or [])[:40]]
                head = " · ".join(body.get("columns") or [])
                return _text_lines([("head", head)] + [("text", r) for r in rows], w, h, colors)
            untitled = {k: v for k, v in spec.items() if k != "title"}  # the tile's title says it
            return _nested(vl_convert.vegalite_to_svg(themed(untitled, iw, ih, theme)), 0, 0)
        if kind == "metric":
            if not data.get("series"):
                return _text_lines([("text", "No metric matches this tile.")], w, h, colors)
            spec = metric_spec(data["series"], width=iw, height=ih, theme=theme, titled=False)
            return _nested(vl_convert.vegalite_to_svg(spec), 0, 0)
        if kind == "forecast":
            if not data.get("forecast"):
                return _text_lines([("text", "No forecast yet.")], w, h, colors)
            spec = forecast_spec(data, width=iw, height=ih, theme=theme)
            return _nested(vl_convert.vegalite_to_svg(spec), 0, 0)
    except ValueError as exc:  # vl-convert refuses a spec it cannot draw
        return _text_lines([("text", f"This chart cannot be drawn: {exc}")], w, h, colors)
    if kind == "number":
        size = max(18.0, min(h * 0.45, w / 5))
        caption = f"{data.get('stat', 'last')} of {data.get('name') or 'no metric'}"
        return (
            f'<text x="{w / 2:.1f}" y="{h / 2 + size / 3:.1f}" font-size="{size:.1f}" '
            f'font-weight="bold" text-anchor="middle" fill="{colors["text"]}">'
            f"{_esc(_fmt(data.get('value')))}</text>"
            f'<text x="{w / 2:.1f}" y="{min(h - 4, h / 2 + size):.1f}" font-size="11" '
            f'text-anchor="middle" fill="{colors["muted"]}">{_esc(caption)}</text>'
        )
    if kind == "anomalies":
        items = data.get("anomalies") or []
        lines = [
            ("text", f"{a['what']} · {_when(a['start'])} · score {a['peak_score']:.0f}")
            for a in items
        ] or [("text", "No anomalies in this range.")]
        return _text_lines(lines, w, h, colors)
    return _text_lines(_plain_lines(data.get("text") or ""), w, h, colors)


def _tile_title(tile: dict, data: dict) -> str:
    if tile.get("title") or data.get("title"):
        return tile.get("title") or data["title"]
    names = {"metric": "Metric", "number": "Number", "anomalies": "Anomalies"}
    if tile["type"] in ("metric", "number", "anomalies"):
        return tile.get("expression") or names[tile["type"]]
    if tile["type"] == "forecast":
        return data.get("name") or "Forecast"
    return ""


def pages(tiles: list[dict]) -> list[list[tuple[dict, int]]]:
    """Tiles by page, each with its row on the page: in reading order, a new page when
    a tile would cross the bottom of the current one (a tile taller than a page is
    clipped to one)."""
    out: list[list[tuple[dict, int]]] = []
    top = None
    for tile in sorted(tiles, key=lambda t: (t["y"], t["x"])):
        h = min(tile["h"], ROWS_PER_PAGE)
        if top is None or tile["y"] + h > top + ROWS_PER_PAGE:
            top = tile["y"]
            out.append([])
        out[-1].append((tile, tile["y"] - top))
    return out


CHARTS = ("chart", "metric", "forecast")
"""Tiles that are charts: ``include_charts=False`` keeps only their titles."""


def dashboard_pdf(
    name: str,
    tiles: list[dict],
    datas: dict[str, dict],
    page_size: str,
    theme: str = "light",
    include_charts: bool = True,
) -> bytes:
    """The dashboard as PDF, one page per screen of tiles (an empty one says so)."""
    width, height = PAGE_SIZES[page_size]
    col = (width - 2 * MARGIN) / COLUMNS
    row = (height - 2 * MARGIN - HEADER) / ROWS_PER_PAGE
    colors = THEMES[theme]
    writer = PdfWriter()
    grouped = pages(tiles) or [[]]
    for number, page in enumerate(grouped, 1):
        parts = [
            f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" font-family="{FONT}">',
            f'<rect width="{width}" height="{height}" fill="{colors["background"]}"/>',
            f'<text x="{MARGIN}" y="{MARGIN + 14}" font-size="16" font-weight="bold" '
            f'fill="{colors["text"]}">{_esc(name)}</text>',
            f'<text x="{width - MARGIN}" y="{MARGIN + 14}" font-size="10" text-anchor="end" '
            f'fill="{colors["muted"]}">page {number} of {len(grouped)}</text>',
        ]
        if not page:
            parts.append(
                f'<text x="{MARGIN}" y="{MARGIN + HEADER + 20}" font-size="12" '
                f'fill="{colors["muted"]}">This dashboard has no tiles.</text>'
            )
        for tile, r in page:
            x = MARGIN + tile["x"] * col
            y = MARGIN + HEADER + r * row
            w = tile["w"] * col - GAP
            h = min(tile["h"], ROWS_PER_PAGE) * row - GAP
            data = datas.get(tile["id"]) or {"type": "markdown", "text": ""}
            title = _tile_title(tile, data)
            head = 20.0 if title else 0.0
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{w:.1f}" height="{h:.1f}" rx="6" '
                f'fill="{colors["background"]}" stroke="{BORDER}"/>'
            )
            if title:
                parts.append(
                    f'<text x="{x + 10:.1f}" y="{y + 16:.1f}" font-size="11" font-weight="bold" '
                    f'fill="{colors["text"]}">{_esc(title[:120])}</text>'
                )
            inner = ""
            if include_charts or tile["type"] not in CHARTS:
                inner = tile_svg(data, w - 20, h - 14 - head, theme)
            parts.append(
                f'<svg x="{x + 10:.1f}" y="{y + 6 + head:.1f}" width="{w - 20:.1f}" '
                f'height="{h - 14 - head:.1f}" overflow="hidden">{inner}</svg>'
            )
        parts.append("</svg>")
        writer.append(io.BytesIO(vl_convert.svg_to_pdf("".join(parts))))
    writer.add_metadata({"/Title": name, "/Producer": "augury"})
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def dashboard_html(
    name: str,
    description: str,
    tiles: list[dict],
    datas: dict[str, dict],
    include_charts: bool = True,
    theme: str = "light",
) -> str:
    """The dashboard as one HTML file: the grid in CSS, each tile's chart inlined as SVG
    (``include_charts=False``: the tiles' titles and text only). Nothing is loaded."""
    colors = THEMES[theme]
    cells = []
    for tile in sorted(tiles, key=lambda t: (t["y"], t["x"])):
        data = datas.get(tile["id"]) or {"type": "markdown", "text": ""}
        w, h = tile["w"] * 96, tile["h"] * 72
        inner = ""
        if include_charts or tile["type"] not in CHARTS:
            inner = (
                f'<svg xmlns="http://www.w3.org/2000/svg" width="100%" '
                f'viewBox="0 0 {w} {h}">{tile_svg(data, w, h, theme)}</svg>'
            )
        cells.append(
            f'<section class="tile" style="grid-column:{tile["x"] + 1}/span {tile["w"]};'
            f'grid-row:{tile["y"] + 1}/span {tile["h"]}"><h2>{_esc(_tile_title(tile, data))}'
            f"</h2>{inner}</section>"
        )
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{_esc(name)}</title><style>"
        f"body{{margin:24px;font-family:{FONT};background:{colors['background']};"
        f"color:{colors['text']}}}"
        ".grid{display:grid;grid-template-columns:repeat(12,1fr);grid-auto-rows:72px;gap:12px}"
        f".tile{{border:1px solid {BORDER};border-radius:10px;padding:10px;overflow:hidden}}"
        ".tile h2{font-size:13px;margin:0 0 6px}"
        f"p.lede{{color:{colors['muted']}}}</style></head><body>"
        f'<h1>{_esc(name)}</h1><p class="lede">{_esc(description)}</p>'
        f'<main class="grid">{"".join(cells)}</main></body></html>'
    )
