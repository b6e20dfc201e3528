"""The "Seen before" partial and its module fit together: every element the module
reads is in the partial, and the partial loads the module from the versioned path (the
page that includes it, anomaly.html, is checked in a browser by its own tests)."""

from __future__ import annotations

import re

from augury.web import router as web

MODULE = web.STATIC / "js" / "seen-before.js"


def _render(anomaly_id: int) -> str:
    template = web.TEMPLATES.get_template("anomaly_seen_before.html")
    return template.render(anomaly_id=anomaly_id, modules=web.MODULES_URL)


def test_the_partial_names_its_anomaly_and_loads_its_module():
    html = _render(42)
    assert 'data-anomaly-id="42"' in html
    assert f'<script type="module" src="{web.MODULES_URL}/js/seen-before.js"></script>' in html
    assert "<script>" not in html  # no inline script: the UI's CSP refuses them


def test_every_element_the_module_reads_is_in_the_partial():
    html = _render(1)
    ids = set(re.findall(r'id="([\w-]+)"', html))
    read = set(re.findall(r'\$\("#([\w-]+)"\)', MODULE.read_text()))
    assert read and read <= ids, read - ids


def test_the_module_calls_the_routes_it_documents():
    source = MODULE.read_text()
    assert '"/anomalies/" + id + "/similar"' in source
    assert 'api("/patterns", { method: "POST"' in source
