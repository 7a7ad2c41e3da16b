"""Cached loaders: the only place where the app touches the database.

Caches are keyed on small values (the database URL and a version), never on
frames: Streamlit hashes a frame argument from a sample of its rows and can
return a stale result. Every write bumps the data version in its own
transaction; writes to the escalation history (accounts, escalations, level
changes, signals) also bump the history version. What reads only the history is
keyed on the history version, so logging a fix or recording a review reloads
the fixes and reviews and leaves a million cached escalations alone.
"""

import logging
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import polars as pl
import streamlit as st
from sqlalchemy import Engine
from sqlalchemy.exc import SQLAlchemyError

from dashboard.measure import configured_calendar
from db.early_warning import load_flag_decisions
from db.engine import DatabaseError, check_connection, create_db_engine
from db.engine import default_database_url as _default_url
from db.fixes import load_fix_history, load_fix_links, load_reviews
from db.migrate import upgrade
from db.queries import (
    PACKET_FIELDS,
    SIGNAL_SCHEMA,
    TONE_INPUT_COLUMNS,
    iter_signal_batches,
    load_accounts,
    load_filter_options,
    load_fixes,
    load_signals,
    load_team_time_zones,
    signal_fingerprint,
)
from db.snapshot import load_escalation_snapshot, load_level_change_snapshot
from db.version import read_versions
from metrics.agenda import Agenda, build_agenda, preread_trend
from metrics.business_hours import with_business_latency
from metrics.early_warning import (
    DEFAULT_EARLY_WARNING_SETTINGS,
    backtest,
    backtest_summary,
    current_flags,
    flag_episodes,
    flag_evaluations,
    similar_past_cases,
)
from metrics.filters import filter_escalations
from metrics.fix_impact import FixImpactSettings, fix_impact
from metrics.level_shift import with_structural_changes
from metrics.prepare import prepare_escalations
from metrics.recurrence_views import with_recurrence_window
from metrics.settings import DEFAULT_SETTINGS
from metrics.tone import TONES, label_signals

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


def judged_at(now: datetime | None = None) -> datetime:
    """The instant cached judgements are made at: the end of the current hour.

    Reruns within the hour share one cached result; any write changes the
    data version, so a decision or a new signal still shows at once. Rounding
    up, not down, keeps everything written so far inside what is judged.
    NOTE: a signal just over an early-warning window old may thus count for
    up to an hour longer than the rolling window says.
    """
    moment = now or datetime.now(UTC)
    floor = moment.replace(minute=0, second=0, microsecond=0)
    return floor if floor == moment else floor + timedelta(hours=1)


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


def current_versions(url: str) -> tuple[int, int]:
    """The data version and the history version; one tiny query per rerun."""
    with get_engine(url).connect() as connection:
        return read_versions(connection=connection)


@st.cache_resource(show_spinner="Loading the escalation history…", max_entries=2)
def raw_escalations(url: str, history_version: int) -> pl.DataFrame:
    """The escalation columns the pages read, straight from the database.

    Cached as a resource: every rerun gets the same frame without copying it,
    so callers must never mutate it (polars frames are immutable anyway).
    ``history_version`` is part of the key only; it makes a write to the
    history visible at once.
    """
    del history_version
    # The columnar copy keys itself on the history version it reads with the rows.
    return load_escalation_snapshot(get_engine(url), OVERVIEW_COLUMNS)


@st.cache_resource(show_spinner="Working out latency and lateness…", max_entries=4)
def prepared_escalations(
    url: str, history_version: int, business_hours: bool
) -> pl.DataFrame:
    """All escalations with latency, lateness and recurrence worked out.

    With ``business_hours`` the latency counts only each team's working hours
    and lateness is judged on that count.
    """
    prepared = prepare_escalations(
        raw_escalations(url, history_version), DEFAULT_SETTINGS
    )
    if not business_hours:
        return prepared
    with get_engine(url).connect() as connection:
        zones = load_team_time_zones(connection=connection)
    return with_business_latency(prepared, zones, configured_calendar())


@st.cache_resource(show_spinner="Loading level changes…", max_entries=2)
def level_changes(url: str, history_version: int) -> pl.DataFrame:
    """Every level change with what it changed and whether it was noise."""
    del history_version
    # Read column by column through the copy: row by row, a million level
    # changes cost ten seconds and a gigabyte of Python objects at their peak.
    return with_structural_changes(load_level_change_snapshot(get_engine(url)))


@st.cache_resource(show_spinner="Working out recurrence…", max_entries=4)
def escalations_with_window(
    url: str, history_version: int, business_hours: bool, window_days: int
) -> pl.DataFrame:
    """The prepared history with recurrence worked out for another window."""
    return with_recurrence_window(
        prepared_escalations(url, history_version, business_hours), window_days
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
def filter_options(url: str, history_version: int) -> dict[str, list[str]]:
    """Distinct segments, teams, trigger types and severities."""
    del history_version
    with get_engine(url).connect() as connection:
        return load_filter_options(connection=connection)


# What the backtest reads of the prepared history: copying the whole frame for
# half a year of a large history would cost hundreds of megabytes.
BACKTEST_INPUT_COLUMNS = (
    "id",
    "account_id",
    "trigger_type",
    "severity",
    "escalated_at",
    "is_late",
    "recurs",
)
# What the flags read of each signal; the text goes once it is labelled.
LABELLED_INPUT = ("account_id", "observed_at", "text")
EARLY_WARNING_DAYS = 365
"""How much signal history the Early warning page reads, judges and backtests."""


@st.cache_data(show_spinner=False, max_entries=4)
def signals_fingerprint(url: str, history_version: int) -> tuple[int, int]:
    """Signal count and highest id, read once per history version."""
    del history_version
    with get_engine(url).connect() as connection:
        return signal_fingerprint(connection=connection)


@st.cache_resource(show_spinner="Reading the tone of recent signals…", max_entries=2)
def labelled_signals(
    url: str, fingerprint: tuple[int, int], since: datetime
) -> pl.DataFrame:
    """Signals observed since ``since`` with the tone model's label, text dropped.

    Keyed on the signals' fingerprint rather than the data version: deciding
    on a flag or logging a fix changes no signal text. Read in batches and
    labelled batch by batch so that memory stays near the size of the result.
    NOTE: the model reads every distinct text once, about 15 µs each; a year of
    a very large history (millions of signals) takes minutes on the first load.
    """
    del fingerprint
    # Only what the flags read, the tone as a one-byte category: on a year of
    # a large history this frame and the windows built on it dominate memory.
    lean = (
        pl.col("account_id"),
        pl.col("observed_at"),
        pl.col("tone").cast(pl.Enum(TONES)),
    )
    with get_engine(url).connect() as connection:
        batches = [
            label_signals(batch).select(lean)
            for batch in iter_signal_batches(
                connection=connection, since=since, columns=LABELLED_INPUT
            )
        ]
    if batches:
        # The batches as they are, one chunk each: rechunking would copy them all.
        return pl.concat(batches, rechunk=False)
    empty = pl.DataFrame(
        schema={name: SIGNAL_SCHEMA[name] for name in TONE_INPUT_COLUMNS}
    )
    return label_signals(empty).select(lean)


@st.cache_resource(show_spinner="Replaying the flag over past signals…", max_entries=2)
def signal_evaluations(
    url: str, fingerprint: tuple[int, int], since: datetime
) -> pl.DataFrame:
    """Each account's flag and exit share at every signal since ``since``."""
    # Only what the backtest and the episodes read: the counts and shares of
    # every evaluation would more than double this frame, the largest the
    # page keeps.
    return flag_evaluations(
        labelled_signals(url, fingerprint, since),
        columns=("account_id", "evaluated_at", "flagged", "exit_share"),
    )


@st.cache_data(show_spinner=False, max_entries=16)
def account_signals_explained(
    url: str, history_version: int, account_id: int
) -> pl.DataFrame:
    """One account's signals with their text, the model's tone and its phrases."""
    del history_version
    with get_engine(url).connect() as connection:
        signals = load_signals(connection=connection, account_id=account_id)
    return label_signals(signals, keep_phrases=True)


@st.cache_data(show_spinner=False, max_entries=4)
def flag_decisions(url: str, version: int) -> pl.DataFrame:
    """Every decision people took on early-warning flags, oldest first."""
    del version
    with get_engine(url).connect() as connection:
        return load_flag_decisions(connection=connection)


@dataclass(frozen=True)
class EarlyWarning:
    """What the Early warning page shows: current flags and the alarm's record."""

    flags: pl.DataFrame
    summary: pl.DataFrame
    since: datetime


@st.cache_resource(show_spinner="Backtesting the flag on history…", max_entries=2)
def alarm_summary(url: str, history_version: int, as_of: datetime) -> pl.DataFrame:
    """The backtest and the flag episodes as of ``as_of``, summed up in one row.

    Decisions on flags do not enter it, so deciding on a flag or logging a fix
    leaves it cached. Only the summary is kept: the backtest has a row per
    escalation judged, which at a million escalations is hundreds of thousands.
    """
    since = early_warning_start(as_of)
    fingerprint = signals_fingerprint(url, history_version)
    signals = labelled_signals(url, fingerprint, since)
    evaluations = signal_evaluations(url, fingerprint, since)
    # Only escalations whose whole run-up lies inside the signals read are
    # judged: earlier ones would look unflagged for want of data. Lateness and
    # recurrence come from the whole history, in calendar hours as the
    # backtest's definition says.
    settings = DEFAULT_EARLY_WARNING_SETTINGS
    judged = (
        prepared_escalations(url, history_version, False)
        .select(BACKTEST_INPUT_COLUMNS)
        .filter(
            pl.col("escalated_at") >= since + timedelta(days=settings.lookback_days)
        )
    )
    tested = backtest(signals, judged, evaluations=evaluations)
    episodes = flag_episodes(
        signals,
        raw_escalations(url, history_version),
        as_of=as_of,
        evaluations=evaluations,
    )
    return backtest_summary(tested, episodes)


@st.cache_resource(
    show_spinner="Looking for accounts drifting toward leaving…", max_entries=2
)
def early_warning(
    url: str, version: int, history_version: int, as_of: datetime
) -> EarlyWarning:
    """Current flags and the alarm's record as of ``as_of``.

    Pages pass :func:`judged_at`, so that reruns within an hour reuse the
    result. The flags read people's decisions, so any write changes their key
    and a decision shows at once; the expensive parts are cached per history
    version or per signal fingerprint underneath.
    """
    since = early_warning_start(as_of)
    signals = labelled_signals(url, signals_fingerprint(url, history_version), since)
    flags = current_flags(
        signals,
        raw_escalations(url, history_version),
        flag_decisions(url, version),
        as_of=as_of,
    )
    return EarlyWarning(
        flags=flags, summary=alarm_summary(url, history_version, as_of), since=since
    )


@st.cache_resource(show_spinner="Comparing with past cases…", max_entries=16)
def similar_cases(
    url: str, history_version: int, as_of: datetime, account_id: int
) -> pl.DataFrame:
    """Past late or recurring escalations whose run-up looked like this account's.

    Worked out for one flagged account at a time, when a person looks at it:
    each comparison scans every past case, which adds up on a large history.
    """
    since = early_warning_start(as_of)
    flag = pl.DataFrame({"account_id": [account_id]}, schema={"account_id": pl.Int64})
    weeks = timedelta(weeks=DEFAULT_EARLY_WARNING_SETTINGS.trajectory_weeks)
    # Only escalations whose whole run-up lies inside the signals read.
    comparable = (
        prepared_escalations(url, history_version, False)
        .select(*BACKTEST_INPUT_COLUMNS, "account_name")
        .filter(pl.col("escalated_at") >= since + weeks)
    )
    signals = labelled_signals(url, signals_fingerprint(url, history_version), since)
    return similar_past_cases(signals, comparable, flag, as_of=as_of)


def early_warning_start(as_of: datetime) -> datetime:
    """Midnight UTC ``EARLY_WARNING_DAYS`` before ``as_of``: fixed for a whole day."""
    start = as_of - timedelta(days=EARLY_WARNING_DAYS)
    return start.replace(hour=0, minute=0, second=0, microsecond=0)


@st.cache_data(show_spinner=False, max_entries=4)
def accounts(url: str, history_version: int) -> pl.DataFrame:
    """Every account with its segment, region, team and renewal date."""
    del history_version
    with get_engine(url).connect() as connection:
        return load_accounts(connection=connection)


@st.cache_resource(
    show_spinner="Comparing escalations before and after each fix…", max_entries=8
)
def fix_impact_table(
    url: str,
    version: int,
    history_version: int,
    scope: tuple[bool, tuple[str, ...], tuple[str, ...], tuple[str, ...]],
    *,
    window_weeks: int,
    as_of: datetime,
) -> pl.DataFrame:
    """Every fix's before-and-after comparison, for the sidebar's scope.

    ``scope`` is (business hours, segments, teams, severities). Cached because
    it splits the whole history by trigger type, a noticeable part of a rerun
    on a large history; ``as_of`` is :func:`judged_at`.
    """
    business_hours, segments, teams, severities = scope
    history = filter_escalations(
        prepared_escalations(url, history_version, business_hours),
        segments=segments,
        teams=teams,
        severities=severities,
    )
    settings = FixImpactSettings(window_weeks=window_weeks)
    return fix_impact(history, fixes(url, version), as_of, settings)


@st.cache_resource(show_spinner="Preparing the agenda…", max_entries=4)
def repair_agenda(
    url: str, version: int, history_version: int, business_hours: bool, as_of: datetime
) -> tuple[Agenda, pl.DataFrame]:
    """The repair review's agenda since the last recorded review, and its trend."""
    history = prepared_escalations(url, history_version, business_hours)
    meetings = reviews(url, version)
    last_review_on = meetings["held_on"][0] if meetings.height else None
    agenda = build_agenda(
        history, fixes(url, version), fix_links(url, version), last_review_on, as_of
    )
    return agenda, preread_trend(history, as_of)


def clear_caches() -> None:
    """Forget every cached load, e.g. after a write outside the data versions."""
    raw_escalations.clear()
    prepared_escalations.clear()
    level_changes.clear()
    escalations_with_window.clear()
    fixes.clear()
    fix_links.clear()
    reviews.clear()
    fix_history.clear()
    filter_options.clear()
    signals_fingerprint.clear()
    labelled_signals.clear()
    signal_evaluations.clear()
    account_signals_explained.clear()
    flag_decisions.clear()
    alarm_summary.clear()
    early_warning.clear()
    similar_cases.clear()
    accounts.clear()
    fix_impact_table.clear()
    repair_agenda.clear()
