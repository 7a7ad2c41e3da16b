"""The weekly repair-review agenda: what the leaders should look at this week.

Five parts, each a small frame: the health figures for the period against the
period before, late or recurring escalations that no fix answers yet, open fixes
due soon or overdue, shipped fixes whose effect can now be judged, and
escalations raised early enough to be worth recognising.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import MAXYEAR, MINYEAR, UTC, date, datetime, timedelta
from types import MappingProxyType
from typing import Any

import polars as pl

from metrics.columns import ESCALATION_ID, OWNER, RAISED_VIA, TEAM
from metrics.fix_impact import (
    DEFAULT_FIX_IMPACT_SETTINGS,
    SHIPPED_AT,
    STATUS,
    TITLE,
    FixImpactSettings,
    fix_impact,
)
from metrics.latency import MICROSECONDS_PER_HOUR
from metrics.lateness import microseconds_from_hours
from metrics.schema import (
    ESCALATED_AT,
    HOURS_BEYOND_THRESHOLD,
    ID,
    IS_LATE,
    LATENCY_HOURS,
    RECURS,
    SEVERITY,
    THRESHOLD_HOURS,
    TRIGGER_TYPE,
    UTC_DATETIME,
    require_columns,
    require_utc_datetimes,
)
from metrics.summary import health_summary
from metrics.volume import weekly_volume
from metrics.window import in_window, previous_period

EXTERNAL_ID = "external_id"
ACCOUNT_NAME = "account_name"
DUE_AT = "due_at"
FIX_ID = "fix_id"
REASON = "reason"
OVERDUE = "overdue"
DAYS_OVERDUE = "days_overdue"
DAYS_WAITING = "days_waiting"
SHARE_OF_THRESHOLD = "share_of_threshold"

REASON_LATE = "late"
REASON_RECURRING = "recurring"
REASON_BOTH = "late and recurring"

# Fix statuses, as stored in process_fix.status.
PROPOSED = "proposed"
IN_PROGRESS = "in_progress"
SHIPPED = "shipped"
VERIFIED = "verified"
ABANDONED = "abandoned"
OPEN_FIX_STATUSES = (PROPOSED, IN_PROGRESS)
"""Statuses of a fix still being worked on, the ones that can fall due."""

DEFAULT_LOOKBACK_DAYS = 7
DEFAULT_TREND_WEEKS = 12

UNANSWERED_COLUMNS = (
    ID,
    EXTERNAL_ID,
    ACCOUNT_NAME,
    TRIGGER_TYPE,
    SEVERITY,
    TEAM,
    OWNER,
    ESCALATED_AT,
    LATENCY_HOURS,
    HOURS_BEYOND_THRESHOLD,
    IS_LATE,
    RECURS,
)
"""The prepared columns :func:`unanswered_escalations` reads and returns."""

DUE_COLUMNS = (ID, TITLE, TRIGGER_TYPE, OWNER, STATUS, DUE_AT)
"""The fixes columns :func:`fixes_due` reads and returns."""

TO_JUDGE_COLUMNS = (
    FIX_ID,
    TITLE,
    TRIGGER_TYPE,
    OWNER,
    STATUS,
    SHIPPED_AT,
    "after_end",
    "before",
    "after",
    "ratio",
    "lower",
    "upper",
    "verdict",
)
"""The columns of the fix-impact frame that :func:`fixes_to_judge` keeps."""

EARLY_COLUMNS = (
    ID,
    EXTERNAL_ID,
    ACCOUNT_NAME,
    TRIGGER_TYPE,
    SEVERITY,
    TEAM,
    OWNER,
    RAISED_VIA,
    ESCALATED_AT,
    LATENCY_HOURS,
    THRESHOLD_HOURS,
)
"""The prepared columns :func:`early_escalations` reads and returns."""

AGENDA_COLUMNS = tuple(dict.fromkeys((*UNANSWERED_COLUMNS, *EARLY_COLUMNS)))
"""Every prepared column :func:`build_agenda` needs, for a loader to fetch."""

_MICROSECONDS_PER_DAY = 24 * MICROSECONDS_PER_HOUR


def _check_days(due_soon_days: int) -> None:
    if isinstance(due_soon_days, bool) or not (
        isinstance(due_soon_days, int) and due_soon_days >= 0
    ):
        message = f"due_soon_days must be a whole number from 0, got {due_soon_days!r}"
        raise ValueError(message)


@dataclass(frozen=True)
class AgendaSettings:
    """What counts as early, how far ahead "due soon" looks, and how fixes are judged.

    Parameters
    ----------
    early_share
        An escalation is early, worth recognising, when its latency is at most
        this share of its severity's late threshold (inclusive); from 0 to 1.
    due_soon_days
        An open fix is listed when it is due before ``as_of`` plus this many
        days (exclusive), or is already overdue.
    fix_impact
        Window length, confidence and the least data for judging shipped fixes.
    """

    early_share: float = 0.25
    due_soon_days: int = 7
    fix_impact: FixImpactSettings = DEFAULT_FIX_IMPACT_SETTINGS

    def __post_init__(self) -> None:
        if isinstance(self.early_share, bool) or not (
            isinstance(self.early_share, int | float) and 0.0 <= self.early_share <= 1.0
        ):
            message = f"early_share must lie from 0 to 1, got {self.early_share!r}"
            raise ValueError(message)
        _check_days(self.due_soon_days)


DEFAULT_AGENDA_SETTINGS = AgendaSettings()


def _aware_utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        message = (
            f"{name} must be a timezone-aware datetime, got the naive {value!r}; "
            "attach a timezone, for example datetime(..., tzinfo=UTC)"
        )
        raise ValueError(message)
    return value.astimezone(UTC)


def _period_bounds(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    """Bounds in UTC; unlike a reporting window, an empty period is allowed."""
    start_utc = _aware_utc(start, "start")
    end_utc = _aware_utc(end, "end")
    if start_utc > end_utc:
        message = (
            f"the period start {start_utc.isoformat()} is after its end "
            f"{end_utc.isoformat()}"
        )
        raise ValueError(message)
    return start_utc, end_utc


def _in_period(df: pl.DataFrame, start: datetime, end: datetime) -> pl.DataFrame:
    """Rows with ``escalated_at`` in [start, end); none when start equals end."""
    if start == end:
        # A review held today with nothing since is an empty period, not an
        # error; in_window refuses it because an empty window is usually a slip.
        require_columns(df, [ESCALATED_AT], needed_by="the agenda")
        require_utc_datetimes(df, [ESCALATED_AT], needed_by="the agenda")
        return df.clear()
    return in_window(df, start, end)


def review_period(
    last_review_on: date | None, as_of: datetime
) -> tuple[datetime, datetime]:
    """The period "since the last review": [its day at 00:00 UTC, as_of).

    The review's own day is inside, so an escalation raised on the morning of
    the review, possibly after it met, is not missed; it may be seen twice. With
    no review recorded the period is the last 7 days, [as_of - 7 days, as_of).
    A review dated on the day of ``as_of`` at midnight, or later, gives the
    empty period [as_of, as_of).

    Raises ValueError for a naive ``as_of`` or a datetime passed as the review
    day.

    Examples
    --------
    >>> as_of = datetime(2026, 5, 14, 9, 30, tzinfo=UTC)
    >>> [bound.isoformat() for bound in review_period(date(2026, 5, 11), as_of)]
    ['2026-05-11T00:00:00+00:00', '2026-05-14T09:30:00+00:00']
    >>> review_period(None, as_of)[0].isoformat()
    '2026-05-07T09:30:00+00:00'
    """
    end = _aware_utc(as_of, "as_of")
    if last_review_on is None:
        return end - timedelta(days=DEFAULT_LOOKBACK_DAYS), end
    if isinstance(last_review_on, datetime):
        message = (
            f"last_review_on must be a date without a time, got {last_review_on!r}"
        )
        raise ValueError(message)
    start = datetime(
        last_review_on.year, last_review_on.month, last_review_on.day, tzinfo=UTC
    )
    if start > end:
        # A review held early in the day east of UTC can carry a date that has
        # not begun in UTC yet; nothing has happened since it.
        return end, end
    return start, end


def iso_weeks_in(year: int) -> int:
    """How many ISO weeks ``year`` has: 52, or 53 when it has a week 53."""
    # 28 December always falls in the last ISO week of its year.
    return date(year, 12, 28).isocalendar().week


def iso_week_period(year: int, week: int) -> tuple[datetime, datetime]:
    """ISO week ``week`` of ``year`` as [its Monday 00:00 UTC, the next Monday).

    Raises ValueError, naming the weeks the year has, for a week that does not
    exist (week 53 exists only in years with 53 ISO weeks).

    Examples
    --------
    >>> [bound.date().isoformat() for bound in iso_week_period(2026, 53)]
    ['2026-12-28', '2027-01-04']
    """
    whole = all(
        isinstance(value, int) and not isinstance(value, bool) for value in (year, week)
    )
    if not whole or not MINYEAR <= year < MAXYEAR:
        message = (
            f"an ISO week needs a whole year from {MINYEAR} to {MAXYEAR - 1} and a "
            f"whole week number, got year {year!r} and week {week!r}"
        )
        raise ValueError(message)
    weeks = iso_weeks_in(year)
    if not 1 <= week <= weeks:
        message = f"{year} has no ISO week {week}; its weeks run from 1 to {weeks}"
        raise ValueError(message)
    monday = date.fromisocalendar(year, week, 1)
    start = datetime(monday.year, monday.month, monday.day, tzinfo=UTC)
    return start, start + timedelta(weeks=1)


def trend_window(
    end: datetime, weeks: int = DEFAULT_TREND_WEEKS
) -> tuple[datetime, datetime]:
    """The ``weeks`` whole ISO weeks up to ``end``, for a weekly chart.

    Returns [Monday 00:00 UTC of the week ``weeks - 1`` before the one holding
    the instant just before ``end``, end): the last week may be partial.
    """
    end_utc = _aware_utc(end, "end")
    if isinstance(weeks, bool) or not (isinstance(weeks, int) and weeks > 0):
        message = f"weeks must be a whole number above 0, got {weeks!r}"
        raise ValueError(message)
    last = (end_utc - timedelta(microseconds=1)).date()
    monday = last - timedelta(days=last.weekday()) - timedelta(weeks=weeks - 1)
    return datetime(monday.year, monday.month, monday.day, tzinfo=UTC), end_utc


def unanswered_escalations(
    prepared: pl.DataFrame, links: pl.DataFrame, start: datetime, end: datetime
) -> pl.DataFrame:
    """Late or recurring escalations in [start, end) that no live fix answers.

    An escalation is answered when it is linked to at least one fix whose
    status is anything but "abandoned": a fix being worked on, shipped or
    verified answers it; an abandoned one does not.

    Parameters
    ----------
    prepared
        The prepared history (see :func:`metrics.prepare.prepare_escalations`)
        with ``UNANSWERED_COLUMNS``.
    links
        One row per link between a fix and an escalation, with
        ``escalation_id`` and the linked fix's ``status``.
    start, end
        Timezone-aware bounds of the period on ``escalated_at``; start may
        equal end, an empty period.

    Returns
    -------
    pl.DataFrame
        ``UNANSWERED_COLUMNS`` and ``reason`` ("late", "recurring" or "late and
        recurring"); late escalations first, the most overdue first, then the
        rest nearest to late first, ties by ``escalated_at`` and ``id``.
    """
    start_utc, end_utc = _period_bounds(start, end)
    require_columns(prepared, UNANSWERED_COLUMNS, needed_by="unanswered_escalations")
    require_columns(links, [ESCALATION_ID, STATUS], needed_by="unanswered_escalations")

    answered = (
        links.filter(pl.col(STATUS) != ABANDONED)
        .select(pl.col(ESCALATION_ID).cast(pl.Int64).alias(ID))
        .unique()
    )
    return (
        _in_period(prepared.select(UNANSWERED_COLUMNS), start_utc, end_utc)
        .filter(pl.col(IS_LATE) | pl.col(RECURS))
        .join(answered, on=ID, how="anti")
        .with_columns(
            pl.when(pl.col(IS_LATE) & pl.col(RECURS))
            .then(pl.lit(REASON_BOTH))
            .when(pl.col(IS_LATE))
            .then(pl.lit(REASON_LATE))
            .otherwise(pl.lit(REASON_RECURRING))
            .alias(REASON)
        )
        .sort(
            [IS_LATE, HOURS_BEYOND_THRESHOLD, ESCALATED_AT, ID],
            descending=[True, True, False, False],
        )
    )


def _typed_times(frame: pl.DataFrame, column: str, needed_by: str) -> pl.DataFrame:
    """``frame`` with ``column`` checked as UTC; an all-null column is typed."""
    if frame.schema[column] == pl.Null:
        frame = frame.with_columns(pl.col(column).cast(UTC_DATETIME))
    require_utc_datetimes(frame, [column], needed_by=needed_by)
    return frame


def fixes_due(
    fixes: pl.DataFrame, as_of: datetime, due_soon_days: int = 7
) -> pl.DataFrame:
    """Open fixes overdue or due within ``due_soon_days`` of ``as_of``.

    A fix is open while "proposed" or "in_progress". It is listed when its
    ``due_at`` is before ``as_of`` + ``due_soon_days`` days (a fix due exactly
    then is not), and overdue once its due day is over: ``due_at`` + 1 day
    strictly before ``as_of`` (``due_at`` is the first instant of the due day).
    Open fixes without a due date are never listed.

    Returns
    -------
    pl.DataFrame
        ``DUE_COLUMNS``, then overdue (Boolean) and days_overdue (Float64: days
        from due_at to as_of, negative while not yet due); the most overdue
        first, then the soonest due, ties by id.
    """
    as_of_utc = _aware_utc(as_of, "as_of")
    _check_days(due_soon_days)
    require_columns(fixes, DUE_COLUMNS, needed_by="fixes_due")
    fixes = _typed_times(fixes, DUE_AT, "fixes_due")

    horizon = as_of_utc + timedelta(days=due_soon_days)
    # A due date names a day and due_at holds its first instant: the fix is
    # late only once that whole day has passed.
    deadline = pl.col(DUE_AT) + timedelta(days=1)
    late_by_us = pl.lit(as_of_utc, dtype=UTC_DATETIME).dt.epoch(
        "us"
    ) - deadline.dt.epoch("us")
    return (
        fixes.select(DUE_COLUMNS)
        .filter(
            pl.col(STATUS).is_in(OPEN_FIX_STATUSES),
            pl.col(DUE_AT).is_not_null(),
            pl.col(DUE_AT) < horizon,
        )
        .with_columns(
            (deadline < as_of_utc).alias(OVERDUE),
            (late_by_us / _MICROSECONDS_PER_DAY).alias(DAYS_OVERDUE),
        )
        # The earliest due date is both the most overdue and the soonest due.
        .sort(DUE_AT, ID)
    )


def fixes_to_judge(impact: pl.DataFrame, as_of: datetime) -> pl.DataFrame:
    """Shipped fixes whose after window is over, so the review can judge them.

    A fix qualifies with status "shipped" (a verified fix has been judged
    already) and an after window complete by ``as_of``: ``after_complete``
    true and ``after_end`` at or before ``as_of``.

    Parameters
    ----------
    impact
        The frame from :func:`metrics.fix_impact.fix_impact`, best computed
        with the same ``as_of``.
    as_of
        Timezone-aware moment the agenda is for.

    Returns
    -------
    pl.DataFrame
        ``TO_JUDGE_COLUMNS`` and days_waiting (Float64: days since the after
        window ended); the longest waiting first, ties by fix_id.
    """
    as_of_utc = _aware_utc(as_of, "as_of")
    require_columns(
        impact, (*TO_JUDGE_COLUMNS, "after_complete"), needed_by="fixes_to_judge"
    )

    waited_us = pl.lit(as_of_utc, dtype=UTC_DATETIME).dt.epoch("us") - pl.col(
        "after_end"
    ).dt.epoch("us")
    return (
        impact.filter(
            pl.col(STATUS) == SHIPPED,
            pl.col("after_complete"),
            pl.col("after_end") <= as_of_utc,
        )
        .select(TO_JUDGE_COLUMNS)
        .with_columns((waited_us / _MICROSECONDS_PER_DAY).alias(DAYS_WAITING))
        .sort("after_end", FIX_ID)
    )


def early_escalations(
    prepared: pl.DataFrame, start: datetime, end: datetime, early_share: float = 0.25
) -> pl.DataFrame:
    """Escalations in [start, end) raised within ``early_share`` of their threshold.

    Early means 0 <= latency <= early_share x the severity's late threshold,
    compared in whole microseconds so that exactly on the share counts as
    early.

    Returns
    -------
    pl.DataFrame
        ``EARLY_COLUMNS`` and share_of_threshold (latency ÷ threshold; 0 for a
        zero latency against a zero threshold); the smallest share first, ties
        by latency, ``escalated_at`` and id.

    Examples
    --------
    >>> signal = datetime(2026, 5, 11, tzinfo=UTC)
    >>> prepared = pl.DataFrame(
    ...     {
    ...         "id": [1, 2],
    ...         "external_id": ["ESC-1", "ESC-2"],
    ...         "account_name": ["Acme", "Globex"],
    ...         "trigger_type": ["usage_drop", "usage_drop"],
    ...         "severity": ["critical", "critical"],
    ...         "team": ["Atlas", "Atlas"],
    ...         "owner": ["Kim", "Lee"],
    ...         "raised_via": ["proactive_team", "customer_request"],
    ...         "escalated_at": [signal + timedelta(hours=h) for h in (6, 7)],
    ...         "latency_hours": [6.0, 7.0],
    ...         "threshold_hours": [24.0, 24.0],
    ...     }
    ... )
    >>> early = early_escalations(prepared, signal, signal + timedelta(days=1))
    >>> early.select("external_id", "share_of_threshold").rows()
    [('ESC-1', 0.25)]
    """
    start_utc, end_utc = _period_bounds(start, end)
    if isinstance(early_share, bool) or not 0.0 <= early_share <= 1.0:
        message = f"early_share must lie from 0 to 1, got {early_share!r}"
        raise ValueError(message)
    require_columns(prepared, EARLY_COLUMNS, needed_by="early_escalations")

    latency_us = microseconds_from_hours(pl.col(LATENCY_HOURS))
    limit_us = microseconds_from_hours(pl.col(THRESHOLD_HOURS) * early_share)
    return (
        _in_period(prepared.select(EARLY_COLUMNS), start_utc, end_utc)
        .filter(latency_us >= 0, latency_us <= limit_us)
        .with_columns(
            pl.when(pl.col(THRESHOLD_HOURS) > 0)
            .then(pl.col(LATENCY_HOURS) / pl.col(THRESHOLD_HOURS))
            .otherwise(0.0)
            .alias(SHARE_OF_THRESHOLD)
        )
        .sort(SHARE_OF_THRESHOLD, LATENCY_HOURS, ESCALATED_AT, ID)
    )


def links_with_status(links: pl.DataFrame, fixes: pl.DataFrame) -> pl.DataFrame:
    """Each fix-escalation link with its fix's status: escalation_id, fix_id, status.

    A link to a fix missing from ``fixes`` is dropped: with no status it
    answers nothing.
    """
    require_columns(links, [FIX_ID, ESCALATION_ID], needed_by="links_with_status")
    require_columns(fixes, [ID, STATUS], needed_by="links_with_status")
    statuses = fixes.select(pl.col(ID).cast(pl.Int64).alias(FIX_ID), STATUS)
    return (
        links.select(
            pl.col(ESCALATION_ID).cast(pl.Int64),
            pl.col(FIX_ID).cast(pl.Int64),
        )
        .join(statuses, on=FIX_ID, how="inner")
        .sort(ESCALATION_ID, FIX_ID)
    )


@dataclass(frozen=True)
class Agenda:
    """Everything the weekly repair review goes through, for one period.

    Attributes
    ----------
    period
        (start, end) in UTC, the half-open period [start, end) under review.
    previous_period
        The equally long period just before it; empty when ``period`` is.
    as_of
        The moment due dates and fix windows are judged at.
    last_review_on
        The day of the latest recorded review, None if there is none.
    kpis, previous_kpis
        :func:`metrics.summary.health_summary` for each period.
    unanswered, due, to_judge, early
        The frames of :func:`unanswered_escalations`, :func:`fixes_due`,
        :func:`fixes_to_judge` and :func:`early_escalations`.
    counts
        escalations, late_or_recurring (in the period), unanswered, due,
        overdue, to_judge and early.
    settings
        The settings the agenda was built with.
    """

    period: tuple[datetime, datetime]
    previous_period: tuple[datetime, datetime]
    as_of: datetime
    last_review_on: date | None
    kpis: Mapping[str, Any]
    previous_kpis: Mapping[str, Any]
    unanswered: pl.DataFrame
    due: pl.DataFrame
    to_judge: pl.DataFrame
    early: pl.DataFrame
    counts: Mapping[str, int]
    settings: AgendaSettings = field(default=DEFAULT_AGENDA_SETTINGS)


def build_agenda(
    prepared: pl.DataFrame,
    fixes: pl.DataFrame,
    links: pl.DataFrame,
    last_review_on: date | None,
    as_of: datetime,
    *,
    settings: AgendaSettings = DEFAULT_AGENDA_SETTINGS,
    period: tuple[datetime, datetime] | None = None,
) -> Agenda:
    """The repair-review agenda for a period, by default since the last review.

    Parameters
    ----------
    prepared
        The whole prepared history (not cut to the period: recurrence and the
        fix windows look back before it), with ``AGENDA_COLUMNS``.
    fixes
        Every process fix: id, title, trigger_type, owner, status, due_at and
        shipped_at (UTC).
    links
        Fix-escalation links: fix_id and escalation_id.
    last_review_on
        The day of the latest recorded review, or None.
    as_of
        Timezone-aware moment the agenda is for, usually now: the end of the
        default period, and the moment due dates and fix windows are judged at.
    settings
        What counts as early, how far ahead due dates look, how fixes are judged.
    period
        (start, end) to review instead of :func:`review_period`, such as an ISO
        week from :func:`iso_week_period`.
    """
    as_of_utc = _aware_utc(as_of, "as_of")
    start, end = _period_bounds(
        *(period if period is not None else review_period(last_review_on, as_of_utc))
    )
    before = previous_period(start, end) if start < end else (start, start)

    current = _in_period(prepared, start, end)
    kpis = health_summary(current)
    previous_kpis = health_summary(_in_period(prepared, *before))

    unanswered = unanswered_escalations(
        prepared, links_with_status(links, fixes), start, end
    )
    due = fixes_due(fixes, as_of_utc, settings.due_soon_days)
    impact = fix_impact(prepared, fixes, as_of_utc, settings.fix_impact)
    to_judge = fixes_to_judge(impact, as_of_utc)
    early = early_escalations(prepared, start, end, settings.early_share)

    counts = {
        "escalations": kpis["escalations"],
        "late_or_recurring": current.filter(pl.col(IS_LATE) | pl.col(RECURS)).height,
        "unanswered": unanswered.height,
        "due": due.height,
        "overdue": due.filter(pl.col(OVERDUE)).height,
        "to_judge": to_judge.height,
        "early": early.height,
    }
    return Agenda(
        period=(start, end),
        previous_period=before,
        as_of=as_of_utc,
        last_review_on=last_review_on,
        kpis=MappingProxyType(kpis),
        previous_kpis=MappingProxyType(previous_kpis),
        unanswered=unanswered,
        due=due,
        to_judge=to_judge,
        early=early,
        counts=MappingProxyType(counts),
        settings=settings,
    )


def preread_trend(prepared: pl.DataFrame, as_of: datetime) -> pl.DataFrame:
    """Weekly volume and late rate over the thirteen weeks before ``as_of``."""
    start = as_of - timedelta(weeks=13)
    return weekly_volume(in_window(prepared, start, as_of), start, as_of)
