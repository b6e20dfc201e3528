"""Helpers of the chat tests: a use case and its knowledge through the API."""

from __future__ import annotations

API = "/api/v1/chat"


def make_use_case(client, account, **body) -> dict:
    r = client.post(f"{API}/use-cases", json={"name": "Manolo's", **body}, headers=account.headers)
    assert r.status_code == 201, r.text
    return r.json()


def add(client, account, use_case_id: int, **body):
    return client.post(
        f"{API}/use-cases/{use_case_id}/knowledge", json=body, headers=account.headers
    )


def add_sentence(client, account, use_case_id: int, text: str, title: str = "") -> dict:
    r = add(client, account, use_case_id, kind="sentence", text=text, title=title)
    assert r.status_code == 201, r.text
    return r.json()


def pieces(client, account, use_case_id: int) -> dict:
    r = client.get(f"{API}/use-cases/{use_case_id}/knowledge", headers=account.headers)
    assert r.status_code == 200, r.text
    return r.json()
