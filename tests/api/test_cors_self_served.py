"""The global CORS middleware leaves the chat widget's routes, which answer CORS from
each use case's allowed origins, alone; everything else keeps the operator's
``cors_origins``."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route
from starlette.testclient import TestClient

from augury.api.cors import CORSExceptSelfServed

OPERATOR = "https://dash.example.com"
SHOP = "https://shop.example.com"


def _widget(request):
    if request.method == "OPTIONS":
        return Response(status_code=204, headers={"Access-Control-Allow-Origin": SHOP})
    return PlainTextResponse("widget", headers={"Access-Control-Allow-Origin": SHOP})


def _app():
    app = Starlette(
        routes=[
            Route("/api/v1/chat/widget/{hash}", _widget, methods=["GET", "OPTIONS"]),
            Route("/api/v1/metrics", lambda r: PlainTextResponse("metrics")),
        ]
    )
    app.add_middleware(
        CORSExceptSelfServed, options=dict(allow_origins=[OPERATOR], allow_methods=["GET", "POST"])
    )
    return app


def test_the_widget_answers_its_own_preflight_and_the_rest_keeps_cors_origins():
    client = TestClient(_app())
    preflight = {"Origin": SHOP, "Access-Control-Request-Method": "POST"}

    widget = client.options("/api/v1/chat/widget/abc", headers=preflight)
    assert widget.status_code == 204
    assert widget.headers["access-control-allow-origin"] == SHOP
    got = client.get("/api/v1/chat/widget/abc", headers={"Origin": SHOP})
    assert got.headers["access-control-allow-origin"] == SHOP

    refused = client.options("/api/v1/metrics", headers=preflight)
    assert refused.status_code == 400
    allowed = client.options("/api/v1/metrics", headers={**preflight, "Origin": OPERATOR})
    assert allowed.headers["access-control-allow-origin"] == OPERATOR
    plain = client.get("/api/v1/metrics", headers={"Origin": SHOP})
    assert "access-control-allow-origin" not in plain.headers
