"""Time to resolution, and how long the escalations still open have been open."""

from datetime import UTC, datetime
from typing import Any

import polars as pl

from metrics.columns import AGE_HOURS, RESOLUTION_HOURS
from metrics.latency import MICROSECONDS_PER_HOUR, max_hours, median_hours, p90_hours
from metrics.schema import (
    ESCALATED_AT,
    RESOLVED_AT,
    UTC_DATETIME,
    require_columns,
    require_no_nulls,
    require_utc_datetimes,
)

_COLUMNS = (ESCALATED_AT, RESOLVED_AT)


def _as_of_utc(as_of: datetime) -> datetime:
    if as_of.tzinfo is None or as_of.utcoffset() is None:
        message = (
            "as_of must be a timezone-aware datetime, got the naive "
            f"{as_of.isoformat()}; attach a timezone, for example "
            "datetime(..., tzinfo=UTC)"
        )
        raise ValueError(message)
    return as_of.astimezone(UTC)


def _check_escalations(escalations: pl.DataFrame, needed_by: str) -> None:
    require_columns(escalations, _COLUMNS, needed_by=needed_by)
    require_utc_datetimes(escalations, _COLUMNS, needed_by=needed_by)
    require_no_nulls(escalations, [ESCALATED_AT], needed_by=needed_by)


def resolution_hours() -> pl.Expr:
    """Hours from escalation to resolution, named "resolution_hours".

    Null while the escalation is open (``resolved_at`` is null).
    """
    return (
        (pl.col(RESOLVED_AT) - pl.col(ESCALATED_AT)).dt.total_microseconds()
        / MICROSECONDS_PER_HOUR
    ).alias(RESOLUTION_HOURS)


def age_hours(as_of: datetime) -> pl.Expr:
    """Hours from escalation to ``as_of`` (timezone-aware), named "age_hours"."""
    as_of_utc = pl.lit(_as_of_utc(as_of), dtype=UTC_DATETIME)
    return (
        (as_of_utc - pl.col(ESCALATED_AT)).dt.total_microseconds()
        / MICROSECONDS_PER_HOUR
    ).alias(AGE_HOURS)


def open_escalation_ages(escalations: pl.DataFrame, as_of: datetime) -> pl.DataFrame:
    """The escalations still open, with "age_hours" as of ``as_of``, oldest first.

    Open means ``resolved_at`` is null. Every column of ``escalations`` passes
    through and "age_hours" (Float64) is added last; escalations of equal age
    keep their order. An escalation dated after ``as_of`` gets a negative age,
    shown as it is rather than hidden.
    """
    age = age_hours(as_of)
    _check_escalations(escalations, needed_by="open_escalation_ages")
    return (
        escalations.filter(pl.col(RESOLVED_AT).is_null())
        .with_columns(age)
        .sort(AGE_HOURS, descending=True, maintain_order=True)
    )


def time_to_resolution(escalations: pl.DataFrame, as_of: datetime) -> dict[str, Any]:
    """Median and p90 hours to resolve, and the count and age of open escalations.

    Resolution figures cover only resolved escalations: an open one is never
    treated as ending at ``as_of``. Percentiles interpolate linearly, as for
    latency (see :func:`metrics.latency.percentile_hours`).

    Parameters
    ----------
    escalations
        Escalations with ``escalated_at`` and ``resolved_at`` (UTC; null while
        open), already cut to the window of interest.
    as_of
        Timezone-aware instant the ages of open escalations are measured to,
        usually now.

    Returns
    -------
    dict
        "resolved" (int), "median_hours" and "p90_hours" (float, escalation to
        resolution), "open" (int), "open_median_age_hours" and
        "open_max_age_hours" (float, escalation to ``as_of``). A figure with
        nothing to measure is None.

    Raises
    ------
    ValueError
        If ``as_of`` is naive, a column is missing or not a UTC Datetime, or
        ``escalated_at`` holds a null.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> escalations = pl.DataFrame(
    ...     {
    ...         "escalated_at": [datetime(2024, 3, d, tzinfo=UTC) for d in (1, 2, 3)],
    ...         "resolved_at": [
    ...             datetime(2024, 3, 1, 10, tzinfo=UTC),
    ...             datetime(2024, 3, 3, tzinfo=UTC),
    ...             None,
    ...         ],
    ...     },
    ...     schema={"escalated_at": UTC_DATETIME, "resolved_at": UTC_DATETIME},
    ... )
    >>> figures = time_to_resolution(
    ...     escalations, as_of=datetime(2024, 3, 4, 12, tzinfo=UTC)
    ... )
    >>> figures["resolved"], figures["median_hours"], figures["p90_hours"]
    (2, 17.0, 22.6)
    >>> figures["open"], figures["open_max_age_hours"]
    (1, 36.0)
    """
    age = age_hours(as_of)
    _check_escalations(escalations, needed_by="time_to_resolution")

    resolved = (
        escalations.filter(pl.col(RESOLVED_AT).is_not_null())
        .select(resolution_hours())
        .select(
            pl.len().cast(pl.Int64).alias("resolved"),
            median_hours(RESOLUTION_HOURS),
            p90_hours(RESOLUTION_HOURS),
        )
        .row(0, named=True)
    )
    still_open = (
        escalations.filter(pl.col(RESOLVED_AT).is_null())
        .select(age)
        .select(
            pl.len().cast(pl.Int64).alias("open"),
            median_hours(AGE_HOURS),
            max_hours(AGE_HOURS),
        )
        .row(0, named=True)
    )
    return {
        "resolved": int(resolved["resolved"]),
        "median_hours": resolved["median_hours"],
        "p90_hours": resolved["p90_hours"],
        "open": int(still_open["open"]),
        "open_median_age_hours": still_open["median_hours"],
        "open_max_age_hours": still_open["max_hours"],
    }
