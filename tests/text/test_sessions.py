"""Labeling sessions over HTTP: choosing the documents (ids, a group, new documents, a
seeded sample, all), the classes offered, assignees, updates and deletion, imports of an
already labeled file, and who may see which session."""

from __future__ import annotations

import io

import pytest

from tests.fixtures.factories import Account, invite_and_join
from tests.text.helpers import API, add_classes, add_documents, create_project, new_org

REVIEWS = [
    "The soup was cold. The waiter was friendly.",
    "Great pasta! Prices are fair.",
    "We waited an hour. Nobody apologised.",
    "Lovely terrace. The bill was too high.",
    "Fresh bread and good coffee. Staff smiled.",
    "Noisy room. Tasty dessert.",
]


def setup_project(
    client,
    db,
    owner: Account,
    *,
    type: str = "CLASS",
    classes: tuple[str, ...] = ("Food", "Staff", "Price"),
    labels: tuple[str, ...] = (),
    texts: list[str] | None = None,
) -> tuple[int, list[int]]:
    """A project of ``type`` with its classes and labels and documents; (id, doc ids)."""
    project_id = create_project(client, owner.headers, type=type)["id"]
    if classes:
        add_classes(client, owner.headers, project_id, list(classes))
    if labels:
        add_classes(client, owner.headers, project_id, list(labels), kind="labels")
    return project_id, add_documents(db, project_id, texts if texts is not None else REVIEWS)


def member(client, owner: Account, project_id: int, role: str) -> Account:
    """A new person of ``owner``'s organization with ``role`` in the project."""
    person = invite_and_join(client, owner, "viewer" if role == "VIEWER" else "member")
    if role != "VIEWER":
        r = client.put(
            f"{API}/{project_id}/members/{person.user_id}",
            json={"role": role},
            headers=owner.headers,
        )
        assert r.status_code == 200, r.text
    return person


def new_session(client, headers: dict, project_id: int, **body) -> dict:
    r = client.post(
        f"{API}/{project_id}/sessions", json={"name": "Session", **body}, headers=headers
    )
    assert r.status_code == 201, r.text
    return r.json()


def session_doc_ids(client, headers: dict, project_id: int, session_id: int) -> list[int]:
    r = client.get(f"{API}/{project_id}/sessions/{session_id}/documents", headers=headers)
    assert r.status_code == 200, r.text
    return [d["id"] for d in r.json()["items"]]


@pytest.fixture
def owner(client) -> Account:
    return new_org(client)


def test_a_session_of_chosen_documents_reads_as_the_seed_shows_it(client, db, owner):
    pid, docs = setup_project(client, db, owner)
    body = new_session(
        client,
        owner.headers,
        pid,
        name="First pass",
        description="Food and staff only",
        document_ids=[docs[3], docs[1]],
        classes=["Food", "Staff"],
    )
    assert body["mode"] == "ANNOTATION" and body["status"] == "CREATED"
    assert body["type"] == "CLASS" and body["project_id"] == pid
    assert body["organization_id"] == owner.org_id and body["user_id"] == owner.user_id
    assert body["document_count"] == 2 and body["progress"] == 0.0
    assert body["classes"] == ["Food", "Staff"] and body["labels"] == []
    assert body["predicted_score"] is None and body["model_id"] is None
    assert body["assignees"] == [] and body["sampling"] == {"how": "ids"}
    assert session_doc_ids(client, owner.headers, pid, body["id"]) == [docs[3], docs[1]]

    got = client.get(f"{API}/{pid}/sessions/{body['id']}", headers=owner.headers).json()
    assert got == body

    everything = new_session(client, owner.headers, pid)
    assert everything["document_count"] == len(docs) and everything["classes"] == [
        "Food",
        "Staff",
        "Price",
    ]


def test_a_seeded_sample_is_the_same_sample_every_time(client, db, owner):
    pid, docs = setup_project(client, db, owner, texts=[f"Review {i}." for i in range(40)])
    a = new_session(client, owner.headers, pid, sample_size=10, seed=7)
    b = new_session(client, owner.headers, pid, sample_size=10, seed=7)
    c = new_session(client, owner.headers, pid, sample_size=10, seed=8)
    first = session_doc_ids(client, owner.headers, pid, a["id"])
    assert len(first) == 10 and len(set(first)) == 10 and set(first) <= set(docs)
    assert session_doc_ids(client, owner.headers, pid, b["id"]) == first
    assert session_doc_ids(client, owner.headers, pid, c["id"]) != first
    assert a["sampling"] == {"how": "random", "group_id": None, "sample_size": 10, "seed": 7}
    unseeded = new_session(client, owner.headers, pid, sample_size=50)
    assert unseeded["document_count"] == 40 and isinstance(unseeded["sampling"]["seed"], int)


def test_a_group_and_new_documents_make_sessions(client, db, owner):
    pid, docs = setup_project(client, db, owner)
    r = client.post(
        f"{API}/{pid}/groups",
        json={"name": "Complaints", "document_ids": [docs[0], docs[2], docs[5]]},
        headers=owner.headers,
    )
    assert r.status_code == 201, r.text
    group = r.json()["id"]
    whole = new_session(client, owner.headers, pid, group_id=group)
    assert sorted(session_doc_ids(client, owner.headers, pid, whole["id"])) == sorted(
        [docs[0], docs[2], docs[5]]
    )
    assert whole["document_group_id"] == group
    sample = new_session(client, owner.headers, pid, group_id=group, sample_size=2, seed=1)
    assert set(session_doc_ids(client, owner.headers, pid, sample["id"])) < {
        docs[0],
        docs[2],
        docs[5],
    }

    made = new_session(
        client,
        owner.headers,
        pid,
        documents=[
            {"text": "Brand new review. Two sentences.", "id": "n-1", "stars": 4},
            {"text": "Another one"},
        ],
    )
    assert made["document_count"] == 2
    new_ids = session_doc_ids(client, owner.headers, pid, made["id"])
    assert not set(new_ids) & set(docs)
    doc = client.get(
        f"{API}/{pid}/sessions/{made['id']}/documents/{new_ids[0]}", headers=owner.headers
    ).json()
    assert doc["external_id"] == "n-1" and doc["meta"] == {"stars": 4}
    assert [s["text"] for s in doc["segments"]] == ["Brand new review.", "Two sentences."]
    project = client.get(f"{API}/{pid}", headers=owner.headers).json()
    assert project["document_count"] == len(docs) + 2


def test_bad_choices_are_refused_and_nothing_is_made(client, db, owner):
    pid, docs = setup_project(client, db, owner)
    other_pid, other_docs = setup_project(client, db, owner)
    url = f"{API}/{pid}/sessions"
    cases = [
        ({"name": "x", "classes": ["Food", "Ambience"]}, 422, "UNKNOWN_CLASS"),
        ({"name": "x", "labels": ["POS"]}, 422, "UNKNOWN_LABEL"),
        ({"name": "x", "document_ids": [docs[0], other_docs[0]]}, 422, "UNKNOWN_DOCUMENTS"),
        ({"name": "x", "document_ids": [docs[0]], "group_id": 1}, 422, None),
        ({"name": "x", "document_ids": [docs[0]], "sample_size": 1}, 422, None),
        ({"name": "x", "group_id": 999_999}, 404, None),
        ({"name": "x", "documents": [{"text": "   "}]}, 422, "EMPTY_TEXT"),
        ({"name": "x", "documents": [{"text": "a\u0000b"}]}, 422, None),
        ({"name": ""}, 422, None),
        ({"name": "x", "mode": "REVIEW"}, 422, None),
        ({"name": "x", "mode": "IMPORT"}, 422, None),
        ({"name": "x", "file_id": "abc"}, 422, None),
    ]
    for body, code, reason in cases:
        r = client.post(url, json=body, headers=owner.headers)
        assert r.status_code == code, (body, r.text)
        assert "error" in r.json()
        if reason:
            assert r.json()["error"]["details"]["reason"] == reason, r.text
    r = client.post(url, json={"name": "x", "classes": ["Ambience"]}, headers=owner.headers)
    assert r.json()["error"]["details"]["classes"] == ["Ambience"]
    assert client.get(url, headers=owner.headers).json()["total"] == 0
    empty_pid, _ = setup_project(client, db, owner, texts=[])
    r = client.post(f"{API}/{empty_pid}/sessions", json={"name": "x"}, headers=owner.headers)
    assert r.status_code == 422 and r.json()["error"]["details"]["reason"] == "NO_DOCUMENTS"
    assert client.get(f"{API}/{other_pid}/sessions", headers=owner.headers).json()["total"] == 0


def test_lists_filter_by_mode_and_status(client, db, owner):
    pid, docs = setup_project(client, db, owner)
    a = new_session(client, owner.headers, pid, name="A")
    b = new_session(client, owner.headers, pid, name="B")
    r = client.patch(
        f"{API}/{pid}/sessions/{b['id']}", json={"status": "FINISHED"}, headers=owner.headers
    )
    assert r.status_code == 200 and r.json()["status"] == "FINISHED" and r.json()["finished"]

    def names(query: str) -> list[str]:
        r = client.get(f"{API}/{pid}/sessions{query}", headers=owner.headers)
        assert r.status_code == 200, r.text
        return [s["name"] for s in r.json()["items"]]

    assert names("") == ["B", "A"]
    assert names("?status=FINISHED") == ["B"]
    assert names("?status=created,finished") == ["B", "A"]
    assert names("?mode=ANNOTATION") == ["B", "A"]
    assert names("?mode=CORRECTION") == []
    assert names("?limit=1&offset=1") == ["A"]
    r = client.get(f"{API}/{pid}/sessions?mode=TRAINING", headers=owner.headers)
    assert r.status_code == 422 and r.json()["error"]["details"]["reason"] == "UNKNOWN_MODE"
    assert a["id"] != b["id"]


def test_update_narrows_offer_and_closes_and_reopens(client, db, owner):
    pid, docs = setup_project(client, db, owner)
    s = new_session(client, owner.headers, pid)
    url = f"{API}/{pid}/sessions/{s['id']}"
    r = client.patch(
        url,
        json={"name": "Renamed", "classes": ["Price"], "description": "d"},
        headers=owner.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Renamed" and r.json()["classes"] == ["Price"]
    assert client.patch(url, json={"classes": ["Nope"]}, headers=owner.headers).status_code == 422
    assert (
        client.patch(url, json={"status": "ANNOTATING"}, headers=owner.headers).status_code == 409
    )
    assert client.patch(url, json={"status": "FINISHED"}, headers=owner.headers).status_code == 200
    r = client.patch(url, json={"status": "ANNOTATING"}, headers=owner.headers)
    assert r.status_code == 200 and r.json()["status"] == "ANNOTATING"
    assert r.json()["finished"] is None
    assert client.patch(url, json={"status": "FAILED"}, headers=owner.headers).status_code == 422
    assert client.patch(url, json={"mode": "CORRECTION"}, headers=owner.headers).status_code == 422
    events = client.get("/api/v1/audit?action=text.session.*", headers=owner.headers)
    assert events.status_code == 200, events.text
    changes = [(e["action"], e["details"]) for e in reversed(events.json()["items"])]
    assert [a for a, _ in changes] == ["text.session.create"] + ["text.session.update"] * 3
    assert changes[-1][1] == {"before": {"status": "FINISHED"}, "after": {"status": "ANNOTATING"}}


def test_deleting_a_labeled_session_needs_confirmation(client, db, owner):
    pid, docs = setup_project(client, db, owner)
    s = new_session(client, owner.headers, pid, document_ids=[docs[0]])
    doc = client.get(
        f"{API}/{pid}/sessions/{s['id']}/documents/{docs[0]}", headers=owner.headers
    ).json()
    seg = doc["segments"][0]["id"]
    r = client.put(
        f"{API}/{pid}/sessions/{s['id']}/documents/{docs[0]}/segments/{seg}/tags",
        json={"tags": [{"class": "Food"}], "version": None},
        headers=owner.headers,
    )
    assert r.status_code == 200, r.text
    url = f"{API}/{pid}/sessions/{s['id']}"
    r = client.delete(url, headers=owner.headers)
    assert r.status_code == 409 and r.json()["error"]["details"]["annotations"] == 1
    assert client.delete(f"{url}?confirm=true", headers=owner.headers).status_code == 204
    assert client.get(url, headers=owner.headers).status_code == 404
    assert client.get(f"{API}/{pid}", headers=owner.headers).json()["document_count"] == len(docs)
    empty = new_session(client, owner.headers, pid)
    assert (
        client.delete(f"{API}/{pid}/sessions/{empty['id']}", headers=owner.headers).status_code
        == 204
    )


def test_assignees_are_people_who_may_label_here(client, db, owner):
    pid, docs = setup_project(client, db, owner)
    ann = member(client, owner, pid, "ANNOTATOR")
    manager = member(client, owner, pid, "MANAGER")
    viewer = member(client, owner, pid, "VIEWER")
    stranger = new_org(client)
    s = new_session(client, owner.headers, pid, assignees=[ann.user_id, ann.user_id])
    assert [a["user_id"] for a in s["assignees"]] == [ann.user_id]
    assert s["assignees"][0]["email"] == ann.email
    url = f"{API}/{pid}/sessions/{s['id']}/assignees"
    r = client.put(url, json={"user_ids": [manager.user_id, ann.user_id]}, headers=owner.headers)
    assert r.status_code == 200, r.text
    assert sorted(a["user_id"] for a in r.json()["assignees"]) == sorted(
        [manager.user_id, ann.user_id]
    )
    r = client.put(url, json={"user_ids": [viewer.user_id]}, headers=owner.headers)
    assert r.status_code == 422 and r.json()["error"]["details"]["reason"] == "CANNOT_ANNOTATE"
    r = client.put(url, json={"user_ids": [stranger.user_id]}, headers=owner.headers)
    assert r.status_code == 422 and r.json()["error"]["details"]["reason"] == "NOT_A_MEMBER"
    r = client.put(url, json={"user_ids": [ann.user_id]}, headers=ann.headers)
    assert r.status_code == 403
    r = client.put(url, json={"user_ids": []}, headers=owner.headers)
    assert r.status_code == 200 and r.json()["assignees"] == []


def test_annotators_see_only_their_sessions_and_others_get_404(client, db, owner):
    pid, docs = setup_project(client, db, owner)
    other_pid, other_docs = setup_project(client, db, owner)
    ann = member(client, owner, pid, "ANNOTATOR")
    r = client.put(
        f"{API}/{other_pid}/members/{ann.user_id}",
        json={"role": "ANNOTATOR"},
        headers=owner.headers,
    )
    assert r.status_code == 200
    viewer = member(client, owner, pid, "VIEWER")
    mine = new_session(client, owner.headers, pid, name="Mine", assignees=[ann.user_id])
    theirs = new_session(client, owner.headers, pid, name="Not mine")
    elsewhere = new_session(client, owner.headers, other_pid, name="Elsewhere")

    listed = client.get(f"{API}/{pid}/sessions", headers=ann.headers).json()
    assert [s["name"] for s in listed["items"]] == ["Mine"] and listed["total"] == 1
    assert client.get(f"{API}/{pid}/sessions/{mine['id']}", headers=ann.headers).status_code == 200
    doc_url = f"{API}/{pid}/sessions/{theirs['id']}/documents/{docs[0]}"
    seg = client.get(doc_url, headers=owner.headers).json()["segments"][0]["id"]
    for url in (
        f"{API}/{pid}/sessions/{theirs['id']}",
        f"{API}/{pid}/sessions/{theirs['id']}/documents",
        f"{API}/{pid}/sessions/{theirs['id']}/progress",
        f"{API}/{pid}/sessions/{theirs['id']}/agreement",
        doc_url,
        f"{API}/{other_pid}/sessions/{elsewhere['id']}",
        f"{API}/{pid}/sessions/{elsewhere['id']}",
    ):
        r = client.get(url, headers=ann.headers)
        assert r.status_code == 404, (url, r.text)
        assert r.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
    r = client.put(
        f"{doc_url}/segments/{seg}/tags", json={"tags": [], "version": None}, headers=ann.headers
    )
    assert r.status_code == 404
    r = client.post(f"{doc_url}/mark", json={"name": "ANNOTATED"}, headers=ann.headers)
    assert r.status_code == 404

    # Viewers read every session and save nothing; annotators cannot manage.
    assert client.get(f"{API}/{pid}/sessions", headers=viewer.headers).json()["total"] == 2
    assert client.get(doc_url, headers=viewer.headers).status_code == 200
    r = client.put(
        f"{doc_url}/segments/{seg}/tags", json={"tags": [], "version": None}, headers=viewer.headers
    )
    assert r.status_code == 403 and r.json()["error"]["code"] == "PERMISSION_DENIED"
    r = client.post(f"{doc_url}/mark", json={"name": "ANNOTATED"}, headers=viewer.headers)
    assert r.status_code == 403
    r = client.post(f"{API}/{pid}/sessions", json={"name": "x"}, headers=ann.headers)
    assert r.status_code == 403
    r = client.patch(f"{API}/{pid}/sessions/{mine['id']}", json={"name": "y"}, headers=ann.headers)
    assert r.status_code == 403
    r = client.delete(f"{API}/{pid}/sessions/{mine['id']}", headers=viewer.headers)
    assert r.status_code == 403

    # Another organization sees nothing of it.
    stranger = new_org(client)
    for url in (f"{API}/{pid}/sessions", f"{API}/{pid}/sessions/{mine['id']}"):
        assert client.get(url, headers=stranger.headers).status_code == 404


def _upload(client, headers, pid, name: str, content: str) -> str:
    files = {"file": (name, io.BytesIO(content.encode()), "text/csv")}
    r = client.post(f"{API}/{pid}/files", files=files, headers=headers)
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_an_already_labeled_file_becomes_an_import_session(client, db, owner):
    pid, _ = setup_project(client, db, owner, texts=[])
    csv = (
        "review,topic,stars\n"
        "The soup was cold.,Food,2\n"
        '"Friendly staff, quick service.",staff,5\n'
        "Too expensive.,Price,1\n"
        ",Food,3\n"
        "No opinion here.,,3\n"
    )
    file_id = _upload(client, owner.headers, pid, "labeled.csv", csv)
    s = new_session(
        client,
        owner.headers,
        pid,
        name="Imported",
        file_id=file_id,
        column_mapping={"text": "review", "class": "topic"},
    )
    assert s["mode"] == "IMPORT" and s["status"] == "FINISHED" and s["progress"] == 100.0
    assert s["document_count"] == 4
    assert s["sampling"]["rows"] == 5 and s["sampling"]["rows_without_text"] == 1
    assert s["sampling"]["labeled"] == 3
    r = client.get(f"{API}/{pid}/documents?details=tags,meta,segments", headers=owner.headers)
    docs = {d["text"]: d for d in r.json()["items"]}
    assert [t["class"] for t in docs["Friendly staff, quick service."]["tags"]] == ["Staff"]
    assert docs["Friendly staff, quick service."]["tags"][0]["source"] == "import"
    assert len(docs["Friendly staff, quick service."]["segments"]) == 1
    assert docs["Too expensive."]["meta"] == {"stars": 1} or docs["Too expensive."]["meta"] == {
        "stars": "1"
    }
    assert docs["No opinion here."]["tags"] == []
    url = f"{API}/{pid}/sessions/{s['id']}/documents/{next(iter(docs.values()))['id']}"
    seg = client.get(url, headers=owner.headers).json()["segments"][0]["id"]
    r = client.put(
        f"{url}/segments/{seg}/tags", json={"tags": [], "version": None}, headers=owner.headers
    )
    assert r.status_code == 409 and r.json()["error"]["details"]["reason"] == "NOT_LABELED_HERE"


def test_an_import_naming_unknown_classes_is_refused_unless_asked_to_create_them(client, db, owner):
    pid, _ = setup_project(client, db, owner, type="LABEL", classes=(), labels=("Food",), texts=[])
    csv = 'text,tags\nGood food and kind staff.,"food; Staff"\nCheap.,Price|Value\n'
    file_id = _upload(client, owner.headers, pid, "tags.csv", csv)
    body = {"name": "x", "file_id": file_id, "column_mapping": {"text": "text", "label": "tags"}}
    r = client.post(f"{API}/{pid}/sessions", json=body, headers=owner.headers)
    assert r.status_code == 422, r.text
    details = r.json()["error"]["details"]
    assert details["reason"] == "UNKNOWN_TAG" and details["labels"] == ["Staff", "Price", "Value"]
    assert client.get(f"{API}/{pid}/documents", headers=owner.headers).json()["total"] == 0
    r = client.post(
        f"{API}/{pid}/sessions",
        json={**body, "column_mapping": {"text": "text", "class": "tags"}},
        headers=owner.headers,
    )
    assert r.status_code == 422 and r.json()["error"]["details"]["reason"] == "BAD_MAPPING"
    r = client.post(
        f"{API}/{pid}/sessions",
        json={**body, "column_mapping": {"text": "body", "label": "tags"}},
        headers=owner.headers,
    )
    assert r.status_code == 422
    assert r.json()["error"]["details"]["reason"] == "COLUMN_NOT_FOUND"
    assert r.json()["error"]["details"]["columns"] == ["text", "tags"]

    s = new_session(client, owner.headers, pid, **{**body, "create_missing": True})
    labels = client.get(f"{API}/{pid}/labels", headers=owner.headers).json()["items"]
    assert [lab["name"] for lab in labels] == ["Food", "Staff", "Price", "Value"]
    r = client.get(f"{API}/{pid}/documents?details=tags", headers=owner.headers)
    tags = {d["text"]: sorted(t["label"] for t in d["tags"]) for d in r.json()["items"]}
    assert tags == {"Good food and kind staff.": ["Food", "Staff"], "Cheap.": ["Price", "Value"]}
    assert s["document_count"] == 2


def test_an_absa_import_pairs_aspects_with_sentiments(client, db, owner):
    pid, _ = setup_project(client, db, owner, type="ABSA", classes=("food", "service"), texts=[])
    csv = (
        "sentence,aspect,polarity\n"
        "Tasty but slow.,food;service,positive;negative\n"
        "Rude waiter.,service,NEG\n"
        "Odd.,food,angry\n"
    )
    file_id = _upload(client, owner.headers, pid, "absa.csv", csv)
    mapping = {"text": "sentence", "aspect": "aspect", "label": "polarity"}
    body = {"name": "x", "file_id": file_id, "column_mapping": mapping, "create_missing": True}
    r = client.post(f"{API}/{pid}/sessions", json=body, headers=owner.headers)
    assert r.status_code == 422 and r.json()["error"]["details"]["labels"] == ["angry"]
    file_id = _upload(client, owner.headers, pid, "absa.csv", csv.rsplit("Odd.", 1)[0])
    new_session(client, owner.headers, pid, **{**body, "file_id": file_id})
    r = client.get(f"{API}/{pid}/documents?details=tags", headers=owner.headers)
    tags = {
        d["text"]: sorted((t["class"], t["label"]) for t in d["tags"]) for d in r.json()["items"]
    }
    assert tags == {
        "Tasty but slow.": [("food", "POS"), ("service", "NEG")],
        "Rude waiter.": [("service", "NEG")],
    }
