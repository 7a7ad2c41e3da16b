"""Reporting windows: which escalations a figure covers, and the period before."""

from datetime import UTC, datetime, timedelta

import polars as pl

from metrics.schema import ESCALATED_AT, require_columns, require_utc_datetimes


def _as_utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        message = (
            f"{name} must be a timezone-aware datetime, got the naive {value!r}; "
            "attach a timezone, for example datetime(..., tzinfo=UTC)"
        )
        raise ValueError(message)
    return value.astimezone(UTC)


def _check_order(start: datetime, end: datetime) -> None:
    if start >= end:
        message = (
            f"the window start {start.isoformat()} must be before its end "
            f"{end.isoformat()}"
        )
        raise ValueError(message)


def window_bounds(
    start: datetime | None, end: datetime | None
) -> tuple[datetime | None, datetime | None]:
    """Check a window's bounds and return them converted to UTC.

    Either bound may be None, meaning open on that side. Raises ValueError for a
    naive datetime or for ``start`` not before ``end``.
    """
    start_utc = None if start is None else _as_utc(start, "start")
    end_utc = None if end is None else _as_utc(end, "end")
    if start_utc is not None and end_utc is not None:
        _check_order(start_utc, end_utc)
    return start_utc, end_utc


def in_window(
    df: pl.DataFrame, start: datetime | None, end: datetime | None
) -> pl.DataFrame:
    """Rows whose ``escalated_at`` falls in [start, end); None leaves a side open.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> df = pl.DataFrame(
    ...     {"escalated_at": [datetime(2024, 1, d, tzinfo=UTC) for d in (1, 2, 3)]}
    ... )
    >>> in_window(
    ...     df, datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 1, 3, tzinfo=UTC)
    ... ).height
    2
    """
    start_utc, end_utc = window_bounds(start, end)
    require_columns(df, [ESCALATED_AT], needed_by="in_window")
    require_utc_datetimes(df, [ESCALATED_AT], needed_by="in_window")
    conditions = []
    if start_utc is not None:
        conditions.append(pl.col(ESCALATED_AT) >= start_utc)
    if end_utc is not None:
        conditions.append(pl.col(ESCALATED_AT) < end_utc)
    if not conditions:
        return df
    return df.filter(*conditions)


def previous_period(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """The equally long window just before [start, end), in UTC.

    That is [start - (end - start), start). The arithmetic is done in UTC so a
    daylight-saving change inside the window cannot stretch or shrink it.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> before = previous_period(
    ...     datetime(2024, 3, 1, tzinfo=UTC), datetime(2024, 3, 8, tzinfo=UTC)
    ... )
    >>> [bound.isoformat() for bound in before]
    ['2024-02-23T00:00:00+00:00', '2024-03-01T00:00:00+00:00']
    """
    start_utc = _as_utc(start, "start")
    end_utc = _as_utc(end, "end")
    _check_order(start_utc, end_utc)
    length: timedelta = end_utc - start_utc
    return start_utc - length, start_utc
