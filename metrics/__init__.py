"""Escalation health metrics in pure polars: frames in, frames and figures out."""

from metrics.breakdown import (
    BREAKDOWN_COLUMNS,
    NONE_LABEL,
    late_escalations,
    late_rate_by,
)
from metrics.business_hours import (
    DEFAULT_TIME_ZONE,
    business_hours_between,
    team_time_zone,
    with_business_latency,
)
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
from metrics.level_shift import (
    LEVEL_CHANGE_COLUMNS,
    STRUCTURAL_THINGS,
    changed_things,
    changes_anything,
    is_noise,
    structural_shift_rate,
    thing_changed,
    with_structural_changes,
)
from metrics.packet import (
    PACKET_QUESTIONS,
    packet_answer_present,
    packet_answers_present,
    packet_complete,
    packet_completeness,
)
from metrics.prepare import ADDED_COLUMNS, REQUIRED_COLUMNS, prepare_escalations
from metrics.recurrence import previous_escalated_at, recurrence_rate, with_recurrence
from metrics.resolution import (
    age_hours,
    open_escalation_ages,
    resolution_hours,
    time_to_resolution,
)
from metrics.schema import ESCALATION_SCHEMA
from metrics.settings import (
    DEFAULT_BUSINESS_CALENDAR,
    DEFAULT_SETTINGS,
    BusinessCalendar,
    MetricSettings,
)
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
    "BREAKDOWN_COLUMNS",
    "DEFAULT_BUSINESS_CALENDAR",
    "DEFAULT_SETTINGS",
    "DEFAULT_TIME_ZONE",
    "ESCALATION_SCHEMA",
    "LEVEL_CHANGE_COLUMNS",
    "NONE_LABEL",
    "PACKET_QUESTIONS",
    "REQUIRED_COLUMNS",
    "STRUCTURAL_THINGS",
    "BusinessCalendar",
    "MetricSettings",
    "age_hours",
    "business_hours_between",
    "by_trigger_type",
    "changed_things",
    "changes_anything",
    "check_severities",
    "escalation_count",
    "health_summary",
    "hours_beyond_threshold",
    "in_window",
    "is_late",
    "is_noise",
    "kpi_comparison",
    "late_escalations",
    "late_rate",
    "late_rate_by",
    "late_threshold_hours",
    "latency_hours",
    "latency_microseconds",
    "latency_summary",
    "max_hours",
    "median_hours",
    "metrics_report",
    "open_escalation_ages",
    "p90_hours",
    "packet_answer_present",
    "packet_answers_present",
    "packet_complete",
    "packet_completeness",
    "percentile_hours",
    "prepare_escalations",
    "previous_escalated_at",
    "previous_period",
    "recurrence_rate",
    "resolution_hours",
    "structural_shift_rate",
    "team_time_zone",
    "thing_changed",
    "time_to_resolution",
    "unknown_severities",
    "week_start",
    "weekly_volume",
    "window_bounds",
    "with_business_latency",
    "with_recurrence",
    "with_structural_changes",
]
