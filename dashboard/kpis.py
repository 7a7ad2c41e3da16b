"""KPI tiles: the figure, its change against the previous period, its meaning."""

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import streamlit as st

from dashboard import format as fmt

DeltaColour = Literal["normal", "inverse", "off"]


@dataclass(frozen=True)
class Kpi:
    """How one health figure is read, shown and compared."""

    key: str
    label: str
    definition: str
    show: Callable[[Any], str]
    delta_unit: str
    colour: DeltaColour


LATE_RULE = "critical 24 h, high 72 h, medium 168 h, low 336 h"

KPIS = (
    Kpi(
        "escalations",
        "Escalations",
        "Escalations whose escalated_at falls in the period. More is not worse by "
        "itself: surfacing risk early is the point.",
        fmt.count,
        "",
        "off",
    ),
    Kpi(
        "median_hours",
        "Signal → escalation, median",
        "Median hours from the first weak signal to the formal escalation "
        "(escalated_at − first_signal_at), over escalations in the period.",
        fmt.hours,
        " h",
        "inverse",
    ),
    Kpi(
        "p90_hours",
        "Signal → escalation, p90",
        "90th percentile of the same latency, by linear interpolation between "
        "closest ranks: nine in ten escalations were raised at least this fast.",
        fmt.hours,
        " h",
        "inverse",
    ),
    Kpi(
        "late_rate",
        "Late rate",
        "Share of escalations whose latency is strictly above their severity's "
        f"threshold ({LATE_RULE}).",
        fmt.percent,
        " pp",
        "inverse",
    ),
    Kpi(
        "recurrence_rate",
        "Recurrence rate",
        "Share of escalations for which the same account had an escalation of the "
        "same trigger type at most 90 days earlier (history before the period "
        "counts).",
        fmt.percent,
        " pp",
        "inverse",
    ),
)


def delta_text(kpi: Kpi, current: Any, previous: Any) -> str | None:
    """The change as a signed string, or None when either side is missing."""
    if current is None or previous is None:
        return None
    change = current - previous
    if kpi.delta_unit == " pp":
        return f"{change * 100:+.1f} pp"
    if kpi.delta_unit == " h":
        return f"{change:+,.1f} h"
    return f"{change:+,}"


def render_kpi_tiles(
    current: dict[str, Any], previous: dict[str, Any], previous_label: str
) -> None:
    """One row of tiles; each help text holds the definition and the baseline."""
    for column, kpi in zip(st.columns(len(KPIS)), KPIS, strict=True):
        baseline = kpi.show(previous.get(kpi.key))
        column.metric(
            kpi.label,
            kpi.show(current.get(kpi.key)),
            delta=delta_text(kpi, current.get(kpi.key), previous.get(kpi.key)),
            delta_color=kpi.colour,
            help=f"{kpi.definition}\n\nPrevious period ({previous_label}): {baseline}.",
            border=True,
        )
