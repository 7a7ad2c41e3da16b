"""Late escalations: where risk reached its owner too late, and why."""

import polars as pl
import streamlit as st

from dashboard.charts import latency_histogram_figure
from dashboard.format import counted
from dashboard.late_view import render_breakdown, render_late_table
from dashboard.page_context import page_context

context = page_context()
filters = context.filters
measure = context.measure

st.title("Late escalations")
st.caption(
    "Escalations raised later than their severity allows, and where they cluster. "
    f"Period: {filters.describe()} (UTC). Latency in {measure.description.lower()}."
)

chosen = context.chosen()
if chosen.is_empty():
    st.info(
        "No escalations in this period and filter, so none can be late. Widen the "
        "period or clear a filter in the sidebar.",
        icon=":material/filter_alt_off:",
    )
    st.stop()

st.subheader("How long risk waited before it was escalated")
log_scale = st.toggle(
    "Log scale",
    key="log",
    bind="query-params",
    help="Spreads out the short latencies; zero latencies sit at the left edge.",
)
st.plotly_chart(
    latency_histogram_figure(
        chosen["latency_hours"].cast(pl.Float64).to_numpy(),
        dict(context.settings.late_threshold_hours),
        log_scale=log_scale,
        unit=measure.unit,
    ),
    width="stretch",
)
st.caption(
    f"{counted(chosen.height, 'escalation')}. Dashed lines: each severity's late "
    "threshold; an escalation is late when its latency is strictly above its own "
    f"severity's line. Measured in {measure.description.lower()}."
)

st.subheader("Where late escalations cluster")
focus = render_breakdown(chosen, measure)

st.subheader("Late escalations")
render_late_table(chosen, focus, measure)
