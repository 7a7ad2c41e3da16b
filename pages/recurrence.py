"""Recurrence: which trigger types keep coming back to the same accounts."""

import streamlit as st

from dashboard.charts import recurrence_bar_figure, recurrence_heatmap_figure
from dashboard.data import escalations_with_window
from dashboard.page_context import page_context
from dashboard.recurrence_view import (
    render_recurrence_table,
    render_repeat_accounts,
)
from metrics.recurrence_views import (
    monthly_volume_by_trigger_type,
    recurrence_by_trigger_type,
    repeat_accounts,
)

context = page_context()
filters = context.filters

st.title("Recurrence")
window_days = int(
    st.number_input(
        "Recurrence window (days)",
        min_value=1,
        max_value=730,
        value=context.settings.recurrence_window_days,
        step=1,
        key="window",
        bind="query-params",
        width=240,
        help="An escalation recurs when the same account had one of the same "
        "trigger type strictly earlier and at most this many days before it.",
    )
)
st.caption(
    f"Period: {filters.describe()} (UTC). Recurrence window: {window_days} days; "
    "escalations before the period count as history."
)

history = escalations_with_window(
    context.url, context.history_version, filters.business_hours, window_days
)
chosen = context.chosen(history)
if chosen.is_empty():
    st.info(
        "No escalations in this period and filter. Widen the period or clear a "
        "filter in the sidebar.",
        icon=":material/filter_alt_off:",
    )
    st.stop()

by_type = recurrence_by_trigger_type(chosen)

st.subheader("Recurrence by trigger type")
left, right = st.columns(2)
left.plotly_chart(recurrence_bar_figure(by_type), width="stretch")
with right:
    render_recurrence_table(by_type, window_days)

st.subheader("Volume by trigger type and month")
st.plotly_chart(
    recurrence_heatmap_figure(
        monthly_volume_by_trigger_type(chosen, filters.start, filters.end)
    ),
    width="stretch",
)
st.caption("Escalations per calendar month (UTC); partial months at the edges.")

st.subheader("Accounts that keep escalating the same thing")
render_repeat_accounts(repeat_accounts(chosen, window_days), chosen, window_days)
