"""The sidebar filters every page shares, kept in the URL query string."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import streamlit as st

from dashboard import format as fmt

DEFAULT_PERIOD_DAYS = 91  # thirteen weeks: a quarter of weekly reviews
SEVERITY_ORDER = ("critical", "high", "medium", "low")


@dataclass(frozen=True)
class Filters:
    """What the viewer chose: a half-open UTC period and dimension choices."""

    start: datetime
    end: datetime
    segments: tuple[str, ...] = ()
    teams: tuple[str, ...] = ()
    trigger_types: tuple[str, ...] = ()
    severities: tuple[str, ...] = ()
    business_hours: bool = False

    def describe(self) -> str:
        """One Markdown line naming the period and every narrowing choice.

        Segment and team names come from the data, so each is escaped.
        """
        parts = [fmt.period(self.start, self.end)]
        for label, values in (
            ("segment", self.segments),
            ("team", self.teams),
            ("trigger", self.trigger_types),
            ("severity", self.severities),
        ):
            if values:
                parts.append(f"{label}: {', '.join(map(fmt.plain, values))}")
        return " · ".join(parts)

    @property
    def narrowed(self) -> bool:
        """Whether any dimension filter is set."""
        return bool(
            self.segments or self.teams or self.trigger_types or self.severities
        )


def day_start(day: date) -> datetime:
    """Midnight UTC at the start of ``day``."""
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


def today_utc() -> date:
    """Today's date in UTC, the calendar the whole app reports in."""
    return datetime.now(UTC).date()


def render_sidebar_filters(options: dict[str, list[str]]) -> Filters | None:
    """Draw the shared filters; None when the chosen period is impossible."""
    today = today_utc()
    sidebar = st.sidebar
    sidebar.header("Filters")
    first = sidebar.date_input(
        "From",
        value=today - timedelta(days=DEFAULT_PERIOD_DAYS - 1),
        key="from",
        bind="query-params",
        help="First day of the period (UTC), included.",
    )
    last = sidebar.date_input(
        "To",
        value=today,
        key="to",
        bind="query-params",
        help="Last day of the period (UTC), included.",
    )
    severities = [s for s in SEVERITY_ORDER if s in options.get("severity", [])]
    chosen = {
        name: tuple(
            sidebar.multiselect(
                label,
                values,
                key=name,
                bind="query-params",
                placeholder="All",
            )
        )
        for name, label, values in (
            ("segment", "Segment", options.get("segment", [])),
            ("team", "Team", options.get("team", [])),
            ("trigger", "Trigger type", options.get("trigger_type", [])),
            ("severity", "Severity", severities),
        )
    }
    business_hours = sidebar.toggle(
        "Business hours",
        key="business",
        bind="query-params",
        help="Count latency only Monday–Friday 09:00–17:00 in each team's time "
        "zone, holidays excluded. Late thresholds are then read in business hours.",
    )
    sidebar.caption("Filters are kept in the address bar: copy it to share this view.")

    if not isinstance(first, date) or not isinstance(last, date):
        sidebar.error("Choose both a From and a To day.")
        return None
    if first > last:
        sidebar.error(f"From ({first:%d %b %Y}) is after To ({last:%d %b %Y}).")
        return None
    return Filters(
        start=day_start(first),
        end=day_start(last + timedelta(days=1)),
        segments=chosen["segment"],
        teams=chosen["team"],
        trigger_types=chosen["trigger"],
        severities=chosen["severity"],
        business_hours=business_hours,
    )
