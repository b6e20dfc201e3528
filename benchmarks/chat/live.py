"""Time to the first streamed token through a real server: ``augury serve`` (uvicorn)
on a free port of 127.0.0.1 with a temporary SQLite database, in a
subprocess; the benchmark is its HTTP client.

It signs up, creates a use case (``strict: false``, so every question goes to the
provider when it has one) whose knowledge is the benchmark's 543 passages (added as
sentences, in two requests), and asks ``questions`` of the benchmark's questions
(evenly spaced over the set), each in a chat of its own, with ``POST
/api/v1/chat/chats/{id}/messages`` and ``Accept: text/event-stream``. Per question it
times, from sending the POST, the first ``token`` event and the ``answer`` event (the
answer stored). Asked:

1. offline (the use case has no provider);
2. through a local OpenAI-compatible server (:mod:`benchmarks.chat.provider`, started
   here, admitted by ``AUGURY_ANALYTICS__ALLOWED_PRIVATE_NETWORKS``) that streams a
   fixed 309-character reply in 20 chunks with no delay, so what is measured is
   augury's own overhead (retrieval, the prompt, the call, the hold-back, the stored
   answer); the provider's own time to its first chunk and to ``[DONE]`` is measured
   directly too;
3. the same provider dripping its chunks ``drip_ms`` apart (fewer questions): augury
   holds a reply :data:`~augury.chat.services.answer.HOLD_CHARS` behind what arrived
   and sends it in steps of at least ``STEP_CHARS``, so the first token leaves only
   once 208 characters have come (the 14th chunk of 20 here).

A few questions are asked first and not timed (the server's embedder and index warm
up), for each configuration.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from unittest import mock

import httpx

from augury.chat.services import answer as chat_answer
from benchmarks.chat.provider import MODEL, PIECES, REPLY, FakeProvider, summary, time_direct
from benchmarks.ingest.run import serve

API = "/api/v1"
WARMUP = 5
PASSWORD = "correct horse battery"


@contextmanager
def server(workdir: Path) -> Iterator[str]:
    """``augury serve`` that may reach a provider on 127.0.0.1; its URL."""
    env = {"AUGURY_ANALYTICS__ALLOWED_PRIVATE_NETWORKS": "127.0.0.1"}
    with mock.patch.dict(os.environ, env), serve(workdir) as s:
        yield s.url


def _ok(r: httpx.Response, code: int = 200) -> Any:
    if r.status_code != code:
        raise RuntimeError(f"{r.request.method} {r.request.url.path}: {r.status_code} {r.text}")
    return r.json()


def setup(http: httpx.Client, passages: list[str]) -> tuple[int, int]:
    """Sign up (the client keeps the token) and make the use case: its id and the
    number of passages its index holds (a long sentence may be cut in two)."""
    tokens = _ok(
        http.post(
            f"{API}/auth/signup",
            json={
                "email": "bench@example.com",
                "password": PASSWORD,
                "name": "bench",
                "organization_name": "Bench",
            },
        ),
        201,
    )
    http.headers["Authorization"] = f"Bearer {tokens['access_token']}"
    use_case = _ok(http.post(f"{API}/chat/use-cases", json={"name": "bench", "strict": False}), 201)
    for i in range(0, len(passages), 500):
        _ok(
            http.post(
                f"{API}/chat/use-cases/{use_case['id']}/knowledge",
                json={"sentences": passages[i : i + 500]},
                timeout=300,
            ),
            201,
        )
    index = _ok(http.get(f"{API}/chat/use-cases/{use_case['id']}"))["index"]
    if index["status"] != "ready" or index["passages"] < len(passages):
        raise RuntimeError(f"the index is not what was added: {index}")
    return use_case["id"], index["passages"]


def add_provider(http: httpx.Client, url: str, name: str) -> int:
    provider = _ok(
        http.post(
            f"{API}/ai/providers",
            json={"name": name, "base_url": url, "model": MODEL, "api_key": "sk-bench"},
        ),
        201,
    )
    return provider["id"]


def ask(http: httpx.Client, use_case_id: int, question: str) -> dict[str, Any]:
    """One question in a new chat: ms to the first ``token`` event and to ``answer``."""
    chat = _ok(http.post(f"{API}/chat/chats", json={"use_case_id": use_case_id}), 201)["chat"]
    first = answered = None
    engine, text, event = None, "", None
    started = time.perf_counter()
    with http.stream(
        "POST",
        f"{API}/chat/chats/{chat['id']}/messages",
        json={"text": question},
        headers={"Accept": "text/event-stream"},
    ) as r:
        if r.status_code not in (200, 201):  # a stream answers 200
            raise RuntimeError(f"POST messages: {r.status_code} {r.read()!r}")
        for line in r.iter_lines():
            if line.startswith("event:"):
                event = line[6:].strip()
            elif line.startswith("data:") and event == "token":
                first = first or time.perf_counter()
            elif line.startswith("data:") and event == "answer":
                answered = time.perf_counter()
                stored = json.loads(line[5:])
                engine, text = stored.get("engine"), stored.get("text", "")
            elif line.startswith("data:") and event == "error":
                raise RuntimeError(f"the answer failed: {line}")
    if first is None or answered is None:
        raise RuntimeError(f"no token or answer event for {question!r}")
    return {
        "first_ms": (first - started) * 1000,
        "answer_ms": (answered - started) * 1000,
        "engine": engine,
        "text": text,
    }


def series(http: httpx.Client, use_case_id: int, questions: list[str]) -> dict[str, Any]:
    for q in questions[:WARMUP]:
        ask(http, use_case_id, q)
    got = [ask(http, use_case_id, q) for q in questions]
    engines: dict[str, int] = {}
    for g in got:
        engines[g["engine"]] = engines.get(g["engine"], 0) + 1
    return {
        "first_token": summary([g["first_ms"] for g in got]),
        "answer": summary([g["answer_ms"] for g in got]),
        "n": len(got),
        "engines": engines,
        "replies_whole": sum(g["text"] == REPLY for g in got),
    }


def _first_sent() -> int:
    """The chunk (from 1) of the reply with which augury sends its first token."""
    need, got = chat_answer.HOLD_CHARS + chat_answer.STEP_CHARS, 0
    for i, piece in enumerate(PIECES, start=1):
        got += len(piece)
        if got >= need:
            return i
    return len(PIECES)


def _spaced(items: list[str], n: int) -> list[str]:
    step = max(1, len(items) // n)
    return items[::step][:n]


def run(data: dict[str, Any], questions: int = 100, drip_ms: float = 20.0) -> dict[str, Any]:
    passages = [p["text"] for p in data["passages"]]
    asked = _spaced([q["text"] for q in data["questions"]], questions)
    dripped = asked[: max(1, questions // 4)]
    started = time.perf_counter()
    with (
        tempfile.TemporaryDirectory(prefix="augury-bench-chat-") as tmp,
        server(Path(tmp)) as url,
        httpx.Client(base_url=url, timeout=60) as http,
        FakeProvider(0.0) as fast,
        FakeProvider(drip_ms / 1000) as slow,
    ):
        boot_s = time.perf_counter() - started
        t = time.perf_counter()
        use_case_id, indexed = setup(http, passages)
        knowledge_s = time.perf_counter() - t
        out: dict[str, Any] = {"offline": series(http, use_case_id, asked)}
        patch = f"{API}/chat/use-cases/{use_case_id}"
        _ok(http.patch(patch, json={"provider_id": add_provider(http, fast.url, "bench")}))
        out["provider"] = series(http, use_case_id, asked)
        out["provider"]["direct"] = time_direct(fast.url, asked)
        _ok(http.patch(patch, json={"provider_id": add_provider(http, slow.url, "drip")}))
        out["provider_dripping"] = series(http, use_case_id, dripped)
        out["provider_dripping"]["direct"] = time_direct(slow.url, dripped)
        out["provider_dripping"]["chunk_delay_ms"] = drip_ms
    out["setup"] = {
        "sentences": len(passages),
        "passages": indexed,
        "questions": len(asked),
        "warmup_questions": WARMUP,
        "reply_chars": len(REPLY),
        "reply_chunks": len(PIECES),
        "hold_chars": chat_answer.HOLD_CHARS,
        "step_chars": chat_answer.STEP_CHARS,
        "first_token_chunk": _first_sent(),
        "server_start_s": round(boot_s, 2),
        "knowledge_s": round(knowledge_s, 2),
        "total_s": round(time.perf_counter() - started, 1),
    }
    return out
