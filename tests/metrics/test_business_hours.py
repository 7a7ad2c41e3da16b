"""Latency in business hours, each team on its own local wall clock."""

import random
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import polars as pl
import pytest

from metrics import (
    BusinessCalendar,
    business_hours_between,
    health_summary,
    prepare_escalations,
    weekly_volume,
    with_business_latency,
)

UTC_DATETIME = pl.Datetime("us", "UTC")
DEFAULT = BusinessCalendar()
EASTER_2024 = BusinessCalendar(holidays=(date(2024, 3, 29), date(2024, 4, 1)))
SUNDAY_TO_THURSDAY = BusinessCalendar(
    start_hour=8, end_hour=18, weekdays=(6, 0, 1, 2, 3)
)


def _utc(month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2024, month, day, hour, minute, tzinfo=UTC)


def _hours(
    start: datetime,
    end: datetime,
    time_zone: str = "UTC",
    calendar: BusinessCalendar = DEFAULT,
) -> float:
    frame = pl.DataFrame(
        {"start": [start], "end": [end]},
        schema={"start": UTC_DATETIME, "end": UTC_DATETIME},
    )
    value = frame.select(
        business_hours_between("start", "end", time_zone, calendar)
    ).item()
    assert isinstance(value, float)
    return value


# 2024-05-02 is a Thursday; 05-03 Friday, 05-04 Saturday, 05-06 Monday.
@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        pytest.param(_utc(5, 6, 10), _utc(5, 6, 15, 30), 5.5, id="same business day"),
        pytest.param(_utc(5, 6, 11), _utc(5, 6, 11), 0.0, id="zero latency"),
        pytest.param(_utc(5, 6, 9), _utc(5, 6, 17), 8.0, id="exactly 09:00 to 17:00"),
        pytest.param(_utc(5, 6, 17), _utc(5, 7, 9), 0.0, id="17:00 to next 09:00"),
        pytest.param(_utc(5, 6, 8), _utc(5, 6, 9), 0.0, id="before opening"),
        pytest.param(_utc(5, 6, 17), _utc(5, 6, 18), 0.0, id="after closing"),
        pytest.param(_utc(5, 6, 18), _utc(5, 7, 8, 30), 0.0, id="overnight only"),
        pytest.param(_utc(5, 4, 10), _utc(5, 5, 16), 0.0, id="weekend only"),
        # Friday 16:00-17:00 is 1 h, Monday 09:00-10:00 is 1 h.
        pytest.param(_utc(5, 3, 16), _utc(5, 6, 10), 2.0, id="Friday 16:00 to Monday"),
        # Thursday 2 h + Friday 8 h + Monday 8 h + Tuesday 2 h.
        pytest.param(_utc(5, 2, 15), _utc(5, 7, 11), 20.0, id="across a weekend"),
        # Saturday and Sunday count nothing; Monday 09:00-12:00 is 3 h.
        pytest.param(_utc(5, 4, 12), _utc(5, 6, 12), 3.0, id="starting on Saturday"),
        pytest.param(_utc(5, 6, 10), _utc(5, 6, 9, 30), -0.5, id="reversed, negative"),
        pytest.param(_utc(5, 7, 11), _utc(5, 2, 15), -20.0, id="reversed weekend"),
    ],
)
def test_hand_worked_intervals_in_utc(
    start: datetime, end: datetime, expected: float
) -> None:
    assert _hours(start, end) == expected


def test_a_holiday_in_between_is_not_worked() -> None:
    calendar = BusinessCalendar(holidays=(date(2024, 5, 6),))

    # Thursday 2 h + Friday 8 h + (Monday off) + Tuesday 2 h.
    assert _hours(_utc(5, 2, 15), _utc(5, 7, 11), calendar=calendar) == 12.0
    # Starting on the holiday: only Tuesday 09:00-10:00 counts.
    assert _hours(_utc(5, 6, 10), _utc(5, 7, 10), calendar=calendar) == 1.0


def test_a_holiday_on_a_weekend_changes_nothing() -> None:
    calendar = BusinessCalendar(holidays=(date(2024, 5, 4),))

    assert _hours(_utc(5, 3, 16), _utc(5, 6, 10), calendar=calendar) == 2.0


def test_across_the_spring_clock_change_in_berlin() -> None:
    # Clocks go forward on Sunday 31 March 2024: CET (UTC+1) becomes CEST (+2).
    # Thursday 12:00 CET = 11:00 UTC; Tuesday 12:00 CEST = 10:00 UTC.
    start, end = _utc(3, 28, 11), _utc(4, 2, 10)

    # Thursday 5 h + Friday 8 h + Monday 8 h + Tuesday 3 h.
    assert _hours(start, end, "Europe/Berlin") == 24.0
    # Good Friday and Easter Monday off: Thursday 5 h + Tuesday 3 h.
    assert _hours(start, end, "Europe/Berlin", EASTER_2024) == 8.0
    # Friday 16:00 CET (15:00 UTC) to Monday 10:00 CEST (08:00 UTC): 1 h + 1 h.
    # Reading Monday with the winter offset would give 09:00, so only 1 h.
    assert _hours(_utc(3, 29, 15), _utc(4, 1, 8), "Europe/Berlin") == 2.0


def test_across_the_autumn_clock_change_in_berlin() -> None:
    # Clocks go back on Sunday 27 October 2024. Friday 16:00 CEST = 14:00 UTC;
    # Monday 10:00 CET = 09:00 UTC. 1 h + 1 h.
    assert _hours(_utc(10, 25, 14), _utc(10, 28, 9), "Europe/Berlin") == 2.0


def test_the_same_instants_give_different_hours_in_different_zones() -> None:
    # Monday 14:00-20:00 UTC is 15:00-21:00 in Berlin (2 h worked) and
    # 09:00-15:00 in New York (6 h worked).
    start, end = _utc(1, 15, 14), _utc(1, 15, 20)

    assert _hours(start, end, "Europe/Berlin") == 2.0
    assert _hours(start, end, "America/New_York") == 6.0
    assert _hours(start, end, "UTC") == 3.0


def test_a_local_date_decides_the_weekday() -> None:
    # Friday 23:00 UTC is already Saturday 08:00 in Tokyo; Sunday 23:00 UTC is
    # Monday 08:00 there. Nothing is worked in between.
    assert _hours(_utc(5, 3, 23), _utc(5, 5, 23), "Asia/Tokyo") == 0.0
    # A holiday is the team's local date: Monday 6 May off in Tokyo covers
    # Sunday 15:00 UTC to Monday 15:00 UTC.
    calendar = BusinessCalendar(holidays=(date(2024, 5, 6),))
    assert _hours(_utc(5, 5, 23), _utc(5, 6, 9), "Asia/Tokyo", calendar) == 0.0


def test_other_working_days_and_hours() -> None:
    # Thursday 17:00 to Sunday 09:00 UTC, working Sunday-Thursday 08:00-18:00:
    # Thursday 1 h + Sunday 1 h.
    assert _hours(_utc(5, 2, 17), _utc(5, 5, 9), calendar=SUNDAY_TO_THURSDAY) == 2.0


def test_a_whole_day_every_day_is_calendar_time() -> None:
    always = BusinessCalendar(start_hour=0, end_hour=24, weekdays=tuple(range(7)))

    assert _hours(_utc(5, 2, 15, 45), _utc(5, 9, 1), calendar=always) == 153.25


def test_an_unknown_time_zone_is_named() -> None:
    with pytest.raises(ValueError, match="Mars/Olympus"):
        business_hours_between("start", "end", "Mars/Olympus")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"start_hour": 17, "end_hour": 9}, "start_hour=17"),
        ({"start_hour": 9, "end_hour": 9}, "end_hour=9"),
        ({"end_hour": 25}, "end_hour=25"),
        ({"start_hour": -1}, "start_hour=-1"),
        ({"start_hour": 9.5}, "9.5"),
        ({"weekdays": ()}, r"\(\)"),
        ({"weekdays": (0, 7)}, "7"),
        ({"weekdays": (0, 0)}, r"\(0, 0\)"),
        ({"holidays": (datetime(2024, 12, 25, tzinfo=UTC),)}, "2024, 12, 25"),
    ],
)
def test_calendar_refuses_bad_values(
    arguments: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        BusinessCalendar(**arguments)  # type: ignore[arg-type]


def test_calendar_week_mask_and_day_length() -> None:
    assert DEFAULT.week_mask == (True, True, True, True, True, False, False)
    assert DEFAULT.day_hours == 8
    assert SUNDAY_TO_THURSDAY.week_mask == (True, True, True, True, False, False, True)


# Frame level: with_business_latency on prepared escalations.

ZONES = {"Berlin": "Europe/Berlin", "New York": "America/New_York"}


def _prepared(rows: list[tuple[str | None, str, datetime, datetime]]) -> pl.DataFrame:
    """Prepared escalations from (team, severity, first signal, escalated)."""
    frame = pl.DataFrame(
        [
            (n + 1, n + 1, "usage_drop", severity, team, signal, escalated)
            for n, (team, severity, signal, escalated) in enumerate(rows)
        ],
        schema={
            "id": pl.Int64,
            "account_id": pl.Int64,
            "trigger_type": pl.String,
            "severity": pl.String,
            "team": pl.String,
            "first_signal_at": UTC_DATETIME,
            "escalated_at": UTC_DATETIME,
        },
        orient="row",
    )
    return prepare_escalations(frame)


def test_each_team_is_measured_in_its_own_zone() -> None:
    start, end = _utc(1, 15, 14), _utc(1, 15, 20)
    prepared = _prepared(
        [
            ("Berlin", "low", start, end),
            ("New York", "low", start, end),
            ("Nowhere", "low", start, end),  # not in the mapping: default zone
            (None, "low", start, end),  # no team: default zone
            ("Berlin", "low", start, end),
        ]
    )

    result = with_business_latency(prepared, ZONES)

    assert result["latency_hours"].to_list() == [2.0, 6.0, 3.0, 3.0, 2.0]
    new_york_default = with_business_latency(
        prepared, ZONES, default_time_zone="America/New_York"
    )
    assert new_york_default["latency_hours"].to_list() == [2.0, 6.0, 6.0, 6.0, 2.0]


def test_lateness_is_judged_in_business_hours_with_the_same_thresholds() -> None:
    prepared = _prepared(
        [
            # Monday 09:00 to Wednesday 17:00: 56 calendar hours, 24 business
            # hours, exactly the critical threshold: on time.
            ("Berlin", "critical", _utc(5, 6, 7), _utc(5, 8, 15)),
            # Monday 09:00 to Thursday 09:00 and 1 µs: 24 business hours and
            # 1 µs: late.
            (
                "Berlin",
                "critical",
                _utc(5, 6, 7),
                _utc(5, 9, 7) + timedelta(microseconds=1),
            ),
            # Friday 16:00 to Monday 10:00 New York: 2 business hours, 66
            # calendar hours; late in calendar hours, on time in business hours.
            ("New York", "critical", _utc(5, 3, 20), _utc(5, 6, 14)),
        ]
    )

    result = with_business_latency(prepared, ZONES)

    assert prepared["is_late"].to_list() == [True, True, True]
    assert result.columns == prepared.columns
    assert result["threshold_hours"].to_list() == [24.0, 24.0, 24.0]
    assert result["latency_hours"].to_list() == [24.0, 24 + 1 / 3_600_000_000, 2.0]
    assert result["is_late"].to_list() == [False, True, False]
    assert result["hours_beyond_threshold"].to_list() == [
        0.0,
        1 / 3_600_000_000,
        -22.0,
    ]
    untouched = [
        name
        for name in prepared.columns
        if name not in {"latency_hours", "is_late", "hours_beyond_threshold"}
    ]
    assert result.select(untouched).equals(prepared.select(untouched))


def test_summaries_downstream_read_business_hours() -> None:
    prepared = _prepared(
        [
            ("Berlin", "critical", _utc(5, 6, 7), _utc(5, 8, 15)),  # 24 h, on time
            ("Berlin", "critical", _utc(5, 3, 14), _utc(5, 6, 8)),  # 2 h, on time
            ("Berlin", "critical", _utc(5, 6, 7), _utc(5, 10, 7)),  # 32 h, late
        ]
    )

    result = with_business_latency(prepared, ZONES)

    summary = health_summary(result)
    # Business latencies 24, 2 and 32 h: median 24, one late of three.
    assert summary["median_hours"] == 24.0
    assert summary["max_hours"] == 32.0
    assert summary["late_rate"] == pytest.approx(1 / 3)
    weekly = weekly_volume(result)
    assert weekly["late"].to_list() == [1]


def test_no_escalations_stay_empty() -> None:
    prepared = _prepared([])

    result = with_business_latency(prepared, ZONES)

    assert result.height == 0
    assert result.schema == prepared.schema


def test_an_unprepared_frame_is_refused() -> None:
    raw = _prepared([]).drop("is_late", "threshold_hours")

    with pytest.raises(ValueError, match="prepare_escalations"):
        with_business_latency(raw, ZONES)


def test_a_missing_team_column_is_named() -> None:
    prepared = _prepared([]).drop("team")

    with pytest.raises(ValueError, match="'team'"):
        with_business_latency(prepared, ZONES)


def test_an_unknown_team_zone_is_named() -> None:
    with pytest.raises(ValueError, match="Europe/Atlantis"):
        with_business_latency(_prepared([]), {"Berlin": "Europe/Atlantis"})


# Against an independent brute force: step minute by minute in UTC and ask
# zoneinfo whether each minute falls in working time.


def _brute_force_hours(
    start: datetime, end: datetime, time_zone: str, calendar: BusinessCalendar
) -> float:
    sign = 1
    if end < start:
        start, end, sign = end, start, -1
    zone = ZoneInfo(time_zone)
    minutes = 0
    moment = start
    while moment < end:
        local = moment.astimezone(zone)
        if (
            local.weekday() in calendar.weekdays
            and local.date() not in calendar.holidays
            and calendar.start_hour <= local.hour < calendar.end_hour
        ):
            minutes += 1
        moment += timedelta(minutes=1)
    return sign * minutes / 60


BRUTE_FORCE_ZONES = {
    "Berlin": "Europe/Berlin",
    "New York": "America/New_York",
    "Sydney": "Australia/Sydney",
    "Kolkata": "Asia/Kolkata",
    "Utc": "UTC",
}
# The 2024 clock changes of each team's zone (UTC instants); Kolkata and UTC
# have none, so they get the Easter weekend instead.
CLOCK_CHANGES = {
    "Berlin": [_utc(3, 31, 1), _utc(10, 27, 1)],
    "New York": [_utc(3, 10, 7), _utc(11, 3, 6)],
    "Sydney": [_utc(4, 6, 16), _utc(10, 5, 16)],
    "Kolkata": [_utc(3, 30)],
    "Utc": [_utc(3, 30)],
}


def _random_rows(seed: int, size: int) -> list[tuple[str, datetime, datetime]]:
    """Minute-aligned intervals near a clock change of a random team's zone."""
    chooser = random.Random(seed)
    rows = []
    for _ in range(size):
        team = chooser.choice(list(CLOCK_CHANGES))
        start = chooser.choice(CLOCK_CHANGES[team]) - timedelta(
            minutes=chooser.randint(0, 4 * 24 * 60)
        )
        # Mostly forward, sometimes backward, up to three days.
        length = timedelta(minutes=chooser.randint(-6 * 60, 3 * 24 * 60))
        rows.append((team, start, start + length))
    return rows


@pytest.mark.parametrize(
    "calendar",
    [
        DEFAULT,
        EASTER_2024,
        BusinessCalendar(
            start_hour=8,
            end_hour=18,
            weekdays=(6, 0, 1, 2, 3),
            holidays=(date(2024, 3, 10), date(2024, 10, 29)),
        ),
    ],
    ids=["default", "easter", "sunday-thursday"],
)
def test_agrees_with_a_minute_by_minute_count(calendar: BusinessCalendar) -> None:
    rows = _random_rows(seed=calendar.start_hour + len(calendar.holidays), size=40)
    prepared = _prepared([(team, "low", start, end) for team, start, end in rows])

    result = with_business_latency(prepared, BRUTE_FORCE_ZONES, calendar)

    expected = [
        _brute_force_hours(start, end, BRUTE_FORCE_ZONES[team], calendar)
        for team, start, end in rows
    ]
    assert result["latency_hours"].to_list() == pytest.approx(expected, abs=1e-9)
