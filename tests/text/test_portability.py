"""Projects copied, moved and exchanged: clone (in the organization and into another),
transfer, and the labeled-data file out and back in (round trips in each format), with
who may do each and bad files."""

from __future__ import annotations

import csv
import doctest
import io
import json

import pytest
from openpyxl import load_workbook
from sqlalchemy import func, select, text

from augury.text.models import (
    TextDocument,
    TextGroup,
    TextGroupDocument,
    TextMark,
    TextProjectMember,
    TextSegment,
    TextSession,
    TextSessionAssignee,
)
from augury.text.services import labeled_data, portability, sheets
from tests.fixtures.factories import invite_and_join, make_key
from tests.text.helpers import (
    API,
    add_classes,
    add_documents,
    add_session,
    annotate,
    create_project,
    other_org,
    segments_of,
)

TEXTS = [
    "The room was lovely. Staff were kind!",
    "-Breakfast: cold.\nThe view = great ✓.",
    "Nothing to say.",
    "Not labeled at all.",
]


def build(client, db, account, type_="CLASSLABEL"):
    """A project with classes, labels, documents (one never labeled), a group, and three
    sessions: two with tags by two people and an import, one empty."""
    project = create_project(client, account.headers, type=type_)
    pid = project["id"]
    room, staff, food = add_classes(client, account.headers, pid, ["Room", "Staff", "Food"])
    if type_ == "ABSA":
        labels = client.get(f"{API}/{pid}/labels", headers=account.headers).json()["items"]
        pos, neg = labels[0], labels[1]
    else:
        pos, neg = add_classes(
            client, account.headers, pid, ["Positive", "Negative"], kind="labels"
        )
    docs = add_documents(
        db,
        pid,
        TEXTS,
        external_ids=["r-1", None, "r-3", None],
        meta=[{"stars": 5}, {}, {"stars": 3, "lang": "en"}, {}],
    )
    member = invite_and_join(client, account, "member")
    first = add_session(db, pid, docs[:2], name="First pass", assignees=(member.user_id,))
    second = add_session(db, pid, docs[1:3], name="Second pass")
    empty = add_session(db, pid, docs[3:], name="Not started")
    s0 = segments_of(db, docs[0])
    s1 = segments_of(db, docs[1])
    s2 = segments_of(db, docs[2])
    annotate(
        db,
        first,
        s0[0].id,
        [{"class_id": room["id"], "label_id": pos["id"]}],
        user_id=account.user_id,
    )
    annotate(
        db,
        first,
        s0[0].id,
        [{"class_id": room["id"], "label_id": pos["id"], "start": 4, "end": 8}],
        user_id=member.user_id,
    )
    annotate(
        db,
        first,
        s0[1].id,
        [{"class_id": staff["id"], "label_id": pos["id"]}],
        user_id=account.user_id,
    )
    annotate(
        db,
        first,
        s1[0].id,
        [{"class_id": food["id"], "label_id": neg["id"]}],
        user_id=account.user_id,
    )
    annotate(db, first, s1[1].id, [], user_id=member.user_id)
    annotate(
        db, second, s2[0].id, [{"class_id": room["id"], "label_id": neg["id"]}], key="import:legacy"
    )
    annotate(
        db,
        second,
        s1[0].id,
        [{"class_id": food["id"], "label_id": neg["id"]}],
        key="model:7",
        source="model",
    )
    with db.session() as s:
        group = TextGroup(org_id=account.org_id, project_id=pid, name="Sample", document_count=2)
        s.add(group)
        s.flush()
        s.add_all(TextGroupDocument(group_id=group.id, document_id=d) for d in docs[:2])
        s.add(
            TextMark(
                org_id=account.org_id,
                project_id=pid,
                session_id=first,
                document_id=docs[0],
                user_id=account.user_id,
                user_key=f"user:{account.user_id}",
                scope="segment",
                ref=s0[0].id,
                name="ANNOTATED",
            )
        )
    return {
        "project": project,
        "docs": docs,
        "member": member,
        "sessions": (first, second, empty),
        "classes": (room, staff, food),
    }


def export(client, headers, pid, fmt="csv", **params):
    r = client.get(f"{API}/{pid}/export", params={"format": fmt, **params}, headers=headers)
    assert r.status_code == 200, r.text
    return r


def rows_of(content: bytes, fmt: str) -> list[dict]:
    """The exported rows with every value as text (empty for none), ids left out."""
    rows = [r.values for r in sheets.read_rows(content, fmt)]
    out = []
    for row in rows:
        clean = {}
        for column in labeled_data.COLUMNS:
            value = row.get(column)
            if isinstance(value, dict):
                value = json.dumps(value, sort_keys=True)
            elif column == "meta" and isinstance(value, str):
                value = json.dumps(json.loads(value), sort_keys=True)
            clean[column] = "" if value is None else str(value)
        out.append(clean)
    return out


def without_ids(rows: list[dict]) -> list[tuple]:
    return sorted(
        tuple(v for k, v in row.items() if k not in ("document_id", "session_id")) for row in rows
    )


def test_sheets_doctests():
    assert doctest.testmod(sheets).failed == 0


def test_export_one_row_per_segment_and_tag(client, db, owner):
    built = build(client, db, owner)
    pid, member = built["project"]["id"], built["member"]
    first, second, _ = built["sessions"]
    r = export(client, owner.headers, pid)
    assert r.headers["content-type"].startswith("text/csv")
    assert f"project-{pid}-labels.csv" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert list(rows[0]) == list(labeled_data.COLUMNS)
    # Documents 1-3 are labeled (document 4 is only in the empty session): all their
    # segments are there.
    assert {r["document_id"] for r in rows} == {str(d) for d in built["docs"][:3]}
    got = [
        (
            r["external_id"],
            r["segment_text"],
            r["session"],
            r["annotator"],
            r["class"],
            r["label"],
            r["tag_start"],
            r["tag_end"],
        )
        for r in rows
    ]
    assert got == [
        ("r-1", "The room was lovely.", "First pass", owner.email, "Room", "Positive", "", ""),
        ("r-1", "The room was lovely.", "First pass", member.email, "Room", "Positive", "4", "8"),
        ("r-1", "Staff were kind!", "First pass", owner.email, "Staff", "Positive", "", ""),
        ("", "'-Breakfast: cold.", "First pass", owner.email, "Food", "Negative", "", ""),
        ("", "'-Breakfast: cold.", "Second pass", "model:7", "Food", "Negative", "", ""),
        ("", "The view = great ✓.", "First pass", member.email, "", "", "", ""),
        ("r-3", "Nothing to say.", "Second pass", "legacy", "Room", "Negative", "", ""),
    ]
    assert rows[0]["document_text"] == TEXTS[0] and json.loads(rows[0]["meta"]) == {"stars": 5}
    assert rows[1]["document_text"] == "" and rows[1]["meta"] == ""
    assert rows[3]["document_text"] == "'" + TEXTS[1] and rows[3]["meta"] == ""
    assert (rows[1]["segment_start"], rows[1]["segment_end"]) == ("0", "20")

    jsonl = [
        json.loads(line) for line in export(client, owner.headers, pid, "jsonl").text.splitlines()
    ]
    assert len(jsonl) == 7 and jsonl[0]["meta"] == {"stars": 5} and jsonl[0]["segment_start"] == 0
    assert jsonl[3]["segment_text"] == "-Breakfast: cold." and jsonl[1]["tag_start"] == 4
    assert jsonl[1]["document_text"] is None and jsonl[5]["class"] is None
    sheet = load_workbook(io.BytesIO(export(client, owner.headers, pid, "xlsx").content)).active
    assert sheet.max_row == 8 and [c.value for c in sheet[1]] == list(labeled_data.COLUMNS)

    only = list(
        csv.DictReader(io.StringIO(export(client, owner.headers, pid, session_id=second).text))
    )
    # The documents of that session, each segment once at least (one untagged there).
    assert [r["session"] for r in only] == ["Second pass", "", "Second pass"]
    none = export(client, owner.headers, pid, session_id=built["sessions"][2]).text
    assert none.strip() == ",".join(labeled_data.COLUMNS)
    r = client.get(f"{API}/{pid}/export", params={"session_id": 999_999}, headers=owner.headers)
    assert r.status_code == 404
    assert (
        client.get(
            f"{API}/{pid}/export", params={"format": "pdf"}, headers=owner.headers
        ).status_code
        == 422
    )


def test_who_may_export_and_import(client, db, owner, other_org_owner):
    built = build(client, db, owner)
    pid, member = built["project"]["id"], built["member"]
    client.put(
        f"{API}/{pid}/members/{member.user_id}", json={"role": "ANNOTATOR"}, headers=owner.headers
    )
    mine = list(csv.DictReader(io.StringIO(export(client, member.headers, pid).text)))
    assert {r["session"] for r in mine} == {"First pass"}
    viewer = invite_and_join(client, owner, "viewer")
    assert len(list(csv.DictReader(io.StringIO(export(client, viewer.headers, pid).text)))) == 7
    data = export(client, owner.headers, pid).content
    for person in (viewer, member):
        r = client.post(
            f"{API}/{pid}/import", files={"file": ("l.csv", data)}, headers=person.headers
        )
        assert r.status_code == 403
    r = client.get(f"{API}/{pid}/export", headers=other_org_owner.headers)
    assert r.status_code == 404
    r = client.post(
        f"{API}/{pid}/import", files={"file": ("l.csv", data)}, headers=other_org_owner.headers
    )
    assert r.status_code == 404


@pytest.mark.parametrize("fmt", ["csv", "jsonl", "xlsx"])
def test_round_trip_export_import_export(client, db, owner, fmt):
    built = build(client, db, owner)
    pid = built["project"]["id"]
    before = export(client, owner.headers, pid, fmt).content
    fresh = create_project(client, owner.headers, type="CLASSLABEL")["id"]
    r = client.post(
        f"{API}/{fresh}/import",
        files={"file": (f"labels.{fmt}", before)},
        data={"create_missing": "true"},
        headers=owner.headers,
    )
    assert r.status_code == 201, r.text
    result = r.json()
    assert [
        (s["name"], s["document_count"], s["annotation_count"]) for s in result["sessions"]
    ] == [
        ("First pass", 2, 5),
        ("Second pass", 2, 2),
    ]
    assert result["documents_created"] == 3 and result["documents_reused"] == 0
    assert result["segments_created"] == 5 and result["annotations"] == 7
    assert result["classes_created"] == ["Food", "Room", "Staff"]
    assert result["labels_created"] == ["Negative", "Positive"]
    after = export(client, owner.headers, fresh, fmt).content
    assert without_ids(rows_of(after, fmt)) == without_ids(rows_of(before, fmt))
    with db.session() as s:
        sessions = list(s.scalars(select(TextSession).where(TextSession.project_id == fresh)))
        assert {(x.mode, x.status) for x in sessions} == {("IMPORT", "FINISHED")}
        texts = set(s.scalars(select(TextDocument.text).where(TextDocument.project_id == fresh)))
        assert texts == set(TEXTS[:3])
    project = client.get(f"{API}/{fresh}", headers=owner.headers).json()
    assert project["document_count"] == 3 and project["session_count"] == 2


def test_import_matches_documents_by_external_id_and_builds_texts_it_lacks(client, db, owner):
    pid = create_project(client, owner.headers, type="CLASS")["id"]
    add_classes(client, owner.headers, pid, ["Room", "Staff"])
    (doc,) = add_documents(db, pid, ["Big room. Slow staff."], external_ids=["h-1"])
    content = (
        "external_id,segment_start,segment_end,segment_text,session,annotator,class\n"
        "h-1,0,9,Big room.,Batch,ann@example.com,room\n"
        "h-1,10,21,Slow staff.,Batch,ann@example.com,Staff\n"
        "h-2,2,7,Hello,,,\n"
        "h-2,8,13,World,,,\n"
    )
    r = client.post(
        f"{API}/{pid}/import", files={"file": ("x.csv", content)}, headers=owner.headers
    )
    assert r.status_code == 201, r.text
    result = r.json()
    assert result["documents_reused"] == 1 and result["documents_created"] == 1
    assert [(s["name"], s["document_count"]) for s in result["sessions"]] == [
        ("Batch", 1),
        ("Import of x.csv", 1),
    ]
    with db.session() as s:
        made = s.scalars(select(TextDocument).where(TextDocument.external_id == "h-2")).one()
        assert made.text == "  Hello World" and made.source == "import" and made.segment_count == 2
        assert s.scalar(select(func.count()).where(TextDocument.project_id == pid)) == 2
    rows = list(csv.DictReader(io.StringIO(export(client, owner.headers, pid).text)))
    assert [(r["annotator"], r["class"]) for r in rows] == [
        ("ann@example.com", "Room"),
        ("ann@example.com", "Staff"),
    ]
    assert rows[0]["document_id"] == str(doc)

    clash = "external_id,segment_start,segment_end,segment_text,class\nh-1,0,4,Big ,Room\n"
    r = client.post(f"{API}/{pid}/import", files={"file": ("y.csv", clash)}, headers=owner.headers)
    assert r.status_code == 422 and "no segment [0, 4)" in r.json()["error"]["message"]


def test_members_import_as_themselves_and_long_names_stay_apart(client, db, owner):
    pid = create_project(client, owner.headers, type="LABEL")["id"]
    add_classes(client, owner.headers, pid, ["Praise"], kind="labels")
    long_a, long_b = "x" * 40 + "@example.com", "x" * 40 + "@example.org"
    content = "\n".join(
        [
            "document_id,segment_start,segment_end,segment_text,annotator,label",
            f"1,0,5,Great,{owner.email.upper()},Praise",
            f"1,0,5,Great,{long_a},Praise",
            f"1,0,5,Great,{long_b},Praise",
        ]
    )
    r = client.post(
        f"{API}/{pid}/import", files={"file": ("x.csv", content)}, headers=owner.headers
    )
    assert r.status_code == 201, r.text
    assert r.json()["annotations"] == 3
    rows = list(csv.DictReader(io.StringIO(export(client, owner.headers, pid).text)))
    names = sorted(r["annotator"] for r in rows)
    assert names[0] == owner.email
    assert len(set(names)) == 3 and all(len(n) <= 33 for n in names[1:])


@pytest.mark.parametrize(
    ("content", "reason", "snippet"),
    [
        ("text,class\nHello,Room\n", "MISSING_COLUMNS", "segment_start"),
        (
            "document_id,segment_start,segment_end,segment_text,class\n"
            "1,0,5,Hello,Room\n"
            "1,x,5,Hello,Room\n"
            "1,0,9,Hello,Room\n"
            ",0,5,Hello,Room\n"
            "2,0,5,Hello,Room\n"
            "2,0,5,Howdy,Room\n"
            "3,0,5,Hello,Room\n"
            "3,3,8,lo wo,Room\n",
            "INVALID_ROWS",
            "line 3",
        ),
        (
            "document_id,segment_start,segment_end,segment_text,class,label\n1,0,5,Hello,Room,Positive\n",
            "INVALID_ROWS",
            "no label",
        ),
        (
            "document_id,segment_start,segment_end,segment_text,class,tag_start\n1,0,5,Hello,Room,2\n",
            "INVALID_ROWS",
            "tag_start and tag_end",
        ),
        (
            "document_id,segment_start,segment_end,segment_text,class,tag_start,tag_end\n1,0,5,Hello,Room,2,9\n",
            "INVALID_ROWS",
            "not within",
        ),
        (
            "document_id,segment_start,segment_end,segment_text,annotator,class\n1,0,5,Hello,a,Room\n1,0,5,Hello,a,Staff\n",
            "INVALID_ROWS",
            "one class",
        ),
        (
            "document_id,document_text,segment_start,segment_end,segment_text,class\n"
            "1,Hi there,0,5,Hello,Room\n",
            "INVALID_ROWS",
            "document_text[0:5]",
        ),
        (
            "document_id,segment_start,segment_end,segment_text,class\n1,0,5,Hello,Nowhere\n",
            "UNKNOWN_TAG",
            "create_missing",
        ),
        ("", "EMPTY_FILE", "empty"),
        ("\x00\x01", "BINARY_FILE", "binary"),
    ],
)
def test_bad_files_import_nothing(client, db, owner, content, reason, snippet):
    pid = create_project(client, owner.headers, type="CLASS")["id"]
    add_classes(client, owner.headers, pid, ["Room", "Staff"])
    r = client.post(
        f"{API}/{pid}/import", files={"file": ("bad.csv", content)}, headers=owner.headers
    )
    assert r.status_code == 422, r.text
    error = r.json()["error"]
    assert error["details"]["reason"] == reason and snippet in error["message"] + json.dumps(
        error["details"]
    )
    if reason == "INVALID_ROWS" and snippet == "line 3":
        lines = [e["line"] for e in error["details"]["errors"]]
        assert lines == [3, 4, 5, 7, 9] and error["details"]["count"] == 5
    if reason == "UNKNOWN_TAG":
        assert error["details"]["classes"] == ["Nowhere"]
    project = client.get(f"{API}/{pid}", headers=owner.headers).json()
    assert (project["document_count"], project["session_count"], project["class_count"]) == (
        0,
        0,
        2,
    )


def test_absa_imports_keep_the_fixed_sentiments(client, db, owner):
    built = build(client, db, owner, type_="ABSA")
    data = export(client, owner.headers, built["project"]["id"], "jsonl").content
    fresh = create_project(client, owner.headers, type="ABSA")["id"]
    r = client.post(
        f"{API}/{fresh}/import",
        files={"file": ("a.jsonl", data)},
        data={"create_missing": "true"},
        headers=owner.headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["labels_created"] == [] and r.json()["classes_created"] == [
        "Food",
        "Room",
        "Staff",
    ]
    row = {"document_id": 1, "segment_start": 0, "segment_end": 2, "segment_text": "Hi"}
    bad = json.dumps({**row, "class": "Room", "label": "GREAT"})
    r = client.post(
        f"{API}/{fresh}/import",
        files={"file": ("b.jsonl", bad)},
        data={"create_missing": "true"},
        headers=owner.headers,
    )
    assert r.status_code == 422 and r.json()["error"]["details"]["labels"] == ["GREAT"]
    half = json.dumps({**row, "class": "Room"})
    r = client.post(
        f"{API}/{fresh}/import", files={"file": ("c.jsonl", half)}, headers=owner.headers
    )
    assert r.status_code == 422 and "sentiment" in r.json()["error"]["message"]


def test_clone_in_the_organization_copies_the_project_without_its_labels(client, db, owner):
    built = build(client, db, owner)
    pid = built["project"]["id"]
    name = built["project"]["name"]
    r = client.post(f"{API}/{pid}/clone", json={}, headers=owner.headers)
    assert r.status_code == 201, r.text
    copy = r.json()
    assert copy["name"] == f"Copy of {name}" and copy["org_id"] == owner.org_id
    assert copy["role"] == "MANAGER" and copy["type"] == "CLASSLABEL"
    assert (
        copy["document_count"],
        copy["class_count"],
        copy["label_count"],
        copy["session_count"],
    ) == (4, 3, 2, 0)
    again = client.post(f"{API}/{pid}/clone", json={}, headers=owner.headers).json()
    assert again["name"] == f"Copy 2 of {name}"
    r = client.post(f"{API}/{pid}/clone", json={"name": name}, headers=owner.headers)
    assert r.status_code == 409

    with db.session() as s:

        def layout(project_id):
            docs = s.execute(
                select(
                    TextDocument.id, TextDocument.external_id, TextDocument.text, TextDocument.meta
                )
                .where(TextDocument.project_id == project_id)
                .order_by(TextDocument.id)
            ).all()
            segs = s.execute(
                select(
                    TextSegment.document_id,
                    TextSegment.position,
                    TextSegment.start,
                    TextSegment.end,
                    TextSegment.text,
                )
                .where(TextSegment.project_id == project_id)
                .order_by(TextSegment.document_id, TextSegment.position)
            ).all()
            order = {d.id: i for i, d in enumerate(docs)}
            groups = s.execute(
                select(TextGroup.name, TextGroupDocument.document_id)
                .join(TextGroupDocument, TextGroupDocument.group_id == TextGroup.id)
                .where(TextGroup.project_id == project_id)
            ).all()
            return (
                [d[1:] for d in docs],
                [(order[x.document_id], *x[1:]) for x in segs],
                sorted((g, order[d]) for g, d in groups),
            )

        assert layout(copy["id"]) == layout(pid)
        copied = s.scalars(
            select(TextDocument.id).where(TextDocument.project_id == copy["id"])
        ).all()
        assert not set(copied) & set(built["docs"])
        # The copies are in the full-text index as the originals are.
        if s.bind.dialect.name == "sqlite":
            search = "SELECT rowid FROM text_document_fts WHERE text_document_fts MATCH 'lovely'"
        else:
            search = (
                "SELECT id FROM text_document WHERE "
                "to_tsvector('simple', text) @@ plainto_tsquery('simple', 'lovely')"
            )
        found = set(s.execute(text(search)).scalars())
        assert {built["docs"][0], min(copied)} <= found and len(found) == 3  # and "again"
    source = client.get(f"{API}/{pid}", headers=owner.headers).json()
    assert source["session_count"] == 3 and source["document_count"] == 4


def test_clone_with_annotations_keeps_every_label(client, db, owner):
    built = build(client, db, owner)
    pid = built["project"]["id"]
    r = client.post(
        f"{API}/{pid}/clone",
        json={"name": "Labeled copy", "include_annotations": True},
        headers=owner.headers,
    )
    assert r.status_code == 201, r.text
    copy = r.json()["id"]
    assert r.json()["session_count"] == 2  # the empty session has no labels to copy
    assert without_ids(rows_of(export(client, owner.headers, copy).content, "csv")) == without_ids(
        rows_of(export(client, owner.headers, pid).content, "csv")
    )
    with db.session() as s:
        sessions = {
            x.name: x for x in s.scalars(select(TextSession).where(TextSession.project_id == copy))
        }
        first = sessions["First pass"]
        assignees = s.scalars(
            select(TextSessionAssignee.user_id).where(TextSessionAssignee.session_id == first.id)
        ).all()
        assert assignees == [built["member"].user_id]
        mark = s.scalars(select(TextMark).where(TextMark.project_id == copy)).one()
        segment = s.get(TextSegment, mark.ref)
        assert segment.project_id == copy and segment.text == "The room was lovely."
        assert mark.session_id == first.id


def test_clone_into_another_organization_the_caller_administers(client, db, owner):
    built = build(client, db, owner)
    pid = built["project"]["id"]
    target, target_headers = other_org(client, owner)
    r = client.post(
        f"{API}/{pid}/clone",
        json={"organization_id": target, "include_annotations": True},
        headers=owner.headers,
    )
    assert r.status_code == 201, r.text
    copy = r.json()
    assert copy["org_id"] == target and copy["role"] == "MANAGER"
    assert client.get(f"{API}/{copy['id']}", headers=owner.headers).status_code == 404
    there = client.get(f"{API}/{copy['id']}", headers=target_headers).json()
    assert there["document_count"] == 4 and there["session_count"] == 2
    rows = list(csv.DictReader(io.StringIO(export(client, target_headers, copy["id"]).text)))
    assert len(rows) == 7
    with db.session() as s:
        for table in portability.project_tables():
            orgs = set(
                s.execute(select(table.c.org_id).where(table.c.project_id == copy["id"])).scalars()
            )
            assert orgs <= {target}, table.name
        # The member of the first organization is not one of the second: not assigned there.
        first = s.scalars(
            select(TextSession).where(
                TextSession.project_id == copy["id"], TextSession.name == "First pass"
            )
        ).one()
        assert s.scalar(select(func.count()).where(TextSessionAssignee.session_id == first.id)) == 0

    # An organization the caller is not in does not exist for them; keys act in one.
    stranger_org, _ = other_org(client, invite_and_join(client, owner, "member"))
    r = client.post(f"{API}/{pid}/clone", json={"org_id": stranger_org}, headers=owner.headers)
    assert r.status_code == 404
    key = {"Authorization": f"Bearer {make_key(client, owner, ['admin'])}"}
    r = client.post(f"{API}/{pid}/clone", json={"org_id": target}, headers=key)
    assert r.status_code == 403
    r = client.post(
        f"{API}/{pid}/clone", json={"org_id": target, "name": copy["name"]}, headers=owner.headers
    )
    assert r.status_code == 409


def _member_of_both(client, owner, role_there: str, role_here: str = "admin", target=None):
    """A person who is ``role_here`` of ``owner``'s organization and ``role_there`` of a
    second one ``owner`` owns (``target``: its id and headers, else a new one);
    (person, second org id, owner's headers there)."""
    person = invite_and_join(client, owner, role_here)
    target, target_headers = target or other_org(client, owner)
    r = client.post(
        "/api/v1/invitations",
        json={"email": person.email, "role": role_there},
        headers=target_headers,
    )
    assert r.status_code == 201, r.text
    token = r.json()["invitation_link"].split("token=")[1]
    r = client.post(
        "/api/v1/invitations/accept", json={"token": token, "password": person.password}
    )
    assert r.status_code == 200, r.text
    return person, target, target_headers


def test_clone_refused_to_a_member_who_is_not_admin_there(client, db, owner):
    pid = create_project(client, owner.headers)["id"]
    person, target, _ = _member_of_both(client, owner, "member")
    r = client.post(f"{API}/{pid}/clone", json={"org_id": target}, headers=person.headers)
    assert r.status_code == 403 and r.json()["error"]["details"]["role"] == "member"


def test_transfer_moves_every_row_and_drops_outsiders(client, db, owner, other_org_owner):
    built = build(client, db, owner)
    pid, member = built["project"]["id"], built["member"]
    client.put(
        f"{API}/{pid}/members/{member.user_id}", json={"role": "ANNOTATOR"}, headers=owner.headers
    )
    both, target, target_headers = _member_of_both(client, owner, "viewer")
    kept, _, _ = _member_of_both(client, owner, "member", "member", (target, target_headers))
    r = client.put(
        f"{API}/{pid}/members/{kept.user_id}", json={"role": "VIEWER"}, headers=owner.headers
    )
    assert r.status_code == 200, r.text

    assert (
        client.post(
            f"{API}/{pid}/transfer", json={"org_id": owner.org_id}, headers=owner.headers
        ).status_code
        == 422
    )
    assert (
        client.post(
            f"{API}/{pid}/transfer", json={"org_id": other_org_owner.org_id}, headers=owner.headers
        ).status_code
        == 404
    )
    r = client.post(f"{API}/{pid}/transfer", json={"org_id": target}, headers=both.headers)
    assert r.status_code == 403  # a viewer of the target
    manager = invite_and_join(client, owner, "member")
    client.put(
        f"{API}/{pid}/members/{manager.user_id}", json={"role": "MANAGER"}, headers=owner.headers
    )
    r = client.post(f"{API}/{pid}/transfer", json={"org_id": target}, headers=manager.headers)
    assert r.status_code == 403  # manages the project, but is no admin of its organization
    clash = create_project(client, target_headers, name=built["project"]["name"])
    r = client.post(f"{API}/{pid}/transfer", json={"org_id": target}, headers=owner.headers)
    assert r.status_code == 409
    client.delete(f"{API}/{clash['id']}", params={"confirm": "true"}, headers=target_headers)

    before = export(client, owner.headers, pid).content
    r = client.post(
        f"{API}/{pid}/transfer", json={"organization_id": target}, headers=owner.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["org_id"] == target and r.json()["id"] == pid and r.json()["role"] == "MANAGER"
    assert client.get(f"{API}/{pid}", headers=owner.headers).status_code == 404
    assert client.get(f"{API}/{pid}", headers=target_headers).status_code == 200
    after = export(client, target_headers, pid).content
    assert rows_of(after, "csv") == rows_of(before, "csv")
    with db.session() as s:
        tables = {t.name for t in portability.project_tables()}
        assert {
            "text_document",
            "text_session",
            "text_annotation",
            "text_mark",
            "text_group",
            "text_file",
        } <= tables
        for table in portability.project_tables():
            orgs = set(s.execute(select(table.c.org_id).where(table.c.project_id == pid)).scalars())
            assert orgs <= {target}, table.name
        roles = dict(
            s.execute(
                select(TextProjectMember.user_id, TextProjectMember.role).where(
                    TextProjectMember.project_id == pid
                )
            ).all()
        )
        assert roles == {kept.user_id: "VIEWER"}
        first = built["sessions"][0]
        assert s.scalar(select(func.count()).where(TextSessionAssignee.session_id == first)) == 0
        events = (
            s.execute(text("SELECT org_id FROM audit_event WHERE action = 'text_project.transfer'"))
            .scalars()
            .all()
        )
        assert sorted(events) == sorted([owner.org_id, target])
