"""Number and period formatting shared by every page."""

from datetime import datetime, timedelta

MISSING = "—"


def hours(value: float | None) -> str:
    """Hours with one decimal; kept in hours so that deltas read the same way."""
    if value is None:
        return MISSING
    return f"{value:,.1f} h"


def percent(value: float | None) -> str:
    """A share as a percentage with one decimal."""
    if value is None:
        return MISSING
    return f"{value:.1%}"


def count(value: int | None) -> str:
    """An integer with thousands separators."""
    if value is None:
        return MISSING
    return f"{value:,}"


def period(start: datetime, end: datetime) -> str:
    """A half-open UTC window [start, end) as the inclusive days a person reads."""
    last_day = (end - timedelta(microseconds=1)).date()
    return f"{start.date():%d %b %Y} – {last_day:%d %b %Y}"
