"""The Early warning page's parts: the flagged accounts, why, the decision, the alarm.

The tone model only flags. Every write on this page is one person's decision,
taken with a button and recorded with that person's name: opening an escalation
from the packet as they edited it, or dismissing the flag with a reason.
"""

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import plotly.graph_objects as go
import polars as pl
import streamlit as st
from plotly.subplots import make_subplots
from sqlalchemy.exc import SQLAlchemyError

from dashboard import format as fmt
from dashboard.auth import AUTHOR_KEY
from dashboard.data import get_engine
from dashboard.form_state import FormState
from db.early_warning import (
    FIELD_LIMITS,
    EscalationPacket,
    FlagValidationError,
    dismiss_flag,
    open_escalation_from_flag,
)
from db.models import DismissReason, Severity
from metrics.early_warning import (
    DEFAULT_EARLY_WARNING_SETTINGS,
    DraftPacket,
    EarlyWarningSettings,
    account_trajectory,
    draft_packet,
)
from metrics.tone import EXIT_SEEKING, FRUSTRATED, HELP_SEEKING

log = logging.getLogger(__name__)

SETTINGS = DEFAULT_EARLY_WARNING_SETTINGS
ESCALATION_PAGE = Path(__file__).resolve().parents[1] / "pages" / "escalation.py"
# A page lists this many flags at most; a person works through them in rank order.
FLAG_LIMIT = 100
OPEN_FORM = FormState("ew_open")
DISMISS_FORM = FormState("ew_dismiss")
ACCOUNT_KEY = "ew_account"
DRAFT_FOR_KEY = "ew_draft_for"

TONE_LABELS = {
    HELP_SEEKING: "help seeking",
    FRUSTRATED: "frustrated",
    EXIT_SEEKING: "exit seeking",
}
TONE_COLOURS = {HELP_SEEKING: "#72B7B2", FRUSTRATED: "#F58518", EXIT_SEEKING: "#E45756"}
REASON_LABELS = {
    DismissReason.ALREADY_HANDLED.value: "Already handled elsewhere",
    DismissReason.NOT_A_RISK.value: "Not a risk: the model misread the signals",
    DismissReason.KNOWN_ISSUE_IN_HAND.value: "Known issue, already in hand",
    DismissReason.CUSTOMER_CONFIRMED_OK.value: "The customer confirmed all is well",
    DismissReason.OTHER.value: "Other (say why)",
}
# The packet fields a person edits, with the question each one answers.
PACKET_WIDGETS = (
    ("risk", "Risk, in one sentence"),
    ("evidence", "What evidence triggered this"),
    ("decision_needed", "What decision is needed"),
    ("options", "Options"),
    ("consequence_if_unchanged", "What happens if nothing changes"),
    ("exit_evidence", "What evidence will prove the risk is gone"),
)


def render_rule(settings: EarlyWarningSettings = SETTINGS) -> None:
    """What a flag means and what the model may not do, above everything else."""
    st.info(
        "The tone model reads every ticket, chat, call and review and flags an "
        "account when, over the last "
        f"{settings.window_days} days, at least {settings.min_signals} signals "
        f"arrived and at least {settings.exit_share_threshold:.0%} of them read as "
        "exit seeking. It only flags. **Nothing is escalated, assigned or sent to "
        "a customer automatically:** a person opens an escalation or dismisses "
        "the flag below, and their name is recorded with the decision.",
        icon=":material/front_hand:",
    )


def flagged_accounts(
    flags: pl.DataFrame,
    accounts: pl.DataFrame,
    segments: tuple[str, ...],
    teams: tuple[str, ...],
) -> pl.DataFrame:
    """The flags with their account's name, segment and team, sidebar-filtered."""
    joined = flags.join(accounts, on="account_id", how="left", maintain_order="left")
    if segments:
        joined = joined.filter(pl.col("segment").is_in(segments))
    if teams:
        joined = joined.filter(pl.col("team").is_in(teams))
    return joined


def render_flag_table(flagged: pl.DataFrame) -> None:
    """The flagged accounts, highest exit-seeking share first."""
    shown = flagged
    st.dataframe(
        shown.select(
            "rank",
            "account_name",
            "team",
            "segment",
            "flagged_since",
            "signals_in_window",
            "exit_seeking",
            "frustrated",
            "exit_share",
            "last_signal_at",
        ),
        hide_index=True,
        width="stretch",
        column_config={
            "rank": st.column_config.NumberColumn(
                "Rank",
                help="By exit-seeking share, then exit-seeking count, then the "
                "newest signal.",
            ),
            "account_name": "Account",
            "team": "Team",
            "segment": "Segment",
            "flagged_since": st.column_config.DatetimeColumn(
                "Flagged since (UTC)",
                format="D MMM YYYY",
                help="The first signal of the current unbroken run of flagged windows.",
            ),
            "signals_in_window": st.column_config.NumberColumn(
                "Signals",
                help=f"Signals in the last {SETTINGS.window_days} days.",
            ),
            "exit_seeking": st.column_config.NumberColumn(
                "Exit seeking", help="Signals the model read as exit seeking."
            ),
            "frustrated": st.column_config.NumberColumn(
                "Frustrated", help="Signals the model read as frustrated."
            ),
            "exit_share": st.column_config.ProgressColumn(
                "Exit share",
                format="percent",
                min_value=0.0,
                max_value=1.0,
                help="Exit-seeking signals ÷ all signals in the window.",
            ),
            "last_signal_at": st.column_config.DatetimeColumn(
                "Latest signal (UTC)", format="D MMM YYYY"
            ),
        },
    )


def choose_account(flagged: pl.DataFrame) -> int:
    """The flagged account to look at, chosen by name (the top one at first)."""
    names = dict(flagged.select("account_id", "account_name").iter_rows())
    options = list(names)
    if st.session_state.get(ACCOUNT_KEY) not in names:
        st.session_state[ACCOUNT_KEY] = options[0]
    chosen = st.selectbox(
        "Account to review",
        options,
        key=ACCOUNT_KEY,
        format_func=lambda account_id: f"{names[account_id]} (#{account_id})",
    )
    return int(chosen)


SMALL_COUNT = 8
"""Up to this many signals in the busiest week, the count axis ticks every one."""


def trajectory_figure(
    trajectory: pl.DataFrame, threshold: float = SETTINGS.exit_share_threshold
) -> go.Figure:
    """Weekly signals by tone as stacked bars, the rolling exit share as a line."""
    figure = make_subplots(specs=[[{"secondary_y": True}]])
    weeks = trajectory["week_start"].to_list()
    for tone in (HELP_SEEKING, FRUSTRATED, EXIT_SEEKING):
        figure.add_trace(
            go.Bar(
                x=weeks,
                y=trajectory[tone].to_list(),
                name=TONE_LABELS[tone],
                marker_color=TONE_COLOURS[tone],
                hovertemplate=f"Week of %{{x|%d %b %Y}}<br>%{{y}} {TONE_LABELS[tone]}"
                "<extra></extra>",
            ),
            secondary_y=False,
        )
    figure.add_trace(
        go.Scatter(
            x=weeks,
            y=trajectory["rolling_exit_share"].to_list(),
            name=f"Exit share, last {SETTINGS.window_days} days",
            mode="lines+markers",
            line={"color": "#54A24B", "width": 2},
            hovertemplate="Week of %{x|%d %b %Y}<br>%{y:.0%} exit seeking"
            "<extra></extra>",
        ),
        secondary_y=True,
    )
    figure.add_hline(
        y=threshold,
        line_dash="dot",
        line_color="#54A24B",
        secondary_y=True,
        annotation_text=f"flag at {threshold:.0%}",
        annotation_position="top left",
    )
    figure.update_layout(
        barmode="stack",
        height=320,
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        legend={"orientation": "h", "y": -0.2},
    )
    # Signals are whole numbers: on a quiet account plotly would put ticks at
    # 0.5. Shares get their own quarter ticks rather than ticks lined up with
    # the counts' grid (24 %, 47 %...).
    peak = int(trajectory["signals"].max() or 0)  # type: ignore[arg-type]
    figure.update_yaxes(
        title_text="Signals",
        rangemode="tozero",
        tickformat=",d",
        dtick=1 if peak <= SMALL_COUNT else None,
        secondary_y=False,
    )
    figure.update_yaxes(
        title_text="Exit share",
        range=[0, 1],
        tickmode="array",
        tickvals=[0, 0.25, 0.5, 0.75, 1],
        tickformat=".0%",
        showgrid=False,
        secondary_y=True,
    )
    return figure


def render_why(
    signals: pl.DataFrame,
    similar: pl.DataFrame,
    as_of: datetime,
) -> None:
    """The account's tone over time, the window's signals and similar past cases."""
    trajectory = account_trajectory(
        signals.select("account_id", "observed_at", "tone"),
        as_of=as_of,
    ).filter(pl.col("week_start") >= (as_of - timedelta(weeks=16)).date())
    st.plotly_chart(trajectory_figure(trajectory), width="stretch")
    st.caption(
        "Bars: the account's signals per week by the tone the model read. Line: the "
        f"exit-seeking share of the {SETTINGS.window_days} days ending that week."
    )

    window = signals.filter(
        pl.col("observed_at") > as_of - SETTINGS.window,
        pl.col("observed_at") <= as_of,
    ).sort("observed_at", descending=True)
    st.markdown(
        f"**The {window.height} signals of the last {SETTINGS.window_days} days**"
    )
    st.dataframe(
        window.select(
            "observed_at",
            "source",
            pl.col("tone").replace_strict(TONE_LABELS, default=pl.col("tone")),
            pl.col("phrases").list.join(", "),
            "text",
        ),
        hide_index=True,
        width="stretch",
        column_config={
            "observed_at": st.column_config.DatetimeColumn(
                "Observed (UTC)", format="D MMM YYYY, HH:mm"
            ),
            "source": "Source",
            "tone": st.column_config.TextColumn(
                "Tone", help="The model's label for the text."
            ),
            "phrases": st.column_config.TextColumn(
                "Phrases that decided it",
                help="The phrases the model matched for the tone it chose.",
            ),
            "text": st.column_config.TextColumn("Text", width="large"),
        },
    )

    st.markdown("**Similar past cases**")
    if similar.is_empty():
        st.caption(
            "No late or recurring escalation had a run-up of "
            f"{SETTINGS.trajectory_weeks} weeks within "
            f"{SETTINGS.min_similarity:.0%} similarity of this account's."
        )
        return
    st.caption(
        f"This account follows the path of {SETTINGS.trajectory_weeks} weeks that "
        "preceded these escalations. Similarity = 1 − the mean difference of the "
        "weekly exit-seeking and frustrated shares."
    )
    st.dataframe(
        similar.select(
            pl.format("escalation?id={}", pl.col("escalation_id")).alias("link"),
            "similarity",
            "past_account_name",
            "trigger_type",
            "escalated_at",
            "why",
        ),
        hide_index=True,
        width="stretch",
        column_config={
            "link": st.column_config.LinkColumn("Open", display_text="Open"),
            "similarity": st.column_config.ProgressColumn(
                "Similarity", format="percent", min_value=0.0, max_value=1.0
            ),
            "past_account_name": "Account",
            "trigger_type": "Trigger type",
            "escalated_at": st.column_config.DatetimeColumn(
                "Escalated (UTC)", format="D MMM YYYY"
            ),
            "why": "Why it matters",
        },
    )


def _prefill(flag_key: str, draft: DraftPacket) -> None:
    """Put the draft in the form's fields once per flag, never over a person's edits."""
    if st.session_state.get(DRAFT_FOR_KEY) == flag_key:
        return
    for field, _ in PACKET_WIDGETS:
        st.session_state[f"ew_open_{field}"] = getattr(draft, field)
    for key in ("ew_open_owner", "ew_open_next_owner", "ew_dismiss_reason"):
        st.session_state.pop(key, None)
    st.session_state[DRAFT_FOR_KEY] = flag_key
    OPEN_FORM.renew_token()
    DISMISS_FORM.renew_token()


def _text(key: str) -> str:
    return str(st.session_state.get(key) or "").strip()


def _flag_facts(flag: dict[str, object]) -> dict[str, Any]:
    """What every decision records about the flag it answers, as it stood."""
    return {
        "account_id": int(str(flag["account_id"])),
        "flagged_since": flag["flagged_since"],
        "exit_share": float(str(flag["exit_share"])),
        "signals_in_window": int(str(flag["signals_in_window"])),
        "decided_by": _text(AUTHOR_KEY),
        "now": datetime.now(UTC),
    }


def _decide(form: FormState, write: Callable[[], int]) -> int | None:
    """Run one decision's write; refusals become messages, never a traceback."""
    try:
        return write()
    except FlagValidationError as error:
        form.fail(error.errors)
    except SQLAlchemyError:
        log.exception("Writing the decision of form %s failed", form.name)
        form.fail(
            {
                "_form": "The database refused the change; nothing was saved. Try "
                "again, and tell your administrator if it keeps happening."
            }
        )
    return None


def _submit_open(url: str, flag: dict[str, object], evidence: tuple[int, ...]) -> None:
    packet = EscalationPacket(
        **{field: _text(f"ew_open_{field}") for field, _ in PACKET_WIDGETS},
        next_owner=_text("ew_open_next_owner") or None,
    )
    escalation_id = _decide(
        OPEN_FORM,
        lambda: open_escalation_from_flag(
            get_engine(url),
            owner=_text("ew_open_owner"),
            severity=str(st.session_state.get("ew_open_severity") or ""),
            trigger_type=_text("ew_open_trigger"),
            packet=packet,
            evidence_signal_ids=evidence,
            token=OPEN_FORM.token,
            **_flag_facts(flag),
        ),
    )
    if escalation_id is None:
        return
    OPEN_FORM.succeed(
        f"Opened escalation #{escalation_id} for {flag['account_name']}, decided by "
        f"{_text(AUTHOR_KEY)}."
    )
    st.session_state["ew_opened_id"] = escalation_id
    st.session_state.pop(DRAFT_FOR_KEY, None)


def _submit_dismiss(url: str, flag: dict[str, object]) -> None:
    decided = _decide(
        DISMISS_FORM,
        lambda: dismiss_flag(
            get_engine(url),
            reason_category=str(st.session_state.get("ew_dismiss_category") or ""),
            reason=_text("ew_dismiss_reason"),
            token=DISMISS_FORM.token,
            **_flag_facts(flag),
        ),
    )
    if decided is None:
        return
    DISMISS_FORM.succeed(
        f"Dismissed the flag on {flag['account_name']}, decided by "
        f"{_text(AUTHOR_KEY)}. It comes back if a newer signal keeps the account "
        "over the threshold."
    )
    st.session_state.pop(DRAFT_FOR_KEY, None)


def render_notices() -> None:
    """What the last decision on this page did, with a link to what it created."""
    for form in (OPEN_FORM, DISMISS_FORM):
        if form.notice:
            st.success(fmt.plain(form.notice), icon=":material/task_alt:")
    opened = st.session_state.get("ew_opened_id")
    if OPEN_FORM.notice and opened:
        st.page_link(
            ESCALATION_PAGE,
            label=f"Open escalation #{opened}",
            query_params={"id": str(opened)},
            icon=":material/description:",
        )


def render_decision(
    url: str,
    flag: dict[str, object],
    draft: DraftPacket,
    trigger_types: list[str],
) -> None:
    """The two decisions a person can take on a flag, each with its own button."""
    flag_key = f"{flag['account_id']}@{flag['flagged_since']}"
    _prefill(flag_key, draft)
    st.caption(
        "The draft below was written from the signals; edit it until it says what "
        "you would tell the decision owner. Your name is recorded as the person "
        "who decided."
    )
    opening, dismissing = st.tabs(["Open an escalation", "Dismiss the flag"])
    with opening, st.form("ew_open_form"):
        OPEN_FORM.show_form_error()
        for field, label in PACKET_WIDGETS:
            st.text_area(
                label,
                key=f"ew_open_{field}",
                height=110,
                help=f"At most {FIELD_LIMITS[field]:,} characters.",
            )
            OPEN_FORM.show_field_error(field)
        left, middle, right = st.columns(3)
        with left:
            st.text_input(
                "Owner of the escalation",
                key="ew_open_owner",
                help="Who can act on this risk: a person with the authority it needs.",
            )
            OPEN_FORM.show_field_error("owner")
            st.text_input(
                "Who owns the next move",
                key="ew_open_next_owner",
                help="Optional: the person expected to take the next step.",
            )
            OPEN_FORM.show_field_error("next_owner")
        with middle:
            st.selectbox(
                "Severity",
                [severity.value for severity in Severity],
                index=1,
                key="ew_open_severity",
            )
            OPEN_FORM.show_field_error("severity")
        with right:
            st.selectbox(
                "Trigger type",
                trigger_types,
                key="ew_open_trigger",
                accept_new_options=True,
                help="Choose one, or type a new one.",
            )
            OPEN_FORM.show_field_error("trigger_type")
        OPEN_FORM.show_field_error("decided_by")
        st.form_submit_button(
            "Open escalation",
            type="primary",
            icon=":material/outgoing_mail:",
            on_click=_submit_open,
            args=(url, flag, draft.evidence_signal_ids),
        )
    with dismissing, st.form("ew_dismiss_form"):
        DISMISS_FORM.show_form_error()
        st.selectbox(
            "Why is no escalation needed",
            list(REASON_LABELS),
            format_func=REASON_LABELS.__getitem__,
            key="ew_dismiss_category",
        )
        DISMISS_FORM.show_field_error("reason_category")
        st.text_area(
            "In a sentence or two",
            key="ew_dismiss_reason",
            help="Read at the next review of the alarm: say what you know that the "
            "model does not.",
        )
        DISMISS_FORM.show_field_error("reason")
        DISMISS_FORM.show_field_error("decided_by")
        st.form_submit_button(
            "Dismiss flag",
            icon=":material/do_not_disturb_on:",
            on_click=_submit_dismiss,
            args=(url, flag),
        )


def render_alarm(
    summary: pl.DataFrame,
    acceptance: pl.DataFrame,
    reasons: pl.DataFrame,
    since: datetime,
) -> None:
    """Whether the alarm deserves attention: the backtest and people's answers."""
    row = summary.row(0, named=True)
    accepted = acceptance.row(0, named=True)
    first, second, third, fourth = st.columns(4)
    first.metric(
        "Late escalations flagged ahead",
        fmt.percent(row["late_flagged_ahead_share"]),
        help=f"Of {fmt.count(row['late_escalations'])} late escalations in the "
        "history, the share whose account was flagged in the "
        f"{SETTINGS.lookback_days} days "
        "before it was escalated, counting only signals before that moment.",
        border=True,
    )
    second.metric(
        "Median lead",
        fmt.hours(row["late_median_lead_days"], "days"),
        help="For late escalations flagged ahead: days from the first flag to the "
        "escalation, the median.",
        border=True,
    )
    third.metric(
        "Flags that led nowhere",
        fmt.percent(row["led_nowhere_share"]),
        help=f"Of {fmt.count(row['episodes_judged'])} runs of flags whose "
        f"{SETTINGS.horizon_days} days are over, the share no escalation of that "
        "account followed within those days.",
        border=True,
    )
    fourth.metric(
        "Flags people accepted",
        fmt.percent(accepted["acceptance_rate"]),
        help=f"Of {fmt.count(accepted['decided'])} decisions taken on this page, the "
        "share that opened an escalation.",
        border=True,
    )
    st.caption(
        f"Backtest on the signals since {fmt.day(since)}, judging the "
        f"{fmt.count(row['escalations'])} escalations raised from "
        f"{fmt.day(since + timedelta(days=SETTINGS.lookback_days))} on: "
        f"{fmt.percent(row['flagged_ahead_share'])} of them flagged ahead; "
        f"{fmt.count(row['episodes'])} runs of flags. If most flags lead "
        "nowhere and people dismiss most of them, the threshold needs raising "
        "before the alarm becomes noise."
    )
    if reasons.is_empty():
        st.caption("No flag has been dismissed yet.")
        return
    st.dataframe(
        reasons.with_columns(
            pl.col("reason_category").replace_strict(
                REASON_LABELS, default=pl.col("reason_category")
            )
        ),
        hide_index=True,
        column_config={
            "reason_category": "Why people dismissed flags",
            "count": "Dismissals",
            "share": st.column_config.NumberColumn("Share", format="percent"),
        },
    )


def draft_for(
    account_name: str, signals: pl.DataFrame, similar: pl.DataFrame, as_of: datetime
) -> DraftPacket:
    """The draft packet for one flagged account (the signals carry their phrases)."""
    return draft_packet(account_name, signals, similar, as_of=as_of)
