"""Calendar or business hours: the latency measure a viewer chose."""

import logging
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from metrics.settings import BusinessCalendar

log = logging.getLogger(__name__)

HOLIDAYS_ENV = "ESCALATION_HEALTH_HOLIDAYS"


@dataclass(frozen=True)
class LatencyMeasure:
    """How latency is counted, and the words that say so beside each figure."""

    business: bool
    unit: str
    description: str


CALENDAR = LatencyMeasure(False, "h", "Calendar hours")
BUSINESS = LatencyMeasure(
    True,
    "business h",
    "Business hours (each team's time zone, Monday–Friday 09:00–17:00, "
    "holidays excluded)",
)


def measure_for(business: bool) -> LatencyMeasure:
    """The measure for the sidebar's choice."""
    return BUSINESS if business else CALENDAR


def parse_holidays(text: str) -> tuple[date, ...]:
    """Dates from a comma- or line-separated list; '#' starts a comment.

    Raises ValueError naming the first entry that is not a YYYY-MM-DD date.
    """
    days: set[date] = set()
    for line in text.splitlines():
        for item in line.split("#", 1)[0].split(","):
            entry = item.strip()
            if not entry:
                continue
            try:
                days.add(date.fromisoformat(entry))
            except ValueError:
                message = f"Holiday {entry!r} is not a date; use YYYY-MM-DD"
                raise ValueError(message) from None
    return tuple(sorted(days))


def configured_calendar() -> BusinessCalendar:
    """The business calendar from ``ESCALATION_HEALTH_HOLIDAYS``.

    The variable holds dates (``2026-12-25,2026-12-26``) or the path of a file
    with one date per line. Unset means no holidays.
    """
    raw = os.environ.get(HOLIDAYS_ENV, "").strip()
    if not raw:
        return BusinessCalendar()
    candidate = Path(raw).expanduser()
    text = candidate.read_text(encoding="utf-8") if candidate.is_file() else raw
    return BusinessCalendar(holidays=parse_holidays(text))
