"""`augury detect` and `augury forecast` on CSV files (no server, no database)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from typer.testing import CliRunner

from augury.cli import app
from augury.engines.detect import score_series

runner = CliRunner()
START = pd.Timestamp("2024-05-01T00:00:00Z")


def run(*args, code: int = 0):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exit_code == code, (result.output, result.exception)
    return result


def seasonal(n: int, period: int, seed: int, level: float = 100.0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    t = np.arange(n)
    return level + 20 * np.sin(2 * np.pi * t / period) + rng.normal(0, 1.5, n)


def iso(stamps: pd.DatetimeIndex) -> list[str]:
    return [t.strftime("%Y-%m-%dT%H:%M:%SZ") for t in stamps]


# -- detect ----------------------------------------------------------------------------


def test_detect_scores_every_row_and_raises_the_spike(tmp_path):
    n, spike = 3 * 288, 700  # three days at 5-minute resolution, spike on day three
    y = seasonal(n, 288, seed=1)
    y[spike] += 60
    stamps = iso(pd.date_range(START, periods=n, freq="5min"))
    src = tmp_path / "cpu.csv"
    pd.DataFrame({"timestamp": stamps, "value": np.round(y, 3)}).to_csv(src, index=False)

    out = run("detect", src, "--out", tmp_path / "scores.csv").output
    scores = pd.read_csv(tmp_path / "scores.csv", dtype={"timestamp": str})

    assert list(scores.columns) == ["timestamp", "value", "anomaly_score", "is_anomaly"]
    assert len(scores) == n
    assert scores["timestamp"].tolist() == stamps  # the input's text, unchanged
    assert scores["anomaly_score"].between(0, 1).all()
    assert set(scores["is_anomaly"]) <= {0, 1}
    assert int(scores["anomaly_score"].idxmax()) == spike
    assert scores.loc[spike, "is_anomaly"] == 1
    assert f"cpu\t{stamps[spike]}\t" in out  # the summary lists the raising point
    assert f"{scores['is_anomaly'].sum()} anomalies raised" in out


def test_detect_long_format_streams_each_series_in_time_order(tmp_path):
    n, spike = 600, 500
    t0 = int(START.timestamp())
    a, b = seasonal(n, 60, seed=2), seasonal(n, 60, seed=3, level=50)
    b[spike] -= 40
    frames = [
        pd.DataFrame({"series": name, "timestamp": t0 + 60 * np.arange(n), "value": v})
        for name, v in (("a", a), ("b", b))
    ]
    shuffled = pd.concat(frames).sample(frac=1.0, random_state=0)  # any row order
    shuffled.to_csv(tmp_path / "in.csv", index=False)

    run("detect", tmp_path / "in.csv", "--out", tmp_path / "out.csv")
    got = pd.read_csv(tmp_path / "out.csv")

    assert list(got.columns) == ["series", "timestamp", "value", "anomaly_score", "is_anomaly"]
    assert got[["series", "timestamp"]].values.tolist() == (
        shuffled[["series", "timestamp"]].values.tolist()  # rows come back in input order
    )
    for name, v in (("a", a), ("b", b)):  # the very scores of the engine, series by series
        rows = got[got["series"] == name].sort_values("timestamp")
        expected = score_series(v, t0 + 60.0 * np.arange(n))
        np.testing.assert_allclose(rows["anomaly_score"], expected.scores, atol=1e-6)
        assert rows["is_anomaly"].tolist() == expected.is_anomaly.astype(int).tolist()
    top = got.loc[got["anomaly_score"].idxmax()]
    assert (top["series"], top["timestamp"], top["is_anomaly"]) == ("b", t0 + 60 * spike, 1)


# -- forecast --------------------------------------------------------------------------


def check_intervals(fc: pd.DataFrame) -> None:
    assert (fc["lower_95"] <= fc["lower_80"]).all()
    assert (fc["lower_80"] <= fc["forecast"]).all()
    assert (fc["forecast"] <= fc["upper_80"]).all()
    assert (fc["upper_80"] <= fc["upper_95"]).all()
    width80 = (fc["upper_80"] - fc["lower_80"]).mean()
    assert (fc["upper_95"] - fc["lower_95"]).mean() > width80 > 0


def test_forecast_long_format_iso(tmp_path):
    n, h = 24 * 14, 24
    stamps = pd.date_range(START, periods=n, freq="h")
    pd.concat(
        pd.DataFrame({"series": name, "timestamp": iso(stamps), "value": seasonal(n, 24, seed)})
        for name, seed in (("web", 4), ("db", 5))
    ).to_csv(tmp_path / "hourly.csv", index=False)

    out = run(
        "forecast", tmp_path / "hourly.csv", "--horizon", h, "--out", tmp_path / "fc.csv"
    ).output
    fc = pd.read_csv(tmp_path / "fc.csv")

    assert list(fc.columns) == [
        "series", "timestamp", "forecast", "lower_80", "upper_80", "lower_95", "upper_95",
        "model",
    ]  # fmt: skip
    assert fc["series"].tolist() == ["web"] * h + ["db"] * h
    check_intervals(fc)
    expected = iso(pd.date_range(stamps[-1] + pd.Timedelta(hours=1), periods=h, freq="h"))
    for name in ("web", "db"):
        rows = fc[fc["series"] == name]
        assert rows["timestamp"].tolist() == expected  # ISO in, ISO out, one hour apart
        assert rows["model"].nunique() == 1
        assert f"{name}: {rows['model'].iloc[0]} ({n} points every 1h" in out
    assert "wrote 48 rows for 2 of 2 series" in out


def test_forecast_plain_epoch_and_custom_level(tmp_path):
    n, h, step = 12 * 21, 10, 7200  # every 2 hours: no frequency alias, daily cycle of 12
    t = 1_700_000_100 + step * np.arange(n)
    src = tmp_path / "power.csv"
    history = pd.DataFrame({"timestamp": t, "value": seasonal(n, 12, seed=6)})
    history.drop(index=[50, 51, 120]).to_csv(src, index=False)  # gaps do not change the step

    run("forecast", src, "--horizon", h, "--level", 90, "--out", tmp_path / "fc.csv")
    fc = pd.read_csv(tmp_path / "fc.csv")

    assert list(fc.columns) == [
        "series", "timestamp", "forecast", "lower_90", "upper_90", "model"
    ]  # fmt: skip
    assert (fc["series"] == "power").all()  # one series, named after the file
    assert fc["timestamp"].tolist() == [int(t[-1]) + step * k for k in range(1, h + 1)]
    assert ((fc["lower_90"] <= fc["forecast"]) & (fc["forecast"] <= fc["upper_90"])).all()


def test_forecast_one_failing_series_does_not_fail_the_file(tmp_path):
    n = 24 * 10
    good = pd.DataFrame(
        {"series": "good", "timestamp": 3600 * np.arange(n), "value": seasonal(n, 24, 7)}
    )
    lonely = pd.DataFrame({"series": ["lonely"], "timestamp": [0], "value": [1.0]})
    pd.concat([lonely, good]).to_csv(tmp_path / "in.csv", index=False)

    result = run(
        "forecast", tmp_path / "in.csv", "--horizon", 6, "--out", tmp_path / "fc.csv", code=1
    )
    fc = pd.read_csv(tmp_path / "fc.csv")

    assert fc["series"].tolist() == ["good"] * 6
    assert "lonely: failed (1 points): needs at least two distinct timestamps" in result.output
    assert "wrote 6 rows for 1 of 2 series" in result.output


# -- bad input -------------------------------------------------------------------------


@pytest.fixture
def good_csv(tmp_path):
    path = tmp_path / "good.csv"
    pd.DataFrame({"timestamp": 60 * np.arange(30), "value": np.arange(30.0)}).to_csv(
        path, index=False
    )
    return path


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (None, "no such file"),
        ("", "is empty"),
        ("timestamp,value\n", "no data rows"),
        ("time,val\n1,2\n", "missing column(s) timestamp, value"),
        ("series,timestamp\na,1\n", "missing column(s) value"),
        ("timestamp,value\n0,1\n60,high\n120,3\n", "non-numeric value 'high' on line 3"),
        ("timestamp,value\n0,1\nyesterday,2\n", "cannot read timestamp 'yesterday' on line 3"),
    ],
)
@pytest.mark.parametrize("command", ["detect", "forecast"])
def test_bad_files_are_one_line_errors(tmp_path, command, content, message):
    src = tmp_path / "in.csv"
    if content is not None:
        src.write_text(content)
    extra = ["--horizon", "3"] if command == "forecast" else []
    result = run(command, src, *extra, "--out", tmp_path / "out.csv", code=2)
    assert result.output.startswith("error: ") and message in result.output, result.output
    assert result.output.count("\n") == 1 and "Traceback" not in result.output
    assert isinstance(result.exception, SystemExit)
    assert not (tmp_path / "out.csv").exists()


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--horizon", "0"], "horizon must be a positive integer"),
        (["--horizon", "3", "--level", "100"], "between 0 and 100"),
        (["--horizon", "3", "--level", "80", "--level", "0"], "between 0 and 100"),
    ],
)
def test_bad_forecast_options_are_one_line_errors(tmp_path, good_csv, options, message):
    result = run("forecast", good_csv, *options, "--out", tmp_path / "out.csv", code=2)
    assert result.output.startswith("error: ") and message in result.output
    assert result.output.count("\n") == 1


def test_bad_decision_level(tmp_path, good_csv):
    result = run("detect", good_csv, "--decision-level", "1.5", "--out", tmp_path / "o.csv", code=2)
    assert result.output == "error: decision level must be in (0, 1], got 1.5\n"


def test_irregular_timestamps_fail_that_series(tmp_path):
    rows = "series,timestamp,value\nodd,0,1\nodd,60,2\nodd,100000000,3\nodd,100000060,4\n"
    (tmp_path / "in.csv").write_text(rows)
    result = run(
        "forecast", tmp_path / "in.csv", "--horizon", 2, "--out", tmp_path / "o.csv", code=1
    )
    assert "odd: failed (4 points): timestamps too irregular" in result.output


def test_missing_output_folder_fails_before_the_work(tmp_path, good_csv):
    out = tmp_path / "nowhere" / "out.csv"
    result = run("detect", good_csv, "--out", out, code=2)
    assert result.output == f"error: cannot write {out}: no such directory {out.parent}\n"
