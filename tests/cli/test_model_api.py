"""`augury model applications|subscriptions|plan|create|...` against a real augury server
over HTTP, with an API key and the server's job runner.

The commands are mounted on an app of the test's own (as tests/cli/test_text_api.py
does), so these tests do not depend on where `augury.cli` mounts them. The data is the
breast cancer sample of tests/test_client_models.py, uploaded through the client.
"""

from __future__ import annotations

import itertools
import json
import re
import zipfile

import pytest
import typer
from typer.testing import CliRunner

from augury.cli.model_api import model_api_app, subscriptions_app
from augury.client import Client
from tests.test_client_models import FEATURES, cancer_table, upload_table

PASSWORD = "correct horse battery"
_seq = itertools.count(1)

app = typer.Typer()
app.add_typer(model_api_app)
app.add_typer(subscriptions_app, name="subscriptions")


@pytest.fixture
def owner(live_server):
    with Client(live_server.url, timeout=120) as c:
        c.signup(f"cli-predictive{next(_seq)}@example.com", PASSWORD, organization_name="Mill")
        yield c


@pytest.fixture
def model(live_server, owner):
    """Run `augury model ARGS...` against the live server; the exit code is checked."""
    runner = CliRunner()
    key = owner.keys.create("cli", scopes=["read", "write", "admin"])["key"]
    env = {"AUGURY_URL": live_server.url, "AUGURY_API_KEY": key}

    def run(*args: object, code: int = 0):
        result = runner.invoke(app, [str(a) for a in args], env=env)
        assert result.exit_code == code, (result.output, result.exception)
        return result

    return run


def test_applications_and_subscriptions(model):
    listed = model("applications").stdout
    assert listed.splitlines()[0].split() == ["APPLICATION", "TITLE", "SUBSCRIPTION", "TASKS"]
    assert re.search(r"^failure\s+Failure prediction\s+-\s+binary$", listed, re.M), listed
    assert re.search(r"^classification\s+Classification\s+-\s+binary, multiclass$", listed, re.M)
    assert model("subscriptions", "list").stdout.startswith("no subscriptions")
    added = model("subscriptions", "add", "failure").stdout
    assert re.fullmatch(r"subscription \d+: failure active\n", added)
    assert model("subscriptions", "pause", "failure").stdout.endswith("failure paused\n")
    assert model("subscriptions", "resume", "failure").stdout.endswith("failure active\n")
    assert model("subscriptions", "cancel", "failure").stdout.endswith("failure cancelled\n")
    body = json.loads(model("subscriptions", "list", "--json").stdout)
    assert [(s["application"], s["status"]) for s in body] == [("failure", "cancelled")]
    apps = {a["name"]: a for a in json.loads(model("applications", "--json").stdout)}
    assert apps["failure"]["subscription"]["status"] == "cancelled"

    refused = model("subscriptions", "pause", "regression", code=2)
    assert refused.stderr.startswith("error: ") and "no subscription" in refused.stderr
    assert "--application" in model("subscriptions", "add", "astrology", code=2).stderr


def test_train_show_predict_what_if_batch_download_upload_and_delete(model, owner, tmp_path):
    frame = cancer_table()
    dataset = upload_table(owner, tmp_path, frame, "cancer")
    refused = model("create", "Diagnosis", "--dataset", dataset, "--target", "diagnosis",
                    "--application", "classification", code=2)  # fmt: skip
    assert refused.stderr.startswith("error: ") and len(refused.stderr.splitlines()) == 1
    model("subscriptions", "add", "classification")

    planned = model("plan", "--dataset", dataset, "--target", "diagnosis",
                    "--application", "classification").stdout  # fmt: skip
    assert "task: binary classification of 'diagnosis'" in planned
    assert re.search(r"^  patient_id\s+identifier: ", planned, re.M)
    assert "validation" not in planned

    trained = model("create", "Diagnosis", "--dataset", dataset, "--target", "diagnosis",
                    "--application", "classification", "--time-budget", 10, "--wait")  # fmt: skip
    first = trained.stdout.splitlines()[0]
    found = re.fullmatch(
        r"model (\d+) version 1: ready, binary of 'diagnosis', roc_auc 0\.\d{4} ± 0\.\d{4}, "
        r"current",
        first,
    )
    assert found, trained.stdout
    model_id = int(found.group(1))
    assert re.search(r"^  roc_auc\s+0\.\d{4} ± 0\.\d{4}  \(primary\)$", trained.stdout, re.M)
    assert trained.stderr.splitlines()[-1] == "version 1: ready 100%", trained.stderr

    listed = model("list").stdout.splitlines()
    assert listed[0].split()[:4] == ["ID", "NAME", "APPLICATION", "STATUS"]
    assert listed[1].split()[:5] == [str(model_id), "Diagnosis", "classification", "ready",
                                     "binary"]  # fmt: skip
    shown = model("show", model_id).stdout
    assert shown.startswith(f"model {model_id} 'Diagnosis' (classification), current version 1")
    version = json.loads(model("version", model_id, 1, "--json").stdout)
    assert version["status"] == "ready" and version["current"]

    (tmp_path / "rows.csv").write_text(frame.drop(columns="diagnosis").head(3).to_csv(index=False))
    predicted = model("predict-rows", model_id, "--rows", tmp_path / "rows.csv",
                      "--explain").stdout.splitlines()  # fmt: skip
    assert predicted[0] == f"model {model_id} version 1 (binary)"
    assert predicted[1].split()[:3] == ["ROW", "PREDICTION", "PROBABILITY"]
    assert len(predicted) == 5
    for line in predicted[2:]:
        n, label, probability, *why = line.split()
        assert label in ("benign", "malignant") and 0.5 <= float(probability) <= 1
        assert why and why[0] in FEATURES  # the strongest contribution first
    row = json.dumps(frame.drop(columns="diagnosis").iloc[0].to_dict())
    answer = json.loads(model("predict-rows", model_id, "--row", row, "--json").stdout)
    assert sum(answer["predictions"][0]["probability"].values()) == pytest.approx(1.0)

    moved = model("what-if", model_id, "--row", row, "--change", "worst_area=+50%",
                  "--change", "mean_texture=30", "--json").stdout  # fmt: skip
    changed = json.loads(moved)["rows"][0]["changed"]
    assert changed["worst_area"]["after"] == pytest.approx(1.5 * changed["worst_area"]["before"])
    assert changed["mean_texture"]["after"] == 30
    table = model("what-if", model_id, "--dataset", dataset, "--indices", "0,4",
                  "--change", "worst_area=-20%").stdout.splitlines()  # fmt: skip
    assert table[0].split()[:4] == ["ROW", "BEFORE", "AFTER", "DELTA"]
    assert [line.split()[0] for line in table[1:]] == ["0", "4"]
    assert any(f in table[1] for f in FEATURES)
    bad = model("what-if", model_id, "--row", row, "--change", "worst_area", code=2)
    assert "--change wants COLUMN=+10% or COLUMN=VALUE" in bad.stderr

    batch = model("predict-dataset", model_id, "--dataset", dataset, "--output-name", "scored",
                  "--wait").stdout  # fmt: skip
    assert re.fullmatch(
        rf"job \d+: succeeded, model {model_id} version 1 on dataset {dataset} version 1 into "
        r"'scored'\n",
        batch,
    )

    model("create", "Diagnosis", "--dataset", dataset, "--target", "diagnosis",  # taken name
          "--application", "classification", code=2)  # fmt: skip
    retrained = model("retrain", model_id, "--exclude", "worst_area", "--time-budget", 10,
                      "--wait").stdout  # fmt: skip
    assert retrained.startswith(f"model {model_id} version 2: ready")
    versions = model("versions", model_id).stdout.splitlines()
    assert [line.split()[0] for line in versions[1:]] in (["1", "2"], ["2", "1"])
    compared = model("compare", model_id, 1, 2).stdout.splitlines()
    assert compared[0].split() == ["METRIC", "V1", "V2"]
    assert any(line.startswith("roc_auc") and line.count("±") == 2 for line in compared)
    assert model("promote", model_id, 2).stdout.rstrip().endswith(", current")

    saved = model("download", model_id, 2, "-o", tmp_path).stdout
    path = tmp_path / f"model-{model_id}-v2.zip"
    assert saved.startswith(f"wrote {path}") and zipfile.is_zipfile(path)
    uploaded = model("upload", model_id, path).stdout
    assert uploaded.startswith(f"model {model_id} version 3: ready")
    assert f"(uploaded from {path.name})" in uploaded

    assert "Mill diagnosis" in model("update", model_id, "--name", "Mill diagnosis").stdout
    model("delete", model_id, "--version", 1, "--yes")
    assert "1" not in [line.split()[0] for line in model("versions", model_id).stdout.splitlines()]
    summary = model("summary").stdout
    assert re.search(r"^classification\s+1\s+\d+\s+\d+\s+\d+", summary, re.M), summary
    model("delete", model_id, "--yes")
    assert model("list").stdout == "no models\n"
    gone = model("show", model_id, code=2)
    assert gone.stderr.startswith("error: ")


def test_no_api_key_and_bad_rows_exit_2(live_server):
    runner = CliRunner()
    result = runner.invoke(app, ["list", "--url", live_server.url], env={"AUGURY_API_KEY": ""})
    assert result.exit_code == 2 and "no API key" in result.stderr
    result = runner.invoke(
        app, ["predict-rows", "1", "--row", "[1, 2]"], env={"AUGURY_API_KEY": "aug_x"}
    )
    assert result.exit_code == 2 and "--row is a JSON object" in result.stderr
