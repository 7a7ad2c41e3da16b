"""Fix impact: did the process fixes reduce escalations of the type they target?"""

import streamlit as st

from dashboard.charts import fix_volume_figure
from dashboard.data import fix_impact_table, fixes, judged_at
from dashboard.fix_view import render_fix_cards, render_fix_table
from dashboard.page_context import page_context
from metrics.filters import filter_escalations
from metrics.fix_impact import weekly_volume_with_fixes

context = page_context()
filters = context.filters

st.title("Fix impact")
window_weeks = int(
    st.number_input(
        "Comparison window (weeks)",
        min_value=2,
        max_value=26,
        value=8,
        key="weeks",
        bind="query-params",
        width=240,
        help="Escalations in this many weeks before a fix shipped are compared "
        "with the same number of weeks after.",
    )
)
st.caption(
    f"Each shipped fix: {window_weeks} weeks before against {window_weeks} weeks "
    "after its ship date, for the trigger type it targets and, as a baseline, for "
    "every other trigger type. The sidebar period does not apply here (ship dates "
    "set the windows); segment, team and severity filters do."
)

logged = fixes(context.url, context.version)
if logged.is_empty():
    st.info(
        "No process fixes are logged yet. Log one in the repair review, then come "
        "back once it has shipped.",
        icon=":material/build:",
    )
    st.stop()

scope = filter_escalations(
    context.escalations,
    segments=filters.segments,
    teams=filters.teams,
    severities=filters.severities,
)
impact = fix_impact_table(
    context.url,
    context.version,
    context.history_version,
    (filters.business_hours, filters.segments, filters.teams, filters.severities),
    window_weeks=window_weeks,
    as_of=judged_at(),
)

st.subheader("All fixes")
render_fix_table(impact)

st.subheader("One trigger type, its fixes and its weekly volume")
types = sorted(logged["trigger_type"].unique().to_list())
trigger_type = st.selectbox(
    "Trigger type", types, key="fix_type", bind="query-params", index=0
)
volume = weekly_volume_with_fixes(scope, logged, trigger_type or types[0])
st.plotly_chart(
    fix_volume_figure(volume.weekly, volume.ships, window_weeks), width="stretch"
)
st.caption(
    "Bars: escalations of this type per ISO week. Dotted lines: ship dates; the "
    f"shaded band after each is its {window_weeks}-week after-window."
)
render_fix_cards(
    impact.filter(impact["trigger_type"] == trigger_type), window_weeks, context.measure
)
