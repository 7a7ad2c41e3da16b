"""A plain-Python reading of the metric rules, written apart from metrics/.

Tests compare the polars code and the command line against it. It loops over
rows and compares every pair, which is slow but hard to get subtly wrong.
"""

import math
from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

THRESHOLDS = {"critical": 24.0, "high": 72.0, "medium": 168.0, "low": 336.0}
RECURRENCE_WINDOW = timedelta(days=90)


@dataclass(frozen=True)
class Row:
    """The fields of one escalation that the rules read."""

    id: int
    account_id: int
    trigger_type: str
    severity: str
    first_signal_at: datetime
    escalated_at: datetime

    @property
    def hours(self) -> float:
        return (self.escalated_at - self.first_signal_at).total_seconds() / 3600

    @property
    def late(self) -> bool:
        return self.hours > THRESHOLDS[self.severity]


def percentile(values: list[float], p: float) -> float | None:
    """Linear interpolation between closest ranks (numpy's default)."""
    if not values:
        return None
    ordered = sorted(values)
    position = (len(ordered) - 1) * p
    low, high = math.floor(position), math.ceil(position)
    return ordered[low] + (position - low) * (ordered[high] - ordered[low])


def recurring_ids(rows: list[Row]) -> set[int]:
    """Ids of escalations with an earlier one of the same account and trigger."""
    groups: dict[tuple[int, str], list[Row]] = defaultdict(list)
    for row in rows:
        groups[(row.account_id, row.trigger_type)].append(row)
    recurring = set()
    for members in groups.values():
        for row in members:
            for other in members:
                gap = row.escalated_at - other.escalated_at
                if timedelta(0) < gap <= RECURRENCE_WINDOW:
                    recurring.add(row.id)
                    break
    return recurring


def _figures(rows: list[Row], recurring: set[int]) -> dict[str, Any]:
    hours = [row.hours for row in rows]
    n = len(rows)
    return {
        "escalations": n,
        "median": percentile(hours, 0.5),
        "p90": percentile(hours, 0.9),
        "late_rate": sum(row.late for row in rows) / n if n else None,
        "recurrence_rate": sum(row.id in recurring for row in rows) / n if n else None,
    }


def report(
    rows: list[Row], start: datetime | None = None, end: datetime | None = None
) -> dict[str, Any]:
    """The ``metrics --json`` shape, computed the slow way."""
    recurring = recurring_ids(rows)  # on the whole history, before the window
    chosen = [
        row
        for row in rows
        if (start is None or row.escalated_at >= start)
        and (end is None or row.escalated_at < end)
    ]
    overall = _figures(chosen, recurring)
    by_type: dict[str, Any] = {}
    for trigger in sorted({row.trigger_type for row in chosen}):
        figures = _figures([r for r in chosen if r.trigger_type == trigger], recurring)
        by_type[trigger] = {
            "escalations": figures["escalations"],
            "median_hours": figures["median"],
            "p90_hours": figures["p90"],
            "late_rate": figures["late_rate"],
            "recurrence_rate": figures["recurrence_rate"],
        }
    return {
        "escalations": overall["escalations"],
        "signal_to_escalation_hours": {
            "median": overall["median"],
            "p90": overall["p90"],
        },
        "late_rate": overall["late_rate"],
        "recurrence_rate": overall["recurrence_rate"],
        "by_trigger_type": by_type,
    }


def assert_reports_close(actual: Any, expected: Any, tolerance: float = 1e-6) -> None:
    """Compare nested reports: same keys and nulls, numbers within tolerance."""
    if isinstance(expected, dict):
        assert isinstance(actual, dict)
        assert list(actual) == list(expected)
        for key in expected:
            assert_reports_close(actual[key], expected[key], tolerance)
    elif expected is None:
        assert actual is None
    elif isinstance(expected, int) and not isinstance(expected, bool):
        assert actual == expected
    else:
        assert actual is not None
        assert math.isclose(actual, expected, rel_tol=0, abs_tol=tolerance)
