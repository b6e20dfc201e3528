"""The ``text.documents`` job: large uploads (over 1,000 documents) answer 202 and are
added by it, batch by batch. The job is run here in the test's process, through the
runner's own :class:`JobContext`, so its progress, its undo on failure and its
notification are the real ones, without waiting on a child process."""

from __future__ import annotations

import io
import time

import pytest
from sqlalchemy import func, select, update

from augury.jobs import types as job_types
from augury.jobs.models import Job
from augury.notifications.models import Notification
from augury.runtime.job_process import JobAborted, JobContext
from augury.text.jobs import AddDocuments
from augury.text.models import TextDocument, TextProject, TextSegment
from augury.text.services import documents as documents_service
from tests.text.helpers import API, create_project, new_org


@pytest.fixture(autouse=True)
def _job_type():
    job_types.registry.register(AddDocuments.name, "augury.text.jobs:AddDocuments")


@pytest.fixture
def owner(client):
    return new_org(client)


@pytest.fixture
def project(client, owner):
    return create_project(client, owner.headers, name="Big uploads")


def run_job(db, settings, job_id: int) -> dict:
    """Run a queued job as its process would, and record its outcome as the runner does."""
    with db.session() as s:
        job = s.get(Job, job_id)
        s.expunge(job)
    ctx = JobContext(db, settings, job)
    kind = AddDocuments()
    try:
        result = kind.run(ctx, kind.Params.model_validate(job.params))
    except Exception as exc:
        with db.session() as s:
            s.get(Job, job_id).status = "aborted" if isinstance(exc, JobAborted) else "failed"
        raise
    with db.session() as s:
        row = s.get(Job, job_id)
        row.status, row.result = "succeeded", result
    return result


def counts(db, project) -> tuple[int, int, int]:
    with db.session() as s:
        docs = s.scalar(select(func.count()).where(TextDocument.project_id == project["id"]))
        segments = s.scalar(select(func.count()).where(TextSegment.project_id == project["id"]))
        return docs, segments, s.get(TextProject, project["id"]).document_count


def notifications(db) -> list[Notification]:
    with db.session() as s:
        return list(s.scalars(select(Notification).order_by(Notification.id)))


def upload_csv(client, owner, project, lines: list[str]) -> str:
    data = ("\n".join(lines) + "\n").encode()
    r = client.post(
        f"{API}/{project['id']}/files",
        files={"file": ("big.csv", io.BytesIO(data))},
        headers=owner.headers,
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def test_100000_documents_in_one_upload(client, db, settings, owner, project):
    lines = ["id,review,stars"] + [
        f"r{i},Review number {i} of the hotel. The room was {('dirty', 'clean')[i % 2]}!,{i % 5}"
        for i in range(100_000)
    ]
    started = time.perf_counter()
    file_id = upload_csv(client, owner, project, lines)
    uploaded = time.perf_counter()
    r = client.post(
        f"{API}/{project['id']}/documents",
        json={"file_id": file_id, "column": "review", "id_column": "id"},
        headers=owner.headers,
    )
    assert r.status_code == 202, r.text
    job = r.json()["job"]
    assert job["type"] == "text.documents" and job["status"] == "pending"
    queued = time.perf_counter()
    result = run_job(db, settings, job["id"])
    done = time.perf_counter()
    print(
        f"\n100,000 documents: upload {uploaded - started:.1f} s, queue {queued - uploaded:.1f} s,"
        f" job {done - queued:.1f} s on {db.engine.dialect.name}"
    )
    assert result["documents"] == 100_000 and result["segments"] == 200_000
    assert counts(db, project) == (100_000, 200_000, 100_000)
    with db.session() as s:
        job_row = s.get(Job, job["id"])
        assert job_row.progress == pytest.approx(98.0) and "100000 of 100000" in job_row.message

    url = f"{API}/{project['id']}/documents"
    r = client.get(f"{url}?external_id=r99999&details=segments,meta", headers=owner.headers)
    [doc] = r.json()["items"]
    assert doc["meta"] == {"stars": "4"} and len(doc["segments"]) == 2
    r = client.get(f"{url}?q=dirty&limit=1", headers=owner.headers).json()
    assert r["total"] == 50_000

    [note] = notifications(db)
    assert note.kind == "text.upload" and note.user_id == owner.user_id
    assert note.title == "100,000 documents added to Big uploads"
    assert note.link == f"/text/projects/{project['id']}" and note.data["documents"] == 100_000


def test_a_large_json_upload_is_checked_first_then_added_to_its_group(
    client, db, settings, owner, project, monkeypatch
):
    monkeypatch.setattr(documents_service, "INLINE_MAX", 10)
    docs = [{"text": f"Review {i}. Fine.", "id": i, "n": i} for i in range(25)]
    url = f"{API}/{project['id']}/documents"

    bad = [*docs[:20], {"text": " ", "id": "blank"}]
    r = client.post(url, json=bad, headers=owner.headers)
    assert r.status_code == 422 and r.json()["error"]["details"]["index"] == 20
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(Job)) == 0

    r = client.post(
        f"{API}/{project['id']}/groups",
        json={"name": "Batch", "documents": docs},
        headers=owner.headers,
    )
    assert r.status_code == 201, r.text
    group = r.json()
    assert group["document_count"] == 0 and group["job"]["status"] == "pending"
    result = run_job(db, settings, group["job"]["id"])
    assert result["documents"] == 25 and result["group_id"] == group["id"]
    r = client.get(f"{API}/{project['id']}/groups/{group['id']}", headers=owner.headers)
    assert r.json()["document_count"] == 25
    assert counts(db, project) == (25, 50, 25)
    r = client.get(f"{url}?external_id=24&details=meta", headers=owner.headers)
    assert r.json()["items"][0]["meta"] == {"n": 24}

    r = client.post(url, json=docs[:11], headers=owner.headers)
    assert r.status_code == 409 and r.json()["error"]["details"]["ids"][:2] == ["0", "1"]


def test_a_failing_upload_leaves_nothing_and_says_why(
    client, db, settings, owner, project, monkeypatch
):
    monkeypatch.setattr(documents_service, "INLINE_MAX", 10)
    monkeypatch.setattr(documents_service, "BATCH", 7)
    lines = ["review,n"] + [f"Review {i}.,{i}" for i in range(30)] + [",30", "Last one.,31"]
    file_id = upload_csv(client, owner, project, lines)
    r = client.post(
        f"{API}/{project['id']}/documents",
        json={"file_id": file_id, "column": 0},
        headers=owner.headers,
    )
    assert r.status_code == 202
    with pytest.raises(Exception, match="Document 30 has no text"):
        run_job(db, settings, r.json()["job"]["id"])
    assert counts(db, project) == (0, 0, 0)
    [note] = notifications(db)
    assert note.title == "Adding documents to Big uploads failed"
    assert "Document 30 has no text" in note.body and note.data["status"] == "failed"

    r = client.post(
        f"{API}/{project['id']}/documents",
        json={"file_id": file_id, "column": 0, "skip_empty": True},
        headers=owner.headers,
    )
    assert run_job(db, settings, r.json()["job"]["id"])["documents"] == 31
    assert counts(db, project) == (31, 31, 31)


def test_an_aborted_upload_removes_what_it_added(client, db, settings, owner, project, monkeypatch):
    monkeypatch.setattr(documents_service, "INLINE_MAX", 10)
    monkeypatch.setattr(documents_service, "BATCH", 5)
    docs = [{"text": f"Review {i}."} for i in range(40)]
    r = client.post(f"{API}/{project['id']}/documents", json=docs, headers=owner.headers)
    job_id = r.json()["job"]["id"]
    added = []
    real_add = documents_service.add

    def add_then_abort(session, *args, **kwargs):
        made = real_add(session, *args, **kwargs)
        added.append(len(made))
        if len(added) == 3:  # someone asks for the abort while the third batch is written
            session.execute(update(Job).where(Job.id == job_id).values(abort_requested=True))
        return made

    monkeypatch.setattr(documents_service, "add", add_then_abort)
    with pytest.raises(JobAborted):
        run_job(db, settings, job_id)
    assert added == [5, 5, 5]
    assert counts(db, project) == (0, 0, 0)
    assert notifications(db) == []


def test_a_project_deleted_meanwhile_fails_the_job(
    client, db, settings, owner, project, monkeypatch
):
    monkeypatch.setattr(documents_service, "INLINE_MAX", 1)
    r = client.post(
        f"{API}/{project['id']}/documents",
        json=[{"text": "a"}, {"text": "b"}],
        headers=owner.headers,
    )
    job_id = r.json()["job"]["id"]
    r = client.delete(f"{API}/{project['id']}?confirm=true", headers=owner.headers)
    assert r.status_code in (200, 204), r.text
    with pytest.raises(ValueError, match="not found"):
        run_job(db, settings, job_id)
    [note] = notifications(db)
    assert note.data["status"] == "failed" and f"project {project['id']}" in note.title
