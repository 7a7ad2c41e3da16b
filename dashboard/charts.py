"""Plotly figure builders. They return figures and never call ``st.*``.

Plotly draws tags such as ``<a href>`` found in any label or hover text, so every
value that came from the data passes through :func:`dashboard.format.chart_text`
before it becomes a category, a label or hover text.
"""

import math
from datetime import timedelta

import numpy as np
import numpy.typing as npt
import plotly.graph_objects as go
import polars as pl
from plotly.subplots import make_subplots

from dashboard.format import chart_text

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
        tickmode="linear",
        tick0=0,
        dtick=0.25,
        secondary_y=True,
        showgrid=False,
    )
    return figure


SEVERITY_COLOURS = {
    "critical": "#B2182B",
    "high": "#EF8A62",
    "medium": "#67A9CF",
    "low": "#2166AC",
}
TONE_COLOURS = {
    "help_seeking": "#54A24B",
    "frustrated": "#F58518",
    "exit_seeking": "#E45756",
}


def latency_bins(
    latency_hours: npt.NDArray[np.float64], *, log_scale: bool, bins: int = 60
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64], float]:
    """Left edges (in axis units), counts and width of equal latency bins.

    Binning here rather than in plotly keeps the figure to sixty bars however
    many escalations there are: sending a million values to the browser took
    a third of a second a rerun. On a log axis each value is log10 of its hours,
    zero latencies placed at the smallest positive one.
    """
    values = latency_hours[~np.isnan(latency_hours)]
    if log_scale:
        positive = values[values > 0]
        floor = float(positive.min()) if positive.size else 0.1
        values = np.log10(np.maximum(values, floor))
    if values.size == 0:
        return np.empty(0), np.empty(0, dtype=np.int64), 1.0
    low, high = float(values.min()), float(values.max())
    if high == low:
        high = low + 1.0
    counts, edges = np.histogram(values, bins=bins, range=(low, high))
    return edges[:-1], counts.astype(np.int64), float(edges[1] - edges[0])


def latency_histogram_figure(
    latency_hours: npt.NDArray[np.float64],
    thresholds: dict[str, float],
    *,
    log_scale: bool,
    unit: str = "h",
) -> go.Figure:
    """Distribution of signal-to-escalation latency, thresholds marked.

    On a log axis, zero latencies cannot be drawn; they are shown at the
    smallest positive bin and the caller says so.
    """
    figure = go.Figure()
    starts, counts, width = latency_bins(latency_hours, log_scale=log_scale)
    if log_scale:
        ends = starts + width
        hover = [
            f"{10**a:.3g}–{10**b:.3g} {unit}" for a, b in zip(starts, ends, strict=True)
        ]
    else:
        hover = [f"{a:,.1f}–{a + width:,.1f} {unit}" for a in starts]
    figure.add_trace(
        go.Bar(
            x=(starts + width / 2).tolist(),
            y=counts.tolist(),
            width=width,
            customdata=hover,
            marker_color=VOLUME_COLOUR,
            hovertemplate="%{customdata}<br>%{y} escalations<extra></extra>",
            name="Escalations",
        )
    )
    if log_scale:
        positive = latency_hours[latency_hours > 0]
        floor = float(positive.min()) if positive.size else 0.1
        ticks = [
            v for v in (0.1, 1, 4, 12, 24, 72, 168, 336, 1000, 3000) if v >= floor / 10
        ]
        figure.update_xaxes(
            tickvals=[math.log10(v) for v in ticks],
            ticktext=[f"{v:g}" for v in ticks],
            title_text=f"Signal → escalation ({unit}, log scale)",
        )

        def position(value: float) -> float:
            return math.log10(value)

    else:
        figure.update_xaxes(title_text=f"Signal → escalation ({unit})")

        def position(value: float) -> float:
            return value

    # Labels step down the chart so that close thresholds do not overprint.
    for step, (severity, hours) in enumerate(thresholds.items()):
        if log_scale and hours <= 0:
            continue
        colour = SEVERITY_COLOURS.get(severity, "#555")
        figure.add_vline(x=position(hours), line={"color": colour, "dash": "dash"})
        figure.add_annotation(
            x=position(hours),
            y=1.0 - 0.09 * step,
            yref="paper",
            text=f"{severity} {hours:g} {unit}",
            showarrow=False,
            xanchor="left",
            font={"color": colour, "size": 11},
            bgcolor="rgba(255,255,255,0.8)",
        )
    figure.update_layout(
        margin={"l": 10, "r": 10, "t": 40, "b": 10},
        height=340,
        showlegend=False,
        bargap=0.05,
    )
    figure.update_yaxes(title_text="Escalations")
    return figure


def breakdown_figure(breakdown: pl.DataFrame, dimension: str, label: str) -> go.Figure:
    """Late rate per value of a dimension, one bar each, counts in the hover.

    The dimension value rides in ``customdata`` so that a click maps back to it;
    like the label it is escaped there (``html.unescape`` gives it back).
    """
    values = [chart_text(value) for value in breakdown[dimension].to_list()]
    figure = go.Figure(
        go.Bar(
            x=breakdown["late_rate"].to_list(),
            y=values,
            orientation="h",
            marker_color=LATE_COLOUR,
            customdata=[
                [v, n, late]
                for v, n, late in zip(
                    values,
                    breakdown["escalations"].to_list(),
                    breakdown["late"].to_list(),
                    strict=True,
                )
            ],
            text=[
                f"{late} of {n}"
                for n, late in zip(
                    breakdown["escalations"].to_list(),
                    breakdown["late"].to_list(),
                    strict=True,
                )
            ],
            textposition="outside",
            hovertemplate=(
                "%{y}<br>%{x:.0%} late (%{customdata[2]} of %{customdata[1]})"
                "<extra></extra>"
            ),
        )
    )
    figure.update_layout(
        margin={"l": 10, "r": 40, "t": 10, "b": 10},
        height=max(220, 28 * len(values) + 60),
        yaxis={"autorange": "reversed", "title": label},
        xaxis={"tickformat": ".0%", "range": [0, 1.15], "title": "Late rate"},
        clickmode="event+select",
        dragmode=False,
    )
    return figure


def escalation_timeline_figure(
    signals: pl.DataFrame,
    level_changes: pl.DataFrame,
    *,
    first_signal_at: object,
    escalated_at: object,
    resolved_at: object | None,
    as_of: object,
) -> go.Figure:
    """Signals, the escalation, its level changes and its end on one time axis.

    An open escalation is drawn as a bar that runs up to ``as_of`` with an
    arrow: it has not ended, it is still running.
    """
    lanes = ["Signals", "Escalation", "Level changes"]
    figure = go.Figure()
    end = resolved_at if resolved_at is not None else as_of
    figure.add_trace(
        go.Scatter(
            x=[first_signal_at, escalated_at],
            y=["Escalation", "Escalation"],
            mode="lines",
            line={"color": "#BBBBBB", "width": 10},
            name="Signal → escalation",
            hovertemplate="Waiting for escalation<extra></extra>",
        )
    )
    figure.add_trace(
        go.Scatter(
            x=[escalated_at, end],
            y=["Escalation", "Escalation"],
            mode="lines+markers" if resolved_at is not None else "lines",
            line={"color": VOLUME_COLOUR, "width": 10},
            marker={"size": [0, 14], "symbol": "square"},
            name="Escalated" if resolved_at is not None else "Escalated, still open",
            hovertemplate=(
                "Resolved %{x|%d %b %Y %H:%M}<extra></extra>"
                if resolved_at is not None
                else "Still open<extra></extra>"
            ),
        )
    )
    if resolved_at is None:
        figure.add_annotation(
            x=end,
            y="Escalation",
            text="still open ▶",
            showarrow=False,
            xanchor="left",
            font={"color": VOLUME_COLOUR},
        )
    for tone, colour in TONE_COLOURS.items():
        chosen = signals.filter(pl.col("tone") == tone) if signals.height else signals
        if chosen.is_empty():
            continue
        figure.add_trace(
            go.Scatter(
                x=chosen["observed_at"].to_list(),
                y=["Signals"] * chosen.height,
                mode="markers",
                marker={
                    "color": colour,
                    "size": 11,
                    "line": {"width": 1, "color": "white"},
                },
                name=tone.replace("_", " "),
                customdata=[
                    [chart_text(source), chart_text((text or "")[:140])]
                    for source, text in zip(
                        chosen["source"].to_list(),
                        chosen["text"].to_list(),
                        strict=True,
                    )
                ],
                hovertemplate=(
                    "%{x|%d %b %Y %H:%M} · %{customdata[0]}<br>%{customdata[1]}"
                    "<extra></extra>"
                ),
            )
        )
    untoned = signals.filter(pl.col("tone").is_null()) if signals.height else signals
    if not untoned.is_empty():
        figure.add_trace(
            go.Scatter(
                x=untoned["observed_at"].to_list(),
                y=["Signals"] * untoned.height,
                mode="markers",
                marker={"color": "#999999", "size": 11},
                name="no tone",
            )
        )
    if not level_changes.is_empty():
        figure.add_trace(
            go.Scatter(
                x=level_changes["at"].to_list(),
                y=["Level changes"] * level_changes.height,
                mode="markers+text",
                marker={"symbol": "triangle-up", "size": 14, "color": "#72B7B2"},
                text=[
                    f"L{a}→L{b}"
                    for a, b in zip(
                        level_changes["from_level"].to_list(),
                        level_changes["to_level"].to_list(),
                        strict=True,
                    )
                ],
                textposition="top center",
                name="Level change",
                hovertemplate="%{x|%d %b %Y %H:%M} %{text}<extra></extra>",
            )
        )
    figure.update_layout(
        margin={"l": 10, "r": 60, "t": 10, "b": 10},
        height=300,
        yaxis={"categoryorder": "array", "categoryarray": lanes[::-1]},
        legend={"orientation": "h", "y": -0.2},
    )
    return figure


def recurrence_heatmap_figure(monthly: pl.DataFrame) -> go.Figure:
    """Trigger type × month heatmap of escalation volume."""
    wide = monthly.pivot(
        on="month", index="trigger_type", values="escalations", sort_columns=True
    ).sort("trigger_type")
    months = wide.columns[1:]
    figure = go.Figure(
        go.Heatmap(
            z=wide.select(months).to_numpy().tolist(),
            x=months,
            y=[chart_text(value) for value in wide["trigger_type"].to_list()],
            colorscale="Blues",
            colorbar={"title": "Escalations"},
            hovertemplate="%{y}<br>%{x|%b %Y}: %{z} escalations<extra></extra>",
        )
    )
    figure.update_layout(
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        height=max(260, 30 * wide.height + 80),
        xaxis={"title": "Month (UTC)", "tickformat": "%b %Y"},
    )
    return figure


def recurrence_bar_figure(by_type: pl.DataFrame) -> go.Figure:
    """Recurrence rate per trigger type, with recurring of all as the label."""
    figure = go.Figure(
        go.Bar(
            x=by_type["recurrence_rate"].to_list(),
            y=[chart_text(value) for value in by_type["trigger_type"].to_list()],
            orientation="h",
            marker_color=VOLUME_COLOUR,
            text=[
                f"{r} of {n}"
                for r, n in zip(
                    by_type["recurring"].to_list(),
                    by_type["escalations"].to_list(),
                    strict=True,
                )
            ],
            textposition="outside",
            hovertemplate="%{y}<br>%{x:.0%} recurring<extra></extra>",
        )
    )
    figure.update_layout(
        margin={"l": 10, "r": 40, "t": 10, "b": 10},
        height=max(240, 28 * by_type.height + 60),
        yaxis={"autorange": "reversed"},
        xaxis={"tickformat": ".0%", "range": [0, 1.15], "title": "Recurrence rate"},
    )
    return figure


VERDICT_COLOURS = {
    "fewer escalations": "#2CA02C",
    "more escalations": "#D62728",
    "no clear change": "#7F7F7F",
    "too early to tell": "#9467BD",
    "too little data": "#BCBD22",
    "not shipped yet": "#BBBBBB",
}


def fix_volume_figure(
    weekly: pl.DataFrame, ships: pl.DataFrame, window_weeks: int
) -> go.Figure:
    """Weekly volume of one trigger type with each fix's ship date marked."""
    figure = go.Figure(
        go.Bar(
            x=weekly["week_start"].to_list(),
            y=weekly["escalations"].to_list(),
            marker_color=VOLUME_COLOUR,
            name="Escalations",
            hovertemplate="Week of %{x|%d %b %Y}: %{y}<extra></extra>",
        )
    )
    for step, fix in enumerate(ships.iter_rows(named=True)):
        shipped = fix["shipped_at"]
        figure.add_vline(x=shipped, line={"color": "#333", "dash": "dot"})
        figure.add_vrect(
            x0=shipped,
            x1=shipped + timedelta(weeks=window_weeks),
            fillcolor="#2CA02C",
            opacity=0.06,
            line_width=0,
        )
        figure.add_annotation(
            x=shipped,
            y=1.0 - 0.08 * (step % 4),
            yref="paper",
            text=f"#{fix['fix_id']} shipped",
            showarrow=False,
            xanchor="left",
            font={"size": 11},
            bgcolor="rgba(255,255,255,0.8)",
        )
    figure.update_layout(
        margin={"l": 10, "r": 10, "t": 30, "b": 10},
        height=320,
        xaxis={"title": "ISO week (Monday start, UTC)"},
        yaxis={"title": "Escalations", "rangemode": "tozero"},
        showlegend=False,
    )
    return figure
