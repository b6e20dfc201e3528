"""Documents of a text project over HTTP: added as JSON (or a bare array, or a dataset's
column), split into segments, read with details, searched with the database's
full-text index, their meta changed, deleted; and every refusal the issue's "Bad input"
names (empty texts, NUL, too long, duplicate ids, another project's documents)."""

from __future__ import annotations

import io
import random
import string

import pytest
from sqlalchemy import func, select, text

from augury.accounts.principal import Principal
from augury.errors import Conflict
from augury.text.models import (
    TextAnnotation,
    TextClass,
    TextDocument,
    TextLabel,
    TextProject,
    TextSegment,
    TextSession,
    TextSessionDocument,
)
from augury.text.services import documents as documents_service
from augury.text.services.documents import NewDocument
from tests.fixtures.factories import invite_and_join
from tests.text.helpers import API, create_project, new_org

REVIEWS = [
    {"text": "The room was clean. Dr. Smith at the desk was kind!", "id": "r1", "stars": 5},
    {"text": "Breakfast cost $4.50 and it was cold. Never again?", "id": "r2", "stars": 1},
    {"text": "Great location near the station.", "id": "r3", "stars": 4, "city": "Wien"},
]


@pytest.fixture
def owner(client):
    return new_org(client)


@pytest.fixture
def project(client, owner):
    return create_project(client, owner.headers, name="Reviews")


def docs_url(project) -> str:
    return f"{API}/{project['id']}/documents"


def post(client, owner, project, body):
    return client.post(docs_url(project), json=body, headers=owner.headers)


def stored(db, project) -> tuple[int, int, int]:
    """Documents, segments and the project's document_count, as the database has them."""
    with db.session() as s:
        docs = s.scalar(select(func.count()).where(TextDocument.project_id == project["id"]))
        segments = s.scalar(select(func.count()).where(TextSegment.project_id == project["id"]))
        count = s.get(TextProject, project["id"]).document_count
    return docs, segments, count


def test_json_documents_are_segmented_and_read_back_with_details(client, db, owner, project):
    r = post(client, owner, project, {"documents": REVIEWS})
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["count"] == 3
    assert [d["external_id"] for d in made["items"]] == ["r1", "r2", "r3"]
    assert [d["segment_count"] for d in made["items"]] == [2, 2, 1]
    assert stored(db, project) == (3, 5, 3)

    first = made["items"][0]["id"]
    r = client.get(f"{docs_url(project)}/{first}?details=segments,meta", headers=owner.headers)
    doc = r.json()
    assert doc["text"] == REVIEWS[0]["text"] and doc["source"] == "api"
    assert doc["meta"] == {"stars": 5}
    assert [s["text"] for s in doc["segments"]] == [
        "The room was clean.",
        "Dr. Smith at the desk was kind!",
    ]
    for s in doc["segments"]:
        assert doc["text"][s["start"] : s["end"]] == s["text"] and s["span"] == [
            s["start"],
            s["end"],
        ]
    assert "tags" not in doc

    plain = client.get(f"{docs_url(project)}/{first}", headers=owner.headers).json()
    assert "segments" not in plain and "meta" not in plain
    r = client.get(f"{docs_url(project)}/{first}?details=segments,colour", headers=owner.headers)
    assert r.status_code == 422 and r.json()["error"]["details"]["reason"] == "UNKNOWN_DETAIL"


def test_a_bare_array_and_the_segmentation_of_the_call(client, owner, project):
    text = "One sentence here. Another one.\n\nA second paragraph."
    r = post(client, owner, project, [{"text": text, "id": 18000}])
    assert r.status_code == 201, r.text
    assert r.json()["items"][0] == {
        "id": r.json()["items"][0]["id"],
        "external_id": "18000",
        "length": len(text),
        "segment_count": 3,
    }
    for mode, segments in (("paragraph", 2), ("none", 1)):
        r = post(client, owner, project, {"documents": [{"text": text}], "segmentation": mode})
        assert r.json()["items"][0]["segment_count"] == segments
    r = post(client, owner, project, {"documents": [{"text": text}], "segmentation": "words"})
    assert r.status_code == 422


def test_a_duplicate_id_is_409_naming_it_and_nothing_is_stored(client, db, owner, project):
    assert post(client, owner, project, {"documents": REVIEWS[:1]}).status_code == 201
    twice = [{"text": "a", "id": "x"}, {"text": "b", "id": "y"}, {"text": "c", "id": "x"}]
    r = post(client, owner, project, {"documents": twice})
    assert r.status_code == 409
    assert r.json()["error"]["details"]["ids"] == ["x"] and "'x'" in r.json()["error"]["message"]
    r = post(client, owner, project, {"documents": [{"text": "new", "id": "n"}, REVIEWS[0]]})
    assert r.status_code == 409 and r.json()["error"]["details"]["ids"] == ["r1"]
    assert stored(db, project) == (1, 2, 1)


def test_an_id_taken_by_another_call_meanwhile_is_409(client, db, owner, project):
    """Two calls that both passed the check: the database's unique index decides."""
    assert post(client, owner, project, {"documents": REVIEWS[:1]}).status_code == 201
    with pytest.raises(Conflict) as caught, db.session() as s:
        p = s.get(TextProject, project["id"])
        late = [NewDocument("Late.", "new"), NewDocument("Late too.", "r1")]
        documents_service.add(s, Principal(org_id=p.org_id), p, late)
    assert caught.value.details == {"reason": "DUPLICATE_ID"}
    assert stored(db, project) == (1, 2, 1)


@pytest.mark.parametrize("text", ["", "   \n\t ", None])
def test_an_empty_document_is_refused_naming_its_row(client, db, owner, project, text):
    body = {"documents": [{"text": "fine"}, {"text": text, "id": "e"}]}
    r = post(client, owner, project, body)
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["details"]["reason"] == "EMPTY_TEXT"
    assert error["details"]["index"] == 1 and error["details"]["id"] == "e"
    assert "Document 1" in error["message"]
    assert stored(db, project) == (0, 0, 0)

    r = post(client, owner, project, {**body, "skip_empty": True})
    assert r.status_code == 201 and r.json()["count"] == 1


def test_nul_characters_are_refused(client, db, owner, project):
    r = post(client, owner, project, {"documents": [{"text": "ok"}, {"text": "a\x00b"}]})
    assert r.status_code == 422
    assert r.json()["error"]["details"] == {"reason": "NUL_CHARACTER", "index": 1, "id": None}
    r = post(client, owner, project, [{"text": "ok"}, {"text": "fine", "note": "x\x00"}])
    assert r.status_code == 422
    assert r.json()["error"]["details"]["errors"][0]["loc"][:3] == ["body", "array", "1"]
    r = post(client, owner, project, {"documents": [{"text": "x", "id": "\x00"}]})
    assert r.status_code == 422
    assert r.json()["error"]["details"]["errors"][0]["loc"][:4] == [
        "body",
        "object",
        "documents",
        "0",
    ]
    assert stored(db, project) == (0, 0, 0)


def test_lone_surrogates_and_non_finite_numbers(client, db, owner, project):
    body = '[{"text": "ok \\ud800 no", "id": "s"}]'
    r = client.post(
        docs_url(project),
        content=body,
        headers={**owner.headers, "content-type": "application/json"},
    )
    assert r.status_code == 422 and r.json()["error"]["details"]["reason"] == "INVALID_UNICODE"
    body = '[{"text": "fine", "score": NaN, "big": Infinity, "note": "\\udc00"}]'
    r = client.post(
        docs_url(project),
        content=body,
        headers={**owner.headers, "content-type": "application/json"},
    )
    assert r.status_code == 201, r.text
    doc_id = r.json()["items"][0]["id"]
    r = client.get(f"{docs_url(project)}/{doc_id}?details=meta", headers=owner.headers)
    assert r.json()["meta"] == {"score": None, "big": None, "note": ""}


def test_a_5_mb_document_works_and_a_longer_one_than_the_limit_is_refused(
    client, db, owner, project, monkeypatch
):
    sentence = "The hotel was lovely and the staff at the front desk were very helpful. "
    text = (sentence * (5_000_000 // len(sentence) + 1))[:5_000_000].strip()
    r = post(client, owner, project, {"documents": [{"text": text, "id": "big"}]})
    assert r.status_code == 201, r.text[:300]
    made = r.json()["items"][0]
    assert made["length"] == len(text) and made["segment_count"] > 60_000
    r = client.get(f"{docs_url(project)}?q=helpful%20lovely", headers=owner.headers)
    assert [d["external_id"] for d in r.json()["items"]] == ["big"]

    monkeypatch.setattr(documents_service, "MAX_DOCUMENT_CHARS", 100)
    r = post(client, owner, project, {"documents": [{"text": "x" * 101, "id": "long"}]})
    assert r.status_code == 422
    assert r.json()["error"]["details"] | {"index": 0, "id": "long"} == r.json()["error"]["details"]
    assert r.json()["error"]["details"]["reason"] == "TEXT_TOO_LONG"


def test_a_document_richer_in_words_than_the_search_index_holds(client, db, owner, project):
    """PostgreSQL's tsvector holds about 1 MB: 150,000 distinct words are refused with a
    clear 422 there (SQLite's FTS5 has no such bound and takes them)."""
    rng = random.Random(7)
    words = {"".join(rng.choices(string.ascii_lowercase, k=9)) for _ in range(150_000)}
    r = post(client, owner, project, [{"text": "Fine."}, {"text": " ".join(sorted(words))}])
    if db.engine.dialect.name == "postgresql":
        assert r.status_code == 422, r.text[:300]
        assert r.json()["error"]["details"]["reason"] == "TOO_MANY_WORDS"
        assert stored(db, project) == (0, 0, 0)
    else:
        assert r.status_code == 201, r.text[:300]
        assert stored(db, project) == (2, 2, 2)


def fts_trigger(db) -> str | None:
    with db.session() as s:
        return s.scalar(
            text("SELECT name FROM sqlite_master WHERE type = 'trigger' AND name = :n"),
            {"n": documents_service.FTS_TRIGGER},
        )


def test_bulk_inserts_fill_the_search_index_and_keep_its_trigger(client, db, owner, project):
    """On SQLite a batch fills the index in one statement, its row trigger set aside in
    the transaction and made again, even when the batch fails."""
    sqlite = db.engine.dialect.name == "sqlite"
    bulk = [{"text": f"Bulk review {i}. Quiet garden.", "id": f"b{i}"} for i in range(150)]
    assert post(client, owner, project, bulk).status_code == 201
    assert post(client, owner, project, [{"text": "One quiet night."}]).status_code == 201
    r = client.get(f"{docs_url(project)}?q=quiet&limit=1", headers=owner.headers)
    assert r.json()["total"] == 151
    if sqlite:
        assert fts_trigger(db) == documents_service.FTS_TRIGGER

    late = [NewDocument(f"Late {i}.", f"late{i}") for i in range(149)] + [NewDocument("x", "b0")]
    with pytest.raises(Conflict), db.session() as s:
        p = s.get(TextProject, project["id"])
        try:
            documents_service.add(s, Principal(org_id=p.org_id), p, late)
        finally:
            if sqlite:
                assert (
                    s.scalar(
                        text("SELECT count(*) FROM sqlite_master WHERE name = :n"),
                        {"n": documents_service.FTS_TRIGGER},
                    )
                    == 1
                )
    assert stored(db, project)[0] == 151
    assert post(client, owner, project, [{"text": "Quiet again."}]).status_code == 201
    r = client.get(f"{docs_url(project)}?q=quiet&limit=1", headers=owner.headers)
    assert r.json()["total"] == 152


def test_search_matches_all_words_and_never_fails_on_syntax(client, owner, project):
    post(client, owner, project, {"documents": REVIEWS})
    other = create_project(client, owner.headers)
    post(client, owner, other, {"documents": [{"text": "The room was clean too."}]})

    def ids(q):
        r = client.get(docs_url(project), params={"q": q}, headers=owner.headers)
        assert r.status_code == 200, (q, r.text)
        return [d["external_id"] for d in r.json()["items"]]

    assert ids("clean") == ["r1"]
    assert ids("ROOM clean") == ["r1"]
    assert ids("breakfast cold") == ["r2"]
    assert ids("breakfast station") == []
    assert ids("was") == ["r1", "r2"]
    for q in ['"', "AND", "clean AND", "NEAR(room", "room*", "-clean", "(", "^", "a:b", "'"]:
        ids(q)
    assert ids('"clean"') == ["r1"]


def test_filters_paging_and_document_count(client, db, owner, project):
    post(
        client, owner, project, {"documents": [{"text": f"Review {i}.", "id": i} for i in range(7)]}
    )
    r = client.get(f"{docs_url(project)}?offset=2&limit=3", headers=owner.headers).json()
    assert [d["external_id"] for d in r["items"]] == ["2", "3", "4"]
    assert r["total"] == 7 and r["has_more"] is True
    r = client.get(f"{docs_url(project)}?external_id=5", headers=owner.headers).json()
    assert [d["external_id"] for d in r["items"]] == ["5"]
    assert stored(db, project)[2] == 7


def _tag_one(db, project, document_id) -> int:
    """A session, a class and a label, and one annotation on the document's first
    segment; the session's id."""
    with db.session() as s:
        p = s.get(TextProject, project["id"])
        cls = TextClass(project_id=p.id, name="Cleanliness")
        label = TextLabel(project_id=p.id, name="POS")
        ts = TextSession(org_id=p.org_id, project_id=p.id, name="first", mode="ANNOTATION")
        s.add_all([cls, label, ts])
        s.flush()
        s.add(TextSessionDocument(session_id=ts.id, document_id=document_id, position=0))
        segment = s.scalars(
            select(TextSegment)
            .where(TextSegment.document_id == document_id)
            .order_by(TextSegment.position)
        ).first()
        s.add(
            TextAnnotation(
                org_id=p.org_id,
                project_id=p.id,
                session_id=ts.id,
                document_id=document_id,
                segment_id=segment.id,
                annotator_key="import",
                source="import",
                tags=[
                    {"class_id": cls.id, "label_id": label.id, "start": None, "end": None},
                    {"class_id": cls.id, "label_id": None, "start": 4, "end": 8},
                ],
            )
        )
        return ts.id


def test_tags_details_and_the_session_filter(client, db, owner, project):
    ids = [d["id"] for d in post(client, owner, project, {"documents": REVIEWS}).json()["items"]]
    session_id = _tag_one(db, project, ids[0])
    r = client.get(
        f"{docs_url(project)}?details=tags,segments&session_id={session_id}",
        headers=owner.headers,
    )
    assert r.status_code == 200, r.text
    [doc] = r.json()["items"]
    assert doc["id"] == ids[0]
    first = doc["segments"][0]["id"]
    expected = [
        {"session_id": session_id, "segment_id": first, "annotator": "import",
         "annotator_id": None, "source": "import", "class": "Cleanliness", "label": "POS",
         "start": None, "end": None},
        {"session_id": session_id, "segment_id": first, "annotator": "import",
         "annotator_id": None, "source": "import", "class": "Cleanliness", "label": None,
         "start": 4, "end": 8},
    ]  # fmt: skip
    assert doc["tags"] == expected
    assert doc["segments"][0]["tags"] == expected and doc["segments"][1]["tags"] == []

    other = create_project(client, owner.headers)
    r = client.get(f"{docs_url(other)}?session_id={session_id}", headers=owner.headers)
    assert r.status_code == 404
    r = client.get(f"{docs_url(project)}?group_id=999", headers=owner.headers)
    assert r.status_code == 404


def test_meta_changes_and_text_never_does(client, owner, project):
    doc_id = post(client, owner, project, {"documents": REVIEWS[:1]}).json()["items"][0]["id"]
    url = f"{docs_url(project)}/{doc_id}"
    r = client.patch(url, json={"meta": {"stars": 4, "tags": ["a"]}}, headers=owner.headers)
    assert r.status_code == 200 and r.json()["meta"] == {"stars": 4, "tags": ["a"]}
    r = client.patch(url, json={"meta": {}, "text": "changed"}, headers=owner.headers)
    assert r.status_code == 422 and r.json()["error"]["details"]["reason"] == "TEXT_IMMUTABLE"
    assert client.get(url, headers=owner.headers).json()["text"] == REVIEWS[0]["text"]


def test_delete_one_and_many_keeps_counts_right(client, db, owner, project):
    ids = [d["id"] for d in post(client, owner, project, {"documents": REVIEWS}).json()["items"]]
    other = create_project(client, owner.headers)
    foreign = post(client, owner, other, {"documents": [{"text": "Elsewhere."}]}).json()
    foreign_id = foreign["items"][0]["id"]

    r = client.delete(f"{docs_url(project)}/{foreign_id}", headers=owner.headers)
    assert r.status_code == 404
    r = client.post(
        f"{docs_url(project)}/delete", json={"ids": [ids[1], foreign_id]}, headers=owner.headers
    )
    assert r.status_code == 422
    assert r.json()["error"]["details"] == {"reason": "UNKNOWN_DOCUMENTS", "ids": [foreign_id]}
    assert stored(db, project) == (3, 5, 3)

    assert client.delete(f"{docs_url(project)}/{ids[0]}", headers=owner.headers).status_code == 204
    assert client.get(f"{docs_url(project)}/{ids[0]}", headers=owner.headers).status_code == 404
    r = client.post(f"{docs_url(project)}/delete", json={"ids": ids[1:]}, headers=owner.headers)
    assert r.json() == {"deleted": 2}
    assert stored(db, project) == (0, 0, 0)
    assert stored(db, other) == (1, 1, 1)


def test_documents_from_a_dataset_column(client, owner, project):
    csv = "review,stars,when\nGood stay. Would return.,5,2024-01-02\nLoud room.,2,2024-02-03\n"
    files = {"file": ("reviews.csv", io.BytesIO(csv.encode()))}
    r = client.post(
        "/api/v1/datasets", data={"name": "reviews"}, files=files, headers=owner.headers
    )
    assert r.status_code == 201, r.text
    dataset_id = r.json()["id"]

    r = post(client, owner, project, {"dataset_id": dataset_id, "column": "review"})
    assert r.status_code == 201, r.text
    assert [d["segment_count"] for d in r.json()["items"]] == [2, 1]
    r = client.get(f"{docs_url(project)}?details=meta", headers=owner.headers).json()
    assert [d["source"] for d in r["items"]] == ["dataset", "dataset"]
    assert r["items"][0]["meta"]["stars"] == 5 and r["items"][0]["meta"]["when"] == "2024-01-02"

    r = post(client, owner, project, {"dataset_id": dataset_id, "column": "comment"})
    assert r.status_code == 422
    assert r.json()["error"]["details"]["columns"] == ["review", "stars", "when"]
    r = post(client, owner, project, {"dataset_id": dataset_id, "column": 0, "version": 9})
    assert r.status_code == 404
    stranger = new_org(client)
    r = post(client, stranger, create_project(client, stranger.headers), {
        "dataset_id": dataset_id, "column": 0})  # fmt: skip
    assert r.status_code == 404


def test_bodies_that_name_no_source_or_two(client, owner, project):
    for body in (
        {},
        {"documents": REVIEWS, "file_id": "x", "column": 0},
        {"file_id": "x"},
        {"documents": REVIEWS, "column": "text"},
        {"documents": REVIEWS, "version": 2},
    ):
        assert post(client, owner, project, body).status_code == 422, body
    r = post(client, owner, project, {"file_id": "no-such-file", "column": 0})
    assert r.status_code == 404


def test_roles_and_other_organizations(client, owner, project):
    viewer = invite_and_join(client, owner, "viewer")
    url = docs_url(project)
    assert client.post(url, json=REVIEWS, headers=viewer.headers).status_code == 403
    assert client.get(url, headers=viewer.headers).status_code == 200
    doc_id = post(client, owner, project, REVIEWS).json()["items"][0]["id"]
    assert client.delete(f"{url}/{doc_id}", headers=viewer.headers).status_code == 403
    r = client.patch(f"{url}/{doc_id}", json={"meta": {}}, headers=viewer.headers)
    assert r.status_code == 403

    stranger = new_org(client)
    for method, path, body in (
        ("GET", url, None),
        ("POST", url, REVIEWS),
        ("GET", f"{url}/{doc_id}", None),
        ("PATCH", f"{url}/{doc_id}", {"meta": {}}),
        ("DELETE", f"{url}/{doc_id}", None),
        ("POST", f"{url}/delete", {"ids": [doc_id]}),
    ):
        r = client.request(method, path, json=body, headers=stranger.headers)
        assert r.status_code == 404, (method, path)
