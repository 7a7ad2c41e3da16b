"""Late escalations: latency strictly beyond the threshold for the severity."""

import polars as pl

from metrics.latency import MICROSECONDS_PER_HOUR, latency_microseconds
from metrics.rates import share_of_escalations
from metrics.schema import (
    HOURS_BEYOND_THRESHOLD,
    IS_LATE,
    SEVERITY,
    THRESHOLD_HOURS,
    require_columns,
)
from metrics.settings import DEFAULT_SETTINGS, MetricSettings


def late_threshold_hours(settings: MetricSettings = DEFAULT_SETTINGS) -> pl.Expr:
    """The late threshold in hours for each row's severity, named "threshold_hours".

    A severity with no threshold makes polars raise when the expression runs;
    call :func:`check_severities` first for a ValueError that names it. A null
    severity gives a null threshold.
    """
    return (
        pl.col(SEVERITY)
        .replace_strict(dict(settings.late_threshold_hours), return_dtype=pl.Float64)
        .alias(THRESHOLD_HOURS)
    )


def microseconds_from_hours(hours: pl.Expr) -> pl.Expr:
    """Hours rounded to whole microseconds, as Int64."""
    # Compare whole microseconds so that "exactly on the threshold" is decided
    # exactly, whatever the threshold, instead of by float rounding.
    return (hours * MICROSECONDS_PER_HOUR).round().cast(pl.Int64)


def late_from(latency_us: pl.Expr, threshold_us: pl.Expr) -> pl.Expr:
    """Whether a latency is strictly beyond a threshold, both in microseconds."""
    return (latency_us > threshold_us).alias(IS_LATE)


def hours_beyond_from(latency_us: pl.Expr, threshold_us: pl.Expr) -> pl.Expr:
    """Latency minus threshold, both in microseconds, as hours."""
    return ((latency_us - threshold_us) / MICROSECONDS_PER_HOUR).alias(
        HOURS_BEYOND_THRESHOLD
    )


def is_late(settings: MetricSettings = DEFAULT_SETTINGS) -> pl.Expr:
    """Whether latency is strictly greater than the severity's threshold.

    Named "is_late". Reads ``severity``, ``first_signal_at`` and
    ``escalated_at``. A latency exactly equal to the threshold is on time.

    Examples
    --------
    >>> from datetime import UTC, datetime, timedelta
    >>> signal = datetime(2024, 1, 1, tzinfo=UTC)
    >>> df = pl.DataFrame(
    ...     {
    ...         "severity": ["critical", "critical"],
    ...         "first_signal_at": [signal, signal],
    ...         "escalated_at": [
    ...             signal + timedelta(hours=24),
    ...             signal + timedelta(hours=24, microseconds=1),
    ...         ],
    ...     }
    ... )
    >>> df.select(is_late()).to_series().to_list()
    [False, True]
    """
    return late_from(
        latency_microseconds(),
        microseconds_from_hours(late_threshold_hours(settings)),
    )


def hours_beyond_threshold(settings: MetricSettings = DEFAULT_SETTINGS) -> pl.Expr:
    """Latency minus threshold in hours: positive when late, zero or less if not."""
    return hours_beyond_from(
        latency_microseconds(),
        microseconds_from_hours(late_threshold_hours(settings)),
    )


def unknown_severities(
    df: pl.DataFrame, settings: MetricSettings = DEFAULT_SETTINGS
) -> list[str | None]:
    """Distinct severities in ``df`` that have no late threshold, nulls included."""
    require_columns(df, [SEVERITY], needed_by="unknown_severities")
    known = list(settings.late_threshold_hours)
    unknown = (
        df.select(pl.col(SEVERITY).unique())
        .filter(pl.col(SEVERITY).is_in(known).not_() | pl.col(SEVERITY).is_null())
        .sort(SEVERITY, nulls_last=True)
        .get_column(SEVERITY)
        .to_list()
    )
    return unknown


def check_severities(
    df: pl.DataFrame, settings: MetricSettings = DEFAULT_SETTINGS
) -> None:
    """Raise a ValueError naming every severity that has no late threshold."""
    unknown = unknown_severities(df, settings)
    if unknown:
        message = (
            f"no late threshold for severity {unknown}; "
            f"known severities are {sorted(settings.late_threshold_hours)}"
        )
        raise ValueError(message)


def late_rate() -> pl.Expr:
    """Late escalations divided by all escalations, null when there are none.

    Aggregates the ``is_late`` column, so use it on a prepared frame.
    """
    return share_of_escalations(IS_LATE).alias("late_rate")
