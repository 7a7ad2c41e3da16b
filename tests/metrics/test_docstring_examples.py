"""The examples in the metrics docstrings run and print what they claim."""

import doctest
import importlib

import pytest

MODULES = [
    "metrics.latency",
    "metrics.lateness",
    "metrics.recurrence",
    "metrics.summary",
    "metrics.volume",
    "metrics.window",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)

    outcome = doctest.testmod(module, raise_on_error=False, verbose=False)

    assert outcome.attempted > 0, f"{name} has no examples"
    assert outcome.failed == 0
