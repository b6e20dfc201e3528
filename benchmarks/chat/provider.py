"""A local OpenAI-compatible server for the chat benchmark (no real model runs here).

``POST /v1/chat/completions`` with ``"stream": true`` answers every request with the
same fixed reply, streamed as OpenAI streams it: server-sent events, one
``data: {chunk}`` per piece of :data:`REPLY` (``delay_s`` apart, before each piece),
a chunk with ``finish_reason: "stop"``, then, with ``stream_options.include_usage``,
a chunk with the ``usage`` figures, then ``data: [DONE]``. Without ``stream`` it
answers one JSON completion. A delay of 0 is a provider that answers at once, so what
augury adds on top of it is all that is measured.

:func:`time_direct` measures the provider itself, as augury's client would see it:
from sending the POST to its first ``data:`` chunk and to ``[DONE]``.
"""

from __future__ import annotations

import json
import statistics
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import numpy as np

PIECES = [
    "Thank you for",
    " your question.",
    " From what our",
    " notes say [1],",
    " the short answer",
    " is yes, within",
    " the limits that",
    " the passage above",
    " describes; the",
    " longer answer",
    " depends on the",
    " details of your",
    " case, which a",
    " person from our",
    " team can look",
    " at with you if",
    " you write to us.",
    " We hope this",
    " helps you today",
    " and thank you again.",
]
"""The fixed reply, in 20 pieces (one streamed chunk each)."""
REPLY = "".join(PIECES)
MODEL = "bench-1"


class FakeProvider:
    """The server, on a free port of 127.0.0.1, in a thread (a context manager)."""

    def __init__(self, delay_s: float = 0.0) -> None:
        self.delay_s = delay_s
        self.requests = 0
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        """The base URL a provider is configured with (``.../v1``)."""
        return f"http://127.0.0.1:{self.server.server_address[1]}/v1"

    def __enter__(self) -> FakeProvider:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()


def _usage(body: dict) -> dict[str, int]:
    prompt = sum(len(str(m.get("content", "")).split()) for m in body.get("messages", []))
    completion = len(REPLY.split())
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }


def _handler(fake: FakeProvider) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            size = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(size) or b"{}")
            fake.requests += 1
            if self.path != "/v1/chat/completions":
                return self._send(404, {"error": {"message": "no such route"}})
            if body.get("stream"):
                return self._stream(body)
            message = {"role": "assistant", "content": REPLY}
            self._send(
                200,
                {
                    "id": f"chatcmpl-{fake.requests}",
                    "object": "chat.completion",
                    "model": body.get("model"),
                    "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
                    "usage": _usage(body),
                },
            )

        def _stream(self, body: dict) -> None:
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            ident = f"chatcmpl-{fake.requests}"

            def chunk(payload: dict) -> None:
                self.wfile.write(f"data: {json.dumps(payload)}\n\n".encode())
                self.wfile.flush()

            try:
                for i, piece in enumerate(PIECES):
                    if fake.delay_s:
                        time.sleep(fake.delay_s)
                    delta = {"content": piece} if i else {"role": "assistant", "content": piece}
                    chunk({"id": ident, "choices": [{"index": 0, "delta": delta}]})
                chunk(
                    {"id": ident, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
                )
                if (body.get("stream_options") or {}).get("include_usage"):
                    chunk({"id": ident, "choices": [], "usage": _usage(body)})
                self.wfile.write(b"data: [DONE]\n\n")
                self.wfile.flush()
            except (BrokenPipeError, ConnectionResetError):
                pass

        def _send(self, status: int, payload: dict) -> None:
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

    return Handler


def summary(times_ms: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(times_ms), 2),
        "p95_ms": round(float(np.quantile(times_ms, 0.95)), 2),
    }


def time_direct(url: str, questions: list[str]) -> dict[str, Any]:
    """The provider's own time to its first chunk and to ``[DONE]``, per question (one
    streamed request each on a new connection, a prompt of the question alone, read
    line by line with ``httpx`` as augury reads it), the client made before the clock
    starts; and apart, what making an ``httpx.Client`` takes (augury makes one per
    call: its SSL context is loaded even for an http URL)."""
    first, done, setup = [], [], []
    for q in questions:
        body = {
            "model": MODEL,
            "messages": [{"role": "user", "content": q}],
            "stream": True,
            "stream_options": {"include_usage": True},
        }
        made = time.perf_counter()
        with httpx.Client(timeout=30) as client:
            started = time.perf_counter()
            setup.append((started - made) * 1000)
            with client.stream("POST", f"{url}/chat/completions", json=body) as response:
                response.raise_for_status()
                got_first = None
                for line in response.iter_lines():
                    if not line.startswith("data:"):
                        continue
                    if got_first is None:
                        got_first = time.perf_counter()
                    if line[5:].strip() == "[DONE]":
                        break
            ended = time.perf_counter()
        assert got_first is not None, "the provider sent nothing"
        first.append((got_first - started) * 1000)
        done.append((ended - started) * 1000)
    return {
        "first_chunk": summary(first),
        "done": summary(done),
        "client_setup": summary(setup),
        "n": len(questions),
    }
