"""Classes and labels over HTTP: one or many at once (all or none), names unique without
case, the seed's `example`, files in and out, ABSA's fixed sentiments, deleting one
with the tags that name it, roles and other organizations."""

from __future__ import annotations

import csv
import io
import json
import time

import pytest
from openpyxl import Workbook, load_workbook
from sqlalchemy import select

from augury.text.models import TextAnnotation, TextSession
from tests.fixtures.factories import invite_and_join
from tests.text.helpers import (
    API,
    add_classes,
    add_documents,
    add_session,
    annotate,
    create_project,
    segments_of,
)


@pytest.fixture
def project(client, owner):
    return create_project(client, owner.headers, type="CLASSLABEL")


def url(project, rest=""):
    return f"{API}/{project['id']}{rest}"


def test_add_one_or_many_read_change_and_order(client, owner, project):
    r = client.post(
        url(project, "/classes"),
        json={"name": " Comfort ", "example": "A soft bed", "description": "Sleep"},
        headers=owner.headers,
    )
    assert r.status_code == 201, r.text
    comfort = r.json()
    assert comfort["name"] == "Comfort" and comfort["examples"] == ["A soft bed"]
    assert comfort["example"] == "A soft bed" and comfort["position"] == 0

    r = client.post(
        url(project, "/classes"),
        json=[
            {"name": "Staff", "examples": ["Kind people", "Rude clerk"]},
            {"name": "Price", "example": "Cheap", "examples": ["Too dear", "Cheap"]},
        ],
        headers=owner.headers,
    )
    assert r.status_code == 201, r.text
    staff, price = r.json()["items"]
    assert staff["example"] == "Kind people" and staff["position"] == 1
    assert price["examples"] == ["Cheap", "Too dear"] and price["position"] == 2

    r = client.patch(
        url(project, f"/classes/{price['id']}"),
        json={"name": "Value", "position": 0, "example": "Worth it"},
        headers=owner.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "Value" and r.json()["examples"] == ["Worth it"]
    r = client.patch(
        url(project, f"/classes/{staff['id']}"),
        json={"id": staff["id"], "description": "People"},
        headers=owner.headers,
    )
    assert r.json()["description"] == "People" and r.json()["examples"] == staff["examples"]
    r = client.patch(url(project, f"/classes/{staff['id']}"), json={"id": 1}, headers=owner.headers)
    assert r.status_code == 422

    page = client.get(url(project, "/classes"), params={"limit": 2}, headers=owner.headers).json()
    assert [c["name"] for c in page["items"]] == ["Comfort", "Value"]
    assert page["total"] == 3 and page["has_more"] is True
    r = client.get(url(project, f"/classes/{comfort['id']}"), headers=owner.headers)
    assert r.status_code == 200 and r.json()["description"] == "Sleep"
    r = client.post(url(project, "/labels"), json={"name": "Urgent"}, headers=owner.headers)
    assert r.status_code == 201 and r.json()["fixed"] is False


def test_names_are_unique_without_case_and_nothing_is_added_on_a_clash(client, owner, project):
    add_classes(client, owner.headers, project["id"], ["Room"])

    def post(body):
        return client.post(url(project, "/classes"), json=body, headers=owner.headers)

    r = post([{"name": "Bath"}, {"name": "ROOM"}, {"name": "Bed"}])
    assert r.status_code == 409, r.text
    error = r.json()["error"]
    assert error["details"] == {"reason": "NAME_TAKEN", "names": ["ROOM"]}
    assert "'ROOM'" in error["message"]
    r = post([{"name": "Bath"}, {"name": "bath"}])
    assert r.status_code == 409 and r.json()["error"]["details"]["reason"] == "DUPLICATE_IN_REQUEST"
    names = [
        c["name"]
        for c in client.get(url(project, "/classes"), headers=owner.headers).json()["items"]
    ]
    assert names == ["Room"]
    bath = post({"name": "Bath"}).json()
    r = client.patch(
        url(project, f"/classes/{bath['id']}"), json={"name": "room"}, headers=owner.headers
    )
    assert r.status_code == 409
    r = client.patch(
        url(project, f"/classes/{bath['id']}"), json={"name": "BATH"}, headers=owner.headers
    )
    assert r.status_code == 200 and r.json()["name"] == "BATH"
    # Classes and labels are separate name spaces.
    assert (
        client.post(
            url(project, "/labels"), json={"name": "Room"}, headers=owner.headers
        ).status_code
        == 201
    )


@pytest.mark.parametrize(
    "body",
    [
        {"name": ""},
        {"name": "   "},
        {"name": "x" * 201},
        {},
        {"name": "A", "examples": [""]},
        {"name": "A", "examples": ["e"] * 101},
        {"name": "A", "color": "red"},
        [],
        [{"name": "A"}, {"name": ""}],
        "Comfort",
    ],
)
def test_bad_entries_are_422(client, owner, project, body):
    r = client.post(url(project, "/classes"), json=body, headers=owner.headers)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "VALIDATION_ERROR"


def test_ten_thousand_in_one_call_and_a_clear_limit_above(client, owner, project):
    started = time.monotonic()
    r = client.post(
        url(project, "/classes"),
        json=[{"name": f"Class {i}", "description": f"The {i}th"} for i in range(10_000)],
        headers=owner.headers,
    )
    elapsed = time.monotonic() - started
    assert r.status_code == 201, r.text
    assert len(r.json()["items"]) == 10_000 and r.json()["items"][-1]["position"] == 9_999
    assert elapsed < 60
    assert client.get(url(project), headers=owner.headers).json()["class_count"] == 10_000
    r = client.post(
        url(project, "/labels"),
        json=[{"name": f"L{i}"} for i in range(10_001)],
        headers=owner.headers,
    )
    assert r.status_code == 422
    assert r.json()["error"]["details"] == {"reason": "TOO_MANY", "limit": 10_000, "given": 10_001}


def test_absa_labels_are_fixed_but_aspects_are_classes(client, owner):
    absa = create_project(client, owner.headers, type="ABSA")
    pos = client.get(url(absa, "/labels"), headers=owner.headers).json()["items"][0]
    csv_file = {"file": ("labels.csv", b"name\nMixed\n", "text/csv")}
    for call in (
        lambda: client.post(url(absa, "/labels"), json={"name": "MIXED"}, headers=owner.headers),
        lambda: client.patch(
            url(absa, f"/labels/{pos['id']}"), json={"name": "Good"}, headers=owner.headers
        ),
        lambda: client.delete(url(absa, f"/labels/{pos['id']}"), headers=owner.headers),
        lambda: client.post(url(absa, "/labels/upload"), files=csv_file, headers=owner.headers),
    ):
        r = call()
        assert r.status_code == 422, r.text
        assert r.json()["error"]["details"]["reason"] == "FIXED_LABELS"
        assert "ABSA" in r.json()["error"]["message"]
    assert (
        client.get(url(absa, f"/labels/{pos['id']}"), headers=owner.headers).json()["name"] == "POS"
    )
    add_classes(client, owner.headers, absa["id"], ["Breakfast", "Location"])


def test_deleting_a_class_removes_its_tags_in_the_same_transaction(client, db, owner, project):
    room, staff = add_classes(client, owner.headers, project["id"], ["Room", "Staff"])
    (urgent,) = add_classes(client, owner.headers, project["id"], ["Urgent"], kind="labels")
    docs = add_documents(db, project["id"], ["Nice room. Kind staff.", "Small room."])
    first, second = segments_of(db, docs[0])
    sid = add_session(db, project["id"], docs)
    both = annotate(
        db,
        sid,
        first.id,
        [{"class_id": room["id"], "label_id": urgent["id"]}, {"class_id": staff["id"]}],
        user_id=owner.user_id,
    )
    only_room = annotate(
        db, sid, second.id, [{"class_id": room["id"], "start": 0, "end": 4}], user_id=owner.user_id
    )
    untouched = annotate(
        db, sid, segments_of(db, docs[1])[0].id, [{"class_id": staff["id"]}], user_id=owner.user_id
    )
    with db.session() as s:
        s.get(TextSession, sid).class_ids = [room["id"], staff["id"]]

    r = client.delete(url(project, f"/classes/{room['id']}"), headers=owner.headers)
    assert r.status_code == 200, r.text
    assert r.json() == {
        "id": room["id"],
        "name": "Room",
        "tags_removed": 2,
        "annotations_changed": 2,
        "sessions_changed": 1,
    }
    with db.session() as s:
        rows = {a.id: a for a in s.scalars(select(TextAnnotation))}
        assert rows[both].tags == [
            {"class_id": staff["id"], "label_id": None, "start": None, "end": None}
        ]
        assert rows[both].version == 2
        assert rows[only_room].tags == [] and rows[only_room].version == 2
        assert rows[untouched].version == 1
        assert s.get(TextSession, sid).class_ids == [staff["id"]]
    assert (
        client.get(url(project, f"/classes/{room['id']}"), headers=owner.headers).status_code == 404
    )

    r = client.delete(url(project, f"/labels/{urgent['id']}"), headers=owner.headers)
    assert r.json()["tags_removed"] == 0 and r.json()["annotations_changed"] == 0


def test_upload_csv_xlsx_and_json_files(client, owner, project):
    csv_text = (
        "Name;Description;Examples;Example 2\n"
        'Room;"The room; its bed";"Soft bed\nBig window";Quiet\n'
        "Staff;;;\n"
        ";;;\n"
        "'=Formula;escaped;;\n"
    )
    r = client.post(
        url(project, "/classes/upload"),
        files={"file": ("classes.csv", csv_text.encode("cp1252"), "text/csv")},
        headers=owner.headers,
    )
    assert r.status_code == 201, r.text
    items = r.json()["items"]
    assert [(c["name"], c["description"], c["examples"]) for c in items] == [
        ("Room", "The room; its bed", ["Soft bed", "Big window", "Quiet"]),
        ("Staff", "", []),
        ("=Formula", "escaped", []),
    ]

    book = Workbook()
    sheet = book.active
    sheet.append(["name", "description", "example"])
    sheet.append(["Urgent", "Needs an answer", "Call me back"])
    sheet.append(["Praise", None, None])
    data = io.BytesIO()
    book.save(data)
    r = client.post(
        url(project, "/labels/upload"),
        files={"file": ("labels.xlsx", data.getvalue(), "application/octet-stream")},
        headers=owner.headers,
    )
    assert r.status_code == 201, r.text
    assert [(x["name"], x["examples"]) for x in r.json()["items"]] == [
        ("Urgent", ["Call me back"]),
        ("Praise", []),
    ]

    r = client.post(
        url(project, "/classes/upload"),
        files={
            "file": ("more.json", json.dumps([{"name": "Price", "examples": ["Cheap"], "id": 9}]))
        },
        headers=owner.headers,
    )
    assert r.status_code == 201 and r.json()["items"][0]["examples"] == ["Cheap"]


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("c.csv", b"", "EMPTY_FILE"),
        ("c.csv", b"\x00\x01\x02binary", "BINARY_FILE"),
        ("c.xlsx", b"PK\x03\x04 not really", "UNREADABLE_FILE"),
        ("c.csv", b"title,description\nRoom,x\n", "NO_NAME_COLUMN"),
        ("c.csv", b"name\nRoom\n" + b"x" * 201 + b"\n", "INVALID_ROWS"),
        ("c.json", b'{"name": "Room"}', "NOT_A_LIST"),
        ("c.pdf", b"%PDF-1.4", "UNSUPPORTED_FORMAT"),
        ("c.csv", b"name\nRoom\nroom\n", None),
    ],
)
def test_bad_files_are_refused_whole(client, owner, project, name, content, reason):
    r = client.post(
        url(project, "/classes/upload"), files={"file": (name, content)}, headers=owner.headers
    )
    if reason is None:
        assert r.status_code == 409, r.text
    else:
        assert r.status_code == 422, r.text
        assert r.json()["error"]["details"]["reason"] == reason
        if reason == "INVALID_ROWS":
            (error,) = r.json()["error"]["details"]["errors"]
            assert error["line"] == 3 and error["message"].startswith("name: ")
    assert client.get(url(project), headers=owner.headers).json()["class_count"] == 0


def test_download_in_each_format_and_upload_it_elsewhere(client, owner, project):
    created = client.post(
        url(project, "/classes"),
        json=[
            {"name": "Room", "description": "Beds, views", "examples": ["Soft bed", "Sea view"]},
            {"name": "-Minus", "description": "=SUM(A1)", "examples": ["+1"]},
            {"name": "Ünïcode ✓"},
        ],
        headers=owner.headers,
    ).json()["items"]

    r = client.get(url(project, "/classes/download"), headers=owner.headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.text)))
    assert [row["name"] for row in rows] == ["Room", "'-Minus", "Ünïcode ✓"]
    assert rows[0]["examples"] == "Soft bed\nSea view" and rows[1]["description"] == "'=SUM(A1)"

    r = client.get(
        url(project, "/classes/download"), params={"format": "json"}, headers=owner.headers
    )
    assert r.json() == created
    r = client.get(
        url(project, "/classes/download"), params={"format": "xlsx"}, headers=owner.headers
    )
    sheet = load_workbook(io.BytesIO(r.content)).active
    assert [c.value for c in sheet[1]] == ["id", "name", "description", "examples", "position"]
    assert sheet.cell(3, 3).value == "'=SUM(A1)" and sheet.cell(3, 3).data_type == "s"
    assert (
        client.get(
            url(project, "/classes/download"), params={"format": "pdf"}, headers=owner.headers
        ).status_code
        == 422
    )

    for fmt, suffix in (("csv", "csv"), ("xlsx", "xlsx"), ("json", "json")):
        target = create_project(client, owner.headers)
        data = client.get(
            url(project, "/classes/download"), params={"format": fmt}, headers=owner.headers
        ).content
        r = client.post(
            url(target, "/classes/upload"),
            files={"file": (f"c.{suffix}", data)},
            headers=owner.headers,
        )
        assert r.status_code == 201, (fmt, r.text)
        copied = [(c["name"], c["description"], c["examples"]) for c in r.json()["items"]]
        assert copied == [(c["name"], c["description"], c["examples"]) for c in created], fmt


def test_roles_and_other_projects(client, owner, other_org_owner, project):
    (room,) = add_classes(client, owner.headers, project["id"], ["Room"])
    viewer = invite_and_join(client, owner, "viewer")
    annotator = invite_and_join(client, owner, "member")
    client.put(
        url(project, f"/members/{annotator.user_id}"),
        json={"role": "ANNOTATOR"},
        headers=owner.headers,
    )
    for person in (viewer, annotator):
        assert client.get(url(project, "/classes"), headers=person.headers).status_code == 200
        assert (
            client.get(url(project, "/classes/download"), headers=person.headers).status_code == 200
        )
        for call in (
            lambda h: client.post(url(project, "/classes"), json={"name": "New"}, headers=h),
            lambda h: client.patch(
                url(project, f"/classes/{room['id']}"), json={"name": "N"}, headers=h
            ),
            lambda h: client.delete(url(project, f"/classes/{room['id']}"), headers=h),
            lambda h: client.post(
                url(project, "/classes/upload"), files={"file": ("c.csv", b"name\nA\n")}, headers=h
            ),
        ):
            assert call(person.headers).status_code == 403
    for call in (
        lambda h: client.get(url(project, "/classes"), headers=h),
        lambda h: client.get(url(project, f"/classes/{room['id']}"), headers=h),
        lambda h: client.post(url(project, "/labels"), json={"name": "New"}, headers=h),
        lambda h: client.delete(url(project, f"/classes/{room['id']}"), headers=h),
    ):
        assert call(other_org_owner.headers).status_code == 404
    # A class of one project is not found through another, even in the same organization.
    sibling = create_project(client, owner.headers)
    for call in (
        lambda: client.get(url(sibling, f"/classes/{room['id']}"), headers=owner.headers),
        lambda: client.patch(
            url(sibling, f"/classes/{room['id']}"), json={"name": "X"}, headers=owner.headers
        ),
        lambda: client.delete(url(sibling, f"/classes/{room['id']}"), headers=owner.headers),
        lambda: client.get(url(project, f"/labels/{room['id']}"), headers=owner.headers),
    ):
        assert call().status_code == 404
    assert (
        client.get(url(project, f"/classes/{room['id']}"), headers=owner.headers).json()["name"]
        == "Room"
    )
