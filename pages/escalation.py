"""Escalation: one packet, its story in time, and the path it took upward."""

from datetime import UTC, datetime

import streamlit as st

from dashboard import format as fmt
from dashboard.charts import escalation_timeline_figure
from dashboard.detail import (
    escalation_figures,
    escalation_id_from_url,
    load_escalation_story,
    render_level_path,
    render_other_escalations,
    render_packet,
)
from dashboard.page_context import page_context

context = page_context()

escalation_id = escalation_id_from_url()
if escalation_id is None:
    st.title("Escalation")
    st.info(
        "Open an escalation from any table that lists them (Late escalations, "
        "the account lists on this page). Its address is `escalation?id=<id>`.",
        icon=":material/link:",
    )
    st.stop()

story = load_escalation_story(context.url, context.history_version, escalation_id)
if story is None:
    st.title("Escalation")
    st.warning(
        f"There is no escalation with id {escalation_id}. It may have been "
        "imported under another id; search for it from the Late escalations page.",
        icon=":material/search_off:",
    )
    st.stop()

record = story.record
figures = escalation_figures(context.escalations, escalation_id)
unit = context.measure.unit
st.title(f"{fmt.plain(record['external_id'])} · {fmt.plain(record['account_name'])}")
st.caption(
    f"{fmt.plain(record['trigger_type'])} · {record['severity']} · "
    f"{record['status']} · level {record['level']} · "
    f"team {fmt.plain(record['team'])} · "
    f"raised via {record['raised_via'].replace('_', ' ')}"
)
st.markdown(f"**Risk:** {fmt.plain(record['risk'])}")

facts = st.columns(4)
facts[0].metric(
    "First signal",
    fmt.day(record["first_signal_at"]),
    help="The earliest weak signal linked to this escalation: "
    f"{fmt.moment(record['first_signal_at'])} UTC.",
)
facts[1].metric(
    "Escalated",
    fmt.day(record["escalated_at"]),
    help="When the risk formally reached an owner: "
    f"{fmt.moment(record['escalated_at'])} UTC.",
)
facts[2].metric(
    "Signal → escalation",
    fmt.hours(figures.latency_hours, unit),
    delta=("late" if figures.late else "on time"),
    delta_color="inverse" if figures.late else "normal",
    delta_arrow="off",
    help=(
        f"{context.measure.description} from first signal to escalation; late "
        f"above {figures.threshold_hours:g} {unit} for {record['severity']} severity."
    ),
)
now = datetime.now(UTC)
if record["resolved_at"] is None:
    facts[3].metric(
        "Still open",
        fmt.hours((now - record["escalated_at"]).total_seconds() / 3600),
        help="Hours since escalation; it has not been resolved.",
    )
else:
    facts[3].metric(
        "Resolved after",
        fmt.hours(
            (record["resolved_at"] - record["escalated_at"]).total_seconds() / 3600
        ),
        help=f"Resolved {fmt.moment(record['resolved_at'])} UTC.",
    )

st.subheader("Timeline")
st.plotly_chart(
    escalation_timeline_figure(
        story.signals,
        story.level_changes,
        first_signal_at=record["first_signal_at"],
        escalated_at=record["escalated_at"],
        resolved_at=record["resolved_at"],
        as_of=now,
    ),
    width="stretch",
)
st.caption(
    f"{story.signals.height} signals, coloured by tone. Grey: waiting between the "
    "first signal and the escalation. Blue: the escalation while it runs."
)

st.subheader("The packet")
render_packet(record)

st.subheader("The path")
render_level_path(story.level_changes)

st.subheader(f"Other escalations of {fmt.plain(record['account_name'])}")
render_other_escalations(story.other_escalations)
