"""Latency in business hours: working time in each team's own local time zone."""

from collections.abc import Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import polars as pl

from metrics.columns import TEAM
from metrics.latency import MICROSECONDS_PER_HOUR
from metrics.lateness import hours_beyond_from, late_from, microseconds_from_hours
from metrics.schema import (
    ESCALATED_AT,
    FIRST_SIGNAL_AT,
    HOURS_BEYOND_THRESHOLD,
    IS_LATE,
    LATENCY_HOURS,
    THRESHOLD_HOURS,
    require_columns,
    require_utc_datetimes,
)
from metrics.settings import DEFAULT_BUSINESS_CALENDAR, BusinessCalendar

DEFAULT_TIME_ZONE = "UTC"
BUSINESS_HOURS = "business_hours"

_MICROSECONDS_PER_DAY = 24 * MICROSECONDS_PER_HOUR
_ZONE = "__time_zone"
_ROW = "__row"
_LATENCY_US = "__business_latency_microseconds"
_PREPARED_COLUMNS = (LATENCY_HOURS, THRESHOLD_HOURS, IS_LATE, HOURS_BEYOND_THRESHOLD)


def check_time_zone(name: str) -> None:
    """Raise a ValueError unless ``name`` is a known IANA time zone."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError, TypeError):
        message = (
            f"unknown time zone {name!r}; use an IANA name such as "
            "'Europe/Berlin' or 'America/New_York'"
        )
        raise ValueError(message) from None


def local_wall_time(instants: pl.Expr, time_zone: str) -> pl.Expr:
    """UTC instants as naive datetimes showing the wall clock in ``time_zone``."""
    return instants.dt.convert_time_zone(time_zone).dt.replace_time_zone(None)


def _worked_earlier_that_day(local: pl.Expr, calendar: BusinessCalendar) -> pl.Expr:
    """Business microseconds on the local day of ``local`` before that moment."""
    # Wall-clock time of day: on a daylight-saving day the working day is still
    # start_hour to end_hour on the clock. Zones change clocks at night, so the
    # hour gained or lost never falls inside working time.
    time_of_day = local.dt.epoch("us") % _MICROSECONDS_PER_DAY
    start = calendar.start_hour * MICROSECONDS_PER_HOUR
    worked = (time_of_day - start).clip(0, calendar.day_hours * MICROSECONDS_PER_HOUR)
    is_working_day = local.dt.date().dt.is_business_day(
        week_mask=calendar.week_mask, holidays=calendar.holidays
    )
    return pl.when(is_working_day).then(worked).otherwise(0)


def business_microseconds_between_local(
    start_local: pl.Expr, end_local: pl.Expr, calendar: BusinessCalendar
) -> pl.Expr:
    """Business microseconds between two naive local wall-clock datetimes, as Int64.

    With F(t) = business time from a fixed origin up to t, the result is
    F(end) - F(start): negative when ``end`` is before ``start``.
    """
    start_day = start_local.dt.date()
    end_day = end_local.dt.date()
    # business_day_count is not antisymmetric when its bounds are reversed, so
    # count over the ordered pair of days and put the sign back.
    whole_days = pl.business_day_count(
        pl.min_horizontal(start_day, end_day),
        pl.max_horizontal(start_day, end_day),
        week_mask=calendar.week_mask,
        holidays=calendar.holidays,
    ).cast(pl.Int64)
    signed_days = pl.when(end_day >= start_day).then(whole_days).otherwise(-whole_days)
    return (
        signed_days * (calendar.day_hours * MICROSECONDS_PER_HOUR)
        + _worked_earlier_that_day(end_local, calendar)
        - _worked_earlier_that_day(start_local, calendar)
    ).cast(pl.Int64)


def business_hours_between(
    start: str | pl.Expr,
    end: str | pl.Expr,
    time_zone: str,
    calendar: BusinessCalendar = DEFAULT_BUSINESS_CALENDAR,
) -> pl.Expr:
    """Business hours from ``start`` to ``end`` in one time zone, as Float64.

    Named "business_hours". Only time inside the calendar's working hours, on
    its working days and not on a holiday, all read on the local wall clock of
    ``time_zone``, is counted.

    Parameters
    ----------
    start, end
        Column names or expressions of UTC datetimes.
    time_zone
        IANA name of the zone whose wall clock and dates the calendar follows.
    calendar
        Working hours, working weekdays and holidays.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> df = pl.DataFrame(
    ...     {
    ...         # Friday 16:00 to Monday 10:00, UTC.
    ...         "start": [datetime(2024, 5, 3, 16, tzinfo=UTC)],
    ...         "end": [datetime(2024, 5, 6, 10, tzinfo=UTC)],
    ...     }
    ... )
    >>> df.select(business_hours_between("start", "end", "UTC")).item()
    2.0
    """
    check_time_zone(time_zone)
    start_expr = pl.col(start) if isinstance(start, str) else start
    end_expr = pl.col(end) if isinstance(end, str) else end
    microseconds = business_microseconds_between_local(
        local_wall_time(start_expr, time_zone),
        local_wall_time(end_expr, time_zone),
        calendar,
    )
    return (microseconds / MICROSECONDS_PER_HOUR).alias(BUSINESS_HOURS)


def team_time_zone(
    team_time_zones: Mapping[str, str], default_time_zone: str = DEFAULT_TIME_ZONE
) -> pl.Expr:
    """Each row's time zone, looked up by ``team``; others get the default.

    A team missing from ``team_time_zones``, or a null team, gets
    ``default_time_zone``.
    """
    return (
        pl.col(TEAM)
        .cast(pl.String)
        .replace_strict(
            dict(team_time_zones), default=default_time_zone, return_dtype=pl.String
        )
        .fill_null(default_time_zone)
    )


def _latency_in_zone(
    part: pl.DataFrame, time_zone: str, calendar: BusinessCalendar
) -> pl.DataFrame:
    """Row number and business latency in microseconds for rows of one zone."""
    # The wall-clock times are materialised once: every later step reads them.
    return part.with_columns(
        local_wall_time(pl.col(FIRST_SIGNAL_AT), time_zone),
        local_wall_time(pl.col(ESCALATED_AT), time_zone),
    ).select(
        _ROW,
        business_microseconds_between_local(
            pl.col(FIRST_SIGNAL_AT), pl.col(ESCALATED_AT), calendar
        ).alias(_LATENCY_US),
    )


def _business_latency_microseconds(
    df: pl.DataFrame,
    team_time_zones: Mapping[str, str],
    calendar: BusinessCalendar,
    default_time_zone: str,
) -> pl.Series:
    """Business microseconds from first signal to escalation, aligned with ``df``."""
    keys = df.select(
        team_time_zone(team_time_zones, default_time_zone).alias(_ZONE),
        FIRST_SIGNAL_AT,
        ESCALATED_AT,
    ).with_row_index(_ROW)
    # A conversion takes one zone for a whole column, so work zone by zone
    # (there are few) and scatter the results back into row order.
    by_zone = keys.partition_by(_ZONE, as_dict=True, include_key=False)
    parts = [
        _latency_in_zone(part, str(zone), calendar) for (zone,), part in by_zone.items()
    ]
    latency = pl.repeat(0, df.height, dtype=pl.Int64, eager=True).alias(_LATENCY_US)
    if not parts:
        return latency
    computed = pl.concat(parts)
    return latency.scatter(computed.get_column(_ROW), computed.get_column(_LATENCY_US))


def with_business_latency(
    prepared: pl.DataFrame,
    team_time_zones: Mapping[str, str],
    calendar: BusinessCalendar = DEFAULT_BUSINESS_CALENDAR,
    default_time_zone: str = DEFAULT_TIME_ZONE,
) -> pl.DataFrame:
    """Measure latency in business hours instead of calendar hours.

    Replaces "latency_hours" with the business hours from ``first_signal_at`` to
    ``escalated_at`` in each team's local time zone, and recomputes "is_late"
    and "hours_beyond_threshold" against the unchanged "threshold_hours", now
    read as business hours. Columns, their order and row order stay as they
    were, so every summary downstream (late rate, percentiles, weekly volume,
    breakdowns) reports business hours without knowing it.

    Parameters
    ----------
    prepared
        Output of :func:`metrics.prepare.prepare_escalations`, with a ``team``
        column.
    team_time_zones
        Team name → IANA time zone its calendar is read in.
    calendar
        Working hours, working weekdays and holidays, shared by every team.
    default_time_zone
        Zone for a team missing from ``team_time_zones`` and for a null team.

    Raises
    ------
    ValueError
        If a column is missing, a timestamp is not a UTC Datetime, or a time
        zone is unknown.

    Examples
    --------
    >>> from datetime import UTC, datetime
    >>> from metrics.prepare import prepare_escalations
    >>> escalations = pl.DataFrame(
    ...     {
    ...         "account_id": [1, 2],
    ...         "trigger_type": ["usage_drop", "usage_drop"],
    ...         "severity": ["critical", "critical"],
    ...         "team": ["Berlin", "New York"],
    ...         # Monday 14:00 to 20:00 UTC for both teams.
    ...         "first_signal_at": [datetime(2024, 1, 15, 14, tzinfo=UTC)] * 2,
    ...         "escalated_at": [datetime(2024, 1, 15, 20, tzinfo=UTC)] * 2,
    ...     }
    ... )
    >>> zones = {"Berlin": "Europe/Berlin", "New York": "America/New_York"}
    >>> business = with_business_latency(prepare_escalations(escalations), zones)
    >>> business.get_column("latency_hours").to_list()
    [2.0, 6.0]
    """
    missing = [name for name in _PREPARED_COLUMNS if name not in prepared.columns]
    if missing:
        message = (
            f"with_business_latency needs a prepared frame, but {missing} are "
            "missing; run metrics.prepare.prepare_escalations first"
        )
        raise ValueError(message)
    require_columns(
        prepared,
        [TEAM, FIRST_SIGNAL_AT, ESCALATED_AT],
        needed_by="with_business_latency",
    )
    require_utc_datetimes(
        prepared, [FIRST_SIGNAL_AT, ESCALATED_AT], needed_by="with_business_latency"
    )
    for zone in [default_time_zone, *team_time_zones.values()]:
        check_time_zone(zone)

    latency_us = _business_latency_microseconds(
        prepared, team_time_zones, calendar, default_time_zone
    )
    threshold_us = microseconds_from_hours(pl.col(THRESHOLD_HOURS))
    return (
        prepared.with_columns(latency_us)
        .with_columns(
            (pl.col(_LATENCY_US) / MICROSECONDS_PER_HOUR).alias(LATENCY_HOURS),
            late_from(pl.col(_LATENCY_US), threshold_us),
            hours_beyond_from(pl.col(_LATENCY_US), threshold_us),
        )
        .drop(_LATENCY_US)
    )
