"""The benchmark's plain-Python and pandas figures, on a history worked by hand.

The benchmark compares three ways to the same figures; these tests make sure the
two written for it (plain Python over ORM rows, and pandas) follow the rules in
docs/metrics.md on their own, before the benchmark compares them with polars.
"""

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Engine

from bench.figures import figures_from_tuples, orm_path, pandas_path, polars_path
from tests.factories import account, escalation, write

T0 = datetime(2026, 1, 5, 9, tzinfo=UTC)
DAY = timedelta(days=1)
MICROSECOND = timedelta(microseconds=1)


def test_plain_python_follows_the_rules_at_their_edges() -> None:
    # Account 1, usage_drop: two at T0 (neither is earlier than the other), one
    # exactly 90 days later (recurs), one 90 days and 1 µs after that (does not).
    # Latencies: 24 h critical (on time: not strictly above 24), 24 h + 1 µs
    # critical (late), 0 h low, 400 h low (late: above 336).
    rows = [
        (1, "usage_drop", "critical", T0 - timedelta(hours=24), T0),
        (1, "usage_drop", "critical", T0 - timedelta(hours=24) - MICROSECOND, T0),
        (1, "usage_drop", "low", T0 + 90 * DAY, T0 + 90 * DAY),
        (
            1,
            "usage_drop",
            "low",
            T0 + 180 * DAY + MICROSECOND - timedelta(hours=400),
            T0 + 180 * DAY + MICROSECOND,
        ),
    ]

    figures = figures_from_tuples(rows)

    # Hours sorted: 0, 24, 24 + 1/3.6e9, 400. Median at rank 1.5: halfway
    # between 24 and 24.000000000277…; p90 at rank 2.7: 24.0… + 0.7 × (400 - 24.0…).
    just_over = 24 + 1 / 3_600_000_000
    assert figures["escalations"] == 4
    assert figures["median_hours"] == pytest.approx((24 + just_over) / 2, rel=1e-15)
    assert figures["p90_hours"] == pytest.approx(
        just_over + 0.7 * (400 - just_over), rel=1e-15
    )
    assert figures["late_rate"] == 0.5
    assert figures["recurrence_rate"] == 0.25
    assert list(figures["by_trigger_type"]) == ["usage_drop"]


def test_no_escalations_gives_no_figures() -> None:
    figures = figures_from_tuples([])

    assert figures == {
        "escalations": 0,
        "median_hours": None,
        "p90_hours": None,
        "late_rate": None,
        "recurrence_rate": None,
        "by_trigger_type": {},
    }


def test_the_three_paths_read_the_same_figures_from_a_database(
    db_engine: Engine, tmp_path: Path
) -> None:
    (first, second) = write(db_engine, account(), account())
    write(
        db_engine,
        # First account, outage_impact: 10 h high, then 30 h critical 7 days
        # later (late, recurs). Second account, billing: 200 h medium (late).
        escalation(first, T0, 10, severity="high"),
        escalation(first, T0 + 7 * DAY, 30, severity="critical"),
        escalation(second, T0, 200, severity="medium", trigger_type="billing"),
    )

    results = {
        name: path(db_engine)[0]
        for name, path in (
            ("orm", orm_path),
            ("pandas", pandas_path),
            ("polars", polars_path),
        )
    }

    # Latencies 10, 30, 200: median 30; p90 at rank 1.8 = 30 + 0.8 × 170 = 166.
    for figures in results.values():
        assert figures["escalations"] == 3
        assert figures["median_hours"] == pytest.approx(30)
        assert figures["p90_hours"] == pytest.approx(166)
        assert figures["late_rate"] == pytest.approx(2 / 3)
        assert figures["recurrence_rate"] == pytest.approx(1 / 3)
        assert figures["by_trigger_type"]["billing"]["late_rate"] == 1.0
        assert figures["by_trigger_type"]["outage_impact"]["recurrence_rate"] == 0.5
