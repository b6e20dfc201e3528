"""A use case's knowledge over HTTP: sentences at the end, several at once, files,
attachments of the organization (another's is a 404), text and title changes, delete
renumbers, move up and down swaps with the neighbour, tokens per piece and in total."""

from __future__ import annotations

import pytest

from augury.engines.chat.tokens import count
from tests.chat.helpers import API, add, add_sentence, make_use_case, pieces
from tests.fixtures.factories import invite_and_join

MENU = "We serve paella on Sundays. The kitchen closes at 23:00."


@pytest.fixture
def uc(client, owner) -> dict:
    return make_use_case(client, owner)


def _positions(client, owner, uc_id) -> list[tuple[int, str]]:
    return [(p["position"], p["text"]) for p in pieces(client, owner, uc_id)["items"]]


def test_sentences_go_at_the_end_with_their_tokens(client, owner, uc):
    a = add_sentence(client, owner, uc["id"], MENU, title="Menu")
    assert a["position"] == 1 and a["kind"] == "sentence" and a["title"] == "Menu"
    assert a["tokens"] == count(MENU) and a["passages"] == 1
    r = add(client, owner, uc["id"], sentences=["Parking is free.", "  We take cards.  "])
    assert r.status_code == 201, r.text
    added = r.json()
    assert [p["position"] for p in added] == [2, 3]
    assert added[1]["text"] == "We take cards."
    listed = pieces(client, owner, uc["id"])
    assert [p["position"] for p in listed["items"]] == [1, 2, 3]
    total = count(MENU) + count("Parking is free.") + count("We take cards.")
    assert listed["tokens"] == total
    got = client.get(f"{API}/use-cases/{uc['id']}", headers=owner.headers).json()
    assert got["tokens"] == total
    assert got["index"]["status"] == "ready" and got["index"]["passages"] == 3
    assert got["index"]["version"] == 2 and got["index"]["indexed_at"]


def test_update_delete_and_move(client, owner, uc):
    ids = [add_sentence(client, owner, uc["id"], t)["id"] for t in ("one", "two", "three", "four")]
    r = client.patch(
        f"{API}/use-cases/{uc['id']}/knowledge/{ids[1]}",
        json={"text": "two, longer now", "title": "Second"},
        headers=owner.headers,
    )
    assert r.status_code == 200, r.text
    assert r.json()["tokens"] == count("two, longer now") and r.json()["title"] == "Second"

    move = f"{API}/use-cases/{uc['id']}/knowledge/{ids[2]}/move"
    r = client.post(move, json={"direction": "up"}, headers=owner.headers)
    assert r.status_code == 200, r.text
    assert [p["text"] for p in r.json()["items"]] == ["one", "three", "two, longer now", "four"]
    r = client.post(move, json={"direction": "Up"}, headers=owner.headers)  # Anaimo's case
    assert [p["text"] for p in r.json()["items"]][:2] == ["three", "one"]
    r = client.post(move, json={"direction": "up"}, headers=owner.headers)  # first: stays
    assert [p["text"] for p in r.json()["items"]][0] == "three"
    last = f"{API}/use-cases/{uc['id']}/knowledge/{ids[3]}/move"
    r = client.post(last, json={"direction": "down"}, headers=owner.headers)  # last: stays
    assert [p["position"] for p in r.json()["items"]] == [1, 2, 3, 4]
    assert r.json()["items"][-1]["text"] == "four"
    r = client.post(move, json={"direction": "sideways"}, headers=owner.headers)
    assert r.status_code == 422

    r = client.delete(f"{API}/use-cases/{uc['id']}/knowledge/{ids[0]}", headers=owner.headers)
    assert r.status_code == 204
    assert _positions(client, owner, uc["id"]) == [
        (1, "three"),
        (2, "two, longer now"),
        (3, "four"),
    ]
    listed = pieces(client, owner, uc["id"])
    assert listed["tokens"] == sum(count(t) for t in ("three", "two, longer now", "four"))
    r = client.get(f"{API}/use-cases/{uc['id']}/knowledge/{ids[0]}", headers=owner.headers)
    assert r.status_code in (404, 405)
    r = client.delete(f"{API}/use-cases/{uc['id']}/knowledge/{ids[0]}", headers=owner.headers)
    assert r.status_code == 404


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"kind": "sentence"},
        {"kind": "sentence", "text": "   "},
        {"kind": "document"},
        {"kind": "document", "ref_id": 1, "text": "x"},
        {"kind": "file", "text": "x"},
        {"sentences": []},
        {"sentences": ["ok", ""]},
        {"kind": "sentence", "text": "x", "extra": 1},
    ],
)
def test_bad_bodies_are_422(client, owner, uc, body):
    r = add(client, owner, uc["id"], **body)
    assert r.status_code == 422, r.text
    assert r.json()["error"]["code"] == "VALIDATION_ERROR"


def test_a_long_sentence_is_accepted_and_cut_into_passages(client, owner, uc):
    words = ("the restaurant opens at nine and serves paella on sundays " * 10_000).split()
    text = " ".join(words[:100_000]) + "."
    piece = add_sentence(client, owner, uc["id"], text)
    assert piece["tokens"] == count(text)
    assert piece["passages"] > 100
    got = client.get(f"{API}/use-cases/{uc['id']}", headers=owner.headers).json()
    assert got["tokens"] == piece["tokens"]
    # Over the limit (1,000,000 characters): a clear 422 (or 413 at the body limit).
    r = add(client, owner, uc["id"], kind="sentence", text="word " * 200_001)
    assert r.status_code in (413, 422)
    assert r.json()["error"]["code"] in ("VALIDATION_ERROR", "PAYLOAD_TOO_LARGE")


def test_uploaded_files(client, owner, uc):
    url = f"{API}/use-cases/{uc['id']}/knowledge/files"
    md = b"# Opening hours\nWe open at 9.\n\n# Returns\nReturns take 30 days.\n"
    r = client.post(url, files={"file": ("faq.md", md)}, headers=owner.headers)
    assert r.status_code == 201, r.text
    piece = r.json()
    assert piece["kind"] == "file" and piece["title"] == "faq.md" and piece["position"] == 1
    assert "Returns take 30 days." in piece["text"] and piece["passages"] == 2
    page = b"<html><body><h1>Menu</h1><script>x()</script><p>Paella &amp; wine</p></body></html>"
    r = client.post(url, files={"file": ("menu.html", page)}, headers=owner.headers)
    assert r.status_code == 201, r.text
    assert "Paella & wine" in r.json()["text"] and "x()" not in r.json()["text"]
    csv = b"dish,price\npaella,12\ntortilla,6\n"
    r = client.post(url, files={"file": ("prices.csv", csv)}, headers=owner.headers)
    assert r.status_code == 201, r.text
    assert "dish: paella; price: 12" in r.json()["text"]
    r = client.post(url, files={"file": ("empty.txt", b"   \n")}, headers=owner.headers)
    assert r.status_code == 422
    r = client.post(url, files={"file": ("x.bin", b"\x00\x01\x02" * 100)}, headers=owner.headers)
    assert r.status_code == 422
    assert [p["position"] for p in pieces(client, owner, uc["id"])["items"]] == [1, 2, 3]


def test_text_of_an_attachment_cannot_be_changed(client, owner, uc, text_document):
    r = add(client, owner, uc["id"], kind="document", ref_id=text_document)
    assert r.status_code == 201, r.text
    piece = r.json()
    assert piece["kind"] == "document" and piece["ref_id"] == text_document
    assert piece["tokens"] > 0 and piece["passages"] >= 1 and piece["text"] == ""
    r = client.patch(
        f"{API}/use-cases/{uc['id']}/knowledge/{piece['id']}",
        json={"text": "x"},
        headers=owner.headers,
    )
    assert r.status_code == 422
    r = client.patch(
        f"{API}/use-cases/{uc['id']}/knowledge/{piece['id']}",
        json={"title": "Policy"},
        headers=owner.headers,
    )
    assert r.status_code == 200 and r.json()["title"] == "Policy"


def test_attachments_of_another_organization_are_404(
    client, owner, other_org_owner, uc, text_project
):
    theirs_project = _project(client, other_org_owner, "theirs")
    theirs_doc = _document(client, other_org_owner, theirs_project, "Their secret.")
    theirs_dataset = _dataset(client, other_org_owner, "theirs")
    for kind, ref in (
        ("document", theirs_doc),
        ("project", theirs_project),
        ("dataset", theirs_dataset),
        ("document", 999_999),
    ):
        r = add(client, owner, uc["id"], kind=kind, ref_id=ref)
        assert r.status_code == 404, (kind, r.text)
        assert r.json()["error"]["code"] == "RESOURCE_NOT_FOUND"
    assert pieces(client, owner, uc["id"])["total"] == 0
    # Another organization's use case and pieces are 404 too.
    piece = add_sentence(client, owner, uc["id"], "hello")
    for method, path in [
        ("GET", "/knowledge"),
        ("PATCH", f"/knowledge/{piece['id']}"),
        ("DELETE", f"/knowledge/{piece['id']}"),
        ("POST", f"/knowledge/{piece['id']}/move"),
        ("POST", "/reindex"),
        ("GET", "/retrieve?q=hello"),
    ]:
        body = {"direction": "up"} if path.endswith("move") else {"title": "x"}
        r = client.request(
            method,
            f"{API}/use-cases/{uc['id']}{path}",
            json=body if method in ("PATCH", "POST") else None,
            headers=other_org_owner.headers,
        )
        assert r.status_code == 404, (method, path, r.text)


def test_a_piece_of_another_use_case_is_404(client, owner, uc):
    other = make_use_case(client, owner, name="other")
    piece = add_sentence(client, owner, other["id"], "hello")
    r = client.patch(
        f"{API}/use-cases/{uc['id']}/knowledge/{piece['id']}",
        json={"title": "x"},
        headers=owner.headers,
    )
    assert r.status_code == 404


def test_project_and_dataset_attachments(client, owner, uc, text_project):
    _document(client, owner, text_project, "Refunds are paid within five days.")
    dataset = _dataset(client, owner, "prices")
    r = add(client, owner, uc["id"], kind="project", ref_id=text_project)
    assert r.status_code == 201, r.text
    assert r.json()["passages"] >= 1 and r.json()["title"] == "Support"
    r = add(client, owner, uc["id"], kind="dataset", ref_id=dataset)
    assert r.status_code == 201, r.text
    assert r.json()["passages"] >= 1 and r.json()["title"] == "prices"
    found = client.get(
        f"{API}/use-cases/{uc['id']}/retrieve",
        params={"q": "price of tortilla"},
        headers=owner.headers,
    ).json()
    assert "tortilla" in found["items"][0]["text"]


def test_viewer_lists_knowledge_but_cannot_change_it(client, owner, uc):
    piece = add_sentence(client, owner, uc["id"], "hello")
    viewer = invite_and_join(client, owner, "viewer")
    assert pieces(client, viewer, uc["id"])["total"] == 1
    r = client.delete(f"{API}/use-cases/{uc['id']}/knowledge/{piece['id']}", headers=viewer.headers)
    assert r.status_code == 403


# --- the organization's objects to attach ------------------------------------------------------


def _project(client, account, name: str) -> int:
    r = client.post(
        "/api/v1/text/projects",
        json={"name": name, "type": "CLASS"},
        headers=account.headers,
    )
    assert r.status_code == 201, r.text
    return r.json()["id"]


def _document(client, account, project_id: int, text: str) -> int:
    r = client.post(
        f"/api/v1/text/projects/{project_id}/documents",
        json={"documents": [{"text": text}]},
        headers=account.headers,
    )
    assert r.status_code in (200, 201), r.text
    return r.json()["items"][0]["id"]


def _dataset(client, account, name: str) -> int:
    files = {"file": (f"{name}.csv", b"dish,price\npaella,12\ntortilla,6\n")}
    r = client.post("/api/v1/datasets", data={"name": name}, files=files, headers=account.headers)
    assert r.status_code == 201, r.text
    return r.json()["id"]


@pytest.fixture
def text_project(client, owner) -> int:
    return _project(client, owner, "Support")


@pytest.fixture
def text_document(client, owner, text_project) -> int:
    return _document(client, owner, text_project, "Our refund policy: refunds take 5 days.")


def test_file_limits(db, client, owner, uc, tmp_path):
    from augury.accounts.principal import Principal
    from augury.chat.models import ChatUseCase
    from augury.chat.services import knowledge
    from augury.errors import PayloadTooLarge

    big = tmp_path / "big.txt"
    big.write_text("word " * 200_001)
    principal = Principal(org_id=owner.org_id, user_id=owner.user_id)
    with db.session() as session:
        use_case = session.get(ChatUseCase, uc["id"])
        with pytest.raises(PayloadTooLarge):
            knowledge.add_file(
                session=session,
                settings=None,
                principal=principal,
                use_case=use_case,
                path=big,
                file_name="big.txt",
                size=knowledge.MAX_FILE_BYTES + 1,
            )
        with pytest.raises(PayloadTooLarge, match="1000000"):
            knowledge.add_file(
                session=session,
                settings=None,
                principal=principal,
                use_case=use_case,
                path=big,
                file_name="big.txt",
                size=big.stat().st_size,
            )
    docx = tmp_path / "menu.docx"
    import zipfile

    with zipfile.ZipFile(docx, "w") as z:
        z.writestr(
            "word/document.xml",
            "<w:document><w:body><w:p><w:r><w:t>Paella &amp; wine</w:t></w:r></w:p>"
            "<w:p><w:r><w:t>Open daily</w:t></w:r></w:p></w:body></w:document>",
        )
    r = client.post(
        f"{API}/use-cases/{uc['id']}/knowledge/files",
        files={"file": ("menu.docx", docx.read_bytes())},
        headers=owner.headers,
    )
    assert r.status_code == 201, r.text
    assert r.json()["text"] == "Paella & wine\nOpen daily"


def test_find_a_use_case_by_id_hash_or_name(db, client, owner, uc):
    from augury.chat.services import use_cases
    from augury.errors import NotFound

    digits = make_use_case(client, owner, name=str(uc["id"]))
    with db.session() as session:
        find = lambda ref: use_cases.find(session=session, org_id=owner.org_id, ref=ref).id  # noqa: E731
        assert find(str(uc["id"])) == uc["id"]  # an id beats a name of digits
        assert find(uc["hash"]) == uc["id"]
        assert find("Manolo's") == uc["id"]
        assert find(digits["hash"]) == digits["id"]
        with pytest.raises(NotFound):
            find("nobody")
        with pytest.raises(NotFound):
            use_cases.find(session=session, org_id=owner.org_id + 1000, ref=str(uc["id"]))
