"""Time grids: the interval of a series, its values on the grid, and the future timestamps."""

from __future__ import annotations

import numpy as np
import pytest

from augury.engines.timegrid import (
    describe_step,
    forecast_options,
    future_timestamps,
    infer_step,
    on_grid,
)


def test_infer_step_is_a_gap_that_occurs_in_the_data():
    # gaps 10, 10, 20, 1: the lower middle one, never an average of two
    assert infer_step([0, 10, 20, 40, 41]) == 10.0
    assert infer_step([5, 5, 65]) == 60.0  # repeated timestamps count once
    with pytest.raises(ValueError, match="at least two distinct timestamps"):
        infer_step([7, 7])


def test_on_grid_averages_duplicates_and_leaves_gaps():
    y, step = on_grid(np.array([0.0, 60, 60, 180]), np.array([1.0, 2, 4, 5]))
    assert step == 60.0
    np.testing.assert_array_equal(y, [1.0, 3.0, np.nan, 5.0])


def test_on_grid_refuses_what_is_not_a_grid():
    with pytest.raises(ValueError, match="too irregular: 3 points would spread over 1001 steps"):
        on_grid(np.array([0.0, 1, 1000]), np.array([1.0, 2, 3]))
    with pytest.raises(ValueError, match="no numeric values"):
        on_grid(np.array([0.0, 60]), np.array([np.nan, np.nan]))


@pytest.mark.parametrize(
    ("step", "options"),
    [
        (3600, {"freq": "h"}),
        (1800, {"freq": "30min"}),
        (30 * 86400, {"freq": "m"}),
        (91 * 86400, {"freq": "q"}),
        (365 * 86400, {"freq": "y"}),
        (120, {"candidate_periods": (720,)}),  # the weekly cycle (5040 steps) is too long
        (7, {}),  # no whole number of steps per day
    ],
)
def test_forecast_options_name_the_interval_or_its_cycles(step, options):
    assert forecast_options(step) == options


def test_describe_step():
    assert [describe_step(s) for s in (3600, 300, 90, 172800, 0.5, None)] == [
        "1h", "5min", "90s", "2d", "0.5s", "?"
    ]  # fmt: skip


def test_future_timestamps_follow_the_input_format():
    day = 86400.0
    assert future_timestamps("2024-01-30", 0, day, 3, epoch=False) == [
        "2024-01-31", "2024-02-01", "2024-02-02"
    ]  # fmt: skip
    assert future_timestamps("2024-01-31", 0, 31 * day, 2, epoch=False) == [
        "2024-02-29", "2024-03-31"
    ]  # month ends stay month ends  # fmt: skip
    assert future_timestamps("2014-07-01 00:30", 0, 1800, 2, epoch=False) == [
        "2014-07-01 01:00", "2014-07-01 01:30"
    ]  # fmt: skip
    assert future_timestamps("2024-05-01T23:00:00+02:00", 0, 3600, 1, epoch=False) == [
        "2024-05-02T00:00:00+02:00"
    ]
    assert future_timestamps("100.5", 100.5, 0.5, 2, epoch=True, integral=False) == [101.0, 101.5]
    assert future_timestamps("600", 600, 300, 2, epoch=True) == [900, 1200]
