"""``/data-sources`` through HTTP: create, read, find, change, delete, test, divert;
credentials masked everywhere (answers, audit log, errors, logs)."""

from __future__ import annotations

import logging

import pytest

from tests.collectors.api_world import (
    API,
    PASSWORD,
    make_source,
    make_stream,
    orders_db,
)
from tests.fixtures.factories import invite_and_join

PG = {
    "name": "warehouse",
    "type": "psql",
    "config": {"host": "db.example.com", "database": "sales", "user": "reader"},
    "secret": {"password": PASSWORD},
}


@pytest.fixture
def shop(settings):
    return orders_db(settings)


def _audit(client, owner) -> list[dict]:
    r = client.get(
        f"{API}/audit", params={"action": "collectors.*", "limit": 100}, headers=owner.headers
    )
    assert r.status_code == 200, r.text
    return r.json()["items"]


def test_create_get_list_find_and_delete(client, owner, shop):
    created = make_source(client, owner)
    assert created["type"] == "sqlite"
    assert created["config"] == {"path": "shop.db"}
    assert created["secret"] == {}
    assert created["createTime"] == created["modifyTime"] > 1_700_000_000
    assert "streams" not in created
    make_source(client, owner, name="Archive Shop")

    got = client.get(f"{API}/data-sources/{created['id']}", headers=owner.headers).json()
    assert got["streams"] == []
    page = client.get(f"{API}/data-sources", headers=owner.headers).json()
    assert [s["name"] for s in page["items"]] == ["Archive Shop", "shop"]
    assert page["total"] == 2
    assert client.get(f"{API}/data-sources?q=arch", headers=owner.headers).json()["total"] == 1
    assert client.get(f"{API}/data-sources?type=psql", headers=owner.headers).json()["total"] == 0

    found = client.get(f"{API}/data-sources/find?searchQuery=SHOP", headers=owner.headers).json()
    assert isinstance(found, list) and {s["name"] for s in found} == {"shop", "Archive Shop"}
    none = client.get(f"{API}/data-sources/find?searchQuery=zz", headers=owner.headers).json()
    assert none == []

    r = client.delete(f"{API}/data-sources/{created['id']}", headers=owner.headers)
    assert r.status_code == 204
    r = client.get(f"{API}/data-sources/{created['id']}", headers=owner.headers)
    assert r.status_code == 404
    actions = [e["action"] for e in _audit(client, owner)]
    assert "collectors.source.create" in actions and "collectors.source.delete" in actions


def test_names_are_unique_and_config_is_checked(client, owner, shop):
    make_source(client, owner)
    body = {"name": "shop", "type": "sqlite", "config": {"path": "other.db"}}
    r = client.post(f"{API}/data-sources", json=body, headers=owner.headers)
    assert r.status_code == 409
    assert r.json()["error"]["details"]["reason"] == "name_taken"

    bad = {"name": "x", "type": "sqlite", "config": {"path": "../etc/passwd"}}
    r = client.post(f"{API}/data-sources", json=bad, headers=owner.headers)
    assert r.status_code == 422
    assert r.json()["error"]["details"]["field"] == "config.path"
    r = client.post(
        f"{API}/data-sources",
        json={"name": "x", "type": "sqlite", "config": {"path": "a.db", "host": "h"}},
        headers=owner.headers,
    )
    assert r.status_code == 422
    assert r.json()["error"]["details"]["field"] == "config.host"
    r = client.post(
        f"{API}/data-sources", json={"name": "x", "type": "oracle"}, headers=owner.headers
    )
    assert r.status_code == 422
    # a credential given in the config would be stored in clear: refused
    leaky = {**PG, "config": {**PG["config"], "password": PASSWORD}, "secret": {}}
    r = client.post(f"{API}/data-sources", json=leaky, headers=owner.headers)
    assert r.status_code == 422
    assert r.json()["error"]["details"]["field"] == "config.password"
    assert PASSWORD not in r.text
    unknown = {**PG, "secret": {"token": "abc"}}
    r = client.post(f"{API}/data-sources", json=unknown, headers=owner.headers)
    assert r.status_code == 422
    assert r.json()["error"]["details"]["field"] == "secret.token"


def test_the_secret_is_masked_merged_and_never_audited(client, owner, caplog):
    caplog.set_level(logging.DEBUG)
    r = client.post(f"{API}/data-sources", json=PG, headers=owner.headers)
    assert r.status_code == 201, r.text
    source = r.json()
    assert source["secret"] == {"password": "***"}
    assert source["config"]["port"] == 5432 and source["config"]["ssl"] == "prefer"
    sid = source["id"]
    assert PASSWORD not in r.text

    # a change that leaves the secret out keeps it
    r = client.patch(
        f"{API}/data-sources/{sid}",
        json={"name": "dwh", "config": {**PG["config"], "port": 6543}},
        headers=owner.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["name"] == "dwh"
    assert r.json()["config"]["port"] == 6543
    assert r.json()["secret"] == {"password": "***"}
    # a new value replaces it (answered masked)
    r = client.patch(
        f"{API}/data-sources/{sid}",
        json={"secret": {"password": "s3cond-pass"}},
        headers=owner.headers,
    )
    assert r.json()["secret"] == {"password": "***"}
    # the stored value really is the new one (encrypted at rest)
    from augury.collectors.models import DataSource
    from augury.collectors.services import access

    with client.app.state.db.session() as session:
        row = session.get(DataSource, sid)
        assert "s3cond-pass" not in row.secret
        assert access.decrypt_secret(client.app.state.settings, row.secret) == {
            "password": "s3cond-pass"
        }
    # null removes it
    r = client.patch(
        f"{API}/data-sources/{sid}", json={"secret": {"password": None}}, headers=owner.headers
    )
    assert r.json()["secret"] == {}

    # a test of a saved source: a loopback host is refused before connecting, and the
    # message holds no credential
    client.patch(
        f"{API}/data-sources/{sid}",
        json={"config": {**PG["config"], "host": "127.0.0.1"}, "secret": {"password": PASSWORD}},
        headers=owner.headers,
    )
    r = client.post(f"{API}/data-sources/{sid}/test", headers=owner.headers)
    assert r.status_code == 200
    assert r.json()["ok"] is False
    assert r.json()["code"] == "source_refused"
    assert PASSWORD not in r.text

    listing = client.get(f"{API}/data-sources", headers=owner.headers)
    found = client.get(f"{API}/data-sources/find?searchQuery=d", headers=owner.headers)
    got = client.get(f"{API}/data-sources/{sid}", headers=owner.headers)
    for answer in (listing, found, got):
        assert PASSWORD not in answer.text and "s3cond-pass" not in answer.text
    events = _audit(client, owner)
    text = str(events)
    assert PASSWORD not in text and "s3cond-pass" not in text
    changed = [
        e for e in events if e["action"] == "collectors.source.update" and "secret" in str(e)
    ]
    assert changed, events
    assert all("***" in str(e["details"]) for e in changed)
    assert PASSWORD not in caplog.text and "s3cond-pass" not in caplog.text


def test_test_before_saving(client, owner, shop):
    ok = client.post(
        f"{API}/data-sources/test",
        json={"name": "t", "type": "sqlite", "config": {"path": "shop.db"}},
        headers=owner.headers,
    )
    assert ok.status_code == 200, ok.text
    assert ok.json()["ok"] is True
    assert "orders" in ok.json()["objects"]
    assert "SQLite" in ok.json()["detail"]

    missing = client.post(
        f"{API}/data-sources/test",
        json={"name": "t", "type": "sqlite", "config": {"path": "nowhere.db"}},
        headers=owner.headers,
    )
    assert missing.status_code == 200
    assert missing.json()["ok"] is False
    assert missing.json()["code"] == "source_unreachable"
    assert missing.json()["message"]

    invalid = client.post(
        f"{API}/data-sources/test",
        json={"name": "t", "type": "sqlite", "config": {}},
        headers=owner.headers,
    )
    assert invalid.status_code == 200
    assert invalid.json() == {
        "ok": False,
        "code": "config_invalid",
        "message": invalid.json()["message"],
        "field": "config.path",
    }

    saved = make_source(client, owner)
    r = client.post(f"{API}/data-sources/{saved['id']}/test", headers=owner.headers)
    assert r.json()["ok"] is True
    # nothing was saved by the tests before saving
    assert client.get(f"{API}/data-sources", headers=owner.headers).json()["total"] == 1


def test_delete_refuses_a_source_in_use(client, owner, shop):
    source = make_source(client, owner)
    stream = make_stream(client, owner, source["id"])
    r = client.delete(f"{API}/data-sources/{source['id']}", headers=owner.headers)
    assert r.status_code == 409
    assert r.json()["error"]["details"]["reason"] == "source_in_use"
    assert r.json()["error"]["details"]["streams"] == [stream["id"]]
    got = client.get(f"{API}/data-sources/{source['id']}", headers=owner.headers).json()
    assert got["streams"] == [{"id": stream["id"], "name": "orders", "type": "sqlite"}]


def test_divert_streams(client, owner, settings, shop):
    orders_db(settings, "shop2.db")
    a = make_source(client, owner, name="a")
    b = make_source(client, owner, name="b", path="shop2.db")
    s1 = make_stream(client, owner, a["id"], name="one")
    s2 = make_stream(client, owner, a["id"], name="two")
    pg = client.post(f"{API}/data-sources", json=PG, headers=owner.headers).json()

    url = f"{API}/data-sources/divertStreams"
    r = client.post(
        f"{url}?fromDataSrc={a['id']}&toDataSrc={b['id']}", json=[s1["id"]], headers=owner.headers
    )
    assert r.status_code == 200, r.text
    assert r.json() == {"moved": [s1["id"]]}
    moved = client.get(f"{API}/data-streams/{s1['id']}", headers=owner.headers).json()
    assert moved["dataSourceId"] == b["id"]
    stayed = client.get(f"{API}/data-streams/{s2['id']}", headers=owner.headers).json()
    assert stayed["dataSourceId"] == a["id"]

    # another type
    r = client.post(
        f"{url}?fromDataSrc={a['id']}&toDataSrc={pg['id']}", json=[s2["id"]], headers=owner.headers
    )
    assert r.status_code == 422
    assert r.json()["error"]["details"]["reason"] == "type_mismatch"
    # a stream that is not the source's
    r = client.post(
        f"{url}?fromDataSrc={a['id']}&toDataSrc={b['id']}", json=[s1["id"]], headers=owner.headers
    )
    assert r.status_code == 404
    # a source that does not exist
    r = client.post(
        f"{url}?fromDataSrc={a['id']}&toDataSrc=99999", json=[s2["id"]], headers=owner.headers
    )
    assert r.status_code == 404
    assert any(e["action"] == "collectors.stream.divert" for e in _audit(client, owner))


def test_sources_need_the_admin_role(client, owner, shop):
    source = make_source(client, owner)
    member = invite_and_join(client, owner, "member")
    h = member.headers
    body = {"name": "m", "type": "sqlite", "config": {"path": "shop.db"}}
    assert client.post(f"{API}/data-sources", json=body, headers=h).status_code == 403
    assert client.post(f"{API}/data-sources/test", json=body, headers=h).status_code == 403
    sid = source["id"]
    assert client.patch(f"{API}/data-sources/{sid}", json={}, headers=h).status_code == 403
    assert client.post(f"{API}/data-sources/{sid}/test", headers=h).status_code == 403
    assert client.delete(f"{API}/data-sources/{sid}", headers=h).status_code == 403
    # members read sources and make streams on them
    assert client.get(f"{API}/data-sources/{sid}", headers=h).status_code == 200
    make_stream(client, member, sid)


def test_anyone_of_the_organization_lists_what_a_source_holds(client, owner, shop):
    """The stream builder lists a source's tables for members and viewers too (they may
    not test it): the test's objects and detail, or its failure, never the config or
    the credentials."""
    source = make_source(client, owner)
    for role in ("viewer", "member"):
        person = invite_and_join(client, owner, role)
        r = client.get(f"{API}/data-sources/{source['id']}/objects", headers=person.headers)
        assert r.status_code == 200, r.text
        assert r.json() == {"ok": True, "objects": ["orders"], "detail": r.json()["detail"]}
        assert "SQLite" in r.json()["detail"]
    # a source that fails: the test's answer, the credential scrubbed from it
    r = client.post(
        f"{API}/data-sources",
        json={**PG, "config": {**PG["config"], "host": "127.0.0.1"}},
        headers=owner.headers,
    )
    assert r.status_code == 201, r.text
    r = client.get(f"{API}/data-sources/{r.json()['id']}/objects", headers=person.headers)
    assert r.status_code == 200
    assert r.json() == {"ok": False, "code": "source_refused", "message": r.json()["message"]}
    assert PASSWORD not in r.text and "config" not in r.json() and "secret" not in r.json()
    gone = make_source(client, owner, name="gone", path="gone.db")
    r = client.get(f"{API}/data-sources/{gone['id']}/objects", headers=person.headers)
    assert (r.json()["ok"], r.json()["code"]) == (False, "source_unreachable")


def test_credentials_the_server_can_no_longer_read(client, owner):
    """A source saved under another server secret: answered without its credentials,
    and set again by a change that gives them."""
    r = client.post(f"{API}/data-sources", json=PG, headers=owner.headers)
    sid = r.json()["id"]
    from augury.collectors.models import DataSource

    with client.app.state.db.session() as session:
        session.get(DataSource, sid).secret = "gAAAAA-not-a-token-of-this-server"
    got = client.get(f"{API}/data-sources/{sid}", headers=owner.headers).json()
    assert got["secret"] == {} and got["secretUnreadable"] is True
    tested = client.post(f"{API}/data-sources/{sid}/test", headers=owner.headers).json()
    assert tested["ok"] is False and tested["code"] == "source_auth"
    r = client.patch(f"{API}/data-sources/{sid}", json={"name": "n"}, headers=owner.headers)
    assert r.status_code == 422
    assert r.json()["error"]["details"]["field"] == "secret"
    r = client.patch(
        f"{API}/data-sources/{sid}", json={"secret": {"password": "again"}}, headers=owner.headers
    )
    assert r.status_code == 200, r.text
    assert r.json()["secret"] == {"password": "***"}
    assert "secretUnreadable" not in r.json()
