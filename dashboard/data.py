"""Cached loaders: the only place where the app touches the database.

Caches are keyed on small values (the database URL and its data version), never
on frames: Streamlit hashes a frame argument from a sample of its rows and can
return a stale result. Every write bumps the data version in its own
transaction, so the next rerun reloads exactly once and nothing else does.
"""

import logging

import polars as pl
import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from dashboard.measure import configured_calendar
from db.engine import DatabaseError, check_connection, create_db_engine
from db.engine import default_database_url as _default_url
from db.fixes import load_fix_history, load_fix_links, load_reviews
from db.migrate import upgrade
from db.queries import (
    PACKET_FIELDS,
    load_escalations,
    load_filter_options,
    load_fixes,
    load_level_changes,
    load_team_time_zones,
)
from db.version import read_data_version
from metrics.business_hours import with_business_latency
from metrics.level_shift import with_structural_changes
from metrics.prepare import prepare_escalations
from metrics.recurrence_views import with_recurrence_window
from metrics.settings import DEFAULT_SETTINGS

log = logging.getLogger(__name__)

# The columns the shared pages need; wide packet text stays in the database.
OVERVIEW_COLUMNS = (
    "id",
    "external_id",
    "account_id",
    "trigger_type",
    "severity",
    "first_signal_at",
    "escalated_at",
    "resolved_at",
    "status",
    "owner",
    "raised_via",
    "account_name",
    "segment",
    "team",
    *PACKET_FIELDS,
)


def database_url() -> str:
    """The URL the app reads: ``DATABASE_URL`` or the embedded SQLite file."""
    return _default_url()


@st.cache_resource(show_spinner="Connecting to the database…")
def get_engine(url: str) -> Engine:
    """One engine per URL for the whole server, schema brought up to date."""
    engine = create_db_engine(url)
    check_connection(engine)
    try:
        upgrade(engine)
    except SQLAlchemyError as error:
        first_line = str(error).strip().splitlines()[0]
        message = f"Cannot bring the database schema up to date: {first_line}"
        raise DatabaseError(message) from error
    return engine


def current_data_version(url: str) -> int:
    """Read the data version; one tiny query per rerun."""
    with get_engine(url).connect() as connection:
        return read_data_version(connection=connection)


@st.cache_resource(show_spinner="Loading the escalation history…", max_entries=2)
def raw_escalations(url: str, version: int) -> pl.DataFrame:
    """The escalation columns the pages read, straight from the database.

    Cached as a resource: every rerun gets the same frame without copying it,
    so callers must never mutate it (polars frames are immutable anyway).
    ``version`` is part of the key only; it makes a write visible at once.
    """
    del version
    with get_engine(url).connect() as connection:
        return load_escalations(connection=connection, columns=OVERVIEW_COLUMNS)


@st.cache_resource(show_spinner="Working out latency and lateness…", max_entries=4)
def prepared_escalations(url: str, version: int, business_hours: bool) -> pl.DataFrame:
    """All escalations with latency, lateness and recurrence worked out.

    With ``business_hours`` the latency counts only each team's working hours
    and lateness is judged on that count.
    """
    prepared = prepare_escalations(raw_escalations(url, version), DEFAULT_SETTINGS)
    if not business_hours:
        return prepared
    with get_engine(url).connect() as connection:
        zones = load_team_time_zones(connection=connection)
    return with_business_latency(prepared, zones, configured_calendar())


@st.cache_resource(show_spinner="Loading level changes…", max_entries=2)
def level_changes(url: str, version: int) -> pl.DataFrame:
    """Every level change with what it changed and whether it was noise."""
    del version
    with get_engine(url).connect() as connection:
        return with_structural_changes(load_level_changes(connection=connection))


@st.cache_resource(show_spinner="Working out recurrence…", max_entries=4)
def escalations_with_window(
    url: str, version: int, business_hours: bool, window_days: int
) -> pl.DataFrame:
    """The prepared history with recurrence worked out for another window."""
    return with_recurrence_window(
        prepared_escalations(url, version, business_hours), window_days
    )


@st.cache_data(show_spinner="Loading process fixes…", max_entries=4)
def fixes(url: str, version: int) -> pl.DataFrame:
    """Every process fix logged in the repair review."""
    del version
    with get_engine(url).connect() as connection:
        return load_fixes(connection=connection)


@st.cache_data(show_spinner=False, max_entries=4)
def fix_links(url: str, version: int) -> pl.DataFrame:
    """Which escalations each fix answers (fix_id, escalation_id)."""
    del version
    with get_engine(url).connect() as connection:
        return load_fix_links(connection=connection)


@st.cache_data(show_spinner=False, max_entries=4)
def reviews(url: str, version: int) -> pl.DataFrame:
    """Recorded review meetings, newest first."""
    del version
    with get_engine(url).connect() as connection:
        return load_reviews(connection=connection)


@st.cache_data(show_spinner=False, max_entries=32)
def fix_history(url: str, version: int, fix_id: int) -> pl.DataFrame:
    """Every recorded change of one fix, oldest first."""
    del version
    with get_engine(url).connect() as connection:
        return load_fix_history(connection=connection, fix_id=fix_id)


@st.cache_data(show_spinner=False, max_entries=4)
def filter_options(url: str, version: int) -> dict[str, list[str]]:
    """Distinct segments, teams, trigger types and severities."""
    del version
    with get_engine(url).connect() as connection:
        return load_filter_options(connection=connection)


def clear_caches() -> None:
    """Forget every cached load, e.g. after a write outside the data version."""
    raw_escalations.clear()
    prepared_escalations.clear()
    level_changes.clear()
    escalations_with_window.clear()
    fixes.clear()
    fix_links.clear()
    reviews.clear()
    fix_history.clear()
    filter_options.clear()
