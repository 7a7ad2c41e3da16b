"""Recurrence: the same account raising the same kind of risk again soon after."""

from datetime import timedelta

import polars as pl

from metrics.rates import share_of_escalations
from metrics.schema import (
    ACCOUNT_ID,
    ESCALATED_AT,
    PREVIOUS_ESCALATED_AT,
    RECURS,
    TRIGGER_TYPE,
    UTC_DATETIME,
    require_columns,
    require_no_nulls,
    require_utc_datetimes,
)
from metrics.settings import DEFAULT_SETTINGS, MetricSettings

_KEY_COLUMNS = (ACCOUNT_ID, TRIGGER_TYPE, ESCALATED_AT)
_TYPE_CODE = "type_code"
_MICROS = "micros"
# A packed sort key must stay below 2**127 to fit a signed 128-bit integer.
_PACKED_KEY_BITS = 126


def _sort_order(keys: pl.DataFrame) -> pl.Series:
    """Row positions of ``keys`` ordered by account, trigger type code, then time."""
    spans = keys.select(
        pl.col(ACCOUNT_ID).min().alias("account_min"),
        pl.col(ACCOUNT_ID).max().alias("account_max"),
        pl.col(_TYPE_CODE).max().alias("code_max"),
        pl.col(_MICROS).min().alias("micros_min"),
        pl.col(_MICROS).max().alias("micros_max"),
    ).row(0, named=True)
    account_bits = int(spans["account_max"] - spans["account_min"]).bit_length()
    code_bits = int(spans["code_max"]).bit_length()
    micros_bits = int(spans["micros_max"] - spans["micros_min"]).bit_length()

    if account_bits + code_bits + micros_bits > _PACKED_KEY_BITS:
        return keys.select(pl.arg_sort_by(ACCOUNT_ID, _TYPE_CODE, _MICROS)).to_series()
    # Sorting one 128-bit key is several times faster than sorting three
    # columns, and the offsets keep every part within its own bits.
    packed = (
        (pl.col(ACCOUNT_ID).cast(pl.Int128) - spans["account_min"]) * 2**code_bits
        + pl.col(_TYPE_CODE).cast(pl.Int128)
    ) * 2**micros_bits + (pl.col(_MICROS).cast(pl.Int128) - spans["micros_min"])
    return keys.select(packed.arg_sort()).to_series()


def previous_escalated_at(df: pl.DataFrame) -> pl.Series:
    """For each row, the latest strictly earlier escalation of its account and type.

    Returns a Series named "previous_escalated_at", aligned with ``df``'s rows,
    null where there is no earlier escalation. Escalations at the same instant
    are not earlier than one another. Raises ValueError if ``account_id``,
    ``trigger_type`` or ``escalated_at`` holds a null.
    """
    require_columns(df, _KEY_COLUMNS, needed_by="recurrence")
    require_utc_datetimes(df, [ESCALATED_AT], needed_by="recurrence")
    require_no_nulls(df, _KEY_COLUMNS, needed_by="recurrence")
    if df.height == 0:
        return pl.Series(PREVIOUS_ESCALATED_AT, [], dtype=UTC_DATETIME)

    keys = df.select(
        ACCOUNT_ID,
        pl.col(TRIGGER_TYPE).cast(pl.Categorical).to_physical().alias(_TYPE_CODE),
        pl.col(ESCALATED_AT).dt.epoch("us").alias(_MICROS),
    )
    order = _sort_order(keys)

    # In sorted order each (account, type) is one block and, inside it, rows at
    # the same instant form a run. The previous escalation of a row is the last
    # row before its run, provided that row is still in the same block.
    position = pl.int_range(pl.len(), dtype=pl.Int64)
    same_group = (
        (pl.col(ACCOUNT_ID) == pl.col(ACCOUNT_ID).shift(1))
        & (pl.col(_TYPE_CODE) == pl.col(_TYPE_CODE).shift(1))
    ).fill_null(False)
    same_instant = (
        same_group & (pl.col(_MICROS) == pl.col(_MICROS).shift(1))
    ).fill_null(False)
    run_start = pl.when(~same_instant).then(position).forward_fill()
    group_start = pl.when(~same_group).then(position).forward_fill()
    previous_sorted = (
        keys.select(pl.all().gather(order))
        .select(
            pl.when(run_start > group_start)
            .then(pl.col(_MICROS).gather((run_start - 1).clip(lower_bound=0)))
            .otherwise(None)
        )
        .to_series()
    )

    return (
        pl.repeat(None, df.height, dtype=pl.Int64, eager=True)
        .scatter(order, previous_sorted)
        .cast(UTC_DATETIME)
        .alias(PREVIOUS_ESCALATED_AT)
    )


def with_recurrence(
    df: pl.DataFrame, settings: MetricSettings = DEFAULT_SETTINGS
) -> pl.DataFrame:
    """Add "previous_escalated_at" and the boolean "recurs" to ``df``.

    An escalation recurs when the same account had an escalation of the same
    trigger type strictly earlier and at most ``settings.recurrence_window_days``
    whole days (days x 24 hours, inclusive) before it. Run this on the full
    history and filter to a reporting window afterwards, so that escalations
    before the window still count as history.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> df = pl.DataFrame(
    ...     {
    ...         "account_id": [7, 7, 7],
    ...         "trigger_type": ["usage_drop"] * 3,
    ...         "escalated_at": [
    ...             datetime(2024, 1, 1, tzinfo=UTC),
    ...             datetime(2024, 3, 31, tzinfo=UTC),
    ...             datetime(2024, 9, 1, tzinfo=UTC),
    ...         ],
    ...     }
    ... )
    >>> with_recurrence(df).get_column("recurs").to_list()
    [False, True, False]
    """
    window = timedelta(days=settings.recurrence_window_days)
    previous = previous_escalated_at(df)
    return df.with_columns(previous).with_columns(
        (
            pl.col(PREVIOUS_ESCALATED_AT).is_not_null()
            & (pl.col(ESCALATED_AT) - pl.col(PREVIOUS_ESCALATED_AT) <= window)
        ).alias(RECURS)
    )


def recurrence_rate() -> pl.Expr:
    """Recurring escalations divided by all escalations, null when there are none.

    Aggregates the ``recurs`` column, so use it on a prepared frame.
    """
    return share_of_escalations(RECURS).alias("recurrence_rate")
