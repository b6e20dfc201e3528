"""Analyses: ad-hoc (documents in, tagged segments out, nothing stored) and batch (a
group's, a file's or a dataset's texts read by a model as a ``text.analyze`` job), with
results filtered and paged, aggregates over time, exports, the review queue and the
documents of an analysis. Jobs run here in the test's process through the runner's own
:class:`JobContext`, so progress, undo and notifications are the real ones."""

from __future__ import annotations

import csv
import io
import json

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, update

from augury.errors import Conflict
from augury.jobs import types as job_types
from augury.jobs.models import Job
from augury.notifications.models import Notification
from augury.runtime.job_process import JobAborted
from augury.text.models import (
    TextAnalysisResult,
    TextAnalysisTag,
    TextDocument,
    TextReviewItem,
)
from augury.text.services import analyses as analyses_service
from augury.text.services import modeling
from augury.text.services.analyses import BatchAnalysis, parse_time
from tests.text.helpers import (
    API,
    add_classes,
    add_documents,
    add_session,
    annotate,
    create_project,
    new_org,
    other_org,
    run_job,
    segments_of,
)
from tests.text.test_models import ABSA, label_ids
from tests.text.test_models import train as train_model
from tests.text.test_sessions import member

CLASSES = [
    {
        "name": "Food",
        "description": "The meal: dishes, taste, flavour, portions, the menu",
        "examples": ["The pasta was delicious", "Tasty soup and fresh bread"],
    },
    {
        "name": "Staff",
        "description": "The people serving: waiters, waitresses, service, friendliness",
        "examples": ["Our waiter was rude", "The staff were friendly and helpful"],
    },
    {
        "name": "Price",
        "description": "Money: the cost, the bill, expensive or cheap, value for money",
        "examples": ["Far too expensive", "The bill was reasonable for the price"],
    },
]
PLANTED = {
    "Food": ["The lasagna tasted wonderful.", "My steak was dry and the fries were cold."],
    "Staff": ["The waitress was very kind to us.", "The waiter ignored our table all night."],
    "Price": ["It cost a fortune for what you get.", "Cheap prices, great value for money."],
}


@pytest.fixture(autouse=True)
def _job_type():
    job_types.registry.register(BatchAnalysis.name, "augury.text.services.analyses:BatchAnalysis")


@pytest.fixture
def owner(client):
    return new_org(client)


def planted_project(client, owner, **fields) -> dict:
    project = create_project(client, owner.headers, name="Restaurant reviews", **fields)
    r = client.post(f"{API}/{project['id']}/classes", json=CLASSES, headers=owner.headers)
    assert r.status_code == 201, r.text
    return project


@pytest.fixture
def project(client, owner):
    return planted_project(client, owner)


def analyze(client, headers, project_id, body):
    return client.post(f"{API}/{project_id}/analyze", json=body, headers=headers)


def start(client, headers, project_id, body) -> dict:
    r = client.post(f"{API}/{project_id}/analyses", json={"name": "Batch", **body}, headers=headers)
    assert r.status_code == 202, r.text
    return r.json()


def batch(client, db, settings, headers, project_id, body) -> dict:
    """A batch analysis started over HTTP and run to its end; its body after."""
    started = start(client, headers, project_id, body)
    run_job(db, settings, started["job_id"])
    url = f"{API}/{project_id}/analyses/{started['analysis']['id']}"
    return client.get(url, headers=headers).json()


def group_of(client, headers, project_id, texts, prefix: str = "d") -> int:
    """A group of new documents with ids ``<prefix>0``, ``<prefix>1`` ..."""
    documents = [{"text": t, "id": f"{prefix}{i}"} for i, t in enumerate(texts)]
    r = client.post(
        f"{API}/{project_id}/groups",
        json={"name": f"Group {prefix}", "documents": documents},
        headers=headers,
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


# --- ad-hoc ---------------------------------------------------------------------------------


def test_adhoc_zero_shot_ranks_the_planted_class_first(client, owner, project):
    texts = [t for ts in PLANTED.values() for t in ts]
    body = {"documents": [{"text": t, "id": i} for i, t in enumerate(texts)]}
    r = analyze(client, owner.headers, project["id"], body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["model"] == {"id": None, "name": "zero-shot", "kind": "zero-shot"}
    assert out["type"] == "CLASS"
    expected = [c for c, ts in PLANTED.items() for _ in ts]
    got = []
    for i, doc in enumerate(out["documents"]):
        assert doc["id"] == i and doc["text"] == texts[i]
        [segment] = doc["segments"]
        assert segment["text"] == texts[i] and segment["span"] == [0, len(texts[i])]
        [tag] = segment["tags"]
        assert set(tag) == {"class", "class_id", "label", "label_id", "confidence"}
        assert tag["label"] is None and tag["label_id"] is None
        assert 0 < tag["confidence"] <= 1 and segment["confidence"] == tag["confidence"]
        got.append(tag["class"])
    assert got == expected
    ids = {c["name"]: c["id"] for c in client.get(
        f"{API}/{project['id']}/classes", headers=owner.headers).json()["items"]}  # fmt: skip
    assert out["documents"][0]["segments"][0]["tags"][0]["class_id"] == ids["Food"]


def test_adhoc_splits_documents_into_segments_and_takes_the_texts_shorthand(client, owner, project):
    text = "The waiter was rude. The soup was tasty!"
    r = analyze(client, owner.headers, project["id"], {"texts": [text]})
    [doc] = r.json()["documents"]
    assert doc["id"] is None
    assert [(s["text"], s["span"]) for s in doc["segments"]] == [
        ("The waiter was rude.", [0, 20]),
        ("The soup was tasty!", [21, 40]),
    ]
    assert [s["tags"][0]["class"] for s in doc["segments"]] == ["Staff", "Food"]
    r = analyze(client, owner.headers, project["id"], {"texts": [text], "segmentation": "none"})
    assert [s["span"] for s in r.json()["documents"][0]["segments"]] == [[0, 40]]


def test_adhoc_refuses_more_than_100_documents_and_bad_texts(client, owner, project):
    r = analyze(client, owner.headers, project["id"], {"texts": ["Fine."] * 101})
    assert r.status_code == 422
    assert r.json()["error"]["details"]["reason"] == "TOO_MANY_DOCUMENTS"
    assert "batch analysis" in r.json()["error"]["message"]
    r = analyze(client, owner.headers, project["id"], {"texts": ["Fine."] * 100})
    assert r.status_code == 200 and len(r.json()["documents"]) == 100
    r = analyze(client, owner.headers, project["id"], {"texts": ["Fine.", "   "]})
    assert r.status_code == 422 and r.json()["error"]["details"]["index"] == 1
    r = analyze(client, owner.headers, project["id"], {"texts": ["a\x00b"]})
    assert r.status_code == 422
    r = analyze(client, owner.headers, project["id"], {})
    assert r.status_code == 422


def test_adhoc_long_emoji_and_non_english_texts_give_sensible_results(client, owner, project):
    long_text = ("The pasta was delicious and the sauce was rich. " * 2100)[:100_000]
    texts = [long_text, "😀😀🍕🍕👍", "الطعام كان لذيذا جدا", "服务员非常友好。菜很好吃。"]
    r = analyze(client, owner.headers, project["id"], {"texts": texts})
    assert r.status_code == 200, r.text
    docs = r.json()["documents"]
    assert len(docs[0]["segments"]) == 2084
    assert docs[0]["segments"][-1]["span"][1] <= 100_000
    assert {s["tags"][0]["class"] for s in docs[0]["segments"][:-1]} == {"Food"}
    for doc in docs[1:]:
        assert doc["segments"], doc
        for segment in doc["segments"]:
            [tag] = segment["tags"]
            assert tag["class"] in PLANTED and 0 <= tag["confidence"] <= 1
    assert len(docs[3]["segments"]) == 2


def test_adhoc_needs_a_model_where_zero_shot_cannot_tag(client, owner):
    project = create_project(client, owner.headers, type="CLASSLABEL")
    r = analyze(client, owner.headers, project["id"], {"texts": ["Nice."]})
    assert r.status_code == 422
    assert r.json()["error"]["details"]["reason"] == "NEEDS_MODEL"
    one = create_project(client, owner.headers)
    client.post(f"{API}/{one['id']}/classes", json=CLASSES[:1], headers=owner.headers)
    r = analyze(client, owner.headers, one["id"], {"texts": ["Nice."]})
    assert r.status_code == 422
    assert r.json()["error"]["details"]["reason"] == "TOO_FEW_CLASSES"


def test_adhoc_aspects_are_for_absa_projects(client, owner, project):
    body = {"documents": [{"text": "Nice.", "aspects": ["Food"]}]}
    r = analyze(client, owner.headers, project["id"], body)
    assert r.status_code == 422 and r.json()["error"]["details"]["reason"] == "NOT_ABSA"


def test_adhoc_is_for_viewers_and_hides_other_orgs_projects(client, owner, project):
    viewer = member(client, owner, project["id"], "VIEWER")
    r = analyze(client, viewer.headers, project["id"], {"texts": ["The soup was cold."]})
    assert r.status_code == 200
    _, elsewhere = other_org(client, owner)
    r = analyze(client, elsewhere, project["id"], {"texts": ["The soup was cold."]})
    assert r.status_code == 404
    r = analyze(client, new_org(client).headers, project["id"], {"texts": ["x"]})
    assert r.status_code == 404


# --- time parsing -----------------------------------------------------------------------


def test_parse_time_reads_common_spellings_and_nothing_else():
    assert parse_time("2024-03-01").isoformat() == "2024-03-01T00:00:00+00:00"
    assert parse_time("2024-03-01T10:00:00Z").hour == 10
    assert parse_time("2024/03/01 12:30").minute == 30
    assert parse_time("03/01/2024").month == 3
    assert parse_time(1_709_251_200).isoformat() == "2024-03-01T00:00:00+00:00"
    assert parse_time("1709251200000").isoformat() == "2024-03-01T00:00:00+00:00"
    for bad in ("", "yesterday", "2024-13-45", 7, True, None, [2024], "31/12/2024"):
        assert parse_time(bad) is None, bad


# --- batch ----------------------------------------------------------------------------------

REVIEWS = [
    "The waiter was rude. The soup was tasty!",
    "Far too expensive for what you get.",
    "The staff were friendly. The pasta was delicious. The bill was fair.",
]


def test_a_group_is_analyzed_by_a_job_and_its_results_filter_and_page(
    client, db, settings, owner, project
):
    pid = project["id"]
    group_id = group_of(client, owner.headers, pid, REVIEWS)
    started = start(client, owner.headers, pid, {"group_id": group_id})
    analysis = started["analysis"]
    assert analysis["status"] == "QUEUED" and analysis["progress"] == 0
    assert analysis["model_label"] == "zero-shot" and analysis["model_id"] is None
    assert analysis["source"]["group_id"] == group_id and analysis["job_id"] == started["job_id"]
    result = run_job(db, settings, started["job_id"])
    assert result["documents"] == 3 and result["segments"] == 6
    url = f"{API}/{pid}/analyses/{analysis['id']}"
    done = client.get(url, headers=owner.headers).json()
    assert done["status"] == "SUCCEEDED" and done["progress"] == 100
    assert (done["document_count"], done["segment_count"], done["review_count"]) == (3, 6, 0)
    assert done["finished_at"] is not None

    page = client.get(f"{url}/results?limit=4", headers=owner.headers).json()
    assert page["total"] == 6 and page["has_more"] and len(page["items"]) == 4
    first = page["items"][0]
    assert set(first) == {
        "id", "document_id", "segment_id", "text", "span", "tags", "confidence", "occurred_at"
    }  # fmt: skip
    assert first["text"] == "The waiter was rude." and first["span"] == [0, 20]
    assert first["tags"][0]["class"] == "Staff" and first["occurred_at"] is not None
    rest = client.get(f"{url}/results?offset=4&limit=4", headers=owner.headers).json()
    everything = page["items"] + rest["items"]
    assert [r["id"] for r in everything] == sorted(r["id"] for r in everything)
    assert not rest["has_more"]
    classes = [r["tags"][0]["class"] for r in everything]
    assert classes == ["Staff", "Food", "Price", "Staff", "Food", "Price"]

    def texts(query: str) -> list[str]:
        r = client.get(f"{url}/results?{query}", headers=owner.headers)
        assert r.status_code == 200, r.text
        return [item["text"] for item in r.json()["items"]]

    assert texts("class=Food") == ["The soup was tasty!", "The pasta was delicious."]
    ids = {r["tags"][0]["class"]: r["tags"][0]["class_id"] for r in everything}
    assert texts(f"class={ids['Price']}&class=Food") == [
        "The soup was tasty!",
        "Far too expensive for what you get.",
        "The pasta was delicious.",
        "The bill was fair.",
    ]
    assert texts("class=Nothing") == []
    assert texts("class=%C2%B9") == []  # "¹" is a digit to str.isdigit, not to int()
    assert texts("q=THE%20WAITER") == ["The waiter was rude."]
    assert texts("q=%25") == [] and texts("q=_") == []
    confidences = sorted(r["confidence"] for r in everything)
    middle = confidences[3]
    assert len(texts(f"min_confidence={middle}")) == 3
    assert len(texts(f"max_confidence={middle}")) == 4
    assert client.get(f"{url}/results?min_confidence=2", headers=owner.headers).status_code == 422

    docs = client.get(
        f"{API}/{pid}/documents?analysis_id={analysis['id']}&class=Price", headers=owner.headers
    ).json()
    assert [d["external_id"] for d in docs["items"]] == ["d1", "d2"]
    docs = client.get(f"{API}/{pid}/documents?analysis_id={analysis['id']}", headers=owner.headers)
    assert docs.json()["total"] == 3
    r = client.get(f"{API}/{pid}/documents?class=Price", headers=owner.headers)
    assert r.status_code == 422

    [note] = notifications(db)
    assert note.kind == "text.analysis" and note.user_id == owner.user_id
    assert note.link == f"/text/projects/{pid}/analyses/{analysis['id']}"


def notifications(db) -> list[Notification]:
    with db.session() as s:
        return list(s.scalars(select(Notification).order_by(Notification.id)))


def upload(client, owner, pid, name: str, data: bytes) -> str:
    r = client.post(
        f"{API}/{pid}/files", files={"file": (name, io.BytesIO(data))}, headers=owner.headers
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_a_file_with_a_time_column_becomes_documents_and_aggregates_by_period(
    client, db, settings, owner, project
):
    pid = project["id"]
    rows = [
        ("r1", "The soup was tasty!", "2024-01-01"),
        ("r2", "The waiter was rude.", "2024-01-02T09:00:00Z"),
        ("r3", "Far too expensive.", "2024-01-15"),
        ("r4", "The pasta was delicious.", "2024-02-03"),
        ("r5", "", "2024-02-04"),
        ("r6", "The waitress was kind.", "not a date"),
    ]
    data = "id,review,written,stars\n" + "".join(f"{i},{t},{w},4\n" for i, t, w in rows)
    file_id = upload(client, owner, pid, "reviews.csv", data.encode())
    body = {"file_id": file_id, "column": "REVIEW", "id_column": 0, "time_column": "written"}
    done = batch(client, db, settings, owner.headers, pid, body)
    assert done["status"] == "SUCCEEDED", done
    assert done["source"]["column"] == "review" and done["source"]["id_column"] == "id"
    assert done["source"]["times_unparsed"] == 1 and done["source"]["rows_skipped"] == 1
    assert done["document_count"] == 5 and done["segment_count"] == 5
    listed = client.get(
        f"{API}/{pid}/documents?analysis_id={done['id']}&details=meta", headers=owner.headers
    ).json()["items"]
    assert [d["external_id"] for d in listed] == ["r1", "r2", "r3", "r4", "r6"]
    assert {d["source"] for d in listed} == {"analysis"}
    assert listed[0]["meta"] == {"written": "2024-01-01", "stars": "4"}

    url = f"{API}/{pid}/analyses/{done['id']}"
    items = client.get(f"{url}/results", headers=owner.headers).json()["items"]
    assert [i["occurred_at"] for i in items] == [
        "2024-01-01T00:00:00Z",
        "2024-01-02T09:00:00Z",
        "2024-01-15T00:00:00Z",
        "2024-02-03T00:00:00Z",
        None,
    ]
    by_month = client.get(f"{url}/aggregates?period=month", headers=owner.headers).json()
    assert by_month["classes"] == ["Food", "Staff", "Price"] and by_month["labels"] == []
    assert by_month["totals"] == [
        {"class": "Food", "label": None, "count": 2},
        {"class": "Price", "label": None, "count": 1},
        {"class": "Staff", "label": None, "count": 2},
    ]
    assert by_month["series"] == [
        {"period": "2024-01-01", "class": "Food", "label": None, "count": 1},
        {"period": "2024-01-01", "class": "Price", "label": None, "count": 1},
        {"period": "2024-01-01", "class": "Staff", "label": None, "count": 1},
        {"period": "2024-02-01", "class": "Food", "label": None, "count": 1},
    ]
    by_day = client.get(f"{url}/aggregates?period=day", headers=owner.headers).json()
    assert [(p["period"], p["class"]) for p in by_day["series"]] == [
        ("2024-01-01", "Food"),
        ("2024-01-02", "Staff"),
        ("2024-01-15", "Price"),
        ("2024-02-03", "Food"),
    ]
    by_week = client.get(f"{url}/aggregates?period=week", headers=owner.headers).json()
    assert [p["period"] for p in by_week["series"]] == [
        "2024-01-01", "2024-01-01", "2024-01-15", "2024-01-29"
    ]  # fmt: skip
    r = client.get(f"{url}/aggregates?period=year", headers=owner.headers)
    assert r.status_code == 422

    # The same file again with its ids: the project already has them, so the job fails
    # and removes what it made; without the id column it succeeds.
    again = start(client, owner.headers, pid, body)
    with pytest.raises(Conflict):
        run_job(db, settings, again["job_id"])
    failed = client.get(f"{API}/{pid}/analyses/{again['analysis']['id']}", headers=owner.headers)
    assert failed.json()["status"] == "FAILED" and "already has" in failed.json()["error"]
    body.pop("id_column")
    second = batch(client, db, settings, owner.headers, pid, body)
    assert second["status"] == "SUCCEEDED" and second["document_count"] == 5
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(TextDocument)) == 10


def test_a_dataset_column_is_analyzed(client, db, settings, owner, project):
    data = "review,when\nThe soup was tasty! The waiter was rude.,2024-05-06\nToo pricey.,x\n"
    r = client.post(
        "/api/v1/datasets",
        data={"name": "reviews"},
        files={"file": ("reviews.csv", io.BytesIO(data.encode()))},
        headers=owner.headers,
    )
    assert r.status_code == 201, r.text
    dataset_id = r.json()["id"]
    body = {"dataset_id": dataset_id, "column": "review", "time_column": "when"}
    done = batch(client, db, settings, owner.headers, project["id"], body)
    assert done["status"] == "SUCCEEDED", done
    assert done["source"]["version"] == 1 and done["source"]["times_unparsed"] == 1
    assert (done["document_count"], done["segment_count"]) == (2, 3)
    r = client.post(
        f"{API}/{project['id']}/analyses",
        json={"name": "x", "dataset_id": dataset_id, "column": "nope"},
        headers=owner.headers,
    )
    assert r.status_code == 422 and r.json()["error"]["details"]["reason"] == "COLUMN_NOT_FOUND"


def test_analysis_bodies_that_name_no_source_or_two_are_refused(client, owner, project):
    url = f"{API}/{project['id']}/analyses"
    for body in (
        {"name": "x"},
        {"name": "x", "group_id": 1, "file_id": "f"},
        {"name": "x", "file_id": "f"},
        {"name": "x", "group_id": 1, "column": "text"},
        {"name": "x", "group_id": 1, "segmentation": "none"},
        {"name": "x", "group_id": 1, "version": 2},
        {"name": " ", "group_id": 1},
    ):
        r = client.post(url, json=body, headers=owner.headers)
        assert r.status_code == 422, (body, r.text)
    r = client.post(url, json={"name": "x", "group_id": 999_999}, headers=owner.headers)
    assert r.status_code == 404
    classlabel = create_project(client, owner.headers, type="CLASSLABEL")
    gid = group_of(client, owner.headers, classlabel["id"], ["Fine."])
    r = client.post(
        f"{API}/{classlabel['id']}/analyses",
        json={"name": "x", "group_id": gid},
        headers=owner.headers,
    )
    assert r.status_code == 422 and r.json()["error"]["details"]["reason"] == "NEEDS_MODEL"


def test_exports_in_three_formats_read_back(client, db, settings, owner, project):
    pid = project["id"]
    texts = ['=HYPERLINK("x") The soup was tasty!', "The waiter was rude."]
    done = batch(client, db, settings, owner.headers, pid, {"group_id": group_of(
        client, owner.headers, pid, texts)})  # fmt: skip
    url = f"{API}/{pid}/analyses/{done['id']}/export"

    r = client.get(f"{url}?format=csv", headers=owner.headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert list(rows[0]) == list(analyses_service.EXPORT_COLUMNS)
    assert [row["text"] for row in rows] == ["'" + texts[0], texts[1]]
    assert [row["class"] for row in rows] == ["Food", "Staff"]
    assert rows[0]["external_id"] == "d0" and rows[0]["label"] == ""

    r = client.get(f"{url}?format=jsonl", headers=owner.headers)
    lines = [json.loads(line) for line in r.text.splitlines()]
    assert [line["text"] for line in lines] == texts
    assert lines[1]["class"] == "Staff" and lines[1]["start"] == 0 and lines[1]["end"] == 20
    assert lines[0]["confidence"] == lines[0]["segment_confidence"]

    r = client.get(f"{url}?format=xlsx", headers=owner.headers)
    sheet = load_workbook(io.BytesIO(r.content)).active
    values = list(sheet.values)
    assert values[0] == analyses_service.EXPORT_COLUMNS
    assert [v[4] for v in values[1:]] == ["'" + texts[0], texts[1]]
    assert client.get(f"{url}?format=pdf", headers=owner.headers).status_code == 422


def test_low_confidence_results_go_to_the_review_queue_when_configured(
    client, db, settings, owner, project
):
    pid = project["id"]
    r = client.put(f"{API}/{pid}/review/config", json={"threshold": 1.0}, headers=owner.headers)
    assert r.status_code == 200, r.text
    gid = group_of(client, owner.headers, pid, REVIEWS)
    done = batch(client, db, settings, owner.headers, pid, {"group_id": gid})
    assert done["review_count"] == 6
    items = client.get(f"{API}/{pid}/review/items", headers=owner.headers).json()
    assert items["total"] == 6
    with db.session() as s:
        sources = {tuple(sorted(i.source.items())) for i in s.scalars(select(TextReviewItem))}
    assert sources == {(("analysis_id", done["id"]), ("model_id", None))}
    # Without review, nothing more is queued (and the pending items are not queued twice).
    quiet = batch(client, db, settings, owner.headers, pid, {"group_id": gid, "review": False})
    assert quiet["review_count"] == 0
    again = batch(client, db, settings, owner.headers, pid, {"group_id": gid})
    assert again["review_count"] == 0
    client.put(f"{API}/{pid}/review/config", json={"threshold": 0.5}, headers=owner.headers)
    other_gid = group_of(client, owner.headers, pid, ["The bread was stale."], "e")
    low = batch(client, db, settings, owner.headers, pid, {"group_id": other_gid})
    assert low["review_count"] == 0


def test_an_aborted_analysis_removes_the_documents_and_results_it_added(
    client, db, settings, owner, project, monkeypatch
):
    pid = project["id"]
    monkeypatch.setattr(analyses_service, "BATCH", 2)
    lines = ["review"] + [f"The soup number {i} was tasty." for i in range(7)]
    file_id = upload(client, owner, pid, "r.csv", ("\n".join(lines) + "\n").encode())
    started = start(client, owner.headers, pid, {"file_id": file_id, "column": "review"})
    writes = []
    real = analyses_service._Run._analyze

    def abort_after_two(self, *args):
        real(self, *args)
        writes.append(1)
        if len(writes) == 2:
            with db.session() as s:
                s.execute(update(Job).where(Job.id == started["job_id"]).values(
                    abort_requested=True))  # fmt: skip

    monkeypatch.setattr(analyses_service._Run, "_analyze", abort_after_two)
    with pytest.raises(JobAborted):
        run_job(db, settings, started["job_id"])
    body = client.get(
        f"{API}/{pid}/analyses/{started['analysis']['id']}", headers=owner.headers
    ).json()
    assert body["status"] == "ABORTED" and body["segment_count"] == 0
    with db.session() as s:
        for table in (TextDocument, TextAnalysisResult, TextAnalysisTag):
            assert s.scalar(select(func.count()).select_from(table)) == 0, table
    assert notifications(db) == []
    assert client.get(f"{API}/{pid}", headers=owner.headers).json()["document_count"] == 0


def test_list_rename_abort_and_delete(client, db, settings, owner, project):
    pid = project["id"]
    gid = group_of(client, owner.headers, pid, REVIEWS)
    first = batch(client, db, settings, owner.headers, pid, {"group_id": gid})
    queued = start(client, owner.headers, pid, {"group_id": gid})["analysis"]
    listed = client.get(f"{API}/{pid}/analyses", headers=owner.headers).json()
    assert [a["id"] for a in listed["items"]] == [queued["id"], first["id"]]
    assert client.get(f"{API}/{pid}/analyses?model_id=5", headers=owner.headers).json()[
        "total"] == 0  # fmt: skip

    url = f"{API}/{pid}/analyses/{queued['id']}"
    r = client.patch(url, json={"name": "Renamed"}, headers=owner.headers)
    assert r.status_code == 200 and r.json()["name"] == "Renamed"
    r = client.post(f"{url}/abort", headers=owner.headers)
    assert r.status_code == 200 and r.json()["status"] == "ABORTED"
    assert client.post(f"{url}/abort", headers=owner.headers).status_code == 409

    url = f"{API}/{pid}/analyses/{first['id']}"
    assert client.delete(url, headers=owner.headers).status_code == 204
    assert client.get(url, headers=owner.headers).status_code == 404
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(TextAnalysisResult)) == 0
        assert s.scalar(select(func.count()).select_from(TextAnalysisTag)) == 0
    assert client.get(f"{API}/{pid}/documents", headers=owner.headers).json()["total"] == 3

    # Deleting one still queued aborts its job, which then never runs.
    pending = start(client, owner.headers, pid, {"group_id": gid})
    url = f"{API}/{pid}/analyses/{pending['analysis']['id']}"
    assert client.delete(url, headers=owner.headers).status_code == 204
    with db.session() as s:
        assert s.get(Job, pending["job_id"]).status == "aborted"


def test_roles_and_other_organizations(client, db, settings, owner, project):
    pid = project["id"]
    gid = group_of(client, owner.headers, pid, REVIEWS[:1])
    done = batch(client, db, settings, owner.headers, pid, {"group_id": gid})
    url = f"{API}/{pid}/analyses/{done['id']}"
    viewer = member(client, owner, pid, "VIEWER")
    for path in ("", "/results", "/aggregates", "/export"):
        assert client.get(url + path, headers=viewer.headers).status_code == 200, path
    assert client.get(f"{API}/{pid}/analyses", headers=viewer.headers).status_code == 200
    r = client.post(f"{API}/{pid}/analyses", json={"name": "x", "group_id": gid},
                    headers=viewer.headers)  # fmt: skip
    assert r.status_code == 403
    assert client.patch(url, json={"name": "y"}, headers=viewer.headers).status_code == 403
    assert client.delete(url, headers=viewer.headers).status_code == 403
    assert client.post(f"{url}/abort", headers=viewer.headers).status_code == 403

    _, elsewhere = other_org(client, owner)
    for path in ("", "/results", "/aggregates", "/export"):
        assert client.get(url + path, headers=elsewhere).status_code == 404, path
    other = create_project(client, owner.headers, name="Another")
    assert client.get(f"{API}/{other['id']}/analyses/{done['id']}",
                      headers=owner.headers).status_code == 404  # fmt: skip
    r = client.get(f"{API}/{other['id']}/documents?analysis_id={done['id']}", headers=owner.headers)
    assert r.status_code == 404


# --- with a trained model -----------------------------------------------------------------


def test_an_absa_project_is_analyzed_end_to_end_with_a_trained_model(client, db, settings, owner):
    job_types.registry.register(modeling.JOB_TYPE, "augury.text.services.modeling:TrainModel")
    pid = create_project(client, owner.headers, type="ABSA")["id"]
    aspects = {
        x["name"]: x["id"] for x in add_classes(client, owner.headers, pid, ["Food", "Service"])
    }
    sentiments = label_ids(client, owner.headers, pid)
    docs = add_documents(db, pid, [t for t, _ in ABSA])
    sid = add_session(db, pid, docs)
    for doc, (_, pairs) in zip(docs, ABSA, strict=True):
        tags = [{"class_id": aspects[a], "label_id": sentiments[p]} for a, p in pairs]
        annotate(db, sid, segments_of(db, doc)[0].id, tags, user_id=owner.user_id)
    r = analyze(client, owner.headers, pid, {"texts": ["The waiter was rude."]})
    assert r.status_code == 422 and r.json()["error"]["details"]["reason"] == "NEEDS_MODEL"
    model = train_model(client, db, settings, owner, pid, [sid], test_fraction=0.3)
    assert model["status"] == "READY", model

    # Ad-hoc, naming the model: aspects with their sentiments; given aspects: sentiment only.
    body = {
        "model_id": model["id"],
        "documents": [
            {"text": "The waiter was rude and slow.", "id": "a"},
            {"text": "Delicious, tasty and wonderful.", "id": "b", "aspects": ["Food"]},
            {"text": "Kind and friendly.", "id": "c", "aspects": ["Service", "Food"]},
        ],
    }
    r = analyze(client, owner.headers, pid, body)
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["model"] == {"id": model["id"], "name": "intents v1", "kind": "trained"}
    assert out["type"] == "ABSA"
    [first], [second], [third] = (d["segments"] for d in out["documents"])
    assert [(t["class"], t["label"]) for t in first["tags"]] == [("Service", "NEG")]
    assert [(t["class"], t["label"]) for t in second["tags"]] == [("Food", "POS")]
    assert [t["class"] for t in third["tags"]] == ["Service", "Food"]
    assert third["tags"][0]["label"] == "POS"
    assert third["confidence"] == min(t["confidence"] for t in third["tags"])
    body["documents"][1]["aspects"] = ["Ambience"]
    r = analyze(client, owner.headers, pid, body)
    assert r.status_code == 422 and r.json()["error"]["details"]["reason"] == "UNKNOWN_CLASS"

    # Promoted, it is what an analysis uses when it names none; a batch over a file reads
    # each segment as the ad-hoc analysis does.
    client.post(f"{API}/{pid}/models/{model['id']}/promote", headers=owner.headers)
    texts = ["The waiter was rude and slow. The soup was delicious.", "Friendly staff."]
    lines = ["text,day", f"{texts[0]},2024-03-01", f"{texts[1]},2024-03-02"]
    file_id = upload(client, owner, pid, "absa.csv", ("\n".join(lines) + "\n").encode())
    done = batch(client, db, settings, owner.headers, pid,
                 {"file_id": file_id, "column": "text", "time_column": "day"})  # fmt: skip
    assert done["status"] == "SUCCEEDED", done
    assert done["model_id"] == model["id"] and done["model_label"] == "intents v1"
    url = f"{API}/{pid}/analyses/{done['id']}"
    items = client.get(f"{url}/results", headers=owner.headers).json()["items"]
    pairs = [[(t["class"], t["label"]) for t in i["tags"]] for i in items]
    adhoc = analyze(client, owner.headers, pid, {"texts": texts}).json()
    assert adhoc["model"]["id"] == model["id"]
    segments = [s for d in adhoc["documents"] for s in d["segments"]]
    assert pairs == [[(t["class"], t["label"]) for t in s["tags"]] for s in segments]
    assert [i["confidence"] for i in items] == [s["confidence"] for s in segments]
    assert pairs[0] == [("Service", "NEG")] and len(items) == 3

    negative = client.get(f"{url}/results?class=Service&label=NEG", headers=owner.headers)
    assert [i["text"] for i in negative.json()["items"]] == ["The waiter was rude and slow."]
    r = client.get(f"{url}/results?label={sentiments['NEG']}", headers=owner.headers)
    assert r.json()["total"] == sum(any(lbl == "NEG" for _, lbl in p) for p in pairs)
    aggregates = client.get(f"{url}/aggregates?period=day", headers=owner.headers).json()
    assert aggregates["classes"] == ["Food", "Service"]
    assert aggregates["labels"] == ["POS", "NEG", "NEU", "CONFLICT"]
    days = ["2024-03-01", "2024-03-01", "2024-03-02"]
    expected: dict[tuple, int] = {}
    for day, tags in zip(days, pairs, strict=True):
        for c, lbl in tags:
            expected[(day, c, lbl)] = expected.get((day, c, lbl), 0) + 1
    assert aggregates["series"] == [
        {"period": d, "class": c, "label": lbl, "count": n}
        for (d, c, lbl), n in sorted(expected.items())
    ]
    docs = client.get(
        f"{API}/{pid}/documents?analysis_id={done['id']}&class=Service&label=NEG",
        headers=owner.headers,
    ).json()
    assert [d["text"] for d in docs["items"]] == [texts[0]]
    listed = client.get(f"{API}/{pid}/analyses?model_id={model['id']}", headers=owner.headers)
    assert listed.json()["total"] == 1


def test_deleting_a_running_analysis_stops_its_job_which_removes_its_documents(
    client, db, settings, owner, project, monkeypatch
):
    pid = project["id"]
    monkeypatch.setattr(analyses_service, "BATCH", 2)
    lines = ["review"] + [f"The soup number {i} was tasty." for i in range(5)]
    file_id = upload(client, owner, pid, "r.csv", ("\n".join(lines) + "\n").encode())
    started = start(client, owner.headers, pid, {"file_id": file_id, "column": "review"})
    url = f"{API}/{pid}/analyses/{started['analysis']['id']}"
    real = analyses_service._Run._analyze

    def delete_after_one(self, *args):
        real(self, *args)
        with db.session() as s:
            s.execute(update(Job).where(Job.id == started["job_id"]).values(status="running"))
        assert client.delete(url, headers=owner.headers).status_code == 204

    monkeypatch.setattr(analyses_service._Run, "_analyze", delete_after_one)
    with pytest.raises((analyses_service.AnalysisGone, JobAborted)):
        run_job(db, settings, started["job_id"])
    with db.session() as s:
        for table in (TextDocument, TextAnalysisResult, TextAnalysisTag):
            assert s.scalar(select(func.count()).select_from(table)) == 0, table
        assert s.get(Job, started["job_id"]).abort_requested
    assert notifications(db) == []
