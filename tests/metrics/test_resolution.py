"""Time to resolution, counting only resolved escalations; open ones by age."""

from datetime import UTC, datetime, timedelta, timezone

import polars as pl
import pytest

from metrics import open_escalation_ages, resolution_hours, time_to_resolution

T0 = datetime(2024, 3, 1, tzinfo=UTC)
AS_OF = datetime(2024, 3, 11, tzinfo=UTC)
SCHEMA = pl.Schema(
    {
        "id": pl.Int64(),
        "escalated_at": pl.Datetime("us", "UTC"),
        "resolved_at": pl.Datetime("us", "UTC"),
    }
)


def _escalations(*spans: tuple[float, float | None]) -> pl.DataFrame:
    """Escalations from (hours after T0 escalated, hours after that resolved)."""
    rows = [
        (
            n + 1,
            T0 + timedelta(hours=escalated),
            None if took is None else T0 + timedelta(hours=escalated + took),
        )
        for n, (escalated, took) in enumerate(spans)
    ]
    return pl.DataFrame(rows, schema=SCHEMA, orient="row")


def test_resolution_hours_is_null_while_open() -> None:
    frame = _escalations((0, 1.5), (0, None))

    assert frame.select(resolution_hours()).to_series().to_list() == [1.5, None]


def test_figures_split_resolved_from_open() -> None:
    # Resolved after 2, 4, 10 and 30 hours; two open, escalated 36 and 204
    # hours before AS_OF (T0 + 240 h).
    frame = _escalations((0, 2), (1, 4), (5, 10), (6, 30), (36, None), (204, None))

    figures = time_to_resolution(frame, AS_OF)

    # Median of 2, 4, 10, 30: halfway between 4 and 10 = 7.
    # p90: h = 3 × 0.9 = 2.7, so 10 + 0.7 × (30 − 10) = 24.
    # Open ages 204 and 36: median 120, max 204.
    assert figures == {
        "resolved": 4,
        "median_hours": 7.0,
        "p90_hours": pytest.approx(24.0),
        "open": 2,
        "open_median_age_hours": 120.0,
        "open_max_age_hours": 204.0,
    }


def test_open_escalations_never_end_at_as_of() -> None:
    # One quick resolution and one very old open escalation: the open one must
    # not pull the resolution figures up.
    frame = _escalations((0, 1), (-1000, None))

    figures = time_to_resolution(frame, AS_OF)

    assert (figures["resolved"], figures["median_hours"], figures["p90_hours"]) == (
        1,
        1.0,
        1.0,
    )
    assert figures["open_max_age_hours"] == 1240.0


@pytest.mark.parametrize(
    ("spans", "expected"),
    [
        pytest.param(
            [],
            {
                "resolved": 0,
                "median_hours": None,
                "p90_hours": None,
                "open": 0,
                "open_median_age_hours": None,
                "open_max_age_hours": None,
            },
            id="no escalations",
        ),
        pytest.param(
            [(0, 5)],
            {
                "resolved": 1,
                "median_hours": 5.0,
                "p90_hours": 5.0,
                "open": 0,
                "open_median_age_hours": None,
                "open_max_age_hours": None,
            },
            id="all resolved",
        ),
        pytest.param(
            [(0, None), (0, None)],
            {
                "resolved": 0,
                "median_hours": None,
                "p90_hours": None,
                "open": 2,
                "open_median_age_hours": 240.0,
                "open_max_age_hours": 240.0,
            },
            id="all open, tied ages",
        ),
        pytest.param(
            [(10, 0)],
            {
                "resolved": 1,
                "median_hours": 0.0,
                "p90_hours": 0.0,
                "open": 0,
                "open_median_age_hours": None,
                "open_max_age_hours": None,
            },
            id="resolved at the moment of escalation",
        ),
    ],
)
def test_edge_cases(
    spans: list[tuple[float, float | None]], expected: dict[str, object]
) -> None:
    assert time_to_resolution(_escalations(*spans), AS_OF) == expected


def test_as_of_in_another_zone_is_the_same_instant() -> None:
    frame = _escalations((0, None))
    as_of_plus_two = AS_OF.astimezone(timezone(timedelta(hours=2)))

    figures = time_to_resolution(frame, as_of_plus_two)

    assert figures["open_max_age_hours"] == 240.0


def test_naive_as_of_is_refused() -> None:
    with pytest.raises(ValueError, match="2024-03-11"):
        time_to_resolution(_escalations((0, 1)), datetime(2024, 3, 11))


def test_open_ages_lists_open_escalations_oldest_first() -> None:
    frame = _escalations((100, None), (0, 3), (40, None), (100, None), (0, None))

    ages = open_escalation_ages(frame, AS_OF)

    # Ages: id 5 = 240 h, id 3 = 200 h, ids 1 and 4 = 140 h (tie keeps order).
    assert ages.columns == [*SCHEMA, "age_hours"]
    assert ages["id"].to_list() == [5, 3, 1, 4]
    assert ages["age_hours"].to_list() == [240.0, 200.0, 140.0, 140.0]


def test_open_ages_of_an_escalation_after_as_of_is_negative() -> None:
    frame = _escalations((250, None))

    assert open_escalation_ages(frame, AS_OF)["age_hours"].to_list() == [-10.0]


def test_a_naive_timestamp_column_is_refused() -> None:
    frame = _escalations((0, 1)).with_columns(
        pl.col("resolved_at").dt.replace_time_zone(None)
    )

    with pytest.raises(ValueError, match="resolved_at"):
        time_to_resolution(frame, AS_OF)
