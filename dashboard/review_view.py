"""Read-only pieces of the Repair review page: agenda tables and a fix's record."""

from datetime import UTC, datetime
from typing import Any

import polars as pl
import streamlit as st

from dashboard import format as fmt
from dashboard.data import fix_history, fix_impact_table, judged_at
from dashboard.page_context import PageContext
from dashboard.preread import render_html, render_markdown
from dashboard.review_forms import render_status_form, start_fix_from
from metrics.agenda import Agenda

LINK = st.column_config.LinkColumn("Open", display_text="Open")
WHEN = "D MMM YYYY, HH:mm"


def escalation_labels(
    escalations: pl.DataFrame, unanswered: pl.DataFrame
) -> dict[int, str]:
    """Choices for the fix form's links: the agenda's rows and any prefilled ones.

    Offering every escalation would send the whole history to the browser.
    """
    wanted = set(unanswered["id"].to_list()) | set(
        st.session_state.get("fix_links") or []
    )
    rows = escalations.filter(pl.col("id").is_in(list(wanted))).select(
        "id", "external_id", "account_name", "trigger_type"
    )
    return {
        row[
            "id"
        ]: f"{row['external_id']} · {row['account_name']} · {row['trigger_type']}"
        for row in rows.iter_rows(named=True)
    }


def render_preread_downloads(agenda: Agenda, weekly: pl.DataFrame) -> None:
    """The agenda as Markdown and as one self-contained HTML file."""
    title = f"Repair review pre-read, {fmt.period(*agenda.period)}"
    generated = datetime.now(UTC)
    left, right, _ = st.columns([1, 1, 3])
    left.download_button(
        "Pre-read (Markdown)",
        lambda: render_markdown(agenda, title=title, generated_at=generated),
        file_name="repair-review.md",
        mime="text/markdown",
        icon=":material/description:",
    )
    right.download_button(
        "Pre-read (HTML)",
        lambda: render_html(
            agenda,
            title=title,
            generated_at=generated,
            weekly=weekly,
        ),
        file_name="repair-review.html",
        mime="text/html",
        icon=":material/download:",
    )


def render_unanswered(unanswered: pl.DataFrame) -> None:
    """Late or recurring escalations with no fix; selected rows start a fix."""
    if unanswered.is_empty():
        st.success(
            "Every late or recurring escalation of the period is linked to a fix.",
            icon=":material/task_alt:",
        )
        return
    shown = unanswered.with_columns(
        pl.format("escalation?id={}", pl.col("id")).alias("link")
    )
    event = st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="multi-row",
        key="unanswered_table",
        column_order=[
            "link",
            "reason",
            "external_id",
            "account_name",
            "trigger_type",
            "severity",
            "team",
            "owner",
            "escalated_at",
            "hours_beyond_threshold",
        ],
        column_config={
            "link": LINK,
            "reason": "Why it is here",
            "external_id": "Escalation",
            "account_name": "Account",
            "trigger_type": "Trigger type",
            "severity": "Severity",
            "team": "Team",
            "owner": "Owner",
            "escalated_at": st.column_config.DatetimeColumn("Escalated", format=WHEN),
            "hours_beyond_threshold": st.column_config.NumberColumn(
                "Beyond threshold (h)", format="%.1f"
            ),
        },
    )
    rows = list(event.selection.rows) if event is not None else []
    picked = shown[rows] if rows else shown.head(0)
    first_type = picked["trigger_type"][0] if picked.height else None
    st.button(
        f"Log a fix for the {len(rows)} selected"
        if rows
        else "Select rows to log a fix",
        disabled=not rows,
        on_click=start_fix_from,
        args=(picked["id"].to_list(), first_type),
        icon=":material/build:",
        key="start_fix",
    )


def render_due_fixes(due: pl.DataFrame) -> None:
    """Open fixes due within the week, overdue first and marked."""
    if due.is_empty():
        st.success("No fix is due in the coming week.", icon=":material/task_alt:")
        return
    overdue = int(due["overdue"].sum())
    if overdue:
        st.error(
            f"{overdue} fix{'es are' if overdue > 1 else ' is'} overdue and stay "
            "marked until they move.",
            icon=":material/alarm:",
        )
    st.dataframe(
        due.with_columns(
            pl.when(pl.col("overdue"))
            .then(pl.lit("OVERDUE"))
            .otherwise(pl.lit("due soon"))
            .alias("state")
        ),
        hide_index=True,
        width="stretch",
        column_order=[
            "state",
            "id",
            "title",
            "trigger_type",
            "owner",
            "status",
            "due_at",
            "days_overdue",
        ],
        column_config={
            "state": "State",
            "id": st.column_config.NumberColumn("Fix", format="%d"),
            "title": "Title",
            "trigger_type": "Trigger type",
            "owner": "Owner",
            "status": "Status",
            "due_at": st.column_config.DatetimeColumn("Due", format="D MMM YYYY"),
            "days_overdue": st.column_config.NumberColumn(
                "Days overdue", help="Negative: days left.", format="%.1f"
            ),
        },
    )


def render_to_judge(to_judge: pl.DataFrame) -> None:
    """Shipped fixes with a complete after-window, and their verdicts."""
    if to_judge.is_empty():
        st.info(
            "No shipped fix has a complete after-window yet: nothing to judge.",
            icon=":material/hourglass_top:",
        )
        return
    st.dataframe(
        to_judge,
        hide_index=True,
        width="stretch",
        column_config={
            "fix_id": st.column_config.NumberColumn("Fix", format="%d"),
            "title": "Title",
            "trigger_type": "Trigger type",
            "verdict": "Verdict",
            "ratio": st.column_config.NumberColumn("Ratio", format="%.2f"),
            "lower": st.column_config.NumberColumn("95 % low", format="%.2f"),
            "upper": st.column_config.NumberColumn("95 % high", format="%.2f"),
            "shipped_at": st.column_config.DatetimeColumn(
                "Shipped", format="D MMM YYYY"
            ),
        },
    )
    st.caption(
        "Verified fixes leave this list: mark a fix verified once the review "
        "accepts its verdict."
    )


def render_early(early: pl.DataFrame) -> None:
    """Escalations raised well inside their threshold: surfacing risk pays."""
    if early.is_empty():
        st.info("No escalation of the period was raised well inside its threshold.")
        return
    st.dataframe(
        early.with_columns(
            pl.format("escalation?id={}", pl.col("id")).alias("link"),
            (pl.col("share_of_threshold") * 100),
        ),
        hide_index=True,
        width="stretch",
        column_order=[
            "link",
            "account_name",
            "trigger_type",
            "severity",
            "team",
            "owner",
            "raised_via",
            "latency_hours",
            "share_of_threshold",
        ],
        column_config={
            "link": LINK,
            "account_name": "Account",
            "trigger_type": "Trigger type",
            "severity": "Severity",
            "team": "Team",
            "owner": "Owner",
            "raised_via": "Raised via",
            "latency_hours": st.column_config.NumberColumn(
                "Latency (h)", format="%.1f"
            ),
            "share_of_threshold": st.column_config.NumberColumn(
                "% of threshold used", format="%.0f%%"
            ),
        },
    )


def _verdict(context: PageContext, fix_id: int) -> dict[str, Any]:
    scope = (context.filters.business_hours, (), (), ())
    impact = fix_impact_table(
        context.url,
        context.version,
        context.history_version,
        scope,
        window_weeks=8,
        as_of=judged_at(),
    )
    return impact.filter(pl.col("fix_id") == fix_id).row(0, named=True)


def render_fix_detail(
    context: PageContext,
    logged: pl.DataFrame,
    links: pl.DataFrame,
    *,
    may_edit: bool = True,
) -> None:
    """One fix: its facts, verdict, linked escalations, history and next step.

    Without ``may_edit`` the next-step form is left out: the record is read only.
    """
    if logged.is_empty():
        st.caption("No fixes logged yet.")
        return
    titles = {
        row["id"]: f"#{row['id']} {row['title']}"
        for row in logged.select("id", "title").iter_rows(named=True)
    }
    fix_id = st.selectbox(
        "Fix",
        list(titles),
        format_func=titles.__getitem__,
        index=None,
        key="fix",
        bind="query-params",
        placeholder="Choose a fix to see its record",
    )
    if fix_id is None:
        return
    fix = logged.filter(pl.col("id") == fix_id).row(0, named=True)
    verdict = _verdict(context, fix_id)

    facts = st.columns(4)
    facts[0].metric("Status", fix["status"].replace("_", " "))
    # A metric's value is Markdown: an owner could otherwise carry a link.
    facts[1].metric("Owner", fmt.plain(fix["owner"]))
    facts[2].metric("Due", fmt.day(fix["due_at"]))
    facts[3].metric(
        "Verdict",
        verdict["verdict"],
        help="Escalations of the trigger type in the 8 weeks after shipping "
        "against the 8 weeks before (see Fix impact).",
    )
    st.markdown(f"**Expected effect:** {fmt.plain(fix['expected_effect'])}")
    if fix.get("abandon_reason"):
        st.markdown(f"**Abandoned because:** {fmt.plain(fix['abandon_reason'])}")

    linked = links.filter(pl.col("fix_id") == fix_id)["escalation_id"].to_list()
    rows = context.escalations.filter(pl.col("id").is_in(linked))
    st.markdown(f"**Linked escalations ({len(linked)})**")
    if rows.height:
        st.dataframe(
            rows.select(
                pl.format("escalation?id={}", pl.col("id")).alias("link"),
                "external_id",
                "account_name",
                "trigger_type",
                "escalated_at",
                "is_late",
            ),
            hide_index=True,
            width="stretch",
            column_config={
                "link": LINK,
                "external_id": "Escalation",
                "account_name": "Account",
                "trigger_type": "Trigger type",
                "escalated_at": st.column_config.DatetimeColumn(
                    "Escalated", format=WHEN
                ),
                "is_late": st.column_config.CheckboxColumn("Late"),
            },
        )

    history = fix_history(context.url, context.version, fix_id)
    st.markdown("**History**")
    st.dataframe(
        history.select("at", "author", "field", "old_value", "new_value"),
        hide_index=True,
        width="stretch",
        column_config={
            "at": st.column_config.DatetimeColumn("When (UTC)", format=WHEN),
            "author": "Who",
            "field": "What",
            "old_value": "Before",
            "new_value": "After",
        },
    )
    if may_edit:
        render_status_form(context.url, fix)
