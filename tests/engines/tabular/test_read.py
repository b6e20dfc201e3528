"""read.convert: every format to one Parquet file, its types, names and refusals."""

import datetime as dt
import decimal
import json
import zipfile

import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from augury.engines.tabular.errors import TableError
from augury.engines.tabular.read import (
    FORMATS,
    convert,
    detect_format,
    read_preview,
    records_to_parquet,
)


def _convert(tmp_path, name, content, **kwargs):
    src = tmp_path / name
    if isinstance(content, bytes):
        src.write_bytes(content)
    else:
        src.write_text(content, encoding="utf-8")
    dst = tmp_path / "out.parquet"
    return convert(src, dst, **kwargs), dst


def _rows(dst):
    return read_preview(dst, limit=1000)[1]


def _refused(tmp_path, name, content, code, **kwargs):
    with pytest.raises(TableError) as err:
        _convert(tmp_path, name, content, **kwargs)
    assert err.value.code == code
    leftovers = [p.name for p in tmp_path.iterdir() if p.name != name]
    assert leftovers == []
    return err.value


# -- delimited text ------------------------------------------------------------


def test_semicolon_csv_with_quotes(tmp_path):
    text = 'name;price;note\n"Smith; J";1.5;"he said ""hi"""\nBob;2;x\n'
    out, dst = _convert(tmp_path, "a.csv", text)
    assert (out.format, out.delimiter, out.encoding, out.rows) == ("csv", ";", "utf-8", 2)
    assert out.physical == {"name": "VARCHAR", "price": "DOUBLE", "note": "VARCHAR"}
    assert _rows(dst) == [["Smith; J", 1.5, 'he said "hi"'], ["Bob", 2.0, "x"]]
    assert out.warnings == []


def test_tsv_types(tmp_path):
    text = "id\tday\tat\tok\tlabel\n1\t2024-01-02\t2024-01-02 10:30:00\ttrue\ta\n2\t\t\tfalse\tb\n"
    out, dst = _convert(tmp_path, "t.tsv", text)
    assert (out.format, out.delimiter) == ("tsv", "\t")
    assert out.physical == {
        "id": "BIGINT",
        "day": "DATE",
        "at": "TIMESTAMP",
        "ok": "BOOLEAN",
        "label": "VARCHAR",
    }
    assert _rows(dst) == [
        [1, "2024-01-02", "2024-01-02T10:30:00", True, "a"],
        [2, None, None, False, "b"],
    ]


def test_day_first_dates_stay_text_for_the_profile(tmp_path):
    text = "day,n\n" + "".join(f"{d}/12/2024,{d}\n" for d in range(13, 29))
    out, dst = _convert(tmp_path, "d.csv", text)
    assert out.physical == {"day": "VARCHAR", "n": "BIGINT"}
    assert _rows(dst)[0] == ["13/12/2024", 13]


def test_latin1_csv(tmp_path):
    text = "nom,ville\n" + "José,Zürich\nRenée,Köln\n" * 50
    out, dst = _convert(tmp_path, "l.csv", text.encode("latin-1"))
    assert out.encoding == "latin-1"
    assert _rows(dst)[:2] == [["José", "Zürich"], ["Renée", "Köln"]]


def test_cp1252_csv_is_transcoded(tmp_path):
    text = "item,price\n" + "Café “special”,5 €\n" * 50
    out, dst = _convert(tmp_path, "w.csv", text.encode("cp1252"))
    assert out.encoding == "cp1252"
    assert _rows(dst)[0] == ["Café “special”", "5 €"]


@pytest.mark.parametrize("codec", ["utf-16-le", "utf-16-be"])
def test_utf16_with_bom(tmp_path, codec):
    bom = b"\xff\xfe" if codec.endswith("le") else b"\xfe\xff"
    text = "nom\tville\tn\nJosé\tZürich\t1\nRenée\tKöln\t2\n"
    out, dst = _convert(tmp_path, "u.csv", bom + text.encode(codec))
    assert out.encoding == "utf-16"
    assert out.physical == {"nom": "VARCHAR", "ville": "VARCHAR", "n": "BIGINT"}
    assert _rows(dst) == [["José", "Zürich", 1], ["Renée", "Köln", 2]]


def test_utf8_bom_is_not_part_of_the_first_name(tmp_path):
    out, _ = _convert(tmp_path, "b.csv", "\ufeffid,v\n1,2\n".encode())
    assert out.columns == ["id", "v"]
    assert out.renamed == {}


def test_ragged_rows_are_padded_and_counted(tmp_path):
    text = "a,b,c\n1,2,3\n4,5\n6,7,8,9\n10,11,12\n"
    out, dst = _convert(tmp_path, "r.csv", text)
    assert out.columns == ["a", "b", "c", "column_4"]
    assert _rows(dst) == [[1, 2, 3, None], [4, 5, None, None], [6, 7, 8, 9], [10, 11, 12, None]]
    assert len(out.warnings) == 1
    assert "1 rows had fewer fields" in out.warnings[0]
    assert "1 rows had more" in out.warnings[0]


def test_ragged_row_after_the_sample(tmp_path):
    text = "a,b\n" + "1,2\n" * 60_000 + "3\n"
    out, dst = _convert(tmp_path, "r.csv", text)
    assert out.rows == 60_001
    assert out.columns == ["a", "b"]
    assert "1 rows had fewer fields" in out.warnings[0]


def test_type_that_changes_after_the_sample_widens_the_column(tmp_path):
    text = "id,n,v\n" + "".join(f"{i},{i},{i}\n" for i in range(60_000)) + "x,1.5,ok\n"
    out, dst = _convert(tmp_path, "late.csv", text)
    assert out.rows == 60_001
    assert out.physical == {"id": "VARCHAR", "n": "DOUBLE", "v": "VARCHAR"}
    assert len(out.warnings) == 3


def test_mixed_type_column_is_text(tmp_path):
    text = "k,v\n" + "".join(f"{i},{v}\n" for i, v in enumerate(["1", "2.5", "abc", "", "4"]))
    out, dst = _convert(tmp_path, "m.csv", text)
    assert out.physical == {"k": "BIGINT", "v": "VARCHAR"}
    assert [r[1] for r in _rows(dst)] == ["1", "2.5", "abc", None, "4"]


def test_duplicate_empty_and_padded_names(tmp_path):
    text = " id ,,x,X,x_2,\n1,2,3,4,5,6\n"
    out, _ = _convert(tmp_path, "n.csv", text)
    assert out.columns == ["id", "column_2", "x", "X_3", "x_2", "column_6"]
    assert out.renamed == {" id ": "id", "": "column_2", "X": "X_3", "#6": "column_6"}


def test_header_only_is_no_rows(tmp_path):
    _refused(tmp_path, "h.csv", "a,b,c\n", "NO_ROWS")


@pytest.mark.parametrize("content", [b"", b"  \n\t\r\n  "])
def test_empty_file(tmp_path, content):
    _refused(tmp_path, "e.csv", content, "EMPTY_FILE")


def test_ten_thousand_columns(tmp_path):
    header = ",".join(f"c{i}" for i in range(10_000))
    body = "".join(",".join(str(i + j) for i in range(10_000)) + "\n" for j in range(3))
    out, dst = _convert(tmp_path, "wide.csv", header + "\n" + body)
    assert (out.rows, len(out.columns)) == (3, 10_000)
    assert out.physical["c9999"] == "BIGINT"
    assert pq.ParquetFile(dst).metadata.num_columns == 10_000


def test_too_many_columns(tmp_path):
    err = _refused(tmp_path, "w.csv", "a,b,c,d\n1,2,3,4\n", "TOO_MANY_COLUMNS", max_columns=3)
    assert err.details == {"columns": 4, "max_columns": 3}


def test_binary_file_is_unsupported(tmp_path):
    _refused(tmp_path, "x.bin", b"\x00\x01\x02\x03" * 100, "UNSUPPORTED_FORMAT")


# -- XLSX ----------------------------------------------------------------------


def _workbook(path):
    book = openpyxl.Workbook()
    ws = book.active
    ws.title = "Sales"
    ws.append([])
    ws.append(["region", "amount", "day", "at", "total", None, "mixed"])
    ws.append(["North", 10, dt.datetime(2024, 1, 2), dt.datetime(2024, 1, 2, 9, 30), "=B3*2", 1])
    ws.append(["South", 2.5, dt.datetime(2024, 1, 3), dt.datetime(2024, 1, 3), None, None, "x"])
    ws.append([])
    ws.append(["East", 7, None, None, None, None, 3])
    other = book.create_sheet("Costs")
    other.append(["item", "cost"])
    other.append(["paper", 3])
    book.save(path)


def test_xlsx_first_sheet(tmp_path):
    _workbook(tmp_path / "b.xlsx")
    out = convert(tmp_path / "b.xlsx", tmp_path / "out.parquet")
    assert (out.format, out.sheet, out.rows) == ("xlsx", "Sales", 3)
    assert out.columns == ["region", "amount", "day", "at", "total", "column_6", "mixed"]
    assert out.physical == {
        "region": "VARCHAR",
        "amount": "DOUBLE",
        "day": "DATE",
        "at": "TIMESTAMP",
        "total": "VARCHAR",
        "column_6": "BIGINT",
        "mixed": "VARCHAR",
    }
    # openpyxl wrote no cached value for the formula: it reads as empty, never evaluated.
    assert _rows(tmp_path / "out.parquet") == [
        ["North", 10.0, "2024-01-02", "2024-01-02T09:30:00", None, 1, None],
        ["South", 2.5, "2024-01-03", "2024-01-03T00:00:00", None, None, "x"],
        ["East", 7.0, None, None, None, None, "3"],
    ]
    assert out.warnings == ["1 empty rows between data rows were skipped."]


def test_xlsx_under_any_file_name(tmp_path):
    # An upload waits in staging as <uuid>.upload: the content says it is a workbook.
    _workbook(tmp_path / "b.upload")
    out = convert(tmp_path / "b.upload", tmp_path / "out.parquet", filename="b.xlsx")
    assert (out.format, out.sheet, out.rows) == ("xlsx", "Sales", 3)
    out = convert(tmp_path / "b.upload", tmp_path / "out2.parquet")
    assert out.format == "xlsx"


def test_xlsx_named_sheet(tmp_path):
    _workbook(tmp_path / "b.xlsx")
    out = convert(tmp_path / "b.xlsx", tmp_path / "out.parquet", sheet="Costs")
    assert out.sheet == "Costs"
    assert out.physical == {"item": "VARCHAR", "cost": "BIGINT"}
    assert _rows(tmp_path / "out.parquet") == [["paper", 3]]


def test_xlsx_missing_sheet(tmp_path):
    _workbook(tmp_path / "b.xlsx")
    with pytest.raises(TableError) as err:
        convert(tmp_path / "b.xlsx", tmp_path / "out.parquet", sheet="Nope")
    assert err.value.code == "SHEET_NOT_FOUND"
    assert err.value.details["sheets"] == ["Sales", "Costs"]
    assert not (tmp_path / "out.parquet").exists()


def test_xlsx_batches_agree_on_one_type(tmp_path, monkeypatch):
    from augury.engines.tabular import _read_xlsx

    monkeypatch.setattr(_read_xlsx, "BATCH_CELLS", 1)
    book = openpyxl.Workbook()
    ws = book.active
    ws.append(["n", "when"])
    for i in range(250):
        ws.append([i if i < 200 else i + 0.5, dt.datetime(2024, 1, 1, 0 if i < 100 else 1)])
    book.save(tmp_path / "b.xlsx")
    out = convert(tmp_path / "b.xlsx", tmp_path / "out.parquet")
    assert out.rows == 250
    assert out.physical == {"n": "DOUBLE", "when": "TIMESTAMP"}


def test_xlsx_zip_bomb(tmp_path):
    path = tmp_path / "bomb.xlsx"
    zeros = bytes(1 << 20)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("xl/workbook.xml", "<workbook/>")
        with z.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as entry:
            for _ in range(200):
                entry.write(zeros)
    assert path.stat().st_size < 1 << 20
    with pytest.raises(TableError) as err:
        convert(path, tmp_path / "out.parquet")
    assert err.value.code == "ZIP_BOMB"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bomb.xlsx"]


def test_xlsx_damaged(tmp_path):
    path = tmp_path / "d.xlsx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("xl/workbook.xml", "not xml")
    with pytest.raises(TableError) as err:
        convert(path, tmp_path / "out.parquet")
    assert err.value.code == "INVALID_XLSX"


# -- JSON, JSONL, Parquet ------------------------------------------------------


def test_json_array_with_nested_values(tmp_path):
    records = [
        {"a": 1, "n": {"x": 1, "y": [1, 2]}, "l": [1, 2], "s": "q"},
        {"a": 2, "n": None, "l": [], "s": None, "late": True},
    ]
    out, dst = _convert(tmp_path, "n.json", json.dumps(records))
    assert out.format == "json"
    assert out.physical == {
        "a": "BIGINT",
        "n": "VARCHAR",
        "l": "VARCHAR",
        "s": "VARCHAR",
        "late": "BOOLEAN",
    }
    rows = _rows(dst)
    assert json.loads(rows[0][1]) == {"x": 1, "y": [1, 2]}
    assert rows[0][2] == "[1,2]"
    assert rows[1] == [2, None, "[]", None, True]


def test_jsonl(tmp_path):
    text = '{"id": 1, "v": 2.5}\n{"id": 2, "v": null}\n\n{"id": 3, "v": 1}\n'
    out, dst = _convert(tmp_path, "data", text)
    assert (out.format, out.rows) == ("jsonl", 3)
    assert out.physical == {"id": "BIGINT", "v": "DOUBLE"}
    assert _rows(dst)[1] == [2, None]


def test_json_object_holding_records(tmp_path):
    body = {"data": [{"a": 1, "b": {"c": 2}}, {"a": 2}]}
    out, dst = _convert(tmp_path, "w.json", json.dumps(body, indent=2))
    assert out.columns == ["a", "b"]
    assert _rows(dst) == [[1, '{"c":2}'], [2, None]]


def test_invalid_jsonl_names_the_line(tmp_path):
    err = _refused(tmp_path, "b.jsonl", '{"a": 1}\n{"a": }\n{"a": 3}\n', "INVALID_JSON")
    assert err.details == {"line": 2}


def test_invalid_json(tmp_path):
    _refused(tmp_path, "b.json", '[{"a": 1}, {"a": }]', "INVALID_JSON")


def test_parquet_is_rewritten_with_clean_names(tmp_path):
    table = pa.table(
        {
            " a ": pa.array([1, 2], pa.int32()),
            "s": pa.array([{"x": 1}, None], pa.struct([("x", pa.int64())])),
            "f": pa.array([1.5, None], pa.float32()),
        }
    )
    pq.write_table(table, tmp_path / "in.parquet")
    out = convert(tmp_path / "in.parquet", tmp_path / "out.parquet", filename="x.csv")
    assert out.format == "parquet"
    assert out.physical == {"a": "BIGINT", "s": "VARCHAR", "f": "DOUBLE"}
    assert out.renamed == {" a ": "a"}
    assert _rows(tmp_path / "out.parquet") == [[1, '{"x":1}', 1.5], [2, None, None]]


def test_invalid_parquet(tmp_path):
    _refused(tmp_path, "bad.parquet", b"PAR1" + b"\x00" * 100 + b"PAR1", "INVALID_PARQUET")


# -- detection, records, preview -----------------------------------------------


@pytest.mark.parametrize(
    ("content", "filename", "expected"),
    [
        (b"a,b\n1,2\n", None, "csv"),
        (b"a\tb\n1\t2\n", None, "tsv"),
        (b"a\tb\n1\t2\n", "x.csv", "csv"),
        (b'[{"a": 1}]', None, "json"),
        (b'{"a": 1}\n{"a": 2}\n', None, "jsonl"),
        (b'{\n "data": []\n}', None, "json"),
        (b"PAR1....", None, "parquet"),
    ],
)
def test_detect_format(tmp_path, content, filename, expected):
    path = tmp_path / "upload"
    path.write_bytes(content)
    assert detect_format(path, filename) == expected
    assert expected in FORMATS


def test_detect_zip_without_workbook(tmp_path):
    with zipfile.ZipFile(tmp_path / "x.zip", "w") as z:
        z.writestr("a.txt", "hi")
    with pytest.raises(TableError) as err:
        detect_format(tmp_path / "x.zip")
    assert err.value.code == "UNSUPPORTED_FORMAT"


def test_records_to_parquet(tmp_path):
    records = [{"b": 1, "a": "x"}, {"a": "y", "c": {"k": [1]}, "b": float("nan")}]
    out = records_to_parquet(records, tmp_path / "r.parquet")
    assert out.columns == ["b", "a", "c"]
    assert out.physical == {"b": "BIGINT", "a": "VARCHAR", "c": "VARCHAR"}
    assert _rows(tmp_path / "r.parquet") == [[1, "x", None], [None, "y", '{"k":[1]}']]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["r.parquet"]


def test_records_must_be_objects(tmp_path):
    with pytest.raises(TableError) as err:
        records_to_parquet([], tmp_path / "r.parquet")
    assert err.value.code == "NO_ROWS"
    with pytest.raises(TableError) as err:
        records_to_parquet([1, 2], tmp_path / "r.parquet")  # type: ignore[list-item]
    assert err.value.code == "INVALID_JSON"


def test_preview_is_json_able(tmp_path):
    table = pa.table(
        {
            "d": pa.array([dt.date(2024, 1, 2), None]),
            "x": pa.array([float("nan"), 2.0]),
            "m": pa.array([decimal.Decimal("1.25"), None], pa.decimal128(10, 2)),
            "t": pa.array([dt.datetime(2024, 1, 2, 3, 4, 5), None], pa.timestamp("us")),
        }
    )
    pq.write_table(table, tmp_path / "p.parquet")
    columns, rows = read_preview(tmp_path / "p.parquet", limit=1)
    assert columns == ["d", "x", "m", "t"]
    assert rows == [["2024-01-02", None, 1.25, "2024-01-02T03:04:05"]]
    json.dumps(rows, allow_nan=False)


def test_invalid_utf8_after_the_first_mebibyte_is_replaced(tmp_path):
    head = "id,name\n" + "".join(f"{i},row {i}\n" for i in range(120_000))
    content = head.encode() + b"120000,caf\xe9\n"
    assert len(content) > 1 << 20
    out, dst = _convert(tmp_path, "u.csv", content)
    assert out.rows == 120_001
    assert out.warnings == ["Some bytes were not valid UTF-8; they were replaced with '\ufffd'."]


def test_binary_named_csv_is_an_encoding_error(tmp_path):
    _refused(tmp_path, "x.csv", bytes(range(256)) * 40, "ENCODING")


def test_an_image_sent_as_json_is_refused_not_a_crash(tmp_path):
    # Found by the API fuzzer: a PNG with format=json made DuckDB describe columns whose
    # names are not UTF-8, which Python could not decode.
    png = bytes.fromhex(
        "89504e470d0a1a0a0000000d49484452000000010000000108000000003a7e9b"
        "550000000a49444154789c636000000002000148afa4710000000049454e44ae426082"
    )
    src = tmp_path / "image.json"
    src.write_bytes(png)
    with pytest.raises(TableError) as caught:
        convert(src, tmp_path / "out.parquet", format="json")
    assert caught.value.code in ("ENCODING", "INVALID_JSON")
    assert [p.name for p in tmp_path.iterdir()] == ["image.json"]


def test_ragged_rows_keep_every_row_and_a_title_above_the_table_is_skipped(tmp_path):
    src = tmp_path / "ragged.csv"
    src.write_text("a,x,c,b\n1,2,3,4\n5,6\n7,8,9,10,11\n")
    out = convert(src, tmp_path / "r.parquet")
    assert out.columns == ["a", "x", "c", "b", "column_5"] and out.rows == 3
    assert _rows(tmp_path / "r.parquet")[1] == [5, 6, None, None, None]
    titled = tmp_path / "titled.csv"
    titled.write_text("Sales report\nexported 2024-01-01\na,b,c\n1,2,3\n4,5,6\n7,8,9\n")
    out = convert(titled, tmp_path / "t.parquet")
    assert out.columns == ["a", "b", "c"] and out.rows == 3
    assert out.warnings == [
        "The first 2 lines were skipped: they do not have the table's shape (a title or "
        "notes above it)."
    ]
