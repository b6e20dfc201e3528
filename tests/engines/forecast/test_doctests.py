"""The Examples sections of the forecasting engine's docstrings run and pass."""

import doctest
import importlib

import pytest

MODULES = [
    "auto",
    "base",
    "direct",
    "intervals",
    "lagreg",
    "metrics",
    "naive",
    "seasonality",
    "stats",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(f"augury.engines.forecast.{name}")
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_public_surface_sorted_and_complete():
    import augury.engines.forecast as fc

    assert fc.__all__ == sorted(fc.__all__)
    for name in fc.__all__:
        assert hasattr(fc, name)
