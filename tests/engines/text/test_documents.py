"""documents.read_table: every upload format as a table of documents, OCR included.

The files are made here: CSVs in several encodings, JSON shapes, a workbook (openpyxl),
Parquet (pyarrow), PDFs written by hand (a text layer) or by Pillow (image-only pages),
and images of rendered text that the real Tesseract reads.
"""

import codecs
import io
import json
import time
import zipfile

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pypdf
import pytest
from PIL import Image, ImageDraw, ImageFont

from augury.engines.text.documents import FORMATS, PAGE_SEPARATOR, detect_format, read_table
from augury.engines.text.errors import TextFileError


def _file(tmp_path, name, content):
    path = tmp_path / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def _refused(path, code, **kwargs):
    with pytest.raises(TextFileError) as err:
        read_table(path, **kwargs)
    assert err.value.code == code
    return err.value


def _pdf(pages):
    """A minimal valid PDF whose pages show ``pages`` in Helvetica (a real text layer)."""
    bodies = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [%s] /Count %d >>"
        % (" ".join(f"{4 + 2 * i} 0 R" for i in range(len(pages))).encode(), len(pages)),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    for i, text in enumerate(pages):
        shown = " ".join(f"({line}) Tj T*" for line in text.split("\n"))
        stream = f"BT /F1 14 Tf 72 720 Td 16 TL {shown} ET".encode("latin-1")
        bodies.append(
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
            b"/Resources << /Font << /F1 3 0 R >> >> /Contents %d 0 R >>" % (5 + 2 * i)
        )
        bodies.append(b"<< /Length %d >>\nstream\n%s\nendstream" % (len(stream), stream))
    out = io.BytesIO(b"%PDF-1.4\n")
    out.seek(0, io.SEEK_END)
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n%s\nendobj\n" % (number, body))
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1))
    out.writelines(b"%010d 00000 n \n" % offset for offset in offsets)
    out.write(
        b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(bodies) + 1, xref)
    )
    return out.getvalue()


def _picture(text):
    """A white page with ``text`` in black, as a scanner would give it."""
    image = Image.new("L", (1000, 200), 255)
    ImageDraw.Draw(image).text((30, 60), text, fill=0, font=ImageFont.load_default(size=48))
    return image


# CSV, TSV and TXT ---------------------------------------------------------------------


def test_latin1_csv_with_semicolons(tmp_path):
    path = _file(
        tmp_path, "r.csv", "id;review;stars\n1;Très bon café;5\n2;Déçu;\n".encode("latin-1")
    )
    table = read_table(path)
    assert (table.format, table.encoding, table.delimiter) == ("csv", "latin-1", ";")
    assert table.columns == ["id", "review", "stars"]
    assert table.texts("review") == ["Très bon café", "Déçu"]
    # Cells stay the text they were (no "1" -> 1), and an empty cell is left out of meta.
    assert table.meta(exclude="review") == [{"id": "1", "stars": "5"}, {"id": "2"}]


def test_cp1252_csv(tmp_path):
    path = _file(tmp_path, "r.csv", "text\n“Smart” quotes cost 5 €\n".encode("cp1252"))
    table = read_table(path)
    assert table.encoding == "cp1252"
    assert table.texts("text") == ["“Smart” quotes cost 5 €"]


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("text,n\nhéllo wörld,1\n日本語のレビュー,2\n".encode("utf-16"), "utf-16"),
        ("text,n\nhéllo wörld,1\n日本語のレビュー,2\n".encode("utf-16-le"), "utf-16-le"),
        (codecs.BOM_UTF8 + "text,n\nhéllo wörld,1\n日本語のレビュー,2\n".encode(), "utf-8"),
    ],
)
def test_unicode_encodings_with_and_without_byte_order_marks(tmp_path, data, encoding):
    table = read_table(_file(tmp_path, "r.csv", data))
    assert table.encoding == encoding
    assert table.columns == ["text", "n"]
    assert table.texts(0) == ["héllo wörld", "日本語のレビュー"]


def test_bytes_that_are_not_utf8_after_the_first_mib_are_replaced_with_a_warning(tmp_path):
    data = b"text\n" + b"fine line\n" * 120_000 + b"bad \xff byte\n"
    table = read_table(_file(tmp_path, "r.csv", data))
    assert table.row_count == 120_001
    assert table.texts("text")[-1] == "bad \ufffd byte"
    assert "replaced" in table.warnings[0]


def test_tsv_and_quoted_newlines(tmp_path):
    path = _file(tmp_path, "r.tsv", 'review\tsource\n"Two\nlines, one review"\tweb\n')
    table = read_table(path)
    assert (table.format, table.delimiter) == ("tsv", "\t")
    assert table.texts("review") == ["Two\nlines, one review"]


def test_header_is_guessed_and_can_be_forced(tmp_path):
    path = _file(tmp_path, "r.csv", "The room was great.,5\nSlow check-in.,2\n")
    guessed = read_table(path)
    assert (guessed.columns, guessed.renamed) == (["column_1", "column_2"], {})
    assert guessed.texts("column_1") == ["The room was great.", "Slow check-in."]
    forced = read_table(path, header=True)
    assert forced.columns == ["The room was great.", "5"]
    assert forced.row_count == 1
    names = _file(tmp_path, "n.csv", "review,stars\nok,1\n")
    assert read_table(names, header=False).texts(0) == ["review", "ok"]


def test_one_column_csv_keeps_commas_in_its_cells(tmp_path):
    table = read_table(_file(tmp_path, "r.csv", 'review\nGreat, loved it\n"Quoted, ""yes"""\n'))
    assert (table.columns, table.delimiter) == (["review"], None)
    assert table.texts("review") == ["Great, loved it", 'Quoted, "yes"']


def test_ragged_rows_are_padded_and_extended(tmp_path):
    table = read_table(_file(tmp_path, "r.csv", "a,b\n1,2\n3,4,5\n6\n\n,\n"))
    assert table.columns == ["a", "b", "column_3"]
    assert table.preview() == [
        ["a", "b", "column_3"],
        ["1", "2", None],
        ["3", "4", "5"],
        ["6", None, None],
    ]
    assert "1 rows had fewer fields" in table.warnings[0]


def test_header_names_are_cleaned(tmp_path):
    table = read_table(_file(tmp_path, "r.csv", " text ,,text\na,b,c\n"))
    assert table.columns == ["text", "column_2", "text_2"]
    assert table.renamed == {" text ": "text", "": "column_2", "text": "text_2"}


def test_txt_is_one_document_per_non_empty_line(tmp_path):
    path = _file(tmp_path, "r.txt", "[Update] first, with a comma\n\n   \nsecond line\r\nthird\n")
    table = read_table(path)
    assert (table.format, table.columns) == ("txt", ["text"])
    assert table.texts("text") == ["[Update] first, with a comma", "second line", "third"]


def test_format_is_found_from_content_where_the_name_does_not_say(tmp_path):
    assert detect_format(_file(tmp_path, "a", "great food\nslow service\n")) == "txt"
    assert detect_format(_file(tmp_path, "b", "text,stars\ngreat,5\nslow,2\n")) == "csv"
    assert detect_format(_file(tmp_path, "c", '[{"text": "x"}]')) == "json"
    assert detect_format(_file(tmp_path, "d", '{"text": "x"}\n{"text": "y"}\n')) == "jsonl"
    assert detect_format(_file(tmp_path, "e", _pdf(["x"]))) == "pdf"
    assert set(FORMATS) >= {"csv", "tsv", "txt", "json", "jsonl", "xlsx", "pdf", "image"}


# JSON and JSONL -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content", "columns", "texts"),
    [
        (["good", "bad"], ["text"], ["good", "bad"]),
        ([{"text": "good", "id": 1}, {"id": 2, "text": "bad", "tags": ["x"]}],
         ["text", "id", "tags"], ["good", "bad"]),
        ({"count": 2, "reviews": ["good", {"text": "bad"}]}, ["text"], ["good", "bad"]),
        ({"data": [{"text": "good"}]}, ["text"], ["good"]),
        ({"text": "the only one", "id": 7}, ["text", "id"], ["the only one"]),
        ("just a string", ["text"], ["just a string"]),
    ],
)  # fmt: skip
def test_json_shapes(tmp_path, content, columns, texts):
    table = read_table(_file(tmp_path, "r.json", json.dumps(content)))
    assert table.format == "json"
    assert table.columns == columns
    assert table.texts("text") == texts


def test_json_keeps_types_in_meta(tmp_path):
    content = [{"text": "good", "id": 1, "score": 0.5, "ok": True, "tags": ["a"]}, {"text": "x"}]
    table = read_table(_file(tmp_path, "r.json", json.dumps(content)))
    assert table.meta("text") == [{"id": 1, "score": 0.5, "ok": True, "tags": ["a"]}, {}]
    assert table.texts("tags") == ['["a"]', None]


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[1, 2]", "Item 0 is a number"),
        ('[{"text": "a"}, null]', "Item 1 is null"),
        ('{"a": [], "b": []}', "several arrays ('a', 'b')"),
        ('[{"text": "a"},\n {"text": }]', "line 2, column 11"),
        ("[]", "no documents"),
    ],
)
def test_json_refusals(tmp_path, content, message):
    err = _refused(
        _file(tmp_path, "r.json", content), "NO_ROWS" if content == "[]" else "INVALID_JSON"
    )
    assert message in str(err)


def test_jsonl_objects_strings_and_blank_lines(tmp_path):
    path = _file(tmp_path, "r.jsonl", '{"text": "a", "k": 1}\n"b"\n\n{"z": null}\n')
    table = read_table(path)
    assert table.columns == ["text", "k", "z"]
    assert table.texts("text") == ["a", "b", None]
    assert table.meta(["text", "z"]) == [{"k": 1}, {}, {}]


def test_jsonl_names_the_bad_line(tmp_path):
    err = _refused(_file(tmp_path, "r.jsonl", '{"text": "a"}\n\n{oops\n'), "INVALID_JSON")
    assert err.details == {"line": 3, "column": 2}


def test_text_is_cleaned_of_nul_and_lone_surrogates(tmp_path):
    content = (
        '[{"text": "a\\u0000b"}, {"text": "c\\ud800d"}, {"text": "  "}, {"text": 5}, {"text": 2.0}]'
    )
    table = read_table(_file(tmp_path, "r.json", content))
    assert table.texts("text") == ["ab", "c?d", None, "5", "2"]


# Workbooks and Parquet ----------------------------------------------------------------


def test_xlsx_sheet_with_types(tmp_path):
    import datetime as dt

    book = openpyxl.Workbook()
    book.active.title = "notes"
    sheet = book.create_sheet("reviews")
    sheet.append(["review", "stars", "date"])
    sheet.append(["Lovely staff", 5, dt.datetime(2024, 3, 1, 12, 30)])
    sheet.append(["Cold room", 2, None])
    book.save(tmp_path / "r.xlsx")
    table = read_table(tmp_path / "r.xlsx", sheet="reviews")
    assert (table.format, table.sheet, table.columns) == (
        "xlsx",
        "reviews",
        ["review", "stars", "date"],
    )
    assert table.texts("review") == ["Lovely staff", "Cold room"]
    assert table.meta("review") == [{"stars": 5, "date": "2024-03-01T12:30:00"}, {"stars": 2}]
    assert _refused(tmp_path / "r.xlsx", "SHEET_NOT_FOUND", sheet="nope").details


def test_parquet(tmp_path):
    pq.write_table(
        pa.table({"text": ["a", None], "score": [1.5, float("nan")]}), tmp_path / "r.parquet"
    )
    table = read_table(tmp_path / "r.parquet")
    assert table.format == "parquet"
    assert table.texts("text") == ["a", None]
    assert table.values("score") == [1.5, None]


# Refusals -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "content", "code"),
    [
        ("r.csv", b"", "EMPTY_FILE"),
        ("r.csv", b" \n\t\n", "EMPTY_FILE"),
        ("r.txt", "\n\n", "EMPTY_FILE"),
        ("r.csv", "text,stars\n", "NO_ROWS"),
        ("r.bin", bytes(range(256)) * 8, "BINARY_FILE"),
        ("r.csv", b"\x7fELF\x02\x01\x01" + bytes(500), "BINARY_FILE"),
        ("r.gz", b"\x1f\x8b\x08\x00" + bytes(100), "UNSUPPORTED_FORMAT"),
        ("r.xls", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(100), "UNSUPPORTED_FORMAT"),
        ("r.pdf", b"%PDF-1.4\nnot really a pdf at all", "INVALID_PDF"),
    ],
)
def test_files_that_are_refused(tmp_path, name, content, code):
    err = _refused(_file(tmp_path, name, content), code)
    assert err.message.endswith(".")


@pytest.mark.parametrize(("inner", "says"), [("word/document.xml", "Word"), ("notes.txt", "zip")])
def test_zips_other_than_workbooks_are_refused(tmp_path, inner, says):
    with zipfile.ZipFile(tmp_path / "r.docx", "w") as archive:
        archive.writestr(inner, "<xml/>")
    err = _refused(tmp_path / "r.docx", "UNSUPPORTED_FORMAT")
    assert says in err.message


# Choosing columns ---------------------------------------------------------------------


def test_columns_by_name_case_or_position(tmp_path):
    table = read_table(_file(tmp_path, "r.csv", "id,Review,2\n1,good,x\n"), header=True)
    assert table.column("Review") == table.column("review") == table.column(1) == "Review"
    assert table.column("2") == "2"  # a column's name wins over a position
    assert table.column("0") == "id"
    for missing in ("text", 3, -1, True):
        err = pytest.raises(TextFileError, table.column, missing).value
        assert err.code == "COLUMN_NOT_FOUND"
        assert err.details["columns"] == ["id", "Review", "2"]


def test_preview_cuts_long_cells_and_suggests_the_text_column(tmp_path):
    long_text = "word " * 400
    table = read_table(_file(tmp_path, "r.csv", f"id,review\n1,{long_text}\n2,short\n3,x\n"))
    preview = table.preview(n=2, max_chars=20)
    assert preview == [["id", "review"], ["1", "word word word word…"], ["2", "short"]]
    assert table.suggest_column() == "review"


# PDFs and images ----------------------------------------------------------------------


def test_pdf_text_layer_is_one_document_with_page_spans(tmp_path):
    path = _file(tmp_path, "r.pdf", _pdf(["Hello world. Page one.", "Second page.\nTwo lines."]))
    table = read_table(path)
    assert (table.format, table.row_count, table.columns, table.ocr) == ("pdf", 1, ["text"], False)
    [text] = table.texts("text")
    assert text == "Hello world. Page one." + PAGE_SEPARATOR + "Second page.\nTwo lines."
    assert [text[a:b] for a, b in table.pages] == [
        "Hello world. Page one.",
        "Second page.\nTwo lines.",
    ]


def test_scanned_pdf_is_read_by_ocr_page_by_page(tmp_path):
    pages = [_picture("Scanned invoice total"), _picture("Second scanned page")]
    pages[0].save(tmp_path / "scan.pdf", save_all=True, append_images=pages[1:])
    calls = []
    table = read_table(
        tmp_path / "scan.pdf", progress=lambda done, total: calls.append((done, total))
    )
    assert table.ocr
    [text] = table.texts("text")
    pages = [text[a:b].lower() for a, b in table.pages]
    assert "invoice total" in pages[0]
    assert "second scanned page" in pages[1]
    assert calls == [(1, 2), (2, 2)]


def test_scanned_pdf_without_ocr_programs(tmp_path):
    _picture("Scanned").save(tmp_path / "scan.pdf")
    err = _refused(tmp_path / "scan.pdf", "OCR_UNAVAILABLE", search_path=str(tmp_path))
    assert "tesseract-ocr" in err.message
    assert err.details == {"missing": ["pdftoppm", "tesseract"]}


def test_pdf_with_some_scanned_pages_keeps_its_text_without_ocr(tmp_path):
    _picture("Scanned").save(tmp_path / "scan.pdf")
    writer = pypdf.PdfWriter()
    writer.append(io.BytesIO(_pdf(["Typed page."])))
    writer.append(str(tmp_path / "scan.pdf"))
    writer.write(tmp_path / "mixed.pdf")
    table = read_table(tmp_path / "mixed.pdf", search_path=str(tmp_path))
    assert table.texts("text") == ["Typed page." + PAGE_SEPARATOR]
    assert table.pages == [(0, 11), (13, 13)]
    assert "1 of 2 pages have no text layer" in table.warnings[0]


def test_password_protected_pdf(tmp_path):
    writer = pypdf.PdfWriter(clone_from=io.BytesIO(_pdf(["Secret."])))
    writer.encrypt(user_password="secret", algorithm="RC4-128")
    writer.write(tmp_path / "locked.pdf")
    _refused(tmp_path / "locked.pdf", "PDF_ENCRYPTED")


def test_png_is_one_document_read_by_tesseract(tmp_path):
    _picture("Delivery was late").save(tmp_path / "r.png")
    table = read_table(tmp_path / "r.png")
    assert (table.format, table.row_count, table.ocr) == ("image", 1, True)
    assert table.texts("text")[0].lower() == "delivery was late"
    assert table.pages == [(0, len("Delivery was late"))]


def test_multi_page_tiff_keeps_its_pages(tmp_path):
    _picture("First page").save(
        tmp_path / "r.tiff", save_all=True, append_images=[_picture("Second page")]
    )
    table = read_table(tmp_path / "r.tiff")
    [text] = table.texts("text")
    assert [text[a:b].lower() for a, b in table.pages] == ["first page", "second page"]


def test_image_without_text(tmp_path):
    Image.new("L", (400, 200), 255).save(tmp_path / "blank.jpg")
    err = _refused(tmp_path / "blank.jpg", "NO_TEXT")
    assert "after OCR" in err.message


def test_ocr_time_limit_and_languages(tmp_path):
    _picture("Late").save(tmp_path / "r.png")
    assert _refused(tmp_path / "r.png", "OCR_TIMEOUT", ocr_timeout_s=0.001).details == {
        "timeout_s": 0.001
    }
    err = _refused(tmp_path / "r.png", "OCR_UNAVAILABLE", ocr_language="xyz")
    assert err.details == {"language": "xyz"}
    _refused(tmp_path / "r.png", "OCR_UNAVAILABLE", ocr_language="--psm")
    _refused(tmp_path / "r.png", "OCR_UNAVAILABLE", search_path=str(tmp_path))


# Size ---------------------------------------------------------------------------------


def test_100000_rows_and_a_5_mb_cell(tmp_path):
    rows = "".join(f"{i},Review number {i} was fine.,web\n" for i in range(100_000))
    big = "word " * 1_000_000
    path = _file(tmp_path, "r.csv", f'id,review,source\n{rows}-1,"{big}",app\n')
    started = time.perf_counter()
    table = read_table(path)
    texts = table.texts("review")
    meta = table.meta("review")
    assert time.perf_counter() - started < 20
    assert table.row_count == 100_001
    assert texts[99_999] == "Review number 99999 was fine."
    assert len(texts[-1]) == 5_000_000
    assert meta[-1] == {"id": "-1", "source": "app"}
