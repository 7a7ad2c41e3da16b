"""Signal-to-escalation latency: how long a risk signal waited for an owner."""

from typing import Any

import polars as pl

from metrics.schema import ESCALATED_AT, FIRST_SIGNAL_AT, LATENCY_HOURS

MICROSECONDS_PER_HOUR = 3_600_000_000
P90 = 0.9


def latency_microseconds() -> pl.Expr:
    """Whole microseconds from first signal to escalation, as Int64."""
    return (
        (pl.col(ESCALATED_AT) - pl.col(FIRST_SIGNAL_AT))
        .dt.total_microseconds()
        .alias("latency_microseconds")
    )


def latency_hours() -> pl.Expr:
    """Hours from first signal to escalation, as Float64 named "latency_hours".

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> df = pl.DataFrame(
    ...     {
    ...         "first_signal_at": [datetime(2024, 1, 1, tzinfo=UTC)],
    ...         "escalated_at": [datetime(2024, 1, 2, 6, 30, tzinfo=UTC)],
    ...     }
    ... )
    >>> df.select(latency_hours()).item()
    30.5
    """
    # Divide the exact integer microseconds so no precision is lost before the
    # single float conversion.
    return (latency_microseconds() / MICROSECONDS_PER_HOUR).alias(LATENCY_HOURS)


def percentile_hours(p: float, column: str = LATENCY_HOURS) -> pl.Expr:
    """Percentile ``p`` (0 to 1) of ``column``, interpolated linearly.

    Linear interpolation between closest ranks is the numpy default ("type 7"):
    with the values sorted as x_1..x_n, take h = (n - 1) * p and return
    x_floor(h) + (h - floor(h)) * (x_ceil(h) - x_floor(h)). One value gives
    itself; no values give null.
    """
    if not 0.0 <= p <= 1.0:
        message = f"a percentile must lie between 0 and 1, got {p!r}"
        raise ValueError(message)
    return pl.col(column).quantile(p, interpolation="linear")


def median_hours(column: str = LATENCY_HOURS) -> pl.Expr:
    """Median of ``column``, named "median_hours"."""
    return percentile_hours(0.5, column).alias("median_hours")


def p90_hours(column: str = LATENCY_HOURS) -> pl.Expr:
    """90th percentile of ``column`` by linear interpolation, named "p90_hours"."""
    return percentile_hours(P90, column).alias("p90_hours")


def max_hours(column: str = LATENCY_HOURS) -> pl.Expr:
    """Largest value of ``column``, named "max_hours"."""
    return pl.col(column).max().alias("max_hours")


def latency_summary(df: pl.DataFrame) -> dict[str, Any]:
    """Count, median, 90th percentile and maximum latency in hours.

    Reads only ``first_signal_at`` and ``escalated_at``. Returns a dict with
    "count" (int) and "median", "p90" and "max" (float, None when the count is
    0). Rows where either timestamp is null are not counted.

    Examples
    --------
    >>> from datetime import UTC, datetime, timedelta
    >>> start = datetime(2024, 1, 1, tzinfo=UTC)
    >>> df = pl.DataFrame(
    ...     {
    ...         "first_signal_at": [start] * 6,
    ...         "escalated_at": [
    ...             start + timedelta(hours=h) for h in (1, 2, 3, 4, 6, 10)
    ...         ],
    ...     }
    ... )
    >>> latency_summary(df)
    {'count': 6, 'median': 3.5, 'p90': 8.0, 'max': 10.0}
    """
    row = (
        df.select(latency_hours())
        .select(
            pl.col(LATENCY_HOURS).count().alias("count"),
            median_hours(),
            p90_hours(),
            max_hours(),
        )
        .row(0, named=True)
    )
    return {
        "count": int(row["count"]),
        "median": row["median_hours"],
        "p90": row["p90_hours"],
        "max": row["max_hours"],
    }
