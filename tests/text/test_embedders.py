"""A project's local embedding model: only folders of the directories the server
allows, by name; models train on it and keep it, and say so when it has gone or
changed."""

from __future__ import annotations

import shutil

import pytest
from pydantic import ValidationError
from sqlalchemy import select

from augury.accounts.models import Role
from augury.accounts.principal import Principal
from augury.audit.models import AuditEvent
from augury.config import Settings
from augury.engines.text import absa, classify
from augury.engines.text.model_errors import TextModelError
from augury.errors import Conflict, ServiceUnavailable, ValidationFailed
from augury.text.models import TextProject
from augury.text.schemas.projects import ProjectCreate, ProjectUpdate
from augury.text.services import embedders, projects
from tests.engines.text.tiny_model import build, table
from tests.text.helpers import API, create_project, new_org

TEXTS = [
    "my card has not arrived",
    "where is my new card",
    "the card still not here",
    "when will my card come",
    "i want a refund",
    "give me my money back",
    "refund my purchase please",
    "return the money",
]
TARGETS = ["card"] * 4 + ["refund"] * 4


@pytest.fixture
def settings(settings, tmp_path):
    """The app's settings with a directory of two models, a folder that is not one,
    a hidden folder and a file."""
    directory = tmp_path / "models"
    build(directory / "tiny")
    build(directory / "bare", table(3), layout="onnx")
    (directory / "notes").mkdir()
    (directory / "notes" / "readme.txt").write_text("not a model")
    build(directory / ".hidden")
    (directory / "loose.onnx").write_bytes(b"")
    settings.text.model_dirs = [tmp_path / "empty", directory]
    (tmp_path / "empty").mkdir()
    return settings


@pytest.fixture
def owner(client):
    return new_org(client)


def principal_of(owner) -> Principal:
    return Principal(org_id=owner.org_id, user_id=owner.user_id, role=Role.owner)


def test_available_lists_the_folders_that_hold_a_model(settings):
    assert embedders.available(settings) == [
        {"name": "bare", "layout": "onnx", "dim": None},
        {"name": "tiny", "layout": "sentence-transformers-onnx", "dim": 8},
    ]
    assert embedders.available(Settings(text={"model_dirs": []})) == []


def test_model_dirs_read_from_the_environment(monkeypatch):
    monkeypatch.setenv("AUGURY_TEXT__MODEL_DIRS", "/srv/models, /opt/models")
    assert [str(p) for p in Settings().text.model_dirs] == ["/srv/models", "/opt/models"]
    monkeypatch.setenv("AUGURY_TEXT__MODEL_DIRS", '["/srv/models"]')
    assert [str(p) for p in Settings().text.model_dirs] == ["/srv/models"]
    monkeypatch.setenv("AUGURY_TEXT__MODEL_DIRS", "models")
    with pytest.raises(ValidationError, match="absolute"):
        Settings()


UNSAFE = ["../models/tiny", "tiny/..", "sub/tiny", "..", ".hidden", "tiny\\x", "/tmp", "nope"]


def test_names_outside_the_allow_list_are_refused(settings, client, owner):
    project = create_project(client, owner.headers)
    for name in UNSAFE:
        with pytest.raises(ValidationFailed) as err:
            embedders.check_name(settings, name)
        assert err.value.details["available"] == ["bare", "tiny"], name
        assert err.value.details["reason"] == "UNKNOWN_EMBEDDING_MODEL"
        body = {"embedding_model": name}
        r = client.patch(f"{API}/{project['id']}", json=body, headers=owner.headers)
        assert r.status_code == 422, r.text
        r = client.post(API, json={"name": "x", "type": "CLASS", **body}, headers=owner.headers)
        assert r.status_code == 422, r.text
    assert client.get(f"{API}/{project['id']}", headers=owner.headers).json()["settings"] == {}


def test_a_folder_that_is_not_a_usable_model_is_refused_with_its_reason(settings):
    with pytest.raises(ValidationFailed) as err:
        embedders.check_name(settings, "notes")
    assert err.value.details["reason"] == "LOCAL_MODEL_UNSUPPORTED"
    with pytest.raises(ValidationFailed, match="allows no local embedding models"):
        embedders.check_name(None, "tiny")


def test_a_project_names_its_model_and_the_change_is_audited(settings, client, db, owner):
    with db.session() as s:
        project = projects.create(
            session=s,
            principal=principal_of(owner),
            body=ProjectCreate(name="Reviews", type="CLASS", embedding_model="tiny"),
            settings=settings,
        )
        pid = project.id
    r = client.get(f"{API}/{pid}", headers=owner.headers)
    assert r.json()["embedding_model"] == "tiny", r.text
    with db.session() as s:
        project = s.get(TextProject, pid)
        projects.update(
            session=s,
            principal=principal_of(owner),
            project=project,
            body=ProjectUpdate(description="renamed, same model"),
            settings=settings,
        )
        assert embedders.project_model(project) == "tiny"
        projects.update(
            session=s,
            principal=principal_of(owner),
            project=project,
            body=ProjectUpdate(embedding_model=None),
            settings=settings,
        )
    r = client.get(f"{API}/{pid}", headers=owner.headers)
    assert r.json()["embedding_model"] is None and r.json()["settings"] == {}
    with db.session() as s:
        entries = s.scalars(
            select(AuditEvent)
            .where(AuditEvent.target_type == "text_project", AuditEvent.target_id == str(pid))
            .order_by(AuditEvent.id)
        ).all()
    assert [e.action for e in entries] == ["text_project.create"] + ["text_project.update"] * 2
    assert entries[0].details["after"]["embedding_model"] == "tiny"
    assert "embedding_model" not in entries[1].details["after"]
    assert entries[2].details["before"] == {"embedding_model": "tiny"}
    assert entries[2].details["after"] == {"embedding_model": None}


def test_a_project_on_the_tiny_model_trains_with_it_and_its_models_keep_it(
    settings, client, db, owner, tmp_path
):
    with db.session() as s:
        project = projects.create(
            session=s,
            principal=principal_of(owner),
            body=ProjectCreate(name="Intents", type="CLASS", embedding_model="tiny"),
            settings=settings,
        )
        embedder = embedders.embedder_for(settings, project)
        assert embedder is not None and embedder.name == "local:tiny"
        embedders.set_project_model(project, None)  # later models: the built-in one
        assert embedders.embedder_for(settings, project) is None
    model = classify.train(TEXTS, TARGETS, embedder=embedder)
    model.save(tmp_path / "model")
    reader = embedders.embedder_of_model(settings, tmp_path / "model")
    assert reader is embedder
    loaded = classify.load(tmp_path / "model", embedder=reader)
    assert [p.label for p in loaded.predict(["is my card here", "money back please"])] == [
        "card",
        "refund",
    ]
    records = [
        {"text": t, "aspects": [{"category": c, "polarity": ("POS", "NEG")[i % 2]}]}
        for i, (t, c) in enumerate(zip(TEXTS, TARGETS, strict=True))
    ]
    absa.train_absa(records, embedder=embedder).save(tmp_path / "absa")
    assert embedders.embedder_of_model(settings, tmp_path / "absa") is embedder


def test_a_model_on_the_built_in_embedder_needs_no_local_one(settings, tmp_path):
    model = classify.train(TEXTS, TARGETS)
    model.save(tmp_path / "model")
    assert embedders.embedder_of_model(settings, tmp_path / "model") is None
    assert embedders.embedder_named(settings, "wordllama/l2_supercat_256") is None


def test_a_model_whose_embedder_is_gone_is_503_and_changed_is_409(settings, tmp_path):
    folder = settings.text.model_dirs[1] / "tiny"
    embedder = embedders.embedder_named(settings, "local:tiny")
    classify.train(TEXTS, TARGETS, embedder=embedder).save(tmp_path / "model")
    shutil.move(folder, tmp_path / "away")
    with pytest.raises(ServiceUnavailable) as gone:
        embedders.embedder_of_model(settings, tmp_path / "model")
    assert gone.value.status == 503 and gone.value.details["reason"] == "EMBEDDING_MODEL_GONE"
    build(folder, table(8))  # back, with other weights
    with pytest.raises(Conflict) as changed:
        embedders.embedder_of_model(settings, tmp_path / "model")
    assert changed.value.status == 409 and changed.value.details["reason"] == "EMBEDDER_MISMATCH"
    assert changed.value.details["expected"] == embedder.fingerprint


def test_a_model_file_cannot_name_a_path(settings):
    for name in ("local:../models/tiny", "local:", "local:/etc"):
        with pytest.raises(ValidationFailed):
            embedders.embedder_named(settings, name)
    assert embedders.embedder_named(settings, None) is None


def test_refusals_of_the_engines_map_to_statuses():
    assert embedders.service_error(TextModelError("EMBEDDER_MISMATCH", "m")).status == 409
    assert embedders.service_error(TextModelError("LOCAL_MODEL_BAD_GRAPH", "g")).status == 503
    assert embedders.service_error(TextModelError("NO_TEXT", "n")).status == 422


def test_the_api_lists_the_local_models_and_a_project_chooses_one(settings, client, owner):
    r = client.get("/api/v1/text/embedding-models", headers=owner.headers)
    assert r.status_code == 200, r.text
    assert sorted(m["name"] for m in r.json()) == ["bare", "tiny"]
    assert {m["name"]: m["dim"] for m in r.json()}["tiny"] == 8
    r = client.post(
        API,
        json={"name": "on tiny", "type": "CLASS", "embedding_model": "tiny"},
        headers=owner.headers,
    )
    assert r.status_code == 201 and r.json()["embedding_model"] == "tiny", r.text
    pid = r.json()["id"]
    r = client.patch(f"{API}/{pid}", json={"embedding_model": "bare"}, headers=owner.headers)
    assert r.status_code == 200 and r.json()["embedding_model"] == "bare", r.text
