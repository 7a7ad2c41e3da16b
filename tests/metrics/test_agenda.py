"""The repair-review agenda: periods, unanswered escalations, due fixes, early ones."""

import doctest
from datetime import UTC, date, datetime, timedelta

import polars as pl
import pytest
from polars.testing import assert_frame_equal

import metrics.agenda
from metrics import (
    VERDICT_FEWER,
    VERDICT_TOO_LITTLE_DATA,
    AgendaSettings,
    build_agenda,
    early_escalations,
    fix_impact,
    fixes_due,
    fixes_to_judge,
    iso_week_period,
    iso_weeks_in,
    prepare_escalations,
    review_period,
    trend_window,
    unanswered_escalations,
)

UTC_US = pl.Datetime("us", "UTC")
REVIEW_DAY = date(2026, 5, 11)  # a Monday
START = datetime(2026, 5, 11, tzinfo=UTC)
AS_OF = datetime(2026, 5, 14, 9, 30, tzinfo=UTC)  # a Thursday
ONE_MICROSECOND = timedelta(microseconds=1)

# (id, account_id, trigger_type, severity, latency hours, escalated_at)
Raw = tuple[int, int, str, str, float, datetime]


def _utc(month: int, day: int, hour: float = 0.0) -> datetime:
    return datetime(2026, month, day, tzinfo=UTC) + timedelta(hours=hour)


def _prepared(rows: list[Raw]) -> pl.DataFrame:
    """A prepared history with every column the agenda reads."""
    frame = pl.DataFrame(
        [
            (
                n,
                f"ESC-{n}",
                account,
                f"Account {account}",
                kind,
                severity,
                "Atlas",
                f"Owner {n}",
                "proactive_team",
                at - timedelta(hours=hours),
                at,
            )
            for n, account, kind, severity, hours, at in rows
        ],
        schema={
            "id": pl.Int64,
            "external_id": pl.String,
            "account_id": pl.Int64,
            "account_name": pl.String,
            "trigger_type": pl.String,
            "severity": pl.String,
            "team": pl.String,
            "owner": pl.String,
            "raised_via": pl.String,
            "first_signal_at": UTC_US,
            "escalated_at": UTC_US,
        },
        orient="row",
    )
    return prepare_escalations(frame)


# The history the agenda tests share. The period since the review of 11 May is
# [11 May 00:00, 14 May 09:30); the previous period, as long, starts 7 May 14:30.
#
#  id  acct  type           severity  latency  escalated     in      late by  recurs
#   1   5    usage_drop     medium      2 h    1 May 12:00   before   -166
#   2   1    billing        critical   30 h    11 May 00:00  period     6
#   3   2    billing        high      100 h    12 May 08:00  period    28
#   4   3    billing        high       80 h    12 May 10:00  period     8
#   5   5    usage_drop     low       100 h    12 May 12:00  period  -236    yes (1)
#   6   5    usage_drop     critical   25 h    13 May 00:00  period     1    yes (5)
#   7   4    outage_impact  critical    6 h    13 May 12:00  period   -18    (early)
#   8   6    billing        critical    5 h    14 May 09:30  at the end: outside
#   9   7    outage_impact  high       20 h    9 May 00:00   previous -52
#  10   8    outage_impact  medium    200 h    10 May 00:00  previous  32
HISTORY: list[Raw] = [
    (1, 5, "usage_drop", "medium", 2, _utc(5, 1, 12)),
    (2, 1, "billing", "critical", 30, START),
    (3, 2, "billing", "high", 100, _utc(5, 12, 8)),
    (4, 3, "billing", "high", 80, _utc(5, 12, 10)),
    (5, 5, "usage_drop", "low", 100, _utc(5, 12, 12)),
    (6, 5, "usage_drop", "critical", 25, _utc(5, 13)),
    (7, 4, "outage_impact", "critical", 6, _utc(5, 13, 12)),
    (8, 6, "billing", "critical", 5, AS_OF),
    (9, 7, "outage_impact", "high", 20, _utc(5, 9)),
    (10, 8, "outage_impact", "medium", 200, _utc(5, 10)),
]


def _fixes(
    *rows: tuple[int, str, str, datetime | None, datetime | None],
) -> pl.DataFrame:
    """Fixes from (id, trigger_type, status, due_at, shipped_at) rows."""
    return pl.DataFrame(
        [
            (n, f"Fix {n}", kind, "Dana Ortiz", status, due, shipped)
            for n, kind, status, due, shipped in rows
        ],
        schema={
            "id": pl.Int64,
            "title": pl.String,
            "trigger_type": pl.String,
            "owner": pl.String,
            "status": pl.String,
            "due_at": UTC_US,
            "shipped_at": UTC_US,
        },
        orient="row",
    )


def _links(*rows: tuple[int, int]) -> pl.DataFrame:
    """Links from (fix_id, escalation_id) rows."""
    return pl.DataFrame(
        list(rows),
        schema={"fix_id": pl.Int64, "escalation_id": pl.Int64},
        orient="row",
    )


def _status_links(*rows: tuple[int, str]) -> pl.DataFrame:
    """Links from (escalation_id, status of the linked fix) rows."""
    return pl.DataFrame(
        list(rows),
        schema={"escalation_id": pl.Int64, "status": pl.String},
        orient="row",
    )


# Periods


def test_with_no_review_the_period_is_the_last_seven_days() -> None:
    assert review_period(None, AS_OF) == (AS_OF - timedelta(days=7), AS_OF)


def test_since_the_review_starts_at_midnight_utc_of_its_day() -> None:
    assert review_period(REVIEW_DAY, AS_OF) == (START, AS_OF)


def test_a_review_held_today_at_midnight_leaves_an_empty_period() -> None:
    assert review_period(REVIEW_DAY, START) == (START, START)


def test_a_review_dated_after_as_of_leaves_an_empty_period() -> None:
    # Held on the 15th east of UTC, while it was still the 14th in UTC.
    assert review_period(date(2026, 5, 15), AS_OF) == (AS_OF, AS_OF)


@pytest.mark.parametrize(
    ("review", "as_of", "fragment"),
    [
        (REVIEW_DAY, datetime(2026, 5, 14), "timezone-aware"),
        (datetime(2026, 5, 11, 9, tzinfo=UTC), AS_OF, "a date without a time"),
    ],
)
def test_review_period_refuses_what_it_cannot_read(
    review: date, as_of: datetime, fragment: str
) -> None:
    with pytest.raises(ValueError, match=fragment):
        review_period(review, as_of)


def test_iso_week_53_of_2026_exists() -> None:
    assert date.fromisocalendar(2026, 53, 1) == date(2026, 12, 28)
    assert iso_weeks_in(2026) == 53

    assert iso_week_period(2026, 53) == (
        datetime(2026, 12, 28, tzinfo=UTC),
        datetime(2027, 1, 4, tzinfo=UTC),
    )


def test_iso_week_53_of_2025_does_not() -> None:
    with pytest.raises(ValueError, match="53"):
        date.fromisocalendar(2025, 53, 1)
    assert iso_weeks_in(2025) == 52

    with pytest.raises(ValueError, match="2025 has no ISO week 53; its weeks run from"):
        iso_week_period(2025, 53)


def test_iso_week_1_can_start_in_the_year_before() -> None:
    assert iso_week_period(2026, 1) == (
        datetime(2025, 12, 29, tzinfo=UTC),
        datetime(2026, 1, 5, tzinfo=UTC),
    )


@pytest.mark.parametrize(
    ("year", "week"), [(2026, 0), (2026, 54), (2026, True), (0, 1), (9999, 1)]
)
def test_iso_week_period_refuses_weeks_that_do_not_exist(year: int, week: int) -> None:
    with pytest.raises(ValueError, match="ISO week"):
        iso_week_period(year, week)


@pytest.mark.parametrize(
    ("end", "first_monday"),
    [
        (AS_OF, datetime(2026, 2, 23, tzinfo=UTC)),
        # A Monday midnight end leaves that Monday's week out.
        (datetime(2026, 5, 18, tzinfo=UTC), datetime(2026, 2, 23, tzinfo=UTC)),
        (datetime(2026, 5, 18, 0, 1, tzinfo=UTC), datetime(2026, 3, 2, tzinfo=UTC)),
    ],
)
def test_trend_window_covers_twelve_iso_weeks(
    end: datetime, first_monday: datetime
) -> None:
    assert trend_window(end) == (first_monday, end)


# Unanswered escalations


def test_unanswered_lists_late_then_recurring_most_overdue_first() -> None:
    prepared = _prepared(HISTORY)
    links = _status_links((3, "abandoned"), (4, "proposed"))

    unanswered = unanswered_escalations(prepared, links, START, AS_OF)

    assert unanswered.select(
        "external_id", "reason", "hours_beyond_threshold"
    ).rows() == [
        ("ESC-3", "late", 28.0),
        ("ESC-2", "late", 6.0),
        ("ESC-6", "late and recurring", 1.0),
        ("ESC-5", "recurring", -236.0),
    ]
    assert unanswered.columns == [
        "id",
        "external_id",
        "account_name",
        "trigger_type",
        "severity",
        "team",
        "owner",
        "escalated_at",
        "latency_hours",
        "hours_beyond_threshold",
        "is_late",
        "recurs",
        "reason",
    ]


@pytest.mark.parametrize(
    ("statuses", "answered"),
    [
        (["abandoned"], False),
        (["proposed"], True),
        (["in_progress"], True),
        (["shipped"], True),
        (["verified"], True),
        (["abandoned", "proposed"], True),
        ([], False),
    ],
)
def test_only_a_fix_that_is_not_abandoned_answers_an_escalation(
    statuses: list[str], answered: bool
) -> None:
    prepared = _prepared([(1, 1, "billing", "critical", 30, _utc(5, 12))])
    links = _status_links(*((1, status) for status in statuses))

    unanswered = unanswered_escalations(prepared, links, START, AS_OF)

    assert unanswered.height == (0 if answered else 1)


def test_the_period_holds_its_start_and_not_its_end() -> None:
    prepared = _prepared(
        [
            (1, 1, "billing", "critical", 30, START - ONE_MICROSECOND),
            (2, 2, "billing", "critical", 30, START),
            (3, 3, "billing", "critical", 30, AS_OF - ONE_MICROSECOND),
            (4, 4, "billing", "critical", 30, AS_OF),
        ]
    )

    unanswered = unanswered_escalations(prepared, _status_links(), START, AS_OF)

    assert sorted(unanswered.get_column("id").to_list()) == [2, 3]


def test_an_empty_period_has_no_unanswered_escalations() -> None:
    prepared = _prepared(HISTORY)

    unanswered = unanswered_escalations(prepared, _status_links(), START, START)

    assert unanswered.height == 0
    assert "reason" in unanswered.columns


def test_a_reversed_period_is_refused() -> None:
    with pytest.raises(ValueError, match="is after its end"):
        unanswered_escalations(_prepared(HISTORY), _status_links(), AS_OF, START)


# Fixes due


def test_fixes_due_lists_open_fixes_overdue_first_then_soonest() -> None:
    fixes = _fixes(
        (1, "billing", "proposed", AS_OF - timedelta(days=2.5), None),
        (2, "billing", "in_progress", AS_OF, None),
        (3, "billing", "proposed", AS_OF + timedelta(days=8), None),
        (4, "billing", "proposed", AS_OF + timedelta(days=7), None),
        (5, "billing", "in_progress", AS_OF + timedelta(days=3), None),
        (6, "billing", "shipped", AS_OF - timedelta(days=10), AS_OF),
        (7, "billing", "abandoned", AS_OF - timedelta(days=1), None),
        (8, "billing", "proposed", None, None),
        (9, "billing", "proposed", AS_OF - timedelta(days=10), None),
    )

    due = fixes_due(fixes, AS_OF, 7)

    expected = pl.DataFrame(
        {
            "id": [9, 1, 2, 5],
            "title": ["Fix 9", "Fix 1", "Fix 2", "Fix 5"],
            "trigger_type": ["billing"] * 4,
            "owner": ["Dana Ortiz"] * 4,
            "status": ["proposed", "proposed", "in_progress", "in_progress"],
            "due_at": [
                AS_OF - timedelta(days=10),
                AS_OF - timedelta(days=2.5),
                AS_OF,
                AS_OF + timedelta(days=3),
            ],
            # Late once the due day is over: days past due_at + 1 day.
            "overdue": [True, True, False, False],
            "days_overdue": [9.0, 1.5, -1.0, -4.0],
        },
        schema_overrides={"due_at": UTC_US},
    )
    assert_frame_equal(due, expected)


def test_a_fix_is_not_overdue_during_its_due_day() -> None:
    start_of_day = AS_OF.replace(hour=0, minute=0, second=0, microsecond=0)
    fixes = _fixes((1, "billing", "proposed", start_of_day, None))

    during = fixes_due(fixes, start_of_day + timedelta(hours=23, minutes=59), 7)
    after = fixes_due(fixes, start_of_day + timedelta(days=1, microseconds=1), 7)

    assert during.get_column("overdue").to_list() == [False]
    assert after.get_column("overdue").to_list() == [True]


def test_a_fix_due_in_eight_days_shows_with_a_longer_horizon() -> None:
    fixes = _fixes((1, "billing", "proposed", AS_OF + timedelta(days=8), None))

    assert fixes_due(fixes, AS_OF, 7).height == 0
    assert fixes_due(fixes, AS_OF, 9).get_column("days_overdue").to_list() == [-9.0]


def test_fixes_due_reads_a_due_column_with_no_dates_at_all() -> None:
    fixes = pl.DataFrame(
        {
            "id": [1],
            "title": ["Fix 1"],
            "trigger_type": ["billing"],
            "owner": ["Dana Ortiz"],
            "status": ["proposed"],
            "due_at": [None],
        }
    )

    assert fixes_due(fixes, AS_OF, 7).height == 0


# Fixes to judge


def test_fixes_to_judge_are_shipped_with_their_after_window_over() -> None:
    shipped_9_weeks_ago = AS_OF - timedelta(weeks=9)
    before = [shipped_9_weeks_ago - timedelta(days=2 * n + 1) for n in range(20)]
    after = [shipped_9_weeks_ago + timedelta(days=10 * n) for n in range(2)]
    prepared = _prepared(
        [
            (n, n, "billing", "high", 1, at)
            for n, at in enumerate([*before, *after], start=1)
        ]
    )
    fixes = _fixes(
        (1, "billing", "shipped", None, shipped_9_weeks_ago),
        (2, "usage_drop", "shipped", None, AS_OF - timedelta(weeks=8)),
        (
            3,
            "usage_drop",
            "shipped",
            None,
            AS_OF - timedelta(weeks=8) + ONE_MICROSECOND,
        ),
        (4, "billing", "verified", None, AS_OF - timedelta(weeks=20)),
        (5, "billing", "proposed", None, None),
        (6, "billing", "abandoned", None, AS_OF - timedelta(weeks=12)),
    )
    impact = fix_impact(prepared, fixes, AS_OF)

    to_judge = fixes_to_judge(impact, AS_OF)

    assert to_judge.select(
        "fix_id", "before", "after", "ratio", "verdict", "days_waiting"
    ).rows() == [
        (1, 20, 2, 0.1, VERDICT_FEWER, 7.0),
        (2, 0, 0, None, VERDICT_TOO_LITTLE_DATA, 0.0),
    ]
    assert to_judge.row(0, named=True)["upper"] < 1.0


def test_a_fix_judged_at_a_later_moment_waits_for_the_agenda_moment() -> None:
    fixes = _fixes((1, "billing", "shipped", None, AS_OF - timedelta(weeks=8, days=-1)))
    impact = fix_impact(_prepared(HISTORY), fixes, AS_OF + timedelta(days=2))

    assert fixes_to_judge(impact, AS_OF + timedelta(days=2)).height == 1
    assert fixes_to_judge(impact, AS_OF).height == 0


# Early escalations


def test_early_escalations_are_within_a_quarter_of_their_threshold() -> None:
    prepared = _prepared(
        [
            (1, 1, "billing", "critical", 6, _utc(5, 12)),
            (2, 2, "billing", "critical", 6 + 1 / 3_600_000_000, _utc(5, 12)),
            (3, 3, "billing", "high", 0, _utc(5, 12, 1)),
            (4, 4, "billing", "medium", 42, _utc(5, 12, 2)),
            (5, 5, "billing", "low", 100, _utc(5, 12, 3)),
            (6, 6, "billing", "critical", 1, START - ONE_MICROSECOND),
            (7, 7, "billing", "critical", 1, AS_OF),
        ]
    )

    early = early_escalations(prepared, START, AS_OF, 0.25)

    assert early.select("id", "latency_hours", "share_of_threshold").rows() == [
        (3, 0.0, 0.0),
        (1, 6.0, 0.25),
        (4, 42.0, 0.25),
    ]
    assert early.columns == [
        "id",
        "external_id",
        "account_name",
        "trigger_type",
        "severity",
        "team",
        "owner",
        "raised_via",
        "escalated_at",
        "latency_hours",
        "threshold_hours",
        "share_of_threshold",
    ]


def test_with_a_share_of_zero_only_instant_escalations_are_early() -> None:
    prepared = _prepared(
        [
            (1, 1, "billing", "critical", 0, _utc(5, 12)),
            (2, 2, "billing", "critical", 0.5, _utc(5, 12)),
        ]
    )

    early = early_escalations(prepared, START, AS_OF, 0.0)

    assert early.get_column("id").to_list() == [1]


@pytest.mark.parametrize(
    "settings",
    [
        {"early_share": 1.5},
        {"early_share": -0.1},
        {"early_share": True},
        {"due_soon_days": -1},
        {"due_soon_days": 2.5},
    ],
)
def test_agenda_settings_refuse_values_out_of_range(settings: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must"):
        AgendaSettings(**settings)  # type: ignore[arg-type]


# The whole agenda


def _agenda_inputs() -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame]:
    fixes = _fixes(
        (1, "billing", "proposed", AS_OF - timedelta(days=2.5), None),
        (2, "billing", "abandoned", None, None),
        (3, "outage_impact", "shipped", None, AS_OF - timedelta(weeks=9)),
        (4, "billing", "in_progress", AS_OF + timedelta(days=8), None),
    )
    links = _links((1, 4), (2, 3))
    return _prepared(HISTORY), fixes, links


def test_the_agenda_since_the_last_review_worked_by_hand() -> None:
    prepared, fixes, links = _agenda_inputs()

    agenda = build_agenda(prepared, fixes, links, REVIEW_DAY, AS_OF)

    assert agenda.period == (START, AS_OF)
    assert agenda.previous_period == (_utc(5, 7, 14.5), START)
    # Latencies 30, 100, 80, 100, 25, 6: sorted 6, 25, 30, 80, 100, 100.
    assert agenda.kpis == {
        "escalations": 6,
        "median_hours": 55.0,
        "p90_hours": 100.0,
        "max_hours": 100.0,
        "late_rate": pytest.approx(4 / 6),
        "recurrence_rate": pytest.approx(2 / 6),
    }
    # Escalations 9 and 10: latencies 20 and 200, one late, neither recurs.
    assert agenda.previous_kpis == {
        "escalations": 2,
        "median_hours": 110.0,
        "p90_hours": pytest.approx(182.0),
        "max_hours": 200.0,
        "late_rate": 0.5,
        "recurrence_rate": 0.0,
    }
    assert agenda.unanswered.get_column("external_id").to_list() == [
        "ESC-3",
        "ESC-2",
        "ESC-6",
        "ESC-5",
    ]
    assert agenda.due.get_column("id").to_list() == [1]
    assert agenda.to_judge.select("fix_id", "verdict").rows() == [
        (3, VERDICT_TOO_LITTLE_DATA)
    ]
    assert agenda.early.get_column("external_id").to_list() == ["ESC-7"]
    assert agenda.counts == {
        "escalations": 6,
        "late_or_recurring": 5,
        "unanswered": 4,
        "due": 1,
        "overdue": 1,
        "to_judge": 1,
        "early": 1,
    }


def test_with_no_review_the_agenda_covers_seven_days() -> None:
    prepared, fixes, links = _agenda_inputs()

    agenda = build_agenda(prepared, fixes, links, None, AS_OF)

    # [7 May 09:30, 14 May 09:30) adds escalations 9 and 10 to the six above.
    assert agenda.period == (AS_OF - timedelta(days=7), AS_OF)
    assert agenda.kpis["escalations"] == 8
    assert agenda.unanswered.get_column("external_id").to_list()[0] == "ESC-10"


def test_a_review_today_gives_an_empty_agenda_without_failing() -> None:
    prepared, fixes, links = _agenda_inputs()

    agenda = build_agenda(prepared, fixes, links, REVIEW_DAY, START)

    assert agenda.period == (START, START)
    assert agenda.previous_period == (START, START)
    assert agenda.kpis["escalations"] == 0
    assert agenda.kpis["late_rate"] is None
    assert agenda.previous_kpis["escalations"] == 0
    assert agenda.unanswered.height == 0
    assert agenda.early.height == 0
    assert agenda.counts["escalations"] == 0


def test_an_iso_week_replaces_the_review_period() -> None:
    prepared, fixes, links = _agenda_inputs()
    week = iso_week_period(2026, 19)  # 4 May to 11 May

    agenda = build_agenda(prepared, fixes, links, REVIEW_DAY, AS_OF, period=week)

    assert agenda.period == week
    assert agenda.previous_period == (_utc(4, 27), _utc(5, 4))
    assert agenda.kpis["escalations"] == 2
    assert agenda.unanswered.get_column("external_id").to_list() == ["ESC-10"]
    assert agenda.previous_kpis["escalations"] == 1


def test_agenda_settings_reach_the_parts() -> None:
    prepared, fixes, links = _agenda_inputs()
    settings = AgendaSettings(early_share=0.3, due_soon_days=9)

    agenda = build_agenda(prepared, fixes, links, REVIEW_DAY, AS_OF, settings=settings)

    # 100 h on a low escalation is 29.8 % of 336 h.
    assert agenda.early.get_column("external_id").to_list() == ["ESC-7", "ESC-5"]
    assert agenda.due.get_column("id").to_list() == [1, 4]
    assert agenda.settings == settings


def test_the_agenda_docstring_examples_run() -> None:
    outcome = doctest.testmod(metrics.agenda, raise_on_error=False, verbose=False)

    assert outcome.attempted > 0
    assert outcome.failed == 0
