"""Signal-to-escalation latency and its percentile summary."""

import math
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from metrics import latency_hours, latency_summary, percentile_hours

SIGNAL = datetime(2024, 5, 1, 9, 0, tzinfo=UTC)
MakeEscalations = Callable[..., pl.DataFrame]


def _latencies(hours: list[float]) -> pl.DataFrame:
    return pl.DataFrame({"latency_hours": hours}, schema={"latency_hours": pl.Float64})


def _type7(values: list[float], p: float) -> float:
    """The textbook rule, written out independently of polars."""
    ordered = sorted(values)
    h = (len(ordered) - 1) * p
    low, high = math.floor(h), math.ceil(h)
    return ordered[low] + (h - low) * (ordered[high] - ordered[low])


def test_latency_is_hours_with_microsecond_precision() -> None:
    frame = pl.DataFrame(
        {
            "first_signal_at": [SIGNAL, SIGNAL],
            "escalated_at": [
                SIGNAL + timedelta(hours=1, microseconds=1),
                SIGNAL + timedelta(minutes=90),
            ],
        }
    )

    result = frame.select(latency_hours())

    # 1 h + 1 µs = 3_600_000_001 µs; 90 min = 1.5 h.
    assert result.columns == ["latency_hours"]
    assert result.dtypes == [pl.Float64]
    assert result.to_series().to_list() == [3_600_000_001 / 3_600_000_000, 1.5]


def test_zero_latency_is_zero_hours() -> None:
    frame = pl.DataFrame({"first_signal_at": [SIGNAL], "escalated_at": [SIGNAL]})

    assert frame.select(latency_hours()).item() == 0.0


def test_summary_of_no_escalations_is_empty(make_escalations: MakeEscalations) -> None:
    summary = latency_summary(make_escalations([]))

    assert summary == {"count": 0, "median": None, "p90": None, "max": None}


def test_summary_of_one_escalation_is_that_latency(
    make_escalations: MakeEscalations,
) -> None:
    escalations = make_escalations(
        [(1, "usage_drop", "high", SIGNAL, SIGNAL + timedelta(hours=7))]
    )

    summary = latency_summary(escalations)

    assert summary == {"count": 1, "median": 7.0, "p90": 7.0, "max": 7.0}


def test_summary_needs_only_the_two_timestamps() -> None:
    # Latencies 1..10 hours, given out of order.
    frame = pl.DataFrame(
        {
            "first_signal_at": [SIGNAL] * 10,
            "escalated_at": [
                SIGNAL + timedelta(hours=h) for h in (3, 10, 1, 7, 2, 9, 4, 8, 6, 5)
            ],
        }
    )

    summary = latency_summary(frame)

    # n = 10. Median: h = 9 * 0.5 = 4.5, x5 + 0.5 * (x6 - x5) = 5 + 0.5 = 5.5.
    # p90: h = 9 * 0.9 = 8.1, x9 + 0.1 * (x10 - x9) = 9 + 0.1 * 1 = 9.1.
    assert summary["count"] == 10
    assert summary["median"] == pytest.approx(5.5)
    assert summary["p90"] == pytest.approx(9.1)
    assert summary["max"] == 10.0


@pytest.mark.parametrize(
    ("hours", "p", "expected"),
    [
        # h = 9 * 0.9 = 8.1 over 1..10: 9 + 0.1 * (10 - 9) = 9.1
        (list(range(1, 11)), 0.9, 9.1),
        # h = 3 * 0.5 = 1.5 between 2 and 3: 2.5
        ([1, 2, 3, 4], 0.5, 2.5),
        # ties: h = 3 * 0.9 = 2.7 between 2 and 8: 2 + 0.7 * 6 = 6.2
        ([2, 2, 2, 8], 0.9, 6.2),
        # ties: h = 3 * 0.5 = 1.5 between 2 and 2: 2
        ([2, 2, 2, 8], 0.5, 2.0),
        # all equal: any percentile is that value
        ([4, 4, 4], 0.9, 4.0),
        # h = 1 * 0.9 = 0.9 between 0 and 30: 27
        ([0, 30], 0.9, 27.0),
        # the ends are the minimum and maximum
        ([5, 1, 9], 0.0, 1.0),
        ([5, 1, 9], 1.0, 9.0),
        # one value is itself
        ([7.25], 0.9, 7.25),
    ],
)
def test_percentile_is_linear_between_closest_ranks(
    hours: list[float], p: float, expected: float
) -> None:
    result = _latencies(hours).select(percentile_hours(p)).item()

    assert result == pytest.approx(expected)
    assert result == pytest.approx(_type7(hours, p))


def test_percentile_of_nothing_is_null() -> None:
    assert _latencies([]).select(percentile_hours(0.9)).item() is None


@pytest.mark.parametrize("size", range(1, 13))
def test_polars_linear_quantile_matches_the_written_rule(size: int) -> None:
    # Uneven gaps and a repeat, so interpolation and ties both show.
    hours = [float((k * 7) % 11 + (k % 3) * 0.25) for k in range(size)]

    for p in (0.1, 0.5, 0.9, 0.95):
        result = _latencies(hours).select(percentile_hours(p)).item()
        assert result == pytest.approx(_type7(hours, p))


@pytest.mark.parametrize("p", [-0.1, 1.5])
def test_percentile_outside_zero_to_one_is_rejected(p: float) -> None:
    with pytest.raises(ValueError, match=str(p)):
        percentile_hours(p)
