"""Tags and marks in labeling sessions: the project type's rules, spans, compare-and-set
saves (two people on one segment both keep theirs; one person's two racing saves keep
one and refuse the other), marks and the states and progress they make, the annotator
view, and agreement."""

from __future__ import annotations

import threading
import time

import pytest
from sqlalchemy import text

from augury.accounts.models import Role
from augury.accounts.principal import Principal
from augury.errors import Conflict
from augury.text.models import TextAnnotation, TextProject, TextSession
from augury.text.schemas.sessions import TagIn, TagsSave
from augury.text.services import sessions as sessions_service
from tests.text.helpers import API, new_org, segments_of
from tests.text.test_sessions import member, new_session, setup_project


@pytest.fixture
def owner(client):
    return new_org(client)


def tags_url(pid: int, sid: int, doc: int, seg: int) -> str:
    return f"{API}/{pid}/sessions/{sid}/documents/{doc}/segments/{seg}/tags"


def put_tags(client, headers, pid, sid, doc, seg, tags, version=None):
    return client.put(
        tags_url(pid, sid, doc, seg), json={"tags": tags, "version": version}, headers=headers
    )


def test_saves_compare_and_set_on_the_version(client, db, owner):
    pid, docs = setup_project(client, db, owner)
    s = new_session(client, owner.headers, pid, document_ids=docs[:2])
    seg = segments_of(db, docs[0])[0].id
    r = put_tags(client, owner.headers, pid, s["id"], docs[0], seg, [{"class": "Food"}])
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["version"] == 1 and body["annotator"] == f"user:{owner.user_id}"
    assert body["tags"] == [
        {
            "class": "Food",
            "class_id": body["tags"][0]["class_id"],
            "label": None,
            "label_id": None,
            "start": None,
            "end": None,
            "confidence": None,
        }
    ]
    assert body["status"] == "ANNOTATING" and body["source"] == "human"

    r = put_tags(client, owner.headers, pid, s["id"], docs[0], seg, [{"class": "Staff"}])
    assert r.status_code == 409, r.text
    details = r.json()["error"]["details"]
    assert details["version"] == 1 and [t["class"] for t in details["tags"]] == ["Food"]

    r = put_tags(client, owner.headers, pid, s["id"], docs[0], seg, [{"class": "Staff"}], 1)
    assert r.status_code == 200 and r.json()["version"] == 2
    r = put_tags(client, owner.headers, pid, s["id"], docs[0], seg, [{"class": "Price"}], 1)
    assert r.status_code == 409
    assert r.json()["error"]["details"]["version"] == 2
    assert [t["class"] for t in r.json()["error"]["details"]["tags"]] == ["Staff"]
    r = put_tags(client, owner.headers, pid, s["id"], docs[0], seg, [], 2)
    assert r.status_code == 200 and r.json()["tags"] == [] and r.json()["version"] == 3

    doc = client.get(f"{API}/{pid}/sessions/{s['id']}/documents/{docs[0]}", headers=owner.headers)
    assert doc.json()["segments"][0]["version"] == 3
    assert doc.json()["segments"][1]["version"] is None


def test_two_annotators_on_one_segment_both_keep_their_tags(client, db, owner):
    pid, docs = setup_project(client, db, owner)
    ann = member(client, owner, pid, "ANNOTATOR")
    s = new_session(client, owner.headers, pid, document_ids=[docs[0]], assignees=[ann.user_id])
    seg = segments_of(db, docs[0])[0].id
    a = put_tags(client, owner.headers, pid, s["id"], docs[0], seg, [{"class": "Food"}])
    b = put_tags(client, ann.headers, pid, s["id"], docs[0], seg, [{"class": "Staff"}])
    assert a.status_code == b.status_code == 200
    assert a.json()["version"] == b.json()["version"] == 1
    url = f"{API}/{pid}/sessions/{s['id']}/documents/{docs[0]}"
    mine = client.get(url, headers=ann.headers).json()["segments"][0]["tags"]
    theirs = client.get(url, headers=owner.headers).json()["segments"][0]["tags"]
    assert [t["class"] for t in mine] == ["Staff"] and [t["class"] for t in theirs] == ["Food"]
    r = client.get(f"{url}?annotator={ann.user_id}", headers=owner.headers)
    assert [t["class"] for t in r.json()["segments"][0]["tags"]] == ["Staff"]
    assert r.json()["annotator"] == f"user:{ann.user_id}"
    r = client.get(f"{url}?annotator={owner.user_id}", headers=ann.headers)
    assert r.status_code == 403


def _save_in_thread(db, principal, pid, sid, doc, seg, version, name, started, out):
    with db.session() as dbs:
        started.set()
        project = dbs.get(TextProject, pid)
        ts = dbs.get(TextSession, sid)
        body = TagsSave(tags=[TagIn(class_=name)], version=version)
        try:
            out.append(sessions_service.save_tags(dbs, principal, project, ts, doc, seg, body))
        except Conflict as exc:
            out.append(exc)


@pytest.mark.parametrize("version", [None, 1])
def test_one_annotators_racing_saves_keep_exactly_one(client, db, owner, version):
    pid, docs = setup_project(client, db, owner)
    s = new_session(client, owner.headers, pid, document_ids=[docs[0]])
    seg = segments_of(db, docs[0])[0].id
    if version is not None:
        assert put_tags(client, owner.headers, pid, s["id"], docs[0], seg, []).status_code == 200
    principal = Principal(org_id=owner.org_id, user_id=owner.user_id, role=Role.owner)
    barrier = threading.Barrier(2)
    out: list = []

    def racer(name):
        barrier.wait()
        _save_in_thread(
            db, principal, pid, s["id"], docs[0], seg, version, name, threading.Event(), out
        )

    threads = [threading.Thread(target=racer, args=(n,)) for n in ("Food", "Staff")]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    wins = [o for o in out if isinstance(o, dict)]
    losses = [o for o in out if isinstance(o, Conflict)]
    assert len(wins) == 1 and len(losses) == 1, out
    winner = wins[0]["tags"][0]["class"]
    assert losses[0].details["version"] == wins[0]["version"]
    assert [t["class"] for t in losses[0].details["tags"]] == [winner]
    with db.session() as dbs:
        rows = dbs.query(TextAnnotation).filter_by(session_id=s["id"]).all()
        assert len(rows) == 1 and rows[0].version == (1 if version is None else 2)


def test_two_annotators_saving_one_segment_at_once_both_win(client, db, owner):
    pid, docs = setup_project(client, db, owner)
    ann = member(client, owner, pid, "ANNOTATOR")
    s = new_session(client, owner.headers, pid, document_ids=[docs[0]], assignees=[ann.user_id])
    seg = segments_of(db, docs[0])[0].id
    people = [
        (Principal(org_id=owner.org_id, user_id=owner.user_id, role=Role.owner), "Food"),
        (Principal(org_id=owner.org_id, user_id=ann.user_id, role=Role.member), "Staff"),
    ]
    barrier = threading.Barrier(2)
    out: list = []

    def racer(principal, name):
        barrier.wait()
        _save_in_thread(
            db, principal, pid, s["id"], docs[0], seg, None, name, threading.Event(), out
        )

    threads = [threading.Thread(target=racer, args=p) for p in people]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert sorted(o["tags"][0]["class"] for o in out) == ["Food", "Staff"], out
    with db.session() as dbs:
        rows = dbs.query(TextAnnotation).filter_by(session_id=s["id"]).all()
        assert sorted(r.annotator_key for r in rows) == sorted(
            [f"user:{owner.user_id}", f"user:{ann.user_id}"]
        )


def test_a_save_that_waited_on_another_is_refused_not_lost(client, db, owner):
    """The stale save starts while the first holds its row (PostgreSQL: its UPDATE waits
    on the row lock; SQLite: its transaction waits for the write lock), then loses."""
    pid, docs = setup_project(client, db, owner)
    s = new_session(client, owner.headers, pid, document_ids=[docs[0]])
    seg = segments_of(db, docs[0])[0].id
    assert put_tags(client, owner.headers, pid, s["id"], docs[0], seg, []).status_code == 200
    principal = Principal(org_id=owner.org_id, user_id=owner.user_id, role=Role.owner)
    first = db.sessionmaker()
    try:
        project, ts = first.get(TextProject, pid), first.get(TextSession, s["id"])
        body = TagsSave(tags=[TagIn(class_="Food")], version=1)
        sessions_service.save_tags(first, principal, project, ts, docs[0], seg, body)
        started, out = threading.Event(), []
        second = threading.Thread(
            target=_save_in_thread,
            args=(db, principal, pid, s["id"], docs[0], seg, 1, "Price", started, out),
        )
        second.start()
        assert started.wait(10)
        if db.engine.dialect.name == "postgresql":
            deadline = time.monotonic() + 20
            with db.engine.connect() as watch:
                while time.monotonic() < deadline:
                    waiting = watch.execute(
                        text(
                            "SELECT count(*) FROM pg_stat_activity WHERE datname = "
                            "current_database() AND wait_event_type = 'Lock'"
                        )
                    ).scalar()
                    if waiting:
                        break
                    time.sleep(0.01)
                assert waiting, "the second save never waited on the first"
        first.commit()
    finally:
        first.close()
    second.join(30)
    assert len(out) == 1 and isinstance(out[0], Conflict), out
    assert out[0].details["version"] == 2
    assert [t["class"] for t in out[0].details["tags"]] == ["Food"]


def _check(client, owner, pid, sid, doc, seg, tags, reason):
    r = put_tags(client, owner.headers, pid, sid, doc, seg, tags)
    assert r.status_code == 422, (tags, r.text)
    assert r.json()["error"]["details"]["reason"] == reason, (tags, r.text)
    return r.json()["error"]["details"]


def test_class_project_rules_and_the_session_offer(client, db, owner):
    pid, docs = setup_project(client, db, owner)
    other_pid, _ = setup_project(client, db, owner)
    other_class = client.get(f"{API}/{other_pid}/classes", headers=owner.headers).json()
    s = new_session(client, owner.headers, pid, document_ids=[docs[0]], classes=["Food", "Staff"])
    seg = segments_of(db, docs[0])[0]
    args = (client, owner, pid, s["id"], docs[0], seg.id)
    d = _check(*args, [{"class": "Ambience"}], "UNKNOWN_TAG")
    assert d["classes"] == ["Ambience"]
    d = _check(*args, [{"class_id": other_class["items"][0]["id"]}], "UNKNOWN_TAG")
    assert d["classes"] == [other_class["items"][0]["id"]]
    d = _check(*args, [{"class": "Price"}], "NOT_OFFERED")
    assert d["classes"] == ["Price"] and d["offered_classes"] == ["Food", "Staff"]
    d = _check(*args, [{"class": "Food"}, {"class": "Staff"}], "TYPE_RULE")
    assert d["classes"] == ["Food", "Staff"]
    _check(*args, [{"label": "POS"}], "UNKNOWN_TAG")
    _check(*args, [{}], "EMPTY_TAG")
    food_id = client.get(f"{API}/{pid}/classes", headers=owner.headers).json()["items"][0]["id"]
    _check(*args, [{"class": "Staff", "class_id": food_id}], "MISMATCH")
    length = seg.end - seg.start
    _check(*args, [{"class": "Food", "start": 0}], "BAD_SPAN")
    _check(*args, [{"class": "Food", "start": 3, "end": length + 1}], "BAD_SPAN")
    _check(*args, [{"class": "Food", "start": 3, "end": 3}], "BAD_SPAN")
    _check(
        *args,
        [{"class": "Food", "start": 0, "end": 5}, {"class": "Food", "start": 4, "end": 8}],
        "OVERLAP",
    )
    r = put_tags(
        client,
        owner.headers,
        pid,
        s["id"],
        docs[0],
        seg.id,
        [{"class": "food", "start": 0, "end": 4}, {"class_id": food_id, "start": 4, "end": 8}],
    )
    assert r.status_code == 200, r.text
    assert [(t["class"], t["start"], t["end"]) for t in r.json()["tags"]] == [
        ("Food", 0, 4),
        ("Food", 4, 8),
    ]
    r = client.put(
        tags_url(pid, s["id"], docs[0], seg.id),
        json={"tags": [{"klass": "Food"}], "version": 1},
        headers=owner.headers,
    )
    assert r.status_code == 422
    other_doc_seg = segments_of(db, docs[1])[0].id
    r = put_tags(client, owner.headers, pid, s["id"], docs[0], other_doc_seg, [])
    assert r.status_code == 404
    r = put_tags(client, owner.headers, pid, s["id"], docs[1], other_doc_seg, [])
    assert r.status_code == 404


@pytest.mark.parametrize(
    ("type", "good", "bad"),
    [
        (
            "LABEL",
            [{"label": "Urgent"}, {"label": "Repeat"}],
            [([{"class": "Food"}], "TYPE_RULE"), ([{"label": "Nope"}], "UNKNOWN_TAG")],
        ),
        (
            "CLASSLABEL",
            [{"class": "Food", "label": "Urgent"}, {"class": "Food", "label": "Repeat"}],
            [([{"class": "Food"}], "TYPE_RULE"), ([{"label": "Urgent"}], "TYPE_RULE")],
        ),
        (
            "ABSA",
            [{"class": "Food", "label": "POS"}, {"class": "Staff", "label": "NEG"}],
            [
                (
                    [{"class": "Food", "label": "POS"}, {"class": "Food", "label": "NEG"}],
                    "TYPE_RULE",
                ),
                ([{"class": "Food"}], "TYPE_RULE"),
                ([{"class": "Food", "label": "ANGRY"}], "UNKNOWN_TAG"),
            ],
        ),
    ],
)
def test_each_project_type_takes_its_shape_of_tags(client, db, owner, type, good, bad):
    labels = () if type == "ABSA" else ("Urgent", "Repeat")
    pid, docs = setup_project(client, db, owner, type=type, labels=labels)
    s = new_session(client, owner.headers, pid, document_ids=[docs[0]])
    seg = segments_of(db, docs[0])[0].id
    for tags, reason in bad:
        _check(client, owner, pid, s["id"], docs[0], seg, tags, reason)
    r = put_tags(client, owner.headers, pid, s["id"], docs[0], seg, good)
    assert r.status_code == 200, r.text
    got = [(t["class"], t["label"]) for t in r.json()["tags"]]
    assert got == [(t.get("class"), t.get("label")) for t in good]


def mark(client, headers, pid, sid, doc, *, seg=None, page=None, name="ANNOTATED", method="post"):
    url = f"{API}/{pid}/sessions/{sid}/documents/{doc}"
    if seg is not None:
        url += f"/segments/{seg}"
    if page is not None:
        url += f"/pages/{page}"
    if method == "delete":
        return client.delete(url + "/mark", headers=headers)
    return client.post(url + "/mark", json={"name": name}, headers=headers)


def test_marks_make_document_states_progress_and_finish_the_session(client, db, owner):
    pid, docs = setup_project(client, db, owner)
    ann1 = member(client, owner, pid, "ANNOTATOR")
    ann2 = member(client, owner, pid, "ANNOTATOR")
    s = new_session(
        client, owner.headers, pid, document_ids=docs[:2], assignees=[ann1.user_id, ann2.user_id]
    )
    sid = s["id"]
    segs = [seg.id for seg in segments_of(db, docs[0])]
    r = put_tags(client, ann1.headers, pid, sid, docs[0], segs[0], [{"class": "Food"}])
    assert r.status_code == 200 and r.json()["progress"] == 0.0

    def states(account):
        r = client.get(f"{API}/{pid}/sessions/{sid}/documents", headers=account.headers)
        return [(d["state"], d["segments_saved"]) for d in r.json()["items"]]

    assert states(ann1) == [("in_progress", 1), ("todo", 0)]
    r = mark(client, ann1.headers, pid, sid, docs[0], seg=segs[0])
    assert r.status_code == 200, r.text
    m = r.json()
    assert m["name"] == "ANNOTATED" and m["segment_id"] == segs[0] and m["annotation_id"] == sid
    assert m["document_id"] == docs[0] and m["created"]
    r = mark(client, ann1.headers, pid, sid, docs[0], seg=segs[1], name="SKIPPED")
    assert r.status_code == 200 and r.json()["progress"] == 25.0
    r = mark(client, ann1.headers, pid, sid, docs[1], name="SKIPPED")
    assert r.json()["progress"] == 50.0 and r.json()["status"] == "ANNOTATING"
    assert states(ann1) == [("done", 1), ("skipped", 0)]
    assert states(ann2) == [("todo", 0), ("todo", 0)]

    progress = client.get(f"{API}/{pid}/sessions/{sid}/progress", headers=owner.headers).json()
    assert progress["progress"] == 50.0 and progress["document_count"] == 2
    assert progress["documents_done"] == 0 and progress["segments_tagged"] == 1
    by = {p["annotator"]: p for p in progress["annotators"]}
    one = by[f"user:{ann1.user_id}"]
    assert one["documents_done"] == 1 and one["documents_skipped"] == 1
    assert one["segments_tagged"] == 1 and one["segments_skipped"] == 1
    assert one["progress"] == 100.0 and one["assigned"] and one["email"] == ann1.email
    assert by[f"user:{ann2.user_id}"]["progress"] == 0.0

    # Undo, then the whole document and its only page.
    assert mark(client, ann1.headers, pid, sid, docs[1], method="delete").status_code == 204
    assert mark(client, ann1.headers, pid, sid, docs[1], method="delete").status_code == 404
    assert states(ann1) == [("done", 1), ("todo", 0)]
    assert mark(client, ann1.headers, pid, sid, docs[1], page=2).status_code == 404
    assert mark(client, ann1.headers, pid, sid, docs[1], page=1).json()["page"] == 1
    assert states(ann1) == [("done", 1), ("done", 0)]
    assert mark(client, ann2.headers, pid, sid, docs[0]).status_code == 200
    r = mark(client, ann2.headers, pid, sid, docs[1])
    assert r.json()["status"] == "FINISHED" and r.json()["progress"] == 100.0
    got = client.get(f"{API}/{pid}/sessions/{sid}", headers=owner.headers).json()
    assert got["status"] == "FINISHED" and got["finished"] and got["progress"] == 100.0

    r = put_tags(client, ann1.headers, pid, sid, docs[0], segs[0], [], 1)
    assert r.status_code == 409 and r.json()["error"]["details"]["reason"] == "FINISHED"
    assert mark(client, ann1.headers, pid, sid, docs[0], method="delete").status_code == 409
    r = mark(client, ann1.headers, pid, sid, docs[0], name="DONE")
    assert r.status_code == 422


def test_the_annotator_view_walks_the_session_in_order(client, db, owner):
    pid, docs = setup_project(client, db, owner)
    s = new_session(client, owner.headers, pid, document_ids=[docs[2], docs[0], docs[4]])
    url = f"{API}/{pid}/sessions/{s['id']}/documents"
    first = client.get(f"{url}/{docs[2]}", headers=owner.headers).json()
    assert first["previous"] is None and first["next"] == docs[0] and first["position"] == 0
    middle = client.get(f"{url}/{docs[0]}", headers=owner.headers).json()
    assert middle["previous"] == docs[2] and middle["next"] == docs[4]
    assert middle["text"] == "The soup was cold. The waiter was friendly."
    assert [seg["span"] for seg in middle["segments"]] == [[0, 18], [19, 43]]
    assert middle["state"] == "todo" and middle["mark"] is None and middle["page_marks"] == {}
    assert (
        "suggestions" not in middle["segments"][0] or middle["segments"][0]["suggestions"] is None
    )
    last = client.get(f"{url}/{docs[4]}", headers=owner.headers).json()
    assert last["next"] is None
    assert client.get(f"{url}/{docs[1]}", headers=owner.headers).status_code == 404
    page = client.get(f"{url}?limit=2&offset=1", headers=owner.headers).json()
    assert [d["id"] for d in page["items"]] == [docs[0], docs[4]] and page["total"] == 3
    assert page["items"][0]["snippet"].startswith("The soup")


def test_agreement_of_two_and_of_three_annotators_on_classes(client, db, owner):
    texts = ["One.", "Two.", "Three.", "Four."]
    pid, docs = setup_project(client, db, owner, texts=texts)
    people = [
        owner,
        member(client, owner, pid, "ANNOTATOR"),
        member(client, owner, pid, "ANNOTATOR"),
    ]
    s = new_session(
        client, owner.headers, pid, document_ids=docs, assignees=[p.user_id for p in people[1:]]
    )
    segs = [segments_of(db, d)[0].id for d in docs]
    said = [
        ["Food", "Food", "Staff", "Price"],
        ["Food", "Staff", "Staff", "Price"],
        ["Food", "Staff", "Staff", None],
    ]
    url = f"{API}/{pid}/sessions/{s['id']}/agreement"
    r = client.get(url, headers=owner.headers).json()
    assert r["items"] == 0 and r["kappa"] is None and r["method"] is None
    for person, classes in zip(people[:2], said[:2], strict=True):
        for doc, seg, cls in zip(docs, segs, classes, strict=True):
            tags = [{"class": cls}] if cls else []
            assert put_tags(client, person.headers, pid, s["id"], doc, seg, tags).status_code == 200
    two = client.get(url, headers=owner.headers).json()
    # p_o = 3/4; p_e = (2*1 + 1*2 + 1*1) / 16 = 5/16; kappa = (12/16 - 5/16) / (11/16) = 7/11
    assert two["method"] == "cohen" and two["items"] == 4
    assert two["kappa"] == round(7 / 11, 4) and two["percent_agreement"] == 0.75
    assert two["parts"][0]["name"] == "class"
    for doc, seg, cls in zip(docs, segs, said[2], strict=True):
        tags = [{"class": cls}] if cls else []
        assert put_tags(client, people[2].headers, pid, s["id"], doc, seg, tags).status_code == 200
    three = client.get(url, headers=owner.headers).json()
    assert three["method"] == "fleiss" and len(three["annotators"]) == 3
    # Items: [F,F,F] [F,S,S] [S,S,S] [P,P,(none)]: agreeing pairs 6+2+6+2 = 16 of 24, p_o = 2/3;
    # categories over 12 ratings: F 4, S 5, P 2, none 1: p_e = (16+25+4+1)/144 = 46/144.
    assert three["kappa"] == round((2 / 3 - 46 / 144) / (1 - 46 / 144), 4)


def test_agreement_per_label(client, db, owner):
    pid, docs = setup_project(
        client,
        db,
        owner,
        type="LABEL",
        classes=(),
        labels=("Urgent", "Repeat"),
        texts=["A.", "B.", "C."],
    )
    other = member(client, owner, pid, "ANNOTATOR")
    s = new_session(client, owner.headers, pid, document_ids=docs, assignees=[other.user_id])
    segs = [segments_of(db, d)[0].id for d in docs]
    mine = [["Urgent"], ["Urgent", "Repeat"], []]
    theirs = [["Urgent"], ["Repeat"], ["Repeat"]]
    for person, said in ((owner, mine), (other, theirs)):
        for doc, seg, labels in zip(docs, segs, said, strict=True):
            tags = [{"label": lab} for lab in labels]
            assert put_tags(client, person.headers, pid, s["id"], doc, seg, tags).status_code == 200
    r = client.get(f"{API}/{pid}/sessions/{s['id']}/agreement", headers=other.headers).json()
    parts = {p["name"]: p for p in r["parts"]}
    # Urgent: yes/yes, yes/no, no/no -> p_o 2/3, p_e (2*1 + 1*2)/9 = 4/9, kappa 0.4
    assert parts["Urgent"]["kappa"] == 0.4 and parts["Urgent"]["items"] == 3
    # Repeat: no/no, yes/yes, no/yes -> the same counts mirrored, kappa 0.4
    assert parts["Repeat"]["kappa"] == 0.4
    assert r["kappa"] == 0.4 and r["type"] == "LABEL"
