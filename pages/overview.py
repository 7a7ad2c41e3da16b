"""Overview: the weekly review's first screen."""

from datetime import UTC, datetime

import polars as pl
import streamlit as st

from dashboard import format as fmt
from dashboard.charts import weekly_trend_figure
from dashboard.data import level_changes
from dashboard.kpis import render_kpi_tiles
from dashboard.page_context import page_context
from dashboard.quality import render_quality_tiles
from dashboard.tables import trigger_type_table
from metrics.summary import by_trigger_type, health_summary
from metrics.volume import weekly_volume
from metrics.window import in_window, previous_period

context = page_context()
filters = context.filters

st.title("Overview")
st.caption(
    "Is customer risk reaching an owner who can act, early enough? "
    f"Period: {filters.describe()} (UTC). Latency in "
    f"{context.measure.description.lower()}."
)

chosen = context.matching()
current = context.chosen()
previous_start, previous_end = previous_period(filters.start, filters.end)
previous = in_window(chosen, previous_start, previous_end)

if context.escalations.is_empty():
    st.info(
        "The database holds no escalations yet. Seed the demo history with "
        "`escalation-health seed`, or import your own history.",
        icon=":material/inbox:",
    )
    st.stop()

render_kpi_tiles(
    health_summary(current),
    health_summary(previous),
    fmt.period(previous_start, previous_end),
    context.measure,
)

if current.is_empty():
    reason = "these filters" if filters.narrowed else "this period"
    st.info(
        f"No escalations were raised in {reason}. Widen the period or clear a "
        "filter in the sidebar.",
        icon=":material/filter_alt_off:",
    )
    st.stop()

st.subheader("Weekly volume and late rate")
st.plotly_chart(
    weekly_trend_figure(weekly_volume(current, filters.start, filters.end)),
    width="stretch",
)
st.caption(
    "Bars: escalations per ISO week. Line: the share of that week's escalations "
    "raised later than their severity's threshold. Partial weeks at the edges of "
    "the period count only the days inside it."
)

st.subheader("By trigger type")
trigger_type_table(by_trigger_type(current), context.measure)

st.subheader("Are escalations fit to act on?")
render_quality_tiles(
    current,
    level_changes(context.url, context.history_version).join(
        current.select(pl.col("id").alias("escalation_id")),
        on="escalation_id",
        how="semi",
    ),
    datetime.now(UTC),
)
