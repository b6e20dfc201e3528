"""bench-tabular's harness: the seeded stratified split, the peers' view of a table,
the scores and the verdict, one real run of augury and a peer on the wine set (each in
its own process, as the benchmark runs them), and the docs section written from a
result. Only scikit-learn's bundled sets are read: CI installs no bench extra."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from benchmarks.tabular import data
from benchmarks.tabular.run import doc_section, run_table, score, summary_lines, verdict


def test_the_split_is_seeded_stratified_and_70_30():
    table = data.load("breast_cancer")
    train, test = data.split(table)
    assert (len(train), len(test)) == (398, 171)
    share = table.frame["diagnosis"].eq("malignant").mean()
    for half in (train, test):
        assert half["diagnosis"].eq("malignant").mean() == pytest.approx(share, abs=0.005)
    again, _ = data.split(table)
    pd.testing.assert_frame_equal(train, again)
    assert not data.split(data.load("diabetes"))[0].equals(data.split(data.load("diabetes"), 1)[0])


def test_peers_get_text_as_the_training_levels_and_dates_as_days():
    train = pd.DataFrame(
        {
            "city": ["a", "b", None, "a"],
            "day": pd.to_datetime(["1970-01-02", "1970-01-11", "2000-01-01", "1970-01-01"]),
            "n": [1, 2, 3, 4],
            "y": [1.0, 2.0, 3.0, 4.0],
        }
    )
    test = pd.DataFrame(
        {"city": ["c", "b"], "day": pd.to_datetime(["1970-01-03", "1970-01-01"]), "n": [5, 6],
         "y": [0.0, 0.0]}
    )  # fmt: skip
    x_train, x_test = data.for_peers(train, test, "y")
    assert "y" not in x_train and list(x_train.columns) == ["city", "day", "n"]
    assert list(x_train["city"].cat.categories) == ["a", "b"]
    assert x_test["city"].isna().tolist() == [True, False]  # unseen level: missing
    assert x_train["day"].tolist()[:2] == [1.0, 10.0] and x_test["day"].tolist() == [2.0, 0.0]
    assert x_train["n"].tolist() == [1, 2, 3, 4]


def test_scores_are_the_tasks_metrics():
    binary = {"classes": ["0", "1"], "proba": [[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.3, 0.7]],
              "prediction": [0, 1, 1, 1]}  # fmt: skip
    assert score("binary", [0, 1, 0, 1], binary, 1) == {"roc_auc": 1.0, "f1": 0.8}
    multi = {"classes": ["a", "b", "c"], "prediction": ["a", "b", "b"],
             "proba": [[0.8, 0.1, 0.1], [0.1, 0.8, 0.1], [0.1, 0.6, 0.3]]}  # fmt: skip
    s = score("multiclass", ["a", "b", "c"], multi, None)
    assert s["roc_auc"] == 1.0 and s["f1"] == pytest.approx(round((1 + 2 / 3 + 0) / 3, 4))
    reg = score("regression", [1.0, 2.0, 3.0], {"prediction": [1.0, 2.0, 5.0]}, None)
    assert reg == {"rmse": round(float(np.sqrt(4 / 3)), 4), "r2": -1.0}


def test_the_verdict_needs_both_metrics_at_least_as_good_as_the_best_peer():
    scores = {
        "augury": {"roc_auc": 0.99, "f1": 0.90},
        "lightgbm": {"roc_auc": 0.99, "f1": 0.88},
        "linear": {"roc_auc": 0.95, "f1": 0.92},
    }
    v = verdict("binary", scores)
    assert v["metrics"]["roc_auc"] == {"augury": 0.99, "best_peer": "lightgbm", "best": 0.99,
                                       "gap": 0.0, "met": True}  # fmt: skip
    assert v["metrics"]["f1"]["best_peer"] == "linear" and v["metrics"]["f1"]["gap"] == -0.02
    assert v["met"] is False
    reg = verdict("regression", {"augury": {"rmse": 2.0, "r2": 0.9},
                                 "hist_gb": {"rmse": 2.5, "r2": 0.85}})  # fmt: skip
    assert reg["met"] is True and reg["metrics"]["rmse"]["gap"] == 0.5
    assert (
        verdict("binary", {"augury": {"error": "x"}, "linear": {"roc_auc": 1, "f1": 1}})["met"]
        is None
    )


def test_one_set_runs_augury_and_a_peer_each_in_its_own_process():
    entry = run_table("wine", ("augury", "linear"), budget=3.0, seed=0)
    assert (entry["task"], entry["train_rows"], entry["test_rows"]) == ("multiclass", 124, 54)
    for model in ("augury", "linear"):
        record = entry["models"][model]
        assert "error" not in record, record
        assert record["roc_auc"] > 0.95 and record["f1"] > 0.85
        assert 50 < record["rss_before_mb"] <= record["peak_rss_mb"] < 2048
        assert record["train_s"] >= 0
    assert entry["models"]["augury"]["engine"]["candidates"] >= 1
    assert entry["verdict"]["met"] in (True, False)
    assert set(entry["verdict"]["metrics"]) == {"roc_auc", "f1"}


def _result() -> dict:
    def model(auc: float, f1: float, s: float) -> dict:
        return {"roc_auc": auc, "f1": f1, "train_s": s, "train_cpu_s": 1.75 * s,
                "peak_rss_mb": 300.0, "rss_before_mb": 200.0}  # fmt: skip

    classification = {
        "task": "binary", "source": "scikit-learn load_breast_cancer", "train_rows": 398,
        "test_rows": 171, "features": 30, "text_features": 0, "missing_share": 0.0,
        "positive_share": 0.3726,
        "models": {"augury": model(0.99, 0.95, 40.0), "lightgbm": model(0.98, 0.96, 0.1)},
    }  # fmt: skip
    classification["verdict"] = verdict("binary", classification["models"])
    reg_models = {
        "augury": {"rmse": 540.0, "r2": 0.981, "train_s": 130.0, "train_cpu_s": 200.0,
                   "peak_rss_mb": 700.0, "rss_before_mb": 250.0},
        "hist_gb": {"rmse": 555.58, "r2": 0.9806, "train_s": 0.6, "peak_rss_mb": 229.0,
                    "rss_before_mb": 200.0},
    }  # fmt: skip
    regression = {
        "task": "regression", "source": "plotnine data/diamonds.csv", "train_rows": 37758,
        "test_rows": 16182, "features": 9, "text_features": 3, "missing_share": 0.0,
        "models": reg_models, "verdict": verdict("regression", reg_models),
    }  # fmt: skip
    return {
        "tables": {"breast_cancer": classification, "diamonds": regression},
        "machine": {"cpu_model": "CPU", "cpus": 2, "python": "3.11", "load_avg_1m": 1.0},
        "date": "2026-12-06 22:00 UTC",
        "engine_commit": "abc1234",
        "wall_s": 600.0,
        "budget_s": 120.0,
    }


def test_the_docs_section_states_the_verdict_and_the_tables():
    section = doc_section(_result())
    assert section.startswith("## Tabular\n")
    assert "**met** on 1 of 2; not on `breast_cancer`; augury trained in 40.0 to 130.0 s" in section
    assert (
        "| `breast_cancer` | ROC AUC 0.9900 vs 0.9800 (LightGBM; +0.0100); "
        "F1 0.9500 vs 0.9600 (LightGBM; −0.0100) | no |"
    ) in section
    assert "| `diamonds` | RMSE 540 vs 555.6 (HistGradientBoosting; +15.58)" in section
    assert "| augury (automatic) | **0.9900** | 0.9500 | 40.0 (70.0) | 300 (200) |" in section
    assert "| LightGBM (defaults) | 0.9800 | **0.9600** | 0.1 (0.2) | 300 (200) |" in section
    assert "augury is behind the best peer on `breast_cancer` (F1 −0.0100)" in section
    assert "outran its 120 s budget on `diamonds` (130 s; 200 s of CPU)" in section
    assert "Positives in the binary test halves: `breast_cancer` 64;" in section
    assert summary_lines(_result())[-1] == "augury at least as good as the best peer on 1/2"
