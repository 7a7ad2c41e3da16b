"""Preparing the history: every per-escalation figure in one pass."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from metrics import REQUIRED_COLUMNS, prepare_escalations

MakeEscalations = Callable[..., pl.DataFrame]
T0 = datetime(2024, 6, 3, 9, 0, tzinfo=UTC)


def test_adds_the_figures_and_keeps_everything_else(
    make_escalations: MakeEscalations,
) -> None:
    escalations = make_escalations(
        [
            # Given newest first, to show that row order is kept.
            (4, "billing", "critical", T0 + timedelta(days=9), T0 + timedelta(days=10)),
            (4, "billing", "high", T0, T0 + timedelta(hours=72, microseconds=1)),
        ]
    )

    prepared = prepare_escalations(escalations)

    # Row 1: 24 h on a 24 h critical threshold, on time; 10 days after row 2,
    # so it recurs. Row 2: 72 h + 1 µs on a 72 h high threshold, late by 1 µs.
    one_microsecond_in_hours = 1 / 3_600_000_000
    expected = escalations.with_columns(
        pl.Series("latency_hours", [24.0, 72.0 + one_microsecond_in_hours]),
        pl.Series("threshold_hours", [24.0, 72.0]),
        pl.Series("is_late", [False, True]),
        pl.Series("hours_beyond_threshold", [0.0, one_microsecond_in_hours]),
        pl.Series(
            "previous_escalated_at",
            [T0 + timedelta(hours=72, microseconds=1), None],
            dtype=pl.Datetime("us", "UTC"),
        ),
        pl.Series("recurs", [True, False]),
    )
    assert_frame_equal(prepared, expected, check_exact=True)


def test_needs_only_the_required_columns(make_escalations: MakeEscalations) -> None:
    escalations = make_escalations(
        [(1, "usage_drop", "low", T0, T0 + timedelta(hours=1))]
    ).select(REQUIRED_COLUMNS)

    prepared = prepare_escalations(escalations)

    assert prepared.columns == [
        *REQUIRED_COLUMNS,
        "latency_hours",
        "threshold_hours",
        "is_late",
        "hours_beyond_threshold",
        "previous_escalated_at",
        "recurs",
    ]


def test_no_escalations_gives_an_empty_prepared_frame(
    make_escalations: MakeEscalations,
) -> None:
    prepared = prepare_escalations(make_escalations([]))

    assert prepared.height == 0
    assert prepared.schema["latency_hours"] == pl.Float64
    assert prepared.schema["is_late"] == pl.Boolean
    assert prepared.schema["recurs"] == pl.Boolean


def test_preparing_twice_gives_the_same_frame(history: pl.DataFrame) -> None:
    once = prepare_escalations(history)

    assert_frame_equal(prepare_escalations(once), once)


def test_a_missing_column_is_named(make_escalations: MakeEscalations) -> None:
    escalations = make_escalations([]).drop("severity")

    with pytest.raises(ValueError, match=r"\['severity'\]"):
        prepare_escalations(escalations)


def test_a_missing_first_signal_is_refused(make_escalations: MakeEscalations) -> None:
    escalations = make_escalations(
        [(1, "usage_drop", "low", T0, T0 + timedelta(hours=1))]
    ).with_columns(
        pl.lit(None, dtype=pl.Datetime("us", "UTC")).alias("first_signal_at")
    )

    # Otherwise the escalation would have no latency and count as on time.
    with pytest.raises(ValueError, match="'first_signal_at': 1"):
        prepare_escalations(escalations)


def test_naive_timestamp_columns_are_refused(make_escalations: MakeEscalations) -> None:
    escalations = make_escalations(
        [(1, "usage_drop", "low", T0, T0 + timedelta(hours=1))]
    ).with_columns(pl.col("escalated_at").dt.replace_time_zone(None))

    with pytest.raises(ValueError, match=r"'escalated_at'.*time_zone=None"):
        prepare_escalations(escalations)
