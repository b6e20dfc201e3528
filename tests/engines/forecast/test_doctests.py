"""The Examples sections of the engines' docstrings run and pass.

Every module listed must have examples: ``doctest.testmod`` on a module without any
reports zero failures, a test that cannot fail, so the count of examples run is
checked too. Modules not listed are found by walking ``augury.engines``: their
examples, where they have any, must pass as well.
"""

import doctest
import importlib
import pkgutil

import pytest

import augury.engines

MODULES = [
    "augury.engines.ask",
    "augury.engines.ask.context",
    "augury.engines.artifact",
    "augury.engines.ask.embed",
    "augury.engines.ask.execute",
    "augury.engines.ask.lexicon",
    "augury.engines.ask.parser",
    "augury.engines.ask.plan",
    "augury.engines.ask._drivers_stats",
    "augury.engines.ask.chart",
    "augury.engines.ask.drivers",
    "augury.engines.ask.insights",
    "augury.engines.ask.llm",
    "augury.engines.ask.workflow",
    "augury.engines.chat.answer",
    "augury.engines.chat.chunk",
    "augury.engines.chat.prompt",
    "augury.engines.chat.retrieve",
    "augury.engines.chat.tokens",
    "augury.engines.detect.streaming",
    "augury.engines.detect.explain",
    "augury.engines.forecast.auto",
    "augury.engines.forecast.base",
    "augury.engines.forecast.direct",
    "augury.engines.forecast.intervals",
    "augury.engines.forecast.lagreg",
    "augury.engines.forecast.metrics",
    "augury.engines.forecast.naive",
    "augury.engines.forecast.seasonality",
    "augury.engines.forecast.stats",
    "augury.engines.tabular._read_common",
    "augury.engines.tabular.automl.applications",
    "augury.engines.tabular.automl.encoding",
    "augury.engines.tabular.automl.errors",
    "augury.engines.tabular.automl.planning",
    "augury.engines.tabular.columns",
    "augury.engines.tabular.errors",
    "augury.engines.tabular.export",
    "augury.engines.tabular.profile",
    "augury.engines.tabular.query",
    "augury.engines.tabular.read",
    "augury.engines.text.absa",
    "augury.engines.text.agreement",
    "augury.engines.text.artifact",
    "augury.engines.text.classify",
    "augury.engines.text.documents",
    "augury.engines.text.embed",
    "augury.engines.text.errors",
    "augury.engines.text.features",
    "augury.engines.text.local_embed",
    "augury.engines.text.model_errors",
    "augury.engines.text.segment",
    "augury.engines.text.zeroshot",
    "augury.engines.timegrid",
    "augury.search.service",
]


def _has_examples(name: str) -> bool:
    tests = doctest.DocTestFinder().find(importlib.import_module(name))
    return any(test.examples for test in tests)


OTHERS = sorted(
    info.name
    for info in pkgutil.walk_packages(augury.engines.__path__, "augury.engines.")
    if info.name not in MODULES and _has_examples(info.name)
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no docstring examples"
    assert result.failed == 0


@pytest.mark.parametrize("name", OTHERS)
def test_unlisted_modules_examples_pass(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0


def test_public_surface_sorted_and_complete():
    import augury.engines.forecast as fc

    assert fc.__all__ == sorted(fc.__all__)
    for name in fc.__all__:
        assert hasattr(fc, name)
