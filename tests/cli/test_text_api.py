"""`augury text projects|classes|labels|documents|sessions` against a real augury server
over HTTP, with an API key.

The groups are mounted here on an app of the test's own, so these tests do not depend
on where `augury.cli` mounts them.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import re

import pytest
import typer
from typer.testing import CliRunner

from augury.cli.text_api import (
    classes_app,
    documents_app,
    labels_app,
    projects_app,
    sessions_app,
)
from augury.client import Client
from tests.fixtures.app import free_port

PASSWORD = "correct horse battery"
REVIEWS = (
    "review,stars,ref\n"
    '"Great phone. The battery lasts two days!",5,r1\n'
    '"Screen cracked in a week. Support never answered.",1,r2\n'
    '"Fine for the price.",3,r3\n'
)
_seq = itertools.count(1)

text_app = typer.Typer()
for _sub, _name in (
    (projects_app, "projects"),
    (classes_app, "classes"),
    (labels_app, "labels"),
    (documents_app, "documents"),
    (sessions_app, "sessions"),
):
    text_app.add_typer(_sub, name=_name)


@pytest.fixture
def owner(live_server):
    with Client(live_server.url) as c:
        c.signup(f"cli-text{next(_seq)}@example.com", PASSWORD, organization_name="Shop")
        yield c


@pytest.fixture
def text(live_server, owner):
    """Run `augury text ARGS...` against the live server; the exit code is checked."""
    runner = CliRunner()
    key = owner.keys.create("cli", scopes=["read", "write"])["key"]
    env = {"AUGURY_URL": live_server.url, "AUGURY_API_KEY": key}

    def run(*args: str, code: int = 0, input: str | None = None, **more_env: str | None):
        result = runner.invoke(text_app, list(args), env={**env, **more_env}, input=input)
        assert result.exit_code == code, (result.output, result.exception)
        return result

    return run


@pytest.fixture
def reviews_csv(tmp_path):
    path = tmp_path / "reviews.csv"
    path.write_text(REVIEWS)
    return path


def created_id(output: str, what: str = "project") -> int:
    return int(re.search(rf"^{what} (\d+) ", output, re.M).group(1))


def words(output: str) -> list[list[str]]:
    return [line.split() for line in output.splitlines()]


def test_projects_classes_and_labels(text, tmp_path):
    out = text("projects", "create", "Phones", "--type", "class", "--description", "reviews").output
    assert re.fullmatch(r"project \d+ 'Phones' \(CLASS\) created\n", out)
    phones = str(created_id(out))
    hotel = json.loads(text("projects", "create", "Hotel", "--type", "ABSA", "--json").output)
    assert hotel["label_count"] == 4

    listed = words(text("projects", "list").output)
    assert listed[0] == [
        "ID",
        "NAME",
        "TYPE",
        "DOCUMENTS",
        "CLASSES",
        "LABELS",
        "SESSIONS",
        "ROLE",
        "UPDATED",
    ]
    assert [row[:8] for row in listed[1:]] == [
        [str(hotel["id"]), "Hotel", "ABSA", "0", "0", "4", "0", "MANAGER"],
        [phones, "Phones", "CLASS", "0", "0", "0", "0", "MANAGER"],
    ]
    assert text("projects", "list", "--search", "nothing").output == "no projects\n"
    page = json.loads(text("projects", "list", "--type", "absa", "--json").output)
    assert [p["name"] for p in page["items"]] == ["Hotel"]

    assert text("classes", "list", "-p", phones).output == "no classes\n"
    added = text(
        "classes", "add", "billing", "-p", phones, "--description", "money", "--example", "refund"
    ).output
    assert added == "added 1 class: billing\n"
    assert text("classes", "add", "delivery", "quality", "-p", phones).output == (
        "added 2 classes: delivery, quality\n"
    )
    both = text("classes", "add", "a", "b", "-p", phones, "--description", "x", code=2)
    assert "describe one NAME" in both.stderr
    duplicate = text("classes", "add", "Billing", "-p", phones, code=2)
    assert duplicate.stderr.startswith("error: ") and len(duplicate.stderr.splitlines()) == 1
    sheet = tmp_path / "labels.csv"
    sheet.write_text("name,description,examples\nurgent,act now,asap\n")
    assert text("labels", "upload", str(sheet), "-p", phones).output == (
        "added 1 label from labels.csv: urgent\n"
    )
    classes = words(text("classes", "list", "-p", phones).output)
    assert classes[0] == ["ID", "CLASS", "DESCRIPTION", "EXAMPLES"]
    assert [row[1:] for row in classes[1:]] == [
        ["billing", "money", "refund"],
        ["delivery"],
        ["quality"],
    ]
    as_json = json.loads(text("labels", "list", "-p", str(hotel["id"]), "--json").output)
    assert [label["name"] for label in as_json] == ["POS", "NEG", "NEU", "CONFLICT"]

    shown = text("projects", "show", phones).output
    assert shown.startswith(
        f"project {phones} 'Phones' (CLASS): language en, segmentation sentence, "
        "your role MANAGER\ndescription: reviews\n0 documents, 3 classes, 1 label, 0 sessions\n"
    )
    tables = [words(part) for part in shown.split("\n\n")[1:]]
    assert [t[0] for t in tables] == [
        ["ID", "CLASS", "DESCRIPTION", "EXAMPLES"],
        ["ID", "LABEL", "DESCRIPTION", "EXAMPLES"],
    ]
    assert [row[1] for row in tables[0][1:]] == ["billing", "delivery", "quality"]
    shown_json = json.loads(text("projects", "show", phones, "--json").output)
    assert [c["name"] for c in shown_json["classes"]] == ["billing", "delivery", "quality"]

    aborted = text("projects", "delete", phones, input="n\n", code=1).output
    assert (
        f"Delete project {phones} 'Phones' (CLASS) with 0 documents, 0 sessions, 3 classes, "
        "1 label and 0 groups?" in aborted
    )
    assert text("projects", "delete", phones, "--yes").output == (
        f"project {phones} 'Phones' (CLASS) deleted\n"
    )
    gone = text("projects", "show", phones, code=2)
    assert gone.stdout == "" and gone.stderr.startswith("error: ")


def test_documents_upload_list_and_show(text, owner, reviews_csv, tmp_path):
    project = str(created_id(text("projects", "create", "Phones").output))
    out = text(
        "documents",
        "upload",
        str(reviews_csv),
        "-p",
        project,
        "--column",
        "review",
        "--id-column",
        "ref",
    ).output
    assert out == (
        "reviews.csv: csv, 3 rows, columns review, stars, ref\n"
        f"created 3 documents (5 segments) from column 'review' in project {project}\n"
    )
    guess = text("documents", "upload", str(reviews_csv), "-p", project, code=2).stderr
    assert (
        guess == "error: which column holds the texts? pass --column (one of review, stars, ref)\n"
    )
    unknown = text(
        "documents", "upload", str(reviews_csv), "-p", project, "--column", "body", code=2
    )
    assert unknown.stderr.startswith("error: ") and "review" in unknown.stderr
    lines = tmp_path / "more.txt"
    lines.write_text("Arrived late.\nLove it!\n")
    plain = text("documents", "upload", str(lines), "-p", project, "--segmentation", "none")
    assert plain.output.endswith(
        f"created 2 documents (2 segments) from column 'text' in project {project}\n"
    )

    listed = words(text("documents", "list", "-p", project).output)
    assert listed[0] == ["ID", "YOUR", "ID", "SEGMENTS", "CHARS", "TEXT"]
    assert [row[1:3] for row in listed[1:4]] == [["r1", "2"], ["r2", "2"], ["r3", "1"]]
    assert len(listed) == 6
    found = json.loads(
        text("documents", "list", "-p", project, "--search", "battery", "--json").output
    )
    assert [d["external_id"] for d in found["items"]] == ["r1"]
    assert text("documents", "list", "-p", project, "--limit", "4").output.endswith(
        "... 1 more (--limit)\n"
    )

    doc = found["items"][0]["id"]
    session = owner.text.sessions.create(int(project), "Round", document_ids=[doc])
    owner.text.classes.add(int(project), ["good", "bad"])
    view = owner.text.sessions.document(int(project), session["id"], doc)
    first = view["segments"][0]["id"]
    owner.text.sessions.save_tags(int(project), session["id"], doc, first, [{"class": "good"}])
    shown = text("documents", "show", str(doc), "-p", project).output.splitlines()
    assert shown[:2] == [f"document {doc} (r1): 40 characters, 2 segments, from file", "stars: 5"]
    assert words("\n".join(shown[3:])) == [
        ["#", "SPAN", "TAGS", "SEGMENT"],
        ["0", "0-12", "good", "Great", "phone."],
        ["1", "13-40", "The", "battery", "lasts", "two", "days!"],
    ]
    as_json = json.loads(text("documents", "show", str(doc), "-p", project, "--json").output)
    assert as_json["tags"][0]["class"] == "good"


def test_sessions_create_list_show_and_progress(text, owner):
    project = created_id(text("projects", "create", "Moods").output)
    owner.text.classes.add(project, ["happy", "sad"])
    docs = owner.text.documents.create(project, ["Great.", "Awful.", "Fine.", "Odd."])["items"]
    ids = [str(d["id"]) for d in docs]
    me = owner.me()

    out = text(
        "sessions",
        "create",
        "Round 1",
        "-p",
        str(project),
        "--document",
        ids[0],
        "--document",
        ids[1],
        "--class",
        "happy",
        "--assignee",
        str(me["id"]),
    ).output
    assert re.fullmatch(
        r"session \d+ 'Round 1' \(ANNOTATION, CREATED\): 2 documents, 0% done; created\n", out
    )
    first = created_id(out, "session")
    sample = json.loads(
        text(
            "sessions",
            "create",
            "Sample",
            "-p",
            str(project),
            "--sample-size",
            "3",
            "--seed",
            "1",
            "--json",
        ).output
    )
    assert sample["document_count"] == 3 and sample["sampling"]["seed"] == 1

    listed = words(text("sessions", "list", "-p", str(project)).output)
    assert listed[0] == [
        "ID",
        "NAME",
        "MODE",
        "STATUS",
        "DOCUMENTS",
        "PROGRESS",
        "ASSIGNEES",
        "CREATED",
    ]
    assert [row[:2] for row in listed[1:]] == [[str(sample["id"]), "Sample"], [str(first), "Round"]]
    assert listed[2][3:8] == ["ANNOTATION", "CREATED", "2", "0%", "1"]
    none = text("sessions", "list", "-p", str(project), "--mode", "correction").output
    assert none == "no sessions\n"

    shown = text("sessions", "show", str(first), "-p", str(project)).output
    assert shown == (
        f"session {first} 'Round 1' (ANNOTATION, CREATED): 2 documents, 0% done\n"
        "classes: happy\n"
        f"assignees: {me['email']}\n"
    )
    nobody = text("sessions", "progress", str(sample["id"]), "-p", str(project)).output
    assert nobody.endswith("\nno annotators yet\n")
    untouched = text("sessions", "progress", str(first), "-p", str(project)).output
    assert untouched.splitlines()[0] == (
        f"session {first} (CREATED): 0% done; 0 of 2 documents done by everyone, "
        "0 of 2 segments tagged"
    )
    assert words(untouched)[2] == [me["email"], "yes", "0", "0", "0", "0%"]  # assigned, idle

    for doc in docs[:2]:
        segment = owner.text.sessions.document(project, first, doc["id"])["segments"][0]["id"]
        owner.text.sessions.save_tags(project, first, doc["id"], segment, [{"class": "happy"}])
    owner.text.sessions.mark(project, first, docs[0]["id"])
    progress = text("sessions", "progress", str(first), "-p", str(project)).output.splitlines()
    assert progress[0] == (
        f"session {first} (ANNOTATING): 50% done; 1 of 2 documents done by everyone, "
        "2 of 2 segments tagged"
    )
    assert words("\n".join(progress[1:])) == [
        ["ANNOTATOR", "ASSIGNED", "DONE", "SKIPPED", "SEGMENTS", "TAGGED", "PROGRESS"],
        [me["email"], "yes", "1", "0", "2", "50%"],
    ]
    as_json = json.loads(
        text("sessions", "progress", str(first), "-p", str(project), "--json").output
    )
    assert as_json["progress"] == 50.0
    missing = text("sessions", "show", "999999", "-p", str(project), code=2)
    assert missing.stderr.startswith("error: ") and len(missing.stderr.splitlines()) == 1


def test_export_and_import_round_trip(text, owner, tmp_path, monkeypatch):
    project = created_id(text("projects", "create", "Labels").output)
    owner.text.classes.add(project, ["good", "bad"])
    doc = owner.text.documents.create(project, [{"text": "Nice. Broken.", "id": "d1"}])["items"][0]
    session = owner.text.sessions.create(project, "Round", document_ids=[doc["id"]])["id"]
    view = owner.text.sessions.document(project, session, doc["id"])
    for segment, name in zip(view["segments"], ("good", "bad"), strict=True):
        owner.text.sessions.save_tags(project, session, doc["id"], segment["id"], [{"class": name}])

    monkeypatch.chdir(tmp_path)
    out = text("projects", "export", str(project)).output
    assert re.fullmatch(rf"wrote project-{project}-labels\.csv \(\d+ B\)\n", out)
    rows = list(csv.DictReader((tmp_path / f"project-{project}-labels.csv").open()))
    assert [(r["external_id"], r["segment_text"], r["class"]) for r in rows] == [
        ("d1", "Nice.", "good"),
        ("d1", "Broken.", "bad"),
    ]
    piped = text("projects", "export", str(project), "--format", "jsonl", "-o", "-").stdout
    assert [json.loads(line)["class"] for line in piped.splitlines()] == ["good", "bad"]
    refused = text("projects", "export", str(project), "--format", "docx", code=2)
    assert refused.stderr.startswith("error: ")

    fresh = str(created_id(text("projects", "create", "Fresh").output))
    lacking = text("projects", "import", fresh, f"project-{project}-labels.csv", code=2)
    assert lacking.stderr.startswith("error: ")
    imported = text(
        "projects", "import", fresh, f"project-{project}-labels.csv", "--create-missing"
    ).output.splitlines()
    assert imported[0] == (
        f"imported project-{project}-labels.csv: 1 new document, 0 already in the project, "
        "2 annotations"
    )
    assert imported[1].startswith("new classes: ")
    assert sorted(imported[1].removeprefix("new classes: ").split(", ")) == ["bad", "good"]
    assert re.fullmatch(r"session \d+ 'Round': 1 document, 2 annotations", imported[-1])
    again = list(csv.reader(io.StringIO(text("projects", "export", fresh, "-o", "-").stdout)))
    assert [r[6] for r in again[1:]] == ["Nice.", "Broken."]


def test_credentials_and_an_unreachable_server(text, reviews_csv):
    missing = text("projects", "list", code=2, AUGURY_API_KEY=None)
    assert missing.stderr.startswith("error: no API key: pass --api-key or set AUGURY_API_KEY")
    wrong = text("projects", "list", "--api-key", "aug_not-a-key", code=2)
    assert wrong.stderr.startswith("error: ") and len(wrong.stderr.splitlines()) == 1
    down = text("projects", "list", "--url", f"http://127.0.0.1:{free_port()}", code=1)
    assert down.stderr.startswith("error: cannot reach http://127.0.0.1:")
    assert "does not exist" in text("documents", "upload", "nowhere.csv", "-p", "1", code=2).output
    other = text("documents", "upload", str(reviews_csv), "-p", "999999", code=2)
    assert other.stderr.startswith("error: ") and len(other.stderr.splitlines()) == 1


def test_a_large_upload_shows_its_job_and_waits_for_it(text, owner, tmp_path):
    project = str(created_id(text("projects", "create", "Bulk", "--segmentation", "none").output))
    big = tmp_path / "big.csv"
    big.write_text("text\n" + "".join(f"Review number {i}.\n" for i in range(1_500)))

    out = text("documents", "upload", str(big), "-p", project).output.splitlines()
    assert out[0] == "big.csv: csv, 1500 rows, columns text"
    shown = re.fullmatch(
        r"job (\d+) pending: the documents are added in the background \(--wait waits for "
        r"them; a notification says when they are in\)",
        out[1],
    )
    assert shown, out
    assert owner.jobs.wait(int(shown.group(1)), timeout=120)["status"] == "succeeded"

    waited = text("documents", "upload", str(big), "-p", project, "--wait").output.splitlines()
    assert re.fullmatch(
        rf"created 1500 documents \(1500 segments\) from column 'text' in project {project} "
        r"\(job \d+\)",
        waited[1],
    )
    assert owner.text.documents.list(int(project), limit=1)["total"] == 3_000


def test_a_correction_session_shows_the_predicted_score(text, owner):
    project = created_id(text("projects", "create", "Diner").output)
    owner.text.classes.add(
        project,
        [
            {"name": "food", "description": "dishes and taste", "examples": ["tasty soup"]},
            {"name": "staff", "description": "the waiters", "examples": ["rude waiter"]},
        ],
    )
    owner.text.documents.create(project, ["The soup was cold.", "Our waiter was rude."])
    out = text(
        "sessions",
        "create",
        "Fix",
        "-p",
        str(project),
        "--mode",
        "correction",
        "--sample-size",
        "2",
        "--strategy",
        "least_confident",
    ).output
    fix = created_id(out, "session")
    assert out.startswith(f"session {fix} 'Fix' (CORRECTION, ANNOTATING): 2 documents")
    shown = text("sessions", "show", str(fix), "-p", str(project)).output
    assert shown.splitlines()[1:] == ["classes: food, staff", "model: zero-shot"]

    doc = owner.text.sessions.documents(project, fix)["items"][0]["id"]
    (segment,) = owner.text.sessions.document(project, fix, doc)["segments"]
    (suggested,) = segment["suggestions"]
    owner.text.sessions.save_tags(project, fix, doc, segment["id"], [{"class": suggested["class"]}])
    scored = owner.text.sessions.get(project, fix)
    p = scored["prediction"]
    assert text("sessions", "show", str(fix), "-p", str(project)).output.splitlines()[-1] == (
        f"predicted score of the next model: {p['score']:.2f} ({p['low']:.2f}-{p['high']:.2f}), "
        "1 of 1 corrected segment right"
    )
