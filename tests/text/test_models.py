"""Text model versions over HTTP: trained by the ``text.train`` job (run here in the
test's process, through the runner's own :class:`JobContext`, so its progress, abort and
notification are the real ones), tested, versioned, compared, promoted, downloaded and
uploaded as signed files, deleted; and the trained predictor that correction sessions
and analyses use."""

from __future__ import annotations

import base64
import hashlib
import hmac
import io
import json
import zipfile

import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import select, update

from augury.config import Settings
from augury.datasets.storage import storage_for
from augury.jobs import types as job_types
from augury.jobs.models import Job
from augury.notifications.models import Notification
from augury.runtime.job_process import JobAborted
from augury.text.models import TextModelVersion, TextProject
from augury.text.services import modeling
from augury.text.services.predictors import Trained, ZeroShot, predictor_for
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
from tests.text.test_sessions import member

INTENTS = {
    "Alpha": [
        "my new card has not arrived yet",
        "when will my card be delivered",
        "the card you posted never came",
        "still waiting for my card in the mail",
        "how long does card delivery take",
        "my card is lost in the post",
        "has my card been shipped",
        "the card delivery is late",
        "track the card you sent me",
        "card not received after two weeks",
        "where is my replacement card",
        "did you send my card to the old address",
        "my debit card still has not come",
        "card shipment status please",
        "the postman never brought my card",
        "is my card on its way",
        "expected my card last week",
    ],
    "Beta": [
        "I want my money back",
        "please refund my purchase",
        "how do I get a refund",
        "the refund has not reached my account",
        "return the payment to me",
        "I was charged twice and want a refund",
        "refund the order I cancelled",
        "give me back what I paid",
        "when will the refund be processed",
        "I need a refund for this charge",
        "my refund is missing",
        "can you reverse this payment",
        "refund the subscription fee",
        "I returned the item, where is my money",
        "refund my ticket please",
        "money back for the failed order",
        "request a refund for the duplicate payment",
    ],
    "Gamma": [
        "I forgot my password",
        "cannot log in to the app",
        "reset my password please",
        "my login keeps failing",
        "locked out of my account",
        "the app says wrong password",
        "how do I change my password",
        "two factor code never arrives at login",
        "I cannot sign in anymore",
        "password reset link does not work",
        "my account is locked after failed logins",
        "sign in error on the website",
        "help me get back into my account",
        "login page rejects my password",
        "unlock my account please",
        "forgot the password for the app",
        "cannot access my profile, login broken",
    ],
}
TRAIN, HELD_OUT = 12, 5


@pytest.fixture(autouse=True)
def _job_type():
    job_types.registry.register(modeling.JOB_TYPE, "augury.text.services.modeling:TrainModel")


@pytest.fixture
def owner(client):
    return new_org(client)


def labeled_project(client, db, owner, intents=INTENTS, name=None) -> tuple[int, list[int], dict]:
    """A CLASS project with the intents' first TRAIN sentences labeled by the owner, a
    document each, in two sessions; (project id, session ids, class ids)."""
    pid = create_project(client, owner.headers, name=name)["id"]
    classes = {c["name"]: c["id"] for c in add_classes(client, owner.headers, pid, list(intents))}
    texts = [(n, t) for n, ts in intents.items() for t in ts[:TRAIN]]
    docs = add_documents(db, pid, [t for _, t in texts])
    half = len(docs) // 2
    order = docs[::2] + docs[1::2]  # both sessions hold every intent
    sessions = [add_session(db, pid, order[:half]), add_session(db, pid, order[half:])]
    by_doc = dict(zip(docs, texts, strict=True))
    for sid, chunk in ((sessions[0], order[:half]), (sessions[1], order[half:])):
        for doc in chunk:
            seg = segments_of(db, doc)[0].id
            annotate(db, sid, seg, [{"class_id": classes[by_doc[doc][0]]}], user_id=owner.user_id)
    return pid, sessions, classes


def train(client, db, settings, owner, pid, sessions, name="intents", **body) -> dict:
    r = client.post(
        f"{API}/{pid}/models",
        json={"name": name, "session_ids": sessions, **body},
        headers=owner.headers,
    )
    assert r.status_code == 202, r.text
    answer = r.json()
    assert answer["model"]["status"] == "QUEUED" and answer["job_id"] == answer["model"]["job_id"]
    run_job(db, settings, answer["job_id"])
    got = client.get(f"{API}/{pid}/models/{answer['model']['id']}", headers=owner.headers)
    return got.json()


def accuracy(predictor, classes: dict[str, int]) -> float:
    texts = [(n, t) for n, ts in INTENTS.items() for t in ts[TRAIN : TRAIN + HELD_OUT]]
    predicted = predictor.predict([t for _, t in texts])
    right = sum(
        bool(p.tags) and p.tags[0]["class_id"] == classes[n]
        for (n, _), p in zip(texts, predicted, strict=True)
    )
    return right / len(texts)


def test_a_model_trains_tests_and_beats_zero_shot(client, db, settings, owner):
    pid, sessions, classes = labeled_project(client, db, owner)
    with db.session() as s:
        project = s.get(TextProject, pid)
        zero = predictor_for(s, project, None, settings)
        assert isinstance(zero, ZeroShot)
        zero_shot = accuracy(zero, classes)

    model = train(client, db, settings, owner, pid, sessions)
    assert model["status"] == "READY" and model["progress"] == 100.0, model
    assert model["version"] == 1 and model["task"] == "CLASS" and model["origin"] == "trained"
    assert model["classes"] == ["Alpha", "Beta", "Gamma"] and not model["active"]
    assert model["base"] == "wordllama/l2_supercat_256" and model["language"] == "en"
    counts = model["training"]["counts"]
    assert counts["train"] + counts["test"] == 36 and counts["test"] >= 2
    assert model["metrics"]["n"] == counts["test"] and 0 <= model["score"] <= 1
    assert model["content_hash"].startswith("sha256:") and model["size_bytes"] > 0

    report = client.get(f"{API}/{pid}/models/{model['id']}/report", headers=owner.headers).json()
    assert report["model_id"] == model["id"] and report["classes"] == ["Alpha", "Beta", "Gamma"]
    assert set(report["per_class"]) == {"Alpha", "Beta", "Gamma"}
    assert set(report["per_class"]["Alpha"]) == {"precision", "recall", "f1", "support"}
    assert len(report["confusion"]) == 3 and all(len(row) == 3 for row in report["confusion"])
    assert sum(map(sum, report["confusion"])) == counts["test"]
    assert isinstance(report["worst"], list) and report["training"]["counts"] == counts

    with db.session() as s:
        project = s.get(TextProject, pid)
        trained = predictor_for(s, project, model["id"], settings)
        assert isinstance(trained, Trained) and trained.training_size == counts["train"]
        assert trained.key == f"model:{model['id']}"
        learned = accuracy(trained, classes)
    print(f"\nheld-out accuracy: trained {learned:.2f}, zero-shot {zero_shot:.2f}")
    assert learned >= 0.9 and learned > zero_shot

    with db.session() as s:
        [note] = s.scalars(select(Notification)).all()
    assert note.kind == "text.model" and note.user_id == owner.user_id
    assert note.title == f"Model intents v1 of {project.name} is ready"
    assert note.link == f"/text/projects/{pid}/models/{model['id']}"


def test_versions_promote_compare_and_delete(client, db, settings, owner):
    pid, sessions, _ = labeled_project(client, db, owner)
    first = train(client, db, settings, owner, pid, sessions)
    second = train(client, db, settings, owner, pid, sessions[:1] + sessions[1:], seed=3)
    other = train(client, db, settings, owner, pid, sessions, name="other")
    assert (first["version"], second["version"], other["version"]) == (1, 2, 1)

    listed = client.get(f"{API}/{pid}/models", headers=owner.headers).json()
    assert [m["id"] for m in listed["items"]] == [other["id"], second["id"], first["id"]]
    named = client.get(f"{API}/{pid}/models?name=intents", headers=owner.headers).json()
    assert named["total"] == 2
    assert (
        client.get(f"{API}/{pid}/models?status=FAILED", headers=owner.headers).json()["total"] == 0
    )

    url = f"{API}/{pid}/models"
    r = client.post(f"{url}/{first['id']}/promote", headers=owner.headers)
    assert r.status_code == 200 and r.json()["active"] is True
    r = client.post(f"{url}/{second['id']}/promote", headers=owner.headers)
    assert r.json()["active"] is True
    assert client.get(f"{url}/{first['id']}", headers=owner.headers).json()["active"] is False
    with db.session() as s:
        active = predictor_for(s, s.get(TextProject, pid), None, settings)
        assert active.model_id == second["id"]

    r = client.get(f"{url}/compare?ids={first['id']},{second['id']}", headers=owner.headers)
    assert r.status_code == 200, r.text
    compared = r.json()
    assert [m["id"] for m in compared["models"]] == [first["id"], second["id"]]
    assert compared["classes"] and set(compared["per_class"]["Alpha"]) == {
        str(first["id"]),
        str(second["id"]),
    }
    assert client.get(f"{url}/compare?ids=x", headers=owner.headers).status_code == 422
    assert client.get(f"{url}/compare?ids=999999", headers=owner.headers).status_code == 404

    r = client.patch(
        f"{url}/{other['id']}", json={"name": "intents", "description": "d"}, headers=owner.headers
    )
    assert r.status_code == 200 and (r.json()["name"], r.json()["version"]) == ("intents", 3)

    r = client.patch(f"{url}/{first['id']}", json={"description": "v"}, headers=owner.headers)
    assert r.status_code == 200 and (r.json()["version"], r.json()["description"]) == (1, "v")
    assert (
        client.patch(f"{url}/{first['id']}", json={"name": " "}, headers=owner.headers).status_code
        == 422
    )

    r = client.delete(f"{url}/{second['id']}", headers=owner.headers)
    assert r.status_code == 409 and r.json()["error"]["details"]["reason"] == "CONFIRM_DELETE"
    with db.session() as s:
        key = s.get(TextModelVersion, second["id"]).artifact
    assert storage_for(settings).path(key).is_file()
    assert (
        client.delete(f"{url}/{second['id']}?confirm=true", headers=owner.headers).status_code
        == 204
    )
    assert not storage_for(settings).path(key).exists()
    assert client.get(f"{url}/{second['id']}", headers=owner.headers).status_code == 404
    assert client.delete(f"{url}/{first['id']}", headers=owner.headers).status_code == 204

    # What deleting the project must remove from the storage: the versions' files.
    with db.session() as s:
        keys = modeling.stored_files(s, s.get(TextProject, pid))
        fallback = predictor_for(s, s.get(TextProject, pid), None, settings)
        assert isinstance(fallback, ZeroShot)
    assert len(keys) == 1 and storage_for(settings).path(keys[0]).is_file()
    r = client.delete(f"{API}/{pid}?confirm=true", headers=owner.headers)
    assert r.status_code == 204, r.text
    assert not storage_for(settings).path(keys[0]).exists()
    modeling.forget_files(settings, keys)  # a file already gone is no error


def test_download_upload_and_refusals(client, db, settings, owner, tmp_path):
    pid, sessions, classes = labeled_project(client, db, owner)
    model = train(client, db, settings, owner, pid, sessions)
    r = client.get(f"{API}/{pid}/models/{model['id']}/download", headers=owner.headers)
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    data = r.content
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        assert sorted(zf.namelist()) == [
            "model/arrays.npz",
            "model/model.json",
            "model/vocabulary.json",
            "signature.json",
        ]
        signed = json.loads(zf.read("signature.json"))
    assert signed["content_hash"] == model["content_hash"] and signed["project_type"] == "CLASS"
    assert signed["classes"] == ["Alpha", "Beta", "Gamma"] and signed["signed_by"].startswith(
        "augury:"
    )

    def upload(project_id, blob, name="imported"):
        return client.post(
            f"{API}/{project_id}/models/upload",
            files={"file": ("model.zip", io.BytesIO(blob))},
            data={"name": name},
            headers=owner.headers,
        )

    fresh = create_project(client, owner.headers)["id"]
    renamed = add_classes(client, owner.headers, fresh, ["Gamma", "Beta", "Alpha", "Delta"])
    r = upload(fresh, data)
    assert r.status_code == 201, r.text
    uploaded = r.json()
    assert uploaded["status"] == "READY" and uploaded["origin"] == "uploaded"
    assert uploaded["content_hash"] == model["content_hash"]
    assert uploaded["metrics"] == model["metrics"] and uploaded["version"] == 1
    texts = [t for ts in INTENTS.values() for t in ts[TRAIN:]]
    ids_here = {c["name"]: c["id"] for c in renamed}
    with db.session() as s:
        there = predictor_for(s, s.get(TextProject, pid), model["id"], settings).predict(texts)
        here = predictor_for(s, s.get(TextProject, fresh), uploaded["id"], settings).predict(texts)
    names_there = {v: k for k, v in classes.items()}
    names_here = {v: k for k, v in ids_here.items()}
    assert [names_there[p.tags[0]["class_id"]] for p in there] == [
        names_here[p.tags[0]["class_id"]] for p in here
    ]
    assert [p.confidence for p in there] == [p.confidence for p in here]

    # A file signed as the server has always signed them (the HMAC written out here, by
    # hand, not by the service) still uploads: moving the scheme to signed_files kept it.
    by_hand = _signed_by_hand(settings.secret_key, {**signed, "name": "by hand"})
    assert by_hand["signed_by"] == signed["signed_by"]
    r = upload(fresh, _with_header(data, by_hand), name="signed by hand")
    assert r.status_code == 201, r.text
    assert r.json()["content_hash"] == model["content_hash"]

    # Another project's classes: the missing ones are named.
    elsewhere = create_project(client, owner.headers)["id"]
    add_classes(client, owner.headers, elsewhere, ["Alpha", "Other"])
    r = upload(elsewhere, data)
    assert r.status_code == 422 and r.json()["error"]["details"]["classes"] == ["Beta", "Gamma"]
    labels = create_project(client, owner.headers, type="LABEL")["id"]
    r = upload(labels, data)
    assert r.status_code == 422 and r.json()["error"]["details"]["reason"] == "WRONG_TASK"

    # Edited: the header, then the model's own files.
    def edited(change) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w") as zout:
            for info in zin.infolist():
                zout.writestr(info.filename, change(info.filename, zin.read(info.filename)))
        return out.getvalue()

    def better_metrics(name, blob):
        if name != "signature.json":
            return blob
        header = json.loads(blob)
        header["metrics"]["n"] += 1000
        return json.dumps(header).encode()

    r = upload(fresh, edited(better_metrics))
    assert r.status_code == 422 and "signature does not match" in r.json()["error"]["message"]

    def other_weights(name, blob):
        if name != "model/model.json":
            return blob
        header = json.loads(blob)
        header["meta"]["classes"] = ["Alpha", "Beta", "Delta"]
        return json.dumps(header).encode()

    r = upload(fresh, edited(other_weights))
    assert r.status_code == 422, r.text

    # Another server's secret.
    stranger = Settings(data_dir=tmp_path / "other", secret_key="another-server-secret-" * 3)
    header = {k: v for k, v in signed.items() if k not in ("signature", "signed_by")}
    resigned = modeling.FILE_KIND.sign(stranger, header)
    r = upload(
        fresh, edited(lambda n, b: json.dumps(resigned).encode() if n == "signature.json" else b)
    )
    assert r.status_code == 422 and r.json()["error"]["details"]["reason"] == "BAD_SIGNATURE"

    # Zips that are not a model's: extra or escaping paths, links, bombs, no zip at all.
    def zipped(members: dict[str, bytes], link: str | None = None) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as zf:
            for name, blob in members.items():
                info = zipfile.ZipInfo(name)
                if name == link:
                    info.external_attr = (0o120777) << 16
                zf.writestr(info, blob)
        return out.getvalue()

    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    r = upload(fresh, zipped({**members, "../evil.txt": b"x"}))
    assert r.status_code == 422 and "evil" in r.json()["error"]["message"]
    r = upload(fresh, zipped(members, link="model/vocabulary.json"))
    assert r.status_code == 422 and "plain file" in r.json()["error"]["message"]
    r = upload(fresh, b"not a zip")
    assert r.status_code == 422
    huge = _declare_size(data, "model/arrays.npz", modeling.MAX_UNCOMPRESSED + 1)
    r = upload(fresh, huge)
    assert r.status_code == 422 and "unpacks to" in r.json()["error"]["message"]
    with db.session() as s:
        assert (
            s.scalar(select(TextModelVersion.id).where(TextModelVersion.project_id == elsewhere))
            is None
        )


def _signed_by_hand(secret: str, header: dict) -> dict:
    """``header`` signed as text model files were signed before their scheme moved to
    :mod:`augury.datasets.signed_files`: an HKDF-SHA256 key of the secret for the purpose
    "augury text model file signature v1", the signer a base32 fingerprint of it, an
    HMAC-SHA256 of the canonical JSON of everything but the signature."""
    key = HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"augury text model file signature v1"
    ).derive(secret.encode())
    tag = hmac.new(key, b"augury text model signer", hashlib.sha256).digest()
    body = {
        "format": "augury-text-model-file",
        "format_version": 1,
        **{k: v for k, v in header.items() if k not in ("format", "format_version", "signature")},
        "signed_by": "augury:" + base64.b32encode(tag[:10]).decode().lower(),
    }
    canonical = json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return {**body, "signature": hmac.new(key, canonical.encode(), hashlib.sha256).hexdigest()}


def _with_header(data: bytes, header: dict) -> bytes:
    """The model file ``data`` with ``header`` as its ``signature.json``."""
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as zin, zipfile.ZipFile(out, "w") as zout:
        for info in zin.infolist():
            blob = zin.read(info.filename)
            if info.filename == "signature.json":
                blob = json.dumps(header).encode()
            zout.writestr(info.filename, blob)
    return out.getvalue()


GOLDEN_HEADER = {
    "content_hash": "sha256:" + "ab" * 32,
    "project_type": "CLASS",
    "classes": ["Alpha", "Béta"],
    "labels": [],
    "name": "intents",
    "version": 3,
    "metrics": {"n": 15, "score": 0.9333},
    "trained_at": "2026-01-02T03:04:05+00:00",
}


def test_text_model_files_are_signed_as_before(tmp_path):
    """The signature the text service wrote before it used signed_files (recorded from
    that code, for this secret and header), field for field: files downloaded before
    still verify, and files signed now verify on a server not yet updated."""
    secret = "golden-text-model-secret-" * 3
    settings = Settings(data_dir=tmp_path, secret_key=secret)
    signed = modeling.FILE_KIND.sign(settings, GOLDEN_HEADER)
    assert list(signed) == [
        "format",
        "format_version",
        *GOLDEN_HEADER,
        "signed_by",
        "signature",
    ]
    assert signed["signed_by"] == "augury:i4n72oczppstuvme"
    assert signed["signature"] == "bccb23c1a6a0e122a118e16d271a84dc4fb9e5f4a9c561fdc9220ce8e5723b3c"
    assert signed == _signed_by_hand(secret, GOLDEN_HEADER)
    assert modeling.FILE_KIND.verify(settings, signed)
    assert not modeling.FILE_KIND.verify(settings, {**signed, "version": 4})


def _declare_size(data: bytes, member: str, size: int) -> bytes:
    """``data`` with ``member``'s uncompressed size in the central directory set to
    ``size`` (what a zip bomb declares, or hides)."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        info = zf.getinfo(member)
        offset = zf.start_dir
    blob = bytearray(data)
    name = member.encode()
    at = blob.index(b"PK\x01\x02" + b"", offset)
    while True:
        name_len = int.from_bytes(blob[at + 28 : at + 30], "little")
        if bytes(blob[at + 46 : at + 46 + name_len]) == name:
            break
        extra = int.from_bytes(blob[at + 30 : at + 32], "little")
        comment = int.from_bytes(blob[at + 32 : at + 34], "little")
        at += 46 + name_len + extra + comment
    assert info.file_size < 2**32
    blob[at + 24 : at + 28] = min(size, 2**32 - 1).to_bytes(4, "little")
    return bytes(blob)


def test_abort_and_failures(client, db, settings, owner, monkeypatch):
    pid, sessions, _ = labeled_project(client, db, owner)
    url = f"{API}/{pid}/models"

    # Aborted before it started: the job never runs, the version is ABORTED.
    r = client.post(url, json={"name": "m", "session_ids": sessions}, headers=owner.headers)
    queued = r.json()["model"]
    r = client.post(f"{url}/{queued['id']}/abort", headers=owner.headers)
    assert r.status_code == 200 and r.json()["status"] == "ABORTED"
    assert client.post(f"{url}/{queued['id']}/abort", headers=owner.headers).status_code == 409

    # Aborted while it trains: ABORTED, no file anywhere.
    r = client.post(url, json={"name": "m", "session_ids": sessions}, headers=owner.headers)
    running = r.json()
    real = modeling.train_engine

    def abort_midway(built, progress, embedder=None):
        with db.session() as s:
            s.execute(update(Job).where(Job.id == running["job_id"]).values(abort_requested=True))
        return real(built, progress, embedder)

    monkeypatch.setattr(modeling, "train_engine", abort_midway)
    with pytest.raises(JobAborted):
        run_job(db, settings, running["job_id"])
    got = client.get(f"{url}/{running['model']['id']}", headers=owner.headers).json()
    assert got["status"] == "ABORTED" and got["content_hash"] is None and got["error"] is None
    staged = storage_for(settings).staging
    assert not any(staged.iterdir())
    assert not (storage_for(settings).root / "text-models").exists()

    # A failure the engine explains: FAILED with its message, and the starter is told.
    def refuse(built, progress, embedder=None):
        from augury.engines.text.model_errors import TextModelError

        raise TextModelError("NO_TEXT", "There is no labeled text to train on.")

    monkeypatch.setattr(modeling, "train_engine", refuse)
    r = client.post(url, json={"name": "m", "session_ids": sessions}, headers=owner.headers)
    failing = r.json()
    with pytest.raises(Exception, match="no labeled text"):
        run_job(db, settings, failing["job_id"])
    got = client.get(f"{url}/{failing['model']['id']}", headers=owner.headers).json()
    assert got["status"] == "FAILED" and got["error"] == "There is no labeled text to train on."
    assert "Traceback" not in got["error"]
    with db.session() as s:
        [note] = s.scalars(select(Notification)).all()
    assert note.title.startswith("Training m v3 of") and note.data["status"] == "failed"
    r = client.get(f"{url}/{failing['model']['id']}/report", headers=owner.headers)
    assert r.status_code == 409
    r = client.post(f"{url}/{failing['model']['id']}/promote", headers=owner.headers)
    assert r.status_code == 409
    with db.session() as s:
        with pytest.raises(Exception) as caught:
            predictor_for(s, s.get(TextProject, pid), failing["model"]["id"], settings)
        assert getattr(caught.value, "status", None) == 409


def test_what_cannot_train(client, db, settings, owner):
    pid, sessions, classes = labeled_project(client, db, owner)
    url = f"{API}/{pid}/models"

    def refused(body, status=422):
        r = client.post(url, json={"name": "m", **body}, headers=owner.headers)
        assert r.status_code == status, r.text
        return r.json()["error"]

    assert refused({})["details"]["reason"] == "NO_SESSIONS"
    assert refused({"session_ids": []})  # an empty list is no sessions
    refused({"session_ids": sessions, "train_session_ids": sessions[:1]})
    refused({"train_session_ids": sessions[:1]})

    # A session with one class.
    docs = add_documents(db, pid, ["one more card question.", "another card question."])
    single = add_session(db, pid, docs)
    for doc in docs:
        seg = segments_of(db, doc)[0].id
        annotate(db, single, seg, [{"class_id": classes["Alpha"]}], user_id=owner.user_id)
    error = refused({"session_ids": [single]})
    assert error["details"]["reason"] == "TOO_FEW_CLASSES" and error["details"]["classes"] == [
        "Alpha"
    ]
    # Too few to test on.
    error = refused({"train_session_ids": sessions, "test_session_ids": [single + 1000]})
    assert error["details"]["reason"] == "UNKNOWN_SESSIONS"
    empty = add_session(db, pid, [])
    error = refused({"train_session_ids": sessions, "test_session_ids": [empty]})
    assert error["details"]["reason"] == "TOO_FEW_EXAMPLES"

    # Another project's and another organization's sessions are not this project's.
    pid2, sessions2, _ = labeled_project(client, db, owner)
    error = refused({"session_ids": sessions2})
    assert error["details"]["ids"] == sessions2
    with db.session() as s:
        assert s.scalar(select(TextModelVersion.id)) is None


def test_roles_and_other_organizations(client, db, settings, owner):
    pid, sessions, _ = labeled_project(client, db, owner)
    model = train(client, db, settings, owner, pid, sessions)
    url = f"{API}/{pid}/models"
    annotator = member(client, owner, pid, "ANNOTATOR")
    viewer = member(client, owner, pid, "VIEWER")
    body = {"name": "m", "session_ids": sessions}
    for person in (annotator, viewer):
        assert client.post(url, json=body, headers=person.headers).status_code == 403
        r = client.post(f"{url}/{model['id']}/promote", headers=person.headers)
        assert r.status_code == 403
        assert client.delete(f"{url}/{model['id']}", headers=person.headers).status_code == 403
    for path in ("", "/report", "/download"):
        r = client.get(f"{url}/{model['id']}{path}", headers=viewer.headers)
        assert r.status_code == 200, (path, r.text)
    assert client.get(url, headers=viewer.headers).json()["total"] == 1

    _, elsewhere = other_org(client, owner)
    for method, path in (
        ("get", ""),
        ("get", "/report"),
        ("get", "/download"),
        ("post", "/promote"),
        ("delete", ""),
    ):
        r = client.request(method.upper(), f"{url}/{model['id']}{path}", headers=elsewhere)
        assert r.status_code == 404, (method, path)
    pid2 = create_project(client, elsewhere)["id"]
    assert client.get(f"{API}/{pid2}/models/{model['id']}", headers=elsewhere).status_code == 404
    r = client.post(
        f"{API}/{pid2}/models", json={"name": "m", "session_ids": sessions}, headers=elsewhere
    )
    assert r.status_code == 422 and r.json()["error"]["details"]["reason"] == "UNKNOWN_SESSIONS"


def label_ids(client, headers, pid) -> dict[str, int]:
    r = client.get(f"{API}/{pid}/labels", headers=headers)
    return {x["name"]: x["id"] for x in r.json()["items"]}


ABSA = [
    ("The soup was delicious.", [("Food", "POS")]),
    ("Tasty pasta and fresh bread.", [("Food", "POS")]),
    ("The dessert was wonderful.", [("Food", "POS")]),
    ("Great pizza, perfectly cooked.", [("Food", "POS")]),
    ("The steak was cold and bland.", [("Food", "NEG")]),
    ("Soggy fries and stale bread.", [("Food", "NEG")]),
    ("The fish tasted awful.", [("Food", "NEG")]),
    ("Burnt toast and a salty soup.", [("Food", "NEG")]),
    ("Our waiter was friendly and quick.", [("Service", "POS")]),
    ("The staff were so kind.", [("Service", "POS")]),
    ("Attentive and helpful waitress.", [("Service", "POS")]),
    ("The host greeted us warmly.", [("Service", "POS")]),
    ("The waiter was rude to us.", [("Service", "NEG")]),
    ("Nobody served us for an hour.", [("Service", "NEG")]),
    ("The staff ignored our table.", [("Service", "NEG")]),
    ("A careless and slow waiter.", [("Service", "NEG")]),
    ("Lovely food but a rude waiter.", [("Food", "POS"), ("Service", "NEG")]),
    ("Awful food, friendly staff.", [("Food", "NEG"), ("Service", "POS")]),
    ("Delicious soup and a kind waitress.", [("Food", "POS"), ("Service", "POS")]),
    ("Cold pasta and a rude host.", [("Food", "NEG"), ("Service", "NEG")]),
]


def test_label_and_absa_projects_train_and_predict(client, db, settings, owner):
    # LABEL: the intents as labels, a segment with two of them has both.
    pid = create_project(client, owner.headers, type="LABEL")["id"]
    labels = {
        x["name"]: x["id"]
        for x in add_classes(client, owner.headers, pid, list(INTENTS), kind="labels")
    }
    texts = [(n, t) for n, ts in INTENTS.items() for t in ts[:TRAIN]]
    docs = add_documents(db, pid, [t for _, t in texts])
    sid = add_session(db, pid, docs)
    for doc, (name, _) in zip(docs, texts, strict=True):
        tags = [{"label_id": labels[name]}]
        annotate(db, sid, segments_of(db, doc)[0].id, tags, user_id=owner.user_id)
    model = train(client, db, settings, owner, pid, [sid])
    assert model["status"] == "READY" and model["task"] == "LABEL", model
    assert model["classes"] == ["Alpha", "Beta", "Gamma"]
    report = client.get(f"{API}/{pid}/models/{model['id']}/report", headers=owner.headers).json()
    assert set(report["confusion"]["Beta"]) == {"tp", "fp", "fn"}
    assert model["metrics"]["score"] == model["metrics"]["micro_f1"]
    with db.session() as s:
        predictor = predictor_for(s, s.get(TextProject, pid), model["id"], settings)
        [p] = predictor.predict(["please refund my cancelled order"])
    assert p.tags[0]["label_id"] == labels["Beta"] and p.tags[0]["class_id"] is None
    assert p.confidence == min(t["confidence"] for t in p.tags)

    # ABSA: aspects with sentiments, and the sentiment of given aspects only.
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
    model = train(client, db, settings, owner, pid, [sid], test_fraction=0.3)
    assert model["status"] == "READY" and model["task"] == "ABSA", model
    assert model["classes"] == ["Food", "Service"]
    metrics = model["metrics"]
    assert set(metrics) >= {"category_f1", "polarity_accuracy", "score"}
    assert metrics["score"] == round((metrics["category_f1"] + metrics["polarity_accuracy"]) / 2, 4)
    report = client.get(f"{API}/{pid}/models/{model['id']}/report", headers=owner.headers).json()
    assert set(report["per_class"]) <= {"Food", "Service"} and report["classes"] == [
        "Food",
        "Service",
    ]
    with db.session() as s:
        predictor = predictor_for(s, s.get(TextProject, pid), model["id"], settings)
        [p] = predictor.predict(["The waiter was rude and slow."])
        assert [t["class_id"] for t in p.tags] == [aspects["Service"]]
        assert p.tags[0]["label_id"] == sentiments["NEG"]
        given = predictor.predict_given(
            ["Delicious, tasty and wonderful.", "Kind and friendly staff."],
            [[aspects["Food"]], [aspects["Service"], aspects["Food"]]],
        )
    assert [[t["class_id"] for t in g.tags] for g in given] == [
        [aspects["Food"]],
        [aspects["Service"], aspects["Food"]],
    ]
    assert given[0].tags[0]["label_id"] == sentiments["POS"]
    assert given[1].tags[0]["label_id"] == sentiments["POS"]
    assert all(0 < t["confidence"] <= 1 for g in given for t in g.tags)


def test_renamed_and_deleted_classes_and_a_correction_session(client, db, settings, owner):
    pid, sessions, classes = labeled_project(client, db, owner)
    model = train(client, db, settings, owner, pid, sessions)
    r = client.patch(
        f"{API}/{pid}/classes/{classes['Alpha']}", json={"name": "Cards"}, headers=owner.headers
    )
    assert r.status_code == 200, r.text
    card, refund = INTENTS["Alpha"][TRAIN], INTENTS["Beta"][TRAIN]
    with db.session() as s:
        predictor = predictor_for(s, s.get(TextProject, pid), model["id"], settings)
        tags = [p.tags for p in predictor.predict([card, refund])]
    assert [t[0]["class_id"] for t in tags] == [classes["Alpha"], classes["Beta"]]

    r = client.delete(f"{API}/{pid}/classes/{classes['Beta']}", headers=owner.headers)
    assert r.status_code in (200, 204), r.text
    with db.session() as s:
        predictor = predictor_for(s, s.get(TextProject, pid), model["id"], settings)
        [p] = predictor.predict([refund])
    assert p.tags and p.tags[0]["class_id"] != classes["Beta"] and 0 < p.confidence <= 1

    # A correction session pre-tagged by the trained model.
    add_documents(db, pid, [t for ts in INTENTS.values() for t in ts[TRAIN:]])
    r = client.post(
        f"{API}/{pid}/sessions",
        json={"name": "Fix it", "mode": "CORRECTION", "model_id": model["id"], "sample_size": 3},
        headers=owner.headers,
    )
    assert r.status_code == 201, r.text
    made = r.json()
    assert made["sampling"]["model"] == f"model:{model['id']}"
    assert made["sampling"]["training_size"] == model["training"]["counts"]["train"]
    assert made["document_count"] == 3


def test_absa_end_to_end_through_the_analyze_route(client, db, settings, owner):
    pid = create_project(client, owner.headers, type="ABSA", segmentation="none")["id"]
    aspects = {
        x["name"]: x["id"] for x in add_classes(client, owner.headers, pid, ["Food", "Service"])
    }
    sentiments = label_ids(client, owner.headers, pid)
    docs = add_documents(db, pid, [t for t, _ in ABSA])
    sid = add_session(db, pid, docs)
    for doc, (_, pairs) in zip(docs, ABSA, strict=True):
        tags = [{"class_id": aspects[a], "label_id": sentiments[p]} for a, p in pairs]
        annotate(db, sid, segments_of(db, doc)[0].id, tags, user_id=owner.user_id)
    model = train(client, db, settings, owner, pid, [sid], test_fraction=0.3)
    url = f"{API}/{pid}/analyze"
    body = {"documents": [{"text": "The waiter was rude and slow."}]}
    r = client.post(url, json=body, headers=owner.headers)
    assert r.status_code == 422  # no model yet: ABSA needs one
    assert client.post(f"{API}/{pid}/models/{model['id']}/promote", headers=owner.headers)
    r = client.post(url, json=body, headers=owner.headers)
    assert r.status_code == 200, r.text
    answer = r.json()
    assert answer["model"] == {"id": model["id"], "name": "intents v1", "kind": "trained"}
    [segment] = answer["documents"][0]["segments"]
    assert [(t["class"], t["label"]) for t in segment["tags"]] == [("Service", "NEG")]
    given = {"documents": [{"text": "Delicious, tasty and wonderful.", "aspects": ["Food"]}]}
    r = client.post(url, json=given, headers=owner.headers)
    assert r.status_code == 200, r.text
    [segment] = r.json()["documents"][0]["segments"]
    assert [(t["class"], t["label"]) for t in segment["tags"]] == [("Food", "POS")]


def test_a_version_unzips_once_into_a_checked_cache(client, db, settings, owner):
    pid, sessions, _ = labeled_project(client, db, owner)
    model = train(client, db, settings, owner, pid, sessions)
    cache = settings.data_dir / "text-models" / "cache"
    folder = cache / model["content_hash"].removeprefix("sha256:")
    assert sorted(p.name for p in folder.iterdir()) == [
        "arrays.npz",
        "model.json",
        "vocabulary.json",
    ]

    def load():
        with db.session() as s:
            return modeling.load_engine_model(settings, s.get(TextModelVersion, model["id"]))

    # Another process: nothing in memory, nothing unzipped; the stored zip is read.
    modeling.loaded.clear()
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    first = load()
    assert folder.is_dir() and first.content_hash == model["content_hash"]
    assert [p.name for p in cache.iterdir()] == [folder.name]  # no temporary folder left
    modeling.loaded.clear()
    assert load().content_hash == model["content_hash"]  # from the cached folder

    # A stored file that does not match its hash is not used, nor cached.
    modeling.loaded.clear()
    for path in folder.iterdir():
        path.unlink()
    folder.rmdir()
    with db.session() as s:
        key = s.get(TextModelVersion, model["id"]).artifact
    stored = storage_for(settings).path(key)
    with zipfile.ZipFile(stored) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    header = json.loads(members["model/model.json"])
    header["meta"]["classes"] = ["Alpha", "Beta", "Omega"]
    members["model/model.json"] = json.dumps(header).encode()
    with zipfile.ZipFile(stored, "w") as zf:
        for name, blob in members.items():
            zf.writestr(name, blob)
    with pytest.raises(Exception, match="content hash"):
        load()
    assert not any(cache.iterdir())


def test_zero_shot_stays_at_hand_once_a_model_is_active(client, db, settings, owner):
    pid, sessions, _ = labeled_project(client, db, owner)
    model = train(client, db, settings, owner, pid, sessions)
    client.post(f"{API}/{pid}/models/{model['id']}/promote", headers=owner.headers)
    text = {"texts": [INTENTS["Alpha"][-1]]}

    def used(**body) -> dict:
        r = client.post(f"{API}/{pid}/analyze", json={**text, **body}, headers=owner.headers)
        assert r.status_code == 200, r.text
        return r.json()["model"]

    assert used()["id"] == model["id"]
    assert used(zero_shot=True) == {"id": None, "name": "zero-shot", "kind": "zero-shot"}
    r = client.post(
        f"{API}/{pid}/analyze",
        json={**text, "zero_shot": True, "model_id": model["id"]},
        headers=owner.headers,
    )
    assert r.status_code == 422 and "not both" in r.text

    # A batch analysis made zero-shot reads zero-shot, though a model is active.
    docs = client.get(f"{API}/{pid}/documents?limit=2", headers=owner.headers).json()["items"]
    group = client.post(
        f"{API}/{pid}/groups",
        json={"name": "g", "document_ids": [d["id"] for d in docs]},
        headers=owner.headers,
    )
    body = {"name": "zs", "group_id": group.json()["id"], "zero_shot": True}
    r = client.post(f"{API}/{pid}/analyses", json=body, headers=owner.headers)
    assert r.status_code == 202, r.text
    assert (r.json()["analysis"]["model_id"], r.json()["analysis"]["model_label"]) == (
        None,
        "zero-shot",
    )
    run_job(db, settings, r.json()["job_id"])
    done = client.get(f"{API}/{pid}/analyses/{r.json()['analysis']['id']}", headers=owner.headers)
    assert (done.json()["status"], done.json()["model_label"]) == ("SUCCEEDED", "zero-shot")


def test_a_labeled_file_trains_in_one_call(client, db, settings, owner):
    pid = create_project(client, owner.headers)["id"]
    rows = [(t, name) for name, texts in INTENTS.items() for t in texts[:TRAIN]]
    csv = "text,intent\n" + "".join(f'"{t}",{name}\n' for t, name in rows)

    def upload(content: str) -> str:
        files = {"file": ("labeled.csv", content.encode())}
        r = client.post(f"{API}/{pid}/files", files=files, headers=owner.headers)
        assert r.status_code in (200, 201), r.text
        return r.json()["id"]

    mapping = {"text": "text", "class": "intent"}
    one_class = "text,intent\n" + "".join(f'"{t}",Alpha\n' for t, _ in rows[:8])
    body = {"name": "from file", "file_id": upload(one_class), "column_mapping": mapping}
    r = client.post(
        f"{API}/{pid}/models", json={**body, "create_missing": True}, headers=owner.headers
    )
    assert r.status_code == 422 and r.json()["error"]["details"]["reason"] == "TOO_FEW_CLASSES"
    assert client.get(f"{API}/{pid}/sessions", headers=owner.headers).json()["total"] == 0

    body["file_id"] = upload(csv)
    r = client.post(f"{API}/{pid}/models", json=body, headers=owner.headers)
    assert r.status_code == 422 and r.json()["error"]["details"]["reason"] == "UNKNOWN_TAG"
    r = client.post(
        f"{API}/{pid}/models", json={**body, "create_missing": True}, headers=owner.headers
    )
    assert r.status_code == 202, r.text
    run_job(db, settings, r.json()["job_id"])
    model = client.get(f"{API}/{pid}/models/{r.json()['model']['id']}", headers=owner.headers)
    assert model.json()["status"] == "READY" and model.json()["score"] > 0.6, model.text
    (imported,) = client.get(f"{API}/{pid}/sessions", headers=owner.headers).json()["items"]
    assert (imported["mode"], imported["name"]) == ("IMPORT", "from file: labeled file")
    assert model.json()["training"]["session_ids"] == [imported["id"]]
    r = client.post(
        f"{API}/{pid}/models",
        json={**body, "session_ids": [imported["id"]]},
        headers=owner.headers,
    )
    assert r.status_code == 422 and "not both" in r.text
