"""Stale attachments: the periodic task queues one ``chat.index`` job for a use case whose
attached dataset got a new version (or project a new document, or document went) after
it was indexed, none while one is pending, none for unchanged use cases, and the job
makes retrieval find the new rows."""

from __future__ import annotations

import time

import pytest

from augury.chat.models import ChatUseCase
from augury.chat.services.freshness import StaleAttachments, stale_use_cases
from augury.jobs.models import Job
from augury.runtime import wiring
from tests.chat.helpers import API, add, add_sentence, make_use_case
from tests.chat.test_knowledge import _dataset, _document, _project
from tests.text.helpers import run_job

FACT = "saffron"


def _tick() -> None:
    """Let the wall clock move on (rows' ``created_at`` default to it)."""
    time.sleep(0.01)


def _new_version(client, account, name: str) -> None:
    body = f"dish,price\npaella,12\ntortilla,6\n{FACT} risotto,19\n".encode()
    files = {"file": (f"{name}.csv", body)}
    r = client.post("/api/v1/datasets", data={"name": name}, files=files, headers=account.headers)
    assert r.status_code == 201, r.text


def _index_jobs(db, use_case_id: int | None = None) -> list[Job]:
    with db.session() as session:
        jobs = session.query(Job).filter(Job.type == "chat.index").order_by(Job.id).all()
        session.expunge_all()
    return [j for j in jobs if use_case_id is None or j.params["use_case_id"] == use_case_id]


def _retrieve(client, account, uc_id: int, q: str) -> list[str]:
    r = client.get(
        f"{API}/use-cases/{uc_id}/retrieve", params={"q": q, "k": 3}, headers=account.headers
    )
    assert r.status_code == 200, r.text
    return [hit["text"] for hit in r.json()["items"]]


@pytest.fixture(autouse=True)
def _job_types():
    wiring.install()


@pytest.fixture
def task(settings) -> StaleAttachments:
    return StaleAttachments(settings)


def test_a_new_dataset_version_is_indexed_by_one_job(db, settings, client, owner, task):
    uc = make_use_case(client, owner)
    dataset = _dataset(client, owner, "menu")
    assert add(client, owner, uc["id"], kind="dataset", ref_id=dataset).status_code == 201
    quiet = make_use_case(client, owner, name="unchanged")
    other = _dataset(client, owner, "drinks")
    assert add(client, owner, quiet["id"], kind="dataset", ref_id=other).status_code == 201
    add_sentence(client, owner, quiet["id"], "We open at nine.")
    assert task.run(db) == 0 and _index_jobs(db) == []
    assert not any(FACT in t for t in _retrieve(client, owner, uc["id"], f"{FACT} risotto"))

    _tick()
    _new_version(client, owner, "menu")
    assert task.run(db) == 1
    jobs = _index_jobs(db)
    assert [j.params["use_case_id"] for j in jobs] == [uc["id"]]
    # A second run while the job is pending queues nothing more.
    assert task.run(db) == 0 and len(_index_jobs(db)) == 1

    _tick()
    result = run_job(db, settings, jobs[0].id)
    assert result["status"] == "ready"
    assert any(FACT in t for t in _retrieve(client, owner, uc["id"], f"{FACT} risotto"))
    # Indexed since: nothing is stale any more.
    _tick()
    assert task.run(db) == 0 and len(_index_jobs(db)) == 1


def test_a_new_project_document_and_a_deleted_document(db, settings, client, owner, task):
    from augury.text.models import TextDocument

    project = _project(client, owner, "Support")
    _document(client, owner, project, "Refunds are paid within five days.")
    doc = _document(client, owner, project, "Returns are accepted within 30 days.")
    by_project = make_use_case(client, owner, name="project")
    assert add(client, owner, by_project["id"], kind="project", ref_id=project).status_code == 201
    by_doc = make_use_case(client, owner, name="document")
    assert add(client, owner, by_doc["id"], kind="document", ref_id=doc).status_code == 201
    assert task.run(db) == 0

    _tick()
    _document(client, owner, project, "Gift cards never expire.")
    with db.session() as session:
        session.delete(session.get(TextDocument, doc))
    with db.session() as session:
        assert {u.id for u in stale_use_cases(session)} == {by_project["id"], by_doc["id"]}
    assert task.run(db) == 2
    for uc in (by_project, by_doc):
        (job,) = _index_jobs(db, uc["id"])
        run_job(db, settings, job.id)
    assert any("Gift cards" in t for t in _retrieve(client, owner, by_project["id"], "gift cards"))
    with db.session() as session:
        gone = session.get(ChatUseCase, by_doc["id"])
        assert gone.index_status == "failed" and "not found" in (gone.index_error or "").lower()
    # The gone document is named in index.error: it is not re-indexed again and again.
    _tick()
    assert task.run(db) == 0


def test_another_organizations_use_cases_are_untouched(
    db, settings, client, owner, other_org_owner, task
):
    mine = make_use_case(client, owner)
    assert (
        add(client, owner, mine["id"], kind="dataset", ref_id=_dataset(client, owner, "menu"))
    ).status_code == 201
    theirs = make_use_case(client, other_org_owner)
    their_dataset = _dataset(client, other_org_owner, "menu")
    assert (
        add(client, other_org_owner, theirs["id"], kind="dataset", ref_id=their_dataset).status_code
        == 201
    )

    _tick()
    _new_version(client, other_org_owner, "menu")
    assert task.run(db) == 1
    (job,) = _index_jobs(db)
    assert job.params["use_case_id"] == theirs["id"] and job.org_id == other_org_owner.org_id
    assert _index_jobs(db, mine["id"]) == []
    with db.session() as session:
        assert [u.id for u in stale_use_cases(session)] == []  # theirs has a job pending


def test_without_the_job_type_it_reindexes_inline(db, settings, client, owner, task, monkeypatch):
    from augury.jobs import types as job_types

    uc = make_use_case(client, owner)
    dataset = _dataset(client, owner, "menu")
    assert add(client, owner, uc["id"], kind="dataset", ref_id=dataset).status_code == 201
    _tick()
    _new_version(client, owner, "menu")
    monkeypatch.setattr(job_types, "registry", job_types.Registry())
    assert task.run(db) == 1 and _index_jobs(db) == []
    assert any(FACT in t for t in _retrieve(client, owner, uc["id"], f"{FACT} risotto"))
    assert task.run(db) == 0


def test_a_failed_index_job_waits_an_hour_before_it_is_queued_again(db, client, owner, task):
    from datetime import timedelta

    from augury import clock
    from augury.jobs.models import JobStatus

    uc = make_use_case(client, owner)
    dataset = _dataset(client, owner, "menu")
    assert add(client, owner, uc["id"], kind="dataset", ref_id=dataset).status_code == 201
    _tick()
    _new_version(client, owner, "menu")
    assert task.run(db) == 1
    [job] = _index_jobs(db)
    with db.session() as session:
        failed = session.get(Job, job.id)
        failed.status = JobStatus.failed
        failed.finished_at = clock.now()
        session.commit()

    assert task.run(db) == 0  # it failed a moment ago: not again every minute

    with db.session() as session:
        session.get(Job, job.id).finished_at = clock.now() - timedelta(hours=2)
        session.commit()
    assert task.run(db) == 1 and len(_index_jobs(db)) == 2
