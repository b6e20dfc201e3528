"""Chatbots in the global search: by name, description, welcome and handover words,
followed on rename and delete, never another organization's."""

from __future__ import annotations

from augury.chat.searchable import KIND
from tests.chat.helpers import API, make_use_case


def found(client, account, q: str) -> list[tuple[str, str]]:
    r = client.get("/api/v1/search", params={"q": q, "type": KIND}, headers=account.headers)
    assert r.status_code == 200, r.text
    return [(i["title"], i["link"]) for i in r.json()["items"]]


def test_use_cases_are_found(client, owner, other_org_owner):
    uc = make_use_case(
        client,
        owner,
        name="Manolo Restaurant",
        description="Bookings and menu",
        welcome="Hola, welcome to Manolo",
        words_for_manual=["waiter"],
    )
    link = f"/chat/{uc['id']}"
    for q in ("manolo", "bookings", "hola", "waiter"):
        assert found(client, owner, q) == [("Manolo Restaurant", link)], q
    assert found(client, other_org_owner, "manolo") == []
    r = client.patch(
        f"{API}/use-cases/{uc['id']}", json={"name": "Casa Pepe"}, headers=owner.headers
    )
    assert r.status_code == 200
    assert found(client, owner, "pepe") == [("Casa Pepe", link)]
    client.delete(f"{API}/use-cases/{uc['id']}", headers=owner.headers)
    assert found(client, owner, "pepe") == []
