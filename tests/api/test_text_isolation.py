"""Organization isolation and roles for every route of text projects and notifications.

The routes are not listed by hand: every operation the OpenAPI document has under
``/api/v1/text`` and ``/api/v1/notifications`` is called, with the ids of one of
everything built in organization A. Another organization's owner (JWT) and admin key
get 404 on each (a key may get 403 on a route for people), A's data is unchanged
afterwards, and A's viewer gets 403 on every write. A route added later is covered the
day it is added.
"""

from __future__ import annotations

import pytest

from augury.notifications import service as notifications
from augury.text.models import TextProject
from augury.text.services import review
from tests.api import isolation
from tests.fixtures.factories import Account, invite_and_join
from tests.text.helpers import labeled, run_job

API = "/api/v1/text/projects"
PREFIXES = ("/api/v1/text", "/api/v1/notifications")
PERSONAL = "/api/v1/notifications"
"""Routes on the caller's own notifications: a viewer manages theirs."""
READ_BY_POST = {("POST", "/api/v1/text/projects/{project_id}/analyze")}
"""POSTs that change nothing (an ad-hoc analysis stores nothing): a viewer may call them."""


def _ok(r, *codes):
    assert r.status_code in (codes or (200, 201)), r.text
    return r.json()


def _first(body) -> dict:
    """The first object of a list answer (a page's ``items`` or a bare array)."""
    return (body["items"] if isinstance(body, dict) else body)[0]


@pytest.fixture
def world(client, db, owner: Account) -> dict:
    return build_world(client, db, owner)


def build_world(client, db, owner: Account) -> dict:
    """One of everything of a text project in ``owner``'s organization, by the path
    parameter that names it (the fuzz run uses it too)."""
    h = owner.headers
    project = _ok(client.post(API, json={"name": "secret reviews", "type": "CLASS"}, headers=h))
    pid = project["id"]
    food = _first(_ok(client.post(f"{API}/{pid}/classes", json=[{"name": "food"}], headers=h)))
    urgent = _first(_ok(client.post(f"{API}/{pid}/labels", json=[{"name": "urgent"}], headers=h)))
    docs = {"documents": [{"text": "The soup was cold. Staff were kind.", "id": "d1"}]}
    created = _ok(client.post(f"{API}/{pid}/documents", json=docs, headers=h))
    doc_id = _first(created)["id"]
    doc = _ok(client.get(f"{API}/{pid}/documents/{doc_id}?details=segments", headers=h))
    segment_id = doc["segments"][0]["id"]
    group = _ok(
        client.post(f"{API}/{pid}/groups", json={"name": "g", "document_ids": [doc_id]}, headers=h)
    )
    session = _ok(
        client.post(
            f"{API}/{pid}/sessions",
            json={"name": "s", "document_ids": [doc_id], "assignees": [owner.user_id]},
            headers=h,
        )
    )
    files = {"file": ("r.csv", b"text\nGreat place.\n")}
    file = _ok(client.post(f"{API}/{pid}/files", files=files, headers=h))
    _ok(client.put(f"{API}/{pid}/review/config", json={"enabled": True}, headers=h))
    with db.session() as s:
        (item,) = review.submit(
            s,
            s.get(TextProject, pid),
            [
                {
                    "document_id": doc_id,
                    "segment_id": segment_id,
                    "tags": [{"class_id": food["id"], "confidence": 0.1}],
                }
            ],
        )
        note = notifications.notify(
            s, org_id=owner.org_id, user_id=owner.user_id, kind="test", title="secret"
        )
        ids = {"item_id": item.id, "notification_id": note.id}
    ids |= _model_and_analysis(client, db, owner, pid, food["id"], group["id"])
    return {
        "project_id": pid,
        "class_id": food["id"],
        "label_id": urgent["id"],
        "document_id": doc_id,
        "segment_id": segment_id,
        "page": 0,
        "group_id": group["id"],
        "session_id": session["id"],
        "file_id": file["id"],
        "user_id": owner.user_id,
        **ids,
    }


MEALS = {
    "food": ["The soup was cold.", "Lovely pasta.", "Bland curry.", "Fresh bread."],
    "service": ["Rude waiter.", "Staff were kind.", "Slow service.", "Friendly host."],
}


def _model_and_analysis(client, db, owner: Account, pid: int, food_id: int, group_id: int):
    """A trained model (on a second class and eight labeled sentences) and a finished
    batch analysis of the group with it."""
    h = owner.headers
    service = _first(
        _ok(client.post(f"{API}/{pid}/classes", json=[{"name": "service"}], headers=h))
    )
    classes = {"food": food_id, "service": service["id"]}
    sid = labeled(db, pid, MEALS, classes, owner.user_id)
    model = _ok(
        client.post(f"{API}/{pid}/models", json={"name": "m", "session_ids": [sid]}, headers=h), 202
    )
    run_job(db, client.app.state.settings, model["job_id"])
    body = {"name": "a", "group_id": group_id, "model_id": model["model"]["id"]}
    analysis = _ok(client.post(f"{API}/{pid}/analyses", json=body, headers=h), 202)
    run_job(db, client.app.state.settings, analysis["job_id"])
    return {"model_id": model["model"]["id"], "analysis_id": analysis["analysis"]["id"]}


def _operations(client) -> list[tuple[str, str]]:
    return isolation.operations(client, PREFIXES)


def _snapshot(client, owner: Account, ids: dict) -> list:
    pid, h = ids["project_id"], owner.headers
    paths = (
        f"{API}/{pid}",
        f"{API}/{pid}/classes",
        f"{API}/{pid}/labels",
        f"{API}/{pid}/documents?details=segments,meta,tags",
        f"{API}/{pid}/groups",
        f"{API}/{pid}/sessions",
        f"{API}/{pid}/review/items",
        f"{API}/{pid}/members",
        f"{API}/{pid}/models",
        f"{API}/{pid}/models/{ids['model_id']}/report",
        f"{API}/{pid}/analyses",
        f"{API}/{pid}/analyses/{ids['analysis_id']}/results",
        "/api/v1/notifications",
    )
    return [client.get(p, headers=h).json() for p in paths]


def test_every_text_route_is_exercised(client, world):
    ops = _operations(client)
    assert len(ops) >= 40
    isolation.assert_every_id_known(ops, world)


@pytest.mark.parametrize("as_key", [False, True], ids=["jwt", "api_key"])
def test_another_organization_gets_404_everywhere(client, owner, other_org_owner, world, as_key):
    intruder = isolation.intruder(client, other_org_owner, as_key)
    before = _snapshot(client, owner, world)
    listed = client.get(API, headers=intruder).json()["items"]
    assert world["project_id"] not in {p["id"] for p in listed}
    notes = client.get("/api/v1/notifications", headers=intruder)
    if notes.status_code == 200:
        assert world["notification_id"] not in {n["id"] for n in notes.json()["items"]}
    for method, template in _operations(client):
        path = isolation.fill(template, world)
        if path is None:
            continue
        r = client.request(method, path, headers=intruder)
        isolation.assert_hidden(r, method, template, as_key)
    assert _snapshot(client, owner, world) == before


def test_a_viewer_reads_but_every_write_is_403(client, owner, world):
    viewer = invite_and_join(client, owner, "viewer")
    project = f"{API}/{world['project_id']}"
    assert client.get(project, headers=viewer.headers).json()["role"] == "VIEWER"
    before = _snapshot(client, owner, world)
    writes = [
        (m, t)
        for m, t in _operations(client)
        if m != "GET" and not t.startswith(PERSONAL) and (m, t) not in READ_BY_POST
    ]
    assert len(writes) >= 25
    for method, template in writes:
        path = isolation.fill(template, world) or template
        r = client.request(method, path, headers=viewer.headers)
        # A viewer is not assigned to the session, and the review items are not theirs:
        # those answer 404 (they do not exist for the viewer), everything else 403.
        assert r.status_code in (403, 404), (method, template, r.status_code, r.text)
        if r.status_code == 404:
            assert "/sessions/{session_id}" in template or "/items/{item_id}" in template, (
                method,
                template,
            )
    for method, template in READ_BY_POST:
        r = client.request(
            method,
            isolation.fill(template, world),
            json={"texts": ["Cold soup."]},
            headers=viewer.headers,
        )
        assert r.status_code == 200, (template, r.text)
    assert _snapshot(client, owner, world) == before
