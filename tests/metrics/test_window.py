"""Reporting windows [from, to) and the period before them."""

from datetime import UTC, datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from metrics import in_window, previous_period

START = datetime(2024, 3, 4, tzinfo=UTC)
END = datetime(2024, 3, 11, tzinfo=UTC)
ONE_MICROSECOND = timedelta(microseconds=1)


def _at(*instants: datetime) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "escalated_at": list(instants),
            "note": [f"#{n}" for n in range(len(instants))],
        },
        schema={"escalated_at": pl.Datetime("us", "UTC"), "note": pl.String},
    )


def test_from_is_included_and_to_is_excluded() -> None:
    frame = _at(
        START - ONE_MICROSECOND,
        START,
        END - ONE_MICROSECOND,
        END,
    )

    kept = in_window(frame, START, END)

    assert kept.get_column("escalated_at").to_list() == [START, END - ONE_MICROSECOND]
    assert kept.get_column("note").to_list() == ["#1", "#2"]


@pytest.mark.parametrize(
    ("start", "end", "expected_notes"),
    [
        (None, None, ["#0", "#1", "#2"]),
        (START, None, ["#1", "#2"]),
        (None, END, ["#0", "#1"]),
    ],
)
def test_a_missing_bound_leaves_that_side_open(
    start: datetime | None, end: datetime | None, expected_notes: list[str]
) -> None:
    frame = _at(START - timedelta(days=400), START, END + timedelta(days=400))

    kept = in_window(frame, start, end)

    assert kept.get_column("note").to_list() == expected_notes


def test_bounds_in_another_zone_mean_the_same_instant() -> None:
    plus_two = timezone(timedelta(hours=2))
    frame = _at(START - ONE_MICROSECOND, START)

    # 02:00 at +02:00 is 00:00 UTC, which is START.
    kept = in_window(frame, datetime(2024, 3, 4, 2, tzinfo=plus_two), None)

    assert kept.get_column("escalated_at").to_list() == [START]


def test_an_empty_frame_stays_empty() -> None:
    assert in_window(_at(), START, END).height == 0


@pytest.mark.parametrize(
    ("start", "end", "named"),
    [
        (datetime(2024, 3, 4), END, "start"),
        (START, datetime(2024, 3, 11), "end"),
        (datetime(2024, 3, 4), None, "start"),
    ],
)
def test_naive_bounds_are_refused(
    start: datetime | None, end: datetime | None, named: str
) -> None:
    with pytest.raises(ValueError, match=f"{named} must be a timezone-aware"):
        in_window(_at(START), start, end)


@pytest.mark.parametrize("end", [START, START - ONE_MICROSECOND])
def test_start_must_come_before_end(end: datetime) -> None:
    with pytest.raises(ValueError, match="must be before its end"):
        in_window(_at(START), START, end)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        # a week: [Mar 4, Mar 11) -> [Feb 26, Mar 4)
        (
            START,
            END,
            (datetime(2024, 2, 26, tzinfo=UTC), START),
        ),
        # 36.5 hours, crossing the leap day: [Mar 1 00:00, Mar 2 12:30)
        # -> [Feb 28 11:30, Mar 1 00:00)
        (
            datetime(2024, 3, 1, tzinfo=UTC),
            datetime(2024, 3, 2, 12, 30, tzinfo=UTC),
            (
                datetime(2024, 2, 28, 11, 30, tzinfo=UTC),
                datetime(2024, 3, 1, tzinfo=UTC),
            ),
        ),
        # one microsecond long
        (
            START,
            START + ONE_MICROSECOND,
            (START - ONE_MICROSECOND, START),
        ),
    ],
)
def test_previous_period_is_as_long_and_ends_where_the_window_starts(
    start: datetime, end: datetime, expected: tuple[datetime, datetime]
) -> None:
    assert previous_period(start, end) == expected


def test_previous_period_is_measured_in_elapsed_time_across_a_clock_change() -> None:
    paris = ZoneInfo("Europe/Paris")
    # Paris moves to summer time on 31 March 2024, so these two local midnights
    # are 47 hours apart: 2024-03-29 23:00 UTC to 2024-03-31 22:00 UTC.
    start = datetime(2024, 3, 30, tzinfo=paris)
    end = datetime(2024, 4, 1, tzinfo=paris)

    before_start, before_end = previous_period(start, end)

    # 23:00 UTC on Mar 29 minus 47 hours is 00:00 UTC on Mar 28.
    assert before_start == datetime(2024, 3, 28, tzinfo=UTC)
    assert before_end == datetime(2024, 3, 29, 23, tzinfo=UTC)
    assert before_start.tzinfo is UTC


def test_previous_period_refuses_naive_or_reversed_bounds() -> None:
    with pytest.raises(ValueError, match="naive"):
        previous_period(datetime(2024, 3, 4), END)
    with pytest.raises(ValueError, match="must be before its end"):
        previous_period(END, START)
