"""Tiles on whether escalations arrive fit to act on, move usefully and end."""

from datetime import datetime

import polars as pl
import streamlit as st

from dashboard import format as fmt
from metrics.level_shift import structural_shift_rate
from metrics.packet import PACKET_QUESTIONS, packet_completeness
from metrics.resolution import time_to_resolution


def render_quality_tiles(
    escalations: pl.DataFrame, level_changes: pl.DataFrame, as_of: datetime
) -> None:
    """Packet completeness, structural shifts, resolution time and open age.

    ``level_changes`` holds those of ``escalations`` only.
    """
    packets = packet_completeness(escalations)
    shifts = structural_shift_rate(level_changes)
    resolution = time_to_resolution(escalations, as_of)

    weakest = min(
        PACKET_QUESTIONS,
        key=lambda field: packets["answered_share"][field] or 0.0,
    )
    columns = st.columns(4)
    columns[0].metric(
        "Complete packets",
        fmt.percent(packets["complete_share"]),
        help="Share of escalations whose packet answers all five questions: the "
        "evidence, the decision needed, the next owner, the consequence if "
        "nothing changes, and the evidence that will prove the risk gone. "
        f"Least often answered: “{PACKET_QUESTIONS[weakest]}” "
        f"({fmt.percent(packets['answered_share'][weakest])}).",
        border=True,
    )
    columns[1].metric(
        "Structural level changes",
        fmt.percent(shifts["rate"]),
        help="Share of level changes that changed the owner, review cadence, "
        "decision rights, evidence threshold or communication path. The rest "
        f"changed nothing and are noise: {fmt.count(shifts['noise'])} of "
        f"{fmt.count(shifts['level_changes'])} here.",
        border=True,
    )
    columns[2].metric(
        "Median time to resolution",
        fmt.hours(resolution["median_hours"]),
        help="Calendar hours from escalation to resolution, over the "
        f"{fmt.count(resolution['resolved'])} resolved escalations of the period; "
        f"p90 {fmt.hours(resolution['p90_hours'])}. Open escalations are not "
        "counted as ended.",
        border=True,
    )
    columns[3].metric(
        "Still open",
        fmt.count(resolution["open"]),
        help="Escalations of the period not yet resolved. Median age "
        f"{fmt.hours(resolution['open_median_age_hours'])}, oldest "
        f"{fmt.hours(resolution['open_max_age_hours'])}, as of "
        f"{fmt.moment(as_of)} UTC.",
        border=True,
    )
