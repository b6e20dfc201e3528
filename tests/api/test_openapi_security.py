"""The OpenAPI document declares how to authenticate, so that "Authorize" and "Try it
out" in /api/v1/docs send the credentials the API reads."""

from __future__ import annotations

from tests.fixtures.factories import make_key, signup

PUBLIC = {
    ("/api/v1/health", "get"),
    ("/api/v1/auth/signup", "post"),
    ("/api/v1/auth/login", "post"),
    ("/api/v1/auth/refresh", "post"),
    ("/api/v1/auth/password/forgot", "post"),
    ("/api/v1/auth/password/reset", "post"),
    ("/api/v1/invitations/accept", "post"),
    # A dashboard's share link: the token in the path is the credential.
    ("/api/v1/shared/dashboards/{token}", "get"),
    ("/api/v1/shared/dashboards/{token}/tiles/{tile_id}/data", "get"),
    # The chat widget: the use case's hash names it, the chat's token (X-Chat-Token) the chat.
    ("/api/v1/chat/widget/{hash}", "get"),
    ("/api/v1/chat/widget/{hash}/chats", "post"),
    ("/api/v1/chat/widget/{hash}/chats/{chat_id}/messages", "get"),
    ("/api/v1/chat/widget/{hash}/chats/{chat_id}/messages", "post"),
    ("/api/v1/chat/widget/{hash}/chats/{chat_id}/messages/{message_id}", "patch"),
    ("/api/v1/chat/widget/{hash}/chats/{chat_id}/finish", "post"),
}


def test_openapi_declares_the_security_schemes_and_protected_operations_use_them(client):
    doc = client.get("/api/v1/openapi.json").json()
    schemes = doc["components"]["securitySchemes"]
    assert schemes["bearer"] == {
        "type": "http",
        "scheme": "bearer",
        "description": schemes["bearer"]["description"],
    }
    assert schemes["apiKeyHeader"] == {
        "type": "apiKey",
        "in": "header",
        "name": "X-Auth-Token",
        "description": schemes["apiKeyHeader"]["description"],
    }
    assert schemes["apiKeyQuery"]["in"] == "query" and schemes["apiKeyQuery"]["name"] == "token"

    operations = {
        (path, method): op for path, ops in doc["paths"].items() for method, op in ops.items()
    }
    for key, op in operations.items():
        names = {name for requirement in op.get("security", []) for name in requirement}
        if key in PUBLIC:
            assert not names, key
        else:
            # Either credential will do (a list of requirements is an OR).
            assert {"bearer", "apiKeyHeader"} <= names, key
            assert names <= set(schemes), key
    # Only ingestion takes the key in the query string.
    assert {"apiKeyQuery"} in [set(r) for r in operations[("/api/v1/metrics", "post")]["security"]]
    assert all(
        "apiKeyQuery" not in r for r in operations[("/api/v1/metrics/overview", "get")]["security"]
    )


def test_the_declared_schemes_authenticate_as_documented(client):
    account = signup(client)
    key = make_key(client, account, ["read"])
    for headers in (
        {"Authorization": f"Bearer {account.access_token}"},
        {"Authorization": f"Bearer {key}"},
        {"X-Auth-Token": key},
    ):
        assert client.get("/api/v1/metrics/overview", headers=headers).status_code == 200
    assert client.get("/api/v1/metrics/overview").status_code == 401
