"""Late rate broken down by a dimension, and the late escalations themselves."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from metrics import (
    BREAKDOWN_COLUMNS,
    late_escalations,
    late_rate_by,
    prepare_escalations,
)

MakeEscalations = Callable[..., pl.DataFrame]

PREPARED = pl.DataFrame(
    {
        "id": [1, 2, 3, 4, 5, 6, 7],
        "owner": ["Dana", "Dana", "Dana", "Sam", "Sam", None, "Kim"],
        "is_late": [True, True, False, True, False, True, False],
        "latency_hours": [30.0, 50.0, 2.0, 80.0, 1.0, 26.0, 3.0],
        "hours_beyond_threshold": [6.0, 26.0, -22.0, 8.0, -71.0, 2.0, -21.0],
    }
)


def test_late_rate_per_value_sorted_by_late_count_then_rate() -> None:
    result = late_rate_by(PREPARED, "owner")

    # Dana: 2 late of 3, median of 2, 30, 50 = 30.
    # Sam: 1 of 2, median (1 + 80) / 2 = 40.5. (none): 1 of 1. Kim: 0 of 1.
    # Sam and (none) tie on one late; (none) has the higher rate.
    expected = pl.DataFrame(
        {
            "owner": ["Dana", "(none)", "Sam", "Kim"],
            "escalations": [3, 1, 2, 1],
            "late": [2, 1, 1, 0],
            "late_rate": [2 / 3, 1.0, 0.5, 0.0],
            "median_hours": [30.0, 26.0, 40.5, 3.0],
        },
        schema_overrides={"escalations": pl.Int64, "late": pl.Int64},
    )
    assert_frame_equal(result, expected)


def test_ties_on_count_and_rate_are_broken_by_value() -> None:
    prepared = pl.DataFrame(
        {
            "team": ["Cirrus", "Atlas", "Borealis"],
            "is_late": [True, True, True],
            "latency_hours": [1.0, 2.0, 3.0],
        }
    )

    result = late_rate_by(prepared, "team")

    assert result["team"].to_list() == ["Atlas", "Borealis", "Cirrus"]


def test_no_escalations_give_no_rows() -> None:
    result = late_rate_by(PREPARED.clear(), "owner")

    assert result.height == 0
    assert result.columns == [
        "owner",
        "escalations",
        "late",
        "late_rate",
        "median_hours",
    ]


@pytest.mark.parametrize("column", ["account_id", "segment", "owner "])
def test_only_known_columns_are_allowed(column: str) -> None:
    with pytest.raises(ValueError, match=repr(column)):
        late_rate_by(PREPARED, column)


def test_allowed_columns() -> None:
    assert BREAKDOWN_COLUMNS == (
        "team",
        "owner",
        "trigger_type",
        "severity",
        "raised_via",
    )


def test_an_allowed_but_absent_column_is_named() -> None:
    with pytest.raises(ValueError, match="raised_via"):
        late_rate_by(PREPARED, "raised_via")


def test_works_on_a_prepared_history(make_escalations: MakeEscalations) -> None:
    signal = datetime(2024, 5, 1, tzinfo=UTC)
    escalations = make_escalations(
        [
            (1, "usage_drop", "critical", signal, signal + timedelta(hours=25)),
            (2, "usage_drop", "critical", signal, signal + timedelta(hours=24)),
            (3, "billing", "high", signal, signal + timedelta(hours=80)),
        ]
    )

    result = late_rate_by(prepare_escalations(escalations), "severity")

    # critical: 25 h late, 24 h on the threshold; high: 80 h > 72 h late.
    assert result.rows() == [
        ("high", 1, 1, 1.0, 80.0),
        ("critical", 2, 1, 0.5, 24.5),
    ]


def test_late_escalations_furthest_beyond_first() -> None:
    prepared = PREPARED.with_columns(
        pl.Series("hours_beyond_threshold", [6.0, 26.0, -22.0, 6.0, -71.0, 2.0, -21.0])
    )

    result = late_escalations(prepared)

    # Late ids 1, 2, 4, 6; ids 1 and 4 tie on 6 hours and keep their order.
    assert result["id"].to_list() == [2, 1, 4, 6]
    assert result.columns == prepared.columns


def test_late_escalations_of_none_is_empty() -> None:
    assert late_escalations(PREPARED.filter(~pl.col("is_late"))).height == 0
