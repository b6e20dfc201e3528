"""The model registry over HTTP: models and versions listed, read, renamed, compared,
promoted, aborted and deleted; versions downloaded as signed files and uploaded back,
and every file this server did not sign, or that changed, refused with nothing written;
the one cached loader predictions use."""

from __future__ import annotations

import io
import json
import time
import zipfile

from sqlalchemy import func, select

from augury.config import Settings
from augury.datasets.storage import storage_for
from augury.predictive.models import ModelUsage, ModelVersion
from augury.predictive.services import model_files, registry
from tests.fixtures.factories import invite_and_join
from tests.predictive.helpers import (
    API,
    model_file,
    new_org,
    ready_model,
    run_job,
    upload_version,
)


def versions_count(db) -> int:
    with db.session() as s:
        return s.scalar(select(func.count()).select_from(ModelVersion))


def test_versions_promote_compare_rename_and_delete(client, db, settings):
    owner = new_org(client)
    made = ready_model(client, settings, owner.headers, name="churn")
    model, second = made["model"], made["version"]
    url = f"{API}/models/{model['id']}"
    assert model["current_version"] == 2 and model["latest_version"] == 2
    assert second["source"] == "uploaded" and second["current"] and second["status"] == "ready"
    r = upload_version(client, owner.headers, model["id"], model_file(settings))
    assert r.status_code == 201, r.text
    third = r.json()
    assert third["number"] == 3 and not third["current"]
    assert third["metrics"] == second["metrics"]
    assert set(third["features"]) == {"usage", "plan"}

    listed = client.get(f"{url}/versions", headers=owner.headers).json()
    assert [v["number"] for v in listed["items"]] == [3, 2, 1] and listed["total"] == 3
    assert listed["items"][2]["status"] == "aborted"
    models = client.get(
        f"{API}/models?search=chur&application=classification", headers=owner.headers
    )
    assert [m["id"] for m in models.json()["items"]] == [model["id"]]
    assert client.get(f"{API}/models?status=failed", headers=owner.headers).json()["total"] == 0
    assert client.get(f"{API}/models?status=ready", headers=owner.headers).json()["total"] == 1

    r = client.get(f"{url}/compare?versions=2,3", headers=owner.headers)
    assert r.status_code == 200, r.text
    compared = r.json()
    assert [v["number"] for v in compared["versions"]] == [2, 3]
    primary = compared["primary"]["2"]
    assert set(compared["metrics"][primary]) == {"2", "3"}
    assert set(compared["importance"]) == {"usage", "plan"}
    assert client.get(f"{url}/compare?versions=x", headers=owner.headers).status_code == 422
    assert client.get(f"{url}/compare?versions=9", headers=owner.headers).status_code == 404

    r = client.post(f"{url}/versions/1/promote", headers=owner.headers)
    assert r.status_code == 409  # aborted: nothing to predict with
    r = client.post(f"{url}/versions/3/promote", headers=owner.headers)
    assert r.status_code == 200 and r.json()["current"] is True
    assert client.get(f"{url}/versions/2", headers=owner.headers).json()["current"] is False
    r = client.post(f"{url}/versions/3/abort", headers=owner.headers)
    assert r.status_code == 409

    r = client.patch(url, json={"name": "churn risk", "description": "d"}, headers=owner.headers)
    assert r.status_code == 200 and (r.json()["name"], r.json()["description"]) == (
        "churn risk",
        "d",
    )
    other = ready_model(client, settings, owner.headers, name="other")["model"]
    r = client.patch(
        f"{API}/models/{other['id']}", json={"name": "churn risk"}, headers=owner.headers
    )
    assert r.status_code == 409

    with db.session() as s:
        key = s.scalar(
            select(ModelVersion.storage_key).where(
                ModelVersion.model_id == model["id"], ModelVersion.number == 3
            )
        )
    r = client.delete(f"{url}/versions/3", headers=owner.headers)
    assert r.status_code == 409 and r.json()["error"]["details"]["reason"] == "CURRENT_VERSION"
    assert client.delete(f"{url}/versions/2", headers=owner.headers).status_code == 204
    assert client.get(f"{url}/versions/2", headers=owner.headers).status_code == 404
    assert storage_for(settings).path(key).is_file()  # another version's file
    # The newest version deleted: the model reads as its newest remaining one.
    r = upload_version(client, owner.headers, model["id"], model_file(settings))
    assert r.status_code == 201 and r.json()["number"] == 4 and not r.json()["current"]
    assert client.delete(f"{url}/versions/4", headers=owner.headers).status_code == 204
    assert client.get(url, headers=owner.headers).json()["status"] == "ready"
    ready = client.get(f"{API}/models?status=ready", headers=owner.headers).json()["items"]
    assert model["id"] in {m["id"] for m in ready}
    assert client.delete(url, headers=owner.headers).status_code == 204
    assert client.get(url, headers=owner.headers).status_code == 404
    assert not storage_for(settings).path(key).exists()

    # A writer trains and deletes; a viewer reads only.
    viewer = invite_and_join(client, owner, "viewer")
    other_url = f"{API}/models/{other['id']}"
    assert client.get(other_url, headers=viewer.headers).status_code == 200
    assert client.get(f"{other_url}/versions/2/file", headers=viewer.headers).status_code == 200
    assert client.delete(other_url, headers=viewer.headers).status_code == 403
    assert client.post(f"{other_url}/versions/2/promote", headers=viewer.headers).status_code == 403


def test_aborted_and_failed_trainings_leave_no_file(client, db, settings):
    owner = new_org(client)
    made = ready_model(client, settings, owner.headers)
    model_id = made["model"]["id"]

    # Aborted while queued: the job, run later, trains nothing.
    r = client.post(f"{API}/models/{model_id}/versions", json={}, headers=owner.headers)
    assert r.status_code == 202, r.text
    job_id = r.json()["job"]["id"]
    r = client.post(f"{API}/models/{model_id}/versions/3/abort", headers=owner.headers)
    assert r.status_code == 200 and r.json()["status"] == "aborted"
    assert run_job(db, settings, job_id)["status"] == "aborted"

    # Aborted once it runs: its first progress report stops it.
    r = client.post(f"{API}/models/{model_id}/versions", json={}, headers=owner.headers)
    job_id = r.json()["job"]["id"]
    from augury.jobs.models import Job
    from augury.runtime.job_process import JobAborted

    with db.session() as s:
        s.get(Job, job_id).abort_requested = True
    try:
        run_job(db, settings, job_id)
        raise AssertionError("the job was not aborted")
    except JobAborted:
        pass
    version = client.get(f"{API}/models/{model_id}/versions/4", headers=owner.headers).json()
    assert version["status"] == "aborted" and version["content_hash"] is None

    # Failed: its dataset deleted before the job ran; the reason is the service's.
    r = client.post(f"{API}/models/{model_id}/versions", json={}, headers=owner.headers)
    job_id = r.json()["job"]["id"]
    dataset_id = made["dataset"]["id"]
    assert client.delete(f"{API}/datasets/{dataset_id}", headers=owner.headers).status_code == 204
    try:
        run_job(db, settings, job_id)
        raise AssertionError("the job did not fail")
    except Exception as exc:
        assert "deleted" in str(exc)
    version = client.get(f"{API}/models/{model_id}/versions/5", headers=owner.headers).json()
    assert version["status"] == "failed" and "deleted" in version["error"]
    with db.session() as s:
        keys = set(
            s.scalars(select(ModelVersion.storage_key).where(ModelVersion.storage_key.is_not(None)))
        )
    stored = {
        str(p.relative_to(storage_for(settings).root))
        for p in (storage_for(settings).root / "tabular-models").rglob("*.zip")
    }
    assert stored == keys and len(keys) == 1


def test_download_upload_and_refusals(client, db, settings, tmp_path):
    owner = new_org(client, applications=("classification", "regression"))
    made = ready_model(client, settings, owner.headers, name="churn")
    model_id = made["model"]["id"]
    r = client.get(f"{API}/models/{model_id}/versions/2/file", headers=owner.headers)
    assert r.status_code == 200 and r.headers["content-type"] == "application/zip"
    data = r.content
    time.sleep(2.1)  # zip entries are dated in 2-second steps: the file is the same later
    again = client.get(f"{API}/models/{model_id}/versions/2/file", headers=owner.headers)
    assert again.content == data
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        names = zf.namelist()
        signed = json.loads(zf.read("signature.json"))
    assert "signature.json" in names and all(
        n == "signature.json" or n.startswith("model/") for n in names
    )
    assert not any(n.endswith((".pkl", ".pickle", ".joblib")) for n in names)
    assert signed["format"] == "augury-tabular-model-file" and signed["version"] == 2
    assert signed["application"] == "classification" and signed["name"] == "churn"
    assert signed["content_hash"] == made["version"]["content_hash"]

    r = upload_version(client, owner.headers, model_id, data)
    assert r.status_code == 201 and r.json()["number"] == 3, r.text
    before = versions_count(db)

    def refused(blob: bytes, reason: str, model: int = model_id) -> dict:
        r = upload_version(client, owner.headers, model, blob)
        assert r.status_code == 422, r.text
        assert r.json()["error"]["details"]["reason"] == reason, r.text
        return r.json()["error"]

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
        header["metrics"]["value"] = 0.999
        return json.dumps(header).encode()

    refused(edited(better_metrics), "TAMPERED")

    biggest = max((n for n in names if n.startswith("model/")), key=len)

    def flipped(name, blob):
        if name != biggest:
            return blob
        return blob[:-1] + bytes([blob[-1] ^ 1]) if blob else b"x"

    refused(edited(flipped), "TAMPERED")

    stranger = Settings(data_dir=tmp_path / "other", secret_key="another-server-secret-" * 3)
    header = {k: v for k, v in signed.items() if k not in ("signature", "signed_by")}
    resigned = json.dumps(model_files.FILE_KIND.sign(stranger, header)).encode()
    refused(edited(lambda n, b: resigned if n == "signature.json" else b), "UNSIGNED")
    unsigned = json.dumps(header | {"format": "augury-tabular-model-file"}).encode()
    refused(edited(lambda n, b: unsigned if n == "signature.json" else b), "UNSIGNED")

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
    error = refused(zipped({**members, "../evil.txt": b"x"}), "BAD_MODEL_FILE")
    assert "evil" in error["message"]
    refused(zipped({**members, "model/sub/x.json": b"{}"}), "BAD_MODEL_FILE")
    refused(zipped({**members, "model/model.pkl": b"\x80\x04N."}), "BAD_MODEL_FILE")
    error = refused(zipped(members, link=biggest), "BAD_MODEL_FILE")
    assert "plain file" in error["message"]
    refused(b"not a zip", "BAD_MODEL_FILE")
    refused(zipped({"signature.json": members["signature.json"]}), "BAD_MODEL_FILE")

    # A file of another application.
    dataset = made["dataset"]["id"]
    from tests.predictive.helpers import start_training

    r = start_training(
        client, owner.headers, dataset, "usage", application="regression", name="usage"
    )
    assert r.status_code == 202, r.text
    regression = r.json()["model"]["id"]
    refused(data, "WRONG_APPLICATION", model=regression)
    assert versions_count(db) == before + 1  # the regression model's queued version only

    # Another organization cannot reach the model; its file is refused here too.
    stranger_org = new_org(client)
    assert (
        client.get(
            f"{API}/models/{model_id}/versions/2/file", headers=stranger_org.headers
        ).status_code
        == 404
    )
    assert upload_version(client, stranger_org.headers, model_id, data).status_code == 404


def test_engine_model_loads_from_the_file_and_usage_is_counted(client, db, settings):
    owner = new_org(client)
    made = ready_model(client, settings, owner.headers)
    with db.session() as s:
        version = s.get(ModelVersion, made["version"]["id"])
        model_files.loaded.clear()
        cache = model_files.cache_root(settings)
        for folder in cache.iterdir():
            import shutil

            shutil.rmtree(folder)
        engine = model_files.engine_model(settings, version)  # from the zip
        assert (cache / version.content_hash.removeprefix("sha256:")).is_dir()
        model_files.loaded.clear()
        again = model_files.engine_model(settings, version)  # from the extracted cache
        assert again is not engine and again.summary()["features"] == engine.summary()["features"]
        model = registry.get_model(s, owner.org_id, made["model"]["id"])
        registry.record_usage(s, model=model, version=version, kind="predict", rows=3)
    with db.session() as s:
        usage = s.scalars(select(ModelUsage)).one()
        assert (usage.kind, usage.rows, usage.application) == ("predict", 3, "classification")
