"""Pieces of the Late escalations page: the breakdown and the drill-down table."""

import html
from pathlib import Path

import polars as pl
import streamlit as st

from dashboard import format as fmt
from dashboard.charts import breakdown_figure
from dashboard.measure import LatencyMeasure
from metrics.breakdown import late_escalations, late_rate_by
from metrics.packet import PACKET_QUESTIONS, packet_answers_present

PAGES_DIR = Path(__file__).resolve().parents[1] / "pages"
BREAKDOWN_DIMENSIONS = {
    "team": "Team",
    "owner": "Owner",
    "trigger_type": "Trigger type",
    "severity": "Severity",
    "raised_via": "Raised via",
}
TABLE_LIMIT = 500
_FOCUS_KEY = "focus"
_CHART_KEY = "breakdown_chart"


def _reset_focus() -> None:
    # A value of the old dimension means nothing in the new one.
    st.session_state[_FOCUS_KEY] = None


def _focus_from_chart() -> None:
    """Turn a clicked bar into the focus value, which the URL then carries."""
    state = st.session_state.get(_CHART_KEY)
    points = state.selection.points if state is not None else []
    if points:
        # The figure carries the value escaped, as it carries every label.
        st.session_state[_FOCUS_KEY] = html.unescape(points[0]["customdata"][0])


def render_breakdown(chosen: pl.DataFrame, measure: LatencyMeasure) -> str | None:
    """Late rate by a chosen dimension; returns the value the viewer focused on."""
    dimension = st.segmented_control(
        "Break down by",
        list(BREAKDOWN_DIMENSIONS),
        format_func=BREAKDOWN_DIMENSIONS.__getitem__,
        default="team",
        key="by",
        bind="query-params",
        on_change=_reset_focus,
        required=True,
    )
    dimension = dimension or "team"
    label = BREAKDOWN_DIMENSIONS[dimension]
    breakdown = late_rate_by(chosen, dimension)

    chart_column, table_column = st.columns([3, 2])
    with chart_column:
        st.plotly_chart(
            breakdown_figure(breakdown, dimension, label),
            width="stretch",
            on_select=_focus_from_chart,
            selection_mode="points",
            key=_CHART_KEY,
        )
        st.caption(
            "Click a bar to list only its late escalations. Each bar's label "
            "shows late of all, so that one late escalation out of one is not "
            "mistaken for a pattern."
        )
    with table_column:
        st.dataframe(
            breakdown.select(
                dimension,
                "escalations",
                "late",
                (pl.col("late_rate") * 100),
                "median_hours",
            ),
            hide_index=True,
            width="stretch",
            column_config={
                dimension: st.column_config.TextColumn(label),
                "escalations": st.column_config.NumberColumn(
                    "Escalations", help="Escalations in the period.", format="%d"
                ),
                "late": st.column_config.NumberColumn(
                    "Late", help="Of those, raised after the threshold.", format="%d"
                ),
                "late_rate": st.column_config.NumberColumn(
                    "Late %", help="Late ÷ escalations.", format="%.1f%%"
                ),
                "median_hours": st.column_config.NumberColumn(
                    f"Median {measure.unit}",
                    help="Median signal-to-escalation latency, "
                    f"{measure.description.lower()}.",
                    format="%.1f",
                ),
            },
        )

    values = [str(v) for v in breakdown[dimension].to_list()]
    focus = st.selectbox(
        f"Focus on one {label.lower()}",
        values,
        index=None,
        key=_FOCUS_KEY,
        bind="query-params",
        placeholder=f"All {label.lower()}s",
        help="Set by clicking a bar, or chosen here; kept in the address.",
    )
    if focus is None:
        return None
    return f"{dimension}={focus}"


def _apply_focus(chosen: pl.DataFrame, focus: str | None) -> pl.DataFrame:
    if focus is None:
        return chosen
    dimension, value = focus.split("=", 1)
    if value == "(none)":
        return chosen.filter(pl.col(dimension).is_null())
    return chosen.filter(pl.col(dimension).cast(pl.String) == value)


def render_late_table(
    chosen: pl.DataFrame, focus: str | None, measure: LatencyMeasure
) -> None:
    """The late escalations, worst first; selecting a row opens it."""
    focused = _apply_focus(chosen, focus)
    late = late_escalations(focused)
    if late.is_empty():
        where = f" for {fmt.plain(focus.split('=', 1)[1])}" if focus else ""
        st.success(
            f"No late escalations{where} in this period: every one was raised "
            "within its severity's threshold.",
            icon=":material/task_alt:",
        )
        return

    shown = (
        late.head(TABLE_LIMIT)
        .with_columns(packet_answers_present())
        .select(
            pl.format("escalation?id={}", pl.col("id")).alias("link"),
            "id",
            "account_name",
            "trigger_type",
            "severity",
            "first_signal_at",
            "escalated_at",
            "hours_beyond_threshold",
            "owner",
            pl.format(
                "{}/{}", pl.col("packet_answers"), pl.lit(len(PACKET_QUESTIONS))
            ).alias("packet"),
        )
    )
    limited = (
        "" if late.height <= TABLE_LIMIT else f" (the {TABLE_LIMIT} most overdue shown)"
    )
    st.caption(
        f"{late.height:,} late escalations{limited}, most overdue first. Select a row "
        "to open its packet and path."
    )
    event = st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key="late_table",
        column_order=[c for c in shown.columns if c != "id"],
        column_config={
            "link": st.column_config.LinkColumn("Open", display_text="Open"),
            "account_name": "Account",
            "trigger_type": "Trigger type",
            "severity": "Severity",
            "first_signal_at": st.column_config.DatetimeColumn(
                "First signal (UTC)", format="D MMM YYYY, HH:mm"
            ),
            "escalated_at": st.column_config.DatetimeColumn(
                "Escalated (UTC)", format="D MMM YYYY, HH:mm"
            ),
            "hours_beyond_threshold": st.column_config.NumberColumn(
                f"Beyond threshold ({measure.unit})",
                help="Latency minus the severity's threshold.",
                format="%.1f",
            ),
            "owner": "Owner",
            "packet": st.column_config.TextColumn(
                "Packet",
                help="How many of the five questions the packet answers: evidence, "
                "decision needed, next owner, consequence if unchanged, exit evidence.",
            ),
        },
    )
    rows = event.selection.rows if event is not None else []
    if rows:
        escalation_id = int(shown["id"][rows[0]])
        st.switch_page(
            PAGES_DIR / "escalation.py", query_params={"id": str(escalation_id)}
        )
