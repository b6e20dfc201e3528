"""A client that hangs up mid-body is a client abort, not a server error."""

from __future__ import annotations

import logging
import socket
import time

import httpx

from tests.fixtures.app import LiveServer
from tests.fixtures.factories import make_key, signup


def _requests(app, route: str) -> dict[str, float]:
    counts: dict[str, float] = {}
    for family in app.state.registry.collect():
        for s in family.samples:
            if s.name == "augury_http_requests_total" and s.labels["route"] == route:
                counts[s.labels["status"]] = s.value
    return counts


def test_a_client_that_drops_mid_body_is_counted_as_an_abort(app, caplog):
    """Over real HTTP: headers and half a body, then the client hangs up."""
    server = LiveServer(app)
    uvicorn_errors = logging.getLogger("uvicorn.error")  # configured by LiveServer
    uvicorn_errors.addHandler(caplog.handler)
    try:
        with server, httpx.Client(base_url=server.url, timeout=60) as http:
            key = make_key(http, signup(http), ["ingest"])
            with (
                caplog.at_level(logging.INFO),
                socket.create_connection(("127.0.0.1", server.port)) as sock,
            ):
                sock.sendall(
                    b"POST /api/v2/write HTTP/1.1\r\nHost: augury\r\n"
                    + f"Authorization: Token {key}\r\n".encode()
                    + b"Content-Length: 1000\r\n\r\n"
                    + b"cpu v=1\n" * 50
                )
                sock.shutdown(socket.SHUT_RDWR)
            deadline = time.monotonic() + 20
            while not _requests(app, "/api/v2/write") and time.monotonic() < deadline:
                time.sleep(0.02)
    finally:
        uvicorn_errors.removeHandler(caplog.handler)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR], caplog.text
    assert _requests(app, "/api/v2/write") == {"499": 1.0}
