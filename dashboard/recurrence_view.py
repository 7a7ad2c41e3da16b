"""Pieces of the Recurrence page: the per-type table and repeat accounts."""

import polars as pl
import streamlit as st

from dashboard import format as fmt
from metrics.recurrence_views import repeat_chains

ACCOUNT_LIMIT = 300


def render_recurrence_table(by_type: pl.DataFrame, window_days: int) -> None:
    """Recurring beside all escalations per trigger type, sortable."""
    st.dataframe(
        by_type.with_columns(pl.col("recurrence_rate") * 100),
        hide_index=True,
        width="stretch",
        column_config={
            "trigger_type": "Trigger type",
            "escalations": st.column_config.NumberColumn(
                "Escalations", help="Escalations in the period.", format="%d"
            ),
            "recurring": st.column_config.NumberColumn(
                "Recurring",
                help=f"Of those, how many had one of the same account and type in "
                f"the {window_days} days before.",
                format="%d",
            ),
            "recurrence_rate": st.column_config.NumberColumn(
                "Recurring %", help="Recurring ÷ escalations.", format="%.1f%%"
            ),
            "accounts_with_repeats": st.column_config.NumberColumn(
                "Accounts with repeats",
                help="Accounts with two or more escalations of this type in the "
                "period.",
                format="%d",
            ),
        },
    )


def render_repeat_accounts(
    accounts: pl.DataFrame, chosen: pl.DataFrame, window_days: int
) -> None:
    """Accounts with chains; selecting one lists its chain with links."""
    if accounts.is_empty():
        st.success(
            f"No account escalated the same trigger type twice within "
            f"{window_days} days in this period.",
            icon=":material/task_alt:",
        )
        return
    shown = accounts.head(ACCOUNT_LIMIT)
    st.caption(
        f"{accounts.height:,} account and trigger type pairs with a chain"
        + (
            f" (the {ACCOUNT_LIMIT} longest shown)"
            if accounts.height > ACCOUNT_LIMIT
            else ""
        )
        + ". Select one to see its chain."
    )
    event = st.dataframe(
        shown.drop("ids"),
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        key="repeat_accounts",
        column_order=[c for c in shown.columns if c not in {"ids", "account_id"}],
        column_config={
            "account_name": "Account",
            "trigger_type": "Trigger type",
            "chain_length": st.column_config.NumberColumn(
                "Longest chain",
                help=f"Escalations in a row, each within {window_days} days of the "
                "one before.",
                format="%d",
            ),
            "escalations": st.column_config.NumberColumn(
                "Escalations", help="All of this type for the account.", format="%d"
            ),
            "first_at": st.column_config.DatetimeColumn(
                "First (UTC)", format="D MMM YYYY"
            ),
            "last_at": st.column_config.DatetimeColumn(
                "Last (UTC)", format="D MMM YYYY"
            ),
        },
    )
    rows = event.selection.rows if event is not None else []
    if not rows:
        return
    picked = shown.row(rows[0], named=True)
    chain = (
        repeat_chains(
            chosen.filter(
                (pl.col("account_id") == picked["account_id"])
                & (pl.col("trigger_type") == picked["trigger_type"])
            ),
            window_days,
        )
        .join(chosen.select("id", "severity", "status", "is_late"), on="id", how="left")
        .with_columns(pl.format("escalation?id={}", pl.col("id")).alias("link"))
    )
    st.markdown(
        f"**Chain of {fmt.plain(picked['trigger_type'])} at "
        f"{fmt.plain(picked['account_name'])}**"
    )
    st.dataframe(
        chain.select(
            "link",
            "chain_id",
            "position",
            "escalated_at",
            "gap_days",
            "severity",
            "is_late",
            "status",
        ),
        hide_index=True,
        width="stretch",
        column_config={
            "link": st.column_config.LinkColumn("Open", display_text="Open"),
            "chain_id": st.column_config.NumberColumn("Chain", format="%d"),
            "position": st.column_config.NumberColumn("Step", format="%d"),
            "escalated_at": st.column_config.DatetimeColumn(
                "Escalated (UTC)", format="D MMM YYYY, HH:mm"
            ),
            "gap_days": st.column_config.NumberColumn(
                "Days since previous", format="%.1f"
            ),
            "severity": "Severity",
            "is_late": st.column_config.CheckboxColumn("Late"),
            "status": "Status",
        },
    )
