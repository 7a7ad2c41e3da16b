"""Headline figures, per trigger type, against the previous period, and the report."""

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from metrics import (
    MetricSettings,
    by_trigger_type,
    health_summary,
    in_window,
    kpi_comparison,
    metrics_report,
    prepare_escalations,
)

MakeEscalations = Callable[..., pl.DataFrame]
# The window the ``history`` fixture is built around; see its docstring.
START = datetime(2024, 3, 4, tzinfo=UTC)
END = datetime(2024, 3, 18, tzinfo=UTC)


def _plain_types_only(value: object) -> None:
    """Fail on anything that is not a JSON-ready plain Python value."""
    if isinstance(value, dict):
        for key, item in value.items():
            assert type(key) is str
            _plain_types_only(item)
    else:
        assert value is None or type(value) in (int, float), repr(value)


def test_health_summary_of_no_escalations(make_escalations: MakeEscalations) -> None:
    prepared = prepare_escalations(make_escalations([]))

    assert health_summary(prepared) == {
        "escalations": 0,
        "median_hours": None,
        "p90_hours": None,
        "max_hours": None,
        "late_rate": None,
        "recurrence_rate": None,
    }


def test_health_summary_of_one_escalation(make_escalations: MakeEscalations) -> None:
    signal = datetime(2024, 3, 5, tzinfo=UTC)
    prepared = prepare_escalations(
        make_escalations(
            [(9, "usage_drop", "critical", signal, signal + timedelta(hours=25))]
        )
    )

    # 25 h on a 24 h critical threshold: late. Nothing earlier: no recurrence.
    assert health_summary(prepared) == {
        "escalations": 1,
        "median_hours": 25.0,
        "p90_hours": 25.0,
        "max_hours": 25.0,
        "late_rate": 1.0,
        "recurrence_rate": 0.0,
    }


def test_health_summary_in_the_window(history: pl.DataFrame) -> None:
    prepared = in_window(prepare_escalations(history), START, END)

    summary = health_summary(prepared)

    # Rows 2-6 are in the window: latencies 0, 30, 168, 384, 36 h, sorted
    # 0, 30, 36, 168, 384. Median: h = 4 * 0.5 = 2 -> 36.
    # p90: h = 4 * 0.9 = 3.6 -> 168 + 0.6 * (384 - 168) = 297.6.
    # Late: rows 3 and 5 -> 2 / 5. Recurring: rows 2 and 6 -> 2 / 5.
    assert summary == {
        "escalations": 5,
        "median_hours": 36.0,
        "p90_hours": pytest.approx(297.6),
        "max_hours": 384.0,
        "late_rate": pytest.approx(0.4),
        "recurrence_rate": pytest.approx(0.4),
    }


def test_by_trigger_type(history: pl.DataFrame) -> None:
    prepared = in_window(prepare_escalations(history), START, END)

    result = by_trigger_type(prepared)

    # billing, rows 4-6: latencies 36, 168, 384; median 168;
    #   p90: h = 2 * 0.9 = 1.8 -> 168 + 0.8 * (384 - 168) = 340.8;
    #   late: row 5 -> 1/3; recurring: row 6 -> 1/3.
    # usage_drop, rows 2-3: latencies 0, 30; median 15;
    #   p90: h = 0.9 -> 0 + 0.9 * 30 = 27; late: row 3 -> 1/2; recurring: row 2.
    expected = pl.DataFrame(
        {
            "trigger_type": ["billing", "usage_drop"],
            "escalations": [3, 2],
            "median_hours": [168.0, 15.0],
            "p90_hours": [340.8, 27.0],
            "late_rate": [1 / 3, 0.5],
            "recurrence_rate": [1 / 3, 0.5],
        },
        schema_overrides={"escalations": pl.Int64},
    )
    assert_frame_equal(result, expected)


def test_by_trigger_type_breaks_ties_by_name(
    make_escalations: MakeEscalations,
) -> None:
    signal = datetime(2024, 3, 5, tzinfo=UTC)
    escalated = signal + timedelta(hours=1)
    prepared = prepare_escalations(
        make_escalations(
            [
                (1, "usage_drop", "low", signal, escalated),
                (2, "billing", "low", signal, escalated),
                (3, "champion_left", "low", signal, escalated),
                (4, "champion_left", "low", signal, escalated),
            ]
        )
    )

    result = by_trigger_type(prepared)

    assert result.get_column("trigger_type").to_list() == [
        "champion_left",
        "billing",
        "usage_drop",
    ]


def test_by_trigger_type_of_no_escalations_is_empty(
    make_escalations: MakeEscalations,
) -> None:
    result = by_trigger_type(prepare_escalations(make_escalations([])))

    assert result.height == 0
    assert result.columns == [
        "trigger_type",
        "escalations",
        "median_hours",
        "p90_hours",
        "late_rate",
        "recurrence_rate",
    ]


def test_kpi_comparison_against_the_previous_week(history: pl.DataFrame) -> None:
    prepared = prepare_escalations(history)
    start, end = datetime(2024, 3, 11, tzinfo=UTC), END

    result = kpi_comparison(prepared, start, end)

    # Current [Mar 11, Mar 18): rows 5 and 6, latencies 36 and 384 h.
    #   median 210; p90: 36 + 0.9 * 348 = 349.2; max 384;
    #   late: row 5 -> 1/2; recurring: row 6 -> 1/2.
    # Previous [Mar 4, Mar 11): rows 2, 3 and 4, latencies 0, 30 and 168 h.
    #   median 30; p90: h = 1.8 -> 30 + 0.8 * 138 = 140.4; max 168;
    #   late: row 3 -> 1/3; recurring: row 2 -> 1/3.
    expected = pl.DataFrame(
        {
            "period": ["current", "previous"],
            "period_start": [start, START],
            "period_end": [end, start],
            "escalations": [2, 3],
            "median_hours": [210.0, 30.0],
            "p90_hours": [349.2, 140.4],
            "max_hours": [384.0, 168.0],
            "late_rate": [0.5, 1 / 3],
            "recurrence_rate": [0.5, 1 / 3],
        },
        schema_overrides={
            "period_start": pl.Datetime("us", "UTC"),
            "period_end": pl.Datetime("us", "UTC"),
            "escalations": pl.Int64,
        },
    )
    assert_frame_equal(result, expected)


def test_kpi_comparison_with_nothing_before(history: pl.DataFrame) -> None:
    prepared = prepare_escalations(history)

    result = kpi_comparison(prepared, datetime(2024, 1, 16, tzinfo=UTC), START)

    previous = result.filter(pl.col("period") == "previous").row(0, named=True)
    assert previous["escalations"] == 0
    assert previous["median_hours"] is None
    assert previous["late_rate"] is None


def test_metrics_report_on_a_window(history: pl.DataFrame) -> None:
    report = metrics_report(history, start=START, end=END)

    # Row 1 lies before the window but still makes row 2 recur; row 7 sits
    # exactly on the window's end and is left out. Figures as worked out in
    # test_health_summary_in_the_window and test_by_trigger_type.
    assert report == {
        "escalations": 5,
        "signal_to_escalation_hours": {"median": 36.0, "p90": pytest.approx(297.6)},
        "late_rate": pytest.approx(0.4),
        "recurrence_rate": pytest.approx(0.4),
        "by_trigger_type": {
            "billing": {
                "escalations": 3,
                "median_hours": 168.0,
                "p90_hours": pytest.approx(340.8),
                "late_rate": pytest.approx(1 / 3),
                "recurrence_rate": pytest.approx(1 / 3),
            },
            "usage_drop": {
                "escalations": 2,
                "median_hours": 15.0,
                "p90_hours": pytest.approx(27.0),
                "late_rate": 0.5,
                "recurrence_rate": 0.5,
            },
        },
    }
    assert list(report) == [
        "escalations",
        "signal_to_escalation_hours",
        "late_rate",
        "recurrence_rate",
        "by_trigger_type",
    ]
    _plain_types_only(report)
    json.dumps(report, allow_nan=False)


def test_history_before_the_window_makes_an_escalation_inside_recur(
    history: pl.DataFrame,
) -> None:
    # [Mar 4, Mar 5) holds only row 2; its history (row 1) is in January.
    report = metrics_report(history, start=START, end=datetime(2024, 3, 5, tzinfo=UTC))

    assert report["escalations"] == 1
    assert report["recurrence_rate"] == 1.0


def test_metrics_report_trigger_types_are_sorted_by_name(
    make_escalations: MakeEscalations,
) -> None:
    signal = datetime(2024, 3, 5, tzinfo=UTC)
    escalations = make_escalations(
        [
            (1, name, "low", signal, signal + timedelta(hours=1))
            for name in ("usage_drop", "usage_drop", "billing", "nps_detractor")
        ]
    )

    report = metrics_report(escalations)

    assert list(report["by_trigger_type"]) == [
        "billing",
        "nps_detractor",
        "usage_drop",
    ]


def test_metrics_report_with_nothing_to_measure(
    make_escalations: MakeEscalations,
) -> None:
    report = metrics_report(make_escalations([]), start=START, end=END)

    assert report == {
        "escalations": 0,
        "signal_to_escalation_hours": {"median": None, "p90": None},
        "late_rate": None,
        "recurrence_rate": None,
        "by_trigger_type": {},
    }
    assert json.dumps(report) == (
        '{"escalations": 0, "signal_to_escalation_hours": '
        '{"median": null, "p90": null}, "late_rate": null, '
        '"recurrence_rate": null, "by_trigger_type": {}}'
    )


def test_metrics_report_honours_settings(history: pl.DataFrame) -> None:
    lenient = MetricSettings(
        late_threshold_hours={"critical": 400, "high": 400, "medium": 400, "low": 400},
        recurrence_window_days=4,
    )

    report = metrics_report(history, START, END, settings=lenient)

    # No latency exceeds 400 h. With a 4-day look-back only row 6 recurs (row 4
    # is 3 days 12 hours earlier); row 2's history is 48 days back: 1 / 5.
    assert report["late_rate"] == 0.0
    assert report["recurrence_rate"] == pytest.approx(0.2)


def test_metrics_report_refuses_naive_bounds(history: pl.DataFrame) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        metrics_report(history, start=datetime(2024, 3, 4))
