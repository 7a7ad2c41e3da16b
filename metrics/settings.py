"""Defaults for every metric rule, in one place, overridable per call."""

from collections.abc import Mapping
from dataclasses import dataclass, field
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
