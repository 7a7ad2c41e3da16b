"""Early warning: accounts whose signals drift toward leaving, for a person to judge."""

import polars as pl
import streamlit as st

from dashboard.auth import Role, author_input, current_identity, explain_missing_role
from dashboard.data import (
    account_signals_explained,
    accounts,
    early_warning,
    flag_decisions,
    judged_at,
    similar_cases,
)
from dashboard.early_warning_view import (
    FLAG_LIMIT,
    SETTINGS,
    choose_account,
    draft_for,
    flagged_accounts,
    render_alarm,
    render_decision,
    render_flag_table,
    render_notices,
    render_rule,
    render_why,
)
from dashboard.format import counted, plain
from dashboard.page_context import page_context
from metrics.early_warning import dismissal_reasons, flag_acceptance

context = page_context()
as_of = judged_at()

st.title("Early warning")
st.caption(
    "Accounts whose tickets, chats and calls turn from asking for help to talking "
    "about leaving, before anyone escalated. The sidebar's segment and team filters "
    "narrow the list; period, trigger type and severity do not apply to accounts."
)
render_rule()
render_notices()

state = early_warning(context.url, context.version, context.history_version, as_of)
flagged = flagged_accounts(
    state.flags,
    accounts(context.url, context.history_version),
    context.filters.segments,
    context.filters.teams,
)

st.subheader("Flagged and not yet escalated")
if flagged.is_empty():
    st.success(
        "No account is flagged right now: none has had at least "
        f"{SETTINGS.min_signals} signals in the last {SETTINGS.window_days} days with "
        f"{SETTINGS.exit_share_threshold:.0%} or more of them exit seeking, without "
        "an escalation already open or a dismissal since its latest signal.",
        icon=":material/task_alt:",
    )
else:
    shown = flagged.head(FLAG_LIMIT)
    more = (
        f"; the {FLAG_LIMIT} ranked highest are listed"
        if flagged.height > FLAG_LIMIT
        else ""
    )
    st.caption(f"{counted(flagged.height, 'account')} flagged{more}.")
    render_flag_table(shown)
    account_id = choose_account(shown)
    flag = flagged.filter(pl.col("account_id") == account_id).row(0, named=True)
    signals = account_signals_explained(
        context.url, context.history_version, account_id
    )
    similar = similar_cases(context.url, context.history_version, as_of, account_id)

    st.subheader(f"Why {plain(flag['account_name'])} is flagged")
    render_why(signals, similar, as_of)

    st.subheader("Decide")
    identity = current_identity()
    if identity.may(Role.EDITOR):
        author_input(
            identity, "Recorded as the person who decided, whichever way you decide."
        )
        render_decision(
            context.url,
            flag,
            draft_for(flag["account_name"], signals, similar, as_of),
            sorted(context.escalations["trigger_type"].unique().to_list()),
        )
    else:
        explain_missing_role(identity, Role.EDITOR)

st.subheader("Watch the alarm")
decisions = flag_decisions(context.url, context.version)
render_alarm(
    state.summary,
    flag_acceptance(decisions),
    dismissal_reasons(decisions),
    state.since,
)
