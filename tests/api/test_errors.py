"""Bad input gets the documented error shape, the right status, and changes nothing."""

from __future__ import annotations

import pytest


def _assert_envelope(r, status: int, code: str):
    assert r.status_code == status, r.text
    body = r.json()
    assert set(body) == {"error"}
    assert set(body["error"]) == {"code", "message", "details"}
    assert body["error"]["code"] == code
    assert body["error"]["message"]
    assert "Traceback" not in r.text


def test_malformed_json(client, owner):
    r = client.post(
        "/api/v1/jobs",
        content=b'{"type": "demo.work", ',
        headers={**owner.headers, "Content-Type": "application/json"},
    )
    _assert_envelope(r, 422, "VALIDATION_ERROR")


def test_unknown_fields_are_refused(client, owner):
    r = client.post("/api/v1/jobs", json={"type": "demo.work", "parms": {}}, headers=owner.headers)
    _assert_envelope(r, 422, "VALIDATION_ERROR")
    assert r.json()["error"]["details"]["errors"][0]["loc"] == ["body", "parms"]
    r = client.post(
        "/api/v1/jobs", json={"type": "demo.work", "params": {"stepz": 3}}, headers=owner.headers
    )
    _assert_envelope(r, 422, "VALIDATION_ERROR")
    r = client.post("/api/v1/jobs", json={"type": "no.such.type"}, headers=owner.headers)
    _assert_envelope(r, 422, "VALIDATION_ERROR")
    assert "demo.work" in r.json()["error"]["details"]["known_types"]
    assert client.get("/api/v1/jobs", headers=owner.headers).json()["total"] == 0


def test_oversized_body_is_413_and_stores_nothing(client, owner, settings):
    big = (
        b'{"type": "demo.work", "params": {"x": "' + b"a" * (settings.max_body_bytes + 10) + b'"}}'
    )
    r = client.post(
        "/api/v1/jobs", content=big, headers={**owner.headers, "Content-Type": "application/json"}
    )
    _assert_envelope(r, 413, "PAYLOAD_TOO_LARGE")

    def chunks():
        for _ in range(settings.max_body_bytes // 65536 + 2):
            yield b"a" * 65536

    r = client.post(
        "/api/v1/jobs",
        content=chunks(),
        headers={**owner.headers, "Content-Type": "application/json"},
    )
    _assert_envelope(r, 413, "PAYLOAD_TOO_LARGE")
    assert client.get("/api/v1/jobs", headers=owner.headers).json()["total"] == 0


def test_not_found_and_method_not_allowed(client, owner):
    _assert_envelope(
        client.get("/api/v1/jobs/999999", headers=owner.headers), 404, "RESOURCE_NOT_FOUND"
    )
    _assert_envelope(
        client.get("/api/v1/no-such-thing", headers=owner.headers), 404, "RESOURCE_NOT_FOUND"
    )
    _assert_envelope(client.put("/api/v1/health"), 405, "METHOD_NOT_ALLOWED")


@pytest.mark.parametrize("query", ["limit=0", "limit=1001", "offset=-1", "limit=abc"])
def test_bad_pagination(client, owner, query):
    _assert_envelope(
        client.get(f"/api/v1/jobs?{query}", headers=owner.headers), 422, "VALIDATION_ERROR"
    )


def test_pagination_shape(client, owner):
    for _ in range(3):
        client.post("/api/v1/jobs", json={"type": "demo.work"}, headers=owner.headers)
    page = client.get("/api/v1/jobs?offset=1&limit=1", headers=owner.headers).json()
    assert page["total"] == 3 and page["offset"] == 1 and page["limit"] == 1
    assert page["has_more"] is True and len(page["items"]) == 1
    last = client.get("/api/v1/jobs?offset=2&limit=1", headers=owner.headers).json()
    assert last["has_more"] is False


def test_timestamps_are_rfc3339_utc(client, owner):
    job = client.post("/api/v1/jobs", json={"type": "demo.work"}, headers=owner.headers).json()
    assert job["created_at"].endswith("Z")
    from datetime import datetime

    assert datetime.fromisoformat(job["created_at"]).utcoffset().total_seconds() == 0


def test_unexpected_error_is_internal_error_without_trace(app, owner):
    from fastapi import APIRouter
    from fastapi.testclient import TestClient

    boom = APIRouter()

    @boom.get("/api/v1/boom")
    def explode():
        raise RuntimeError("secret internals")

    app.include_router(boom)
    with TestClient(app, raise_server_exceptions=False) as c:
        r = c.get("/api/v1/boom")
    _assert_envelope(r, 500, "INTERNAL_ERROR")
    assert "secret internals" not in r.text


def test_nul_characters_are_refused_on_every_database(client, owner):
    """PostgreSQL text cannot hold NUL: both dialects answer the same clean 422."""
    r = client.post(
        "/api/v1/api-keys", json={"name": "a\u0000b", "scopes": ["read"]}, headers=owner.headers
    )
    _assert_envelope(r, 422, "VALIDATION_ERROR")
    r = client.post(
        "/api/v1/jobs",
        json={"type": "demo.work", "params": {"kind": "\u0000"}},
        headers=owner.headers,
    )
    _assert_envelope(r, 422, "VALIDATION_ERROR")
    r = client.get("/api/v1/audit?action=auth%00login", headers=owner.headers)
    _assert_envelope(r, 422, "VALIDATION_ERROR")
    assert client.get("/api/v1/api-keys", headers=owner.headers).json()["total"] == 0


def test_datetimes_that_overflow_in_utc_are_refused(client, owner):
    r = client.get("/api/v1/jobs?created_after=9999-12-31T23:59:59-05:00", headers=owner.headers)
    _assert_envelope(r, 422, "VALIDATION_ERROR")
    r = client.get("/api/v1/audit?since=0001-01-01T00:00:00%2B05:00", headers=owner.headers)
    _assert_envelope(r, 422, "VALIDATION_ERROR")
    ok = client.get("/api/v1/jobs?created_after=2026-01-01T00:00:00%2B02:00", headers=owner.headers)
    assert ok.status_code == 200


@pytest.mark.parametrize("path", ["/api/v1/datasets", "/api/v1/analytics/charts"])
def test_a_created_after_date_is_read_as_utc_and_one_off_the_calendar_is_refused(
    client, owner, path
):
    # A date without an offset is UTC (it was a 500: a naive datetime reached a UTC
    # column); one whose offset leaves the calendar once converted is a 422.
    for accepted in ("2024-01-01", "2024-01-01T00:00:00+05:00"):
        r = client.get(path, params={"created_after": accepted}, headers=owner.headers)
        assert r.status_code == 200, r.text
    r = client.get(
        path, params={"created_after": "0001-01-01T00:00:00+00:01"}, headers=owner.headers
    )
    assert r.status_code == 422 and r.json()["error"]["code"] == "VALIDATION_ERROR"
