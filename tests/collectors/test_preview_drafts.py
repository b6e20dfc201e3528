"""The builder's first preview of an HTTP stream, through the API: a draft with no
``schema`` and no ``timeDefinition`` reads the endpoint's rows (its window the
preview's default range) and answers them alone, as for files and SQL
(``test_streams_api``); given both, the same rows make metrics."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.collectors.api_world import API

ROWS = {"data": [{"ts": 1767322800, "shop": {"city": "Oslo"}, "clicks": 3}]}


@pytest.fixture
def settings(settings):
    """The app's settings, letting sources reach this machine (the test's endpoint)."""
    collect = settings.collect.model_copy(update={"allowed_private_networks": ["127.0.0.0/8"]})
    return settings.model_copy(update={"collect": collect})


class _Rows(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        body = json.dumps(ROWS).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def endpoint() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Rows)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_an_http_draft_without_schema_or_time_gets_its_rows(client, owner, endpoint):
    body = {"name": "api", "type": "http", "config": {"url": endpoint}}
    r = client.post(f"{API}/data-sources", json=body, headers=owner.headers)
    assert r.status_code == 201, r.text
    draft = {
        "dataSourceId": r.json()["id"],
        "path": "/rows?from={start}",
        "jsonPath": "$.data[*]",
        "pollingInterval": "hourly",
    }
    r = client.post(f"{API}/data-streams/preview", json=draft, headers=owner.headers)
    assert r.status_code == 200, r.text
    preview = r.json()
    assert "error" not in preview, preview
    assert preview["columns"] == ["ts", "shop.city", "clicks"]
    assert preview["rows"] == [[1767322800, "Oslo", 3]]
    assert preview["metrics"] == [] and preview["rowsRead"] == 1
    draft["schema"] = {
        "columns": [
            {"name": "clicks", "type": "metric", "sourceColumn": "clicks"},
            {"name": "city", "type": "dimension", "sourceColumn": "shop.city"},
        ]
    }
    draft["timeDefinition"] = {"path": "ts", "timePattern": "epoch_seconds"}
    preview = client.post(f"{API}/data-streams/preview", json=draft, headers=owner.headers).json()
    assert [(m["what"], m["dimensions"]) for m in preview["metrics"]] == [
        ("clicks", {"city": "Oslo"})
    ]
