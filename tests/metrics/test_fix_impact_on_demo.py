"""On the demo history, fix impact tells the fixes built to work from the others.

The generator records in ``fix_truth`` which fixes it built to cut their
trigger type's volume (by a factor of 0.2 to 0.25 from the ship date) and which
it built to change nothing. The verdicts are compared with that record.
"""

from datetime import UTC, datetime

import polars as pl
import pytest

from metrics import VERDICT_FEWER, fix_impact, prepare_escalations
from seed_data.generate import generate_history

END = datetime(2026, 6, 1, tzinfo=UTC)
SEED = 7


def _judged(scale: float) -> pl.DataFrame:
    """Verdicts for every shipped fix, joined to what the generator built in."""
    history = generate_history(seed=SEED, scale=scale, end=END)
    prepared = prepare_escalations(history.escalation)

    impact = fix_impact(prepared, history.process_fix, as_of=END)

    return impact.join(
        history.fix_truth.select("fix_id", "built_to_work"), on="fix_id"
    ).filter(pl.col("shipped_at").is_not_null())


@pytest.fixture(scope="module")
def demo() -> pl.DataFrame:
    """The demo size (scale 1): about 2,500 escalations over two years."""
    return _judged(1.0)


@pytest.fixture(scope="module")
def triple_demo() -> pl.DataFrame:
    """Three times the demo size, about 7,500 escalations."""
    return _judged(3.0)


def _working(judged: pl.DataFrame) -> pl.DataFrame:
    return judged.filter(pl.col("built_to_work") & pl.col("after_complete"))


def _idle(judged: pl.DataFrame) -> pl.DataFrame:
    return judged.filter(~pl.col("built_to_work"))


def test_the_demo_has_fixes_of_both_kinds(demo: pl.DataFrame) -> None:
    assert _working(demo).height >= 4
    assert _idle(demo).height >= 4


def test_no_fix_built_not_to_work_shows_fewer_escalations(demo: pl.DataFrame) -> None:
    idle = _idle(demo)

    assert VERDICT_FEWER not in idle.get_column("verdict").to_list(), idle


def test_every_fix_built_to_work_shows_fewer_escalations(demo: pl.DataFrame) -> None:
    working = _working(demo)

    assert working.get_column("verdict").to_list() == [VERDICT_FEWER] * working.height


def test_with_three_times_the_volume_every_working_fix_shows_fewer(
    triple_demo: pl.DataFrame,
) -> None:
    working = _working(triple_demo)
    idle = _idle(triple_demo)

    assert working.height >= 4
    assert working.get_column("verdict").to_list() == [VERDICT_FEWER] * working.height
    assert VERDICT_FEWER not in idle.get_column("verdict").to_list()
