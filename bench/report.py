"""Benchmark results as Markdown tables, for the terminal and for latest.md."""

from collections.abc import Sequence
from typing import Any

Result = dict[str, Any]
PAGE_ORDER = (
    "overview",
    "late_escalations",
    "recurrence",
    "fix_impact",
    "repair_review",
    "data",
    "escalation",
    "early_warning",
)


def _seconds(value: float | None) -> str:
    if value is None:
        return "-"
    if value < 1:
        return f"{value * 1000:.0f} ms"
    return f"{value:.2f} s"


def _ratio(value: float | None) -> str:
    return "-" if value is None else f"{value:.1f}x"


def _mb(value: float | None) -> str:
    return "-" if value is None else f"{value:,.0f}"


def _table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> list[str]:
    lines = [
        "| " + " | ".join(header) + " |",
        "|" + "|".join("---" for _ in header) + "|",
    ]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return lines


def _label(run: Result) -> list[str]:
    return [run["backend"], f"{run['escalations']:,}"]


def _peak_before_early_warning(run: Result) -> float | None:
    """Peak memory of the page process before the early warning page ran."""
    peaks = [
        page.get("peak_so_far_mb")
        for name, page in run["pages"]["pages"].items()
        if name != "early_warning"
    ]
    known = [peak for peak in peaks if peak is not None]
    return max(known) if known else None


def _slowest_page(run: Result, *, skip: Sequence[str] = ()) -> tuple[str, float | None]:
    medians = {
        name: page["median_s"]
        for name, page in run["pages"]["pages"].items()
        if page["median_s"] is not None and name not in skip
    }
    if not medians:
        return "-", None
    name = max(medians, key=lambda key: medians[key])
    return name, medians[name]


def summary_lines(results: Result) -> list[str]:
    """One row per database and size: the headline figures."""
    rows = []
    for run in results["runs"]:
        load = run["load"]
        ratios = run.get("ratios", {})
        slowest, seconds = _slowest_page(run)
        rows.append(
            [
                *_label(run),
                _seconds(load["loader_s"]),
                _seconds(load["column_reader_s"]),
                _seconds(load["copy_read_app_s"]),
                _seconds(run["suite"]["total_s"]),
                _seconds(run["cli"]["cold_s"]),
                _seconds(run["cli"]["warm_median_s"]),
                _seconds(run.get("reference", {}).get("median_s")),
                _ratio(run.get("cli_over_reference")),
                _ratio(ratios.get("orm_over_polars")),
                _ratio(ratios.get("pandas_over_polars")),
                f"{_seconds(seconds)} ({slowest})",
                f"{_mb(run['pages']['peak_mb'])} / "
                f"{_mb(_peak_before_early_warning(run))}",
            ]
        )
    header = [
        "database",
        "escalations",
        "load row by row",
        "load by column",
        "copy read",
        "metrics suite",
        "`metrics` cold",
        "`metrics` warm",
        "ADBC reference",
        "`metrics` / reference",
        "ORM / polars",
        "pandas / polars",
        "slowest page rerun",
        "app peak MB (all / without early warning)",
    ]
    return _table(header, rows)


def paths_lines(results: Result) -> list[str]:
    """The same figures three ways: load, compute, total and peak memory."""
    rows = []
    for run in results["runs"]:
        for name in ("orm", "pandas", "polars"):
            path = run["paths"][name]
            rows.append(
                [
                    *_label(run),
                    name,
                    _seconds(path["load_s"]),
                    _seconds(path["compute_s"]),
                    _seconds(path["total_s"]),
                    _mb(path["peak_mb"]),
                ]
            )
    header = ["database", "escalations", "path", "load", "compute", "total", "peak MB"]
    return _table(header, rows)


def pages_lines(results: Result) -> list[str]:
    """Median rerun of each page after a filter change, data cached."""
    seen = {name for run in results["runs"] for name in run["pages"]["pages"]}
    names = [name for name in PAGE_ORDER if name in seen]
    names += sorted(seen - set(PAGE_ORDER))
    rows = []
    for run in results["runs"]:
        pages = run["pages"]["pages"]
        rows.append(
            [
                *_label(run),
                _seconds(run["pages"]["first_run_s"]),
                *(
                    _seconds(pages[name]["median_s"]) if name in pages else "-"
                    for name in names
                ),
            ]
        )
    return _table(["database", "escalations", "first run", *names], rows)


def memory_lines(results: Result) -> list[str]:
    """Peak resident memory of each measuring process, in MB."""
    rows = []
    for run in results["runs"]:
        rows.append(
            [
                *_label(run),
                _mb(run["load"]["peak_mb"]),
                _mb(run["suite"]["peak_mb"]),
                _mb(run["cli"]["cold_peak_mb"]),
                _mb(run["cli"]["warm_peak_mb"]),
                _mb(run.get("reference", {}).get("peak_mb")),
                _mb(run["pages"]["peak_mb"]),
                _mb(_peak_before_early_warning(run)),
            ]
        )
    header = [
        "database",
        "escalations",
        "loads",
        "metrics suite",
        "`metrics` cold",
        "`metrics` warm",
        "reference",
        "app (page reruns)",
        "app before early warning",
    ]
    return _table(header, rows)


def suite_lines(results: Result) -> list[str]:
    """Each step of the metrics suite, per database and size."""
    runs = results["runs"]
    if not runs:
        return []
    steps = list(runs[0]["suite"]["steps"])
    header = ["step", *(f"{run['backend']} {run['escalations']:,}" for run in runs)]
    rows = [
        [step, *(_seconds(run["suite"]["steps"].get(step)) for run in runs)]
        for step in steps
    ]
    return _table(header, rows)


def seeding_lines(results: Result) -> list[str]:
    """How long seeding took, for the databases this run seeded itself."""
    seeded = [run for run in results["runs"] if run.get("seed_s") is not None]
    if not seeded:
        return ["Every database was seeded by an earlier run and reused."]
    header = ["database", "escalations", "signals", "seed, whole process", "peak MB"]
    rows = [
        [
            *_label(run),
            f"{run.get('signals', 0):,}",
            _seconds(run["seed_s"]),
            _mb(run.get("seed_peak_mb")),
        ]
        for run in seeded
    ]
    return _table(header, rows)


def target_lines(results: Result) -> list[str]:
    """The targets at a million escalations, met or missed."""
    targets = results["targets"]
    lines = []
    for run in results["runs"]:
        if run["escalations"] < 1_000_000:
            continue
        where = f"{run['backend']}, {run['escalations']:,}"
        slowest, seconds = _slowest_page(run)
        other, other_seconds = _slowest_page(run, skip=("early_warning",))
        before = _peak_before_early_warning(run)
        checks = [
            (
                f"slowest page rerun {_seconds(seconds)} ({slowest})",
                seconds is not None and seconds < targets["page_rerun_s"],
                f"< {_seconds(targets['page_rerun_s'])}",
            ),
            (
                f"slowest page rerun but early warning {_seconds(other_seconds)} "
                f"({other})",
                other_seconds is not None and other_seconds < targets["page_rerun_s"],
                f"< {_seconds(targets['page_rerun_s'])}",
            ),
            (
                f"app peak memory {_mb(run['pages']['peak_mb'])} MB",
                run["pages"]["peak_mb"] < targets["peak_mb"],
                f"< {_mb(targets['peak_mb'])} MB",
            ),
            (
                f"app peak memory before the early warning page {_mb(before)} MB",
                before is not None and before < targets["peak_mb"],
                f"< {_mb(targets['peak_mb'])} MB",
            ),
        ]
        ratios = run.get("ratios", {})
        for name in ("orm", "pandas"):
            key = f"{name}_over_polars"
            value = ratios.get(key)
            checks.append(
                (
                    f"{name} / polars {_ratio(value)}",
                    value is not None and value >= targets[key],
                    f">= {_ratio(targets[key])}",
                )
            )
        if "cli_over_reference" in run:
            value = run["cli_over_reference"]
            checks.append(
                (
                    f"`metrics` / reference {value:.2f}",
                    value <= targets["cli_over_reference"],
                    f"<= {targets['cli_over_reference']}",
                )
            )
        for text, met, goal in checks:
            lines.append(
                f"- {where}: {text}, target {goal}: {'met' if met else 'MISSED'}"
            )
    return lines


def problem_lines(results: Result) -> list[str]:
    """Disagreements between the paths and page errors, if any."""
    lines = []
    for run in results["runs"]:
        where = f"{run['backend']}, {run['escalations']:,}"
        for path, found in run["disagreements"].items():
            lines += [
                f"- {where}: {path} disagrees with polars: {line}" for line in found
            ]
        if run.get("reference_agrees") is False:
            lines.append(f"- {where}: the reference's report differs from `metrics`")
        for name, page in run["pages"]["pages"].items():
            lines += [
                f"- {where}: page {name} raised: {error}" for error in page["errors"]
            ]
    return lines


def render_table(results: Result) -> str:
    """The summary and the page reruns, for the terminal."""
    lines = ["Summary", "", *summary_lines(results), "", "Page reruns (median)", ""]
    lines += pages_lines(results)
    targets = target_lines(results)
    if targets:
        lines += ["", "Targets at 1M", "", *targets]
    problems = problem_lines(results)
    if problems:
        lines += ["", "Problems", "", *problems]
    return "\n".join(lines)


def render_markdown(results: Result) -> str:
    """Every table, with the machine and the moment, for bench/results/latest.md."""
    machine = results["machine"]
    load = ", ".join(str(value) for value in machine["load_average_at_start"])
    lines = [
        "# Benchmark results",
        "",
        f"Measured {results['started_at']} to {results.get('finished_at', '?')} on "
        f"{machine['cpu']}, {machine['cores']} cores, Python {machine['python']} "
        f"({machine['platform']}); load average at start {load}. "
        f"Seed {results['seed']}. Written by `python -m bench.run`.",
        "",
        "## Summary",
        "",
        *summary_lines(results),
        "",
        "Loads read the columns the pages need; the copy is the Parquet file kept "
        "per history version. `metrics` cold builds the copy; warm reads it. The "
        "ratios compare load plus compute of the same figures.",
        "",
        "## The same figures three ways",
        "",
        *paths_lines(results),
        "",
        "## Page reruns after a filter change (median, data cached)",
        "",
        *pages_lines(results),
        "",
        "## Metrics suite, step by step",
        "",
        *suite_lines(results),
        "",
        "## Peak memory (MB)",
        "",
        *memory_lines(results),
        "",
        "## Seeding (`escalation-health seed` in a process of its own)",
        "",
        *seeding_lines(results),
        "",
    ]
    targets = target_lines(results)
    if targets:
        lines += ["## Targets at 1M", "", *targets, ""]
    problems = problem_lines(results)
    lines += ["## Problems", "", *(problems or ["None."]), ""]
    return "\n".join(lines)
