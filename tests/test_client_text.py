"""``client.text`` and ``client.notifications`` against a real augury server over HTTP
(no mocks)."""

from __future__ import annotations

import itertools
import json

import jwt
import pytest

from augury.accounts.security import encode_access_token
from augury.client import (
    Client,
    ConflictError,
    NotFoundError,
    PermissionDeniedError,
    ValidationError,
)
from augury.notifications import service as notifications
from augury.text.models import TextProject
from augury.text.services import review as review_service

PASSWORD = "correct horse battery"
_seq = itertools.count(1)


def signed_up(url: str, org: str = "Reviews Inc") -> Client:
    c = Client(url, timeout=30)
    c.signup(f"text{next(_seq)}@example.com", PASSWORD, name="Ada", organization_name=org)
    return c


@pytest.fixture
def owner(live_server):
    with signed_up(live_server.url) as c:
        yield c


def test_notifications_read_unread_and_all(owner, live_server, db):
    me = owner.me()
    with db.session() as s:
        ids = [
            notifications.notify(
                s,
                org_id=me["organization"]["id"],
                user_id=me["id"],
                kind="text.upload",
                title=f"Upload {i} segmented",
                link="/text/projects/1",
            ).id
            for i in range(3)
        ]
    assert owner.notifications.unread_count() == 3
    page = owner.notifications.list(limit=2)
    assert [n["id"] for n in page["items"]] == ids[:0:-1] and page["has_more"] is True
    assert [n["id"] for n in owner.notifications.iter(page_size=1)] == ids[::-1]

    assert owner.notifications.mark_read(ids[0])["read"] is True
    assert [n["id"] for n in owner.notifications.iter(unread=True)] == ids[:0:-1]
    assert owner.notifications.get(ids[0])["title"] == "Upload 0 segmented"
    assert owner.notifications.mark_unread(ids[0])["read"] is False
    assert owner.notifications.mark_all_read() == 3
    assert owner.notifications.unread_count() == 0
    assert owner.notifications.list(unread=True)["total"] == 0

    with signed_up(live_server.url, "Elsewhere") as stranger, pytest.raises(NotFoundError):
        stranger.notifications.mark_read(ids[0])


def joined(live_server, owner: Client, role: str = "member") -> tuple[Client, int]:
    """A second person of the owner's organization, logged in; their user id."""
    email = f"text{next(_seq)}@example.com"
    link = owner.invitations.create(email, role=role)["invitation_link"]
    person = Client(live_server.url, timeout=30)
    answer = person.invitations.accept(link.split("token=")[1], PASSWORD, name="Ben")
    return person, answer["user"]["id"]


def test_projects_members_clone_transfer_and_delete(owner, live_server):
    projects = owner.text.projects
    reviews = projects.create("Reviews", "CLASS", description="shop reviews", language="en")
    assert (reviews["name"], reviews["type"], reviews["role"]) == ("Reviews", "CLASS", "MANAGER")
    aspects = projects.create("Aspects", "ABSA", segmentation="none")
    assert aspects["label_count"] == 4 and aspects["segmentation"] == "none"

    assert [p["name"] for p in projects.iter(page_size=1)] == ["Aspects", "Reviews"]
    assert [p["id"] for p in projects.list(type="ABSA")["items"]] == [aspects["id"]]
    assert [p["id"] for p in projects.list("shop")["items"]] == [reviews["id"]]
    changed = projects.update(reviews["id"], name="Shop reviews", segmentation="paragraph")
    assert (changed["name"], changed["segmentation"]) == ("Shop reviews", "paragraph")
    assert projects.get(reviews["id"])["description"] == "shop reviews"
    with pytest.raises(ValidationError):
        projects.create("Bad", "SENTIMENT")
    with pytest.raises(ConflictError):
        projects.create("Aspects", "LABEL")

    ben, ben_id = joined(live_server, owner)
    with ben:
        roles = {m["user_id"]: m for m in projects.iter_members(reviews["id"], page_size=1)}
        assert roles[ben_id]["role"] == "MANAGER" and roles[ben_id]["explicit_role"] is None
        assert projects.set_member(reviews["id"], ben_id, "VIEWER")["role"] == "VIEWER"
        assert ben.text.projects.get(reviews["id"])["role"] == "VIEWER"
        with pytest.raises(PermissionDeniedError):
            ben.text.projects.update(reviews["id"], description="mine now")
        projects.remove_member(reviews["id"], ben_id)
        assert projects.members(reviews["id"])["total"] == 2
        assert ben.text.projects.update(reviews["id"], description="ours")["description"] == "ours"

    copy = projects.clone(reviews["id"])
    assert copy["name"] == "Copy of Shop reviews" and copy["id"] != reviews["id"]
    other_org = owner.orgs.create("Reviews Labs")["id"]
    elsewhere = projects.clone(aspects["id"], "Aspects there", org_id=other_org)
    moved = projects.transfer(copy["id"], other_org)
    assert moved["org_id"] == other_org == elsewhere["org_id"]
    with pytest.raises(NotFoundError):
        projects.get(copy["id"])  # it lives in the other organization now
    owner.switch_organization(other_org)
    assert {p["name"] for p in projects.iter()} == {"Aspects there", "Copy of Shop reviews"}

    with pytest.raises(ConflictError) as refused:
        projects.delete(elsewhere["id"])
    assert refused.value.details["classes"] == 0 and refused.value.details["labels"] == 4
    projects.delete(elsewhere["id"], confirm=True)
    with pytest.raises(NotFoundError):
        projects.get(elsewhere["id"])
    with signed_up(live_server.url, "Strangers") as stranger, pytest.raises(NotFoundError):
        stranger.text.projects.get(moved["id"])


def test_classes_and_labels_one_many_file_and_download(owner, tmp_path):
    project = owner.text.projects.create("Support", "CLASSLABEL")["id"]
    classes, labels = owner.text.classes, owner.text.labels
    billing = classes.create(project, "billing", description="money", examples=["refund me"])
    assert (billing["examples"], billing["example"]) == (["refund me"], "refund me")
    added = classes.add(project, ["delivery", {"name": "quality", "description": "broken"}])
    assert [c["name"] for c in added] == ["delivery", "quality"]
    with pytest.raises(ConflictError) as duplicate:
        classes.add(project, ["returns", "Billing"])
    assert "billing" in duplicate.value.message.lower()
    assert [c["name"] for c in classes.iter(project, page_size=2)] == [
        "billing",
        "delivery",
        "quality",
    ]
    assert classes.list(project, limit=1)["total"] == 3
    assert classes.update(project, billing["id"], name="payments")["name"] == "payments"
    assert classes.get(project, billing["id"])["description"] == "money"
    gone = classes.delete(project, added[0]["id"])
    assert (gone["name"], gone["tags_removed"]) == ("delivery", 0)
    with pytest.raises(NotFoundError):
        classes.get(project, added[0]["id"])

    sheet = tmp_path / "labels.csv"
    sheet.write_text("name,description,examples\nurgent,act now,asap\nangry,,\n")
    assert [label["name"] for label in labels.upload(project, sheet)] == ["urgent", "angry"]
    header, *rows = labels.download(project, "csv").decode().splitlines()
    assert header.split(",")[:3] == ["id", "name", "description"] and len(rows) == 2
    as_json = json.loads(labels.download(project, "json"))
    assert [e["name"] for e in as_json] == ["urgent", "angry"]
    written = classes.download(project, "xlsx", path=tmp_path / "classes.xlsx")
    assert written == tmp_path / "classes.xlsx" and written.read_bytes()[:2] == b"PK"

    absa = owner.text.projects.create("Hotel", "ABSA")["id"]
    assert [label["name"] for label in labels.iter(absa)] == ["POS", "NEG", "NEU", "CONFLICT"]
    with pytest.raises(ValidationError):
        labels.create(absa, "MIXED")


REVIEWS_CSV = (
    "review,stars,ref\n"
    '"Great phone. The battery lasts two days!",5,r1\n'
    '"Screen cracked in a week. Support never answered.",1,r2\n'
    '"Fine for the price.",3,r3\n'
)


def test_files_documents_and_groups(owner, tmp_path):
    project = owner.text.projects.create("Phones", "CLASS")["id"]
    docs, groups = owner.text.documents, owner.text.groups
    path = tmp_path / "reviews.csv"
    path.write_text(REVIEWS_CSV)

    preview = owner.text.files.upload(project, path)
    assert (preview["format"], preview["row_count"]) == ("csv", 3)
    assert preview["columns"] == ["review", "stars", "ref"]
    assert preview["preview"][0] == ["review", "stars", "ref"]
    assert owner.text.files.get(project, preview["id"])["file_name"] == "reviews.csv"
    made = docs.from_file(project, preview["id"], "review", id_column="ref")
    assert made["count"] == 3 and [d["segment_count"] for d in made["items"]] == [2, 2, 1]
    with pytest.raises(ValidationError) as missing:
        docs.from_file(project, preview["id"], "body")
    assert "review" in missing.value.message

    first = docs.get(project, made["items"][0]["id"], details=["segments", "meta"])
    assert (first["external_id"], first["meta"]) == ("r1", {"stars": "5"})
    assert [s["text"] for s in first["segments"]] == ["Great phone.", "The battery lasts two days!"]
    assert docs.update(project, first["id"], {"stars": 4})["meta"] == {"stars": 4}

    inline = docs.create(
        project, ["Cheap and cheerful.", {"text": "Too slow.", "id": "x9", "os": "a"}]
    )
    assert inline["count"] == 2
    uploaded = docs.upload(project, path, "review", segmentation="none")
    assert uploaded["file"]["row_count"] == 3 and uploaded["count"] == 3
    assert all(d["segment_count"] == 1 for d in uploaded["items"])
    with pytest.raises(ConflictError):
        docs.create(project, [{"text": "again", "id": "r1"}])
    with pytest.raises(ValidationError):
        docs.create(project, ["   "])

    assert docs.list(project)["total"] == 8
    found = docs.list(project, "battery", details="segments")["items"]
    assert len(found) == 2 and all(d["segments"] for d in found)
    assert [d["external_id"] for d in docs.iter(project, external_id="x9")] == ["x9"]
    assert docs.delete_many(project, [d["id"] for d in uploaded["items"]]) == 3
    docs.delete(project, inline["items"][0]["id"])
    with pytest.raises(NotFoundError):
        docs.get(project, inline["items"][0]["id"])
    assert docs.list(project)["total"] == 4

    ids = [d["id"] for d in made["items"]]
    group = groups.create(project, "unhappy", description="low stars", document_ids=ids[1:])
    assert group["document_count"] == 2
    assert groups.add_documents(project, group["id"], ids)["document_count"] == 3
    assert groups.remove_documents(project, group["id"], [ids[0]])["changed"] == 1
    assert [d["id"] for d in groups.documents(project, group["id"], "screen")["items"]] == [ids[1]]
    assert [g["name"] for g in groups.iter(project)] == ["unhappy"]
    assert groups.update(project, group["id"], name="sad")["name"] == "sad"
    assert groups.get(project, group["id"])["document_count"] == 2
    assert [d["id"] for d in docs.list(project, group_id=group["id"])["items"]] == ids[1:]
    rows = groups.download(project, group["id"], "jsonl").decode().splitlines()
    assert [json.loads(r)["id"] for r in rows] == ["r2", "r3"]
    fresh = groups.create(project, "new ones", documents=["Arrived late.", "Love it."])
    assert fresh["document_count"] == 2
    groups.delete(project, group["id"])
    with pytest.raises(NotFoundError):
        groups.get(project, group["id"])
    assert docs.list(project)["total"] == 6


def test_documents_from_a_dataset(owner, tmp_path):
    project = owner.text.projects.create("Bulk", "LABEL", segmentation="none")["id"]
    path = tmp_path / "reviews.csv"
    path.write_text(REVIEWS_CSV)
    dataset = owner.datasets.upload(path, "reviews")
    made = owner.text.documents.from_dataset(project, dataset["id"], "review", id_column="ref")
    assert made["count"] == 3 and made["items"][2]["external_id"] == "r3"
    assert owner.text.documents.get(project, made["items"][0]["id"])["source"] == "dataset"


def test_sessions_tags_marks_progress_and_agreement(owner, live_server):
    project = owner.text.projects.create("Moods", "CLASS")["id"]
    owner.text.classes.add(project, ["happy", "sad"])
    docs = owner.text.documents.create(
        project, ["I love it. Best day ever.", "It broke.", "Meh.", "Never again."]
    )["items"]
    ids = [d["id"] for d in docs]
    sessions = owner.text.sessions
    ben, ben_id = joined(live_server, owner)
    owner.text.projects.set_member(project, ben_id, "ANNOTATOR")

    first = sessions.create(
        project, "Round 1", document_ids=ids[:2], classes=["happy", "sad"], assignees=[ben_id]
    )
    assert (first["mode"], first["status"], first["document_count"]) == ("ANNOTATION", "CREATED", 2)
    assert [a["user_id"] for a in first["assignees"]] == [ben_id]
    sample = sessions.create(project, "Sample", sample_size=3, seed=7, description="random")
    assert sample["document_count"] == 3 and sample["sampling"]["seed"] == 7
    assert [s["name"] for s in sessions.iter(project, page_size=1)] == ["Sample", "Round 1"]
    assert sessions.list(project, mode=["ANNOTATION", "IMPORT"], status="CREATED")["total"] == 2
    assert sessions.update(project, sample["id"], name="Random three")["name"] == "Random three"

    # The owner labels the first document too, so the two can be compared.
    segments = sessions.document(project, first["id"], ids[0])["segments"]
    for segment, name in zip(segments, ("sad", "sad"), strict=True):
        sessions.save_tags(project, first["id"], ids[0], segment["id"], [{"class": name}])

    with ben:
        mine = ben.text.sessions
        assert [s["id"] for s in mine.iter(project)] == [first["id"]]
        with pytest.raises(NotFoundError):
            mine.get(project, sample["id"])  # not assigned: it does not exist for Ben
        listed = mine.documents(project, first["id"])["items"]
        assert [d["id"] for d in listed] == ids[:2] and listed[0]["state"] == "todo"
        assert [d["id"] for d in mine.iter_documents(project, first["id"], page_size=1)] == ids[:2]
        view = mine.document(project, first["id"], ids[0])
        assert (view["previous"], view["next"]) == (None, ids[1])
        one, two = view["segments"]
        saved = mine.save_tags(project, first["id"], ids[0], one["id"], [{"class": "happy"}])
        assert (saved["version"], saved["status"]) == (1, "ANNOTATING")
        with pytest.raises(ConflictError) as stale:
            mine.save_tags(project, first["id"], ids[0], one["id"], [{"class": "sad"}])
        assert stale.value.details["version"] == 1
        again = mine.save_tags(
            project, first["id"], ids[0], one["id"], [{"class": "sad"}], version=1
        )
        assert again["version"] == 2 and again["tags"][0]["class"] == "sad"
        with pytest.raises(ValidationError):
            mine.save_tags(project, first["id"], ids[0], two["id"], [{"class": "angry"}])
        mine.save_tags(project, first["id"], ids[0], two["id"], [{"class": "happy"}])
        mark = mine.mark(project, first["id"], ids[0], "ANNOTATED", segment_id=one["id"])
        assert (mark["segment_id"], mark["annotation_id"]) == (one["id"], first["id"])
        mine.unmark(project, first["id"], ids[0], segment_id=one["id"])
        done = mine.mark(project, first["id"], ids[0])
        assert done["name"] == "ANNOTATED" and done["segment_id"] is None
        assert mine.mark(project, first["id"], ids[1], "SKIPPED")["name"] == "SKIPPED"
        with pytest.raises(ValueError, match="not both"):
            mine.mark(project, first["id"], ids[1], segment_id=1, page=1)
        with pytest.raises(PermissionDeniedError):
            mine.update(project, first["id"], status="FINISHED")

    bens = sessions.document(project, first["id"], ids[0], annotator=ben_id)["segments"]
    assert [t["class"] for s in bens for t in s["tags"]] == ["sad", "happy"]

    progress = sessions.progress(project, first["id"])
    assert progress["progress"] == 100.0 and progress["segments_tagged"] == 2
    (bens_progress,) = [a for a in progress["annotators"] if a["user_id"] == ben_id]
    assert (bens_progress["documents_done"], bens_progress["documents_skipped"]) == (1, 1)
    agreement = sessions.agreement(project, first["id"])
    assert agreement["items"] == 2 and agreement["percent_agreement"] == 0.5
    assert sessions.get(project, first["id"])["progress"] == 100.0

    assert sessions.set_assignees(project, first["id"], [])["assignees"] == []
    assert sessions.get(project, first["id"])["status"] == "FINISHED"  # Ben did all of it
    assert sessions.update(project, first["id"], status="ANNOTATING")["status"] == "ANNOTATING"
    with pytest.raises(ConflictError):
        sessions.delete(project, first["id"])  # it holds labels
    sessions.delete(project, first["id"], confirm=True)
    sessions.delete(project, sample["id"])
    assert sessions.list(project)["total"] == 0


def _submit(db, project_id: int, predictions: list[dict]) -> None:
    """Predictions of a batch analysis handed to review (what issue 17's analyses call)."""
    with db.session() as s:
        project = s.get(TextProject, project_id)
        review_service.submit(s, project, predictions)


def test_review_queue_then_export_and_import_round_trip(owner, live_server, db, tmp_path):
    project = owner.text.projects.create("Tickets", "CLASS")["id"]
    bug, praise = owner.text.classes.add(project, ["bug", "praise"])
    docs = owner.text.documents.create(project, [{"text": "It crashes.", "id": "t1"}, "Nice app."])
    ids = [d["id"] for d in docs["items"]]
    segments = [owner.text.documents.get(project, i, details="segments")["segments"] for i in ids]
    me = owner.me()["id"]
    review = owner.text.review

    assert review.config(project)["configured"] is False
    config = review.configure(
        project,
        threshold=0.8,
        classes=["bug", "praise"],
        assignee_ids=[me],
        webhook_url="http://127.0.0.1:9/hook",
    )
    assert config["threshold"] == 0.8 and config["webhook_secret"]
    rotated = review.rotate_secret(project)["webhook_secret"]
    assert rotated and rotated != config["webhook_secret"]
    kept = review.configure(project, webhook_url=None)
    assert (kept["webhook_url"], kept["threshold"], kept["assignee_ids"]) == (None, 0.8, [me])

    _submit(
        db,
        project,
        [
            {
                "document_id": doc_id,
                "segment_id": segs[0]["id"],
                "tags": [{"class_id": bug["id"], "confidence": 0.4}],
            }
            for doc_id, segs in zip(ids, segments, strict=True)
        ],
    )
    pending = review.items(project, status="PENDING")
    assert pending["total"] == 2 and {i["assignee_id"] for i in pending["items"]} == {me}
    first, second = review.iter_items(project, assignee=me, page_size=1)
    assert review.item(project, first["id"])["text"] == "It crashes."
    assert review.accept(project, first["id"])["status"] == "ACCEPTED"
    with pytest.raises(ConflictError):
        review.accept(project, first["id"])
    corrected = review.correct(project, second["id"], [{"class": "praise"}])
    assert corrected["status"] == "CORRECTED" and corrected["review_session_id"]
    assert review.items(project, status="PENDING")["total"] == 0
    assert owner.notifications.unread_count() == 1  # the batch's, for its reviewer

    exported = owner.text.projects.export(project, "jsonl")
    rows = [json.loads(line) for line in exported.splitlines()]
    assert sorted((r["document_text"], r["class"]) for r in rows) == [
        ("It crashes.", "bug"),
        ("Nice app.", "praise"),
    ]
    path = owner.text.projects.export(project, "csv", path=tmp_path / "labels.csv")
    fresh = owner.text.projects.create("Tickets again", "CLASS")["id"]
    with pytest.raises(ValidationError):
        owner.text.projects.import_file(fresh, path)  # the classes are not there yet
    imported = owner.text.projects.import_file(fresh, path, name="from file", create_missing=True)
    assert imported["documents_created"] == 2 and imported["annotations"] == 2
    assert sorted(imported["classes_created"]) == ["bug", "praise"]
    again = [json.loads(line) for line in owner.text.projects.export(fresh, "jsonl").splitlines()]
    same = ("external_id", "document_text", "segment_text", "class", "label")
    assert sorted(tuple(str(r[k]) for k in same) for r in again) == sorted(
        tuple(str(r[k]) for k in same) for r in rows
    )
    assert owner.text.sessions.list(fresh, mode="IMPORT")["total"] == 1


def test_uploads_refresh_an_expired_token_and_keys_keep_their_scopes(
    owner, live_server, settings, tmp_path
):
    project = owner.text.projects.create("Keys", "CLASS")["id"]
    path = tmp_path / "reviews.csv"
    path.write_text(REVIEWS_CSV)
    claims = jwt.decode(owner.access_token, options={"verify_signature": False})
    expired, _ = encode_access_token(
        key=settings.signing_key,
        user_id=int(claims["sub"]),
        org_id=claims["org"],
        session_id=claims["sid"],
        minutes=-1,
    )
    owner.access_token = expired
    assert owner.text.files.upload(project, path)["row_count"] == 3
    assert owner.access_token != expired

    reader = owner.keys.create("reader", scopes=["read"])["key"]
    with Client(live_server.url, api_key=reader) as read_only:
        assert read_only.text.projects.get(project)["role"] == "VIEWER"
        with pytest.raises(PermissionDeniedError):
            read_only.text.files.upload(project, path)
        with pytest.raises(PermissionDeniedError):
            read_only.text.classes.create(project, "nope")


def test_a_large_upload_answers_the_job_that_makes_it(owner):
    project = owner.text.projects.create("Bulk", "LABEL", segmentation="none")["id"]

    many = [{"text": f"Review number {i}.", "id": f"n{i}"} for i in range(1_500)]
    answer = owner.text.documents.create(project, many)
    job = owner.jobs.wait(answer["job"]["id"], timeout=120)
    assert job["status"] == "succeeded", job
    assert owner.text.documents.list(project, limit=1)["total"] == 1_500
    assert owner.text.projects.get(project)["document_count"] == 1_500
    (note,) = owner.notifications.iter(unread=True)
    assert (note["kind"], note["title"]) == ("text.upload", "1,500 documents added to Bulk")


def test_a_correction_session_pretags_and_scores_the_next_model(owner):
    project = owner.text.projects.create("Diner", "CLASS")["id"]
    owner.text.classes.add(
        project,
        [
            {"name": "food", "description": "dishes and taste", "examples": ["tasty soup"]},
            {"name": "staff", "description": "the waiters", "examples": ["rude waiter"]},
        ],
    )
    texts = ["The soup was cold.", "Our waiter was rude.", "Lovely pasta.", "Staff ignored us."]
    docs = owner.text.documents.create(project, texts)["items"]
    sessions = owner.text.sessions
    fix = sessions.create(project, "Fix", mode="CORRECTION", sample_size=3, strategy="diverse")
    assert (fix["mode"], fix["status"], fix["document_count"]) == ("CORRECTION", "ANNOTATING", 3)
    assert fix["model_id"] is None and fix["predicted_score"] is None  # zero-shot, unchecked

    first = sessions.documents(project, fix["id"])["items"][0]["id"]
    assert first in {d["id"] for d in docs}
    (segment,) = sessions.document(project, fix["id"], first)["segments"]
    (suggested,) = segment["suggestions"]
    assert suggested["class"] in {"food", "staff"} and 0 <= suggested["confidence"] <= 1
    saved = sessions.save_tags(project, fix["id"], first, segment["id"], [{"class": "staff"}])
    assert saved["predicted_score"] is not None
    scored = sessions.get(project, fix["id"])
    prediction = scored["prediction"]
    assert prediction["checked"] == 1 and prediction["low"] <= scored["predicted_score"]
    assert scored["predicted_score"] <= prediction["high"]
