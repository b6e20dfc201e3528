"""Organization isolation and roles for every route of predictive models.

As for text projects, the routes are not listed by hand: every operation the OpenAPI
document has under ``/api/v1/models``, ``/applications``, ``/subscriptions`` and
``/summaries`` is called with the ids of one of everything built in organization A (a
subscription, a dataset, a model with a READY version). Another organization's owner
(JWT) and admin key get 404 on each, A's data is unchanged afterwards, and A's viewer
gets 403 on every write (the POSTs that store nothing, ``READ_BY_POST``, answer them).
"""

from __future__ import annotations

import pytest

from tests.api import isolation
from tests.fixtures.factories import Account, invite_and_join
from tests.predictive.helpers import churn, ready_model, subscribe

PREFIXES = ("/api/v1/models", "/api/v1/applications", "/api/v1/subscriptions", "/api/v1/summaries")
READ_BY_POST = {
    ("POST", "/api/v1/models/plan"),
    ("POST", "/api/v1/models/{model_id}/predict"),
    ("POST", "/api/v1/models/{model_id}/what-if"),
}
"""POSTs that store nothing but a usage count: a viewer may call them."""


@pytest.fixture
def world(client, owner: Account) -> dict:
    return build_world(client, owner)


def build_world(client, owner: Account) -> dict:
    """A subscription, a dataset and a model with a READY version in ``owner``'s
    organization, by the path parameter that names each (the fuzz run uses it too)."""
    h = owner.headers
    subscription = subscribe(client, h, "classification")
    built = ready_model(client, client.app.state.settings, h, name="secret churn")
    return {
        "subscription_id": subscription["id"],
        "model_id": built["model"]["id"],
        "number": built["version"]["number"],
        "dataset_id": built["dataset"]["id"],
    }


def _operations(client) -> list[tuple[str, str]]:
    return isolation.operations(client, PREFIXES)


def _fill(path: str, ids: dict) -> str | None:
    filled = isolation.fill(path, ids)
    return filled + f"?versions={ids['number']}" if path.endswith("/compare") else filled


def _body(template: str, world: dict) -> dict | None:
    row = churn(3).drop(columns=["churned"]).iloc[0].to_dict()
    row = {k: (None if v != v else v) for k, v in row.items()}  # NaN -> null
    if template.endswith("/predict"):
        return {"rows": [row]}
    if template.endswith("/what-if"):
        return {"rows": [row], "changes": [{"column": "usage", "percent": 10}]}
    if template.endswith("/plan"):
        return {
            "dataset_id": world["dataset_id"],
            "target": "churned",
            "application": "classification",
        }
    if template.endswith("/predictions"):
        return {"dataset_id": world["dataset_id"]}
    if template.endswith("{subscription_id}"):
        return {"status": "paused"}
    if template.endswith("{model_id}"):
        return {"description": "pwned"}
    if template.endswith("/versions"):
        return {}
    return None


def _snapshot(client, owner: Account, ids: dict) -> list:
    h, mid = owner.headers, ids["model_id"]
    paths = (
        "/api/v1/subscriptions",
        "/api/v1/models",
        f"/api/v1/models/{mid}",
        f"/api/v1/models/{mid}/versions",
        f"/api/v1/models/{mid}/versions/{ids['number']}",
    )
    return [client.get(p, headers=h).json() for p in paths]


def test_every_models_route_is_exercised(client, world):
    ops = _operations(client)
    assert len(ops) >= 20
    isolation.assert_every_id_known(ops, world)


@pytest.mark.parametrize("as_key", [False, True], ids=["jwt", "api_key"])
def test_another_organization_gets_404_everywhere(client, owner, other_org_owner, world, as_key):
    intruder = isolation.intruder(client, other_org_owner, as_key)
    before = _snapshot(client, owner, world)
    listed = client.get("/api/v1/models", headers=intruder).json()["items"]
    assert world["model_id"] not in {m["id"] for m in listed}
    subs = client.get("/api/v1/subscriptions", headers=intruder).json()
    assert world["subscription_id"] not in {s["id"] for s in subs}
    summary = client.get("/api/v1/summaries", headers=intruder)
    assert summary.status_code == 200 and "secret" not in summary.text
    for method, template in _operations(client):
        path = _fill(template, world)
        if path is None:
            continue
        r = client.request(method, path, json=_body(template, world), headers=intruder)
        isolation.assert_hidden(r, method, template, as_key)
    # Org-level creates name A's objects by id in their bodies: still another org's 404/422.
    for template in ("/api/v1/models/plan", "/api/v1/models"):
        body = _body("/plan", world) | {"name": "stolen"}
        if template.endswith("/plan"):
            body.pop("name")
        r = client.post(template, json=body, headers=intruder)
        assert r.status_code in (404, 409), (template, r.status_code, r.text)
    assert _snapshot(client, owner, world) == before


def test_a_viewer_reads_but_every_write_is_403(client, owner, world):
    viewer = invite_and_join(client, owner, "viewer")
    before = _snapshot(client, owner, world)
    ops = _operations(client)
    for method, template in ops:
        if method == "GET":
            path = _fill(template, world) or template
            r = client.get(path, headers=viewer.headers)
            assert r.status_code == 200, (template, r.status_code, r.text)
    writes = [(m, t) for m, t in ops if m != "GET" and (m, t) not in READ_BY_POST]
    assert len(writes) >= 12
    for method, template in writes:
        path = _fill(template, world) or template
        r = client.request(method, path, json=_body(template, world), headers=viewer.headers)
        assert r.status_code == 403, (method, template, r.status_code, r.text)
    for method, template in READ_BY_POST:
        path = _fill(template, world) or template
        r = client.request(method, path, json=_body(template, world), headers=viewer.headers)
        assert r.status_code == 200, (template, r.status_code, r.text)
    assert _snapshot(client, owner, world) == before
