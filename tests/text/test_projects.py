"""Text projects over HTTP: create, list, read, change, delete (with confirmation), the
ABSA sentiments, members and their roles, and bad input answered with the envelope."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from augury.accounts.models import Role
from augury.accounts.principal import Principal
from augury.audit.models import AuditEvent
from augury.datasets.storage import storage_for
from augury.text import access
from augury.text.models import (
    TextAnnotation,
    TextDocument,
    TextFile,
    TextProject,
    TextSegment,
    TextSession,
)
from tests.fixtures.factories import invite_and_join, make_key
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


def test_create_read_list_and_change_a_project(client, owner):
    body = create_project(
        client,
        owner.headers,
        name="  Hotel reviews  ",
        type="CLASS",
        description="Guests on rooms",
        language="de",
        segmentation="paragraph",
    )
    assert body["name"] == "Hotel reviews" and body["type"] == "CLASS"
    assert body["language"] == "de" and body["segmentation"] == "paragraph"
    assert body["role"] == "MANAGER" and body["org_id"] == owner.org_id
    counts = [body[k] for k in ("document_count", "class_count", "label_count", "session_count")]
    assert counts == [0, 0, 0, 0]

    pid = body["id"]
    add_classes(client, owner.headers, pid, ["Room", "Staff"])
    r = client.get(f"{API}/{pid}", headers=owner.headers)
    assert r.status_code == 200 and r.json()["class_count"] == 2

    r = client.patch(
        f"{API}/{pid}",
        json={"name": "Hotels", "description": "", "segmentation": "none", "type": "CLASS"},
        headers=owner.headers,
    )
    assert r.status_code == 200, r.text
    changed = r.json()
    assert changed["name"] == "Hotels" and changed["description"] == ""
    assert changed["segmentation"] == "none" and changed["language"] == "de"

    r = client.patch(f"{API}/{pid}", json={"type": "LABEL"}, headers=owner.headers)
    assert r.status_code == 422 and r.json()["error"]["details"]["reason"] == "TYPE_FIXED"


def test_absa_projects_come_with_their_fixed_sentiments(client, owner):
    pid = create_project(client, owner.headers, type="ABSA")["id"]
    r = client.get(f"{API}/{pid}/labels", headers=owner.headers)
    labels = r.json()["items"]
    assert [(x["name"], x["fixed"]) for x in labels] == [
        ("POS", True),
        ("NEG", True),
        ("NEU", True),
        ("CONFLICT", True),
    ]
    assert client.get(f"{API}/{pid}", headers=owner.headers).json()["label_count"] == 4


def test_list_filters_by_type_and_name_and_pages(client, owner):
    for name, type_ in [("Alpha reviews", "CLASS"), ("Beta tweets", "LABEL"), ("Gamma", "ABSA")]:
        create_project(client, owner.headers, name=name, type=type_)
    create_project(client, owner.headers, name="Delta", description="More reviews 100%_x")
    page = client.get(API, headers=owner.headers).json()
    assert page["total"] == 4 and {p["role"] for p in page["items"]} == {"MANAGER"}
    assert page["items"][0]["name"] == "Delta"  # the newest first

    def names(**query):
        r = client.get(API, params=query, headers=owner.headers)
        assert r.status_code == 200, r.text
        return sorted(p["name"] for p in r.json()["items"])

    assert names(type="LABEL") == ["Beta tweets"]
    assert names(q="REVIEWS") == ["Alpha reviews", "Delta"]
    assert names(q="100%_") == ["Delta"]
    assert names(q="%") == ["Delta"]
    assert names(q="reviews", type="CLASS") == ["Alpha reviews", "Delta"]
    second = client.get(API, params={"limit": 3, "offset": 3}, headers=owner.headers).json()
    assert len(second["items"]) == 1 and second["has_more"] is False
    assert client.get(API, params={"type": "TOPIC"}, headers=owner.headers).status_code == 422


def test_bad_input_is_refused_with_the_envelope(client, owner):
    def create(body):
        return client.post(API, json=body, headers=owner.headers)

    for body in (
        {"name": "", "type": "CLASS"},
        {"name": "   ", "type": "CLASS"},
        {"name": "x" * 201, "type": "CLASS"},
        {"name": "A", "type": "TOPIC"},
        {"name": "A"},
        {"name": "A", "type": "CLASS", "segmentation": "word"},
        {"name": "A", "type": "CLASS", "language": "english!"},
        {"name": "A\x00", "type": "CLASS"},
        {"name": "A", "type": "CLASS", "owner": "me"},
    ):
        r = create(body)
        assert r.status_code == 422, (body, r.text)
        assert r.json()["error"]["code"] == "VALIDATION_ERROR"
    assert create({"name": "Same", "type": "CLASS"}).status_code == 201
    r = create({"name": "Same", "type": "LABEL"})
    assert r.status_code == 409 and r.json()["error"]["details"]["name"] == "Same"
    other = create({"name": "Other", "type": "CLASS"}).json()
    r = client.patch(f"{API}/{other['id']}", json={"name": "Same"}, headers=owner.headers)
    assert r.status_code == 409
    assert client.get(f"{API}/0", headers=owner.headers).status_code == 422
    assert client.get(f"{API}/999999", headers=owner.headers).status_code == 404


def test_delete_needs_confirmation_and_takes_everything(client, owner, db, settings):
    pid = create_project(client, owner.headers)["id"]
    classes = add_classes(client, owner.headers, pid, ["Good"])
    docs = add_documents(db, pid, ["One. Two.", "Three."])
    sid = add_session(db, pid, docs)
    annotate(db, sid, segments_of(db, docs[0])[0].id, [{"class_id": classes[0]["id"]}])
    storage = storage_for(settings)
    key = f"text/{owner.org_id}/upload.csv"
    storage.path(key).parent.mkdir(parents=True, exist_ok=True)
    storage.path(key).write_text("text\nhello\n")
    with db.session() as s:
        s.add(
            TextFile(
                id="0b0f5f3e-0000-4000-8000-000000000001",
                org_id=owner.org_id,
                project_id=pid,
                file_name="upload.csv",
                format="csv",
                storage_key=key,
                expires_at=datetime.now(UTC) + timedelta(days=1),
            )
        )
    other = create_project(client, owner.headers)["id"]
    kept = add_documents(db, other, ["Stays here."])

    r = client.delete(f"{API}/{pid}", headers=owner.headers)
    assert r.status_code == 409, r.text
    error = r.json()["error"]
    assert "2 documents and 1 sessions" in error["message"]
    assert error["details"] | {"reason": "CONFIRM_DELETE"} == {
        "reason": "CONFIRM_DELETE",
        "documents": 2,
        "sessions": 1,
        "classes": 1,
        "labels": 0,
        "groups": 0,
    }
    assert client.get(f"{API}/{pid}", headers=owner.headers).status_code == 200

    r = client.delete(f"{API}/{pid}", params={"confirm": "true"}, headers=owner.headers)
    assert r.status_code == 204, r.text
    assert client.get(f"{API}/{pid}", headers=owner.headers).status_code == 404
    with db.session() as s:
        for model in (TextDocument, TextSegment, TextSession, TextAnnotation, TextFile):
            left = s.scalar(select(func.count()).where(model.project_id == pid))
            assert left == 0, model
        assert s.scalar(select(func.count()).where(TextDocument.id.in_(kept))) == 1
        event = s.scalars(
            select(AuditEvent).where(AuditEvent.action == "text_project.delete")
        ).one()
        assert event.details["before"]["documents"] == 2
    assert not storage.path(key).exists()


def test_roles_viewer_annotator_and_other_organizations(client, owner, other_org_owner):
    pid = create_project(client, owner.headers, name="Roles")["id"]
    viewer = invite_and_join(client, owner, "viewer")
    member = invite_and_join(client, owner, "member")

    r = client.get(f"{API}/{pid}", headers=viewer.headers)
    assert r.status_code == 200 and r.json()["role"] == "VIEWER"
    assert client.get(API, headers=viewer.headers).json()["total"] == 1
    assert (
        client.post(API, json={"name": "V", "type": "CLASS"}, headers=viewer.headers).status_code
        == 403
    )
    for call in (
        lambda h: client.patch(f"{API}/{pid}", json={"name": "X"}, headers=h),
        lambda h: client.delete(f"{API}/{pid}", params={"confirm": "true"}, headers=h),
        lambda h: client.put(
            f"{API}/{pid}/members/{viewer.user_id}", json={"role": "MANAGER"}, headers=h
        ),
    ):
        r = call(viewer.headers)
        assert r.status_code == 403 and r.json()["error"]["details"]["role"] == "VIEWER"

    r = client.put(
        f"{API}/{pid}/members/{member.user_id}", json={"role": "ANNOTATOR"}, headers=owner.headers
    )
    assert r.status_code == 200, r.text
    assert client.get(f"{API}/{pid}", headers=member.headers).json()["role"] == "ANNOTATOR"
    r = client.patch(f"{API}/{pid}", json={"name": "X"}, headers=member.headers)
    assert r.status_code == 403 and r.json()["error"]["details"]["required"] == "MANAGER"

    for call in (
        lambda h: client.get(f"{API}/{pid}", headers=h),
        lambda h: client.patch(f"{API}/{pid}", json={"name": "Mine"}, headers=h),
        lambda h: client.delete(f"{API}/{pid}", params={"confirm": "true"}, headers=h),
        lambda h: client.get(f"{API}/{pid}/members", headers=h),
    ):
        r = call(other_org_owner.headers)
        assert r.status_code == 404 and r.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
    assert client.get(API, headers=other_org_owner.headers).json()["total"] == 0


def test_api_keys_read_with_read_and_manage_with_write(client, owner):
    pid = create_project(client, owner.headers)["id"]
    reader = {"Authorization": f"Bearer {make_key(client, owner, ['read'])}"}
    writer = {"Authorization": f"Bearer {make_key(client, owner, ['write'])}"}
    assert client.get(f"{API}/{pid}", headers=reader).json()["role"] == "VIEWER"
    assert client.patch(f"{API}/{pid}", json={"name": "K"}, headers=reader).status_code == 403
    assert client.patch(f"{API}/{pid}", json={"name": "K"}, headers=writer).status_code == 200
    assert (
        client.post(API, json={"name": "By key", "type": "LABEL"}, headers=writer).status_code
        == 201
    )
    ingest = {"Authorization": f"Bearer {make_key(client, owner, ['ingest'])}"}
    assert client.get(f"{API}/{pid}", headers=ingest).status_code == 403


def test_members_list_effective_roles_that_match_what_each_may_do(client, db, owner):
    pid = create_project(client, owner.headers)["id"]
    admin = invite_and_join(client, owner, "admin")
    member = invite_and_join(client, owner, "member")
    viewer = invite_and_join(client, owner, "viewer")
    annotator = invite_and_join(client, owner, "member")
    promoted = invite_and_join(client, owner, "viewer")
    for person, role in ((annotator, "ANNOTATOR"), (promoted, "ANNOTATOR")):
        r = client.put(
            f"{API}/{pid}/members/{person.user_id}", json={"role": role}, headers=owner.headers
        )
        assert r.status_code == 200, r.text
        assert r.json()["explicit_role"] == role and r.json()["role"] == role

    r = client.get(f"{API}/{pid}/members", headers=viewer.headers)
    assert r.status_code == 200, r.text
    listed = {m["user_id"]: m for m in r.json()["items"]}
    assert r.json()["total"] == 6
    expected = {
        owner.user_id: ("MANAGER", None, "owner"),
        admin.user_id: ("MANAGER", None, "admin"),
        member.user_id: ("MANAGER", None, "member"),
        viewer.user_id: ("VIEWER", None, "viewer"),
        annotator.user_id: ("ANNOTATOR", "ANNOTATOR", "member"),
        promoted.user_id: ("ANNOTATOR", "ANNOTATOR", "viewer"),
    }
    assert {
        uid: (m["role"], m["explicit_role"], m["org_role"]) for uid, m in listed.items()
    } == expected
    assert listed[admin.user_id]["email"] == admin.email
    # The list says what access.py decides for each person.
    for person in (owner, admin, member, viewer, annotator, promoted):
        seen = client.get(f"{API}/{pid}", headers=person.headers).json()["role"]
        assert seen == listed[person.user_id]["role"]

    r = client.put(
        f"{API}/{pid}/members/{admin.user_id}", json={"role": "VIEWER"}, headers=owner.headers
    )
    assert r.status_code == 422 and r.json()["error"]["details"]["reason"] == "ORG_ADMIN"
    r = client.put(
        f"{API}/{pid}/members/{member.user_id}", json={"role": "OWNER"}, headers=owner.headers
    )
    assert r.status_code == 422
    stranger = new_org(client)
    r = client.put(
        f"{API}/{pid}/members/{stranger.user_id}", json={"role": "VIEWER"}, headers=owner.headers
    )
    assert r.status_code == 404
    r = client.put(
        f"{API}/{pid}/members/{annotator.user_id}", json={"role": "MANAGER"}, headers=member.headers
    )
    assert r.status_code == 200 and r.json()["role"] == "MANAGER"
    r = client.put(
        f"{API}/{pid}/members/{member.user_id}", json={"role": "VIEWER"}, headers=annotator.headers
    )
    assert r.status_code == 200
    assert client.get(f"{API}/{pid}", headers=member.headers).json()["role"] == "VIEWER"

    assert (
        client.delete(f"{API}/{pid}/members/{promoted.user_id}", headers=owner.headers).status_code
        == 204
    )
    assert client.get(f"{API}/{pid}", headers=promoted.headers).json()["role"] == "VIEWER"
    assert (
        client.delete(f"{API}/{pid}/members/{promoted.user_id}", headers=owner.headers).status_code
        == 404
    )

    with db.session() as s:
        project = s.get(TextProject, pid)
        principal = Principal(org_id=owner.org_id, user_id=member.user_id, role=Role.member)
        assert access.project_role(s, principal, project).value == "VIEWER"
        actions = set(s.scalars(select(AuditEvent.action).where(AuditEvent.org_id == owner.org_id)))
    assert {"text_project.member.set", "text_project.member.remove"} <= actions
