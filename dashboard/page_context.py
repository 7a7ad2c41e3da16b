"""What every page needs before it draws: the database, the data, the filters.

The entry script calls :func:`prepare_context` once per rerun; pages call
:func:`page_context` to get the result. A problem is shown as a message that
says what to do, and the page stops there: never a traceback.
"""

import logging
from dataclasses import dataclass

import polars as pl
import streamlit as st

from dashboard.data import (
    current_versions,
    database_url,
    filter_options,
    prepared_escalations,
)
from dashboard.filters import Filters, render_sidebar_filters
from dashboard.measure import LatencyMeasure, measure_for
from db.engine import DatabaseError
from metrics.filters import filter_escalations
from metrics.settings import DEFAULT_SETTINGS, MetricSettings
from metrics.window import in_window

log = logging.getLogger(__name__)

_STATE_KEY = "_page_context"


@dataclass(frozen=True)
class PageContext:
    """The prepared history and the viewer's filters for this rerun."""

    url: str
    version: int
    """Bumped by every write: the key of what reads fixes, reviews, decisions."""
    history_version: int
    """Bumped by writes to the escalation history: the key of what reads only it."""
    escalations: pl.DataFrame
    filters: Filters
    measure: LatencyMeasure
    settings: MetricSettings = DEFAULT_SETTINGS

    def chosen(self, history: pl.DataFrame | None = None) -> pl.DataFrame:
        """Escalations matching every sidebar filter, in the chosen period.

        ``history`` defaults to the prepared escalations; pass another prepared
        frame (say, recurrence over another window) to narrow it the same way.
        """
        return in_window(self.matching(history), self.filters.start, self.filters.end)

    def matching(self, history: pl.DataFrame | None = None) -> pl.DataFrame:
        """Escalations matching the dimension filters, over all time."""
        return filter_escalations(
            self.escalations if history is None else history,
            segments=self.filters.segments,
            teams=self.filters.teams,
            trigger_types=self.filters.trigger_types,
            severities=self.filters.severities,
        )


def prepare_context() -> None:
    """Load (cached) data, draw the shared filters, and stash both."""
    url = database_url()
    try:
        version, history_version = current_versions(url)
        options = filter_options(url, history_version)
    except DatabaseError as error:
        log.warning("Database unavailable: %s", error)
        st.session_state[_STATE_KEY] = None
        st.error(
            f"{error}\n\nStart the app with a reachable database "
            "(`DATABASE_URL`), then reload this page.",
            icon=":material/database:",
        )
        st.stop()

    filters = render_sidebar_filters(options)
    if filters is None:
        st.session_state[_STATE_KEY] = None
        st.warning("Fix the period in the sidebar to see figures.")
        st.stop()
    try:
        escalations = prepared_escalations(url, history_version, filters.business_hours)
    except ValueError as error:
        # Bad configuration (a holiday that is not a date, an unknown time zone).
        st.session_state[_STATE_KEY] = None
        st.error(f"{error}. Fix the setting and reload.", icon=":material/settings:")
        st.stop()
    st.session_state[_STATE_KEY] = PageContext(
        url,
        version,
        history_version,
        escalations,
        filters,
        measure_for(filters.business_hours),
    )


def page_context() -> PageContext:
    """The context prepared by the entry script for this rerun."""
    context = st.session_state.get(_STATE_KEY)
    if context is None:
        st.error("This page must be opened through the app's navigation.")
        st.stop()
    return context  # type: ignore[no-any-return]
