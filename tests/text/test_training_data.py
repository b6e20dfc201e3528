"""A project's labeled sessions as training examples: whose tags count (people's,
imports', reviews', and in correction sessions the model's tags a person accepted), the
majority of several annotators (a tie to the latest save), the targets of each project
type, and a split that keeps every document on one side."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update

from augury import clock
from augury.errors import ValidationFailed
from augury.text.models import TextAnnotation, TextMark, TextProject
from augury.text.services import training_data
from augury.text.services.training_data import PAIR, Example, split_by_document
from tests.text.helpers import (
    API,
    add_classes,
    add_documents,
    add_session,
    annotate,
    create_project,
    new_org,
    segments_of,
)


@pytest.fixture
def owner(client):
    return new_org(client)


def project_with(client, db, owner, type="CLASS", classes=("A", "B"), labels=(), texts=()):
    pid = create_project(client, owner.headers, type=type)["id"]
    made = {c["name"]: c["id"] for c in add_classes(client, owner.headers, pid, list(classes))}
    if labels:
        items = add_classes(client, owner.headers, pid, list(labels), kind="labels")
        made.update({x["name"]: x["id"] for x in items})
    if type == "ABSA":
        r = client.get(f"{API}/{pid}/labels", headers=owner.headers)
        made.update({x["name"]: x["id"] for x in r.json()["items"]})
    return pid, made, add_documents(db, pid, list(texts))


def build(db, pid, **kwargs) -> training_data.TrainingSet:
    with db.session() as s:
        return training_data.build(s, s.get(TextProject, pid), **kwargs)


def labeled(db, pid, sid) -> list[Example]:
    """The examples of session ``sid``, before any split."""
    with db.session() as s:
        project = s.get(TextProject, pid)
        classes, labels = training_data.vocabulary_of(s, project)
        ts = s.get(training_data.TextSession, sid)
        return training_data.examples(s, project, [ts], classes, labels, training_data.Counter())


def first_segment(db, doc) -> int:
    return segments_of(db, doc)[0].id


def test_majority_ties_to_the_latest_and_spans_count_for_their_segment(client, db, owner):
    texts = [f"Text number {i}." for i in range(8)]
    pid, ids, docs = project_with(client, db, owner, texts=texts)
    a, b = {"class_id": ids["A"]}, {"class_id": ids["B"]}
    sid = add_session(db, pid, docs)
    other = add_session(db, pid, docs)
    segs = [first_segment(db, d) for d in docs]
    # Segment 0: two say A (one in another session), one says B: A.
    annotate(db, sid, segs[0], [a], key="user:1")
    annotate(db, sid, segs[0], [b], key="user:2")
    annotate(db, other, segs[0], [a], key="user:3")
    # Segment 1: one A and one B; B saved later wins.
    first = annotate(db, sid, segs[1], [a], key="user:1")
    later = annotate(db, sid, segs[1], [b], key="user:2")
    with db.session() as s:
        now = clock.now()
        s.execute(update(TextAnnotation).where(TextAnnotation.id == first).values(updated_at=now))
        s.execute(
            update(TextAnnotation)
            .where(TextAnnotation.id == later)
            .values(updated_at=now + timedelta(minutes=1))
        )
    # Segment 2: a span tag of B counts for the whole segment; an import and a review count.
    annotate(db, sid, segs[2], [{**b, "start": 0, "end": 4}], key="user:1")
    annotate(db, sid, segs[3], [a], key="import", source="import")
    annotate(db, sid, segs[4], [b], key="review", source="review")
    # A model's suggestion nobody checked, and an ambiguous segment (A and B) are not examples.
    annotate(db, sid, segs[5], [a], key="model:zeroshot", source="model")
    annotate(db, sid, segs[6], [a, b], key="user:1")
    annotate(db, sid, segs[7], [a], key="user:1")
    built = build(db, pid, session_ids=[sid, other], test_fraction=0.3, seed=1)
    got = {e.segment_id: e.target for e in built.train + built.test}
    assert got == {
        segs[0]: "A",
        segs[1]: "B",
        segs[2]: "B",
        segs[3]: "A",
        segs[4]: "B",
        segs[7]: "A",
    }
    assert built.counts["ambiguous"] == 1 and built.counts["disagreements"] == 2
    assert built.vocabulary == {"classes": {"A": ids["A"], "B": ids["B"]}, "labels": {}}
    assert built.counts["train"] + built.counts["test"] == 6


def test_a_correction_sessions_accepted_suggestions_are_labels(client, db, owner):
    texts = ["First one. Second one.", "Third one.", "Fourth one."]
    pid, ids, docs = project_with(client, db, owner, texts=texts)
    sid = add_session(db, pid, docs, mode="CORRECTION")
    segs = [s.id for d in docs for s in segments_of(db, d)]
    for seg in segs:
        annotate(db, sid, seg, [{"class_id": ids["A"]}], key="model:zeroshot", source="model")
    # The first segment is corrected to B; the document's mark accepts its second one;
    # the third document's segment is marked on its own; the fourth nobody checked.
    annotate(db, sid, segs[0], [{"class_id": ids["B"]}], key="user:7")
    with db.session() as s:
        org_id = s.get(TextProject, pid).org_id
        for doc, scope, ref in ((docs[0], "document", 0), (docs[1], "segment", segs[2])):
            s.add(
                TextMark(
                    org_id=org_id,
                    project_id=pid,
                    session_id=sid,
                    document_id=doc,
                    user_key="user:7",
                    scope=scope,
                    ref=ref,
                    name="ANNOTATED",
                )
            )
    with db.session() as s:
        found = training_data.examples(
            s,
            s.get(TextProject, pid),
            [s.get(training_data.TextSession, sid)],
            {ids["A"]: "A", ids["B"]: "B"},
            {},
            training_data.Counter(),
        )
    assert {e.segment_id: e.target for e in found} == {segs[0]: "B", segs[1]: "A", segs[2]: "A"}


def test_targets_of_each_project_type(client, db, owner):
    pid, ids, docs = project_with(
        client, db, owner, type="CLASSLABEL", labels=("x", "y"), texts=["One.", "Two.", "Three."]
    )
    sid = add_session(db, pid, docs)
    segs = [first_segment(db, d) for d in docs]
    annotate(db, sid, segs[0], [{"class_id": ids["A"], "label_id": ids["x"]}], key="user:1")
    annotate(
        db,
        sid,
        segs[1],
        [
            {"class_id": ids["B"], "label_id": ids["y"]},
            {"class_id": ids["A"], "label_id": ids["y"]},
        ],
        key="user:1",
    )
    annotate(db, sid, segs[2], [], key="user:1")
    got = {e.segment_id: e.target for e in labeled(db, pid, sid)}
    assert got == {segs[0]: [f"A{PAIR}x"], segs[1]: [f"A{PAIR}y", f"B{PAIR}y"], segs[2]: []}
    assert training_data.shown(f"A{PAIR}y") == "A/y"
    assert training_data.split_pair(f"A/b{PAIR}y") == ("A/b", "y")

    pid, ids, docs = project_with(
        client, db, owner, type="ABSA", classes=("Food", "Staff"), texts=["Good soup.", "Meh."]
    )
    sid = add_session(db, pid, docs)
    tags = [
        {"class_id": ids["Staff"], "label_id": ids["NEG"]},
        {"class_id": ids["Food"], "label_id": ids["POS"]},
    ]
    annotate(db, sid, first_segment(db, docs[0]), tags, key="user:1")
    annotate(db, sid, first_segment(db, docs[1]), [], key="user:1")
    found = labeled(db, pid, sid)
    assert [e.target for e in found] == [
        {
            "text": "Good soup.",
            "aspects": [
                {"category": "Food", "polarity": "POS"},
                {"category": "Staff", "polarity": "NEG"},
            ],
        },
        {"text": "Meh.", "aspects": []},
    ]


def test_a_deleted_class_drops_its_tags(client, db, owner):
    pid, ids, docs = project_with(
        client, db, owner, classes=("A", "B", "C"), texts=[f"T {i}." for i in range(6)]
    )
    sid = add_session(db, pid, docs)
    for i, doc in enumerate(docs):
        cid = ids[("A", "B", "C")[i % 3]]
        annotate(db, sid, first_segment(db, doc), [{"class_id": cid}], key="user:1")
    r = client.delete(f"{API}/{pid}/classes/{ids['C']}", headers=owner.headers)
    assert r.status_code in (200, 204)
    assert sorted(e.target for e in labeled(db, pid, sid)) == ["A", "A", "B", "B"]
    with db.session() as s:
        classes, _ = training_data.vocabulary_of(s, s.get(TextProject, pid))
    assert sorted(classes.values()) == ["A", "B"]


def test_the_split_keeps_documents_whole_and_classes_trainable():
    found = [
        Example(segment_id=10 * d + i, document_id=d, text=f"{d}.{i}", target="AB"[d % 2])
        for d in range(10)
        for i in range(3)
    ]
    for seed in range(5):
        train, test = split_by_document(found, 0.2, seed, "CLASS")
        assert not {e.document_id for e in train} & {e.document_id for e in test}
        assert len(train) + len(test) == 30 and len(test) == 6
        assert {e.target for e in train} == {"A", "B"}
    assert split_by_document(found, 0.2, 1, "CLASS") == split_by_document(found, 0.2, 1, "CLASS")
    # A class only one document has stays on the training side.
    rare = [*found, Example(999, 99, "rare", "C")]
    for seed in range(10):
        train, test = split_by_document(rare, 0.2, seed, "CLASS")
        assert "C" in {e.target for e in train}


def test_named_sessions_test_what_both_hold_and_refusals(client, db, owner):
    texts = [f"Text {i}." for i in range(6)]
    pid, ids, docs = project_with(client, db, owner, texts=texts)
    train_sid = add_session(db, pid, docs[:4])
    test_sid = add_session(db, pid, docs[3:])
    for i, doc in enumerate(docs):
        tag = [{"class_id": ids["AB"[i % 2]]}]
        sid = train_sid if i < 4 else test_sid
        annotate(db, sid, first_segment(db, doc), tag, key="user:1")
        if i == 3:
            annotate(db, test_sid, first_segment(db, doc), tag, key="user:1")
    built = build(db, pid, train_session_ids=[train_sid], test_session_ids=[test_sid])
    assert [e.document_id for e in built.train] == docs[:3]
    assert [e.document_id for e in built.test] == docs[3:]
    assert built.counts["tested_not_trained"] == 1

    one = add_session(db, pid, docs[:1])
    annotate(db, one, first_segment(db, docs[0]), [{"class_id": ids["A"]}], key="user:1")
    with pytest.raises(ValidationFailed, match="at least two classes"):
        build(db, pid, train_session_ids=[one], test_session_ids=[test_sid])
    with pytest.raises(ValidationFailed) as caught:
        build(db, pid, session_ids=[train_sid, 10**6])
    assert caught.value.details["ids"] == [10**6]
