"""Did a process fix cut escalations? Equal windows either side of its ship date."""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import numpy as np
import numpy.typing as npt
import polars as pl

from metrics.columns import OWNER
from metrics.latency import median_hours
from metrics.lateness import late_rate
from metrics.rate_ratio import RateRatio, rate_ratio_interval, ratio_of_ratios
from metrics.recurrence import recurrence_rate
from metrics.schema import (
    ESCALATED_AT,
    ID,
    IS_LATE,
    LATENCY_HOURS,
    RECURS,
    TRIGGER_TYPE,
    UTC_DATETIME,
    require_columns,
    require_no_nulls,
    require_utc_datetimes,
)
from metrics.volume import WEEK_START, weekly_volume
from metrics.window import window_bounds

VERDICT_FEWER = "fewer escalations"
VERDICT_MORE = "more escalations"
VERDICT_NO_CLEAR_CHANGE = "no clear change"
VERDICT_TOO_EARLY = "too early to tell"
VERDICT_TOO_LITTLE_DATA = "too little data"
VERDICT_NOT_SHIPPED = "not shipped yet"
VERDICTS = (
    VERDICT_FEWER,
    VERDICT_MORE,
    VERDICT_NO_CLEAR_CHANGE,
    VERDICT_TOO_EARLY,
    VERDICT_TOO_LITTLE_DATA,
    VERDICT_NOT_SHIPPED,
)
"""Every verdict :func:`fix_impact` gives, as shown to people."""

TITLE = "title"
STATUS = "status"
SHIPPED_AT = "shipped_at"
FIX_COLUMNS = (ID, TITLE, TRIGGER_TYPE, OWNER, STATUS, SHIPPED_AT)
"""The columns of the fixes frame that :func:`fix_impact` reads."""

FIX_IMPACT_SCHEMA = pl.Schema(
    {
        "fix_id": pl.Int64(),
        TITLE: pl.String(),
        TRIGGER_TYPE: pl.String(),
        OWNER: pl.String(),
        STATUS: pl.String(),
        SHIPPED_AT: UTC_DATETIME,
        "before_start": UTC_DATETIME,
        "after_end": UTC_DATETIME,
        "before": pl.Int64(),
        "after": pl.Int64(),
        "ratio": pl.Float64(),
        "lower": pl.Float64(),
        "upper": pl.Float64(),
        "others_before": pl.Int64(),
        "others_after": pl.Int64(),
        "others_ratio": pl.Float64(),
        "others_lower": pl.Float64(),
        "others_upper": pl.Float64(),
        "ratio_of_ratios": pl.Float64(),
        "verdict": pl.String(),
        "late_rate_before": pl.Float64(),
        "late_rate_after": pl.Float64(),
        "median_hours_before": pl.Float64(),
        "median_hours_after": pl.Float64(),
        "recurrence_rate_before": pl.Float64(),
        "recurrence_rate_after": pl.Float64(),
        "after_complete": pl.Boolean(),
    }
)
"""The columns :func:`fix_impact` returns, in order."""

_PREPARED_COLUMNS = (TRIGGER_TYPE, ESCALATED_AT, IS_LATE, LATENCY_HOURS, RECURS)
_ONE_DAY = timedelta(days=1)


@dataclass(frozen=True)
class FixImpactSettings:
    """How a fix is judged: window length, confidence and the least data to judge on.

    Parameters
    ----------
    window_weeks
        Length of the before and the after window, in weeks of 7 x 24 hours.
    confidence
        Coverage of the rate-ratio intervals, strictly between 0 and 1.
    min_total
        The fewest escalations of the fix's trigger type, before and after
        together, worth a verdict. Below it, or with none before, the verdict is
        "too little data": a handful of escalations cannot show a change, and
        with none before there is no rate to compare against.
    """

    window_weeks: int = 8
    confidence: float = 0.95
    min_total: int = 10

    def __post_init__(self) -> None:
        if isinstance(self.window_weeks, bool) or not (
            isinstance(self.window_weeks, int) and self.window_weeks > 0
        ):
            message = (
                "window_weeks must be a whole number above 0, "
                f"got {self.window_weeks!r}"
            )
            raise ValueError(message)
        if not 0.0 < self.confidence < 1.0:
            message = (
                f"confidence must lie strictly between 0 and 1, got {self.confidence!r}"
            )
            raise ValueError(message)
        if isinstance(self.min_total, bool) or not (
            isinstance(self.min_total, int) and self.min_total >= 0
        ):
            message = f"min_total must be a whole number from 0, got {self.min_total!r}"
            raise ValueError(message)


DEFAULT_FIX_IMPACT_SETTINGS = FixImpactSettings()


def _aware_utc(value: datetime, name: str) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        message = (
            f"{name} must be a timezone-aware datetime, got the naive {value!r}; "
            "attach a timezone, for example datetime(..., tzinfo=UTC)"
        )
        raise ValueError(message)
    return value.astimezone(UTC)


def fix_windows(
    shipped_at: datetime, window_weeks: int
) -> tuple[datetime, datetime, datetime]:
    """The before window [start, shipped_at) and after window [shipped_at, end), in UTC.

    Returns (before_start, shipped_at, after_end), with before_start =
    shipped_at - window_weeks weeks and after_end = shipped_at + window_weeks
    weeks. An escalation exactly at ``shipped_at`` is after the fix.

    Examples
    --------
    >>> shipped = datetime(2024, 3, 1, tzinfo=UTC)
    >>> [bound.date().isoformat() for bound in fix_windows(shipped, 2)]
    ['2024-02-16', '2024-03-01', '2024-03-15']
    """
    shipped = _aware_utc(shipped_at, "shipped_at")
    width = timedelta(weeks=window_weeks)
    return shipped - width, shipped, shipped + width


def fix_verdict(
    interval: RateRatio | None,
    *,
    shipped: bool,
    after_complete: bool,
    min_total: int,
) -> str:
    """The verdict on one fix; the first rule that applies wins.

    1. Not shipped: "not shipped yet".
    2. After window not over: "too early to tell".
    3. No interval, fewer than ``min_total`` escalations before and after
       together, or none before: "too little data".
    4. Interval wholly below 1: "fewer escalations"; wholly above 1: "more
       escalations"; otherwise "no clear change".

    Examples
    --------
    >>> fix_verdict(
    ...     rate_ratio_interval(40, 20), shipped=True, after_complete=True, min_total=10
    ... )
    'fewer escalations'
    """
    if not shipped:
        return VERDICT_NOT_SHIPPED
    if not after_complete:
        return VERDICT_TOO_EARLY
    if (
        interval is None
        or interval.before + interval.after < min_total
        or interval.before == 0
        or interval.lower is None
        or interval.upper is None
    ):
        return VERDICT_TOO_LITTLE_DATA
    if interval.upper < 1.0:
        return VERDICT_FEWER
    if interval.lower > 1.0:
        return VERDICT_MORE
    return VERDICT_NO_CLEAR_CHANGE


_Micros = npt.NDArray[np.int64]
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _epoch_micros(times: pl.Series) -> _Micros:
    return times.dt.epoch("us").to_numpy().astype(np.int64, copy=False)


def _micros_of(instant: datetime) -> int:
    return (instant - _EPOCH) // timedelta(microseconds=1)


class _Timeline:
    """The escalations sorted by time, so that a window is two binary searches away.

    Times are held as microseconds since the epoch in numpy arrays, where a
    binary search costs microseconds. All times serve the counts over every
    trigger type; each trigger type's own rows are sorted once, when a fix
    first asks for them.
    """

    def __init__(self, prepared: pl.DataFrame) -> None:
        rows = prepared.select(_PREPARED_COLUMNS)
        self.micros = _epoch_micros(rows.get_column(ESCALATED_AT).sort())
        self.by_type = rows.partition_by(TRIGGER_TYPE, as_dict=True)
        self.none = rows.clear()
        self.sorted_types: dict[str, tuple[pl.DataFrame, _Micros]] = {}

    def _rows_of(self, trigger_type: str) -> tuple[pl.DataFrame, _Micros]:
        if trigger_type not in self.sorted_types:
            rows = self.by_type.get((trigger_type,), self.none).sort(ESCALATED_AT)
            micros = _epoch_micros(rows.get_column(ESCALATED_AT))
            self.sorted_types[trigger_type] = (rows, micros)
        return self.sorted_types[trigger_type]

    def side(
        self, trigger_type: str, start: datetime, end: datetime, side: str
    ) -> dict[str, Any]:
        """Counts and the trigger type's rates in [start, end), keyed by column."""
        bounds = np.array([_micros_of(start), _micros_of(end)], dtype=np.int64)
        first, stop = np.searchsorted(self.micros, bounds, side="left").tolist()
        rows, micros = self._rows_of(trigger_type)
        own_first, own_stop = np.searchsorted(micros, bounds, side="left").tolist()
        own = rows.slice(own_first, own_stop - own_first)
        rates = own.select(late_rate(), median_hours(), recurrence_rate()).row(
            0, named=True
        )
        return {
            side: own.height,
            f"others_{side}": (stop - first) - own.height,
            f"late_rate_{side}": rates["late_rate"],
            f"median_hours_{side}": rates["median_hours"],
            f"recurrence_rate_{side}": rates["recurrence_rate"],
        }


def _interval_columns(interval: RateRatio, prefix: str) -> dict[str, Any]:
    return {
        f"{prefix}ratio": interval.ratio,
        f"{prefix}lower": interval.lower,
        f"{prefix}upper": interval.upper,
    }


def _judge_fix(
    fix: dict[str, Any],
    timeline: _Timeline,
    as_of: datetime,
    settings: FixImpactSettings,
) -> dict[str, Any]:
    """One output row of :func:`fix_impact` for one row of the fixes frame."""
    row: dict[str, Any] = dict.fromkeys(FIX_IMPACT_SCHEMA.names())
    row.update(
        {
            "fix_id": fix[ID],
            TITLE: fix[TITLE],
            TRIGGER_TYPE: fix[TRIGGER_TYPE],
            OWNER: fix[OWNER],
            STATUS: fix[STATUS],
            SHIPPED_AT: fix[SHIPPED_AT],
            "after_complete": False,
        }
    )
    if fix[SHIPPED_AT] is None:
        row["verdict"] = VERDICT_NOT_SHIPPED
        return row

    before_start, shipped, after_end = fix_windows(
        fix[SHIPPED_AT], settings.window_weeks
    )
    after_complete = after_end <= as_of
    row.update(
        {
            "before_start": before_start,
            "after_end": after_end,
            "after_complete": after_complete,
        }
    )
    # Nothing at or after ``as_of`` is known yet, so a window still running is
    # cut there and the rates are scaled by the part of it already seen.
    before_end = min(shipped, as_of)
    seen_end = min(after_end, as_of)
    if before_end > before_start:
        row.update(timeline.side(fix[TRIGGER_TYPE], before_start, before_end, "before"))
    if seen_end > shipped:
        row.update(timeline.side(fix[TRIGGER_TYPE], shipped, seen_end, "after"))

    fix_interval = None
    if before_end > before_start and seen_end > shipped:
        before_days = (before_end - before_start) / _ONE_DAY
        after_days = (seen_end - shipped) / _ONE_DAY
        fix_interval = rate_ratio_interval(
            row["before"], row["after"], settings.confidence, before_days, after_days
        )
        others_interval = rate_ratio_interval(
            row["others_before"],
            row["others_after"],
            settings.confidence,
            before_days,
            after_days,
        )
        row.update(_interval_columns(fix_interval, ""))
        row.update(_interval_columns(others_interval, "others_"))
        row["ratio_of_ratios"] = ratio_of_ratios(fix_interval, others_interval)

    row["verdict"] = fix_verdict(
        fix_interval,
        shipped=True,
        after_complete=after_complete,
        min_total=settings.min_total,
    )
    return row


def fix_impact(
    prepared: pl.DataFrame,
    fixes: pl.DataFrame,
    as_of: datetime,
    settings: FixImpactSettings = DEFAULT_FIX_IMPACT_SETTINGS,
) -> pl.DataFrame:
    """For each process fix, escalations of its trigger type before and after it.

    The before window is [shipped_at - w, shipped_at) and the after window
    [shipped_at, shipped_at + w), w = ``settings.window_weeks`` weeks: an
    escalation exactly at the ship time counts as after, one exactly w before
    it as before, and one exactly w after it in neither. The ratio is the
    after-rate over the before-rate with an exact interval (see
    :func:`metrics.rate_ratio.rate_ratio_interval`); the same comparison for
    every other trigger type over the same windows shows what changed anyway,
    and ``ratio_of_ratios`` divides the one by the other.

    The history is taken as complete from its start: a before window reaching
    back past the first escalation in ``prepared`` still counts as a full
    window, its early part as a stretch without escalations. Escalations at or
    after ``as_of`` are ignored. While the after window is still running
    (``after_complete`` false) its counts and rates cover only the part up to
    ``as_of``, the ratio is scaled to that shorter length, and the verdict is
    "too early to tell" whatever the figures say.

    Parameters
    ----------
    prepared
        The whole escalation history from
        :func:`metrics.prepare.prepare_escalations` (filters such as a team
        may be applied; a reporting window should not be, since the windows are
        cut here).
    fixes
        Process fixes with ``FIX_COLUMNS``: id, title, trigger_type, owner,
        status and shipped_at (UTC, null while not shipped).
    as_of
        Timezone-aware moment the data runs up to, usually now.
    settings
        Window length, confidence and the least data to judge on.

    Returns
    -------
    pl.DataFrame
        One row per fix, in the order of ``fixes``, with the columns of
        ``FIX_IMPACT_SCHEMA``. The verdict is one of ``VERDICTS``, decided by
        :func:`fix_verdict`. A fix not shipped has null figures; figures with
        nothing to measure are null.

    Examples
    --------
    >>> shipped = datetime(2024, 3, 1, tzinfo=UTC)
    >>> def at(day: int) -> datetime:
    ...     return shipped + timedelta(days=day)
    >>> prepared = pl.DataFrame(
    ...     {
    ...         "trigger_type": ["billing"] * 30,
    ...         "escalated_at": [at(-50 + 2 * n) for n in range(24)]
    ...         + [at(5 * n) for n in range(6)],
    ...         "is_late": [False] * 30,
    ...         "latency_hours": [1.0] * 30,
    ...         "recurs": [False] * 30,
    ...     }
    ... )
    >>> fixes = pl.DataFrame(
    ...     {
    ...         "id": [1],
    ...         "title": ["Route billing disputes to finance"],
    ...         "trigger_type": ["billing"],
    ...         "owner": ["Dana"],
    ...         "status": ["shipped"],
    ...         "shipped_at": [shipped],
    ...     }
    ... )
    >>> impact = fix_impact(prepared, fixes, as_of=at(60))
    >>> impact.select("before", "after", "ratio", "verdict").row(0)
    (24, 6, 0.25, 'fewer escalations')
    """
    as_of_utc = _aware_utc(as_of, "as_of")
    require_columns(prepared, _PREPARED_COLUMNS, needed_by="fix_impact")
    require_utc_datetimes(prepared, [ESCALATED_AT], needed_by="fix_impact")
    require_columns(fixes, FIX_COLUMNS, needed_by="fix_impact")
    fixes = _typed_ship_times(fixes, "fix_impact")
    require_no_nulls(fixes, [ID, TRIGGER_TYPE], needed_by="fix_impact")

    timeline = _Timeline(prepared)
    rows = [
        _judge_fix(fix, timeline, as_of_utc, settings)
        for fix in fixes.select(FIX_COLUMNS).iter_rows(named=True)
    ]
    return pl.DataFrame(rows, schema=FIX_IMPACT_SCHEMA, orient="row")


def _typed_ship_times(fixes: pl.DataFrame, needed_by: str) -> pl.DataFrame:
    """``fixes`` with ``shipped_at`` checked as UTC; an all-null column is typed."""
    if fixes.schema[SHIPPED_AT] == pl.Null:
        # A frame built from rows that all lack a ship date has no time type.
        fixes = fixes.with_columns(pl.col(SHIPPED_AT).cast(UTC_DATETIME))
    require_utc_datetimes(fixes, [SHIPPED_AT], needed_by=needed_by)
    return fixes


class VolumeWithFixes(NamedTuple):
    """Weekly volume of one trigger type and the ship dates of its fixes."""

    weekly: pl.DataFrame
    ships: pl.DataFrame


def weekly_volume_with_fixes(
    prepared: pl.DataFrame,
    fixes: pl.DataFrame,
    trigger_type: str,
    start: datetime | None = None,
    end: datetime | None = None,
) -> VolumeWithFixes:
    """Weekly escalations of one trigger type, and when its fixes shipped, for a chart.

    Returns
    -------
    VolumeWithFixes
        ``weekly``: :func:`metrics.volume.weekly_volume` of the escalations of
        ``trigger_type`` in [start, end) (week_start, escalations, late,
        late_rate; every ISO week, zeros included). ``ships``: the fixes of
        that type shipped inside the window, by ship time: fix_id, title,
        status, shipped_at and week_start (the Monday of the ship week, to
        place a marker on the weekly axis).
    """
    start_utc, end_utc = window_bounds(start, end)
    require_columns(prepared, [TRIGGER_TYPE], needed_by="weekly_volume_with_fixes")
    require_columns(
        fixes,
        [ID, TITLE, TRIGGER_TYPE, STATUS, SHIPPED_AT],
        needed_by="weekly_volume_with_fixes",
    )
    fixes = _typed_ship_times(fixes, "weekly_volume_with_fixes")

    weekly = weekly_volume(
        prepared.filter(pl.col(TRIGGER_TYPE) == trigger_type), start_utc, end_utc
    )
    in_window = [pl.col(SHIPPED_AT).is_not_null(), pl.col(TRIGGER_TYPE) == trigger_type]
    if start_utc is not None:
        in_window.append(pl.col(SHIPPED_AT) >= start_utc)
    if end_utc is not None:
        in_window.append(pl.col(SHIPPED_AT) < end_utc)
    ships = (
        fixes.filter(*in_window)
        .select(
            pl.col(ID).alias("fix_id"),
            TITLE,
            STATUS,
            SHIPPED_AT,
            pl.col(SHIPPED_AT).dt.truncate("1w").dt.date().alias(WEEK_START),
        )
        .sort(SHIPPED_AT, "fix_id")
    )
    return VolumeWithFixes(weekly, ships)
