"""A use case's index: passages with vectors from every change, re-indexed at once,
retrieval that finds the right sentence, a built index cached per index version, and a
re-index that reads attachments again (a source gone is named in ``index.error``)."""

from __future__ import annotations

import numpy as np
import pytest

from augury.chat.models import ChatPassage, ChatUseCase
from augury.chat.services import index
from augury.engines.text.embed import WORDLLAMA
from tests.chat.helpers import API, add, add_sentence, make_use_case
from tests.chat.test_knowledge import _document, _project

FACTS = [
    ("Hours", "The restaurant opens at nine in the morning and closes at midnight."),
    ("Paella", "Paella is served on Sundays only, for two people or more."),
    ("Parking", "Parking is free in the garage behind the building."),
    ("Refunds", "Refunds for cancelled bookings are paid to your card within five days."),
]


@pytest.fixture
def uc(client, owner) -> dict:
    use_case = make_use_case(client, owner)
    for title, text in FACTS:
        add_sentence(client, owner, use_case["id"], text, title=title)
    return use_case


def retrieve(client, account, uc_id: int, q: str, k: int = 3) -> dict:
    r = client.get(
        f"{API}/use-cases/{uc_id}/retrieve", params={"q": q, "k": k}, headers=account.headers
    )
    assert r.status_code == 200, r.text
    return r.json()


@pytest.mark.parametrize(
    "question, title",
    [
        ("when do you open?", "Hours"),
        ("can I eat paella on a Monday?", "Paella"),
        ("where can I leave my car", "Parking"),
        ("how long until I get my money back", "Refunds"),
    ],
)
def test_retrieval_finds_the_right_sentence(client, owner, uc, question, title):
    found = retrieve(client, owner, uc["id"], question)
    assert found["items"][0]["title"] == title, found
    assert 0 <= found["confidence"] <= 1
    assert found["index"]["passages"] == 4
    hit = found["items"][0]
    assert set(hit) >= {"passage_id", "knowledge_id", "title", "text", "score", "rank"}


def test_passages_hold_vectors_of_the_shipped_embedder(db, uc):
    with db.session() as session:
        rows = session.query(ChatPassage).filter_by(use_case_id=uc["id"]).all()
        assert len(rows) == 4
        for row in rows:
            assert row.embedder == WORDLLAMA
            vector = np.frombuffer(row.vector, dtype="<f4")
            assert vector.shape == (256,) and abs(float(vector @ vector) - 1.0) < 1e-3


def test_every_change_reindexes(client, owner, uc):
    base = client.get(f"{API}/use-cases/{uc['id']}", headers=owner.headers).json()["index"]
    items = client.get(f"{API}/use-cases/{uc['id']}/knowledge", headers=owner.headers).json()
    parking = next(p for p in items["items"] if p["title"] == "Parking")
    r = client.patch(
        f"{API}/use-cases/{uc['id']}/knowledge/{parking['id']}",
        json={"text": "Bicycles can be left in the courtyard; there is no car park."},
        headers=owner.headers,
    )
    assert r.status_code == 200
    after = client.get(f"{API}/use-cases/{uc['id']}", headers=owner.headers).json()["index"]
    assert after["version"] == base["version"] + 1 and after["passages"] == 4
    found = retrieve(client, owner, uc["id"], "where do I leave my bicycle")
    assert "courtyard" in found["items"][0]["text"]
    assert not any("garage" in h["text"] for h in found["items"])

    client.delete(f"{API}/use-cases/{uc['id']}/knowledge/{parking['id']}", headers=owner.headers)
    after_delete = client.get(f"{API}/use-cases/{uc['id']}", headers=owner.headers).json()
    assert after_delete["index"]["passages"] == 3
    assert after_delete["index"]["version"] == after["version"] + 1
    found = retrieve(client, owner, uc["id"], "bicycle courtyard")
    assert all("courtyard" not in h["text"] for h in found["items"])


def test_passages_follow_the_pieces_order(db, client, owner, uc):
    items = client.get(f"{API}/use-cases/{uc['id']}/knowledge", headers=owner.headers).json()
    last = items["items"][-1]
    client.post(
        f"{API}/use-cases/{uc['id']}/knowledge/{last['id']}/move",
        json={"direction": "up"},
        headers=owner.headers,
    )
    with db.session() as session:
        rows = session.query(ChatPassage).filter_by(use_case_id=uc["id"]).order_by(ChatPassage.seq)
        assert [r.title for r in rows] == ["Hours", "Paella", "Refunds", "Parking"]


def test_the_built_index_is_cached_per_version(db, client, owner, uc, monkeypatch):
    built = []
    real = index._build
    monkeypatch.setattr(index, "_build", lambda s, u: built.append(u.id) or real(s, u))
    index.forget(uc["id"])
    for _ in range(3):
        retrieve(client, owner, uc["id"], "paella")
    assert built == [uc["id"]]
    add_sentence(client, owner, uc["id"], "Vegetarian paella is on the menu every day.")
    found = retrieve(client, owner, uc["id"], "vegetarian paella")
    assert built == [uc["id"], uc["id"]]
    assert "Vegetarian" in found["items"][0]["text"]


def test_an_empty_use_case_finds_nothing(client, owner):
    empty = make_use_case(client, owner, name="empty")
    found = retrieve(client, owner, empty["id"], "anything")
    assert found["items"] == [] and found["confidence"] == 0


def test_reindex_reads_attachments_again_and_names_a_lost_one(db, client, owner, monkeypatch):
    from augury.jobs import types as job_types

    # Inline: a process without the chat.index job type indexes before answering.
    monkeypatch.setattr(job_types, "registry", job_types.Registry())
    uc = make_use_case(client, owner)
    project = _project(client, owner, "Support")
    doc = _document(client, owner, project, "Returns are accepted within 30 days.")
    r = add(client, owner, uc["id"], kind="document", ref_id=doc)
    assert r.status_code == 201
    add_sentence(client, owner, uc["id"], "We open at nine.")
    from augury.text.models import TextDocument

    with db.session() as session:
        session.get(TextDocument, doc).text = "Returns are accepted within 60 days."
    r = client.post(f"{API}/use-cases/{uc['id']}/reindex", headers=owner.headers)
    assert r.status_code == 202, r.text
    assert r.json()["status"] == "ready" and r.json()["passages"] == 2
    found = retrieve(client, owner, uc["id"], "returns days")
    assert "60 days" in found["items"][0]["text"]

    with db.session() as session:
        session.delete(session.get(TextDocument, doc))
    state = client.post(f"{API}/use-cases/{uc['id']}/reindex", headers=owner.headers).json()
    assert state["status"] == "failed" and "not found" in state["error"].lower()
    assert state["passages"] == 1  # the sentence is still there
    found = retrieve(client, owner, uc["id"], "when do you open")
    assert found["items"][0]["text"] == "We open at nine."


def test_retrieve_through_the_service(db, uc):
    with db.session() as session:
        use_case = session.get(ChatUseCase, uc["id"])
        found = index.retrieve(session, None, use_case, "paella on sundays", k=2)
        assert len(found.hits) == 2 and found.hits[0].title == "Paella"
        assert found.hits[0].source()["knowledge_id"] == found.hits[0].knowledge_id
        assert found.confidence > 0.3


class _Ctx:
    """What a job's context offers IndexUseCase: sessions, progress, the org."""

    def __init__(self, db, settings, org_id: int):
        self.db, self.settings, self.org_id, self.user_id = db, settings, org_id, None
        self.progressed: list[float] = []

    def session(self):
        return self.db.session()

    def progress(self, percent: float, message: str | None = None) -> None:
        self.progressed.append(percent)


def test_reindex_with_attachments_is_a_chat_index_job(db, settings, client, owner, monkeypatch):
    from augury.chat.jobs import IndexUseCase
    from augury.jobs import types as job_types
    from augury.text.models import TextDocument

    monkeypatch.setattr(job_types, "registry", job_types.Registry())
    job_types.registry.register("chat.index", "augury.chat.jobs:IndexUseCase")
    uc = make_use_case(client, owner)
    project = _project(client, owner, "Support")
    doc = _document(client, owner, project, "Returns are accepted within 30 days.")
    assert add(client, owner, uc["id"], kind="document", ref_id=doc).status_code == 201
    with db.session() as session:
        session.get(TextDocument, doc).text = "Returns are accepted within 90 days."

    r = client.post(f"{API}/use-cases/{uc['id']}/reindex", headers=owner.headers)
    assert r.status_code == 202, r.text
    state = r.json()
    assert state["status"] == "indexing" and state["job"]["type"] == "chat.index"
    job = client.get(f"/api/v1/jobs/{state['job']['id']}", headers=owner.headers).json()
    assert job["params"] == {"use_case_id": uc["id"]}

    ctx = _Ctx(db, settings, owner.org_id)
    result = IndexUseCase().run(ctx, IndexUseCase.Params(use_case_id=uc["id"]))
    assert result["status"] == "ready" and ctx.progressed[-1] == 100.0
    found = retrieve(client, owner, uc["id"], "returns days")
    assert "90 days" in found["items"][0]["text"]
    # Another organization's use case is not the job's to touch.
    other = _Ctx(db, settings, owner.org_id + 1000)
    with pytest.raises(Exception, match="not found"):
        IndexUseCase().run(other, IndexUseCase.Params(use_case_id=uc["id"]))


def test_reindex_of_sentences_only_is_inline(client, owner, uc):
    r = client.post(f"{API}/use-cases/{uc['id']}/reindex", headers=owner.headers)
    assert r.status_code == 202
    assert r.json()["job"] is None and r.json()["status"] == "ready"
