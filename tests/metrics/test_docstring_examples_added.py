"""The docstring examples of the newer metrics modules run as they claim."""

import doctest
import importlib

import pytest

MODULES = [
    "metrics.packet",
    "metrics.level_shift",
    "metrics.resolution",
    "metrics.business_hours",
    "metrics.breakdown",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)

    outcome = doctest.testmod(module, raise_on_error=False, verbose=False)

    assert outcome.attempted > 0, f"{name} has no examples"
    assert outcome.failed == 0
