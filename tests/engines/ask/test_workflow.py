"""Workflow steps over a synthetic daily series with planted outliers, gaps and a
duplicate row; the step graph and its refusals; serial and parallel runs."""

from __future__ import annotations

import doctest
import threading

import numpy as np
import pandas as pd
import pytest

from augury.engines.ask import workflow as wf

DAYS = 200
OUTLIERS = {40: 900.0, 120: -400.0}
BLANKS = (60, 61, 62)
MISSING_DAYS = (90, 91)


def daily() -> pd.DataFrame:
    """A rising weekly-cycled daily series (sales) with a store label; two planted
    outliers, three blank values, two days without a row and one duplicated row."""
    rng = np.random.default_rng(7)
    t = np.arange(DAYS)
    sales = 100 + 0.5 * t + 8 * np.sin(2 * np.pi * t / 7) + rng.normal(0, 1, DAYS)
    frame = pd.DataFrame(
        {
            "day": pd.date_range("2024-01-01", periods=DAYS, freq="D"),
            "sales": sales,
            "store": np.where(t % 3 == 0, "north", "south"),
        }
    )
    for i, v in OUTLIERS.items():
        frame.loc[i, "sales"] = v
    frame.loc[list(BLANKS), "sales"] = np.nan
    frame.loc[5, "store"] = None
    frame = frame.drop(index=list(MISSING_DAYS))
    return pd.concat([frame, frame.loc[[10]]]).reset_index(drop=True)


def test_docstring_examples():
    result = doctest.testmod(wf, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_preparation_removes_outliers_fills_gaps_and_drops_duplicates():
    raw = daily()
    out = wf.prepare(raw, cleaning_rules=["fill_missing", "remove_outliers", "drop_duplicates"])
    frame, s = out.frame, out.summary
    assert s["time_column"] == "day"
    assert s["duplicates_dropped"] == 1 and frame["day"].is_unique
    assert s["outliers_removed"] == {"sales": 2}
    assert s["filled"] == {"sales": 5, "store": 1}
    assert frame["sales"].notna().all() and frame["store"].notna().all()
    assert frame["store"].iloc[5] == "south"  # the most frequent label
    assert frame["sales"].between(90, 220).all()
    # an outlier becomes the interpolation of its neighbours (the days either side)
    by_day = frame.set_index("day")["sales"]
    at = pd.Timestamp("2024-01-01") + pd.Timedelta(days=40)
    near = (by_day[at - pd.Timedelta(days=1)] + by_day[at + pd.Timedelta(days=1)]) / 2
    assert by_day[at] == pytest.approx(near)
    assert len(frame) == DAYS - len(MISSING_DAYS)
    assert frame["day"].is_monotonic_increasing


def test_outliers_by_iqr_and_a_column_with_mostly_equal_values():
    values = pd.Series([5.0] * 40 + [6.0, 5.5, 50.0])
    assert wf.outlier_mask(values).tolist()[-3:] == [False, False, True]
    assert wf.outlier_mask(values, "iqr").sum() >= 1
    assert not wf.outlier_mask(pd.Series([3.0] * 10)).any()


def test_time_ranges_count_back_from_the_newest_row():
    raw = daily()
    last = wf.prepare(raw, time_range="last_30_days").frame
    assert last["day"].min() == pd.Timestamp("2024-06-18")  # 2024-07-18 less 30 days
    assert last["day"].max() == pd.Timestamp("2024-07-18") and len(last) == 31
    window = wf.prepare(raw, time_range={"start": "2024-02-01", "end": "2024-02-10"}).frame
    assert window["day"].min() == pd.Timestamp("2024-02-01")
    assert window["day"].max() == pd.Timestamp("2024-02-10")  # the end day is whole
    kept = wf.prepare(raw, value_columns=["sales"]).frame
    assert list(kept.columns) == ["day", "sales"]
    with pytest.raises(wf.WorkflowError, match="No rows left"):
        wf.prepare(raw, time_range={"start": "2030-01-01"})
    with pytest.raises(wf.WorkflowError, match="value_columns: no column 'profit'"):
        wf.prepare(raw, value_columns=["profit"])
    with pytest.raises(wf.WorkflowError, match="Unknown time range"):
        wf.prepare(raw, time_range="yesterday")


def test_moving_average_over_a_series_with_missing_days():
    clean = wf.prepare(daily(), cleaning_rules=["remove_outliers", "fill_missing"]).frame
    clean = clean.drop_duplicates("day")
    out = wf.trend(clean, window_size=7, column="sales")
    frame, s = out.frame, out.summary
    assert s["periods"] == DAYS and s["filled_periods"] == len(MISSING_DAYS)
    assert list(frame.columns) == ["day", "sales", "moving_average"]
    y = frame["sales"].to_numpy()
    assert np.isnan(frame["moving_average"].iloc[:6]).all()
    for i in (6, 50, 91, DAYS - 1):
        assert frame["moving_average"].iloc[i] == pytest.approx(y[i - 6 : i + 1].mean())
    assert s["direction"] == "up" and s["slope_per_period"] == pytest.approx(0.5, abs=0.05)
    assert s["last"] == pytest.approx(frame["moving_average"].iloc[-1])


def test_linear_trend_and_weekly_sums():
    clean = wf.prepare(daily(), cleaning_rules=["remove_outliers", "fill_missing"]).frame
    clean = clean.drop_duplicates("day")
    out = wf.trend(clean, method="linear", frequency="W", aggregate="sum")
    frame, s = out.frame, out.summary
    assert s["frequency"] == "W" and frame["day"].dt.dayofweek.eq(0).all()  # Mondays
    second_week = clean[(clean["day"] >= "2024-01-08") & (clean["day"] < "2024-01-15")]
    assert frame["sales"].iloc[1] == pytest.approx(second_week["sales"].sum())
    assert s["r_squared"] > 0.5 and s["direction"] == "up"
    flat = pd.DataFrame({"day": pd.date_range("2024-01-01", periods=30), "v": 5.0})
    assert wf.trend(flat, method="linear").summary["direction"] == "flat"


@pytest.mark.parametrize("model", ["naive", "theta"])
def test_forecast_has_its_periods_and_an_interval_around_each_point(model):
    clean = wf.prepare(daily(), cleaning_rules=["remove_outliers", "fill_missing"]).frame
    clean = clean.drop_duplicates("day").tail(120)
    out = wf.forecast(clean, model=model, forecast_periods=14, confidence_interval=0.9)
    frame, s = out.frame, out.summary
    assert len(frame) == 14 and len(s["points"]) == 14
    assert frame["day"].iloc[0] == clean["day"].max() + pd.Timedelta(days=1)
    assert (frame["lower"] <= frame["forecast"]).all() and (
        frame["forecast"] <= frame["upper"]
    ).all()
    assert (frame["upper"] > frame["lower"]).all()
    assert s["model_requested"] == model and s["confidence_interval"] == 0.9
    assert s["model_used"] == {"naive": "naive", "theta": "auto_theta"}[model]
    if model == "naive":
        assert frame["forecast"].eq(clean["sales"].iloc[-1]).all()
    assert s["points"][0]["time"] == "2024-07-19T00:00:00"


def test_arima_runs_the_automatic_choice_and_says_so():
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(
        {
            "t": pd.date_range("2024-01-01", periods=36, freq="MS"),
            "v": np.arange(36.0) + 10 + rng.normal(0, 1, 36),
        }
    )
    s = wf.forecast(frame, model="arima", forecast_periods=3).summary
    assert s["frequency"] == "M" and "no ARIMA" in s["note"]
    assert s["model_used"] in s["note"] and s["interval_method"] == "conformal"
    assert [p["time"][:10] for p in s["points"]] == ["2027-01-01", "2027-02-01", "2027-03-01"]
    assert all(p["lower"] < p["forecast"] < p["upper"] for p in s["points"])
    assert s["points"][0]["forecast"] == pytest.approx(46, abs=4)


def test_steps_refuse_data_they_cannot_use():
    no_dates = pd.DataFrame({"a": [1.0, 2.0, 3.0]})
    with pytest.raises(wf.WorkflowError, match="no date column"):
        wf.trend(no_dates)
    assert wf.prepare(no_dates, cleaning_rules=["fill_missing"]).summary["time_column"] is None
    text_dates = pd.DataFrame({"when": ["2024-01-01", "2024-01-02", "2024-01-03"], "v": [1, 2, 3]})
    assert wf.trend(text_dates, window_size=2).summary["time_column"] == "when"
    with pytest.raises(wf.WorkflowError, match="window_size 9 is longer"):
        wf.trend(text_dates, window_size=9)
    with pytest.raises(wf.WorkflowError, match="not numeric"):
        wf.trend(daily(), column="store")


def step(n, kind="trend_analysis", depends_on=None, **parameters):
    return {"step": n, "type": kind, "parameters": parameters, "depends_on": depends_on}


def test_plan_feeds_analyses_from_the_preparation_before_them():
    nodes = wf.plan(
        [
            step(1, "data_preparation"),
            step(2),
            step(3, "forecasting"),
            step(4, "forecasting", depends_on=[2]),
            step(5, data_source="other"),
        ],
        "sales",
    )
    assert [(n.step, n.feed, n.source, n.after) for n in nodes] == [
        (1, None, "sales", ()),
        (2, 1, None, (1,)),
        (3, 1, None, (1,)),
        (4, 2, None, (2,)),
        (5, None, "other", ()),
    ]
    assert wf.waves(nodes) == [[1, 5], [2, 3], [4]]


@pytest.mark.parametrize(
    ("steps", "message"),
    [
        ([step(1, depends_on=[2]), step(2, depends_on=[1])], "1 -> 2 -> 1 form a cycle"),
        ([step(1, depends_on=[1])], "depends on itself"),
        ([step(1), step(2, depends_on=[3]), step(3)], "depends on step 3, which comes later"),
        ([step(1, depends_on=[7])], "step 7, which does not exist"),
        ([step(1), step(1)], "numbered twice"),
        ([step(1, "clustering")], "unknown type"),
        ([], "needs a step"),
    ],
)
def test_plan_refuses_bad_graphs(steps, message):
    with pytest.raises(wf.WorkflowError) as err:
        wf.plan(steps, "sales")
    assert any(message in p["message"] for p in err.value.problems)


def test_a_step_without_any_data_is_refused():
    with pytest.raises(wf.WorkflowError, match="Step 1 has no data"):
        wf.plan([step(1, "data_preparation")], None)


def test_parallel_run_starts_independent_steps_together_and_stops_on_an_error():
    frame = wf.prepare(daily(), cleaning_rules=["remove_outliers", "fill_missing"]).frame
    frame = frame.drop_duplicates("day")
    nodes = wf.plan(
        [
            step(1, "data_preparation", time_range="last_90_days"),
            step(2, window_size=5),
            step(3, "forecasting", model="naive", forecast_periods=3),
        ],
        "sales",
    )
    loads, order, threads = [], [], set()
    done = []

    def load(source):
        loads.append(source)
        return frame

    def on_start(node):
        order.append(node.step)

    def on_done(node, result, seconds):
        threads.add(threading.current_thread().name)
        done.append(node.step)

    results = wf.run(nodes, load, parallel=True, on_start=on_start, on_done=on_done)
    assert loads == ["sales"] and order == [1, 2, 3] and sorted(done) == [1, 2, 3]
    assert threads == {threading.current_thread().name}  # callbacks in the caller's thread
    assert len(results[3].frame) == 3 and results[2].summary["window_size"] == 5
    assert results[2].summary["periods"] == 91

    serial = wf.run(nodes, load, parallel=False)
    assert serial[3].frame.equals(results[3].frame)

    bad = wf.plan([step(1, "data_preparation"), step(2, column="nope")], "sales")
    with pytest.raises(wf.WorkflowError, match=r"step 2 \(trend_analysis\): column: no column"):
        wf.run(bad, load, parallel=True)

    class Abort(Exception):
        pass

    def abort(node, result, seconds):
        raise Abort

    with pytest.raises(Abort):
        wf.run(nodes, load, parallel=True, on_done=abort)
