"""Column names and dtypes of the escalations frame that the metrics read."""

from collections.abc import Iterable

import polars as pl

ID = "id"
ACCOUNT_ID = "account_id"
TRIGGER_TYPE = "trigger_type"
SEVERITY = "severity"
FIRST_SIGNAL_AT = "first_signal_at"
ESCALATED_AT = "escalated_at"
RESOLVED_AT = "resolved_at"

# Columns added by the metrics themselves.
LATENCY_HOURS = "latency_hours"
THRESHOLD_HOURS = "threshold_hours"
IS_LATE = "is_late"
HOURS_BEYOND_THRESHOLD = "hours_beyond_threshold"
PREVIOUS_ESCALATED_AT = "previous_escalated_at"
RECURS = "recurs"

UTC_DATETIME = pl.Datetime("us", "UTC")

ESCALATION_SCHEMA = pl.Schema(
    {
        ID: pl.Int64(),
        ACCOUNT_ID: pl.Int64(),
        TRIGGER_TYPE: pl.String(),
        SEVERITY: pl.String(),
        FIRST_SIGNAL_AT: UTC_DATETIME,
        ESCALATED_AT: UTC_DATETIME,
        RESOLVED_AT: UTC_DATETIME,
    }
)
"""The input contract: what the loader hands over (more columns may follow)."""


def require_columns(
    df: pl.DataFrame, columns: Iterable[str], *, needed_by: str
) -> None:
    """Raise a ValueError naming any of ``columns`` that ``df`` lacks."""
    missing = [name for name in columns if name not in df.columns]
    if missing:
        message = (
            f"{needed_by} needs the column(s) {missing}, "
            f"but the frame only has {df.columns}"
        )
        raise ValueError(message)


def require_no_nulls(
    df: pl.DataFrame, columns: Iterable[str], *, needed_by: str
) -> None:
    """Raise a ValueError naming each of ``columns`` that holds nulls, with counts."""
    nulls = {
        name: count
        for name in columns
        if (count := df.get_column(name).null_count()) > 0
    }
    if nulls:
        message = f"{needed_by} needs a value in every row; null counts: {nulls}"
        raise ValueError(message)


def require_utc_datetimes(
    df: pl.DataFrame, columns: Iterable[str], *, needed_by: str
) -> None:
    """Raise a ValueError naming each of ``columns`` that is not a UTC Datetime."""
    wrong = {}
    for name in columns:
        dtype = df.schema[name]
        if not (isinstance(dtype, pl.Datetime) and dtype.time_zone == "UTC"):
            wrong[name] = str(dtype)
    if wrong:
        message = (
            f"{needed_by} needs UTC datetime columns, got {wrong}; a naive column "
            "holding UTC times can be marked with .dt.replace_time_zone('UTC')"
        )
        raise ValueError(message)
