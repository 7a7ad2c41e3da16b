"""The docstring examples of the fix-impact and recurrence-view modules run."""

import doctest
import importlib

import pytest

MODULES = [
    "metrics.rate_ratio",
    "metrics.recurrence_views",
    "metrics.fix_impact",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)

    outcome = doctest.testmod(module, raise_on_error=False, verbose=False)

    assert outcome.attempted > 0, f"{name} has no examples"
    assert outcome.failed == 0
