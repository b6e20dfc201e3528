"""Uploaded files of a text project: upload, preview, pick a column (the seed's two
steps), over HTTP with real files made here: CSV in UTF-8 and Latin-1, TXT, JSON, a PDF
with a text layer and one without (read by Tesseract), binary files, a column that is
not there, expiry, roles and other projects."""

from __future__ import annotations

import io
import zlib
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import select

from augury import clock
from augury.text.models import TextFile
from augury.text.services import files as files_service
from tests.fixtures.factories import invite_and_join
from tests.text.helpers import API, create_project, new_org

CSV = (
    "another_column,document,review_source\n"
    ",the hotel is good,a\n"
    "test,the hotel is bad. Really bad!,b\n"
    "null,the hotel is ok,a\n"
)


@pytest.fixture
def owner(client):
    return new_org(client)


@pytest.fixture
def project(client, owner):
    return create_project(client, owner.headers, name="Hotels")


def upload(client, account, project, content: bytes | str, name: str = "reviews.csv"):
    data = content.encode() if isinstance(content, str) else content
    return client.post(
        f"{API}/{project['id']}/files",
        files={"file": (name, io.BytesIO(data), "application/octet-stream")},
        headers=account.headers,
    )


def make_documents(client, account, project, **body):
    return client.post(f"{API}/{project['id']}/documents", json=body, headers=account.headers)


def listed(client, account, project, details="meta"):
    url = f"{API}/{project['id']}/documents?details={details}"
    return client.get(url, headers=account.headers).json()["items"]


def text_pdf(pages: list[str]) -> bytes:
    """A PDF whose pages carry ``pages`` as real text (Helvetica, one line each)."""
    objects: list[bytes] = []
    page_refs = []
    font = 3
    for i, text in enumerate(pages):
        content = zlib.compress(f"BT /F1 12 Tf 50 700 Td ({text}) Tj ET".encode("latin-1"))
        content_obj = 4 + 2 * i
        page_refs.append(f"{5 + 2 * i} 0 R")
        objects.append(
            b"<< /Length %d /Filter /FlateDecode >>\nstream\n%s\nendstream"
            % (len(content), content)
        )
        objects.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] "
            b"/Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>" % (font, content_obj)
        )
    head = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Count %d /Kids [%s] >>" % (len(pages), " ".join(page_refs).encode()),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    body = bytearray(b"%PDF-1.5\n")
    offsets = []
    for number, obj in enumerate(head + objects, start=1):
        offsets.append(len(body))
        body += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    start = len(body)
    count = len(offsets) + 1
    body += b"xref\n0 %d\n0000000000 65535 f \n" % count
    body += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    body += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (count, start)
    return bytes(body)


def scanned_pdf(text: str) -> bytes:
    """A PDF page that is only a picture of ``text`` (no text layer), as a scanner makes."""
    page = Image.new("L", (1200, 300), 255)
    ImageDraw.Draw(page).text((40, 100), text, fill=0, font=ImageFont.load_default(size=56))
    out = io.BytesIO()
    page.save(out, format="PDF", resolution=150)
    return out.getvalue()


def test_upload_previews_the_file_then_a_column_becomes_documents(client, db, owner, project):
    r = upload(client, owner, project, CSV)
    assert r.status_code == 201, r.text
    body = r.json()
    assert body["format"] == "csv" and body["file_name"] == "reviews.csv"
    assert body["columns"] == ["another_column", "document", "review_source"]
    assert body["row_count"] == 3
    assert body["preview"] == [
        ["another_column", "document", "review_source"],
        [None, "the hotel is good", "a"],
        ["test", "the hotel is bad. Really bad!", "b"],
        ["null", "the hotel is ok", "a"],
    ]
    again = client.get(f"{API}/{project['id']}/files/{body['id']}", headers=owner.headers)
    assert again.json() == body

    r = make_documents(client, owner, project, file_id=body["id"], column=1)
    assert r.status_code == 201, r.text
    assert [d["segment_count"] for d in r.json()["items"]] == [1, 2, 1]
    docs = listed(client, owner, project)
    assert [d["text"] for d in docs] == [
        "the hotel is good",
        "the hotel is bad. Really bad!",
        "the hotel is ok",
    ]
    assert docs[0]["meta"] == {"review_source": "a"}
    assert docs[1]["meta"] == {"another_column": "test", "review_source": "b"}
    assert {d["source"] for d in docs} == {"file"}


def test_a_column_by_name_with_an_id_column(client, owner, project):
    csv = "ref;Review;Stars\nA-1;Très bon café. Service lent.;4\nA-2;Trop cher;2\n"
    file_id = upload(client, owner, project, csv.encode("latin-1")).json()["id"]
    r = make_documents(client, owner, project, file_id=file_id, column="review", id_column="ref")
    assert r.status_code == 201, r.text
    assert [d["external_id"] for d in r.json()["items"]] == ["A-1", "A-2"]
    docs = listed(client, owner, project)
    assert docs[0]["text"] == "Très bon café. Service lent."
    assert docs[0]["meta"] == {"Stars": "4"}
    r = make_documents(client, owner, project, file_id=file_id, column="Review", id_column="ref")
    assert r.status_code == 409 and r.json()["error"]["details"]["ids"] == ["A-1", "A-2"]


def test_a_column_that_does_not_exist_lists_the_columns(client, owner, project):
    file_id = upload(client, owner, project, CSV).json()["id"]
    for column in ("comment", 3, "7"):
        r = make_documents(client, owner, project, file_id=file_id, column=column)
        assert r.status_code == 422, column
        error = r.json()["error"]
        assert error["details"]["reason"] == "COLUMN_NOT_FOUND"
        assert error["details"]["columns"] == ["another_column", "document", "review_source"]
        assert "'document'" in error["message"]
    r = make_documents(client, owner, project, file_id=file_id, column=1, id_column="nope")
    assert r.status_code == 422


def test_empty_cells_are_refused_naming_the_row_unless_skipped(client, owner, project):
    file_id = upload(client, owner, project, CSV).json()["id"]
    r = make_documents(client, owner, project, file_id=file_id, column=0)
    assert r.status_code == 422
    assert (
        r.json()["error"]["details"] | {"reason": "EMPTY_TEXT", "index": 0}
        == (r.json()["error"]["details"])
    )
    assert listed(client, owner, project) == []
    r = make_documents(client, owner, project, file_id=file_id, column=0, skip_empty=True)
    assert r.status_code == 201 and r.json()["count"] == 2


def test_txt_and_json_files(client, owner, project):
    r = upload(client, owner, project, "Great food.\n\nSlow service. Cold soup.\n", "notes.txt")
    assert r.json()["format"] == "txt" and r.json()["columns"] == ["text"]
    r = make_documents(client, owner, project, file_id=r.json()["id"], column="text")
    assert [d["segment_count"] for d in r.json()["items"]] == [1, 2]

    rows = (
        '[{"id": 7, "text": "Nice pool.", "lang": "en"}, {"id": 8, "text": "Bof.", "lang": "fr"}]'
    )
    r = upload(client, owner, project, rows, "rows.json")
    assert r.json()["format"] == "json" and r.json()["row_count"] == 2
    r = make_documents(
        client, owner, project, file_id=r.json()["id"], column="text", id_column="id"
    )
    assert [d["external_id"] for d in r.json()["items"]] == ["7", "8"]
    assert listed(client, owner, project)[-1]["meta"] == {"lang": "fr"}


def test_a_pdf_is_one_document_whose_segments_know_their_page(client, owner, project):
    pdf = text_pdf(["Check-in was quick. The lobby is huge.", "Checkout was slow."])
    r = upload(client, owner, project, pdf, "stay.pdf")
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["format"], body["columns"], body["row_count"]) == ("pdf", ["text"], 1)
    r = make_documents(client, owner, project, file_id=body["id"], column="text")
    assert r.status_code == 201, r.text
    [doc] = listed(client, owner, project, details="segments")
    assert len(doc["pages"]) == 2
    pages = [[s["text"], s["page"]] for s in doc["segments"]]
    assert pages == [
        ["Check-in was quick.", 1],
        ["The lobby is huge.", 1],
        ["Checkout was slow.", 2],
    ]
    for start, end in doc["pages"]:
        assert doc["text"][start:end].strip()


def test_a_pdf_without_a_text_layer_is_read_by_ocr_once(client, db, owner, project, monkeypatch):
    r = upload(client, owner, project, scanned_pdf("Lovely quiet rooms"), "scan.pdf")
    assert r.status_code == 201, r.text
    assert "quiet" in r.json()["preview"][1][0].lower()

    def no_second_reading(*args, **kwargs):
        raise AssertionError("the scan was read again")

    monkeypatch.setattr("augury.engines.text.documents.read_table", no_second_reading)
    r = make_documents(client, owner, project, file_id=r.json()["id"], column="text")
    assert r.status_code == 201, r.text
    assert "rooms" in listed(client, owner, project)[0]["text"].lower()


def test_a_blank_scan_is_refused_with_a_clear_error(client, owner, project):
    out = io.BytesIO()
    Image.new("L", (600, 300), 255).save(out, format="PDF")
    r = upload(client, owner, project, out.getvalue(), "blank.pdf")
    assert r.status_code == 422
    assert r.json()["error"]["details"]["reason"] == "NO_TEXT"
    assert r.json()["error"]["message"]


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("data.csv", bytes(range(256)) * 40, "BINARY_FILE"),
        ("program.bin", b"\x7fELF\x02\x01\x01" + b"\x00" * 500, "BINARY_FILE"),
        ("old.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 500, None),
        ("empty.csv", b"", "EMPTY_FILE"),
        ("broken.json", b'[{"text": "a"', None),
        ("fake.pdf", b"%PDF-1.4\nnothing else", None),
    ],
)
def test_files_that_cannot_be_read_are_refused(client, db, owner, project, name, content, reason):
    r = upload(client, owner, project, content, name)
    assert r.status_code == 422, r.text
    if reason:
        assert r.json()["error"]["details"]["reason"] == reason
    with db.session() as s:
        assert s.scalars(select(TextFile)).all() == []


def test_not_a_multipart_upload(client, owner, project):
    r = client.post(f"{API}/{project['id']}/files", json={"file": "x"}, headers=owner.headers)
    assert r.status_code == 400


def expire(db, file_id: str, seconds_left: float) -> None:
    """Move a file's end to ``seconds_left`` from now (negative: already passed)."""
    with db.session() as s:
        s.get(TextFile, file_id).expires_at = clock.now() + timedelta(seconds=seconds_left)


def test_files_expire_after_a_day(client, db, owner, project):
    body = upload(client, owner, project, CSV).json()
    expires = datetime.fromisoformat(body["expires_at"])
    assert expires - datetime.now(UTC) == pytest.approx(
        files_service.FILE_TTL, abs=timedelta(minutes=5)
    )
    url = f"{API}/{project['id']}/files/{body['id']}"
    expire(db, body["id"], 60)
    assert client.get(url, headers=owner.headers).status_code == 200
    expire(db, body["id"], -1)
    r = client.get(url, headers=owner.headers)
    assert r.status_code == 404 and "upload it again" in r.json()["error"]["message"]
    r = make_documents(client, owner, project, file_id=body["id"], column=1)
    assert r.status_code == 404


def test_the_sweep_removes_expired_files_and_their_blobs(client, db, settings, owner, project):
    old = upload(client, owner, project, CSV).json()["id"]
    scan = upload(client, owner, project, text_pdf(["Old."]), "old.pdf").json()["id"]
    fresh = upload(client, owner, project, CSV).json()["id"]
    with db.session() as s:
        keys = {f.id: f.storage_key for f in s.scalars(select(TextFile))}
    root = settings.data_dir / "datasets"
    assert (root / keys[scan]).exists() and (root / (keys[scan] + ".read.json")).exists()
    expire(db, old, -1)
    expire(db, scan, -1)
    assert files_service.ExpiredFileSweep(settings).run(db) == 2
    with db.session() as s:
        assert [f.id for f in s.scalars(select(TextFile))] == [fresh]
    assert not (root / keys[old]).exists() and not (root / keys[scan]).exists()
    assert not (root / (keys[scan] + ".read.json")).exists()
    assert (root / keys[fresh]).exists()


def test_another_projects_file_and_roles(client, owner, project):
    file_id = upload(client, owner, project, CSV).json()["id"]
    other = create_project(client, owner.headers)
    assert (
        client.get(f"{API}/{other['id']}/files/{file_id}", headers=owner.headers).status_code == 404
    )
    r = make_documents(client, owner, other, file_id=file_id, column=1)
    assert r.status_code == 404

    viewer = invite_and_join(client, owner, "viewer")
    assert upload(client, viewer, project, CSV).status_code == 403
    assert (
        client.get(f"{API}/{project['id']}/files/{file_id}", headers=viewer.headers).status_code
        == 403
    )
    stranger = new_org(client)
    assert upload(client, stranger, project, CSV).status_code == 404
    r = client.get(f"{API}/{project['id']}/files/{file_id}", headers=stranger.headers)
    assert r.status_code == 404
