"""Correction sessions: active learning picks the documents (least confident first, or a
diverse spread), the model's tags are suggestions people correct or accept, and every
correction re-estimates the predicted score from labels the model never saw (accuracy
with a Wilson interval)."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pytest

from augury.jobs import types as job_types
from augury.jobs.models import Job
from augury.runtime.job_process import JobContext
from augury.text.models import SessionMode, SessionStatus, TextClass, TextSession
from augury.text.services import correction
from augury.text.services.predictors import Prediction
from tests.text.helpers import API, new_org, segments_of
from tests.text.test_annotations import mark, put_tags
from tests.text.test_sessions import REVIEWS, member, new_session, setup_project

KEYWORDS = {
    "Food": re.compile(r"soup|pasta|bread|coffee|dessert", re.I),
    "Staff": re.compile(r"waiter|staff|nobody", re.I),
    "Price": re.compile(r"price|bill", re.I),
}


@dataclass
class KeywordModel:
    """A rule model: a segment naming a class's keyword gets it at 0.9; any other gets
    Food at 0.4 (unsure). Its embedding is which classes a document's words name."""

    classes: dict[str, int]
    key: str = "model:keywords"
    model_id: int | None = None
    training_size: int = 100

    def predict(self, texts: list[str]) -> list[Prediction]:
        out = []
        for text in texts:
            hit = next((name for name, rx in KEYWORDS.items() if rx.search(text)), None)
            name, conf = (hit, 0.9) if hit else ("Food", 0.4)
            tags = [{"class_id": self.classes[name], "label_id": None, "confidence": conf}]
            out.append(Prediction(tags, conf))
        return out

    def embed(self, texts: list[str]) -> np.ndarray:
        return np.array(
            [[1.0 if rx.search(t) else 0.0 for rx in KEYWORDS.values()] + [0.1] for t in texts]
        )


@pytest.fixture
def owner(client):
    return new_org(client)


def _correction_session(db, pid: int, strategy: str, sample_size: int, seed: int = 3) -> int:
    """A correction session prepared by the keyword model (the service's own steps)."""
    with db.session() as s:
        classes = {c.name: c.id for c in s.query(TextClass).filter_by(project_id=pid)}
        project_row = s.get(correction.TextProject, pid)
        ts = TextSession(
            org_id=project_row.org_id,
            project_id=pid,
            name="Fix the model",
            mode=SessionMode.CORRECTION,
            status=SessionStatus.CREATED,
            sampling={
                "how": strategy,
                "sample_size": sample_size,
                "seed": seed,
                "model": "model:keywords",
                "training_size": 100,
            },
        )
        s.add(ts)
        s.flush()
        model = KeywordModel(classes)
        pool = correction.unlabeled_pool(s, project_row, None)
        correction.prepare(correction.within(s), ts.id, model, pool, ts.sampling)
        return ts.id


def test_least_confident_documents_come_first_with_the_models_suggestions(client, db, owner):
    pid, docs = setup_project(client, db, owner)
    sid = _correction_session(db, pid, "least_confident", 3)
    s = client.get(f"{API}/{pid}/sessions/{sid}", headers=owner.headers).json()
    assert s["mode"] == "CORRECTION" and s["status"] == "ANNOTATING"
    assert s["document_count"] == 3 and s["predicted_score"] is None
    listed = client.get(f"{API}/{pid}/sessions/{sid}/documents", headers=owner.headers).json()
    # Reviews 2, 3 and 5 each have a sentence no keyword names (0.4); the rest are sure.
    assert [d["id"] for d in listed["items"]] == [docs[2], docs[3], docs[5]]
    assert [d["score"] for d in listed["items"]] == [0.4, 0.4, 0.4]
    view = client.get(f"{API}/{pid}/sessions/{sid}/documents/{docs[3]}", headers=owner.headers)
    segments = view.json()["segments"]
    assert [[t["class"] for t in s["suggestions"]] for s in segments] == [["Food"], ["Price"]]
    assert [s["suggestion_score"] for s in segments] == [0.4, 0.9]
    assert segments[1]["suggestions"][0]["confidence"] == 0.9
    assert [s["tags"] for s in segments] == [[], []]


def test_each_correction_updates_the_predicted_score(client, db, owner):
    pid, docs = setup_project(client, db, owner)
    ann = member(client, owner, pid, "ANNOTATOR")
    sid = _correction_session(db, pid, "least_confident", 3)
    client.put(
        f"{API}/{pid}/sessions/{sid}/assignees",
        json={"user_ids": [ann.user_id]},
        headers=owner.headers,
    )
    segs = [s.id for s in segments_of(db, docs[2])]
    # "We waited an hour." was guessed Food: wrong, it is Staff.
    r = put_tags(client, ann.headers, pid, sid, docs[2], segs[0], [{"class": "Staff"}])
    assert r.status_code == 200, r.text
    first = r.json()["prediction"]
    assert first["correct"] == 0 and first["checked"] == 1
    assert r.json()["predicted_score"] == round(1 - (100 / 101) ** 0.5, 4)
    # "Nobody apologised." was Staff: accepted by marking it done.
    r = mark(client, ann.headers, pid, sid, docs[2], seg=segs[1])
    assert r.status_code == 200 and r.json()["predicted_score"] is not None
    # Review 3, both sentences accepted with the document's mark.
    r = mark(client, ann.headers, pid, sid, docs[3])
    assert r.status_code == 200
    got = client.get(f"{API}/{pid}/sessions/{sid}", headers=owner.headers).json()
    p = got["prediction"]
    assert (p["correct"], p["checked"], p["accuracy"]) == (3, 4, 0.75)
    low, high = correction.wilson(3, 4)
    assert (p["accuracy_low"], p["accuracy_high"]) == (round(low, 4), round(high, 4))
    # The model learned from 100 labels; 4 more shrink its error by sqrt(100 / 104).
    assert got["predicted_score"] == round(1 - 0.25 * (100 / 104) ** 0.5, 4)
    assert p["low"] < got["predicted_score"] < p["high"] and "Wilson" in p["method"]

    # Saving the model's own tag counts as accepting it; undoing a mark withdraws it.
    r = put_tags(
        client, ann.headers, pid, sid, docs[3], segments_of(db, docs[3])[1].id, [{"class": "Price"}]
    )
    assert r.json()["prediction"]["checked"] == 4
    assert mark(client, ann.headers, pid, sid, docs[3], method="delete").status_code == 204
    p = client.get(f"{API}/{pid}/sessions/{sid}/progress", headers=owner.headers).json()[
        "prediction"
    ]
    assert (p["correct"], p["checked"]) == (2, 3)


def test_diverse_sampling_spreads_over_the_collection(client, db, owner):
    texts = [f"The soup number {i}." for i in range(5)] + ["The bill.", "A waiter."]
    pid, docs = setup_project(client, db, owner, texts=texts)
    sid = _correction_session(db, pid, "diverse", 3, seed=0)
    listed = client.get(f"{API}/{pid}/sessions/{sid}/documents", headers=owner.headers).json()
    picked = [d["id"] for d in listed["items"]]
    # Three picks: one soup (whichever the seed starts from), the bill and the waiter.
    assert len(picked) == 3
    assert {docs[5], docs[6]} <= set(picked)
    assert len(set(picked) & set(docs[:5])) == 1


def test_farthest_first_and_wilson():
    vectors = np.array([[1.0, 0.0], [0.9, 0.1], [0.0, 1.0], [0.1, 0.9], [-1.0, 0.0]])
    assert correction.farthest_first(vectors, 3, 0) == [0, 4, 2]
    assert correction.farthest_first(vectors, 10, 1)[:1] == [1]
    assert len(correction.farthest_first(vectors, 10, 1)) == 5
    low, high = correction.wilson(0, 10)
    assert low == 0.0 and 0.27 < high < 0.28
    assert correction.wilson(0, 0) == (0.0, 1.0)
    zero = correction.estimate(9, 10, 0)
    assert zero is not None and zero["score"] == zero["accuracy"] == 0.9
    assert "no gain claimed" in zero["method"]
    assert correction.estimate(0, 0, 50) is None


def test_only_unlabeled_documents_are_corrected(client, db, owner):
    pid, docs = setup_project(client, db, owner)
    s = new_session(client, owner.headers, pid, document_ids=[docs[2], docs[5]])
    for doc in (docs[2], docs[5]):
        seg = segments_of(db, doc)[0].id
        assert put_tags(client, owner.headers, pid, s["id"], doc, seg, []).status_code == 200
    sid = _correction_session(db, pid, "least_confident", 6)
    listed = client.get(f"{API}/{pid}/sessions/{sid}/documents", headers=owner.headers).json()
    assert [d["id"] for d in listed["items"]][:1] == [docs[3]]
    assert {d["id"] for d in listed["items"]} == set(docs) - {docs[2], docs[5]}


def test_what_a_correction_session_cannot_be_made_from(client, db, owner):
    url = f"{API}/{{}}/sessions"
    pid, _ = setup_project(client, db, owner, type="CLASSLABEL", labels=("Urgent",))
    r = client.post(
        url.format(pid), json={"name": "x", "mode": "CORRECTION"}, headers=owner.headers
    )
    assert r.status_code == 422 and r.json()["error"]["details"]["reason"] == "NEEDS_MODEL"
    pid, docs = setup_project(client, db, owner, classes=("Food",))
    r = client.post(
        url.format(pid), json={"name": "x", "mode": "CORRECTION"}, headers=owner.headers
    )
    assert r.status_code == 422 and r.json()["error"]["details"]["reason"] == "TOO_FEW_CLASSES"
    r = client.post(
        url.format(pid),
        json={"name": "x", "mode": "CORRECTION", "model_id": 5},
        headers=owner.headers,
    )
    assert r.status_code == 404
    r = client.post(
        url.format(pid),
        json={"name": "x", "mode": "CORRECTION", "document_ids": docs[:1]},
        headers=owner.headers,
    )
    assert r.status_code == 422
    pid, _ = setup_project(client, db, owner, texts=[])
    r = client.post(
        url.format(pid), json={"name": "x", "mode": "CORRECTION"}, headers=owner.headers
    )
    assert r.status_code == 422
    assert r.json()["error"]["details"]["reason"] == "NO_UNLABELED_DOCUMENTS"
    assert client.get(url.format(pid), headers=owner.headers).json()["total"] == 0
    assert len(REVIEWS) == 6


GUIDE = [
    {
        "name": "Food",
        "description": "The dishes, their taste and the ingredients",
        "examples": ["The pasta was delicious", "Cold soup"],
    },
    {
        "name": "Staff",
        "description": "Waiters and service: friendly, rude, slow",
        "examples": ["The waiter was rude", "Nobody helped us"],
    },
    {
        "name": "Price",
        "description": "What it costs: the bill, prices, value for money",
        "examples": ["Too expensive", "Fair prices"],
    },
]


def _guided_project(client, db, owner, texts=None) -> tuple[int, list[int]]:
    pid, docs = setup_project(client, db, owner, classes=(), texts=texts)
    r = client.post(f"{API}/{pid}/classes", json=GUIDE, headers=owner.headers)
    assert r.status_code == 201, r.text
    return pid, docs


def test_zero_shot_pre_tags_a_correction_session_in_the_request(client, db, owner):
    pid, docs = _guided_project(client, db, owner)
    r = client.post(
        f"{API}/{pid}/sessions",
        json={"name": "Fix zero-shot", "mode": "CORRECTION", "sample_size": 4, "seed": 1},
        headers=owner.headers,
    )
    assert r.status_code == 201, r.text
    s = r.json()
    assert s["status"] == "ANNOTATING" and s["document_count"] == 4 and s["job_id"] is None
    assert s["sampling"]["model"] == "model:zeroshot" and s["sampling"]["pool"] == len(docs)
    listed = client.get(f"{API}/{pid}/sessions/{s['id']}/documents", headers=owner.headers)
    scores = [d["score"] for d in listed.json()["items"]]
    assert scores == sorted(scores) and all(0 < x <= 1 for x in scores)
    first = listed.json()["items"][0]["id"]
    view = client.get(f"{API}/{pid}/sessions/{s['id']}/documents/{first}", headers=owner.headers)
    for segment in view.json()["segments"]:
        (suggestion,) = segment["suggestions"]
        assert suggestion["class"] in {"Food", "Staff", "Price"} and suggestion["label"] is None
        assert 0 < suggestion["confidence"] <= 1 and segment["tags"] == []
    diverse = client.post(
        f"{API}/{pid}/sessions",
        json={"name": "Spread", "mode": "CORRECTION", "sample_size": 3, "strategy": "diverse"},
        headers=owner.headers,
    )
    assert diverse.status_code == 201 and diverse.json()["document_count"] == 3


def test_a_large_pool_is_prepared_by_a_job(client, db, owner, settings, monkeypatch):
    monkeypatch.setattr(correction, "INLINE_SEGMENTS", 4)
    job_types.registry.register(
        correction.JOB_TYPE, "augury.text.services.correction:PrepareCorrection"
    )
    pid, docs = _guided_project(client, db, owner)
    body = {"name": "Big", "mode": "CORRECTION", "sample_size": 2}
    s = client.post(f"{API}/{pid}/sessions", json=body, headers=owner.headers).json()
    assert s["status"] == "SAMPLING" and s["job_id"] and s["document_count"] == 0
    url = f"{API}/{pid}/sessions/{s['id']}"
    doc_url = f"{url}/documents/{docs[0]}"
    seg = segments_of(db, docs[0])[0].id
    r = client.put(f"{doc_url}/segments/{seg}/tags", json={"tags": []}, headers=owner.headers)
    assert r.status_code in (404, 409)

    job_types_runner = correction.PrepareCorrection()
    with db.session() as dbs:
        job = dbs.get(Job, s["job_id"])
        dbs.expunge(job)
    result = job_types_runner.run(
        JobContext(db, settings, job), job_types_runner.Params(session_id=s["id"])
    )
    assert result == {"session_id": s["id"], "project_id": pid, "documents": 2}
    told = correction.PrepareCorrection.notification("succeeded", result)
    assert told["link"] == f"/text/projects/{pid}/sessions/{s['id']}"
    got = client.get(url, headers=owner.headers).json()
    assert got["status"] == "ANNOTATING" and got["document_count"] == 2

    # A job that cannot predict any more (a class was deleted meanwhile) fails the session.
    second = client.post(f"{API}/{pid}/sessions", json=body, headers=owner.headers).json()
    classes = client.get(f"{API}/{pid}/classes", headers=owner.headers).json()["items"]
    for c in classes[1:]:
        assert client.delete(
            f"{API}/{pid}/classes/{c['id']}", headers=owner.headers
        ).status_code in (200, 204)
    with db.session() as dbs:
        job = dbs.get(Job, second["job_id"])
        dbs.expunge(job)
    with pytest.raises(Exception, match="two classes"):
        job_types_runner.run(
            JobContext(db, settings, job), job_types_runner.Params(session_id=second["id"])
        )
    got = client.get(f"{API}/{pid}/sessions/{second['id']}", headers=owner.headers).json()
    assert got["status"] == "FAILED"
