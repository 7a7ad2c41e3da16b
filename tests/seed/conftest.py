"""Histories shared by the seed tests; generated once per session, never mutated."""

from datetime import UTC, datetime

import pytest

from seed_data.generate import DemoHistory, generate_history

END = datetime(2026, 6, 1, tzinfo=UTC)


@pytest.fixture(scope="session")
def small_history() -> DemoHistory:
    """A fifth of the demo size: 60 accounts, 500 escalations, 5,000 signals."""
    return generate_history(seed=3, scale=0.2, end=END)


@pytest.fixture(scope="session")
def demo_history() -> DemoHistory:
    """The demo size, for checks that need a trigger type's full weekly volume."""
    return generate_history(seed=7, scale=1.0, end=END)
