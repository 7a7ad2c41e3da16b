"""Escalation health metrics in pure polars: frames in, frames and figures out."""

from metrics.latency import (
    latency_hours,
    latency_microseconds,
    latency_summary,
    max_hours,
    median_hours,
    p90_hours,
    percentile_hours,
)
from metrics.lateness import (
    check_severities,
    hours_beyond_threshold,
    is_late,
    late_rate,
    late_threshold_hours,
    unknown_severities,
)
from metrics.prepare import ADDED_COLUMNS, REQUIRED_COLUMNS, prepare_escalations
from metrics.recurrence import previous_escalated_at, recurrence_rate, with_recurrence
from metrics.schema import ESCALATION_SCHEMA
from metrics.settings import DEFAULT_SETTINGS, MetricSettings
from metrics.summary import (
    by_trigger_type,
    escalation_count,
    health_summary,
    kpi_comparison,
    metrics_report,
)
from metrics.volume import week_start, weekly_volume
from metrics.window import in_window, previous_period, window_bounds

__all__ = [
    "ADDED_COLUMNS",
    "DEFAULT_SETTINGS",
    "ESCALATION_SCHEMA",
    "REQUIRED_COLUMNS",
    "MetricSettings",
    "by_trigger_type",
    "check_severities",
    "escalation_count",
    "health_summary",
    "hours_beyond_threshold",
    "in_window",
    "is_late",
    "kpi_comparison",
    "late_rate",
    "late_threshold_hours",
    "latency_hours",
    "latency_microseconds",
    "latency_summary",
    "max_hours",
    "median_hours",
    "metrics_report",
    "p90_hours",
    "percentile_hours",
    "prepare_escalations",
    "previous_escalated_at",
    "previous_period",
    "recurrence_rate",
    "unknown_severities",
    "week_start",
    "weekly_volume",
    "window_bounds",
    "with_recurrence",
]
