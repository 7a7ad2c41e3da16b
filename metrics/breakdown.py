"""Where lateness concentrates: late rate per team, owner, trigger and so on."""

import polars as pl

from metrics.columns import OWNER, RAISED_VIA, TEAM
from metrics.latency import median_hours
from metrics.lateness import late_rate
from metrics.schema import (
    HOURS_BEYOND_THRESHOLD,
    IS_LATE,
    LATENCY_HOURS,
    SEVERITY,
    TRIGGER_TYPE,
    require_columns,
)
from metrics.summary import escalation_count

BREAKDOWN_COLUMNS = (TEAM, OWNER, TRIGGER_TYPE, SEVERITY, RAISED_VIA)
"""The columns :func:`late_rate_by` may split by."""

NONE_LABEL = "(none)"
"""How a missing value of the split column is shown."""


def late_rate_by(prepared: pl.DataFrame, column: str) -> pl.DataFrame:
    """Escalations, late escalations, late rate and median latency per value.

    The rows are sorted so that the values with the most late escalations come
    first, then by late rate (higher first), then by value. A null value is
    shown as "(none)".

    Parameters
    ----------
    prepared
        Output of :func:`metrics.prepare.prepare_escalations` (calendar or
        business hours), already cut to the window of interest.
    column
        One of ``BREAKDOWN_COLUMNS``: "team", "owner", "trigger_type",
        "severity" or "raised_via".

    Returns
    -------
    pl.DataFrame
        ``column`` (String), escalations (Int64), late (Int64), late_rate and
        median_hours (Float64); no rows when ``prepared`` is empty.

    Examples
    --------
    >>> prepared = pl.DataFrame(
    ...     {
    ...         "team": ["Atlas", "Atlas", "Borealis", None],
    ...         "is_late": [True, False, True, True],
    ...         "latency_hours": [30.0, 2.0, 50.0, 40.0],
    ...     }
    ... )
    >>> by_team = late_rate_by(prepared, "team")
    >>> by_team.get_column("team").to_list()
    ['(none)', 'Borealis', 'Atlas']
    >>> by_team.row(2)
    ('Atlas', 2, 1, 0.5, 16.0)
    """
    if column not in BREAKDOWN_COLUMNS:
        message = (
            f"cannot break the late rate down by {column!r}; "
            f"choose one of {list(BREAKDOWN_COLUMNS)}"
        )
        raise ValueError(message)
    require_columns(
        prepared, [column, IS_LATE, LATENCY_HOURS], needed_by="late_rate_by"
    )

    return (
        prepared.group_by(pl.col(column).cast(pl.String).fill_null(NONE_LABEL))
        .agg(
            escalation_count(),
            pl.col(IS_LATE).sum().cast(pl.Int64).alias("late"),
            late_rate(),
            median_hours(),
        )
        .sort(["late", "late_rate", column], descending=[True, True, False])
    )


def late_escalations(prepared: pl.DataFrame) -> pl.DataFrame:
    """The late escalations, furthest beyond their threshold first.

    Every column of ``prepared`` passes through; escalations equally far beyond
    their threshold keep their order.
    """
    require_columns(
        prepared, [IS_LATE, HOURS_BEYOND_THRESHOLD], needed_by="late_escalations"
    )
    return prepared.filter(pl.col(IS_LATE)).sort(
        HOURS_BEYOND_THRESHOLD, descending=True, maintain_order=True
    )
