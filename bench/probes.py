"""Measurements that run in a process of their own, one per call.

``python -m bench.probes KIND JSON`` runs one measurement against the database
named in the JSON arguments and prints its result as one JSON object on the last
line of standard output. The parent times the whole process and reads its peak
memory, so every probe starts from a cold interpreter.
"""

import json
import logging
import resource
import statistics
import sys
import time
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

from db.engine import PROJECT_ROOT, create_db_engine

Result = dict[str, Any]
APP = PROJECT_ROOT / "dashboard" / "app.py"
# Every page in the navigation, with what it needs in the address bar. Early
# warning goes last: it reads every signal, and the peak memory measured before
# it is then that of the escalation pages alone.
PAGES: tuple[tuple[str, dict[str, str]], ...] = (
    ("overview", {}),
    ("late_escalations", {}),
    ("recurrence", {}),
    ("fix_impact", {}),
    ("repair_review", {}),
    ("data", {}),
    ("escalation", {"id": "1"}),
    ("early_warning", {}),
)
SEVERITIES = ("critical", "high", "medium", "low")
PERIOD_DAYS = 91


def _peak_mb() -> float:
    """This process's peak resident memory so far, in MB (Linux reports KB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _timed(action: Callable[[], Any]) -> tuple[Any, float]:
    started = time.perf_counter()
    value = action()
    return value, time.perf_counter() - started


def probe_load(args: Result) -> Result:
    """Loading into polars: row by row, column by column, and the copy."""
    from bench.figures import METRIC_COLUMNS  # noqa: PLC0415
    from db.queries import load_escalations  # noqa: PLC0415
    from db.snapshot import (  # noqa: PLC0415
        load_consistent,
        load_escalation_snapshot,
    )

    engine = create_db_engine(args["url"])
    folder = Path(args["cache_dir"])
    app_columns = tuple(args["app_columns"])
    result: Result = {}

    def loader() -> Any:
        with engine.connect() as connection:
            return load_escalations(connection=connection, columns=app_columns)

    frame, result["loader_s"] = _timed(loader)
    result["rows"] = frame.height
    result["app_frame_mb"] = frame.estimated_size() / 2**20
    del frame
    _, result["column_reader_s"] = _timed(lambda: load_consistent(engine))
    for stale in folder.glob("escalations-*.parquet"):
        stale.unlink()
    _, result["copy_build_s"] = _timed(
        lambda: load_escalation_snapshot(engine, app_columns, folder=folder)
    )
    _, result["copy_read_app_s"] = _timed(
        lambda: load_escalation_snapshot(engine, app_columns, folder=folder)
    )
    _, result["copy_read_metrics_s"] = _timed(
        lambda: load_escalation_snapshot(engine, METRIC_COLUMNS, folder=folder)
    )
    engine.dispose()
    return result


def probe_suite(args: Result) -> Result:
    """The full metrics suite on the whole history, each step timed."""
    from dashboard.data import OVERVIEW_COLUMNS  # noqa: PLC0415
    from db.queries import load_team_time_zones  # noqa: PLC0415
    from db.snapshot import load_escalation_snapshot  # noqa: PLC0415
    from metrics.breakdown import (  # noqa: PLC0415
        BREAKDOWN_COLUMNS,
        late_escalations,
        late_rate_by,
    )
    from metrics.business_hours import with_business_latency  # noqa: PLC0415
    from metrics.packet import packet_completeness  # noqa: PLC0415
    from metrics.prepare import prepare_escalations  # noqa: PLC0415
    from metrics.recurrence_views import (  # noqa: PLC0415
        monthly_volume_by_trigger_type,
        recurrence_by_trigger_type,
        repeat_accounts,
        with_recurrence_window,
    )
    from metrics.resolution import time_to_resolution  # noqa: PLC0415
    from metrics.summary import (  # noqa: PLC0415
        by_trigger_type,
        kpi_comparison,
        metrics_report,
    )
    from metrics.volume import weekly_volume  # noqa: PLC0415
    from metrics.window import in_window  # noqa: PLC0415

    engine = create_db_engine(args["url"])
    raw = load_escalation_snapshot(engine, OVERVIEW_COLUMNS)
    with engine.connect() as connection:
        zones = load_team_time_zones(connection=connection)
    engine.dispose()
    end_day = date.fromisoformat(args["history_end"])
    end = datetime(end_day.year, end_day.month, end_day.day, tzinfo=UTC)
    start = end - timedelta(days=PERIOD_DAYS)

    steps: dict[str, float] = {}

    def step(name: str, action: Callable[[], Any]) -> Any:
        value, steps[name] = _timed(action)
        return value

    prepared = step("prepare_escalations", lambda: prepare_escalations(raw))
    period = step("in_window", lambda: in_window(prepared, start, end))
    step("metrics_report", lambda: metrics_report(raw))
    step("kpi_comparison", lambda: kpi_comparison(prepared, start, end))
    step("weekly_volume", lambda: weekly_volume(period, start, end))
    step("by_trigger_type", lambda: by_trigger_type(period))
    step(
        "late_rate_by (each column)",
        lambda: [late_rate_by(period, column) for column in BREAKDOWN_COLUMNS],
    )
    step("late_escalations", lambda: late_escalations(period))
    step("packet_completeness", lambda: packet_completeness(period))
    step("time_to_resolution", lambda: time_to_resolution(period, end))
    step("recurrence_by_trigger_type", lambda: recurrence_by_trigger_type(period))
    step(
        "monthly_volume_by_trigger_type",
        lambda: monthly_volume_by_trigger_type(period, start, end),
    )
    step("repeat_accounts", lambda: repeat_accounts(period))
    step("with_recurrence_window (30 d)", lambda: with_recurrence_window(prepared, 30))
    step("with_business_latency", lambda: with_business_latency(prepared, zones))
    return {"steps": steps, "total_s": sum(steps.values()), "rows": raw.height}


def probe_path(args: Result) -> Result:
    """One of the three ways to the headline figures (ORM, pandas, polars)."""
    from bench.figures import PATHS  # noqa: PLC0415

    engine = create_db_engine(args["url"])
    figures, load_s, compute_s = PATHS[args["path"]](engine)
    engine.dispose()
    return {"figures": figures, "load_s": load_s, "compute_s": compute_s}


def _severity_choices(count: int) -> list[list[str]]:
    """``count`` different severity filters: each one alone, then pairs."""
    singles = [[severity] for severity in SEVERITIES]
    pairs = [
        [first, second]
        for index, first in enumerate(SEVERITIES)
        for second in SEVERITIES[index + 1 :]
    ]
    choices = singles + pairs
    return [choices[index % len(choices)] for index in range(count)]


def probe_pages(args: Result) -> Result:
    """Each page's rerun after a sidebar filter change, data already cached."""
    import os  # noqa: PLC0415

    from streamlit.testing.v1 import AppTest  # noqa: PLC0415

    os.environ["DATABASE_URL"] = args["url"]
    end_day = date.fromisoformat(args["history_end"])
    wanted = set(args.get("pages") or [name for name, _ in PAGES])
    app = AppTest.from_file(str(APP), default_timeout=args.get("timeout", 1800))
    started = time.perf_counter()
    app.run()
    first_run_s = time.perf_counter() - started
    # The last thirteen weeks of the seeded history, whatever day it is today.
    app.date_input(key="from").set_value(end_day - timedelta(days=PERIOD_DAYS))
    app.date_input(key="to").set_value(end_day - timedelta(days=1))
    app.run()

    pages: dict[str, Result] = {}
    for name, query in PAGES:
        if name not in wanted:
            continue
        for key, value in query.items():
            app.query_params[key] = value
        app.multiselect(key="severity").set_value([])
        app.switch_page(f"../pages/{name}.py")
        _, warm_s = _timed(app.run)
        errors = [str(error.value) for error in app.exception]
        reruns = []
        for choice in _severity_choices(args["reruns"]):
            app.multiselect(key="severity").set_value(choice)
            _, seconds = _timed(app.run)
            reruns.append(seconds)
            errors += [str(error.value) for error in app.exception]
        pages[name] = {
            "warm_s": warm_s,
            "reruns_s": reruns,
            "median_s": statistics.median(reruns) if reruns else None,
            "peak_so_far_mb": _peak_mb(),
            "errors": errors[:3],
        }
    return {"first_run_s": first_run_s, "pages": pages}


PROBES: dict[str, Callable[[Result], Result]] = {
    "load": probe_load,
    "suite": probe_suite,
    "path": probe_path,
    "pages": probe_pages,
}


def main(argv: list[str]) -> int:
    """Run the probe named in ``argv[0]`` with the JSON arguments in ``argv[1]``."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    kind, raw = argv
    result = PROBES[kind](json.loads(raw))
    sys.stdout.write("\n" + json.dumps(result, allow_nan=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
