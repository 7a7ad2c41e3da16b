"""Plotly figure builders. They return figures and never call ``st.*``."""

import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

VOLUME_COLOUR = "#4C78A8"
LATE_COLOUR = "#E45756"


def weekly_trend_figure(weekly: pl.DataFrame) -> go.Figure:
    """Bars of weekly escalation volume with the late rate as a line.

    ``weekly`` has one row per ISO week: week_start, escalations, late,
    late_rate (null for a week without escalations, drawn as a gap).
    """
    figure = make_subplots(specs=[[{"secondary_y": True}]])
    weeks = weekly["week_start"].to_list()
    figure.add_trace(
        go.Bar(
            x=weeks,
            y=weekly["escalations"].to_list(),
            name="Escalations",
            marker_color=VOLUME_COLOUR,
            hovertemplate="Week of %{x|%d %b %Y}<br>%{y} escalations<extra></extra>",
        ),
        secondary_y=False,
    )
    figure.add_trace(
        go.Scatter(
            x=weeks,
            y=weekly["late_rate"].to_list(),
            name="Late rate",
            mode="lines+markers",
            line={"color": LATE_COLOUR, "width": 2},
            customdata=weekly["late"].to_list(),
            hovertemplate=(
                "Week of %{x|%d %b %Y}<br>%{y:.0%} late (%{customdata} escalations)"
                "<extra></extra>"
            ),
            connectgaps=False,
        ),
        secondary_y=True,
    )
    figure.update_layout(
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        legend={"orientation": "h", "y": 1.12, "x": 0},
        hovermode="x unified",
        bargap=0.15,
        height=360,
    )
    figure.update_xaxes(title_text="ISO week (Monday start, UTC)")
    figure.update_yaxes(title_text="Escalations", rangemode="tozero", secondary_y=False)
    figure.update_yaxes(
        title_text="Late rate",
        tickformat=".0%",
        range=[0, 1],
        secondary_y=True,
        showgrid=False,
    )
    return figure
