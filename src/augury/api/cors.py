"""CORS for the API, except where a route answers CORS itself.

The operator's ``cors_origins`` open the API to their own web apps (Starlette's
:class:`~starlette.middleware.cors.CORSMiddleware`). The chat widget's public routes
(``/api/v1/chat/widget/…``) are embedded in the websites each use case allows
(its ``allowed_origins``), which only those routes know: this middleware passes them
through untouched, so the global middleware neither refuses their preflights (400 for
an origin not in ``cors_origins``) nor adds its headers to their answers.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.middleware.cors import CORSMiddleware

SELF_SERVED: tuple[str, ...] = ("/api/v1/chat/widget/",)
"""Path prefixes whose routes answer CORS themselves."""


class CORSExceptSelfServed:
    """Starlette's CORS middleware (``options``: its arguments) for every path but those
    under ``skip``, which go straight to the app."""

    def __init__(self, app, options: dict[str, Any], skip: Sequence[str] = SELF_SERVED) -> None:
        self.app = app
        self.cors = CORSMiddleware(app, **options)
        self.skip = tuple(skip)

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] == "http" and scope["path"].startswith(self.skip):
            await self.app(scope, receive, send)
            return
        await self.cors(scope, receive, send)
