"""The predictive-model engine on real and constructed tables: what it learns, what it
leaves out and why, what it refuses, and that a saved model predicts the same."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_breast_cancer, load_diabetes, load_wine

from augury.engines.tabular.automl import ModelError, TrainOptions, load, plan, train

BUDGET = 6.0


@pytest.fixture(scope="module")
def cancer() -> pd.DataFrame:
    frame = load_breast_cancer(as_frame=True).frame
    frame.insert(0, "patient_id", np.arange(1000, 1000 + len(frame)))
    frame["diagnosis"] = np.where(frame.pop("target") == 1, "benign", "malignant")
    return frame


@pytest.fixture(scope="module")
def cancer_model(cancer):
    return train(cancer, "diagnosis", TrainOptions(time_budget_s=BUDGET))


def test_binary_model_validates_well_and_leaves_out_the_identifier(cancer_model):
    s = cancer_model.summary()
    assert s["task"] == "binary" and s["classes"] == ["benign", "malignant"]
    assert {"column": "patient_id", "code": "identifier"}.items() <= s["excluded"][0].items()
    assert s["metrics"]["mean"]["roc_auc"] > 0.98
    assert len(s["metrics"]["folds"]) == 15  # 5 folds, repeated 3 times on a small table
    assert s["metrics"]["validation"].endswith("repeated 3 times")
    assert s["metrics"]["std"]["roc_auc"] > 0
    assert 0 < s["threshold"] < 1
    matrix = np.array(s["confusion"]["matrix"])
    assert matrix.sum() == s["rows"] == 569
    assert abs(sum(r["importance"] for r in s["importance"]) - 1) < 1e-6
    assert [c for c in s["candidates"] if c["chosen"]]
    json.dumps(s)  # the summary is what the registry stores


def test_predictions_keep_row_order_and_probabilities_sum_to_one(cancer, cancer_model):
    rows = cancer.sample(40, random_state=1)
    out = cancer_model.predict(rows)
    assert list(out.columns) == ["prediction", "probability_benign", "probability_malignant"]
    assert len(out) == 40
    np.testing.assert_allclose(out.filter(like="probability_").sum(axis=1), 1.0)
    accuracy = np.mean(out["prediction"].to_numpy() == rows["diagnosis"].to_numpy())
    assert accuracy > 0.9
    reversed_out = cancer_model.predict(rows.iloc[::-1])
    np.testing.assert_allclose(
        reversed_out["probability_benign"].to_numpy()[::-1], out["probability_benign"]
    )


def test_explanations_add_up_to_the_models_output(cancer, cancer_model):
    rows = cancer.head(8)
    ex = cancer_model.explain(rows)
    assert ex.contributions.shape == (8, len(cancer_model.features))
    np.testing.assert_allclose(ex.bases + ex.contributions.sum(axis=1), ex.raw, atol=1e-6)
    p = cancer_model.predict(rows)["probability_malignant"].to_numpy()
    np.testing.assert_allclose(1 / (1 + np.exp(-ex.raw)), p, atol=1e-6)


def test_a_saved_model_loads_and_predicts_the_same_and_a_tampered_one_is_refused(
    cancer, cancer_model, tmp_path
):
    digest = cancer_model.save(tmp_path / "m")
    again = load(tmp_path / "m")
    assert again.info["content_hash"] == digest
    pd.testing.assert_frame_equal(
        again.predict(cancer.head(30)), cancer_model.predict(cancer.head(30))
    )
    model_json = tmp_path / "m" / "model.json"
    header = json.loads(model_json.read_text())
    header["meta"]["threshold"] = 0.01
    model_json.write_text(json.dumps(header))
    with pytest.raises(ModelError) as err:
        load(tmp_path / "m")
    assert err.value.code == "MODEL_CORRUPT"


def test_missing_feature_column_is_named_and_new_categories_predict():
    rng = np.random.default_rng(3)
    n = 400
    frame = pd.DataFrame(
        {
            "colour": rng.choice(["red", "green", "blue"], n),
            "size": rng.normal(size=n),
        }
    )
    frame["bought"] = (frame["size"] + (frame["colour"] == "red") + rng.normal(0, 0.7, n)) > 0.5
    model = train(frame, "bought", TrainOptions(time_budget_s=BUDGET))
    with pytest.raises(ModelError) as err:
        model.predict(frame.drop(columns=["size"]))
    assert err.value.code == "MISSING_COLUMNS" and err.value.details["missing"] == ["size"]
    fresh = pd.DataFrame({"colour": ["purple", None], "size": [0.3, np.nan]})
    out = model.predict(fresh)
    assert out["prediction"].isin(["False", "True"]).all()


def test_regression_interval_covers_about_80_percent():
    frame = load_diabetes(as_frame=True).frame
    train_rows, test_rows = frame.iloc[:330], frame.iloc[330:]
    model = train(train_rows, "target", TrainOptions(time_budget_s=BUDGET))
    s = model.summary()
    assert s["task"] == "regression" and s["metrics"]["mean"]["r2"] > 0.35
    out = model.predict(test_rows)
    inside = (test_rows["target"].to_numpy() >= out["lower"]) & (
        test_rows["target"].to_numpy() <= out["upper"]
    )
    assert 0.65 <= inside.mean() <= 0.95
    assert len(s["residuals"]["actual"]) == len(s["residuals"]["predicted"]) > 0


def test_multiclass_probabilities_and_explanation_of_the_predicted_class():
    frame = load_wine(as_frame=True).frame
    model = train(frame, "target", TrainOptions(application="classification", time_budget_s=BUDGET))
    s = model.summary()
    assert s["task"] == "multiclass" and s["classes"] == ["0", "1", "2"]
    assert s["metrics"]["mean"]["accuracy"] > 0.9
    out = model.predict(frame.head(5))
    np.testing.assert_allclose(out.filter(like="probability_").sum(axis=1), 1.0)
    ex = model.explain(frame.head(5))
    assert ex.classes == list(out["prediction"])


def test_failure_threshold_follows_the_cost_of_a_missed_failure():
    rng = np.random.default_rng(7)
    n = 3000
    wear = rng.uniform(0, 250, n)
    torque = rng.normal(40, 10, n)
    risk = 1 / (1 + np.exp(-(wear - 200) / 12 - (torque - 55) / 6))
    frame = pd.DataFrame({"wear": wear, "torque": torque, "failed": rng.random(n) < risk})
    assert frame["failed"].mean() < 0.15
    balanced = train(frame, "failed", TrainOptions(application="failure", time_budget_s=BUDGET))
    costly = train(
        frame,
        "failed",
        TrainOptions(
            application="failure", time_budget_s=BUDGET, cost_missed=20, cost_false_alarm=1
        ),
    )
    assert costly.threshold < balanced.threshold
    recall = lambda m: np.array(m.summary()["confusion"]["matrix"])[1, 1] / frame["failed"].sum()  # noqa: E731
    assert recall(costly) > recall(balanced)


def test_flags_that_restate_the_target_are_left_out_as_leaks():
    rng = np.random.default_rng(11)
    n = 2000
    frame = pd.DataFrame({"temp": rng.normal(300, 2, n), "speed": rng.normal(1500, 100, n)})
    kind = rng.choice(["tool", "heat", "power", "none"], n, p=[0.02, 0.02, 0.02, 0.94])
    for k in ("tool", "heat", "power"):
        frame[f"{k}_failure"] = (kind == k).astype(int)
    frame["machine_failure"] = (kind != "none").astype(int)
    p = plan(frame, "machine_failure", TrainOptions(application="failure"))
    leaks = {e["column"] for e in p.excluded if e["code"] == "leak"}
    assert leaks == {"tool_failure", "heat_failure", "power_failure"}
    assert p.features == ["temp", "speed"]
    flags = ["tool_failure", "heat_failure", "power_failure"]
    named = plan(frame, "machine_failure", TrainOptions(features=["temp", *flags]))
    assert named.features == ["temp", *flags]  # named by the person: kept, with a warning
    assert sum("may leak" in w for w in named.warnings) == 3


def test_dates_in_three_formats_give_time_ordered_validation():
    rng = np.random.default_rng(5)
    n = 300
    day = pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.permutation(n), unit="D")
    text = [
        d.strftime("%Y-%m-%d")
        if i % 3 == 0
        else d.strftime("%d %b %Y")
        if i % 3 == 1
        else d.strftime("%B %d, %Y")
        for i, d in enumerate(day)
    ]
    x = rng.normal(size=n)
    frame = pd.DataFrame({"day": text, "x": x, "y": x + rng.normal(0, 0.5, n) > 0})
    p = plan(frame, "y", TrainOptions())
    assert p.date_column == "day" and p.kinds["day"] == "datetime"
    model = train(frame, "y", TrainOptions(time_budget_s=BUDGET))
    assert model.summary()["metrics"]["validation"].startswith("time-ordered")
    assert "day.month" in model.encoder.names


@pytest.mark.parametrize(
    ("frame", "target", "options", "code"),
    [
        (pd.DataFrame({"x": range(50), "y": ["a"] * 50}), "y", TrainOptions(), "TARGET_ONE_CLASS"),
        (pd.DataFrame({"x": range(50), "y": [None] * 50}), "y", TrainOptions(), "TARGET_EMPTY"),
        (pd.DataFrame({"x": [1.0], "y": ["a"]}), "y", TrainOptions(), "TOO_FEW_ROWS"),
        (
            pd.DataFrame({"x": range(50), "y": [0, 1] * 25}),
            "nope",
            TrainOptions(),
            "UNKNOWN_COLUMN",
        ),
        (
            pd.DataFrame({"x": range(50), "y": ["a", "b"] * 25}),
            "y",
            TrainOptions(application="regression"),
            "TARGET_NOT_NUMERIC",
        ),
        (
            pd.DataFrame({"x": range(50), "y": [0, 1, 2] * 16 + [0, 1]}),
            "y",
            TrainOptions(application="failure"),
            "BAD_OPTIONS",
        ),
        (
            pd.DataFrame({"e": [None] * 50, "y": [0, 1] * 25}),
            "y",
            TrainOptions(),
            "NO_FEATURES",
        ),
    ],
)
def test_bad_training_input_is_refused_with_a_code(frame, target, options, code):
    with pytest.raises(ModelError) as err:
        plan(frame, target, options)
    assert err.value.code == code and err.value.message


def test_nan_targets_are_dropped_with_a_warning_and_all_null_columns_left_out():
    rng = np.random.default_rng(2)
    n = 200
    x = rng.normal(size=n)
    y = np.where(rng.random(n) < 0.2, np.nan, x + rng.normal(0, 0.3, n))
    frame = pd.DataFrame({"x": x, "empty": [None] * n, "y": y})
    p = plan(frame, "y", TrainOptions())
    assert p.rows == int(np.isfinite(y).sum()) and "without a target value" in p.warnings[0]
    assert {"column": "empty", "code": "all_null", "reason": "The column is empty."} in p.excluded


def test_wide_and_high_cardinality_tables():
    rng = np.random.default_rng(9)
    wide = pd.DataFrame(rng.normal(size=(200, 2000)), columns=[f"c{i}" for i in range(2000)])
    wide["y"] = wide["c0"] + rng.normal(0, 0.5, 200) > 0
    model = train(wide, "y", TrainOptions(time_budget_s=BUDGET))
    assert len(model.features) == 2000
    assert model.summary()["importance"][0]["feature"] == "c0"
    n = 100_000
    levels = pd.DataFrame({"sku": [f"S{i}" for i in range(n)], "x": rng.normal(size=n)})
    levels["y"] = levels["x"] + rng.normal(0, 1, n) > 0
    p = plan(levels, "y", TrainOptions())
    assert [(e["column"], e["code"]) for e in p.excluded] == [("sku", "identifier")]


def test_forecast_per_series_from_a_table():
    rng = np.random.default_rng(0)
    hours = pd.date_range("2024-01-01", periods=24 * 21, freq="h")
    frame = pd.concat(
        pd.DataFrame(
            {
                "when": hours.strftime("%Y-%m-%d %H:%M"),
                "store": store,
                "sales": 50
                + level
                + 10 * np.sin(2 * np.pi * np.arange(len(hours)) / 24)
                + rng.normal(0, 1, len(hours)),
            }
        )
        for store, level in (("north", 0), ("south", 20))
    )
    model = train(
        frame, "sales", TrainOptions(application="forecast", series_columns=["store"], horizon=24)
    )
    s = model.summary()
    assert s["task"] == "forecast" and s["metrics"]["mean"]["smape"] < 10
    out = model.predict(frame)
    assert list(out.columns) == ["store", "when", "prediction", "lower", "upper"]
    assert len(out) == 48 and out["when"].min() == hours[-1] + pd.Timedelta(hours=1)
    south = out[out["store"] == "south"]["prediction"].mean()
    north = out[out["store"] == "north"]["prediction"].mean()
    assert 15 < south - north < 25
    with pytest.raises(ModelError):
        model.explain(frame)


def test_a_failure_target_in_words_takes_the_rarer_value_as_the_failure():
    rng = np.random.default_rng(4)
    n = 300
    heat = rng.normal(size=n)
    failed = heat + rng.normal(0, 1.0, n) > 1.5
    frame = pd.DataFrame({"heat": heat, "state": np.where(failed, "failed", "ok")})
    p = plan(frame, "state", TrainOptions(application="failure"))
    assert p.classes == ["ok", "failed"]  # sorted, "ok" would have been the positive
    assert "'failed', the rarer value of 'state', is the failure." in p.warnings
    model = train(frame, "state", TrainOptions(application="failure", time_budget_s=BUDGET))
    out = model.predict(pd.DataFrame({"heat": [3.0, -1.0]}))
    assert list(out["prediction"]) == ["failed", "ok"]
    assert list(out.columns) == ["prediction", "probability_ok", "probability_failed"]
    coded = plan(
        frame.assign(state=(~failed).astype(int)), "state", TrainOptions(application="failure")
    )
    assert coded.classes == ["0", "1"]  # 1 is the failure when the target says so, rare or not


def test_every_fold_is_scored_at_the_rounds_the_folds_agree_on():
    """Not each fold's own best round (its validation rows would pick the model they
    grade): the lowest mean loss, a fold stopped early keeping its last loss."""
    from augury.engines.tabular.automl.search import _common_rounds

    assert _common_rounds([np.array([1.0, 0.5, 0.4, 0.6]), np.array([1.0, 0.6, 0.5])]) == 3
    assert _common_rounds([np.array([1.0, 0.2, 0.3, 0.4]), np.array([1.0, 0.9, 0.8, 0.1])]) == 4
    assert _common_rounds([np.array([0.7]), np.array([])]) == 1


def test_a_nearly_linear_table_keeps_the_linear_model_alone():
    """Trees and blends must beat the linear model beyond noise to be kept."""
    rng = np.random.default_rng(3)
    x = rng.normal(size=(240, 4))
    noise = rng.normal(scale=1.0, size=240)
    frame = pd.DataFrame(x, columns=list("abcd"))
    frame["y"] = x @ np.array([3.0, -2.0, 1.0, 0.5]) + 0.5 * np.tanh(2 * x[:, 0]) + noise
    model = train(frame, "y", TrainOptions(application="regression", time_budget_s=10, seed=0))
    chosen = [c for c in model.summary()["candidates"] if c["chosen"]]
    assert [(c["kind"], c["weight"]) for c in chosen] == [("linear", 1.0)]
    assert model.summary()["metrics"]["mean"]["r2"] > 0.9


def test_a_folds_staged_margins_are_the_boosters_at_those_rounds():
    """The search keeps each fold's validation margins at evenly spaced rounds instead of
    its booster: they must be what the booster predicts there."""
    from augury.engines.tabular.automl.learners import Trees

    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 8))
    y = x[:, 1] * 3 + rng.normal(size=600)
    trees = Trees({"learning_rate": 0.05, "num_leaves": 7, "seed": 1})
    trees.fit(x[:400], y[:400], "regression", 2, [], valid=(x[400:], y[400:]))
    ends, _ = trees.staged
    assert ends[-1] == trees.booster.current_iteration() and len(ends) <= 100
    for stage in (0, len(ends) // 2, len(ends) - 1):
        rounds = int(ends[stage])
        full = trees.booster.predict(x[400:], raw_score=True, num_iteration=rounds)
        np.testing.assert_allclose(trees.margin_at(rounds), full)
        if stage + 1 < len(ends) and ends[stage + 1] > rounds + 1:  # between stages: the one before
            np.testing.assert_allclose(trees.margin_at(rounds + 1), full)
