"""`augury model train` and `augury model predict` on small real tables written to CSV:
scikit-learn's bundled breast cancer (binary, with an identifier column the engine must
leave out), wine (three classes, a text column) and diabetes (regression). Predictions
are the input rows in order with the model's columns added; bad input is one `error:`
line and exit status 2."""

from __future__ import annotations

import csv
import json

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine
from typer.testing import CliRunner

from augury.cli.model import model_app

runner = CliRunner()
BUDGET = "5"


def run(*args, code: int = 0):
    result = runner.invoke(model_app, [str(a) for a in args])
    assert result.exit_code == code, (result.output, result.exception)
    return result


def read_rows(path) -> list[dict[str, str]]:
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def cancer_frame() -> pd.DataFrame:
    data = load_breast_cancer(as_frame=True)
    frame = data.frame.rename(columns=lambda c: str(c).replace(" ", "_"))
    frame["diagnosis"] = np.where(frame.pop("target") == 1, "benign", "malignant")
    frame.insert(0, "patient_id", [f"P{n:05d}" for n in range(len(frame))])
    return frame


@pytest.fixture(scope="module")
def cancer(tmp_path_factory):
    folder = tmp_path_factory.mktemp("cancer")
    frame = cancer_frame()
    frame.iloc[:450].to_csv(folder / "train.csv", index=False)
    frame.iloc[450:].drop(columns="diagnosis").to_csv(folder / "new.csv", index=False)
    result = run("train", folder / "train.csv", "--target", "diagnosis",
                 "--out", folder / "model", "--time-budget", BUDGET)  # fmt: skip
    return folder, result, frame


def test_train_prints_the_task_the_excluded_identifier_and_the_metrics(cancer):
    folder, result, _ = cancer
    out = result.stdout
    assert "task: binary classification of 'diagnosis' (classification)" in out
    assert "2 classes: benign, malignant" in out
    excluded = out.split("excluded columns", 1)[1].split("validation", 1)[0]
    assert "patient_id" in excluded and "identifier" in excluded
    metric_lines = [line for line in out.splitlines() if " ± " in line]
    assert any("roc_auc" in line for line in metric_lines), out
    auc = next(line for line in metric_lines if "roc_auc" in line).split()
    assert float(auc[1]) > 0.9 and float(auc[3]) < 0.1  # mean ± std over the folds
    assert f"model in {folder / 'model'} (sha256:" in out
    assert (folder / "model").is_dir() and any((folder / "model").iterdir())


def test_predict_writes_the_rows_in_order_with_a_probability_per_class(cancer):
    folder, _, frame = cancer
    result = run("predict", folder / "model", folder / "new.csv", "--out", folder / "pred.csv")
    assert f"predicted {len(frame) - 450} rows to {folder / 'pred.csv'}" in result.stdout
    rows = read_rows(folder / "pred.csv")
    header = list(rows[0])
    inputs = [c for c in frame.columns if c != "diagnosis"]
    assert header == [*inputs, "prediction", "probability_benign", "probability_malignant"]
    assert [r["patient_id"] for r in rows] == list(frame["patient_id"].iloc[450:])
    assert float(rows[3]["mean_radius"]) == pytest.approx(frame["mean_radius"].iloc[453])
    probabilities = np.array(
        [[float(r["probability_benign"]), float(r["probability_malignant"])] for r in rows]
    )
    assert np.allclose(probabilities.sum(axis=1), 1.0, atol=1e-6)
    assert ((probabilities >= 0) & (probabilities <= 1)).all()
    truth = frame["diagnosis"].iloc[450:].tolist()
    right = sum(r["prediction"] == t for r, t in zip(rows, truth, strict=True))
    assert right / len(rows) > 0.9


def test_predict_to_standard_output_keeps_an_input_prediction_column(cancer, tmp_path):
    folder, _, frame = cancer
    few = frame.drop(columns="diagnosis").iloc[:3].assign(prediction=["a", "b", "c"])
    few.to_csv(tmp_path / "few.csv", index=False)
    result = run("predict", folder / "model", tmp_path / "few.csv", "--out", "-")
    lines = list(csv.reader(result.stdout.splitlines()))
    assert lines[0][-4:] == ["prediction", "prediction_2", "probability_benign",
                             "probability_malignant"]  # fmt: skip
    assert [line[-4] for line in lines[1:]] == ["a", "b", "c"]
    assert {line[-3] for line in lines[1:]} <= {"benign", "malignant"}
    assert "predicted 3 rows" in result.stderr


def test_train_json_is_one_object_with_the_summary(tmp_path):
    wine = load_wine(as_frame=True)
    frame = wine.frame.rename(columns=lambda c: str(c).replace("/", "_"))
    frame["cultivar"] = frame.pop("target").map({0: "barolo", 1: "grignolino", 2: "barbera"})
    frame["cellar"] = np.where(np.arange(len(frame)) % 3 == 0, "north", "south")
    frame.to_csv(tmp_path / "wine.csv", index=False)
    options = ["--exclude", "ash", "--time-budget", BUDGET, "--json"]
    result = run("train", tmp_path / "wine.csv", "--target", "cultivar", "--out",
                 tmp_path / "model", *options)  # fmt: skip
    body = json.loads(result.stdout)
    assert body["task"] == "multiclass" and body["application"] == "classification"
    assert sorted(body["classes"]) == ["barbera", "barolo", "grignolino"]
    assert {"column": "ash", "code": "user"}.items() <= next(
        e for e in body["excluded"] if e["column"] == "ash"
    ).items()
    assert body["model_dir"] == str(tmp_path / "model")
    assert body["content_hash"].startswith("sha256:")
    assert set(body["metrics"]["mean"]) == set(body["metrics"]["std"])
    assert sum(i["importance"] for i in body["importance"]) == pytest.approx(1.0, abs=1e-6)

    # New categories are read as missing; every class gets a probability column.
    frame.drop(columns="cultivar").assign(cellar="east").head(5).to_csv(
        tmp_path / "new.csv", index=False
    )
    run("predict", tmp_path / "model", tmp_path / "new.csv", "--out", tmp_path / "pred.csv")
    rows = read_rows(tmp_path / "pred.csv")
    assert len(rows) == 5 and all(r["cellar"] == "east" for r in rows)
    names = [f"probability_{c}" for c in sorted(body["classes"])]
    assert sorted(c for c in rows[0] if c.startswith("probability_")) == names
    for r in rows:
        assert sum(float(r[n]) for n in names) == pytest.approx(1.0, abs=1e-6)


def test_regression_is_detected_and_predicts_an_interval(tmp_path):
    frame = load_diabetes(as_frame=True, scaled=False).frame
    frame.iloc[:350].to_csv(tmp_path / "train.csv", index=False)
    frame.iloc[350:].to_csv(tmp_path / "test.csv", index=False)
    result = run("train", tmp_path / "train.csv", "--target", "target", "--out",
                 tmp_path / "model", "--time-budget", BUDGET)  # fmt: skip
    assert "task: regression of 'target' (regression)" in result.stdout
    assert any("rmse" in line and " ± " in line for line in result.stdout.splitlines())
    run("predict", tmp_path / "model", tmp_path / "test.csv", "--out", tmp_path / "pred.csv")
    rows = read_rows(tmp_path / "pred.csv")
    assert list(rows[0])[-3:] == ["prediction", "lower", "upper"]
    assert len(rows) == len(frame) - 350
    assert [float(r["bmi"]) for r in rows] == pytest.approx(frame["bmi"].iloc[350:].tolist())
    for r in rows:
        assert float(r["lower"]) <= float(r["prediction"]) <= float(r["upper"])
    errors = [float(r["prediction"]) - float(r["target"]) for r in rows]
    rmse = float(np.sqrt(np.mean(np.square(errors))))
    assert rmse < float(frame["target"].std())  # better than predicting the mean


# --- bad input --------------------------------------------------------------------------


def test_a_target_with_one_class_is_refused(tmp_path):
    frame = cancer_frame().head(60).assign(diagnosis="benign")
    frame.to_csv(tmp_path / "one.csv", index=False)
    result = run("train", tmp_path / "one.csv", "--target", "diagnosis", "--out",
                 tmp_path / "model", "--time-budget", BUDGET, code=2)  # fmt: skip
    assert result.stderr.startswith("error: ") and len(result.stderr.strip().splitlines()) == 1
    assert "one value" in result.stderr
    assert not (tmp_path / "model").exists() or not any((tmp_path / "model").iterdir())


def test_unusable_training_input_exits_2_before_training(tmp_path):
    cancer_frame().head(60).to_csv(tmp_path / "t.csv", index=False)
    (tmp_path / "file").write_text("x")
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    cases = [
        (["--target", "diagnosis", "--out", tmp_path / "m"], "missing.csv", "no such file"),
        (["--target", "nope", "--out", tmp_path / "m"], "t.csv", "'nope'"),
        (["--target", "diagnosis", "--out", tmp_path / "file"], "t.csv", "not a folder"),
        (["--target", "diagnosis", "--out", tmp_path / "other"], "t.csv", "other files"),
        (["--target", "diagnosis", "--out", tmp_path / "m", "--application", "guess"],
         "t.csv", "--application"),
        (["--target", "diagnosis", "--out", tmp_path / "m", "--features", "radius,nope"],
         "t.csv", "nope"),
    ]  # fmt: skip
    for options, name, words in cases:
        result = run("train", tmp_path / name, *options, code=2)
        assert result.stderr.startswith("error: ") and words in result.stderr, result.stderr
    assert (tmp_path / "other" / "notes.txt").read_text() == "mine"


def test_unusable_prediction_input_exits_2(cancer, tmp_path):
    folder, _, frame = cancer
    frame.drop(columns=["diagnosis", "mean_radius"]).head(5).to_csv(
        tmp_path / "short.csv", index=False
    )
    result = run("predict", folder / "model", tmp_path / "short.csv", "--out",
                 tmp_path / "p.csv", code=2)  # fmt: skip
    assert result.stderr.startswith("error: ") and "mean_radius" in result.stderr
    assert not (tmp_path / "p.csv").exists()

    (tmp_path / "empty").mkdir()
    result = run("predict", tmp_path / "empty", folder / "new.csv", "--out", tmp_path / "p.csv",
                 code=2)  # fmt: skip
    assert result.stderr.startswith("error: ")
    result = run("predict", folder / "model", folder / "new.csv", "--out",
                 tmp_path / "no" / "p.csv", code=2)  # fmt: skip
    assert "no such directory" in result.stderr


def test_a_tampered_model_folder_is_refused(cancer, tmp_path):
    import shutil

    folder, _, _ = cancer
    copy = tmp_path / "model"
    shutil.copytree(folder / "model", copy)
    target = next(p for p in sorted(copy.iterdir()) if p.suffix == ".json")
    text = target.read_text()
    target.write_text(text.replace("benign", "benigN", 1) if "benign" in text else text + " ")
    result = run("predict", copy, folder / "new.csv", "--out", tmp_path / "p.csv", code=2)
    assert result.stderr.startswith("error: ")
    assert not (tmp_path / "p.csv").exists()


def test_augury_model_holds_the_file_commands_and_the_server_commands():
    from augury.cli import app

    result = CliRunner().invoke(app, ["model", "--help"])
    assert result.exit_code == 0, result.output
    listed = {line.split()[1] for line in result.stdout.splitlines() if line.startswith("│ ")}
    assert {"train", "predict", "list", "create", "retrain", "predict-rows",
            "predict-dataset", "what-if", "subscriptions", "applications"} <= listed  # fmt: skip
