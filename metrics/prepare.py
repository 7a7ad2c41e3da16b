"""One pass that adds every per-escalation figure the summaries aggregate."""

import polars as pl

from metrics.latency import MICROSECONDS_PER_HOUR, latency_microseconds
from metrics.lateness import (
    check_severities,
    hours_beyond_from,
    late_from,
    late_threshold_hours,
    microseconds_from_hours,
)
from metrics.recurrence import with_recurrence
from metrics.schema import (
    ACCOUNT_ID,
    ESCALATED_AT,
    FIRST_SIGNAL_AT,
    HOURS_BEYOND_THRESHOLD,
    IS_LATE,
    LATENCY_HOURS,
    PREVIOUS_ESCALATED_AT,
    RECURS,
    SEVERITY,
    THRESHOLD_HOURS,
    TRIGGER_TYPE,
    require_columns,
    require_no_nulls,
    require_utc_datetimes,
)
from metrics.settings import DEFAULT_SETTINGS, MetricSettings

REQUIRED_COLUMNS = (ACCOUNT_ID, TRIGGER_TYPE, SEVERITY, FIRST_SIGNAL_AT, ESCALATED_AT)
"""The columns :func:`prepare_escalations` reads; a loader need fetch no more."""

_LATENCY_US = "__latency_microseconds"
_THRESHOLD_US = "__threshold_microseconds"
ADDED_COLUMNS = (
    LATENCY_HOURS,
    THRESHOLD_HOURS,
    IS_LATE,
    HOURS_BEYOND_THRESHOLD,
    PREVIOUS_ESCALATED_AT,
    RECURS,
)
"""The columns :func:`prepare_escalations` adds, in the order it adds them."""


def prepare_escalations(
    df: pl.DataFrame, settings: MetricSettings = DEFAULT_SETTINGS
) -> pl.DataFrame:
    """Add latency, lateness and recurrence columns to the full escalation history.

    Adds "latency_hours", "threshold_hours", "is_late",
    "hours_beyond_threshold", "previous_escalated_at" and "recurs". Every other
    column passes through unchanged and row order is kept. Pass the whole
    history, not a window: recurrence looks back before any window you apply
    later with :func:`metrics.window.in_window`.

    Parameters
    ----------
    df
        Escalations with at least the columns in ``REQUIRED_COLUMNS``.
    settings
        Late thresholds per severity and the recurrence window.

    Raises
    ------
    ValueError
        If a required column is missing or holds a null, if a timestamp column
        is not a UTC Datetime, or if a severity has no late threshold in
        ``settings``.
    """
    require_columns(df, REQUIRED_COLUMNS, needed_by="prepare_escalations")
    require_utc_datetimes(
        df, [FIRST_SIGNAL_AT, ESCALATED_AT], needed_by="prepare_escalations"
    )
    # A missing timestamp would silently count as on time; refuse it instead.
    require_no_nulls(df, REQUIRED_COLUMNS, needed_by="prepare_escalations")
    check_severities(df, settings)

    # Latency and threshold are each worked out once, in whole microseconds,
    # and every derived column reads them; the public expressions would
    # recompute them per column.
    latency_us = pl.col(_LATENCY_US)
    threshold_us = pl.col(_THRESHOLD_US)
    prepared = (
        df.with_columns(
            latency_microseconds().alias(_LATENCY_US),
            late_threshold_hours(settings),
        )
        .with_columns(
            microseconds_from_hours(pl.col(THRESHOLD_HOURS)).alias(_THRESHOLD_US)
        )
        .with_columns(
            (latency_us / MICROSECONDS_PER_HOUR).alias(LATENCY_HOURS),
            late_from(latency_us, threshold_us),
            hours_beyond_from(latency_us, threshold_us),
        )
        .pipe(with_recurrence, settings)
    )
    # Added columns go last in a fixed order, even when ``df`` already had them
    # (preparing a prepared frame), so the result's shape never depends on it.
    passed_through = [name for name in df.columns if name not in ADDED_COLUMNS]
    return prepared.select(*passed_through, *ADDED_COLUMNS)
