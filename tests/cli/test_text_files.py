"""`augury text train` and `augury text predict` on small files: a classifier from a
CSV, predictions as the input rows plus prediction and confidence, ABSA from JSONL,
and clear errors with exit status 2."""

from __future__ import annotations

import csv
import json

import pytest
from typer.testing import CliRunner

from augury.cli.text import text_app
from tests.engines.text.planted import INTENTS, REVIEWS, intents_split

runner = CliRunner()


def run(*args, code: int = 0):
    result = runner.invoke(text_app, [str(a) for a in args])
    assert result.exit_code == code, (result.output, result.exception)
    return result


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    folder = tmp_path_factory.mktemp("text")
    train_x, train_y, test_x, test_y = intents_split()
    with open(folder / "train.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["id", "text", "category"])
        pairs = zip(train_x, train_y, strict=True)
        writer.writerows((f"{i:03d}", t, y) for i, (t, y) in enumerate(pairs))
    result = run("train", folder / "train.csv", "--text", "text", "--label", "category",
                 "--out", folder / "model")  # fmt: skip
    return folder, result, test_x, test_y


def test_train_writes_a_model_folder_and_says_what_it_learnt(trained):
    folder, result, _, _ = trained
    assert sorted(p.name for p in (folder / "model").iterdir()) == [
        "arrays.npz",
        "model.json",
        "vocabulary.json",
    ]
    assert "trained on 40 texts, 5 classes" in result.stdout
    assert "sha256:" in result.stdout


def test_predict_writes_the_rows_in_order_with_prediction_and_confidence(trained):
    folder, _, test_x, test_y = trained
    with open(folder / "test.csv", "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["ref", "text", "note"])
        writer.writerows((f"00{i}", t, "a, b" if i % 2 else "") for i, t in enumerate(test_x))
    result = run("predict", folder / "model", folder / "test.csv", "--text", "text",
                 "--out", folder / "pred.csv")  # fmt: skip
    assert f"predicted {len(test_x)} rows" in result.stdout
    with open(folder / "pred.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["ref", "text", "note", "prediction", "confidence"]
    assert [r[0] for r in rows[1:]] == [f"00{i}" for i in range(len(test_x))]  # "007" stays
    assert [r[1] for r in rows[1:]] == test_x and rows[2][2] == "a, b"
    right = sum(r[3] == y for r, y in zip(rows[1:], test_y, strict=True))
    assert right / len(test_y) >= 0.9
    assert all(0 < float(r[4]) <= 1 for r in rows[1:])
    assert {r[3] for r in rows[1:]} <= set(INTENTS)


def test_predict_to_standard_output(trained):
    folder, _, test_x, _ = trained
    (folder / "one.csv").write_text("text\nmy card never arrived\n")
    result = run("predict", folder / "model", folder / "one.csv", "--out", "-")
    lines = result.stdout.strip().splitlines()
    assert lines[0] == "text,prediction,confidence"
    assert lines[1].startswith("my card never arrived,card_arrival,")


def test_multi_label_training_splits_the_cells(tmp_path):
    rows = [("late delivery again", "delivery"), ("far too expensive", "price"),
            ("late and expensive", "delivery|price")] * 6  # fmt: skip
    with open(tmp_path / "t.csv", "w", newline="") as f:
        csv.writer(f).writerows([("text", "tags"), *rows])
    run("train", tmp_path / "t.csv", "--label", "tags", "--multi-label", "--out", tmp_path / "m")
    (tmp_path / "p.csv").write_text("text\nlate delivery and expensive\n")
    run("predict", tmp_path / "m", tmp_path / "p.csv", "--out", tmp_path / "o.csv",
        "--separator", ";")  # fmt: skip
    with open(tmp_path / "o.csv", newline="") as f:
        (row,) = list(csv.DictReader(f))
    assert set(row["prediction"].split(";")) == {"delivery", "price"}


def test_absa_trains_on_jsonl_and_predicts_the_same_lines(tmp_path):
    train_file = tmp_path / "train.jsonl"
    train_file.write_text("".join(json.dumps(r) + "\n" for r in REVIEWS))
    result = run("train", train_file, "--task", "absa", "--out", tmp_path / "absa")
    assert "24 sentences, 3 categories (food, price, service), polarities NEG, POS" in result.stdout
    lines = [
        {"id": 1, "text": "the waiter forgot our drinks"},
        {"id": 2, "text": "cheap", "aspects": [{"category": "price"}]},
        {"id": 3, "text": "Great food", "aspects": [{"category": "food", "polarity": "NEG"}]},
    ]
    (tmp_path / "test.jsonl").write_text("\n".join(json.dumps(r) for r in lines) + "\n")
    run("predict", tmp_path / "absa", tmp_path / "test.jsonl", "--out", tmp_path / "pred.jsonl")
    out = [json.loads(line) for line in (tmp_path / "pred.jsonl").read_text().splitlines()]
    assert [r["id"] for r in out] == [1, 2, 3]
    assert [(a["category"], a["polarity"]) for a in out[0]["aspects"]] == [("service", "NEG")]
    assert [a["category"] for a in out[1]["aspects"]] == ["price"]  # given: polarity only
    assert "category_confidence" not in out[1]["aspects"][0]
    assert out[2]["aspects"][0]["category"] == "food"  # labeled: predicted whole
    assert "category_confidence" in out[2]["aspects"][0]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["train", "{d}/missing.csv", "--out", "{d}/m"], "no such file"),
        (["train", "{d}/train.csv", "--text", "body", "--label", "category", "--out", "{d}/m"],
         "--text: The file has no column 'body'"),
        (["train", "{d}/train.csv", "--label", "intent", "--out", "{d}/m"],
         "--label: The file has no column 'intent'"),
        (["train", "{d}/train.csv", "--task", "ner", "--out", "{d}/m"],
         "--task is classify or absa"),
        (["train", "{d}/train.csv", "--label", "category", "--out", "{d}/train.csv"],
         "it is a file, not a folder"),
        (["train", "{d}/train.csv", "--label", "category", "--out", "{d}"],
         "is a folder of other files"),
        (["train", "{d}/bad.jsonl", "--task", "absa", "--out", "{d}/m"], "line 2: not JSON"),
        (["train", "{d}/onepolarity.jsonl", "--task", "absa", "--out", "{d}/m"],
         "at least two polarities"),
        (["predict", "{d}", "{d}/train.csv", "--out", "{d}/p.csv"], "No text model at"),
        (["predict", "{d}/model", "{d}/train.csv", "--out", "{d}/nowhere/p.csv"],
         "no such directory"),
        (["predict", "{d}/model", "{d}/train.csv", "--text", "body", "--out", "{d}/p.csv"],
         "no column 'body'"),
    ],
)  # fmt: skip
def test_bad_input_is_a_clear_error_and_exit_2(trained, args, message):
    folder, _, _, _ = trained
    (folder / "bad.jsonl").write_text('{"text": "ok", "aspects": []}\n{not json}\n')
    (folder / "onepolarity.jsonl").write_text(
        json.dumps({"text": "good food", "aspects": [{"category": "food", "polarity": "POS"}]})
        + "\n"
    )
    result = run(*[a.format(d=folder) for a in args], code=2)
    assert message in result.stderr


def test_a_class_column_with_one_class_is_a_clear_error(tmp_path):
    (tmp_path / "t.csv").write_text("text,label\nhello,greeting\nhi there,greeting\n")
    result = run("train", tmp_path / "t.csv", "--out", tmp_path / "m", code=2)
    assert "at least two classes" in result.stderr


def test_an_absa_model_refuses_a_csv_and_a_classifier_is_retrained_in_place(trained, tmp_path):
    folder, _, _, _ = trained
    train_file = tmp_path / "train.jsonl"
    train_file.write_text("".join(json.dumps(r) + "\n" for r in REVIEWS))
    run("train", train_file, "--task", "absa", "--out", tmp_path / "absa")
    result = run(
        "predict", tmp_path / "absa", folder / "train.csv", "--out", tmp_path / "p", code=2
    )
    assert "line 1: not JSON" in result.stderr
    run(
        "train", train_file, "--task", "absa", "--out", tmp_path / "absa"
    )  # a model folder: replaced
