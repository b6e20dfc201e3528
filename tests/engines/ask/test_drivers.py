"""Key drivers on data with planted drivers: the planted column must come first, with
its direction, a High impact and a high confidence; noise must rank below it as Low.

The frames are small (a few hundred rows, few resamples) so the suite stays fast; the
20,000-row time budget is measured in the report, not here.
"""

import duckdb
import numpy as np
import pandas as pd
import pytest

from augury.engines.ask.drivers import COLUMN_CHUNK, MAX_FEATURES, Drivers, frame_of, key_drivers
from augury.engines.tabular.columns import ColumnSpec
from augury.engines.tabular.errors import TableError

FAST = {"resamples": 10}


def planted_numeric(rows: int = 600, seed: int = 0) -> pd.DataFrame:
    """y = 3·x1 + noise; x2 weakly related, x3..x5 pure noise."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({f"x{i}": rng.normal(size=rows) for i in range(1, 6)})
    frame["y"] = 3 * frame["x1"] + 0.2 * frame["x2"] + rng.normal(scale=0.5, size=rows)
    return frame


def by_factor(result: Drivers) -> dict:
    return {d.factor: d for d in result.drivers}


def test_planted_numeric_driver_comes_first_up_high_and_confident():
    result = key_drivers(planted_numeric(), "y", {}, **FAST)

    first = result.drivers[0]
    assert result.task == "regression"
    assert first.factor == "x1"
    assert first.kind == "numeric"
    assert first.direction == "up"
    assert first.impact == "High"
    assert first.confidence >= 0.8
    assert first.correlation > 0.9
    assert first.mutual_information > max(d.mutual_information for d in result.drivers[1:])
    assert first.importance > 10 * max(d.importance for d in result.drivers[1:])
    for noise in ("x3", "x4", "x5"):
        assert by_factor(result)[noise].impact == "Low"
    assert result.model_score > 0.9
    assert result.rows_used == 600


def test_a_falling_driver_reads_down():
    frame = planted_numeric()
    frame["y"] = -frame["y"]

    first = key_drivers(frame, "y", {}, **FAST).drivers[0]

    assert (first.factor, first.direction, first.impact) == ("x1", "down", "High")


def test_planted_categorical_driver_comes_first_with_its_group_means():
    rng = np.random.default_rng(3)
    rows = 600
    frame = pd.DataFrame(
        {
            "region": rng.choice(["north", "south", "east", "west"], size=rows),
            "price": rng.normal(size=rows),
            "colour": rng.choice(["red", "blue", "green"], size=rows),
        }
    )
    effect = frame["region"].map({"north": 10.0, "south": 0.0, "east": 4.0, "west": 6.0})
    frame["sales"] = effect + rng.normal(scale=1.0, size=rows)
    types = {"region": "category", "colour": "string", "price": "float", "sales": "float"}

    result = key_drivers(frame, "sales", types, **FAST)

    first = result.drivers[0]
    assert (first.factor, first.kind, first.impact) == ("region", "categorical", "High")
    assert first.direction is None
    assert first.confidence >= 0.8
    assert first.correlation > 0.9  # eta
    assert by_factor(result)["price"].impact == "Low"
    assert by_factor(result)["colour"].impact == "Low"
    assert "highest for north" in result.insights[0]
    assert "lowest for south" in result.insights[0]


def test_classification_target_with_a_planted_driver():
    rng = np.random.default_rng(5)
    rows = 800
    frame = pd.DataFrame({f"x{i}": rng.normal(size=rows) for i in range(1, 5)})
    chance = 1 / (1 + np.exp(-4 * frame["x2"]))
    frame["churned"] = np.where(rng.random(rows) < chance, "yes", "no")

    result = key_drivers(frame, "churned", {"churned": "category"}, **FAST)

    first = result.drivers[0]
    assert result.task == "classification"
    assert first.factor == "x2"
    assert first.direction == "up"  # "yes" (the last class) grows more likely with x2
    assert first.impact == "High"
    assert first.confidence >= 0.8
    assert 0.7 < result.model_score <= 1.0  # balanced accuracy
    assert all(by_factor(result)[x].impact == "Low" for x in ("x1", "x3", "x4"))
    assert "churned = yes is more likely as x2 rises" in result.insights[0]


def test_multiclass_target_ranks_the_column_that_separates_the_classes():
    rng = np.random.default_rng(8)
    rows = 600
    species = rng.choice(["a", "b", "c"], size=rows)
    centre = pd.Series(species).map({"a": 0.0, "b": 3.0, "c": 6.0}).to_numpy()
    frame = pd.DataFrame(
        {"species": species, "length": centre + rng.normal(size=rows), "z": rng.normal(size=rows)}
    )

    result = key_drivers(frame, "species", {"species": "category"}, **FAST)

    first = result.drivers[0]
    assert (first.factor, first.impact) == ("length", "High")
    assert first.direction is None  # three classes: no single direction
    assert first.correlation > 0.8  # eta of length by species


def test_identifier_constant_and_free_text_columns_are_not_drivers():
    frame = planted_numeric(rows=300)
    frame["order_id"] = np.arange(1000, 1300)
    frame["code"] = [f"c-{i:05d}" for i in range(300)]
    frame["country"] = "FR"
    frame["comment"] = [f"note {i % 200} about the order" for i in range(300)]

    result = key_drivers(frame, "y", {}, **FAST)

    factors = {d.factor for d in result.drivers}
    assert not factors & {"order_id", "code", "country", "comment"}
    assert result.skipped == {
        "order_id": "identifier",
        "code": "identifier",
        "country": "constant",
        "comment": "free text",
    }
    assert result.drivers[0].factor == "x1"


def test_a_float_measure_unique_per_row_is_still_a_driver():
    result = key_drivers(planted_numeric(rows=300), "y", {"x1": "float"}, **FAST)

    assert result.drivers[0].factor == "x1"


def test_dates_become_year_month_and_weekday_features():
    rng = np.random.default_rng(2)
    rows = 730
    days = pd.date_range("2022-01-01", periods=rows, freq="D")
    frame = pd.DataFrame({"day": days, "noise": rng.normal(size=rows)})
    frame["temperature"] = np.where(days.month.isin([6, 7, 8]), 25.0, 5.0) + rng.normal(size=rows)

    result = key_drivers(frame, "temperature", {"day": "date"}, **FAST)

    factors = [d.factor for d in result.drivers]
    assert {"day (year)", "day (month)", "day (weekday)"} <= set(factors)
    assert "day (hour)" not in factors
    assert factors[0] == "day (month)"
    assert "highest for Jun" in result.insights[0] or "highest for Jul" in result.insights[0]


def test_a_frame_with_nothing_usable_says_so_instead_of_fitting():
    frame = pd.DataFrame({"id": [f"r{i}" for i in range(40)], "flat": 1, "y": np.arange(40.0)})

    result = key_drivers(frame, "y", {})

    assert result.drivers == [] and result.recommendations == []
    assert result.skipped == {"id": "identifier", "flat": "constant"}
    assert result.insights == ["No column of the data can explain y: every one was skipped."]


def test_same_seed_same_answer_and_another_seed_same_ranking():
    frame = planted_numeric(rows=400)

    one = key_drivers(frame, "y", {}, seed=7, **FAST)
    two = key_drivers(frame, "y", {}, seed=7, **FAST)
    other = key_drivers(frame, "y", {}, seed=8, **FAST)

    assert one.to_dict() == two.to_dict()
    assert other.drivers[0].factor == one.drivers[0].factor == "x1"


def test_max_rows_samples_the_rows_used():
    result = key_drivers(planted_numeric(rows=600), "y", {}, max_rows=200, **FAST)

    assert result.rows_used == 200
    assert result.drivers[0].factor == "x1"


def test_rows_without_a_target_value_are_left_out():
    frame = planted_numeric(rows=300)
    frame.loc[:99, "y"] = np.nan

    assert key_drivers(frame, "y", {}, **FAST).rows_used == 200


def test_noise_only_has_no_driver_and_says_so():
    rng = np.random.default_rng(4)
    frame = pd.DataFrame({c: rng.normal(size=400) for c in ("a", "b", "y")})

    result = key_drivers(frame, "y", {}, **FAST)

    assert all(d.impact == "Low" for d in result.drivers)
    assert result.model_score < 0.05
    assert result.recommendations == []
    assert result.insights[0].startswith("No column predicts y on held-out rows")


def test_insights_and_recommendations_quote_the_numbers():
    result = key_drivers(planted_numeric(), "y", {}, **FAST)
    first = result.drivers[0]

    assert result.insights[0].startswith(f"y rises with x1 (r = {first.correlation:.2f});")
    assert f"R² = {result.model_score:.2f}" in " ".join(result.insights)
    assert result.recommendations[0].startswith("Watch x1 first: it carries ")
    assert f"confidence {first.confidence:.2f}" in result.recommendations[0]
    assert len(result.insights) <= 4 and len(result.recommendations) <= 3


def test_a_correlated_column_the_model_does_not_need_is_named_as_redundant():
    frame = planted_numeric()
    rng = np.random.default_rng(9)
    frame["echo"] = frame["x1"] + rng.normal(scale=0.8, size=len(frame))

    result = key_drivers(frame, "y", {}, **FAST)
    echo = by_factor(result)["echo"]

    assert result.drivers[0].factor == "x1"
    assert echo.impact == "Low" and echo.correlation > 0.5
    assert f"echo (r = {echo.correlation:.2f}) goes with y but adds little" in " ".join(
        result.insights
    )


def test_wide_frames_keep_the_most_correlated_features():
    rng = np.random.default_rng(6)
    rows = 200
    frame = pd.DataFrame({f"n{i:03d}": rng.normal(size=rows) for i in range(MAX_FEATURES + 20)})
    frame["y"] = 2 * frame["n042"] + rng.normal(scale=0.3, size=rows)

    result = key_drivers(frame, "y", {}, resamples=2)

    assert len(result.drivers) == MAX_FEATURES
    assert list(result.skipped.values()).count("screened out") == 20
    assert result.drivers[0].factor == "n042"


def test_a_missing_target_is_an_invalid_target_naming_the_columns():
    with pytest.raises(TableError) as err:
        key_drivers(planted_numeric(rows=50), "revenue", {})

    assert err.value.code == "INVALID_TARGET"
    assert err.value.details["reason"] == "no_column"
    assert err.value.details["columns"] == ["x1", "x2", "x3", "x4", "x5", "y"]


@pytest.mark.parametrize(
    ("values", "kind", "reason"),
    [
        ([7.0] * 60, "float", "constant"),
        (["same"] * 60, "category", "constant"),
        ([f"label {i % 30}" for i in range(60)], "string", "too_many_classes"),
        (list(pd.date_range("2024-01-01", periods=60)), "date", "date"),
    ],
)
def test_a_target_that_cannot_be_explained_is_refused(values, kind, reason):
    frame = planted_numeric(rows=60)
    frame["target"] = values

    with pytest.raises(TableError) as err:
        key_drivers(frame, "target", {"target": kind})

    assert err.value.code == "INVALID_TARGET"
    assert err.value.details == {"target": "target", "reason": reason}


def test_too_few_rows_is_refused():
    with pytest.raises(TableError) as err:
        key_drivers(planted_numeric(rows=20), "y", {})

    assert err.value.code == "NOT_ENOUGH_ROWS"
    assert err.value.details["rows"] == 20


def test_frame_of_reads_a_repeatable_sample_through_the_logical_types(tmp_path):
    path = tmp_path / "sales.parquet"
    duckdb.sql(
        "SELECT i AS n, strftime(DATE '2024-01-01' + (i % 300)::INTEGER, '%d/%m/%Y') AS day,"
        " '$' || (i * 2)::VARCHAR AS amount FROM range(5000) t(i)"
    ).write_parquet(str(path))
    specs = [
        ColumnSpec("n", "BIGINT", "integer"),
        ColumnSpec("day", "VARCHAR", "date", "strptime:%d/%m/%Y"),
        ColumnSpec("amount", "VARCHAR", "float", "number"),
    ]

    sample = frame_of(path, specs, max_rows=300, seed=1)

    assert len(sample) == 300
    assert sample["n"].is_unique
    assert pd.api.types.is_datetime64_any_dtype(sample["day"])
    assert (sample["amount"] == sample["n"] * 2.0).all()
    assert sample["n"].max() > 4000  # drawn from the whole file, not its head
    assert frame_of(path, specs, max_rows=300, seed=1).equals(sample)
    assert not frame_of(path, specs, max_rows=300, seed=2)["n"].equals(sample["n"])
    assert len(frame_of(path, specs, max_rows=10_000)) == 5000


def test_frame_of_reads_a_wide_file_in_chunks_with_its_rows_aligned(tmp_path):
    path = tmp_path / "wide.parquet"
    columns = ", ".join(f"i * {k} AS c{k:03d}" for k in range(1, COLUMN_CHUNK * 2 + 10))
    duckdb.sql(f"SELECT i, {columns} FROM range(3000) t(i)").write_parquet(str(path))
    specs = [ColumnSpec("i", "BIGINT", "integer")] + [
        ColumnSpec(f"c{k:03d}", "BIGINT", "float") for k in range(1, COLUMN_CHUNK * 2 + 10)
    ]

    sample = frame_of(path, specs, max_rows=200, seed=3)

    assert list(sample.columns) == [s.name for s in specs]
    assert len(sample) == 200 and sample["i"].is_unique
    for k in (1, COLUMN_CHUNK + 1, COLUMN_CHUNK * 2 + 9):
        assert (sample[f"c{k:03d}"] == sample["i"] * float(k)).all()
    assert frame_of(path, specs, max_rows=200, seed=3).equals(sample)


def test_frame_of_feeds_key_drivers(tmp_path):
    path = tmp_path / "planted.parquet"
    planted_numeric(rows=500).to_parquet(path)
    specs = [ColumnSpec(c, "DOUBLE", "float") for c in ("x1", "x2", "x3", "x4", "x5", "y")]

    frame = frame_of(path, specs, max_rows=400)
    result = key_drivers(frame, "y", {s.name: s.type for s in specs}, **FAST)

    assert result.rows_used == 400
    assert result.drivers[0].factor == "x1"
