"""Number and period formatting shared by every page."""

from datetime import datetime, timedelta

MISSING = "—"


def hours(value: float | None, unit: str = "h") -> str:
    """Hours with one decimal; kept in hours so that deltas read the same way."""
    if value is None:
        return MISSING
    return f"{value:,.1f} {unit}"


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


_MARKDOWN_SPECIALS = set("\\`*_{}[]()<>#+-.!|~$:")


def plain(text: str | None) -> str:
    """User text made safe to place inside Markdown: shown as typed, never parsed.

    Escapes every character Markdown or HTML could act on, so that a title such
    as ``[click](http://x)`` or ``<script>`` appears literally.
    """
    if text is None or not text.strip():
        return f"*{MISSING} missing*"
    escaped = "".join(
        f"\\{char}" if char in _MARKDOWN_SPECIALS else char for char in text
    )
    return escaped.replace("\n", "  \n")


def moment(value: datetime | None) -> str:
    """A UTC instant as day and minute."""
    if value is None:
        return MISSING
    return f"{value:%d %b %Y %H:%M}"


def day(value: datetime | None) -> str:
    """A UTC instant as its day."""
    if value is None:
        return MISSING
    return f"{value:%d %b %Y}"
