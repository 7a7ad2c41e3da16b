"""Headline health figures: overall, per trigger type, against the prior period."""

from datetime import datetime
from typing import Any

import polars as pl

from metrics.latency import max_hours, median_hours, p90_hours
from metrics.lateness import late_rate
from metrics.prepare import prepare_escalations
from metrics.recurrence import recurrence_rate
from metrics.schema import (
    ESCALATED_AT,
    IS_LATE,
    LATENCY_HOURS,
    RECURS,
    TRIGGER_TYPE,
    UTC_DATETIME,
    require_columns,
)
from metrics.settings import DEFAULT_SETTINGS, MetricSettings
from metrics.window import in_window, previous_period, window_bounds

_PREPARED_COLUMNS = (LATENCY_HOURS, IS_LATE, RECURS)


def escalation_count() -> pl.Expr:
    """Number of escalations (rows) as Int64, named "escalations"."""
    return pl.len().cast(pl.Int64).alias("escalations")


def _headline_figures() -> list[pl.Expr]:
    return [
        escalation_count(),
        median_hours(),
        p90_hours(),
        max_hours(),
        late_rate(),
        recurrence_rate(),
    ]


def health_summary(prepared: pl.DataFrame) -> dict[str, Any]:
    """Escalation count, latency median, p90 and max, late and recurrence rates.

    ``prepared`` comes from :func:`metrics.prepare.prepare_escalations`, already
    cut to the window of interest. Returns a dict with "escalations" (int) and
    "median_hours", "p90_hours", "max_hours", "late_rate" and
    "recurrence_rate" (float). With no escalations the count is 0 and every
    other figure is None.

    Examples
    --------
    >>> from datetime import UTC, datetime, timedelta
    >>> signal = datetime(2024, 1, 1, tzinfo=UTC)
    >>> escalations = pl.DataFrame(
    ...     {
    ...         "account_id": [1, 1, 2],
    ...         "trigger_type": ["usage_drop"] * 3,
    ...         "severity": ["critical", "critical", "low"],
    ...         "first_signal_at": [signal] * 3,
    ...         "escalated_at": [signal + timedelta(hours=h) for h in (12, 30, 48)],
    ...     }
    ... )
    >>> health_summary(prepare_escalations(escalations))["late_rate"]
    0.3333333333333333
    """
    require_columns(prepared, _PREPARED_COLUMNS, needed_by="health_summary")
    row = prepared.select(_headline_figures()).row(0, named=True)
    return {
        "escalations": int(row["escalations"]),
        "median_hours": row["median_hours"],
        "p90_hours": row["p90_hours"],
        "max_hours": row["max_hours"],
        "late_rate": row["late_rate"],
        "recurrence_rate": row["recurrence_rate"],
    }


def by_trigger_type(prepared: pl.DataFrame) -> pl.DataFrame:
    """Headline figures per trigger type, busiest first, then by name.

    Columns: trigger_type, escalations (Int64), median_hours, p90_hours,
    late_rate, recurrence_rate (Float64). A trigger type with no escalations in
    ``prepared`` has no row.
    """
    require_columns(
        prepared, (TRIGGER_TYPE, *_PREPARED_COLUMNS), needed_by="by_trigger_type"
    )
    return (
        prepared.group_by(TRIGGER_TYPE)
        .agg(
            escalation_count(),
            median_hours(),
            p90_hours(),
            late_rate(),
            recurrence_rate(),
        )
        .sort(["escalations", TRIGGER_TYPE], descending=[True, False])
    )


def kpi_comparison(
    prepared: pl.DataFrame, start: datetime, end: datetime
) -> pl.DataFrame:
    """Headline figures for [start, end) and for the equally long period before.

    Returns two rows, "current" then "previous", with the columns period,
    period_start, period_end (UTC), escalations (Int64), median_hours,
    p90_hours, max_hours, late_rate and recurrence_rate. ``prepared`` must hold
    the full history so that both periods can be cut from it.
    """
    require_columns(
        prepared, (ESCALATED_AT, *_PREPARED_COLUMNS), needed_by="kpi_comparison"
    )
    current_start, current_end = window_bounds(start, end)
    previous_start, previous_end = previous_period(start, end)

    periods = [
        ("current", current_start, current_end),
        ("previous", previous_start, previous_end),
    ]
    rows = [
        in_window(prepared, period_start, period_end).select(
            pl.lit(label).alias("period"),
            pl.lit(period_start, dtype=UTC_DATETIME).alias("period_start"),
            pl.lit(period_end, dtype=UTC_DATETIME).alias("period_end"),
            *_headline_figures(),
        )
        for label, period_start, period_end in periods
    ]
    return pl.concat(rows)


def _trigger_type_report(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "escalations": int(row["escalations"]),
        "median_hours": row["median_hours"],
        "p90_hours": row["p90_hours"],
        "late_rate": row["late_rate"],
        "recurrence_rate": row["recurrence_rate"],
    }


def metrics_report(
    escalations: pl.DataFrame,
    start: datetime | None = None,
    end: datetime | None = None,
    settings: MetricSettings = DEFAULT_SETTINGS,
) -> dict[str, Any]:
    """The health figures for [start, end) as plain, JSON-ready Python values.

    Lateness and recurrence are worked out over the whole of ``escalations``
    first; only then is the window applied. Figures with nothing to measure are
    None. Trigger types appear sorted by name. The shape is::

        {
            "escalations": int,
            "signal_to_escalation_hours": {"median": float, "p90": float},
            "late_rate": float,
            "recurrence_rate": float,
            "by_trigger_type": {
                "<trigger_type>": {
                    "escalations": int,
                    "median_hours": float,
                    "p90_hours": float,
                    "late_rate": float,
                    "recurrence_rate": float,
                },
            },
        }

    Parameters
    ----------
    escalations
        The raw escalation history (see ``metrics.prepare.REQUIRED_COLUMNS``).
    start, end
        Timezone-aware window bounds on ``escalated_at``; None leaves that side
        open.
    settings
        Late thresholds and the recurrence window.

    Examples
    --------
    >>> from datetime import UTC, datetime, timedelta
    >>> signal = datetime(2024, 1, 1, tzinfo=UTC)
    >>> escalations = pl.DataFrame(
    ...     {
    ...         "account_id": [1, 1],
    ...         "trigger_type": ["usage_drop", "usage_drop"],
    ...         "severity": ["high", "high"],
    ...         "first_signal_at": [signal, signal + timedelta(days=10)],
    ...         "escalated_at": [
    ...             signal + timedelta(hours=10),
    ...             signal + timedelta(days=10, hours=80),
    ...         ],
    ...     }
    ... )
    >>> report = metrics_report(escalations)
    >>> report["signal_to_escalation_hours"]
    {'median': 45.0, 'p90': 73.0}
    >>> report["late_rate"], report["recurrence_rate"]
    (0.5, 0.5)
    """
    # Check the bounds before the costly preparation, not after.
    window_bounds(start, end)
    prepared = in_window(prepare_escalations(escalations, settings), start, end)

    overall = health_summary(prepared)
    per_type = by_trigger_type(prepared).sort(TRIGGER_TYPE)
    return {
        "escalations": overall["escalations"],
        "signal_to_escalation_hours": {
            "median": overall["median_hours"],
            "p90": overall["p90_hours"],
        },
        "late_rate": overall["late_rate"],
        "recurrence_rate": overall["recurrence_rate"],
        "by_trigger_type": {
            str(row[TRIGGER_TYPE]): _trigger_type_report(row)
            for row in per_type.iter_rows(named=True)
        },
    }
