"""What the isolation tests of a domain's routes share (``test_text_isolation``,
``test_models_isolation``): the routes as the OpenAPI document lists them, their paths
filled with the ids of one organization's objects, and the answer another organization
must get on each.
"""

from __future__ import annotations

import re

from tests.fixtures.factories import Account, make_key

METHODS = {"get", "post", "put", "patch", "delete"}


def operations(client, prefixes: tuple[str, ...]) -> list[tuple[str, str]]:
    """Every ``(METHOD, path template)`` the OpenAPI document has under ``prefixes``: a
    route added later is covered the day it is added."""
    spec = client.get("/api/v1/openapi.json").json()
    return sorted(
        (method.upper(), path)
        for path, ops in spec["paths"].items()
        if path.startswith(prefixes)
        for method in ops
        if method in METHODS
    )


def path_ids(template: str) -> list[str]:
    """The path parameters a template names: ``{project_id}`` ..."""
    return re.findall(r"{(\w+)}", template)


def fill(template: str, ids: dict) -> str | None:
    """The template with ``ids`` put in, or None for one with no path parameter
    (org-level lists and creates: checked through their listings)."""
    names = path_ids(template)
    if not names:
        return None
    return template.format(**{n: ids[n] for n in names})


def assert_every_id_known(ops: list[tuple[str, str]], world: dict) -> None:
    for _, template in ops:
        for name in path_ids(template):
            assert name in world, f"no id for {{{name}}} in {template}: add it to the world"


def intruder(client, other_org_owner: Account, as_key: bool) -> dict:
    """Another organization's owner's headers: their JWT, or an admin key of theirs."""
    if as_key:
        return {"X-Auth-Token": make_key(client, other_org_owner, ["admin"])}
    return other_org_owner.headers


def assert_hidden(r, method: str, template: str, as_key: bool) -> None:
    """Another organization's answer: 404 RESOURCE_NOT_FOUND, or with a key 403
    PERMISSION_DENIED on a route for people (keys act for no one)."""
    allowed = {404: "RESOURCE_NOT_FOUND", 403: "PERMISSION_DENIED"} if as_key else {404: ""}
    assert r.status_code in allowed, (method, template, r.status_code, r.text)
    if r.status_code == 404:
        assert r.json()["error"]["code"] == "RESOURCE_NOT_FOUND", (method, template)
    else:
        assert r.json()["error"]["code"] == allowed[r.status_code], (method, template)
