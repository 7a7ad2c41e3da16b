"""Repair review: the weekly meeting's agenda, its fixes and its record."""

import streamlit as st

from dashboard import format as fmt
from dashboard.auth import Role, author_input, current_identity, explain_missing_role
from dashboard.data import fix_links, fixes, judged_at, repair_agenda, reviews
from dashboard.kpis import render_kpi_tiles
from dashboard.page_context import page_context
from dashboard.review_forms import (
    render_fix_form,
    render_review_form,
)
from dashboard.review_view import (
    escalation_labels,
    render_due_fixes,
    render_early,
    render_fix_detail,
    render_preread_downloads,
    render_to_judge,
    render_unanswered,
)

context = page_context()

logged = fixes(context.url, context.version)
links = fix_links(context.url, context.version)
meetings = reviews(context.url, context.version)
last_review_on = meetings["held_on"][0] if meetings.height else None
agenda, trend = repair_agenda(
    context.url,
    context.version,
    context.history_version,
    context.filters.business_hours,
    judged_at(),
)

st.title("Repair review")
since = (
    f"since the last review on {last_review_on:%d %b %Y}"
    if last_review_on
    else "over the last 7 days (no review recorded yet)"
)
st.caption(
    f"The weekly agenda: what happened {since}, which fixes are due, which can be "
    "judged, and who surfaced risk early. The sidebar's dimension filters do not "
    "apply here: the review covers everything."
)
identity = current_identity()
may_edit = identity.may(Role.EDITOR)
if may_edit:
    author_input(
        identity,
        "Recorded as the author of every fix, status change and meeting you log.",
    )
render_preread_downloads(agenda, trend)

st.subheader("(a) This period against the previous one")
render_kpi_tiles(
    agenda.kpis,
    agenda.previous_kpis,
    fmt.period(*agenda.previous_period),
    context.measure,
)
st.caption(f"Period: {fmt.period(*agenda.period)} (UTC).")

st.subheader("(b) Late and recurring escalations that no fix answers yet")
render_unanswered(agenda.unanswered)

st.subheader("(c) Fixes due or overdue")
render_due_fixes(agenda.due)

st.subheader("(d) Shipped fixes whose effect can now be judged")
render_to_judge(agenda.to_judge)

st.subheader("(e) Early escalations worth recognising")
render_early(agenda.early)

st.divider()
st.subheader("Log a process fix")
if may_edit:
    render_fix_form(
        context.url,
        sorted(set(context.escalations["trigger_type"].unique().to_list())),
        escalation_labels(context.escalations, agenda.unanswered),
    )
else:
    explain_missing_role(identity, Role.EDITOR)

st.subheader("Follow a fix")
render_fix_detail(context, logged, links, may_edit=may_edit)

st.subheader("Record this week's meeting")
if may_edit:
    render_review_form(context.url)
else:
    explain_missing_role(identity, Role.EDITOR)
