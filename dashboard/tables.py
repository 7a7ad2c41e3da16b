"""Tables with a definition beside every column."""

import polars as pl
import streamlit as st

from dashboard.kpis import LATE_RULE
from dashboard.measure import CALENDAR, LatencyMeasure


def trigger_type_table(
    by_type: pl.DataFrame, measure: LatencyMeasure = CALENDAR
) -> None:
    """The per-trigger-type breakdown, sortable, rates shown as percentages."""
    shown = by_type.with_columns(
        (pl.col("late_rate") * 100).alias("late_rate"),
        (pl.col("recurrence_rate") * 100).alias("recurrence_rate"),
    )
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        column_config={
            "trigger_type": st.column_config.TextColumn(
                "Trigger type", help="What set the escalation off."
            ),
            "escalations": st.column_config.NumberColumn(
                "Escalations", help="Escalations in the period.", format="%d"
            ),
            "median_hours": st.column_config.NumberColumn(
                f"Median {measure.unit}",
                help="Median time from first signal to escalation, "
                f"{measure.description.lower()}.",
                format="%.1f",
            ),
            "p90_hours": st.column_config.NumberColumn(
                f"p90 {measure.unit}",
                help="90th percentile of that time (linear interpolation).",
                format="%.1f",
            ),
            "late_rate": st.column_config.NumberColumn(
                "Late %",
                help=f"Share raised after the threshold ({LATE_RULE}).",
                format="%.1f%%",
            ),
            "recurrence_rate": st.column_config.NumberColumn(
                "Recurring %",
                help="Share with an escalation of the same account and trigger type "
                "in the 90 days before.",
                format="%.1f%%",
            ),
        },
    )
