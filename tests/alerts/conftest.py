"""Real receivers on loopback for alert deliveries (an HTTP server that records what
it gets and can be told to fail) and the API key the alert tests send points with."""

from __future__ import annotations

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from tests.fixtures.factories import make_key


class Receiver:
    """An HTTP endpoint: ``answers`` is a queue of (status, delay_s) to play, then 200.
    While ``gate`` is cleared, every request waits (up to 60 s) until a test sets it:
    a receiver that hangs for exactly as long as the test needs, however slow the
    machine."""

    def __init__(self):
        self.requests: list[dict] = []
        self.answers: list[tuple[int, float]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):  # noqa: N802 (http.server's naming)
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                with receiver.lock:
                    status, delay = receiver.answers.pop(0) if receiver.answers else (200, 0.0)
                if delay:
                    time.sleep(delay)
                receiver.gate.wait(60)
                with receiver.lock:
                    receiver.requests.append(
                        {
                            "path": self.path,
                            "headers": {k.lower(): v for k, v in self.headers.items()},
                            "body": body,
                            "status": status,
                        }
                    )
                try:
                    self.send_response(status)
                    self.send_header("Content-Type", "application/json")
                    self.end_headers()
                    self.wfile.write(b'{"ok": true}' if status < 300 else b'{"error": "boom"}')
                except (BrokenPipeError, ConnectionResetError):
                    pass  # the sender gave up waiting (a timeout test)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def json(self, i: int = -1) -> dict:
        return json.loads(self.requests[i]["body"])

    def delivered(self) -> list[dict]:
        """Bodies of the requests answered 2xx, in order."""
        return [json.loads(r["body"]) for r in self.requests if r["status"] < 300]

    def close(self):
        self.gate.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.close()


@pytest.fixture
def key(client, owner):
    """An API key that ingests, reads and writes."""
    return make_key(client, owner, ["ingest", "read", "write"])
