"""``client.text.models`` and ``client.text.analyses`` against a real augury server over
HTTP, with its job runner (no mocks): training waited for, reports, versions, the
signed download/upload round trip, ad-hoc and batch analyses with their filters,
aggregates and exports.

The labeled data is a planted set of three intents, imported as a labeled file (an
IMPORT session), so the tests train on real sessions without labeling segment by
segment; the CLI tests (tests/cli/test_text_models_api.py) use the same builders.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import zipfile
from pathlib import Path

import pytest

from augury.client import Client, ConflictError, NotFoundError, ValidationError
from augury.client.text import TextJobError

PASSWORD = "correct horse battery"
_seq = itertools.count(1)

INTENTS = {
    "billing": [
        "I was charged twice for my {}",
        "Please refund the payment for the {}",
        "The invoice for my {} shows the wrong amount",
        "My credit card was billed again for the {}",
    ],
    "delivery": [
        "The {} parcel never arrived at my door",
        "Shipping of my {} is late by a week",
        "The courier lost the package with my {}",
        "Tracking says my {} is still in transit",
    ],
    "quality": [
        "The {} broke after one day of use",
        "My {} stopped working and feels cheap",
        "The {} came scratched and defective",
        "This {} is poorly made and falls apart",
    ],
}
ITEMS = ("phone", "laptop", "headset")
HELD_OUT = {
    "billing": "Why was my card charged for a refund I never got?",
    "delivery": "My package is stuck with the courier and still not delivered.",
    "quality": "The screen cracked and the case feels cheap and broken.",
}


def planted(intents: dict[str, list[str]] = INTENTS) -> list[tuple[str, str]]:
    """(text, intent) pairs: every template with every item, 12 per intent."""
    return [
        (template.format(item), intent)
        for intent, templates in intents.items()
        for template in templates
        for item in ITEMS
    ]


def labeled_csv(path: Path, examples: list[tuple[str, str]], session: str = "planted") -> Path:
    """A labeled file in the export's format: one document (and segment) per example."""
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(
            ["external_id", "document_text", "segment_start", "segment_end", "segment_text"]
            + ["session", "class"]
        )
        for n, (text, intent) in enumerate(examples):
            out.writerow([f"x{n}", text, 0, len(text), text, session, intent])
    return path


def labeled_project(client: Client, tmp_path: Path, name: str = "Support") -> tuple[int, int]:
    """A CLASS project whose three classes come from an imported labeled session; the
    project's id and the session's."""
    project = client.text.projects.create(name, "CLASS", segmentation="none")["id"]
    file = labeled_csv(tmp_path / f"{name}.csv", planted())
    imported = client.text.projects.import_file(project, file, create_missing=True)
    return project, imported["sessions"][0]["id"]


def signed_up(url: str) -> Client:
    c = Client(url, timeout=60)
    c.signup(f"models{next(_seq)}@example.com", PASSWORD, organization_name="Models Inc")
    return c


@pytest.fixture
def owner(live_server):
    with signed_up(live_server.url) as c:
        yield c


def top(segment: dict) -> str:
    return max(segment["tags"], key=lambda t: t["confidence"])["class"]


def test_train_wait_report_versions_compare_promote_and_delete(owner, tmp_path):
    project, session = labeled_project(owner, tmp_path)
    models = owner.text.models
    seen: list[dict] = []
    first = models.train(
        project, "intents", session_ids=[session], seed=3, wait=True, on_progress=seen.append
    )
    assert (first["status"], first["version"], first["task"]) == ("READY", 1, "CLASS")
    assert sorted(first["classes"]) == ["billing", "delivery", "quality"]
    assert 0.0 <= first["score"] <= 1.0 and first["content_hash"]
    assert seen[-1]["status"] == "READY" and {s["id"] for s in seen} == {first["id"]}
    assert all(s["status"] in ("QUEUED", "TRAINING", "READY") for s in seen)

    report = models.report(project, first["id"])
    assert report["model_id"] == first["id"]
    assert set(report["per_class"]) == set(first["classes"])
    assert len(report["confusion"]) == len(report["classes"]) == 3
    assert all(len(row) == 3 for row in report["confusion"])
    tested = sum(c["support"] for c in report["per_class"].values())
    assert sum(map(sum, report["confusion"])) == tested > 0

    queued = models.train(project, "intents", session_ids=[session], test_fraction=0.3)
    assert (queued["status"], queued["version"]) == ("QUEUED", 2) and queued["job_id"]
    second = models.wait(project, queued["id"], timeout=120)
    assert second["status"] == "READY"
    assert [m["id"] for m in models.iter(project, name="intents", page_size=1)] == [
        second["id"],
        first["id"],
    ]
    assert models.list(project, status="FAILED")["total"] == 0

    compared = models.compare(project, [first["id"], second["id"]])
    assert [m["id"] for m in compared["models"]] == [first["id"], second["id"]]
    assert set(compared["per_class"]) == set(first["classes"])
    assert set(compared["per_class"]["billing"]) == {str(first["id"]), str(second["id"])}

    assert models.promote(project, second["id"])["active"] is True
    assert models.promote(project, first["id"])["active"] is True
    assert models.get(project, second["id"])["active"] is False
    renamed = models.update(project, second["id"], name="intents 30", description="30 % tested")
    assert (renamed["name"], renamed["version"]) == ("intents 30", 1)
    assert renamed["description"] == "30 % tested"
    described = models.update(project, first["id"], description="20 % tested")
    assert (described["name"], described["description"]) == ("intents", "20 % tested")

    with pytest.raises(ConflictError):
        models.delete(project, first["id"])  # the active one needs confirm
    models.delete(project, second["id"])
    models.delete(project, first["id"], confirm=True)
    with pytest.raises(NotFoundError):
        models.get(project, first["id"])
    assert models.list(project)["total"] == 0


def test_refusals_and_a_failed_wait_raise_the_api_error(owner, tmp_path):
    project = owner.text.projects.create("One class", "CLASS", segmentation="none")["id"]
    one_class = [(t, c) for t, c in planted() if c == "billing"]
    file = labeled_csv(tmp_path / "billing.csv", one_class)
    session = owner.text.projects.import_file(project, file, create_missing=True)
    with pytest.raises(ValidationError) as refused:
        owner.text.models.train(project, "bills", session_ids=[session["sessions"][0]["id"]])
    assert "two classes" in refused.value.message
    with pytest.raises(NotFoundError):
        owner.text.models.get(project, 10**6)

    labeled, sid = labeled_project(owner, tmp_path, "Aborted")
    queued = owner.text.models.train(labeled, "intents", session_ids=[sid])
    owner.text.models.abort(labeled, queued["id"])  # it takes seconds to train
    with pytest.raises(TextJobError) as ended:
        owner.text.models.wait(labeled, queued["id"], timeout=60)
    assert ended.value.code == "ABORTED" and ended.value.status == 200
    assert ended.value.details["model"]["status"] == "ABORTED"


def test_download_and_upload_a_model_into_another_project(owner, tmp_path):
    project, session = labeled_project(owner, tmp_path)
    trained = owner.text.models.train(project, "intents", session_ids=[session], wait=True)
    path = owner.text.models.download(project, trained["id"], path=tmp_path / "intents.zip")
    assert path == tmp_path / "intents.zip" and zipfile.is_zipfile(path)
    assert owner.text.models.download(project, trained["id"]) == path.read_bytes()

    copy = owner.text.projects.create("Copy", "CLASS", segmentation="none")["id"]
    owner.text.classes.add(copy, ["billing", "delivery", "quality"])
    uploaded = owner.text.models.upload(copy, path, "imported intents")
    assert (uploaded["status"], uploaded["origin"], uploaded["name"]) == (
        "READY",
        "uploaded",
        "imported intents",
    )
    assert uploaded["content_hash"] == trained["content_hash"]
    texts = list(HELD_OUT.values())
    there = owner.text.analyses.analyze(copy, texts, model_id=uploaded["id"])
    here = owner.text.analyses.analyze(project, texts, model_id=trained["id"])
    assert [top(d["segments"][0]) for d in there["documents"]] == [
        top(d["segments"][0]) for d in here["documents"]
    ]

    tampered = tmp_path / "tampered.zip"
    with zipfile.ZipFile(path) as source, zipfile.ZipFile(tampered, "w") as target:
        for item in source.infolist():
            data = source.read(item)
            if item.filename.endswith("signature.json"):
                signed = json.loads(data)
                signed["classes"] = list(reversed(signed["classes"]))
                data = json.dumps(signed).encode()
            target.writestr(item, data)
    with pytest.raises(ValidationError):
        owner.text.models.upload(copy, tampered, "edited")
    other = owner.text.projects.create("Other", "CLASS")["id"]
    owner.text.classes.add(other, ["sports", "weather"])
    with pytest.raises(ValidationError):
        owner.text.models.upload(other, path, "wrong classes")


def test_ad_hoc_analysis_zero_shot_and_trained(owner, tmp_path):
    analyses = owner.text.analyses
    shop = owner.text.projects.create("Zero", "CLASS")["id"]
    owner.text.classes.add(
        shop,
        [
            {"name": n, "description": d, "examples": [INTENTS[n][0].format("phone")]}
            for n, d in (
                ("billing", "payments, charges, invoices and refunds"),
                ("delivery", "shipping, couriers, parcels that are late or lost"),
                ("quality", "broken, defective or cheap products"),
            )
        ],
    )
    answer = analyses.analyze(
        shop, [{"text": HELD_OUT["billing"], "id": "b1"}, HELD_OUT["delivery"]]
    )
    assert answer["model"] == {"id": None, "name": answer["model"]["name"], "kind": "zero-shot"}
    assert answer["type"] == "CLASS"
    first, second = answer["documents"]
    assert (first["id"], first["text"]) == ("b1", HELD_OUT["billing"])
    segment = first["segments"][0]
    assert segment["span"] == [0, len(segment["text"])]
    assert top(segment) == "billing" and top(second["segments"][0]) == "delivery"
    with pytest.raises(ValidationError) as too_many:
        analyses.analyze(shop, ["text"] * 101)
    assert "batch" in too_many.value.message.lower()

    project, session = labeled_project(owner, tmp_path)
    trained = owner.text.models.train(project, "intents", session_ids=[session], wait=True)
    owner.text.models.promote(project, trained["id"])
    answer = analyses.analyze(project, list(HELD_OUT.values()))  # the active model
    assert answer["model"]["id"] == trained["id"] and answer["model"]["kind"] == "trained"
    assert [top(d["segments"][0]) for d in answer["documents"]] == list(HELD_OUT)
    compared = analyses.analyze(project, list(HELD_OUT.values()), zero_shot=True)
    assert compared["model"]["kind"] == "zero-shot"


def test_batch_analysis_of_a_group_results_aggregates_export(owner, tmp_path):
    project, session = labeled_project(owner, tmp_path)
    trained = owner.text.models.train(project, "intents", session_ids=[session], wait=True)
    texts = [text for text, _ in planted()]
    group = owner.text.groups.create(
        project, "all", document_ids=[d["id"] for d in owner.text.documents.iter(project)]
    )
    analyses = owner.text.analyses
    seen: list[dict] = []
    done = analyses.create(
        project,
        "everything",
        model_id=trained["id"],
        group_id=group["id"],
        wait=True,
        on_progress=seen.append,
    )
    assert done["status"] == "SUCCEEDED" and seen[-1]["status"] == "SUCCEEDED"
    assert (done["document_count"], done["segment_count"]) == (len(texts), len(texts))
    assert done["model_id"] == trained["id"] and done["source"]["group_id"] == group["id"]

    results = list(analyses.iter_results(project, done["id"], page_size=10))
    assert len(results) == len(texts) == analyses.results(project, done["id"])["total"]
    assert sorted(r["text"] for r in results) == sorted(texts)
    billing = list(analyses.iter_results(project, done["id"], classes="billing", page_size=7))
    assert billing and all("billing" in {t["class"] for t in r["tags"]} for r in billing)
    billing_texts = {r["text"] for r in billing}
    both = analyses.results(project, done["id"], classes=["billing", "delivery"], limit=1)
    billing_id = next(c["id"] for c in owner.text.classes.iter(project) if c["name"] == "billing")
    by_id = analyses.results(project, done["id"], classes=[billing_id])
    assert both["total"] > by_id["total"] == len(billing)
    assert both["has_more"] is True and len(both["items"]) == 1
    sure = analyses.results(project, done["id"], min_confidence=0.5)["items"]
    assert all(r["confidence"] >= 0.5 for r in sure)
    refunds = analyses.results(project, done["id"], q="REFUND")["items"]
    assert [r["text"] for r in refunds] == [t for t in texts if "refund" in t]

    counts = analyses.aggregates(project, done["id"], period="month")
    assert sum(t["count"] for t in counts["totals"]) >= len(texts)
    assert sum(p["count"] for p in counts["series"]) == sum(t["count"] for t in counts["totals"])
    documents = analyses.documents(project, done["id"], classes="billing", limit=100)
    assert documents["total"] == len(billing)

    exported = analyses.export(project, done["id"], "csv")
    assert isinstance(exported, bytes)
    rows = list(csv.DictReader(io.StringIO(exported.decode("utf-8-sig"))))
    assert {r["text"] for r in rows} == set(texts)
    assert {r["class"] for r in rows if r["text"] in billing_texts} >= {"billing"}
    path = analyses.export(project, done["id"], "jsonl", path=tmp_path / "results.jsonl")
    lines = [json.loads(line) for line in path.read_text().splitlines()]
    assert len(lines) == len(rows) and {line["text"] for line in lines} == set(texts)

    assert analyses.rename(project, done["id"], "all intents")["name"] == "all intents"
    assert [a["id"] for a in analyses.iter(project, model_id=trained["id"])] == [done["id"]]
    analyses.delete(project, done["id"])
    with pytest.raises(NotFoundError):
        analyses.get(project, done["id"])
    assert owner.text.documents.list(project)["total"] == len(texts)  # they stay


def test_batch_analysis_of_an_uploaded_file_dated_by_a_column(owner, tmp_path):
    project, session = labeled_project(owner, tmp_path)
    trained = owner.text.models.train(project, "intents", session_ids=[session], wait=True)
    file = tmp_path / "tickets.csv"
    with file.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["ref", "body", "written"])
        for n, text in enumerate(HELD_OUT.values()):
            out.writerow([f"t{n}", text, f"2024-0{n + 1}-15"])
    done = owner.text.analyses.upload(
        project,
        file,
        "tickets",
        "body",
        id_column="ref",
        time_column="written",
        model_id=trained["id"],
        wait=True,
    )
    assert (done["status"], done["document_count"]) == ("SUCCEEDED", 3)
    assert done["source"]["file_name"] == "tickets.csv"
    results = list(owner.text.analyses.iter_results(project, done["id"]))
    assert [r["occurred_at"][:10] for r in results] == ["2024-01-15", "2024-02-15", "2024-03-15"]
    assert [top(r) for r in results] == list(HELD_OUT)
    series = owner.text.analyses.aggregates(project, done["id"], period="month")["series"]
    assert sorted({p["period"][:7] for p in series}) == ["2024-01", "2024-02", "2024-03"]


def test_train_on_an_uploaded_labeled_file(owner, tmp_path):
    project = owner.text.projects.create("From a file", "CLASS")["id"]
    upload = owner.text.files.upload(project, labeled_csv(tmp_path / "l.csv", planted()))
    model = owner.text.models.train(
        project,
        "filed",
        file_id=upload["id"],
        column_mapping={"text": "document_text", "class": "class"},
        create_missing=True,
        wait=True,
    )
    assert model["status"] == "READY" and model["score"] > 0.6
    (imported,) = owner.text.sessions.list(project)["items"]
    assert model["training"]["session_ids"] == [imported["id"]]
