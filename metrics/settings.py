"""Defaults for every metric rule, in one place, overridable per call."""

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from types import MappingProxyType

DEFAULT_LATE_THRESHOLD_HOURS: Mapping[str, float] = MappingProxyType(
    {"critical": 24.0, "high": 72.0, "medium": 168.0, "low": 336.0}
)
DEFAULT_RECURRENCE_WINDOW_DAYS = 90


@dataclass(frozen=True)
class MetricSettings:
    """The thresholds the health metrics are judged against.

    Parameters
    ----------
    late_threshold_hours
        Per severity, the signal-to-escalation latency in hours above which an
        escalation is late (strictly greater counts as late).
    recurrence_window_days
        How far back, in days, an earlier escalation of the same account and
        trigger type makes a new one a recurrence (inclusive).
    """

    late_threshold_hours: Mapping[str, float] = field(
        default_factory=lambda: DEFAULT_LATE_THRESHOLD_HOURS
    )
    recurrence_window_days: int = DEFAULT_RECURRENCE_WINDOW_DAYS

    def __post_init__(self) -> None:
        if self.recurrence_window_days < 0:
            message = (
                "recurrence_window_days must be zero or more, "
                f"got {self.recurrence_window_days}"
            )
            raise ValueError(message)
        negative = {k: v for k, v in self.late_threshold_hours.items() if v < 0}
        if negative:
            message = f"late thresholds must be zero or more, got {negative}"
            raise ValueError(message)


DEFAULT_SETTINGS = MetricSettings()


DEFAULT_BUSINESS_START_HOUR = 9
DEFAULT_BUSINESS_END_HOUR = 17
MONDAY_TO_FRIDAY = (0, 1, 2, 3, 4)
_HOURS_IN_DAY = 24
_DAYS_IN_WEEK = 7


@dataclass(frozen=True)
class BusinessCalendar:
    """When a team is at work: the hours of a working day, its days and holidays.

    Every team reads the calendar in its own local time zone, so 09:00 means
    09:00 on the team's wall clock and a holiday is the team's local date.

    Parameters
    ----------
    start_hour, end_hour
        The working day runs from ``start_hour``:00 up to ``end_hour``:00 local
        time; 0 <= start_hour < end_hour <= 24.
    holidays
        Dates that are not worked even when they fall on a working weekday.
    weekdays
        The working days of the week, Monday = 0 to Sunday = 6 as in
        :meth:`datetime.date.weekday`.
    """

    start_hour: int = DEFAULT_BUSINESS_START_HOUR
    end_hour: int = DEFAULT_BUSINESS_END_HOUR
    holidays: tuple[date, ...] = ()
    weekdays: tuple[int, ...] = MONDAY_TO_FRIDAY

    def __post_init__(self) -> None:
        whole_hours = all(
            isinstance(hour, int) and not isinstance(hour, bool)
            for hour in (self.start_hour, self.end_hour)
        )
        if not (whole_hours and 0 <= self.start_hour < self.end_hour <= _HOURS_IN_DAY):
            message = (
                "a business day needs whole hours 0 <= start_hour < end_hour <= 24, "
                "got "
                f"start_hour={self.start_hour!r} and end_hour={self.end_hour!r}"
            )
            raise ValueError(message)
        outside_week = [day for day in self.weekdays if day not in range(_DAYS_IN_WEEK)]
        if not self.weekdays or outside_week:
            message = (
                "weekdays must name at least one day from 0 (Monday) to 6 "
                f"(Sunday), got {self.weekdays!r}"
            )
            raise ValueError(message)
        if len(set(self.weekdays)) != len(self.weekdays):
            message = f"weekdays must not repeat a day, got {self.weekdays!r}"
            raise ValueError(message)
        # A datetime is also a date; refuse it so that no time of day is
        # silently dropped from a holiday.
        not_dates = [
            day
            for day in self.holidays
            if not isinstance(day, date) or isinstance(day, datetime)
        ]
        if not_dates:
            message = f"holidays must be dates without a time, got {not_dates!r}"
            raise ValueError(message)

    @property
    def week_mask(self) -> tuple[bool, ...]:
        """Seven flags, Monday first, true for a working day."""
        return tuple(day in self.weekdays for day in range(_DAYS_IN_WEEK))

    @property
    def day_hours(self) -> int:
        """Length of one working day in hours."""
        return self.end_hour - self.start_hour


DEFAULT_BUSINESS_CALENDAR = BusinessCalendar()
