"""Where recurrence concentrates: per trigger type, per month, and repeat chains."""

from datetime import date, datetime, timedelta

import polars as pl

from metrics.rates import share_of_escalations
from metrics.recurrence import with_recurrence
from metrics.schema import (
    ACCOUNT_ID,
    ESCALATED_AT,
    ID,
    PREVIOUS_ESCALATED_AT,
    RECURS,
    TRIGGER_TYPE,
    require_columns,
    require_utc_datetimes,
)
from metrics.settings import DEFAULT_RECURRENCE_WINDOW_DAYS, MetricSettings
from metrics.window import in_window, window_bounds

ACCOUNT_NAME = "account_name"
MONTH = "month"
_MICROSECONDS_PER_DAY = 86_400_000_000
_START = "__chain_starts"
_RECURRING = "__recurring_in_chain"


def with_recurrence_window(prepared: pl.DataFrame, window_days: int) -> pl.DataFrame:
    """``prepared`` with "previous_escalated_at" and "recurs" redone for a new window.

    ``prepare_escalations`` fixes the recurrence window once; this recomputes
    recurrence with ``window_days`` instead, keeping every column and the row
    order. It sees only the rows it is given, so pass the whole history and cut
    a reporting window afterwards, as for ``prepare_escalations``.
    """
    return with_recurrence(prepared, MetricSettings(recurrence_window_days=window_days))


def recurrence_by_trigger_type(
    prepared: pl.DataFrame, window_days: int | None = None
) -> pl.DataFrame:
    """Escalations, recurrences and repeat accounts per trigger type.

    Parameters
    ----------
    prepared
        Output of :func:`metrics.prepare.prepare_escalations`, usually cut to a
        reporting window.
    window_days
        None reads the ``recurs`` column as prepared (its window, 90 days by
        default, looking back before any reporting window). A number of days
        recomputes recurrence on the rows given with that window instead; see
        :func:`with_recurrence_window`.

    Returns
    -------
    pl.DataFrame
        trigger_type, escalations (Int64), recurring (Int64), recurrence_rate
        (Float64) and accounts_with_repeats (Int64: accounts with two or more
        escalations of that type in the frame, whatever the gap), sorted by
        recurring, most first, then by trigger type.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> prepared = pl.DataFrame(
    ...     {
    ...         "account_id": [1, 1, 2],
    ...         "trigger_type": ["billing"] * 3,
    ...         "escalated_at": [
    ...             datetime(2024, 1, 1, tzinfo=UTC),
    ...             datetime(2024, 2, 1, tzinfo=UTC),
    ...             datetime(2024, 2, 1, tzinfo=UTC),
    ...         ],
    ...         "recurs": [False, True, False],
    ...     }
    ... )
    >>> recurrence_by_trigger_type(prepared).row(0)
    ('billing', 3, 1, 0.3333333333333333, 1)
    """
    recurrence_columns = [RECURS] if window_days is None else [ESCALATED_AT]
    require_columns(
        prepared,
        [ACCOUNT_ID, TRIGGER_TYPE, *recurrence_columns],
        needed_by="recurrence_by_trigger_type",
    )
    if window_days is not None:
        prepared = with_recurrence_window(
            prepared.select(ACCOUNT_ID, TRIGGER_TYPE, ESCALATED_AT), window_days
        )

    repeat_accounts = (
        prepared.group_by(TRIGGER_TYPE, ACCOUNT_ID)
        .len()
        .group_by(TRIGGER_TYPE)
        .agg((pl.col("len") >= 2).sum().cast(pl.Int64).alias("accounts_with_repeats"))
    )
    return (
        prepared.group_by(TRIGGER_TYPE)
        .agg(
            pl.len().cast(pl.Int64).alias("escalations"),
            pl.col(RECURS).sum().cast(pl.Int64).alias("recurring"),
            share_of_escalations(RECURS).alias("recurrence_rate"),
        )
        .join(repeat_accounts, on=TRIGGER_TYPE, how="left", nulls_equal=True)
        .sort(["recurring", TRIGGER_TYPE], descending=[True, False])
    )


def month_start() -> pl.Expr:
    """The first day (UTC) of the month of ``escalated_at``, as a Date, "month"."""
    return pl.col(ESCALATED_AT).dt.truncate("1mo").dt.date().alias(MONTH)


def _first_of_month(instant: datetime) -> date:
    return instant.date().replace(day=1)


def monthly_volume_by_trigger_type(
    prepared: pl.DataFrame,
    start: datetime | None = None,
    end: datetime | None = None,
) -> pl.DataFrame:
    """Escalations per trigger type and calendar month (UTC), zeros included.

    Every trigger type that appears anywhere in ``prepared`` gets a row for
    every month of the window, so a heatmap keeps its rows as the window moves
    and shows a quiet month as 0. A bounded side of the window [start, end)
    fixes the first or last month, which then counts only escalations inside
    the window; an open side ends at the first or last escalation in the
    window. With an open side and no escalations in the window the result is
    empty.

    Returns
    -------
    pl.DataFrame
        trigger_type (String), month (Date, the first of the month) and
        escalations (Int64), sorted by trigger type and then month.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> prepared = pl.DataFrame(
    ...     {
    ...         "trigger_type": ["billing", "billing", "usage_drop"],
    ...         "escalated_at": [
    ...             datetime(2024, 1, 31, tzinfo=UTC),
    ...             datetime(2024, 3, 1, tzinfo=UTC),
    ...             datetime(2024, 1, 5, tzinfo=UTC),
    ...         ],
    ...     }
    ... )
    >>> monthly_volume_by_trigger_type(prepared).get_column("escalations").to_list()
    [1, 0, 1, 1, 0, 0]
    """
    start_utc, end_utc = window_bounds(start, end)
    require_columns(
        prepared,
        [TRIGGER_TYPE, ESCALATED_AT],
        needed_by="monthly_volume_by_trigger_type",
    )
    windowed = in_window(prepared, start_utc, end_utc)

    seen = windowed.select(
        pl.col(ESCALATED_AT).min().alias("first"),
        pl.col(ESCALATED_AT).max().alias("last"),
    ).row(0, named=True)
    first = start_utc if start_utc is not None else seen["first"]
    # The window stops short of ``end``, so its last month holds the instant
    # just before it.
    last = end_utc - timedelta(microseconds=1) if end_utc is not None else seen["last"]
    if first is None or last is None:
        months = pl.Series(MONTH, [], dtype=pl.Date)
    else:
        months = pl.date_range(
            _first_of_month(first), _first_of_month(last), interval="1mo", eager=True
        ).alias(MONTH)

    counts = windowed.group_by(TRIGGER_TYPE, month_start()).agg(
        pl.len().cast(pl.Int64).alias("escalations")
    )
    grid = (
        prepared.select(pl.col(TRIGGER_TYPE).unique())
        .join(months.to_frame(), how="cross")
        .join(counts, on=[TRIGGER_TYPE, MONTH], how="left", nulls_equal=True)
    )
    return (
        grid.with_columns(pl.col("escalations").fill_null(0))
        .select(TRIGGER_TYPE, MONTH, "escalations")
        .sort([TRIGGER_TYPE, MONTH])
    )


def repeat_chains(
    prepared: pl.DataFrame, window_days: int = DEFAULT_RECURRENCE_WINDOW_DAYS
) -> pl.DataFrame:
    """Runs of escalations of one account and trigger type, each recurring on the last.

    Within an account and trigger type, an escalation joins the chain of the
    one before it when it is strictly later and at most ``window_days`` whole
    days after it: the recurrence rule, applied with ``window_days`` to the
    rows given (recurrence is recomputed here, so the ``recurs`` column is not
    read). Escalations at the same instant stay together in one chain; a chain
    is kept when it spans at least two instants, that is, holds at least one
    recurrence.

    Parameters
    ----------
    prepared
        Escalations with ``id``, ``account_id``, ``trigger_type`` and
        ``escalated_at``; ``account_name`` is carried along when present.
        Chains are built from these rows only: pass the whole history to see
        chains that began before a reporting window.
    window_days
        The recurrence window in days; defaults to the default setting. Pass
        ``settings.recurrence_window_days`` to match other settings.

    Returns
    -------
    pl.DataFrame
        One row per escalation in a chain: account_id, account_name (if
        present), trigger_type, chain_id (Int64, 1, 2, ... in account, trigger
        type and time order), position (Int64, 1 for the first), id,
        escalated_at, and gap_days (Float64, days since the previous instant of
        the chain; null at its first instant), sorted by chain and position.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> escalations = pl.DataFrame(
    ...     {
    ...         "id": [1, 2, 3, 4],
    ...         "account_id": [7, 7, 7, 7],
    ...         "trigger_type": ["billing"] * 4,
    ...         "escalated_at": [
    ...             datetime(2024, 1, 1, tzinfo=UTC),
    ...             datetime(2024, 1, 11, tzinfo=UTC),
    ...             datetime(2024, 1, 31, tzinfo=UTC),
    ...             datetime(2024, 6, 1, tzinfo=UTC),
    ...         ],
    ...     }
    ... )
    >>> chains = repeat_chains(escalations, window_days=30)
    >>> chains.select("chain_id", "position", "id", "gap_days").rows()
    [(1, 1, 1, None), (1, 2, 2, 10.0), (1, 3, 3, 20.0)]
    """
    require_columns(
        prepared,
        [ID, ACCOUNT_ID, TRIGGER_TYPE, ESCALATED_AT],
        needed_by="repeat_chains",
    )
    require_utc_datetimes(prepared, [ESCALATED_AT], needed_by="repeat_chains")
    names = [ACCOUNT_NAME] if ACCOUNT_NAME in prepared.columns else []
    # Sorted first, so that with_recurrence keeps this order and every chain
    # is a run of consecutive rows.
    linked = with_recurrence_window(
        prepared.select(ACCOUNT_ID, *names, TRIGGER_TYPE, ID, ESCALATED_AT).sort(
            ACCOUNT_ID, TRIGGER_TYPE, ESCALATED_AT, ID
        ),
        window_days,
    )

    # A chain starts at the first row of an account and trigger type, and at
    # every later instant that does not recur; rows at the instant of the row
    # before them share its chain, as they share its recurrence.
    new_pair = (
        (pl.col(ACCOUNT_ID) != pl.col(ACCOUNT_ID).shift(1))
        | (pl.col(TRIGGER_TYPE) != pl.col(TRIGGER_TYPE).shift(1))
    ).fill_null(True)
    same_instant = ~new_pair & (pl.col(ESCALATED_AT) == pl.col(ESCALATED_AT).shift(1))
    starts = new_pair | (~pl.col(RECURS) & ~same_instant)
    # Inside a chain the recurring rows are exactly those after its first
    # instant, so a chain worth showing holds at least one. Running sums over
    # the runs of rows stand in for per-chain windows, which are slow with
    # hundreds of thousands of chains.
    row = pl.int_range(pl.len(), dtype=pl.Int64)
    recurring_so_far = pl.col(RECURS).cast(pl.Int64).cum_sum()
    # A chain's first row never recurs, so the running count there is the
    # count before the chain.
    recurring_before_chain = (
        pl.when(pl.col(_START)).then(recurring_so_far).forward_fill()
    )
    chain_ends = pl.col(_START).shift(-1).fill_null(True)
    recurring_in_chain = (
        pl.when(chain_ends).then(recurring_so_far).backward_fill()
        - recurring_before_chain
    )
    gap_days = (
        pl.when(pl.col(RECURS))
        .then(
            (
                pl.col(ESCALATED_AT) - pl.col(PREVIOUS_ESCALATED_AT)
            ).dt.total_microseconds()
            / _MICROSECONDS_PER_DAY
        )
        .otherwise(None)
        .alias("gap_days")
    )
    return (
        linked.with_columns(starts.alias(_START))
        .with_columns(
            (row - pl.when(pl.col(_START)).then(row).forward_fill() + 1).alias(
                "position"
            ),
            recurring_in_chain.alias(_RECURRING),
        )
        .filter(pl.col(_RECURRING) > 0)
        .with_columns(
            pl.col(_START).cum_sum().cast(pl.Int64).alias("chain_id"),
            gap_days,
        )
        .select(
            ACCOUNT_ID,
            *names,
            TRIGGER_TYPE,
            "chain_id",
            "position",
            ID,
            ESCALATED_AT,
            "gap_days",
        )
    )


def repeat_accounts(
    prepared: pl.DataFrame, window_days: int = DEFAULT_RECURRENCE_WINDOW_DAYS
) -> pl.DataFrame:
    """Accounts that keep escalating the same trigger type, longest chain first.

    One row per account and trigger type with at least one chain (see
    :func:`repeat_chains`, which takes the same arguments).

    Returns
    -------
    pl.DataFrame
        account_id, account_name (if present), trigger_type, chain_length
        (Int64, escalations in the longest chain), escalations (Int64, all of
        that type for the account in the frame, in a chain or not), first_at
        and last_at (UTC, over those escalations) and ids (List of Int64, those
        escalations in time order). Sorted by chain_length, longest first, then
        by last_at, latest first, then by account and trigger type.
    """
    chains = repeat_chains(prepared, window_days)
    names = [ACCOUNT_NAME] if ACCOUNT_NAME in prepared.columns else []
    pair = [ACCOUNT_ID, TRIGGER_TYPE]

    longest = (
        chains.group_by(*pair, "chain_id")
        .len()
        .group_by(pair)
        .agg(pl.col("len").max().cast(pl.Int64).alias("chain_length"))
    )
    return (
        prepared.select(*pair, *names, ID, ESCALATED_AT)
        .join(longest, on=pair, how="semi")
        .group_by(pair)
        .agg(
            *[pl.col(name).first() for name in names],
            pl.len().cast(pl.Int64).alias("escalations"),
            pl.col(ESCALATED_AT).min().alias("first_at"),
            pl.col(ESCALATED_AT).max().alias("last_at"),
            pl.col(ID).sort_by(ESCALATED_AT, ID).alias("ids"),
        )
        .join(longest, on=pair)
        .select(
            ACCOUNT_ID,
            *names,
            TRIGGER_TYPE,
            "chain_length",
            "escalations",
            "first_at",
            "last_at",
            "ids",
        )
        .sort(
            ["chain_length", "last_at", ACCOUNT_ID, TRIGGER_TYPE],
            descending=[True, True, False, False],
        )
    )
