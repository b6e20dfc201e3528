"""`augury text models|analyses|analyze` against a real augury server over HTTP, with an
API key and the server's job runner.

The groups are mounted on an app of the test's own (as tests/cli/test_text_api.py
does), so these tests do not depend on where `augury.cli` mounts them. The labeled
data is the planted intents of tests/test_client_text_models.py, imported through the
client.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re
import zipfile

import pytest
import typer
from typer.testing import CliRunner

from augury.cli.text_models_api import analyses_app, analyze_app, models_app
from augury.client import Client
from augury.client.text import TextJobError
from tests.test_client_text_models import HELD_OUT, labeled_csv, labeled_project, planted

PASSWORD = "correct horse battery"
_seq = itertools.count(1)

text_app = typer.Typer()
text_app.add_typer(models_app, name="models")
text_app.add_typer(analyses_app, name="analyses")
text_app.add_typer(analyze_app)


@pytest.fixture
def owner(live_server):
    with Client(live_server.url, timeout=60) as c:
        c.signup(f"cli-models{next(_seq)}@example.com", PASSWORD, organization_name="Shop")
        yield c


@pytest.fixture
def text(live_server, owner):
    """Run `augury text ARGS...` against the live server; the exit code is checked."""
    runner = CliRunner()
    key = owner.keys.create("cli", scopes=["read", "write"])["key"]
    env = {"AUGURY_URL": live_server.url, "AUGURY_API_KEY": key}

    def run(*args: object, code: int = 0, input: str | None = None):
        result = runner.invoke(text_app, [str(a) for a in args], env=env, input=input)
        assert result.exit_code == code, (result.output, result.exception)
        return result

    return run


def words(output: str) -> list[list[str]]:
    return [line.split() for line in output.splitlines()]


def test_models_train_wait_list_show_report_promote_download_upload_delete(text, owner, tmp_path):
    project, session = labeled_project(owner, tmp_path)
    queued = text("models", "train", "intents", "-p", project, "--session", session)
    assert re.fullmatch(
        r"model (\d+) 'intents' version 1 \(CLASS, QUEUED\) queued \(job \d+; --wait waits "
        r"for it\)\n",
        queued.stdout,
    )
    trained = text(
        "models", "train", "intents", "-p", project, "--session", session, "--seed", 1, "--wait"
    )
    first_line = trained.stdout.splitlines()[0]
    model_id = int(
        re.fullmatch(
            r"model (\d+) 'intents' version 2 \(CLASS, READY\): score [01]\.\d{3}", first_line
        ).group(1)
    )
    assert "classes: billing, delivery, quality" in trained.stdout
    progress = trained.stderr.splitlines()
    assert progress[-1] == f"model {model_id}: ready 100%"
    assert all(
        re.fullmatch(rf"model {model_id}: (queued|training|ready) \d+%", p) for p in progress
    )

    first = json.loads(text("models", "list", "-p", project, "--json").stdout)["items"][-1]
    owner.text.models.wait(project, first["id"], timeout=120)
    listed = words(text("models", "list", "-p", project).stdout)
    assert listed[0] == ["ID", "NAME", "VERSION", "STATUS", "SCORE", "ACTIVE", "CLASSES"] + [
        "ORIGIN",
        "CREATED",
    ]
    assert [row[:4] for row in listed[1:]] == [
        [str(model_id), "intents", "2", "READY"],
        [str(first["id"]), "intents", "1", "READY"],
    ]
    shown = json.loads(text("models", "show", model_id, "-p", project, "--json").stdout)
    assert shown["id"] == model_id and shown["status"] == "READY"

    report = text("models", "report", model_id, "-p", project).stdout
    assert report.startswith(f"model {model_id}: ")
    tables = [words(part) for part in report.split("\n\n")[1:]]
    assert tables[0][0] == ["CLASS", "PRECISION", "RECALL", "F1", "SUPPORT"]
    assert sorted(row[0] for row in tables[0][1:]) == ["billing", "delivery", "quality"]
    assert tables[1][0][-3:] == ["BILLING", "DELIVERY", "QUALITY"]  # the confusion matrix
    assert sorted(row[0] for row in tables[1][1:]) == ["billing", "delivery", "quality"]

    promoted = text("models", "promote", model_id, "-p", project).stdout
    assert promoted.endswith(", active: the project's active model now\n")
    compared = words(text("models", "compare", first["id"], model_id, "-p", project).stdout)
    assert [row[0] for row in compared[1:]] == ["score", "billing", "delivery", "quality"]

    zipped = tmp_path / "intents.zip"
    assert text("models", "download", model_id, "-p", project, "-o", zipped).stdout.startswith(
        f"wrote {zipped} ("
    )
    assert zipfile.is_zipfile(zipped)
    copy = owner.text.projects.create("Copy", "CLASS")["id"]
    owner.text.classes.add(copy, ["billing", "delivery", "quality"])
    uploaded = text("models", "upload", zipped, "-p", copy, "--name", "copied").stdout
    assert re.fullmatch(
        r"model \d+ 'copied' version 1 \(CLASS, READY\): score [01]\.\d{3} uploaded from "
        r"intents.zip\n",
        uploaded,
    )

    refused = text("models", "delete", model_id, "-p", project, input="n\n", code=1)
    assert "(the project's active model)?" in refused.stdout
    assert owner.text.models.get(project, model_id)["active"] is True
    gone = text("models", "delete", model_id, "-p", project, "--yes").stdout
    assert gone == f"{first_line}, active deleted\n"


def test_model_errors_print_the_api_message_and_exit_non_zero(text, owner, tmp_path):
    project = owner.text.projects.create("Bills", "CLASS", segmentation="none")["id"]
    file = labeled_csv(tmp_path / "bills.csv", [(t, c) for t, c in planted() if c == "billing"])
    session = owner.text.projects.import_file(project, file, create_missing=True)["sessions"][0]
    one_class = text("models", "train", "bills", "-p", project, "--session", session["id"], code=2)
    assert one_class.stderr.startswith("error: Training needs labeled examples of at least two")
    assert len(one_class.stderr.splitlines()) == 1
    missing = text("models", "show", 999999, "-p", project, code=2)
    assert missing.stderr.startswith("error: ")
    bad_zip = tmp_path / "not-a-model.zip"
    bad_zip.write_bytes(b"PK not really")
    assert text(
        "models", "upload", bad_zip, "-p", project, "--name", "x", code=2
    ).stderr.startswith("error: ")

    labeled, sid = labeled_project(owner, tmp_path, "Aborted")
    queued = owner.text.models.train(labeled, "intents", session_ids=[sid])
    assert text("models", "abort", queued["id"], "-p", labeled).stdout.startswith(
        f"model {queued['id']} 'intents' version 1 (CLASS, "
    )
    with pytest.raises(TextJobError) as ended:
        owner.text.models.wait(labeled, queued["id"], timeout=60)
    assert ended.value.code == "ABORTED", ended.value.message


def test_analyze_prints_segments_tags_and_confidence(text, owner, tmp_path):
    project, session = labeled_project(owner, tmp_path)
    model = owner.text.models.train(project, "intents", session_ids=[session], wait=True)
    out = text("analyze", project, *HELD_OUT.values(), "--model", model["id"]).stdout
    lines = out.splitlines()
    assert lines[0] == f"model {model['id']} 'intents v1' (trained, CLASS)"
    assert lines[1].split() == ["DOC", "SEGMENT", "TAGS", "CONFIDENCE"]
    rows = lines[2:]
    assert len(rows) == 3 and [r.split()[0] for r in rows] == ["1", "2", "3"]
    for row, intent in zip(rows, HELD_OUT, strict=True):
        assert re.search(rf"  {intent} \d\.\d\d  +\d\.\d\d$", row), row

    answer = json.loads(
        text("analyze", project, "-", "--model", model["id"], "--json", input="one\n\ntwo\n").stdout
    )
    assert [d["text"] for d in answer["documents"]] == ["one", "two"]
    too_many = text("analyze", project, *(["x"] * 101), code=2)
    assert too_many.stderr.startswith("error: ") and "batch" in too_many.stderr


def test_analyses_create_wait_list_show_results_export_delete(text, owner, tmp_path):
    project, session = labeled_project(owner, tmp_path)
    model = owner.text.models.train(project, "intents", session_ids=[session], wait=True)
    tickets = tmp_path / "tickets.csv"
    tickets.write_text(
        "ref,body,written\n"
        + "".join(f"t{n},{t},2024-0{n + 1}-10\n" for n, t in enumerate(HELD_OUT.values()))
    )
    created = text(
        "analyses",
        "create",
        "tickets",
        "-p",
        project,
        "--file",
        tickets,
        "--column",
        "body",
        "--id-column",
        "ref",
        "--time-column",
        "written",
        "--model",
        model["id"],
        "--wait",
    )
    line = created.stdout.splitlines()[0]
    analysis = int(
        re.fullmatch(
            r"analysis (\d+) 'tickets' \(SUCCEEDED\): 3 documents, 3 segments, 0 sent to review",
            line,
        ).group(1)
    )
    assert created.stderr.splitlines()[-1] == f"analysis {analysis}: succeeded 100%"

    group = owner.text.groups.create(
        project,
        "first docs",
        document_ids=[d["id"] for d in owner.text.documents.list(project, limit=6)["items"]],
    )
    queued = text("analyses", "create", "group", "-p", project, "--group", group["id"], "--json")
    batch = json.loads(queued.stdout)
    assert batch["status"] == "QUEUED" and batch["source"]["group_id"] == group["id"]
    owner.text.analyses.wait(project, batch["id"], timeout=120)
    neither = text("analyses", "create", "x", "-p", project, code=2)
    assert neither.stderr == "error: pass one of --group, --file or --dataset\n"

    listed = words(text("analyses", "list", "-p", project).stdout)
    assert listed[0][:5] == ["ID", "NAME", "STATUS", "PROGRESS", "MODEL"]
    assert [row[:3] for row in listed[1:]] == [
        [str(batch["id"]), "group", "SUCCEEDED"],
        [str(analysis), "tickets", "SUCCEEDED"],
    ]

    shown = text("analyses", "show", analysis, "-p", project).stdout
    assert shown.startswith(f"{line}\nmodel: intents v1\nsource: file tickets.csv, column 'body'\n")
    totals = words(shown.split("\n\n")[1])
    assert totals[0] == ["CLASS", "RESULTS"]
    assert sorted(totals[1:]) == [["billing", "1"], ["delivery", "1"], ["quality", "1"]]

    results = words(text("analyses", "results", analysis, "-p", project).stdout)
    assert results[0] == ["DOCUMENT", "SEGMENT", "TAGS", "CONFIDENCE"] and len(results) == 4
    billing = text("analyses", "results", analysis, "-p", project, "--class", "billing").stdout
    assert len(billing.splitlines()) == 2 and "charged" in billing
    two = text(
        "analyses",
        "results",
        analysis,
        "-p",
        project,
        "--class",
        "billing",
        "--class",
        "quality",
        "--limit",
        1,
    ).stdout
    assert two.splitlines()[-1] == "... 1 more (--limit)"
    assert (
        text("analyses", "results", analysis, "-p", project, "--search", "nothing like it").stdout
        == "no results\n"
    )

    exported = text("analyses", "export", analysis, "-p", project, "-o", "-").stdout
    rows = list(csv.DictReader(io.StringIO(exported.lstrip("\ufeff"))))
    assert [r["external_id"] for r in rows] == ["t0", "t1", "t2"]
    target = tmp_path / "out"
    target.mkdir()
    wrote = text("analyses", "export", analysis, "-p", project, "--format", "jsonl", "-o", target)
    assert wrote.stdout.startswith(f"wrote {target / f'analysis-{analysis}.jsonl'} (")

    assert text("analyses", "delete", analysis, "-p", project, "--yes").stdout == (
        f"analysis {analysis} 'tickets' deleted\n"
    )
    assert text("analyses", "show", analysis, "-p", project, code=2).stderr.startswith("error: ")
