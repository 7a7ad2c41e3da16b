"""The headline figures three ways: ORM objects, pandas, and the app's polars path.

Each path loads the history its own idiomatic way and works out the same
figures over the whole history: count, median and p90 latency in hours, late
rate and recurrence rate, overall and per trigger type. The benchmark times the
three and checks that they agree before it compares their speed.
"""

import math
import time
from bisect import bisect_right
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import timedelta
from typing import Any

from sqlalchemy import Engine

from metrics.settings import DEFAULT_SETTINGS

Figures = dict[str, Any]
MICROSECONDS_PER_HOUR = 3_600_000_000
FIGURE_NAMES = ("median_hours", "p90_hours", "late_rate", "recurrence_rate")
# What the metrics command reads; the polars path reads exactly this.
METRIC_COLUMNS = (
    "id",
    "account_id",
    "trigger_type",
    "severity",
    "first_signal_at",
    "escalated_at",
)
# Floats computed in another order may differ in their last bits; anything
# beyond this is a real disagreement.
RELATIVE_TOLERANCE = 1e-12


def _threshold_microseconds() -> dict[str, int]:
    """Each severity's late threshold in whole microseconds, as the metrics do."""
    return {
        severity: round(hours * MICROSECONDS_PER_HOUR)
        for severity, hours in DEFAULT_SETTINGS.late_threshold_hours.items()
    }


def _linear_quantile(ordered: list[float], p: float) -> float | None:
    """Percentile ``p`` of sorted values by linear interpolation (numpy type 7)."""
    if not ordered:
        return None
    position = (len(ordered) - 1) * p
    below = math.floor(position)
    above = min(below + 1, len(ordered) - 1)
    fraction = position - below
    return ordered[below] + (ordered[above] - ordered[below]) * fraction


def _summarise(latency_us: list[int], late: list[bool], recurs: list[bool]) -> Figures:
    hours = sorted(value / MICROSECONDS_PER_HOUR for value in latency_us)
    count = len(hours)
    return {
        "escalations": count,
        "median_hours": _linear_quantile(hours, 0.5),
        "p90_hours": _linear_quantile(hours, 0.9),
        "late_rate": sum(late) / count if count else None,
        "recurrence_rate": sum(recurs) / count if count else None,
    }


def figures_from_tuples(
    rows: Iterable[tuple[int, str, str, Any, Any]],
) -> Figures:
    """Figures from (account_id, trigger_type, severity, first_signal_at,
    escalated_at) tuples with plain Python: loops, sorting and dictionaries."""
    records = list(rows)
    thresholds = _threshold_microseconds()
    window = timedelta(days=DEFAULT_SETTINGS.recurrence_window_days)
    one_microsecond = timedelta(microseconds=1)

    latency_us = [(row[4] - row[3]) // one_microsecond for row in records]
    late = [
        value > thresholds[row[2]]
        for value, row in zip(latency_us, records, strict=True)
    ]

    # Recurrence: per account and trigger type, the latest strictly earlier
    # instant; escalations at the same instant are not earlier than each other.
    instants: dict[tuple[int, str], list[Any]] = defaultdict(list)
    for row in records:
        instants[(row[0], row[1])].append(row[4])
    for values in instants.values():
        values.sort()
    recurs = []
    for row in records:
        ordered = instants[(row[0], row[1])]
        earlier = bisect_right(ordered, row[4] - one_microsecond)
        recurs.append(earlier > 0 and row[4] - ordered[earlier - 1] <= window)

    figures = _summarise(latency_us, late, recurs)
    groups: dict[str, list[int]] = defaultdict(list)
    for index, row in enumerate(records):
        groups[row[1]].append(index)
    figures["by_trigger_type"] = {
        name: _summarise(
            [latency_us[i] for i in members],
            [late[i] for i in members],
            [recurs[i] for i in members],
        )
        for name, members in sorted(groups.items())
    }
    return figures


def orm_path(engine: Engine) -> tuple[Figures, float, float]:
    """Load every escalation as an ORM object, then plain Python.

    Returns the figures, the load time and the compute time in seconds.
    """
    from sqlmodel import Session, select  # noqa: PLC0415

    from db.models import Escalation  # noqa: PLC0415

    started = time.perf_counter()
    with Session(engine) as session:
        escalations = session.exec(select(Escalation)).all()
        loaded = time.perf_counter()
        figures = figures_from_tuples(
            (
                row.account_id,
                row.trigger_type,
                row.severity,
                row.first_signal_at,
                row.escalated_at,
            )
            for row in escalations
        )
    finished = time.perf_counter()
    return figures, loaded - started, finished - loaded


def _pandas_summary(frame: Any) -> Figures:
    count = len(frame)
    return {
        "escalations": count,
        "median_hours": float(frame["hours"].quantile(0.5)) if count else None,
        "p90_hours": float(frame["hours"].quantile(0.9)) if count else None,
        "late_rate": float(frame["late"].mean()) if count else None,
        "recurrence_rate": float(frame["recurs"].mean()) if count else None,
    }


def pandas_path(engine: Engine) -> tuple[Figures, float, float]:
    """``pandas.read_sql`` of the five columns, then pandas for the figures."""
    import pandas as pd  # noqa: PLC0415
    from sqlalchemy import select  # noqa: PLC0415

    from db.models import Escalation  # noqa: PLC0415

    table = Escalation.__table__  # type: ignore[attr-defined]
    query = select(
        table.c.account_id,
        table.c.trigger_type,
        table.c.severity,
        table.c.first_signal_at,
        table.c.escalated_at,
    )
    started = time.perf_counter()
    with engine.connect() as connection:
        frame = pd.read_sql(query, connection)
    loaded = time.perf_counter()

    for name in ("first_signal_at", "escalated_at"):
        frame[name] = pd.to_datetime(frame[name], utc=True).dt.as_unit("us")
    latency = frame["escalated_at"] - frame["first_signal_at"]
    latency_us = latency // pd.Timedelta(microseconds=1)
    frame["hours"] = latency_us / MICROSECONDS_PER_HOUR
    frame["late"] = latency_us > frame["severity"].map(_threshold_microseconds())

    keys = ["account_id", "trigger_type"]
    instants = frame[[*keys, "escalated_at"]].drop_duplicates()
    instants = instants.sort_values([*keys, "escalated_at"])
    instants["previous"] = instants.groupby(keys)["escalated_at"].shift(1)
    frame = frame.merge(instants, on=[*keys, "escalated_at"], how="left")
    window = pd.Timedelta(days=DEFAULT_SETTINGS.recurrence_window_days)
    gap = frame["escalated_at"] - frame["previous"]
    frame["recurs"] = frame["previous"].notna() & (gap <= window)

    figures = _pandas_summary(frame)
    figures["by_trigger_type"] = {
        str(name): _pandas_summary(group)
        for name, group in sorted(frame.groupby("trigger_type"), key=lambda g: g[0])
    }
    finished = time.perf_counter()
    return figures, loaded - started, finished - loaded


def polars_path(engine: Engine) -> tuple[Figures, float, float]:
    """The app's path: the columnar copy, then ``metrics_report``."""
    from db.snapshot import load_escalation_snapshot  # noqa: PLC0415
    from metrics.summary import metrics_report  # noqa: PLC0415

    started = time.perf_counter()
    frame = load_escalation_snapshot(engine, METRIC_COLUMNS)
    loaded = time.perf_counter()
    report = metrics_report(frame)
    finished = time.perf_counter()
    return from_report(report), loaded - started, finished - loaded


def from_report(report: dict[str, Any]) -> Figures:
    """The metrics command's report in the shape the other paths give."""
    latency = report["signal_to_escalation_hours"]
    figures: Figures = {
        "escalations": report["escalations"],
        "median_hours": latency["median"],
        "p90_hours": latency["p90"],
        "late_rate": report["late_rate"],
        "recurrence_rate": report["recurrence_rate"],
    }
    figures["by_trigger_type"] = {
        name: {
            "escalations": row["escalations"],
            **{key: row[key] for key in FIGURE_NAMES},
        }
        for name, row in sorted(report["by_trigger_type"].items())
    }
    return figures


def _close(left: float | None, right: float | None) -> bool:
    if left is None or right is None:
        return left is right
    return math.isclose(left, right, rel_tol=RELATIVE_TOLERANCE, abs_tol=1e-12)


def disagreements(reference: Figures, other: Figures) -> list[str]:
    """Every figure where ``other`` differs from ``reference``, as readable lines."""
    found = []

    def compare(where: str, left: Figures, right: Figures) -> None:
        if left["escalations"] != right["escalations"]:
            found.append(
                f"{where} escalations: {left['escalations']} != {right['escalations']}"
            )
        for name in FIGURE_NAMES:
            if not _close(left[name], right[name]):
                found.append(f"{where} {name}: {left[name]!r} != {right[name]!r}")

    compare("overall", reference, other)
    left_types = reference["by_trigger_type"]
    right_types = other["by_trigger_type"]
    if sorted(left_types) != sorted(right_types):
        found.append(f"trigger types: {sorted(left_types)} != {sorted(right_types)}")
        return found
    for name in left_types:
        compare(name, left_types[name], right_types[name])
    return found


PATHS: dict[str, Callable[[Engine], tuple[Figures, float, float]]] = {
    "orm": orm_path,
    "pandas": pandas_path,
    "polars": polars_path,
}
