"""Chat retrieval: ``python -m benchmarks.chat.run`` (``make bench-chat``).

Measures :mod:`augury.engines.chat` offline on ``data/chatterbot_en.json`` (543
passages, 464 questions from the chatterbot-corpus wheel, BSD 3-Clause; see
``data/README.md``): every answer of the corpus is a passage (its category is its
title), and each question must find one of its own answers among all 543. The
questions rarely share words with their answers ("what is ichthyology" / "we talk
about this when we study fishes"), which makes the set hard for lexical retrieval on
purpose: the semantic side has to carry it.

* **Retrieval**: top-1 and top-3 hit rate of a right passage, lexical only (BM25),
  semantic only (cosine of the built-in wordllama vectors) and fused (reciprocal rank
  fusion, the engine's :meth:`~augury.engines.chat.retrieve.Index.search`), with
  bootstrap 95% intervals over questions.
* **Confidence**: for every question, the best hit's cosine and the IDF-weighted share
  of the question's content words that it holds (:meth:`Index.coverage`), asked twice:
  against the whole index (label 1 when a right passage is in the top 3, the passages
  an answer is written from) and against the index without the question's category
  (off topic: label 0). A logistic regression on these two features is fitted with
  leave-one-category-out cross-validation (the categories are the topics, so the held
  out fold's topic was never seen); its held-out ROC AUC, Brier score and calibration
  error are reported, and the refusal and answer rates at the default
  ``min_confidence`` (0.2). The coefficients fitted on all of it are printed, and are
  the ones :data:`augury.engines.chat.retrieve.CONFIDENCE` ships (rounded).
* **Time to the first streamed piece** of an offline answer: embed the question,
  search, confidence, compose and the first piece of ``stream_pieces`` (p50, p95 over
  every question, one thread), and the index build time.
* **Time to the first streamed token through the server** (:mod:`benchmarks.chat.live`):
  a real ``augury serve`` with a temporary SQLite database, the 543 passages as a use
  case's knowledge, 100 questions each in a new chat, timed by its HTTP client from
  the POST to the first ``token`` event and to the ``answer`` event (p50, p95):
  offline, and through a local OpenAI-compatible server the benchmark starts
  (:mod:`benchmarks.chat.provider`: a fixed reply in 20 chunks, no delay, so augury's
  own overhead is what shows; then 25 questions with the chunks 20 ms apart), beside
  the provider's own time to its first chunk, measured directly. ``--no-server``
  skips it.

Writes ``benchmarks/results/chat.json`` and the ``## Chat retrieval`` section of
``docs/benchmarks.md`` (``--section PATH`` writes the section to PATH instead),
and prints a summary. ``--no-write`` only prints.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from augury.chat.schemas import UseCaseCreate
from augury.engines.chat import answer as offline
from augury.engines.chat import retrieve
from augury.engines.chat.retrieve import Index
from augury.engines.text.embed import default_embedder
from benchmarks.ask.run import machine
from benchmarks.chat import live
from benchmarks.docs import replace_section

ROOT = Path(__file__).resolve().parents[2]
DATA = Path(__file__).resolve().parent / "data" / "chatterbot_en.json"
RESULTS = ROOT / "benchmarks" / "results" / "chat.json"
MIN_CONFIDENCE = UseCaseCreate.model_fields["min_confidence"].default
"""The default ``min_confidence`` of a use case (``chat.schemas.UseCaseCreate``)."""
TOP = 3
THRESHOLDS = (0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.5)
"""``min_confidence`` values whose answer and refusal rates are reported."""


def load(path: Path = DATA) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _bootstrap(hits: np.ndarray, seed: int = 0, rounds: int = 2000) -> list[float]:
    rng = np.random.default_rng(seed)
    means = hits[rng.integers(0, len(hits), (rounds, len(hits)))].mean(axis=1)
    return [round(float(np.quantile(means, 0.025)), 3), round(float(np.quantile(means, 0.975)), 3)]


def _rate(ranked: list[list[int]], right: list[set[int]], k: int) -> dict[str, Any]:
    hits = np.array([bool(set(r[:k]) & ok) for r, ok in zip(ranked, right, strict=True)], float)
    return {"rate": round(float(hits.mean()), 3), "ci95": _bootstrap(hits)}


def retrieval(data: dict[str, Any], embed: Callable) -> tuple[dict[str, Any], dict[str, Any]]:
    passages = data["passages"]
    questions = data["questions"]
    texts = [p["text"] for p in passages]
    titles = [p["category"].replace("_", " ") for p in passages]
    started = time.perf_counter()
    vectors = embed([f"{t}. {x}" for t, x in zip(titles, texts, strict=True)])
    embed_s = time.perf_counter() - started
    started = time.perf_counter()
    index = Index.build(texts, titles, vectors)
    build_s = time.perf_counter() - started
    qvectors = embed([q["text"] for q in questions])
    right = [set(q["answers"]) for q in questions]
    depth = 10
    lexical, semantic, fused = [], [], []
    for q, qv in zip(questions, qvectors, strict=True):
        lexical.append([h.index for h in index.search(q["text"], None, depth)])
        semantic.append([int(i) for i in np.argsort(-(vectors @ qv), kind="stable")[:depth]])
        fused.append([h.index for h in index.search(q["text"], qv, depth)])
    out = {
        name: {f"top{k}": _rate(ranked, right, k) for k in (1, 3)}
        for name, ranked in (("lexical", lexical), ("semantic", semantic), ("fused", fused))
    }
    cost = {"embed_passages_s": round(embed_s, 3), "build_index_s": round(build_s, 4)}
    return out, {"index": index, "vectors": vectors, "qvectors": qvectors, "cost": cost}


def _features(index: Index, question: str, qv: np.ndarray | None) -> tuple[float, float]:
    hits = index.search(question, qv, TOP)
    if not hits:
        return 0.0, 0.0
    best = hits[0]
    return float(best.semantic or 0.0), index.coverage(question, best.index)


def confidence_set(data: dict[str, Any], built: dict[str, Any]) -> dict[str, np.ndarray]:
    """Features (cosine, coverage), labels and groups (categories), on and off topic,
    with vectors and without."""
    passages, questions = data["passages"], data["questions"]
    texts = [p["text"] for p in passages]
    titles = [p["category"].replace("_", " ") for p in passages]
    index, vectors, qvectors = built["index"], built["vectors"], built["qvectors"]
    rows, rows_lex, labels, groups = [], [], [], []
    for q, qv in zip(questions, qvectors, strict=True):
        hits = index.search(q["text"], qv, TOP)
        rows.append(_features(index, q["text"], qv))
        rows_lex.append(_features(index, q["text"], None))
        labels.append(int(bool({h.index for h in hits} & set(q["answers"]))))
        groups.append(q["category"])
    categories = sorted({q["category"] for q in questions})
    for category in categories:
        keep = [i for i, p in enumerate(passages) if p["category"] != category]
        sub = Index.build([texts[i] for i in keep], [titles[i] for i in keep], vectors[keep])
        for q, qv in zip(questions, qvectors, strict=True):
            if q["category"] != category:
                continue
            rows.append(_features(sub, q["text"], qv))
            rows_lex.append(_features(sub, q["text"], None))
            labels.append(0)
            groups.append(category)
    return {
        "x": np.array(rows),
        "x_lex": np.array(rows_lex)[:, 1:],
        "y": np.array(labels),
        "groups": np.array(groups),
        "off_topic": np.array([0] * len(questions) + [1] * (len(labels) - len(questions))),
    }


def _ece(p: np.ndarray, y: np.ndarray, bins: int = 10) -> float:
    edges = np.linspace(0, 1, bins + 1)
    which = np.clip(np.digitize(p, edges) - 1, 0, bins - 1)
    err = 0.0
    for b in range(bins):
        mask = which == b
        if mask.any():
            err += mask.mean() * abs(p[mask].mean() - y[mask].mean())
    return round(float(err), 3)


def calibrate(s: dict[str, np.ndarray]) -> dict[str, Any]:
    """Leave-one-category-out logistic regression: held-out quality, and the fit on all."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import brier_score_loss, roc_auc_score

    out: dict[str, Any] = {}
    for name, x in (("with_vectors", s["x"]), ("lexical_only", s["x_lex"])):
        y, groups = s["y"], s["groups"]
        held = np.zeros(len(y))
        for g in np.unique(groups):
            test = groups == g
            train = ~test
            if len(np.unique(y[train])) < 2:
                held[test] = y[train].mean()
                continue
            model = LogisticRegression(C=10.0).fit(x[train], y[train])
            held[test] = model.predict_proba(x[test])[:, 1]
        full = LogisticRegression(C=10.0).fit(x, y)
        on, off = s["off_topic"] == 0, s["off_topic"] == 1
        answerable = on & (y == 1)
        out[name] = {
            "held_out_auc": round(float(roc_auc_score(y, held)), 3),
            "held_out_brier": round(float(brier_score_loss(y, held)), 3),
            "held_out_ece": _ece(held, y),
            f"answered_when_answerable_at_{MIN_CONFIDENCE}": round(
                float((held[answerable] >= MIN_CONFIDENCE).mean()), 3
            ),
            f"refused_off_topic_at_{MIN_CONFIDENCE}": round(
                float((held[off] < MIN_CONFIDENCE).mean()), 3
            ),
            "coefficients": [round(float(c), 3) for c in full.coef_[0]],
            "intercept": round(float(full.intercept_[0]), 3),
            "positives": int(y.sum()),
            "n": len(y),
        }
    return out


def shipped(s: dict[str, np.ndarray]) -> dict[str, Any]:
    """The engine's own confidence (the shipped coefficients) on the same rows."""
    from sklearn.metrics import roc_auc_score

    c, cl = retrieve.CONFIDENCE, retrieve.CONFIDENCE_LEXICAL
    p = 1 / (1 + np.exp(-(c["semantic"] * s["x"][:, 0] + c["coverage"] * s["x"][:, 1] + c["bias"])))
    pl = 1 / (1 + np.exp(-(cl["coverage"] * s["x_lex"][:, 0] + cl["bias"])))
    y, off = s["y"], s["off_topic"] == 1
    answerable = (s["off_topic"] == 0) & (y == 1)
    return {
        name: {
            "auc": round(float(roc_auc_score(y, q)), 3),
            "ece": _ece(q, y),
            "answered_when_answerable": round(float((q[answerable] >= MIN_CONFIDENCE).mean()), 3),
            "refused_off_topic": round(float((q[off] < MIN_CONFIDENCE).mean()), 3),
            "by_threshold": {
                str(t): {
                    "answered_when_answerable": round(float((q[answerable] >= t).mean()), 3),
                    "refused_off_topic": round(float((q[off] < t).mean()), 3),
                }
                for t in THRESHOLDS
            },
        }
        for name, q in (("with_vectors", p), ("lexical_only", pl))
    }


def first_piece(data: dict[str, Any], built: dict[str, Any], embed: Callable) -> dict[str, Any]:
    """Milliseconds from a question to the first streamed piece of its offline answer."""
    index = built["index"]
    texts = [p["text"] for p in data["passages"]]
    titles = [p["category"] for p in data["passages"]]
    times = []
    for q in data["questions"]:
        started = time.perf_counter()
        qv = embed([q["text"]])[0]
        hits = index.search(q["text"], qv, TOP)
        conf = index.confidence(q["text"], hits)
        result = offline.compose(
            q["text"], hits, texts, titles, MIN_CONFIDENCE, True, confidence=conf
        )
        next(offline.stream_pieces(result.text))
        times.append((time.perf_counter() - started) * 1000)
    return {
        "p50_ms": round(statistics.median(times), 2),
        "p95_ms": round(float(np.quantile(times, 0.95)), 2),
        "n": len(times),
    }


def section(result: dict[str, Any]) -> str:
    r, c, t = result["retrieval"], result["confidence"], result["first_piece"]
    lines = [
        "## Chat retrieval",
        "",
        "`make bench-chat` (`benchmarks/chat/run.py`): augury's chat engine "
        "(`augury.engines.chat`) offline, on 464 questions over 543 passages made from the "
        "English chatterbot-corpus (BSD 3-Clause, shipped in `benchmarks/chat/data/`): each "
        "answer of the corpus is a passage, each question must find one of its own answers. "
        'The questions seldom share words with their answers ("what is ichthyology" / "we '
        'talk about this when we study fishes"), a hard case for BM25 on purpose.',
        "",
        "| retrieval | top-1 | top-3 |",
        "|---|---|---|",
    ]
    for name, label in (
        ("lexical", "BM25 (lexical)"),
        ("semantic", "cosine, wordllama vectors (semantic)"),
        ("fused", "reciprocal rank fusion, k = 60"),
    ):
        row = r[name]
        lines.append(
            f"| {label} | {row['top1']['rate']:.3f} [{row['top1']['ci95'][0]:.3f}, "
            f"{row['top1']['ci95'][1]:.3f}] | {row['top3']['rate']:.3f} "
            f"[{row['top3']['ci95'][0]:.3f}, {row['top3']['ci95'][1]:.3f}] |"
        )
    cv = c["cross_validated"]
    sh = c["shipped"]
    vec = sh["with_vectors"]
    lines += [
        "",
        "Brackets: bootstrap 95% intervals over questions.",
        "",
        "**Confidence** (`Index.confidence`): each question asked against the whole index "
        "(positive when a right passage is in the top 3) and against the index without its "
        f"category (off topic, negative): {cv['with_vectors']['n']} cases, "
        f"{cv['with_vectors']['positives']} positive. A logistic regression on the best "
        "hit's cosine and the IDF-weighted share of the question's words it holds, "
        "cross-validated leaving one category (topic) out:",
        "",
        "| confidence | held-out ROC AUC | Brier | calibration error | answers when answerable "
        f"(≥ {MIN_CONFIDENCE}) | refuses off topic (< {MIN_CONFIDENCE}) |",
        "|---|---|---|---|---|---|",
    ]
    for name in ("with_vectors", "lexical_only"):
        row = cv[name]
        lines.append(
            f"| {name.replace('_', ' ')} | {row['held_out_auc']:.3f} | "
            f"{row['held_out_brier']:.3f} | {row['held_out_ece']:.3f} | "
            f"{row[f'answered_when_answerable_at_{MIN_CONFIDENCE}']:.3f} | "
            f"{row[f'refused_off_topic_at_{MIN_CONFIDENCE}']:.3f} |"
        )
    lines += [
        "",
        f"The shipped coefficients (fitted on all cases, rounded; so these figures are "
        f"in-sample): with vectors AUC "
        f"{vec['auc']:.3f}, answers {vec['answered_when_answerable']:.3f} "
        f"of answerable questions and refuses {vec['refused_off_topic']:.3f} of "
        f"off-topic ones at {MIN_CONFIDENCE}; lexical only AUC {sh['lexical_only']['auc']:.3f}. "
        "By `min_confidence` (shipped coefficients, with vectors): the share of answerable "
        "questions answered, and of off-topic ones refused:",
        "",
        "| min_confidence | " + " | ".join(str(t) for t in THRESHOLDS) + " |",
        "|---" * (len(THRESHOLDS) + 1) + "|",
        "| answers when answerable | "
        + " | ".join(
            f"{vec['by_threshold'][str(t)]['answered_when_answerable']:.2f}" for t in THRESHOLDS
        )
        + " |",
        "| refuses off topic | "
        + " | ".join(f"{vec['by_threshold'][str(t)]['refused_off_topic']:.2f}" for t in THRESHOLDS)
        + " |",
        "",
        f"**Time to the first streamed piece** of an offline answer (embed the question, "
        f"search, confidence, compose, first piece; one thread, the embedding model "
        f"loaded beforehand, once a process): p50 {t['p50_ms']:.1f} ms, "
        f"p95 {t['p95_ms']:.1f} ms over {t['n']} questions. Embedding the 543 passages took "
        f"{result['cost']['embed_passages_s']:.2f} s and building the index "
        f"{result['cost']['build_index_s'] * 1000:.1f} ms. Machine: "
        f"{result['machine']['cpus']} CPUs, {result['machine']['cpu_model']}.",
        "",
    ]
    if "through_server" in result:
        lines += server_lines(result["through_server"])
    return "\n".join(lines)


def _ms(row: dict[str, float]) -> str:
    return f"{row['p50_ms']:.1f} / {row['p95_ms']:.1f}"


def server_lines(s: dict[str, Any]) -> list[str]:
    """The subsection on the time to the first streamed token through the server."""
    u, off, fast, drip = s["setup"], s["offline"], s["provider"], s["provider_dripping"]
    d, dd = fast["direct"], drip["direct"]
    overhead = fast["first_token"]["p50_ms"] - d["first_chunk"]["p50_ms"]
    return [
        "### Time to the first streamed token through the server",
        "",
        "A real `augury serve` (uvicorn, a temporary SQLite database) on a free local "
        "port; the benchmark is its HTTP client (`benchmarks/chat/live.py`). It signs up, "
        f"makes a use case (`strict: false`) whose knowledge is the {u['sentences']} "
        f"passages above, added as sentences ({u['passages']} indexed passages: a long "
        f"one is cut in two), and asks {u['questions']} of the questions (evenly spaced "
        "over the set, each in a new chat, after "
        f"{u['warmup_questions']} untimed ones) with `POST /api/v1/chat/chats/{{id}}/"
        "messages` and `Accept: text/event-stream`, timing from sending the POST to the "
        "first `token` event and to the `answer` event (the answer stored). With a "
        "provider, the use case's provider is a local OpenAI-compatible server that the "
        "benchmark starts itself (`benchmarks/chat/provider.py`, admitted by "
        "`AUGURY_ANALYTICS__ALLOWED_PRIVATE_NETWORKS=127.0.0.1`): it streams a fixed "
        f"{u['reply_chars']}-character reply in {u['reply_chunks']} chunks and reports "
        "its usage; no model runs. The provider's own time is measured directly by the "
        "same kind of client (`httpx`, a new connection per request, the client made "
        "before the clock starts).",
        "",
        "| ms, p50 / p95 | first `token` event | `answer` event | provider's first chunk, "
        "direct | provider's `[DONE]`, direct |",
        "|---|---|---|---|---|",
        f"| offline, {off['n']} questions | {_ms(off['first_token'])} | {_ms(off['answer'])} | | |",
        f"| provider, no delay, {fast['n']} questions | {_ms(fast['first_token'])} | "
        f"{_ms(fast['answer'])} | {_ms(d['first_chunk'])} | {_ms(d['done'])} |",
        f"| provider, chunks {drip['chunk_delay_ms']:g} ms apart, {drip['n']} questions | "
        f"{_ms(drip['first_token'])} | {_ms(drip['answer'])} | {_ms(dd['first_chunk'])} | "
        f"{_ms(dd['done'])} |",
        "",
        f"With a provider that answers at once, augury's first token comes {overhead:.1f} "
        "ms (p50) after the provider's own first chunk. For comparison, the offline "
        "answer (the question stored, retrieval, the answer composed; no call) sends its "
        f"first token at {off['first_token']['p50_ms']:.1f} ms. (A new `httpx.Client` "
        "with its own TLS context takes "
        f"{_ms(d['client_setup'])} ms here; augury's provider calls share one TLS "
        "context, so theirs costs well under a millisecond.) A reply is held "
        f"{u['hold_chars']} characters behind what arrived, sent in steps of at least "
        f"{u['step_chars']} (so the instructions cannot leak through the stream), so "
        f"the first token leaves once {u['hold_chars'] + u['step_chars']} characters "
        "have come: with a provider that drips, the first token waits that long "
        f"(chunk {u['first_token_chunk']} of {u['reply_chunks']} here), not for its first "
        f"chunk. {fast['replies_whole']} of {fast['n']} and {drip['replies_whole']} "
        f"of {drip['n']} answers were the provider's whole reply. Server start "
        f"{u['server_start_s']:.1f} s, "
        f"adding the knowledge (embedding and indexing it) {u['knowledge_s']:.1f} s; "
        f"the whole part {u['total_s']:.0f} s. Client, server and provider share the "
        "machine's CPUs.",
        "",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--no-write", action="store_true", help="only print")
    parser.add_argument("--section", type=Path, help="write the docs section to this file")
    parser.add_argument("--no-server", action="store_true", help="skip the server's timing")
    parser.add_argument(
        "--questions", type=int, default=100, help="questions asked through the server"
    )
    parser.add_argument(
        "--drip-ms", type=float, default=20.0, help="the dripping provider's chunk delay"
    )
    args = parser.parse_args(argv)

    data = load()
    embedder = default_embedder()
    embed = embedder.embed
    retrieval_result, built = retrieval(data, embed)
    s = confidence_set(data, built)
    result = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "data": {
            "source": data["source"],
            "license": data["license"],
            "passages": len(data["passages"]),
            "questions": len(data["questions"]),
        },
        "embedder": embedder.name,
        "retrieval": retrieval_result,
        "confidence": {"cross_validated": calibrate(s), "shipped": shipped(s)},
        "first_piece": first_piece(data, built, embed),
        "cost": built["cost"],
        "machine": machine(),
    }
    shown = ["retrieval", "confidence", "first_piece"]
    if not args.no_server:
        result["through_server"] = live.run(data, args.questions, args.drip_ms)
        shown.append("through_server")
    print(json.dumps({k: result[k] for k in shown}, indent=1))
    if args.no_write:
        return 0
    RESULTS.write_text(json.dumps(result, indent=1) + "\n")
    if args.section:
        args.section.write_text(section(result))
    else:
        replace_section("Chat retrieval", section(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
