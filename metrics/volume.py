"""Weekly escalation volume, with empty weeks shown as zero."""

from datetime import date, datetime, timedelta

import polars as pl

from metrics.schema import ESCALATED_AT, IS_LATE, require_columns
from metrics.window import in_window, window_bounds

WEEK_START = "week_start"


def week_start() -> pl.Expr:
    """The Monday (UTC) that starts the ISO week of ``escalated_at``, as a Date."""
    # Truncating to "1w" snaps to Monday 00:00 in the column's zone, UTC here.
    return pl.col(ESCALATED_AT).dt.truncate("1w").dt.date().alias(WEEK_START)


def _monday_of(instant: datetime) -> date:
    day = instant.date()
    return day - timedelta(days=day.weekday())


def _week_span(
    windowed: pl.DataFrame, start: datetime | None, end: datetime | None
) -> tuple[date | None, date | None]:
    seen = windowed.select(
        pl.col(ESCALATED_AT).min().alias("first"),
        pl.col(ESCALATED_AT).max().alias("last"),
    ).row(0, named=True)
    first = start if start is not None else seen["first"]
    # The window excludes ``end`` itself, so its last week holds the instant
    # just before it.
    last = end - timedelta(microseconds=1) if end is not None else seen["last"]
    return (
        None if first is None else _monday_of(first),
        None if last is None else _monday_of(last),
    )


def weekly_volume(
    prepared: pl.DataFrame,
    start: datetime | None = None,
    end: datetime | None = None,
    by: str | None = None,
) -> pl.DataFrame:
    """Escalations, late escalations and late rate per ISO week (Monday, UTC).

    Every week from the first to the last week of the window is present, with
    zero escalations and a null late rate where nothing happened, so a chart
    shows a gap as zero. A bounded side of the window fixes its end week; an
    open side ends at the first or last escalation. With an open side and no
    escalations at all the result is empty.

    Parameters
    ----------
    prepared
        Escalations with ``escalated_at`` and ``is_late`` (see
        :func:`metrics.prepare.prepare_escalations`).
    start, end
        Timezone-aware bounds of the window [start, end) on ``escalated_at``;
        None leaves that side open. The edge weeks count only escalations
        inside the window.
    by
        Optional column to split each week by, such as "trigger_type". Every
        value seen in the window gets a row in every week.

    Returns
    -------
    pl.DataFrame
        week_start (Date), the ``by`` column if given, escalations (Int64), late
        (Int64) and late_rate (Float64), sorted by week and then ``by``.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> prepared = pl.DataFrame(
    ...     {
    ...         "escalated_at": [
    ...             datetime(2024, 1, 1, tzinfo=UTC),
    ...             datetime(2024, 1, 17, tzinfo=UTC),
    ...         ],
    ...         "is_late": [True, False],
    ...     }
    ... )
    >>> weekly_volume(prepared).get_column("escalations").to_list()
    [1, 0, 1]
    """
    start_utc, end_utc = window_bounds(start, end)
    group_columns = [] if by is None else [by]
    require_columns(
        prepared, [ESCALATED_AT, IS_LATE, *group_columns], needed_by="weekly_volume"
    )
    windowed = in_window(prepared, start_utc, end_utc)

    counts = windowed.group_by(week_start(), *group_columns).agg(
        pl.len().cast(pl.Int64).alias("escalations"),
        pl.col(IS_LATE).sum().cast(pl.Int64).alias("late"),
    )
    first_week, last_week = _week_span(windowed, start_utc, end_utc)
    if first_week is None or last_week is None:
        weeks = pl.Series(WEEK_START, [], dtype=pl.Date)
    else:
        weeks = pl.date_range(first_week, last_week, interval="1w", eager=True)
    grid = weeks.alias(WEEK_START).to_frame()
    if by is not None:
        grid = grid.join(windowed.select(pl.col(by).unique()), how="cross")

    return (
        grid.join(
            counts,
            on=[WEEK_START, *group_columns],
            how="left",
            nulls_equal=True,
        )
        .with_columns(pl.col("escalations", "late").fill_null(0))
        .with_columns(
            pl.when(pl.col("escalations") > 0)
            .then(pl.col("late") / pl.col("escalations"))
            .otherwise(None)
            .alias("late_rate")
        )
        .sort([WEEK_START, *group_columns])
    )
