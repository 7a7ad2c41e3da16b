"""Weekly volume per ISO week, with quiet weeks as zero."""

from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from metrics import weekly_volume

# Sunday 10 March 2024, one microsecond before midnight, and the Monday after.
SUNDAY_LAST = datetime(2024, 3, 10, 23, 59, 59, 999_999, tzinfo=UTC)
MONDAY_FIRST = datetime(2024, 3, 11, tzinfo=UTC)
WEDNESDAY = datetime(2024, 3, 27, 12, tzinfo=UTC)


def _prepared(*rows: tuple[datetime, bool, str]) -> pl.DataFrame:
    return pl.DataFrame(
        list(rows),
        schema={
            "escalated_at": pl.Datetime("us", "UTC"),
            "is_late": pl.Boolean,
            "trigger_type": pl.String,
        },
        orient="row",
    )


def _weeks(
    rows: list[tuple[date, int, int, float | None]],
) -> pl.DataFrame:
    return pl.DataFrame(
        rows,
        schema={
            "week_start": pl.Date,
            "escalations": pl.Int64,
            "late": pl.Int64,
            "late_rate": pl.Float64,
        },
        orient="row",
    )


PREPARED = _prepared(
    (SUNDAY_LAST, True, "usage_drop"),
    (MONDAY_FIRST, False, "billing"),
    (WEDNESDAY, True, "usage_drop"),
)


def test_weeks_start_on_monday_and_quiet_weeks_are_zero() -> None:
    result = weekly_volume(PREPARED)

    # Sunday 23:59:59.999999 belongs to the week of Monday 4 March, the next
    # instant to the week of 11 March; the week of 18 March has nothing.
    expected = _weeks(
        [
            (date(2024, 3, 4), 1, 1, 1.0),
            (date(2024, 3, 11), 1, 0, 0.0),
            (date(2024, 3, 18), 0, 0, None),
            (date(2024, 3, 25), 1, 1, 1.0),
        ]
    )
    assert_frame_equal(result, expected)


def test_split_by_a_column_fills_every_week_for_every_value() -> None:
    result = weekly_volume(PREPARED, by="trigger_type")

    expected = pl.DataFrame(
        [
            (date(2024, 3, 4), "billing", 0, 0, None),
            (date(2024, 3, 4), "usage_drop", 1, 1, 1.0),
            (date(2024, 3, 11), "billing", 1, 0, 0.0),
            (date(2024, 3, 11), "usage_drop", 0, 0, None),
            (date(2024, 3, 18), "billing", 0, 0, None),
            (date(2024, 3, 18), "usage_drop", 0, 0, None),
            (date(2024, 3, 25), "billing", 0, 0, None),
            (date(2024, 3, 25), "usage_drop", 1, 1, 1.0),
        ],
        schema={
            "week_start": pl.Date,
            "trigger_type": pl.String,
            "escalations": pl.Int64,
            "late": pl.Int64,
            "late_rate": pl.Float64,
        },
        orient="row",
    )
    assert_frame_equal(result, expected)


def test_late_rate_is_late_over_escalations_in_the_week() -> None:
    monday = datetime(2024, 1, 1, tzinfo=UTC)
    prepared = _prepared(
        *[(monday + timedelta(hours=h), h < 3, "usage_drop") for h in range(4)]
    )

    result = weekly_volume(prepared)

    # 3 of the 4 escalations that week were late: 3 / 4 = 0.75.
    assert_frame_equal(result, _weeks([(date(2024, 1, 1), 4, 3, 0.75)]))


def test_the_window_sets_the_first_and_last_week() -> None:
    # From Wednesday 6 March to (not including) Monday 8 April: the first week
    # is the one holding 6 March, the last the one holding Sunday 7 April.
    result = weekly_volume(
        PREPARED,
        start=datetime(2024, 3, 6, tzinfo=UTC),
        end=datetime(2024, 4, 8, tzinfo=UTC),
    )

    expected = _weeks(
        [
            (date(2024, 3, 4), 1, 1, 1.0),
            (date(2024, 3, 11), 1, 0, 0.0),
            (date(2024, 3, 18), 0, 0, None),
            (date(2024, 3, 25), 1, 1, 1.0),
            (date(2024, 4, 1), 0, 0, None),
        ]
    )
    assert_frame_equal(result, expected)


def test_edge_weeks_count_only_escalations_inside_the_window() -> None:
    # [Mon 11 March, Mon 18 March): the Sunday before and the 27th are outside.
    result = weekly_volume(
        PREPARED, start=MONDAY_FIRST, end=datetime(2024, 3, 18, tzinfo=UTC)
    )

    assert_frame_equal(result, _weeks([(date(2024, 3, 11), 1, 0, 0.0)]))


@pytest.mark.parametrize(
    ("start", "end", "weeks"),
    [
        (None, None, []),
        (datetime(2024, 3, 4, tzinfo=UTC), None, []),
        (
            datetime(2024, 3, 4, tzinfo=UTC),
            datetime(2024, 3, 18, tzinfo=UTC),
            [date(2024, 3, 4), date(2024, 3, 11)],
        ),
    ],
)
def test_no_escalations(
    start: datetime | None, end: datetime | None, weeks: list[date]
) -> None:
    result = weekly_volume(_prepared(), start, end)

    # An open side has no week to end on; a closed window is all zero weeks.
    assert_frame_equal(result, _weeks([(week, 0, 0, None) for week in weeks]))


def test_naive_bounds_are_refused() -> None:
    with pytest.raises(ValueError, match="naive"):
        weekly_volume(PREPARED, start=datetime(2024, 3, 4))
