"""Security headers on every answer (UI pages, static files, API JSON, errors).

The UI loads its scripts (ES modules) and its stylesheet from augury itself and sets
no inline script, inline ``<style>`` or ``style=""`` attribute (the scripts set sizes
through the CSSOM, ``el.style.width = …``, which a policy does not govern), so its
policy is strict: ``'self'`` only. The graph PNG is shown from a ``blob:`` URL (it needs the
bearer token, so it is fetched, not linked). The interactive API docs are third-party
pages: Swagger UI starts from a small inline script (allowed by its hash, computed from
the page that is sent) and ReDoc injects ``<style>`` elements and a ``blob:`` worker,
so those two pages get a policy of their own (:func:`docs_csp`).
"""

from __future__ import annotations

import base64
import hashlib
import re

UI_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "connect-src 'self'; font-src 'self'; object-src 'none'; base-uri 'self'; "
    "form-action 'self'; frame-ancestors 'none'"
)

FRAMEABLE_PREFIX = "/share/"
"""Pages anyone may put in an iframe: a dashboard's read-only share link (its token in
the path is all it reads). Every other page refuses framing (clickjacking)."""
FRAMEABLE_CSP = UI_CSP.replace("frame-ancestors 'none'", "frame-ancestors *")

_INLINE_SCRIPT = re.compile(rb"<script>(.*?)</script>", re.S)


def docs_csp(html: bytes) -> str:
    """The policy of an API docs page: its own inline scripts by hash, inline styles."""
    hashes = " ".join(
        "'sha256-" + base64.b64encode(hashlib.sha256(body).digest()).decode() + "'"
        for body in _INLINE_SCRIPT.findall(html)
    )
    return (
        f"default-src 'self'; script-src 'self' {hashes}; style-src 'self' 'unsafe-inline'; "
        "img-src 'self' data: blob:; worker-src 'self' blob:; connect-src 'self'; "
        "font-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; "
        "frame-ancestors 'none'"
    ).replace("  ", " ")


SECURITY_HEADERS: list[tuple[bytes, bytes]] = [
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"strict-origin-when-cross-origin"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


class SecurityHeadersMiddleware:
    """Add the headers to every HTTP answer; a route's own CSP (the docs pages) wins."""

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {name.lower() for name, _ in headers}
                frameable = scope["path"].startswith(FRAMEABLE_PREFIX)
                added = [
                    h
                    for h in SECURITY_HEADERS
                    if h[0] not in present and not (frameable and h[0] == b"x-frame-options")
                ]
                if b"content-security-policy" not in present:
                    csp = FRAMEABLE_CSP if frameable else UI_CSP
                    added.append((b"content-security-policy", csp.encode()))
                message = {**message, "headers": headers + added}
            await send(message)

        await self.app(scope, receive, send_with_headers)
