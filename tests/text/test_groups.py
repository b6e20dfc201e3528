"""Groups of a project's documents over HTTP: made from document ids, new documents or
a file's column; renamed; documents added and removed; listed with search; downloaded
as CSV, JSONL, JSON and XLSX; another project's documents refused; roles."""

from __future__ import annotations

import csv
import io
import json

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from augury.text.models import TextGroup
from tests.fixtures.factories import invite_and_join
from tests.text.helpers import API, create_project, new_org

DOCS = [
    {"text": "Friendly staff. Clean room.", "id": "a", "stars": 5},
    {"text": '=HYPERLINK("http://x") noisy street', "id": "b", "stars": 2, "text_lang": "en"},
    {"text": "Breakfast was cold.", "stars": 1, "tags": ["food"]},
]


@pytest.fixture
def owner(client):
    return new_org(client)


@pytest.fixture
def project(client, owner):
    return create_project(client, owner.headers, name="Hotels")


def groups_url(project) -> str:
    return f"{API}/{project['id']}/groups"


def add_docs(client, owner, project, docs=DOCS) -> list[int]:
    r = client.post(f"{API}/{project['id']}/documents", json=docs, headers=owner.headers)
    assert r.status_code == 201, r.text
    return [d["id"] for d in r.json()["items"]]


def create(client, owner, project, **body):
    return client.post(groups_url(project), json=body, headers=owner.headers)


def group_docs(client, owner, project, group_id, query=""):
    r = client.get(f"{groups_url(project)}/{group_id}/documents{query}", headers=owner.headers)
    assert r.status_code == 200, r.text
    return r.json()


def test_a_group_of_existing_documents_then_added_removed_renamed(client, owner, project):
    ids = add_docs(client, owner, project)
    r = create(client, owner, project, name="Complaints", document_ids=[ids[1], ids[2], ids[1]])
    assert r.status_code == 201, r.text
    group = r.json()
    assert group["name"] == "Complaints" and group["document_count"] == 2 and group["job"] is None
    gid = group["id"]

    r = client.post(
        f"{groups_url(project)}/{gid}/documents", json={"ids": ids}, headers=owner.headers
    )
    assert r.json() == {"changed": 1, "document_count": 3}
    r = client.request(
        "DELETE", f"{groups_url(project)}/{gid}/documents", json={"ids": [ids[0]]},
        headers=owner.headers,
    )  # fmt: skip
    assert r.json() == {"changed": 1, "document_count": 2}
    assert [d["id"] for d in group_docs(client, owner, project, gid)["items"]] == ids[1:]

    r = client.patch(
        f"{groups_url(project)}/{gid}",
        json={"name": "Bad stays", "description": "1-2 stars", "document_ids": [ids[0]]},
        headers=owner.headers,
    )
    assert r.status_code == 200, r.text
    assert (r.json()["name"], r.json()["description"], r.json()["document_count"]) == (
        "Bad stays",
        "1-2 stars",
        3,
    )
    listed = client.get(groups_url(project), headers=owner.headers).json()
    assert listed["total"] == 1 and listed["items"][0]["name"] == "Bad stays"
    r = client.patch(
        f"{groups_url(project)}/{gid}", json={"description": "kept name"}, headers=owner.headers
    )
    assert r.status_code == 200 and r.json()["name"] == "Bad stays", r.text

    assert client.delete(f"{groups_url(project)}/{gid}", headers=owner.headers).status_code == 204
    assert client.get(f"{groups_url(project)}/{gid}", headers=owner.headers).status_code == 404
    docs = client.get(f"{API}/{project['id']}/documents", headers=owner.headers).json()
    assert docs["total"] == 3


def test_a_group_of_new_documents_and_of_a_file_column(client, db, owner, project):
    r = create(client, owner, project, name="Inline", documents=DOCS, segmentation="none")
    assert r.status_code == 201, r.text
    assert r.json()["document_count"] == 3
    items = group_docs(client, owner, project, r.json()["id"], "?details=segments,meta")["items"]
    assert [len(d["segments"]) for d in items] == [1, 1, 1]
    assert items[0]["meta"] == {"stars": 5}

    content = "review,source\nGreat view.,web\nTiny bathroom. No towels.,app\n"
    files = {"file": ("r.csv", io.BytesIO(content.encode()))}
    r = client.post(f"{API}/{project['id']}/files", files=files, headers=owner.headers)
    file_id = r.json()["id"]
    r = create(client, owner, project, name="From file", file_id=file_id, column="review")
    assert r.status_code == 201, r.text
    assert r.json()["document_count"] == 2
    items = group_docs(client, owner, project, r.json()["id"], "?details=meta")["items"]
    assert [(d["text"], d["meta"], d["source"]) for d in items] == [
        ("Great view.", {"source": "web"}, "file"),
        ("Tiny bathroom. No towels.", {"source": "app"}, "file"),
    ]
    r = create(client, owner, project, name="Bad column", file_id=file_id, column="comment")
    assert r.status_code == 422 and r.json()["error"]["details"]["columns"] == ["review", "source"]
    with db.session() as s:
        assert "Bad column" not in s.scalars(select(TextGroup.name)).all()


def test_another_projects_documents_are_refused(client, db, owner, project):
    mine = add_docs(client, owner, project)
    other = create_project(client, owner.headers)
    theirs = add_docs(client, owner, other, [{"text": "Elsewhere."}])
    r = create(client, owner, project, name="Mixed", document_ids=[mine[0], theirs[0]])
    assert r.status_code == 422
    assert r.json()["error"]["details"] == {"reason": "UNKNOWN_DOCUMENTS", "ids": theirs}
    with db.session() as s:
        assert s.scalars(select(TextGroup)).all() == []

    gid = create(client, owner, project, name="Mine", document_ids=mine[:1]).json()["id"]
    url = f"{groups_url(project)}/{gid}/documents"
    r = client.post(url, json={"ids": [mine[1], theirs[0]]}, headers=owner.headers)
    assert r.status_code == 422
    r = client.patch(
        f"{groups_url(project)}/{gid}", json={"document_ids": theirs}, headers=owner.headers
    )
    assert r.status_code == 422
    r = client.request("DELETE", url, json={"ids": theirs}, headers=owner.headers)
    assert r.status_code == 422
    assert (
        client.get(f"{groups_url(project)}/{gid}", headers=owner.headers).json()["document_count"]
        == 1
    )
    r = client.get(f"{groups_url(other)}/{gid}", headers=owner.headers)
    assert r.status_code == 404


def test_names_are_unique_in_a_project_and_bodies_are_checked(client, owner, project):
    assert create(client, owner, project, name="G").status_code == 201
    r = create(client, owner, project, name="G")
    assert r.status_code == 409 and r.json()["error"]["details"]["reason"] == "NAME_TAKEN"
    assert create(client, owner, create_project(client, owner.headers), name="G").status_code == 201
    gid = create(client, owner, project, name="H").json()["id"]
    r = client.patch(f"{groups_url(project)}/{gid}", json={"name": "G"}, headers=owner.headers)
    assert r.status_code == 409
    for body in (
        {"name": ""},
        {"name": "   "},
        {"name": "x", "document_ids": [0]},
        {"name": "x", "dataset_id": 1, "column": 0},
        {"name": "x", "file_id": "f"},
        {"name": "x", "documents": [{"text": "a"}], "file_id": "f", "column": 0},
        {"name": "x", "colour": "red"},
    ):
        assert create(client, owner, project, **body).status_code == 422, body


def test_group_documents_search_and_details(client, owner, project):
    ids = add_docs(client, owner, project)
    add_docs(client, owner, project, [{"text": "Cold pool but friendly staff."}])
    gid = create(client, owner, project, name="All", document_ids=ids).json()["id"]
    found = group_docs(client, owner, project, gid, "?q=friendly")["items"]
    assert [d["id"] for d in found] == [ids[0]]
    found = group_docs(client, owner, project, gid, "?q=cold&details=tags")
    assert [d["id"] for d in found["items"]] == [ids[2]] and found["items"][0]["tags"] == []
    page = group_docs(client, owner, project, gid, "?offset=1&limit=1")
    assert page["total"] == 3 and page["has_more"] is True and page["items"][0]["id"] == ids[1]
    seed = group_docs(client, owner, project, gid, "?search=friendly")["items"]
    assert [d["id"] for d in seed] == [ids[0]]

    one = f"{groups_url(project)}/{gid}/documents/{ids[2]}?details=segments,meta"
    r = client.get(one, headers=owner.headers)
    assert r.status_code == 200 and r.json()["meta"] == {"stars": 1, "tags": ["food"]}
    assert [s["text"] for s in r.json()["segments"]] == ["Breakfast was cold."]
    outsider = add_docs(client, owner, project, [{"text": "Not grouped."}])[0]
    r = client.get(f"{groups_url(project)}/{gid}/documents/{outsider}", headers=owner.headers)
    assert r.status_code == 404


def test_downloads_in_every_format(client, owner, project):
    ids = add_docs(client, owner, project)
    gid = create(client, owner, project, name="Export", document_ids=ids).json()["id"]
    url = f"{groups_url(project)}/{gid}/download"
    header = ["text", "id", "document_id", "stars", "text_lang", "tags"]

    r = client.get(f"{url}?format=csv", headers=owner.headers)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    rows = list(csv.reader(io.StringIO(r.text)))
    assert rows[0] == header
    assert rows[1] == [DOCS[0]["text"], "a", str(ids[0]), "5", "", ""]
    assert rows[2][0] == "'" + DOCS[1]["text"]  # a formula is never run by a spreadsheet
    assert rows[3] == [DOCS[2]["text"], "", str(ids[2]), "1", "", '["food"]']

    lines = client.get(f"{url}?format=jsonl", headers=owner.headers).text.splitlines()
    first = json.loads(lines[0])
    assert first == {"text": DOCS[0]["text"], "id": "a", "document_id": ids[0], "stars": 5,
                     "text_lang": None, "tags": None}  # fmt: skip
    whole = client.get(f"{url}?format=json", headers=owner.headers).json()
    assert [json.loads(line) for line in lines] == whole and whole[2]["tags"] == ["food"]
    assert whole[1]["text"] == DOCS[1]["text"]

    r = client.get(f"{url}?format=xlsx", headers=owner.headers)
    sheet = load_workbook(io.BytesIO(r.content)).active
    values = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert values[0] == header and values[1][:4] == [DOCS[0]["text"], "a", ids[0], 5]
    assert len(values) == 4

    assert client.get(f"{url}?format=parquet", headers=owner.headers).status_code == 422
    empty = create(client, owner, project, name="Empty").json()["id"]
    r = client.get(f"{groups_url(project)}/{empty}/download", headers=owner.headers)
    assert r.text.splitlines() == ["text,id,document_id"]


def test_deleting_documents_keeps_group_counts_right(client, owner, project):
    ids = add_docs(client, owner, project)
    gid = create(client, owner, project, name="G", document_ids=ids).json()["id"]
    client.post(
        f"{API}/{project['id']}/documents/delete", json={"ids": ids[:2]}, headers=owner.headers
    )
    assert (
        client.get(f"{groups_url(project)}/{gid}", headers=owner.headers).json()["document_count"]
        == 1
    )


def test_roles_and_other_organizations(client, owner, project):
    ids = add_docs(client, owner, project)
    gid = create(client, owner, project, name="G", document_ids=ids).json()["id"]
    viewer = invite_and_join(client, owner, "viewer")
    group = f"{groups_url(project)}/{gid}"
    assert client.get(group, headers=viewer.headers).status_code == 200
    assert client.get(f"{group}/download", headers=viewer.headers).status_code == 200
    assert create(client, viewer, project, name="V").status_code == 403
    assert client.patch(group, json={"name": "V"}, headers=viewer.headers).status_code == 403
    assert client.delete(group, headers=viewer.headers).status_code == 403
    r = client.post(f"{group}/documents", json={"ids": ids}, headers=viewer.headers)
    assert r.status_code == 403

    stranger = new_org(client)
    for method, path, body in (
        ("GET", groups_url(project), None),
        ("POST", groups_url(project), {"name": "S"}),
        ("GET", group, None),
        ("PATCH", group, {"name": "S"}),
        ("DELETE", group, None),
        ("POST", f"{group}/documents", {"ids": ids}),
        ("DELETE", f"{group}/documents", {"ids": ids}),
        ("GET", f"{group}/documents", None),
        ("GET", f"{group}/documents/{ids[0]}", None),
        ("GET", f"{group}/download", None),
    ):
        r = client.request(method, path, json=body, headers=stranger.headers)
        assert r.status_code == 404, (method, path)
