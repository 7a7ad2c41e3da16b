"""Recurrence per trigger type, monthly volume for a heatmap, and repeat chains."""

from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from metrics import (
    DEFAULT_SETTINGS,
    monthly_volume_by_trigger_type,
    prepare_escalations,
    recurrence_by_trigger_type,
    repeat_accounts,
    repeat_chains,
    with_recurrence_window,
)

T0 = datetime(2024, 1, 10, 12, tzinfo=UTC)
UTC_US = pl.Datetime("us", "UTC")
ONE_MICROSECOND = timedelta(microseconds=1)


def _day(days: float) -> datetime:
    return T0 + timedelta(days=days)


def _escalations(rows: list[tuple[int, int, str, datetime]]) -> pl.DataFrame:
    """Escalations from (id, account_id, trigger_type, escalated_at) rows."""
    return pl.DataFrame(
        rows,
        schema={
            "id": pl.Int64,
            "account_id": pl.Int64,
            "trigger_type": pl.String,
            "escalated_at": UTC_US,
        },
        orient="row",
    ).with_columns(
        pl.format("Account {}", pl.col("account_id")).alias("account_name"),
        pl.lit("high").alias("severity"),
        (pl.col("escalated_at") - timedelta(hours=2)).alias("first_signal_at"),
    )


# Recurrence per trigger type ----------------------------------------------------

# Account 1 billing: day 0, day 40 (recurs at 90 days, not at 30), day 200.
# Account 2 billing: day 10 only. Account 3 usage_drop: days 0, 5, 8.
# Account 4 usage_drop: days 0 and 300 (a repeat account, never a recurrence).
BOOK = _escalations(
    [
        (1, 1, "billing", _day(0)),
        (2, 1, "billing", _day(40)),
        (3, 1, "billing", _day(200)),
        (4, 2, "billing", _day(10)),
        (5, 3, "usage_drop", _day(0)),
        (6, 3, "usage_drop", _day(5)),
        (7, 3, "usage_drop", _day(8)),
        (8, 4, "usage_drop", _day(0)),
        (9, 4, "usage_drop", _day(300)),
    ]
)


def _by_type(rows: list[tuple[str, int, int, float | None, int]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "trigger_type": pl.String,
            "escalations": pl.Int64,
            "recurring": pl.Int64,
            "recurrence_rate": pl.Float64,
            "accounts_with_repeats": pl.Int64,
        },
        orient="row",
    )


def test_recurrence_by_trigger_type_reads_the_prepared_flags() -> None:
    prepared = prepare_escalations(BOOK)

    result = recurrence_by_trigger_type(prepared)

    # usage_drop: days 5 and 8 of account 3 recur, 2 of 5; accounts 3 and 4
    # have repeats. billing: day 40 recurs (40 <= 90), 1 of 4; account 1 only.
    expected = _by_type(
        [
            ("usage_drop", 5, 2, 2 / 5, 2),
            ("billing", 4, 1, 1 / 4, 1),
        ]
    )
    assert_frame_equal(result, expected)


def test_recurrence_by_trigger_type_can_recompute_with_another_window() -> None:
    prepared = prepare_escalations(BOOK)

    result = recurrence_by_trigger_type(prepared, window_days=30)

    # At 30 days the 40-day gap of account 1 no longer recurs; usage_drop
    # (gaps of 5 and 3 days) is unchanged. Repeat accounts do not depend on it.
    expected = _by_type(
        [
            ("usage_drop", 5, 2, 2 / 5, 2),
            ("billing", 4, 0, 0.0, 1),
        ]
    )
    assert_frame_equal(result, expected)


def test_ties_in_recurring_are_broken_by_name() -> None:
    prepared = prepare_escalations(
        _escalations(
            [
                (1, 1, "usage_drop", _day(0)),
                (2, 1, "billing", _day(0)),
                (3, 1, "usage_drop", _day(1)),
                (4, 1, "billing", _day(1)),
            ]
        )
    )

    result = recurrence_by_trigger_type(prepared)

    assert result.get_column("trigger_type").to_list() == ["billing", "usage_drop"]


def test_recurrence_by_trigger_type_of_nothing_is_empty() -> None:
    prepared = prepare_escalations(BOOK.clear())

    result = recurrence_by_trigger_type(prepared)

    assert result.height == 0
    assert result.columns == [
        "trigger_type",
        "escalations",
        "recurring",
        "recurrence_rate",
        "accounts_with_repeats",
    ]


def test_with_recurrence_window_keeps_columns_and_order() -> None:
    prepared = prepare_escalations(BOOK)

    result = with_recurrence_window(prepared, 30)

    assert result.columns == prepared.columns
    assert result.get_column("id").to_list() == prepared.get_column("id").to_list()
    assert result.get_column("recurs").sum() == 2  # only account 3's two


# Monthly volume -----------------------------------------------------------------


def _months(rows: list[tuple[str, date, int]]) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={"trigger_type": pl.String, "month": pl.Date, "escalations": pl.Int64},
        orient="row",
    )


MONTHLY = pl.DataFrame(
    {
        "trigger_type": ["billing", "billing", "usage_drop", "outage"],
        "escalated_at": [
            datetime(2024, 1, 31, 23, 59, 59, 999_999, tzinfo=UTC),
            datetime(2024, 3, 1, tzinfo=UTC),
            datetime(2024, 1, 5, tzinfo=UTC),
            datetime(2023, 6, 1, tzinfo=UTC),
        ],
    },
    schema_overrides={"escalated_at": UTC_US},
)


def test_monthly_volume_fills_every_type_and_month_with_zeros() -> None:
    window = (datetime(2024, 1, 1, tzinfo=UTC), datetime(2024, 4, 1, tzinfo=UTC))

    result = monthly_volume_by_trigger_type(MONTHLY, *window)

    # The last microsecond of January is January; 1 March is March; February
    # is quiet. "outage" has nothing in the window but keeps its row of zeros.
    expected = _months(
        [
            ("billing", date(2024, 1, 1), 1),
            ("billing", date(2024, 2, 1), 0),
            ("billing", date(2024, 3, 1), 1),
            ("outage", date(2024, 1, 1), 0),
            ("outage", date(2024, 2, 1), 0),
            ("outage", date(2024, 3, 1), 0),
            ("usage_drop", date(2024, 1, 1), 1),
            ("usage_drop", date(2024, 2, 1), 0),
            ("usage_drop", date(2024, 3, 1), 0),
        ]
    )
    assert_frame_equal(result, expected)


def test_monthly_volume_window_edges() -> None:
    # From mid-January: the 5 January escalation is outside, but January is
    # still the first month. Up to 1 March exactly: March is not in the span.
    window = (datetime(2024, 1, 15, tzinfo=UTC), datetime(2024, 3, 1, tzinfo=UTC))

    result = monthly_volume_by_trigger_type(MONTHLY, *window).filter(
        pl.col("trigger_type") != "outage"
    )

    expected = _months(
        [
            ("billing", date(2024, 1, 1), 1),
            ("billing", date(2024, 2, 1), 0),
            ("usage_drop", date(2024, 1, 1), 0),
            ("usage_drop", date(2024, 2, 1), 0),
        ]
    )
    assert_frame_equal(result, expected)


def test_monthly_volume_open_window_spans_first_to_last_escalation() -> None:
    result = monthly_volume_by_trigger_type(MONTHLY)

    # June 2023 to March 2024: ten months for each of three types.
    assert result.height == 3 * 10
    assert result.get_column("escalations").sum() == 4
    assert result.get_column("month").min() == date(2023, 6, 1)


def test_monthly_volume_of_nothing_is_empty() -> None:
    result = monthly_volume_by_trigger_type(MONTHLY.clear())

    assert_frame_equal(result, _months([]))


def test_monthly_volume_empty_window_with_bounds_still_has_its_months() -> None:
    window = (datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 3, 1, tzinfo=UTC))

    result = monthly_volume_by_trigger_type(MONTHLY, *window)

    assert result.height == 3 * 2
    assert result.get_column("escalations").sum() == 0


# Repeat chains --------------------------------------------------------------------


def _chains(
    rows: list[tuple[int, str, int, int, int, datetime, float | None]],
) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "account_id": pl.Int64,
            "trigger_type": pl.String,
            "chain_id": pl.Int64,
            "position": pl.Int64,
            "id": pl.Int64,
            "escalated_at": UTC_US,
            "gap_days": pl.Float64,
        },
        orient="row",
    )


# Account 1 billing at days 0, 10, 40, 71, 200, 201; window 30 days:
#   0 -> 10 (10 days) -> 40 (exactly 30 days: inclusive) is one chain;
#   71 is 31 days after 40, so it starts afresh and stands alone: dropped;
#   200 -> 201 is a second chain.
# Account 2 billing: one escalation, no chain.
CHAINED = _escalations(
    [
        (1, 1, "billing", _day(0)),
        (2, 1, "billing", _day(10)),
        (3, 1, "billing", _day(40)),
        (4, 1, "billing", _day(71)),
        (5, 1, "billing", _day(200)),
        (6, 1, "billing", _day(201)),
        (7, 2, "billing", _day(5)),
    ]
)


def test_repeat_chains_link_gaps_up_to_the_window() -> None:
    result = repeat_chains(CHAINED, window_days=30).drop("account_name")

    expected = _chains(
        [
            (1, "billing", 1, 1, 1, _day(0), None),
            (1, "billing", 1, 2, 2, _day(10), 10.0),
            (1, "billing", 1, 3, 3, _day(40), 30.0),
            (1, "billing", 2, 1, 5, _day(200), None),
            (1, "billing", 2, 2, 6, _day(201), 1.0),
        ]
    )
    assert_frame_equal(result, expected)


def test_a_gap_one_microsecond_over_the_window_breaks_the_chain() -> None:
    frame = _escalations(
        [
            (1, 1, "billing", _day(0)),
            (2, 1, "billing", _day(30) + ONE_MICROSECOND),
        ]
    )

    assert repeat_chains(frame, window_days=30).height == 0
    assert repeat_chains(frame, window_days=31).get_column("id").to_list() == [1, 2]


@pytest.mark.parametrize(
    ("window_days", "chains"),
    [
        (9, [[5, 6]]),  # only the one-day gap
        (10, [[1, 2], [5, 6]]),  # 10 days links 0 -> 10, 30 does not
        (30, [[1, 2, 3], [5, 6]]),
        (31, [[1, 2, 3, 4], [5, 6]]),  # 31 days links 40 -> 71 too
        (129, [[1, 2, 3, 4, 5, 6]]),  # 71 -> 200 is 129 days
    ],
)
def test_repeat_chains_follow_the_window(
    window_days: int, chains: list[list[int]]
) -> None:
    result = repeat_chains(CHAINED, window_days=window_days)

    grouped = (
        result.group_by("chain_id", maintain_order=True)
        .agg(pl.col("id"))
        .get_column("id")
        .to_list()
    )
    assert grouped == chains


def test_repeat_chains_default_to_the_settings_window() -> None:
    result = repeat_chains(CHAINED)

    # 90 days: 0, 10, 40, 71 chain; 200 is 129 days after 71.
    assert DEFAULT_SETTINGS.recurrence_window_days == 90
    assert result.get_column("chain_id").to_list() == [1, 1, 1, 1, 2, 2]


def test_repeat_chains_recompute_recurrence_instead_of_reading_it() -> None:
    # A stale "recurs" column (all true) must not change the chains.
    stale = CHAINED.with_columns(pl.lit(True).alias("recurs"))

    assert_frame_equal(
        repeat_chains(stale, window_days=30), repeat_chains(CHAINED, window_days=30)
    )


def test_simultaneous_escalations_share_a_chain_but_do_not_make_one() -> None:
    frame = _escalations(
        [
            (1, 3, "usage_drop", _day(0)),
            (2, 3, "usage_drop", _day(0)),
            (3, 3, "usage_drop", _day(1)),
            (4, 4, "usage_drop", _day(0)),
            (5, 4, "usage_drop", _day(0)),
        ]
    )

    result = repeat_chains(frame, window_days=30).drop("account_name")

    # Account 3: the two at day 0 are the chain's first instant (no gap); day 1
    # is one day after them. Account 4: two at one instant, no recurrence.
    expected = _chains(
        [
            (3, "usage_drop", 1, 1, 1, _day(0), None),
            (3, "usage_drop", 1, 2, 2, _day(0), None),
            (3, "usage_drop", 1, 3, 3, _day(1), 1.0),
        ]
    )
    assert_frame_equal(result, expected)


def test_repeat_chains_keep_account_and_trigger_type_apart() -> None:
    frame = _escalations(
        [
            (1, 1, "billing", _day(0)),
            (2, 1, "usage_drop", _day(1)),
            (3, 2, "billing", _day(2)),
        ]
    )

    assert repeat_chains(frame).height == 0


def test_repeat_chains_carry_the_account_name_when_present() -> None:
    with_name = repeat_chains(CHAINED, window_days=30)
    without_name = repeat_chains(CHAINED.drop("account_name"), window_days=30)

    assert with_name.columns[:3] == ["account_id", "account_name", "trigger_type"]
    assert set(with_name.get_column("account_name")) == {"Account 1"}
    assert "account_name" not in without_name.columns


def test_repeat_chains_of_nothing_is_empty() -> None:
    result = repeat_chains(CHAINED.clear().drop("account_name"))

    assert_frame_equal(result, _chains([]))


# Repeat accounts ------------------------------------------------------------------


def test_repeat_accounts_summarise_the_longest_chain() -> None:
    frame = pl.concat(
        [
            CHAINED,
            _escalations(
                [
                    (8, 9, "usage_drop", _day(300)),
                    (9, 9, "usage_drop", _day(301)),
                ]
            ),
        ]
    )

    result = repeat_accounts(frame, window_days=30)

    # Account 1: chains of 3 and 2, six billing escalations in all (day 71
    # is in no chain but is still one of them). Account 9: one chain of 2,
    # later than account 1's, but shorter, so second.
    expected = pl.DataFrame(
        [
            (1, "Account 1", "billing", 3, 6, _day(0), _day(201), [1, 2, 3, 4, 5, 6]),
            (9, "Account 9", "usage_drop", 2, 2, _day(300), _day(301), [8, 9]),
        ],
        schema={
            "account_id": pl.Int64,
            "account_name": pl.String,
            "trigger_type": pl.String,
            "chain_length": pl.Int64,
            "escalations": pl.Int64,
            "first_at": UTC_US,
            "last_at": UTC_US,
            "ids": pl.List(pl.Int64),
        },
        orient="row",
    )
    assert_frame_equal(result, expected)


def test_repeat_accounts_equal_chains_latest_first() -> None:
    frame = _escalations(
        [
            (1, 1, "billing", _day(0)),
            (2, 1, "billing", _day(1)),
            (3, 2, "billing", _day(50)),
            (4, 2, "billing", _day(51)),
        ]
    )

    result = repeat_accounts(frame)

    assert result.get_column("account_id").to_list() == [2, 1]


def test_repeat_accounts_ids_are_in_time_order() -> None:
    frame = _escalations(
        [
            (9, 1, "billing", _day(2)),
            (3, 1, "billing", _day(0)),
            (5, 1, "billing", _day(1)),
        ]
    )

    assert repeat_accounts(frame).get_column("ids").to_list() == [[3, 5, 9]]


def test_repeat_accounts_of_nothing_is_empty() -> None:
    result = repeat_accounts(CHAINED.clear())

    assert result.height == 0
    assert result.columns == [
        "account_id",
        "account_name",
        "trigger_type",
        "chain_length",
        "escalations",
        "first_at",
        "last_at",
        "ids",
    ]
