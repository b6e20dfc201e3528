"""The HTTP JSON connector against a real local HTTP server (http.server in a thread;
no mocks): JSONPath rows, nested fields, the window's placeholders as the server saw
them, refusals, and the header secret kept out of every message."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

import pytest

from augury.collectors import connectors
from augury.collectors.connectors import (
    BadResponse,
    ConfigInvalid,
    Limits,
    QueryFailed,
    QueryTimeout,
    SourceAuthFailed,
    SourceRefused,
    SourceUnreachable,
    TooManyRows,
    Window,
)
from augury.collectors.connectors.web import Fetcher
from tests.fixtures.app import free_port

KEY = "key-7f3a9c2e51b04d8a"
LIMITS = Limits(allowed_private_networks=("127.0.0.0/8",), timeout_s=5)
WINDOW = Window(datetime(2026, 1, 2, 3, 0, tzinfo=UTC), datetime(2026, 1, 2, 4, 0, tzinfo=UTC))
ROWS = {
    "meta": {"page": 1},
    "data": [
        {"ts": 1767322800, "city": "Madrid", "stats": {"clicks": 3, "geo": {"lat": 40.4}}},
        {"ts": 1767322860, "city": "Oslo", "stats": {"clicks": 5}, "tags": ["a", "b"]},
        {"ts": 1767322920, "city": "Rome", "stats": {"clicks": 8, "geo": {"lat": 41.9}}},
    ],
}


@dataclass
class Seen:
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]


@dataclass
class Api:
    url: str
    seen: list[Seen] = field(default_factory=list)

    def connect(self, limits: Limits = LIMITS, method: str = "GET", key: str = KEY):
        config = connectors.check_config("http", {"url": self.url, "method": method}, {})
        return connectors.connect("http", config, {"headers": {"X-Api-Key": key}}, limits)


def _handler(api: Api) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def _answer(self, status: int, body: bytes, kind: str = "application/json", **headers):
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            for name, value in headers.items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)

        def _serve(self) -> None:
            parts = urlsplit(self.path)
            api.seen.append(
                Seen(self.command, parts.path, parse_qs(parts.query), dict(self.headers))
            )
            sent_key = self.headers.get("X-Api-Key", "")
            route = parts.path.removeprefix("/api")
            if route == "/echo-error":  # a server that repeats the credential it got
                return self._answer(500, f"bad key {sent_key} for you".encode(), "text/plain")
            if sent_key != KEY:
                return self._answer(401, json.dumps({"error": f"unknown key {sent_key}"}).encode())
            if route in ("", "/"):
                return self._answer(200, json.dumps(ROWS).encode())
            if route == "/v1/rows":
                return self._answer(200, json.dumps(ROWS).encode())
            if route == "/numbers":
                return self._answer(200, b'{"data": [1, 2]}')
            if route == "/html":
                return self._answer(200, b"<html>maintenance</html>", "text/html")
            if route == "/slow":
                time.sleep(1.5)
                with contextlib.suppress(OSError):  # the client gave up
                    self._answer(200, b"{}")
                return None
            if route == "/moved":
                return self._answer(302, b"", Location="https://elsewhere.example.com/x")
            if route == "/big":
                return self._answer(200, b"[" + b"0," * 5000 + b"0]")
            return self._answer(404, b'{"error": "no such route"}')

        do_GET = _serve  # noqa: N815 - http.server's names
        do_POST = _serve  # noqa: N815

        def log_message(self, *args) -> None:
            pass

    return Handler


@pytest.fixture(scope="module")
def api() -> Iterator[Api]:
    api = Api("")
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(api))
    api.url = f"http://127.0.0.1:{server.server_address[1]}/api"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield api
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=10)


def test_json_path_picks_rows_and_nested_fields_are_flattened(api):
    conn = api.connect()
    try:
        frame = conn.read({"path": "/v1/rows", "jsonPath": "$.data[*]"}, WINDOW, limit=10)
    finally:
        conn.close()
    assert frame["city"].tolist() == ["Madrid", "Oslo", "Rome"]
    assert frame["stats.clicks"].tolist() == [3, 5, 8]
    assert frame["stats.geo.lat"].tolist()[0] == 40.4
    assert frame["tags"].tolist()[1] == '["a", "b"]'
    seen = api.seen[-1]
    assert seen.method == "GET" and seen.path == "/api/v1/rows"
    assert seen.headers["X-Api-Key"] == KEY and seen.headers["Accept"] == "application/json"
    # a filter picks some of them
    some = api.connect().read(
        {"path": "v1/rows", "jsonPath": "$.data[?(@.stats.clicks > 4)]"}, WINDOW, limit=10
    )
    assert some["city"].tolist() == ["Oslo", "Rome"]


def test_placeholders_are_the_window_as_the_server_saw_them(api):
    path = "/v1/rows?from={start}&to={end}&since={start_iso}&until={end_iso}&keep={other}"
    conn = api.connect(method="POST")
    conn.read({"path": path, "jsonPath": "$.data[*]"}, WINDOW, limit=10)
    seen = api.seen[-1]
    assert seen.method == "POST"
    assert seen.query == {
        "from": ["1767322800"],
        "to": ["1767326400"],
        "since": ["2026-01-02T03:00:00Z"],
        "until": ["2026-01-02T04:00:00Z"],
        "keep": ["{other}"],
    }
    # a preview asks for the last hour
    before = time.time()
    latest = conn.read({"path": path, "jsonPath": "$.data[*]"}, None, limit=2)
    assert latest["city"].tolist() == ["Oslo", "Rome"]
    query = api.seen[-1].query
    start, end = int(query["from"][0]), int(query["to"][0])
    assert end - start == 3600 and before - 1 <= end <= time.time()


def test_row_limit(api):
    conn = api.connect()
    with pytest.raises(TooManyRows, match="more than 2 rows"):
        conn.read({"path": "/v1/rows", "jsonPath": "$.data[*]"}, WINDOW, limit=2)
    with pytest.raises(TooManyRows):
        api.connect(Limits(allowed_private_networks=("127.0.0.1",), max_rows=1)).read(
            {"path": "/v1/rows", "jsonPath": "$.data[*]"}, WINDOW, limit=10
        )


def test_answers_that_are_not_rows(api):
    conn = api.connect()
    with pytest.raises(BadResponse, match=r"matched a number at data\.\[0\], not an object"):
        conn.read({"path": "/numbers", "jsonPath": "$.data[*]"}, WINDOW, limit=10)
    with pytest.raises(BadResponse, match=r"it is a list: pick its items with \$\.data\[\*\]"):
        conn.read({"path": "/v1/rows", "jsonPath": "$.data"}, WINDOW, limit=10)
    with pytest.raises(BadResponse, match="answered text/html that is not JSON") as err:
        conn.read({"path": "/html", "jsonPath": "$[*]"}, WINDOW, limit=10)
    assert "maintenance" in err.value.message
    with pytest.raises(BadResponse, match="redirects are not followed"):
        conn.read({"path": "/moved", "jsonPath": "$[*]"}, WINDOW, limit=10)
    with pytest.raises(QueryFailed, match="HTTP 404"):
        conn.read({"path": "/nowhere", "jsonPath": "$[*]"}, WINDOW, limit=10)
    assert conn.read({"path": "/v1/rows", "jsonPath": "$.none[*]"}, WINDOW, limit=10).empty


def test_refused_credentials_and_the_secret_never_shown(api):
    wrong = "wrong-key-0123456789"
    with pytest.raises(SourceAuthFailed) as err:
        api.connect(key=wrong).read({"path": "/v1/rows", "jsonPath": "$[*]"}, WINDOW, limit=10)
    assert err.value.code == "source_auth" and "HTTP 401" in err.value.message
    assert wrong not in err.value.message
    # a server that repeats the key in its error: the message quotes it scrubbed
    with pytest.raises(SourceUnreachable) as err:
        api.connect().read({"path": "/echo-error", "jsonPath": "$[*]"}, WINDOW, limit=10)
    assert "HTTP 500" in err.value.message and "bad key *** for you" in err.value.message
    assert KEY not in err.value.message
    # a bearer token is scrubbed whole and alone
    limits = connectors.connect(
        "http", {"url": api.url}, {"headers": {"Authorization": "Bearer tok-123456"}}, LIMITS
    ).limits
    assert limits.scrub("got Bearer tok-123456 / tok-123456") == "got *** / ***"
    # a header value that is not one line is refused without repeating it
    with pytest.raises(ConfigInvalid) as bad:
        connectors.check_config("http", {"url": api.url}, {"headers": {"X-Api-Key": "a\nb"}})
    assert bad.value.field == "secret.headers.X-Api-Key" and "a\nb" not in bad.value.message


def test_timeout_and_size_cap(api):
    slow = api.connect(Limits(allowed_private_networks=("127.0.0.1",), timeout_s=0.5))
    with pytest.raises(QueryTimeout, match="no whole answer within 0.5 s"):
        slow.read({"path": "/slow", "jsonPath": "$[*]"}, WINDOW, limit=10)
    fetcher = Fetcher(LIMITS)
    try:
        with pytest.raises(BadResponse, match="is over"):
            fetcher.request("GET", f"{api.url}/big", headers={"X-Api-Key": KEY}, max_bytes=1_000)
        assert len(fetcher.request("GET", f"{api.url}/big", max_bytes=100_000).body) < 100
    finally:
        fetcher.close()


def test_private_hosts_need_the_allow_list(api):
    for url in (api.url, api.url.replace("127.0.0.1", "localhost")):
        config = connectors.check_config("http", {"url": url}, {})
        conn = connectors.connect("http", config, {"headers": {"X-Api-Key": KEY}}, Limits())
        with pytest.raises(SourceRefused) as err:
            conn.read({"path": "/v1/rows", "jsonPath": "$.data[*]"}, WINDOW, limit=10)
        assert "AUGURY_COLLECT__ALLOWED_PRIVATE_NETWORKS" in err.value.message
    closed = connectors.check_config("http", {"url": f"http://127.0.0.1:{free_port()}"}, {})
    with pytest.raises(SourceUnreachable, match="cannot be reached"):
        connectors.connect("http", closed, {}, LIMITS).test()


def test_probe_lists_the_arrays_of_objects(api):
    probe = api.connect().test()
    assert probe.detail.startswith(f"{api.url} answered HTTP 200 (application/json")
    assert probe.objects == ["$.data[*]"]
    assert api.seen[-1].path == "/api"
    with pytest.raises(SourceAuthFailed):
        api.connect(key="nope-nope").test()


def test_config_and_stream_checks():
    assert connectors.check_config("http", {"url": "https://api.example.com/v2/"}, {}) == {
        "url": "https://api.example.com/v2",
        "method": "GET",
    }
    assert connectors.secret_fields("http") == ("headers",)
    for config, secret, field_name in [
        ({}, {}, "config.url"),
        ({"url": "https://x.example.com", "method": "PUT"}, {}, "config.method"),
        ({"url": "https://x.example.com", "body": "{}"}, {}, "config.body"),
        ({"url": "https://x.example.com?key=1"}, {}, "config.url"),
        ({"url": "https://x.example.com"}, {"token": "t"}, "secret.token"),
        ({"url": "https://x.example.com"}, {"headers": ["a"]}, "secret.headers"),
        ({"url": "https://x.example.com"}, {"headers": {"Bad Name": "v"}}, "secret.headers"),
        ({"url": "https://x.example.com"}, {"headers": {"Host": "v"}}, "secret.headers"),
    ]:
        with pytest.raises(ConfigInvalid) as err:
            connectors.check_config("http", config, secret)
        assert err.value.field == field_name, (config, secret)
    connectors.check_stream("http", {"path": "/m?from={start}", "jsonPath": "$.data[*]"})
    for stream, field_name in [
        ({"path": "/m"}, "jsonPath"),
        ({"jsonPath": "$.data[*"}, "jsonPath"),
        ({"path": "https://evil.example.com/", "jsonPath": "$"}, "path"),
        ({"path": "/a b", "jsonPath": "$"}, "path"),
    ]:
        with pytest.raises(ConfigInvalid) as err:
            connectors.check_stream("http", stream)
        assert err.value.field == field_name, stream
