"""KPI tiles: the figure, its change against the previous period, its meaning."""

from dataclasses import dataclass
from typing import Any, Literal

import streamlit as st

from dashboard import format as fmt
from dashboard.measure import CALENDAR, LatencyMeasure

DeltaColour = Literal["normal", "inverse", "off"]
Kind = Literal["count", "hours", "share"]

LATE_RULE = "critical 24 h, high 72 h, medium 168 h, low 336 h"


@dataclass(frozen=True)
class Kpi:
    """How one health figure is read, shown and compared."""

    key: str
    label: str
    definition: str
    kind: Kind
    colour: DeltaColour


KPIS = (
    Kpi(
        "escalations",
        "Escalations",
        "Escalations whose escalated_at falls in the period. More is not worse by "
        "itself: surfacing risk early is the point.",
        "count",
        "off",
    ),
    Kpi(
        "median_hours",
        "Median latency",
        "Latency: the time from the first weak signal to the formal escalation "
        "(escalated_at − first_signal_at). This is its median "
        "over escalations in the period.",
        "hours",
        "inverse",
    ),
    Kpi(
        "p90_hours",
        "p90 latency",
        "90th percentile of latency (first signal to escalation), by linear "
        "interpolation between "
        "closest ranks: nine in ten escalations were raised at least this fast.",
        "hours",
        "inverse",
    ),
    Kpi(
        "late_rate",
        "Late rate",
        "Share of escalations whose latency is strictly above their severity's "
        f"threshold ({LATE_RULE}).",
        "share",
        "inverse",
    ),
    Kpi(
        "recurrence_rate",
        "Recurrence rate",
        "Share of escalations for which the same account had an escalation of the "
        "same trigger type at most 90 days earlier (history before the period "
        "counts).",
        "share",
        "inverse",
    ),
)


def show(kpi: Kpi, value: Any, measure: LatencyMeasure) -> str:
    """The figure as a tile shows it."""
    if kpi.kind == "count":
        return fmt.count(value)
    if kpi.kind == "hours":
        return fmt.hours(value, measure.unit)
    return fmt.percent(value)


def delta_text(
    kpi: Kpi, current: Any, previous: Any, measure: LatencyMeasure
) -> str | None:
    """The change as a signed string, or None when either side is missing.

    A change that rounds to zero as shown gets no sign ("0.0 pp"): the tile
    then shows it grey and without an arrow, not as a rise.
    """
    if current is None or previous is None:
        return None
    change = current - previous
    if kpi.kind == "share":
        text = f"{change * 100:+.1f} pp"
    elif kpi.kind == "hours":
        text = f"{change:+,.1f} {measure.unit}"
    else:
        text = f"{change:+,}"
    if not any(character in "123456789" for character in text):
        return text.lstrip("+-")
    return text


def is_unchanged(delta: str | None) -> bool:
    """Whether ``delta_text`` reported a change that rounds to zero."""
    return delta is not None and not delta.startswith(("+", "-"))


def render_kpi_tiles(
    current: dict[str, Any],
    previous: dict[str, Any],
    previous_label: str,
    measure: LatencyMeasure = CALENDAR,
) -> None:
    """One row of tiles; each help text holds the definition and the baseline."""
    for column, kpi in zip(st.columns(len(KPIS)), KPIS, strict=True):
        baseline = show(kpi, previous.get(kpi.key), measure)
        measured = (
            f"\n\nMeasured in {measure.description.lower()}."
            if kpi.kind == "hours" or kpi.key == "late_rate"
            else ""
        )
        delta = delta_text(kpi, current.get(kpi.key), previous.get(kpi.key), measure)
        unchanged = is_unchanged(delta)
        column.metric(
            kpi.label,
            show(kpi, current.get(kpi.key), measure),
            delta=delta,
            delta_color="off" if unchanged else kpi.colour,
            delta_arrow="off" if unchanged else "auto",
            help=f"{kpi.definition}{measured}\n\nPrevious period ({previous_label}): "
            f"{baseline}.",
            border=True,
        )
