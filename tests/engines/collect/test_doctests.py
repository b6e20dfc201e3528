"""The Examples sections of the collect engine's docstrings run and pass (each module
has some: a module without any would pass without testing anything)."""

import doctest
import importlib

import pytest

MODULES = [
    "augury.engines.collect.mapping",
    "augury.engines.collect.schedule",
    "augury.engines.collect.schema",
    "augury.engines.collect.sqlguard",
    "augury.engines.collect.timeparse",
]


@pytest.mark.parametrize("name", MODULES)
def test_examples_pass(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
