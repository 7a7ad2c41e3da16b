"""Fix impact: equal windows around a ship date, exact intervals, verdict rules."""

from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal

from metrics import (
    FIX_IMPACT_SCHEMA,
    VERDICT_FEWER,
    VERDICT_MORE,
    VERDICT_NO_CLEAR_CHANGE,
    VERDICT_NOT_SHIPPED,
    VERDICT_TOO_EARLY,
    VERDICT_TOO_LITTLE_DATA,
    VERDICTS,
    FixImpactSettings,
    fix_impact,
    fix_verdict,
    fix_windows,
    prepare_escalations,
    rate_ratio_interval,
    ratio_of_ratios,
    weekly_volume_with_fixes,
)

SHIPPED = datetime(2024, 3, 4, 10, tzinfo=UTC)  # a Monday
WEEKS_8 = timedelta(weeks=8)
ONE_MICROSECOND = timedelta(microseconds=1)
AS_OF = SHIPPED + timedelta(weeks=20)
UTC_US = pl.Datetime("us", "UTC")


def _days(day: float) -> datetime:
    return SHIPPED + timedelta(days=day)


def _spread(count: int, first_day: float, last_day: float) -> list[datetime]:
    """``count`` instants spread evenly over [first_day, last_day)."""
    step = (last_day - first_day) / max(count, 1)
    return [_days(first_day + step * n) for n in range(count)]


def _prepared(
    times: dict[str, Iterable[datetime]],
    *,
    late: Iterable[bool] | None = None,
    latency_hours: Iterable[float] | None = None,
) -> pl.DataFrame:
    """A prepared frame: escalations of each trigger type at the given instants."""
    rows = [(kind, at) for kind, instants in times.items() for at in instants]
    frame = pl.DataFrame(
        rows, schema={"trigger_type": pl.String, "escalated_at": UTC_US}, orient="row"
    )
    return frame.with_columns(
        pl.Series("is_late", list(late) if late is not None else [False] * len(rows)),
        pl.Series(
            "latency_hours",
            list(latency_hours) if latency_hours is not None else [1.0] * len(rows),
            dtype=pl.Float64,
        ),
        pl.lit(False).alias("recurs"),
    )


def _fixes(*rows: tuple[int, str, datetime | None]) -> pl.DataFrame:
    """Fixes from (id, trigger_type, shipped_at) rows."""
    return pl.DataFrame(
        [
            (
                fix_id,
                f"Fix {fix_id}",
                kind,
                "Dana Ortiz",
                "proposed" if shipped is None else "shipped",
                shipped,
            )
            for fix_id, kind, shipped in rows
        ],
        schema={
            "id": pl.Int64,
            "title": pl.String,
            "trigger_type": pl.String,
            "owner": pl.String,
            "status": pl.String,
            "shipped_at": UTC_US,
        },
        orient="row",
    )


def _only_row(impact: pl.DataFrame) -> dict[str, Any]:
    assert impact.height == 1
    return impact.row(0, named=True)


# Settings and windows ---------------------------------------------------------------


def test_settings_defaults() -> None:
    settings = FixImpactSettings()

    assert (settings.window_weeks, settings.confidence, settings.min_total) == (
        8,
        0.95,
        10,
    )


@pytest.mark.parametrize(
    ("kwargs", "named"),
    [
        ({"window_weeks": 0}, "window_weeks"),
        ({"window_weeks": 2.5}, "window_weeks"),
        ({"confidence": 1.0}, "confidence"),
        ({"min_total": -1}, "min_total"),
    ],
)
def test_settings_refuse_bad_values(kwargs: dict[str, Any], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        FixImpactSettings(**kwargs)


def test_fix_windows_are_equal_and_meet_at_the_ship_time() -> None:
    before_start, shipped, after_end = fix_windows(SHIPPED, 8)

    assert (before_start, shipped, after_end) == (
        SHIPPED - WEEKS_8,
        SHIPPED,
        SHIPPED + WEEKS_8,
    )


def test_fix_windows_refuse_a_naive_time() -> None:
    with pytest.raises(ValueError, match="shipped_at"):
        fix_windows(datetime(2024, 3, 4), 8)


# Boundaries ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("at", "side"),
    [
        (SHIPPED - WEEKS_8 - ONE_MICROSECOND, None),
        (SHIPPED - WEEKS_8, "before"),  # the window's first instant
        (SHIPPED - ONE_MICROSECOND, "before"),
        (SHIPPED, "after"),  # at the ship time: after the fix
        (SHIPPED + WEEKS_8 - ONE_MICROSECOND, "after"),
        (SHIPPED + WEEKS_8, None),  # the after window's end is outside
    ],
)
def test_window_boundaries(at: datetime, side: str | None) -> None:
    prepared = _prepared({"billing": [at], "outage": [at]})

    row = _only_row(fix_impact(prepared, _fixes((1, "billing", SHIPPED)), AS_OF))

    counts = {"before": row["before"], "after": row["after"]}
    others = {"before": row["others_before"], "after": row["others_after"]}
    expected = {"before": int(side == "before"), "after": int(side == "after")}
    assert counts == expected
    assert others == expected


# Hand-worked comparisons -----------------------------------------------------------


def test_a_fix_that_halves_its_trigger_type_while_others_hold_steady() -> None:
    # billing: 20 in the 8 weeks before, 8 after: ratio 8 / 20 = 0.4.
    # outage: 30 and 30: ratio 1.0. Ratio of ratios 0.4 / 1.0 = 0.4.
    prepared = _prepared(
        {
            "billing": _spread(20, -56, 0) + _spread(8, 0, 56),
            "outage": _spread(30, -56, 0) + _spread(30, 0, 56),
        }
    )

    row = _only_row(fix_impact(prepared, _fixes((1, "billing", SHIPPED)), AS_OF))

    fix = rate_ratio_interval(20, 8, before_length=56.0, after_length=56.0)
    assert (row["before"], row["after"]) == (20, 8)
    assert row["ratio"] == pytest.approx(0.4)
    assert (row["lower"], row["upper"]) == (fix.lower, fix.upper)
    # 8 of 28 after: p_high is about 0.48, so r_high = 0.48 / 0.52 < 1.
    assert row["upper"] < 1.0
    assert (row["others_before"], row["others_after"]) == (30, 30)
    assert row["others_ratio"] == pytest.approx(1.0)
    assert row["others_lower"] < 1.0 < row["others_upper"]
    assert row["ratio_of_ratios"] == pytest.approx(0.4)
    assert row["verdict"] == VERDICT_FEWER
    assert row["after_complete"] is True
    assert (row["before_start"], row["after_end"]) == (
        SHIPPED - WEEKS_8,
        SHIPPED + WEEKS_8,
    )


def test_ratio_of_ratios_against_a_falling_background() -> None:
    # billing 20 -> 10 (0.5) while outage 40 -> 20 (0.5): 0.5 / 0.5 = 1, the
    # fix did nothing the rest did not do too.
    prepared = _prepared(
        {
            "billing": _spread(20, -56, 0) + _spread(10, 0, 56),
            "outage": _spread(40, -56, 0) + _spread(20, 0, 56),
        }
    )

    row = _only_row(fix_impact(prepared, _fixes((1, "billing", SHIPPED)), AS_OF))

    assert row["ratio"] == pytest.approx(0.5)
    assert row["others_ratio"] == pytest.approx(0.5)
    assert row["ratio_of_ratios"] == pytest.approx(1.0)
    assert row["ratio_of_ratios"] == ratio_of_ratios(
        rate_ratio_interval(20, 10), rate_ratio_interval(40, 20)
    )


@pytest.mark.parametrize(
    ("before", "after", "verdict"),
    [
        (30, 10, VERDICT_FEWER),  # 10 of 40 after: upper bound about 0.68
        (5, 25, VERDICT_MORE),  # 25 of 30 after: lower bound about 2
        (12, 10, VERDICT_NO_CLEAR_CHANGE),
        (4, 3, VERDICT_TOO_LITTLE_DATA),  # 7 in all, under the default 10
        (0, 20, VERDICT_TOO_LITTLE_DATA),  # nothing before to compare with
        (0, 0, VERDICT_TOO_LITTLE_DATA),
    ],
)
def test_verdicts(before: int, after: int, verdict: str) -> None:
    prepared = _prepared({"billing": _spread(before, -56, 0) + _spread(after, 0, 56)})

    row = _only_row(fix_impact(prepared, _fixes((1, "billing", SHIPPED)), AS_OF))

    assert (row["before"], row["after"]) == (before, after)
    assert row["verdict"] == verdict


def test_a_fix_with_no_escalations_before_it() -> None:
    prepared = _prepared({"billing": _spread(6, 0, 56)})

    row = _only_row(fix_impact(prepared, _fixes((1, "billing", SHIPPED)), AS_OF))

    # All 6 of 6 after: the ratio has no point estimate and no upper bound.
    assert (row["before"], row["after"]) == (0, 6)
    assert row["ratio"] is None
    assert row["upper"] == float("inf")
    assert row["lower"] == pytest.approx(rate_ratio_interval(0, 6).lower)
    assert row["late_rate_before"] is None
    assert row["median_hours_before"] is None
    assert row["verdict"] == VERDICT_TOO_LITTLE_DATA


def test_min_total_is_a_setting() -> None:
    prepared = _prepared({"billing": _spread(4, -56, 0) + _spread(3, 0, 56)})
    fixes = _fixes((1, "billing", SHIPPED))

    lenient = fix_impact(prepared, fixes, AS_OF, FixImpactSettings(min_total=7))

    assert _only_row(lenient)["verdict"] == VERDICT_NO_CLEAR_CHANGE


def test_window_weeks_is_a_setting() -> None:
    # Two weeks either side: only the escalations within 14 days count.
    prepared = _prepared({"billing": [_days(-20), _days(-10), _days(3), _days(20)]})

    row = _only_row(
        fix_impact(
            prepared,
            _fixes((1, "billing", SHIPPED)),
            AS_OF,
            FixImpactSettings(window_weeks=2),
        )
    )

    assert (row["before"], row["after"]) == (1, 1)
    assert row["after_end"] == SHIPPED + timedelta(weeks=2)


# Too early, not shipped, and the edge of the data -------------------------------------


def test_a_fix_shipped_less_than_a_window_ago_is_too_early() -> None:
    # Three weeks of the after window seen (21 days of 56): 6 escalations in
    # 21 days against 16 in 56 is (6 / 21) / (16 / 56) = 1.0. Escalations at
    # or after as_of are not yet known and are ignored.
    as_of = SHIPPED + timedelta(days=21)
    prepared = _prepared(
        {"billing": _spread(16, -56, 0) + _spread(6, 0, 21) + [_days(21), _days(30)]}
    )

    row = _only_row(fix_impact(prepared, _fixes((1, "billing", SHIPPED)), as_of))

    assert row["after_complete"] is False
    assert (row["before"], row["after"]) == (16, 6)
    assert row["ratio"] == pytest.approx(1.0)
    partial = rate_ratio_interval(16, 6, before_length=56.0, after_length=21.0)
    assert row["upper"] == pytest.approx(partial.upper)
    assert row["verdict"] == VERDICT_TOO_EARLY


def test_too_early_comes_before_too_little_data() -> None:
    prepared = _prepared({"billing": [_days(1)]})
    as_of = SHIPPED + timedelta(days=2)

    row = _only_row(fix_impact(prepared, _fixes((1, "billing", SHIPPED)), as_of))

    assert row["verdict"] == VERDICT_TOO_EARLY


def test_the_after_window_is_complete_exactly_at_its_end() -> None:
    prepared = _prepared({"billing": _spread(30, -56, 0) + _spread(10, 0, 56)})
    fixes = _fixes((1, "billing", SHIPPED))

    at_end = _only_row(fix_impact(prepared, fixes, SHIPPED + WEEKS_8))
    just_before = _only_row(
        fix_impact(prepared, fixes, SHIPPED + WEEKS_8 - ONE_MICROSECOND)
    )

    assert (at_end["after_complete"], at_end["verdict"]) == (True, VERDICT_FEWER)
    assert (just_before["after_complete"], just_before["verdict"]) == (
        False,
        VERDICT_TOO_EARLY,
    )


def test_a_fix_shipped_after_as_of_has_no_after_figures() -> None:
    prepared = _prepared({"billing": _spread(10, -56, 0)})
    as_of = SHIPPED - timedelta(days=1)

    row = _only_row(fix_impact(prepared, _fixes((1, "billing", SHIPPED)), as_of))

    assert row["after"] is None
    assert row["ratio"] is None
    assert row["verdict"] == VERDICT_TOO_EARLY


def test_an_unshipped_fix_has_null_figures() -> None:
    prepared = _prepared({"billing": _spread(10, -56, 56)})

    row = _only_row(fix_impact(prepared, _fixes((1, "billing", None)), AS_OF))

    described = {"fix_id", "title", "trigger_type", "owner", "status", "shipped_at"}
    figures = set(FIX_IMPACT_SCHEMA.names()) - described - {"verdict", "after_complete"}
    assert row["verdict"] == VERDICT_NOT_SHIPPED
    assert row["after_complete"] is False
    assert row["shipped_at"] is None
    assert {name: row[name] for name in figures} == dict.fromkeys(figures)


def test_a_before_window_reaching_past_the_first_escalation_counts_in_full() -> None:
    # The history starts 14 days before the ship date. The 10 escalations in
    # those 14 days count against the whole 56-day window, as 10 after do:
    # ratio 1.0, not (10 / 56) / (10 / 14) = 0.25 and not 4.0 either way.
    prepared = _prepared({"billing": _spread(10, -14, 0) + _spread(10, 0, 56)})

    row = _only_row(fix_impact(prepared, _fixes((1, "billing", SHIPPED)), AS_OF))

    assert row["before_start"] == SHIPPED - WEEKS_8
    assert (row["before"], row["after"]) == (10, 10)
    assert row["ratio"] == pytest.approx(1.0)
    assert row["verdict"] == VERDICT_NO_CLEAR_CHANGE


# Rates either side -------------------------------------------------------------------


def test_late_rate_median_and_recurrence_either_side() -> None:
    # (account, escalated, latency in hours); critical is late beyond 24 h.
    rows = [
        (1, _days(-30), 10),
        (1, _days(-20), 30),
        (2, _days(5), 20),
        (1, _days(6), 40),
    ]
    escalations = pl.DataFrame(
        {
            "account_id": [account for account, _, _ in rows],
            "trigger_type": ["billing"] * 4,
            "severity": ["critical"] * 4,
            "first_signal_at": [at - timedelta(hours=h) for _, at, h in rows],
            "escalated_at": [at for _, at, _ in rows],
        },
        schema_overrides={"first_signal_at": UTC_US, "escalated_at": UTC_US},
    )
    prepared = prepare_escalations(escalations)

    row = _only_row(fix_impact(prepared, _fixes((1, "billing", SHIPPED)), AS_OF))

    # Before: latencies 10 h (on time) and 30 h (late); the second recurs
    # (account 1, 10 days on). After: 20 h and 40 h; account 1 at day 6 recurs
    # on day -20 (26 days back), account 2 does not.
    assert row["late_rate_before"] == pytest.approx(0.5)
    assert row["median_hours_before"] == pytest.approx(20.0)
    assert row["recurrence_rate_before"] == pytest.approx(0.5)
    assert row["late_rate_after"] == pytest.approx(0.5)
    assert row["median_hours_after"] == pytest.approx(30.0)
    assert row["recurrence_rate_after"] == pytest.approx(0.5)


# Shape ------------------------------------------------------------------------------


def test_every_fix_gets_a_row_in_the_given_order() -> None:
    prepared = _prepared({"billing": _spread(30, -56, 56)})
    fixes = _fixes(
        (3, "billing", None),
        (1, "billing", SHIPPED),
        (2, "outage", SHIPPED),
    )

    impact = fix_impact(prepared, fixes, AS_OF)

    assert impact.schema == FIX_IMPACT_SCHEMA
    assert impact.get_column("fix_id").to_list() == [3, 1, 2]
    # A trigger type with no escalations at all has zeros, not an error.
    outage = impact.row(2, named=True)
    assert (outage["before"], outage["after"]) == (0, 0)
    assert outage["others_before"] + outage["others_after"] == 30
    assert set(impact.get_column("verdict")) <= set(VERDICTS)


def test_no_fixes_give_an_empty_frame_with_every_column() -> None:
    prepared = _prepared({"billing": [_days(1)]})

    impact = fix_impact(prepared, _fixes(), AS_OF)

    assert_frame_equal(impact, pl.DataFrame(schema=FIX_IMPACT_SCHEMA))


def test_no_escalations_give_too_little_data() -> None:
    prepared = _prepared({})

    row = _only_row(fix_impact(prepared, _fixes((1, "billing", SHIPPED)), AS_OF))

    assert (row["before"], row["after"], row["others_before"]) == (0, 0, 0)
    assert row["verdict"] == VERDICT_TOO_LITTLE_DATA


def test_ship_dates_all_missing_without_a_type_are_accepted() -> None:
    fixes = _fixes((1, "billing", None)).with_columns(pl.lit(None).alias("shipped_at"))

    impact = fix_impact(_prepared({}), fixes, AS_OF)

    assert impact.get_column("verdict").to_list() == [VERDICT_NOT_SHIPPED]


def test_as_of_must_carry_a_time_zone() -> None:
    with pytest.raises(ValueError, match="as_of"):
        fix_impact(_prepared({}), _fixes(), datetime(2024, 6, 1))


def test_missing_columns_are_named() -> None:
    with pytest.raises(ValueError, match="recurs"):
        fix_impact(_prepared({}).drop("recurs"), _fixes(), AS_OF)
    with pytest.raises(ValueError, match="owner"):
        fix_impact(_prepared({}), _fixes().drop("owner"), AS_OF)


def test_fix_verdict_order() -> None:
    interval = rate_ratio_interval(30, 10)

    assert (
        fix_verdict(interval, shipped=False, after_complete=True, min_total=10)
        == VERDICT_NOT_SHIPPED
    )
    assert (
        fix_verdict(interval, shipped=True, after_complete=False, min_total=10)
        == VERDICT_TOO_EARLY
    )
    assert (
        fix_verdict(interval, shipped=True, after_complete=True, min_total=41)
        == VERDICT_TOO_LITTLE_DATA
    )
    assert (
        fix_verdict(None, shipped=True, after_complete=True, min_total=0)
        == VERDICT_TOO_LITTLE_DATA
    )
    assert (
        fix_verdict(interval, shipped=True, after_complete=True, min_total=40)
        == VERDICT_FEWER
    )


# Weekly volume with fixes -------------------------------------------------------------


def test_weekly_volume_with_fixes_marks_ship_weeks() -> None:
    # SHIPPED is Monday 4 March 2024.
    prepared = _prepared(
        {"billing": [_days(-7), _days(1), _days(15)], "outage": [_days(8)]}
    )
    fixes = _fixes(
        (1, "billing", SHIPPED + timedelta(days=2)),
        (2, "billing", None),
        (3, "outage", SHIPPED),
    )

    weekly, ships = weekly_volume_with_fixes(prepared, fixes, "billing")

    # Weeks of 26 Feb, 4 Mar, 11 Mar (quiet: outage is another type), 18 Mar.
    assert weekly.get_column("week_start").to_list() == [
        date(2024, 2, 26),
        date(2024, 3, 4),
        date(2024, 3, 11),
        date(2024, 3, 18),
    ]
    assert weekly.get_column("escalations").to_list() == [1, 1, 0, 1]
    assert ships.columns == ["fix_id", "title", "status", "shipped_at", "week_start"]
    assert ships.rows() == [
        (1, "Fix 1", "shipped", SHIPPED + timedelta(days=2), date(2024, 3, 4))
    ]


def test_weekly_volume_with_fixes_keeps_ships_inside_the_window() -> None:
    prepared = _prepared({"billing": _spread(10, -30, 30)})
    fixes = _fixes(
        (1, "billing", SHIPPED - timedelta(days=20)),
        (2, "billing", SHIPPED),
    )

    result = weekly_volume_with_fixes(
        prepared, fixes, "billing", start=SHIPPED - timedelta(days=7), end=_days(30)
    )

    assert result.ships.get_column("fix_id").to_list() == [2]
    assert result.weekly.get_column("escalations").sum() == 6
