"""Exports over HTTP: a saved chart in every format, a metric chart over the range asked
for, a dashboard as PDF (pages counted by pdftoppm and pypdf, page sizes, fonts
embedded, not blank) and as one self-contained HTML file."""

from __future__ import annotations

import io
import json
import re
import struct
import subprocess
import xml.etree.ElementTree as ET
from datetime import UTC, datetime

import pytest
from pypdf import PdfReader

from tests.dashboards.test_api import create, ingest, make_chart

EXTERNAL = re.compile(r"""(?:src|href)\s*=\s*["']?(?:https?:)?//""", re.I)


@pytest.fixture
def chart(client, owner) -> int:
    return make_chart(client, owner)


def export(client, account, path: str, **params):
    r = client.get(f"/api/v1/export/{path}", params=params, headers=account.headers)
    assert r.status_code == 200, r.text
    return r


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    return struct.unpack(">II", data[16:24])


def test_a_chart_in_every_format(client, owner, chart):
    png = export(client, owner, f"chart/{chart}", format="png", width=640, height=360)
    assert png.headers["content-type"] == "image/png"
    assert png_size(png.content) == (640, 360)
    assert 'filename="chart-' in png.headers["content-disposition"]

    svg = export(client, owner, f"chart/{chart}", format="svg").text
    root = ET.fromstring(svg)
    assert root.tag == "{http://www.w3.org/2000/svg}svg"
    labels = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert {"East", "North", "South"} <= set(labels)

    pdf = export(client, owner, f"chart/{chart}", format="pdf").content
    assert pdf[:5] == b"%PDF-" and len(PdfReader(io.BytesIO(pdf)).pages) == 1

    rows = export(client, owner, f"chart/{chart}", format="csv").text.splitlines()
    assert rows[0] == "region,sum_units" and sorted(rows[1:]) == ["East,7", "North,3", "South,5"]
    records = json.loads(export(client, owner, f"chart/{chart}", format="json").text)
    assert sorted(r["region"] for r in records) == ["East", "North", "South"]

    page = export(client, owner, f"chart/{chart}", format="html").text
    assert "<html" in page[:500].lower()
    # Self-contained: the renderer is inlined and nothing is fetched from elsewhere.
    assert not EXTERNAL.search(page)
    assert "cdn." not in page and "jsdelivr" not in page and "unpkg" not in page
    assert '"East"' in page


def test_the_dark_theme_paints_the_background(client, owner, chart):
    light = export(client, owner, f"chart/{chart}", format="svg").text
    dark = export(client, owner, f"chart/{chart}", format="svg", theme="dark").text
    assert 'fill="#111827"' in dark and 'fill="#111827"' not in light


def test_a_metric_chart_follows_the_range_asked_for(client, owner, frozen_clock):
    now = frozen_clock.now().timestamp()
    ingest(client, owner, [({"what": "latency"}, now - 60 * i, 100 + i % 5) for i in range(180)])
    metric = client.get("/api/v1/metrics", headers=owner.headers).json()["items"][0]["id"]
    start, end = now - 3600, now - 1800
    svg = export(
        client,
        owner,
        f"metric/{metric}",
        format="svg",
        resolution="native",
        **{"from": start, "to": end},
    ).text
    ticks = re.findall(r"<text[^>]*>(\d\d:\d\d)</text>", svg)
    assert len(ticks) >= 3
    day = datetime.fromtimestamp(start, UTC)
    for tick in ticks:
        hour, minute = map(int, tick.split(":"))
        at = day.replace(hour=hour, minute=minute, second=0).timestamp()
        if at < start - 43200:  # the range crossed midnight
            at += 86400
        assert start <= at <= end, (tick, ticks)
    # The line in the accent colour and the learned band in teal, as the UI draws them.
    assert 'stroke="#4f46e5"' in svg and "#0d9488" in svg

    png = export(
        client,
        owner,
        f"metric/{metric}",
        format="png",
        width=700,
        height=260,
        **{"from": start, "to": end},
    ).content
    assert png_size(png) == (700, 260)
    # graph.png (mails, chat) is the same drawing of the same range.
    graph = client.get(
        f"/api/v1/metrics/{metric}/graph.png",
        params={"from": start, "to": end, "width": 700, "height": 260},
        headers=owner.headers,
    )
    assert graph.content == png
    wider = export(client, owner, f"metric/{metric}", format="png", width=700, height=260).content
    assert wider != png
    points = json.loads(
        export(
            client,
            owner,
            f"metric/{metric}",
            format="json",
            resolution="native",
            **{"from": start, "to": end},
        ).text
    )
    assert all(start <= t < end for t in points["timestamps"]) and len(points["timestamps"]) == 30
    csv = export(client, owner, f"metric/{metric}", format="csv", **{"from": start, "to": end}).text
    assert csv.splitlines()[0] == "timestamp,value,lower,upper"


def pdftoppm_pages(tmp_path, pdf: bytes) -> list[bytes]:
    """The PDF's pages as grey PGM images, drawn by pdftoppm."""
    path = tmp_path / "export.pdf"
    path.write_bytes(pdf)
    subprocess.run(["pdftoppm", "-r", "24", "-gray", str(path), str(tmp_path / "p")], check=True)
    return [p.read_bytes() for p in sorted(tmp_path.glob("p*.pgm"))]


def ink(pgm: bytes) -> float:
    """The share of a PGM image's pixels that are not white."""
    header = re.match(rb"P5\s+(\d+)\s+(\d+)\s+(\d+)\s", pgm)
    pixels = pgm[header.end() :]
    return sum(1 for b in pixels if b < 240) / len(pixels)


def embedded(font) -> bool:
    """Whether a PDF font carries its glyphs (a subset of the font file)."""
    descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"].get_object()
    return "/FontFile2" in descriptor


@pytest.mark.parametrize(
    ("page_size", "points"), [("a4", (595, 842)), ("letter", (612, 792)), ("legal", (612, 1008))]
)
def test_a_dashboard_as_pdf(client, owner, chart, tmp_path, page_size, points):
    tiles = [
        {"type": "chart", "chart_id": chart, "x": 0, "y": 0, "w": 6, "h": 5},
        {"type": "markdown", "text": "# Notes\n- **first** point", "x": 6, "y": 0, "w": 6, "h": 5},
        # Twelve rows make a page: a tile at row 12 starts the second.
        {"type": "number", "expression": "what=none", "x": 0, "y": 12, "w": 4, "h": 2},
    ]
    d = create(client, owner, tiles=tiles).json()
    r = export(client, owner, f"dashboard/{d['id']}", format="pdf", page_size=page_size)
    assert r.headers["content-type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(r.content))
    assert len(reader.pages) == 2
    for page in reader.pages:
        assert sorted(round(float(v)) for v in page.mediabox[2:]) == sorted(points)
        fonts = page["/Resources"]["/Font"].values()
        assert fonts and all(embedded(f.get_object()) for f in fonts)
    text = reader.pages[0].extract_text()
    assert "Sales" in text and "Notes" in text and "first point" in text and "North" in text
    images = pdftoppm_pages(tmp_path, r.content)
    assert len(images) == 2
    assert ink(images[0]) > 0.02 and ink(images[1]) > 0.002
    bare = export(client, owner, f"dashboard/{d['id']}", include_charts="false").content
    text = PdfReader(io.BytesIO(bare)).pages[0].extract_text()
    assert "Sales" in text and "first point" in text and "North" not in text


def test_an_empty_dashboard_is_one_page_saying_so(client, owner):
    d = create(client, owner).json()
    reader = PdfReader(io.BytesIO(export(client, owner, f"dashboard/{d['id']}").content))
    assert len(reader.pages) == 1 and "no tiles" in reader.pages[0].extract_text()


def test_a_dashboard_as_one_html_file(client, owner, chart):
    tiles = [
        {"type": "chart", "chart_id": chart, "title": "Units by region"},
        {"type": "markdown", "text": "<script>alert(1)</script> plain"},
    ]
    d = create(client, owner, description="Weekly <b>numbers</b>", tiles=tiles).json()
    page = export(client, owner, f"dashboard/{d['id']}", format="html").text
    assert "Units by region" in page and "<svg" in page and "East" in page
    assert "<script" not in page and "&lt;script&gt;" in page and "&lt;b&gt;" in page
    assert not EXTERNAL.search(page)
    bare = export(client, owner, f"dashboard/{d['id']}", format="html", include_charts="false").text
    assert "Units by region" in bare and "East" not in bare
