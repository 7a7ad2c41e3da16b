"""Pieces of the Fix impact page: the fixes table and one card per fix."""

import polars as pl
import streamlit as st

from dashboard import format as fmt
from dashboard.measure import CALENDAR, LatencyMeasure

VERDICT_ICONS = {
    "fewer escalations": ":material/trending_down:",
    "more escalations": ":material/trending_up:",
    "no clear change": ":material/trending_flat:",
    "too early to tell": ":material/hourglass_top:",
    "too little data": ":material/help:",
    "not shipped yet": ":material/construction:",
}
RATIO_HELP = (
    "Escalations after ÷ before over equal windows, with an exact 95 % interval "
    "(Clopper–Pearson on after ÷ (before + after), turned into a ratio). Below 1 "
    "means fewer."
)


def interval_text(ratio: float | None, lower: float | None, upper: float | None) -> str:
    """A ratio with its interval, e.g. ``0.52 (0.31–0.84)``."""
    if lower is None or upper is None:
        return fmt.MISSING
    middle = "—" if ratio is None else f"{ratio:.2f}"
    top = "∞" if upper == float("inf") else f"{upper:.2f}"
    return f"{middle} ({lower:.2f}–{top})"


def render_fix_table(impact: pl.DataFrame) -> None:
    """All fixes with verdict, ratio and interval; sortable and downloadable."""
    shown = impact.select(
        "fix_id",
        "trigger_type",
        "verdict",
        "ratio",
        "lower",
        "upper",
        "before",
        "after",
        "others_ratio",
        "ratio_of_ratios",
        "shipped_at",
        "status",
        "owner",
        "title",
    )
    st.dataframe(
        shown,
        hide_index=True,
        width="stretch",
        column_config={
            "fix_id": st.column_config.NumberColumn("Fix", format="%d"),
            "title": st.column_config.TextColumn("Title", width="large"),
            "trigger_type": "Trigger type",
            "owner": "Owner",
            "status": "Status",
            "shipped_at": st.column_config.DatetimeColumn(
                "Shipped (UTC)", format="D MMM YYYY"
            ),
            "verdict": st.column_config.TextColumn(
                "Verdict",
                help="Fewer / more escalations when the whole interval is below / "
                "above 1; too early while the after-window is still running; too "
                "little data under 10 escalations in both windows or none before.",
            ),
            "before": st.column_config.NumberColumn(
                "Before",
                help="Escalations of the type in the window before.",
                format="%d",
            ),
            "after": st.column_config.NumberColumn(
                "After",
                help="Escalations of the type in the window after.",
                format="%d",
            ),
            "ratio": st.column_config.NumberColumn(
                "Ratio", help=RATIO_HELP, format="%.2f"
            ),
            "lower": st.column_config.NumberColumn("95 % low", format="%.2f"),
            "upper": st.column_config.NumberColumn("95 % high", format="%.2f"),
            "others_ratio": st.column_config.NumberColumn(
                "Others' ratio",
                help="The same ratio for every other trigger type over the same "
                "windows: what happened anyway.",
                format="%.2f",
            ),
            "ratio_of_ratios": st.column_config.NumberColumn(
                "Ratio of ratios",
                help="This fix's ratio ÷ the others' ratio. Below 1: a decline beyond "
                "the general trend.",
                format="%.2f",
            ),
        },
    )
    st.download_button(
        "Download all fixes (CSV)",
        shown.write_csv(),
        file_name="fix-impact.csv",
        mime="text/csv",
        icon=":material/download:",
    )


def render_fix_cards(
    impact: pl.DataFrame, window_weeks: int, measure: LatencyMeasure = CALENDAR
) -> None:
    """One card per fix of a trigger type: counts, ratio, baseline, side effects."""
    if impact.is_empty():
        st.caption("No fixes target this trigger type.")
        return
    for fix in impact.sort("shipped_at", nulls_last=True).iter_rows(named=True):
        with st.container(border=True):
            icon = VERDICT_ICONS.get(fix["verdict"], "")
            st.markdown(
                f"**#{fix['fix_id']} {fmt.plain(fix['title'])}** · owner "
                f"{fmt.plain(fix['owner'])} · {fix['status'].replace('_', ' ')}"
            )
            st.markdown(f"{icon} **{fix['verdict'].capitalize()}**")
            if fix["shipped_at"] is None:
                st.caption("Not shipped yet: there is nothing to compare.")
                continue
            window = (
                f"{fmt.day(fix['before_start'])} → {fmt.day(fix['shipped_at'])} → "
                f"{fmt.day(fix['after_end'])}"
            )
            st.caption(
                f"Windows: {window_weeks} weeks each, {window}"
                + ("" if fix["after_complete"] else " (after-window still running)")
            )
            columns = st.columns(4)
            columns[0].metric(
                "Escalations before → after",
                f"{fix['before']} → {fix['after']}",
                help="Escalations of this trigger type in each window.",
            )
            columns[1].metric(
                "Ratio (95 % interval)",
                interval_text(fix["ratio"], fix["lower"], fix["upper"]),
                help=RATIO_HELP,
            )
            columns[2].metric(
                "Other types' ratio",
                interval_text(
                    fix["others_ratio"], fix["others_lower"], fix["others_upper"]
                ),
                help=f"All other trigger types: {fix['others_before']} → "
                f"{fix['others_after']}. What changed without this fix.",
            )
            columns[3].metric(
                "Ratio of ratios",
                fmt.MISSING
                if fix["ratio_of_ratios"] is None
                else f"{fix['ratio_of_ratios']:.2f}",
                help="This fix's ratio ÷ the others' ratio; below 1 is a decline "
                "beyond the general trend.",
            )
            st.dataframe(
                pl.DataFrame(
                    {
                        "Figure": [
                            "Late rate",
                            "Median latency (h)",
                            "Recurrence rate",
                        ],
                        "Before": [
                            fmt.percent(fix["late_rate_before"]),
                            fmt.hours(fix["median_hours_before"], measure.unit),
                            fmt.percent(fix["recurrence_rate_before"]),
                        ],
                        "After": [
                            fmt.percent(fix["late_rate_after"]),
                            fmt.hours(fix["median_hours_after"], measure.unit),
                            fmt.percent(fix["recurrence_rate_after"]),
                        ],
                    }
                ),
                hide_index=True,
            )
