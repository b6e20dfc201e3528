"""The ASGI middleware that hands each authenticated request to the usage recorder.

Plain ASGI (no framework import): it reads what the app leaves in the request's scope,
the principal the auth dependency put in ``scope["state"]`` and the matched route,
whose template (``/api/v1/datasets/{dataset_id}``) keeps ids out of the counts.
Requests nobody authenticated (the UI's pages, static files, failed logins) are not
anyone's usage and are not counted.
"""

from __future__ import annotations

import time

from augury.usage.recorder import UsageRecorder


class UsageMiddleware:
    def __init__(self, app, recorder: UsageRecorder):
        self.app = app
        self.recorder = recorder

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        # The state dict is shared with the app's Request objects: made here, the
        # principal the auth dependency stores in it is visible after the answer.
        state = scope.setdefault("state", {})
        start = time.perf_counter()
        status = 500
        bytes_in = 0

        async def counting_receive():
            nonlocal bytes_in
            message = await receive()
            if message["type"] == "http.request":
                bytes_in += len(message.get("body", b""))
            return message

        async def capture(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, counting_receive, capture)
        finally:
            principal = state.get("principal")
            if principal is not None:
                self.recorder.record(
                    org_id=principal.org_id,
                    user_id=principal.user_id,
                    key_id=principal.key_id,
                    method=scope["method"],
                    route=route_template(scope),
                    status=status,
                    duration_ms=(time.perf_counter() - start) * 1000,
                    bytes_in=bytes_in,
                )


def route_template(scope) -> str:
    """The matched route's template under the prefixes it was included with.

    The route in the scope knows its own path (``/datasets/{dataset_id}``); the
    prefixes of the routers it was included in (``/api/v1``) are the leading segments
    of the real path that the template does not cover."""
    route = getattr(scope.get("route"), "path", None)
    if not route:
        return "unmatched"
    if ":path}" in route:  # a template that spans several segments: leave it as it is
        return route
    covered = route.strip("/").count("/") + 1 if route.strip("/") else 0
    segments = scope["path"].strip("/").split("/")
    prefix = segments[: max(len(segments) - covered, 0)]
    return "/" + "/".join([*prefix, route.strip("/")]).strip("/") if prefix else route
