"""Security headers on every answer and CORS closed unless an origin is configured."""

from __future__ import annotations

import base64
import hashlib
import re

import pytest
from fastapi.testclient import TestClient

from tests.fixtures.app import make_app


def _directives(csp: str) -> dict[str, list[str]]:
    return {
        part.split()[0]: part.split()[1:] for part in (p.strip() for p in csp.split(";")) if part
    }


def _assert_hardened(r):
    assert r.headers["x-frame-options"] == "DENY"
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "strict-origin-when-cross-origin"
    csp = _directives(r.headers["content-security-policy"])
    assert csp["default-src"] == ["'self'"]
    assert csp["frame-ancestors"] == ["'none'"]
    assert "'unsafe-inline'" not in csp["script-src"] and "'unsafe-eval'" not in csp["script-src"]
    return csp


def test_pages_static_files_api_answers_and_errors_carry_the_security_headers(client, owner):
    answers = [
        client.get("/login"),
        client.get("/"),
        client.get("/static/js/api.js"),
        client.get("/api/v1/health"),
        client.get("/api/v1/jobs", headers=owner.headers),
        client.get("/api/v1/jobs"),  # 401
        client.get("/api/v1/nowhere"),  # 404
        client.post("/api/v1/jobs", content=b"x" * 11_000_000, headers=owner.headers),  # 413
    ]
    assert [r.status_code for r in answers] == [200, 200, 200, 200, 200, 401, 404, 413]
    for r in answers:
        csp = _assert_hardened(r)
        # The UI's own pages need no inline style either.
        assert csp["style-src"] == ["'self'"]


def test_ui_templates_hold_no_inline_script_style_or_handler():
    from augury.web.router import TEMPLATES

    folder = TEMPLATES.env.loader.searchpath[0]
    import pathlib

    for path in pathlib.Path(folder).rglob("*.html"):
        text = path.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", text), path
        assert "<style" not in text, path
        assert not re.search(r"\sstyle=", text), path
        assert not re.search(r"\son[a-z]+=", text), path


@pytest.mark.parametrize("page", ["/api/v1/docs", "/api/v1/redoc"])
def test_docs_pages_allow_exactly_their_own_inline_scripts(client, page):
    r = client.get(page)
    csp = _assert_hardened(r)
    for body in re.findall(rb"<script>(.*?)</script>", r.content, re.S):
        digest = base64.b64encode(hashlib.sha256(body).digest()).decode()
        assert f"'sha256-{digest}'" in csp["script-src"]


PREFLIGHT = {
    "Access-Control-Request-Method": "POST",
    "Access-Control-Request-Headers": "authorization",
}


def test_cors_is_closed_by_default(client, owner):
    origin = {"Origin": "https://evil.example"}
    pre = client.options("/api/v1/jobs", headers={**origin, **PREFLIGHT})
    assert "access-control-allow-origin" not in pre.headers
    r = client.get("/api/v1/jobs", headers={**origin, **owner.headers})
    assert r.status_code == 200
    assert "access-control-allow-origin" not in r.headers


def test_cors_opens_for_each_configured_origin_only(settings, owner):
    settings.cors_origins = ["https://dash.example", "http://localhost:3000"]
    with TestClient(make_app(settings, run_jobs=False)) as c:
        for origin in settings.cors_origins:
            pre = c.options("/api/v1/jobs", headers={"Origin": origin, **PREFLIGHT})
            assert pre.status_code == 200
            assert pre.headers["access-control-allow-origin"] == origin
            assert "POST" in pre.headers["access-control-allow-methods"]
            assert "authorization" in pre.headers["access-control-allow-headers"].lower()
            r = c.get("/api/v1/jobs", headers={"Origin": origin, **owner.headers})
            assert r.headers["access-control-allow-origin"] == origin
            assert "access-control-allow-credentials" not in r.headers
            _assert_hardened(r)
        for other in ("https://evil.example", "https://dash.example.evil", "null"):
            pre = c.options("/api/v1/jobs", headers={"Origin": other, **PREFLIGHT})
            assert "access-control-allow-origin" not in pre.headers
            r = c.get("/api/v1/jobs", headers={"Origin": other, **owner.headers})
            assert "access-control-allow-origin" not in r.headers


def test_cors_origins_setting_reads_a_json_list(monkeypatch):
    from augury.config import Settings

    monkeypatch.setenv("AUGURY_CORS_ORIGINS", '["https://a.example","https://b.example"]')
    assert Settings().cors_origins == ["https://a.example", "https://b.example"]
