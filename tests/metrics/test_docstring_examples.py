"""The examples in the metrics docstrings run and print what they claim."""

import doctest
import importlib
import pkgutil

import pytest

import metrics

# Central metrics promise a worked example; every other module's examples, if it
# has any, must pass too.
MUST_HAVE_EXAMPLES = {
    "metrics.latency",
    "metrics.lateness",
    "metrics.recurrence",
    "metrics.summary",
    "metrics.volume",
    "metrics.window",
    "metrics.packet",
    "metrics.level_shift",
    "metrics.resolution",
    "metrics.business_hours",
    "metrics.breakdown",
    "metrics.rate_ratio",
    "metrics.recurrence_views",
    "metrics.fix_impact",
}
MODULES = sorted(
    f"metrics.{info.name}" for info in pkgutil.iter_modules(metrics.__path__)
)


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name: str) -> None:
    module = importlib.import_module(name)

    outcome = doctest.testmod(module, raise_on_error=False, verbose=False)

    if name in MUST_HAVE_EXAMPLES:
        assert outcome.attempted > 0, f"{name} has no examples"
    assert outcome.failed == 0


def test_every_promised_module_exists() -> None:
    assert set(MODULES) >= MUST_HAVE_EXAMPLES
