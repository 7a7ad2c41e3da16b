"""Pieces of the Escalation page: loading its story and drawing its parts."""

from dataclasses import dataclass
from typing import Any

import polars as pl
import streamlit as st

from dashboard import format as fmt
from dashboard.data import get_engine
from db.queries import (
    load_account_escalations,
    load_escalation,
    load_level_changes,
    load_signals,
)
from metrics.level_shift import STRUCTURAL_THINGS, with_structural_changes
from metrics.packet import PACKET_QUESTIONS

ESCALATION_PAGE = "escalation"


@dataclass(frozen=True)
class EscalationStory:
    """Everything the page shows about one escalation."""

    record: dict[str, Any]
    signals: pl.DataFrame
    level_changes: pl.DataFrame
    other_escalations: pl.DataFrame


@dataclass(frozen=True)
class EscalationFigures:
    """Latency and lateness of one escalation in the measure the viewer chose."""

    latency_hours: float | None
    threshold_hours: float
    late: bool


def escalation_figures(prepared: pl.DataFrame, escalation_id: int) -> EscalationFigures:
    """Read one escalation's prepared latency figures."""
    row = prepared.filter(pl.col("id") == escalation_id)
    if row.is_empty():
        return EscalationFigures(None, float("nan"), late=False)
    first = row.row(0, named=True)
    return EscalationFigures(
        first["latency_hours"], first["threshold_hours"], bool(first["is_late"])
    )


def escalation_link(escalation_id: int) -> str:
    """Relative link to an escalation's page, valid from any page of the app."""
    return f"{ESCALATION_PAGE}?id={escalation_id}"


def escalation_id_from_url() -> int | None:
    """The ``id`` query parameter as a positive integer, or None."""
    raw = st.query_params.get("id")
    if raw is None:
        return None
    try:
        value = int(raw)
    except ValueError:
        # Not in a code span: Markdown ignores escapes there, and a backtick in
        # the address would end the span and let the rest be read as Markdown.
        st.warning(f"id={fmt.plain(raw)} in the address is not an escalation id.")
        return None
    return value if value > 0 else None


@st.cache_data(show_spinner="Loading the escalation…", max_entries=64)
def load_escalation_story(
    url: str, history_version: int, escalation_id: int
) -> EscalationStory | None:
    """The record, its signals, level changes and its account's other escalations."""
    del history_version
    with get_engine(url).connect() as connection:
        record = load_escalation(connection=connection, escalation_id=escalation_id)
        if record is None:
            return None
        signals = load_signals(connection=connection, escalation_id=escalation_id)
        changes = load_level_changes(connection=connection, escalation_id=escalation_id)
        others = load_account_escalations(
            connection=connection, account_id=record["account_id"]
        ).filter(pl.col("id") != escalation_id)
    return EscalationStory(record, signals, with_structural_changes(changes), others)


def render_packet(record: dict[str, Any]) -> None:
    """The five questions a manager asks, each answered or marked missing."""
    answered = sum(
        bool((record.get(field) or "").strip()) for field in PACKET_QUESTIONS
    )
    st.caption(
        f"{answered} of {len(PACKET_QUESTIONS)} questions answered. A complete "
        "packet lets the next owner act without a meeting."
    )
    for field, question in PACKET_QUESTIONS.items():
        answer = (record.get(field) or "").strip()
        icon = ":material/check_circle:" if answer else ":material/error:"
        with st.container(border=True):
            st.markdown(f"{icon} **{question}**")
            if answer:
                st.markdown(fmt.plain(answer))
            else:
                st.markdown(":red[Missing — nobody has written this down.]")
    if (record.get("options") or "").strip():
        st.markdown(f"**Options considered:** {fmt.plain(record['options'])}")


def render_level_path(changes: pl.DataFrame) -> None:
    """Each level change with what it changed; a change of nothing is flagged."""
    if changes.is_empty():
        st.caption("This escalation never moved between levels.")
        return
    for change in changes.iter_rows(named=True):
        header = (
            f"Level {change['from_level']} → {change['to_level']}, "
            f"{fmt.moment(change['at'])} UTC"
        )
        with st.container(border=True):
            st.markdown(f"**{header}**")
            if change["is_noise"]:
                st.warning(
                    "Nothing structural changed: same owner, cadence, decision "
                    "rights, evidence threshold and communication path. This move "
                    "is noise.",
                    icon=":material/warning:",
                )
            rows = [
                {
                    "What": label.capitalize(),
                    "Before": change[f"{stem}_before"] or fmt.MISSING,
                    "After": change[f"{stem}_after"] or fmt.MISSING,
                    "Changed": bool(change[f"{stem}_changed"]),
                }
                for stem, label in STRUCTURAL_THINGS.items()
            ]
            st.dataframe(
                pl.DataFrame(rows),
                hide_index=True,
                width="stretch",
                column_config={
                    "Changed": st.column_config.CheckboxColumn(
                        "Changed", help="Before and after differ."
                    )
                },
            )
            if change["note"]:
                st.caption(f"Note: {fmt.plain(change['note'])}")


def render_other_escalations(others: pl.DataFrame) -> None:
    """The account's other escalations, each linking to its own page."""
    if others.is_empty():
        st.caption("No other escalations for this account.")
        return
    shown = others.select(
        pl.format("escalation?id={}", pl.col("id")).alias("link"),
        "external_id",
        "trigger_type",
        "severity",
        "escalated_at",
        "status",
        "owner",
    )
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        column_config={
            "link": st.column_config.LinkColumn(
                "Open", display_text="Open", help="Opens the escalation's page."
            ),
            "external_id": "Escalation",
            "trigger_type": "Trigger type",
            "severity": "Severity",
            "escalated_at": st.column_config.DatetimeColumn(
                "Escalated (UTC)", format="D MMM YYYY, HH:mm"
            ),
            "status": "Status",
            "owner": "Owner",
        },
    )
