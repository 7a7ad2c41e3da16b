"""Benchmark the load path, the metrics and the pages at 10k, 100k and 1M escalations.

``python -m bench.run`` (``make bench``) seeds, or reuses, one database per size
on SQLite and on PostgreSQL and reports for each: loading into polars, the full
metrics suite, the ``metrics`` command as a whole process against a lean ADBC
reference, the same figures through ORM objects and through pandas, each page's
rerun after a filter change, and peak memory. Every measurement runs in a
process of its own. Results go to ``bench/results/latest.md`` and ``.json``.
"""

import argparse
import json
import logging
import os
import platform
import shutil
import statistics
import sys
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy.engine import make_url

from bench.databases import (
    BACKENDS,
    DEFAULT_WORK_DIR,
    SQLITE,
    BenchDatabase,
    ensure_database,
    postgres_server_url,
)
from bench.figures import disagreements
from bench.process import run_process
from bench.report import render_markdown, render_table
from db.engine import PROJECT_ROOT, normalise_url

log = logging.getLogger(__name__)

SIZES = {"10k": 4.0, "100k": 40.0, "1m": 400.0}
DEFAULT_RESULTS_DIR = PROJECT_ROOT / "bench" / "results"
DEFAULT_SEED = 7
# Targets at a million escalations.
TARGETS = {
    "page_rerun_s": 0.3,
    "peak_mb": 2048.0,
    "orm_over_polars": 10.0,
    "pandas_over_polars": 3.0,
    "cli_over_reference": 1.3,
}

Result = dict[str, Any]


def _echo(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def _child_environment(cache_dir: Path) -> dict[str, str]:
    inherited = os.environ.get("PYTHONPATH", "")
    path = os.pathsep.join(part for part in (str(PROJECT_ROOT), inherited) if part)
    return {
        **os.environ,
        "PYTHONPATH": path,
        "ESCALATION_HEALTH_CACHE_DIR": str(cache_dir),
    }


def run_probe(
    kind: str, arguments: Result, environment: dict[str, str]
) -> tuple[Result, float, float]:
    """Run one probe of ``bench.probes`` in a fresh interpreter."""
    command = [sys.executable, "-m", "bench.probes", kind, json.dumps(arguments)]
    text, seconds, peak_mb = run_process(command, environment)
    result: Result = json.loads(text.strip().splitlines()[-1])
    return result, seconds, peak_mb


def _cli_command(url: str) -> list[str]:
    script = Path(sys.executable).with_name("escalation-health")
    prefix = (
        [str(script)] if script.exists() else [sys.executable, "-m", "dashboard.cli"]
    )
    return [*prefix, "metrics", "--json", "--db", url]


def _app_columns() -> list[str]:
    """The escalation columns the dashboard's pages read."""
    from dashboard.data import OVERVIEW_COLUMNS  # noqa: PLC0415  (imports Streamlit)

    return list(OVERVIEW_COLUMNS)


def measure_whole_process(
    command: Sequence[str], environment: dict[str, str], runs: int
) -> Result:
    """Median wall time of ``runs`` runs of ``command``, and their output."""
    seconds = []
    peaks = []
    outputs = []
    for _ in range(runs):
        text, wall, peak = run_process(command, environment)
        seconds.append(wall)
        peaks.append(peak)
        outputs.append(text.strip())
    return {
        "runs_s": seconds,
        "median_s": statistics.median(seconds),
        "peak_mb": max(peaks),
        "output": outputs[-1],
    }


def measure_database(
    database: BenchDatabase,
    *,
    work_dir: Path,
    reruns: int,
    process_runs: int,
    pages: Sequence[str] | None,
    app_columns: list[str],
    echo: Callable[[str], None],
) -> Result:
    """Every measurement for one seeded database."""
    # A folder per database: the load probe empties it to time a cold copy.
    cache = work_dir / "cache" / f"{database.backend}-{database.scale:g}"
    environment = _child_environment(cache)
    base = {"url": database.url, "history_end": database.history_end}
    result: Result = {
        "backend": database.backend,
        "scale": database.scale,
        "escalations": database.escalations,
        "signals": database.counts.get("signal", 0),
        "seed_s": database.seed_seconds,
        "seed_peak_mb": database.seed_peak_mb,
    }

    echo("  loading into polars")
    load, _, peak = run_probe(
        "load",
        {**base, "cache_dir": str(cache), "app_columns": app_columns},
        environment,
    )
    result["load"] = {**load, "peak_mb": peak}

    echo("  metrics suite")
    suite, _, peak = run_probe("suite", base, environment)
    result["suite"] = {**suite, "peak_mb": peak}

    paths: Result = {}
    for name in ("orm", "pandas", "polars"):
        echo(f"  figures through {name}")
        path, wall, peak = run_probe("path", {**base, "path": name}, environment)
        path["total_s"] = path["load_s"] + path["compute_s"]
        paths[name] = {**path, "process_s": wall, "peak_mb": peak}
    result["paths"] = paths
    problems = {
        name: disagreements(paths["polars"]["figures"], paths[name]["figures"])
        for name in ("orm", "pandas")
    }
    result["disagreements"] = {name: lines for name, lines in problems.items() if lines}
    if not result["disagreements"]:
        polars_total = paths["polars"]["total_s"]
        polars_compute = paths["polars"]["compute_s"]
        result["ratios"] = {
            f"{name}_over_polars": paths[name]["total_s"] / polars_total
            for name in ("orm", "pandas")
        } | {
            f"{name}_over_polars_compute": paths[name]["compute_s"] / polars_compute
            for name in ("orm", "pandas")
        }

    echo("  metrics command, whole process")
    cold_cache = work_dir / "cache-cold"
    shutil.rmtree(cold_cache, ignore_errors=True)
    cold = measure_whole_process(
        _cli_command(database.url), _child_environment(cold_cache), 1
    )
    warm = measure_whole_process(_cli_command(database.url), environment, process_runs)
    report = json.loads(warm["output"])
    result["cli"] = {
        "cold_s": cold["median_s"],
        "cold_peak_mb": cold["peak_mb"],
        "warm_median_s": warm["median_s"],
        "warm_runs_s": warm["runs_s"],
        "warm_peak_mb": warm["peak_mb"],
    }
    if database.backend == SQLITE:
        sqlite_file = make_url(database.url).database
        assert sqlite_file is not None
        reference = measure_whole_process(
            [sys.executable, "-m", "bench.reference", sqlite_file],
            environment,
            process_runs,
        )
        result["reference"] = {
            "median_s": reference["median_s"],
            "runs_s": reference["runs_s"],
            "peak_mb": reference["peak_mb"],
        }
        result["reference_agrees"] = json.loads(reference["output"]) == report
        result["cli_over_reference"] = warm["median_s"] / reference["median_s"]

    echo("  page reruns")
    page_arguments = {**base, "reruns": reruns, "pages": list(pages or [])}
    page_results, _, peak = run_probe("pages", page_arguments, environment)
    result["pages"] = {**page_results, "peak_mb": peak}
    return result


def machine_description() -> Result:
    """What the figures were measured on."""
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        load = os.getloadavg()
    except OSError:
        load = (0.0, 0.0, 0.0)
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "platform": platform.platform(),
        "load_average_at_start": [round(value, 2) for value in load],
    }


def build_parser() -> argparse.ArgumentParser:
    """The command-line options."""
    parser = argparse.ArgumentParser(
        prog="python -m bench.run", description=__doc__.splitlines()[0]
    )
    parser.add_argument(
        "--sizes",
        default=",".join(SIZES),
        help=f"comma-separated sizes from {', '.join(SIZES)} (default: all)",
    )
    parser.add_argument(
        "--scale",
        type=float,
        action="append",
        help="seed this scale instead of --sizes (2,500 escalations per 1.0)",
    )
    parser.add_argument("--quick", action="store_true", help="10k escalations only")
    parser.add_argument(
        "--databases",
        default=",".join(BACKENDS),
        help="comma-separated: sqlite, postgres (default: both)",
    )
    parser.add_argument(
        "--postgres-url",
        default=postgres_server_url(),
        help="PostgreSQL server for the bench databases "
        "(default: BENCH_POSTGRES_URL, else TEST_POSTGRES_URL)",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED)
    parser.add_argument("--reruns", type=int, default=5, help="page reruns per page")
    parser.add_argument(
        "--process-runs",
        type=int,
        default=5,
        help="runs of the metrics command and of the reference (median)",
    )
    parser.add_argument(
        "--pages", help="comma-separated page scripts to rerun (default: all)"
    )
    parser.add_argument(
        "--tag", default="", help="a word in the databases' names, to keep runs apart"
    )
    parser.add_argument("--work-dir", type=Path, default=DEFAULT_WORK_DIR)
    parser.add_argument("--results-dir", type=Path, default=DEFAULT_RESULTS_DIR)
    return parser


def _plan(args: argparse.Namespace) -> list[tuple[str, float]]:
    if args.scale:
        return [(f"scale {scale:g}", scale) for scale in args.scale]
    labels = ["10k"] if args.quick else [s.strip() for s in args.sizes.split(",")]
    unknown = [label for label in labels if label not in SIZES]
    if unknown:
        message = f"unknown sizes {unknown}; choose from {list(SIZES)}"
        raise SystemExit(message)
    return [(label, SIZES[label]) for label in labels]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and write the results; 1 when the paths disagree."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    args = build_parser().parse_args(argv)
    plan = _plan(args)
    backends = [name.strip() for name in args.databases.split(",") if name.strip()]
    unknown = [name for name in backends if name not in BACKENDS]
    if unknown:
        raise SystemExit(f"unknown databases {unknown}; choose from {list(BACKENDS)}")
    if "postgres" in backends and not args.postgres_url:
        _echo(
            "Skipping PostgreSQL: set BENCH_POSTGRES_URL or TEST_POSTGRES_URL, "
            "or pass --postgres-url."
        )
        backends.remove("postgres")
    pages = [name.strip() for name in args.pages.split(",")] if args.pages else None

    started = datetime.now(UTC)
    results: Result = {
        "started_at": started.isoformat(timespec="seconds"),
        "machine": machine_description(),
        "seed": args.seed,
        "targets": TARGETS,
        "runs": [],
    }
    app_columns = _app_columns()
    for label, scale in plan:
        for backend in backends:
            database = ensure_database(
                backend,
                seed=args.seed,
                scale=scale,
                work_dir=args.work_dir,
                server_url=normalise_url(args.postgres_url)
                if args.postgres_url
                else None,
                tag=args.tag,
                echo=_echo,
            )
            _echo(f"{backend}, {label} ({database.escalations:,} escalations)")
            measured = measure_database(
                database,
                work_dir=args.work_dir,
                reruns=args.reruns,
                process_runs=args.process_runs,
                pages=pages,
                app_columns=app_columns,
                echo=_echo,
            )
            results["runs"].append({"size": label, **measured})

    results["finished_at"] = datetime.now(UTC).isoformat(timespec="seconds")
    args.results_dir.mkdir(parents=True, exist_ok=True)
    (args.results_dir / "latest.json").write_text(
        json.dumps(results, indent=2, allow_nan=False) + "\n", encoding="utf-8"
    )
    (args.results_dir / "latest.md").write_text(
        render_markdown(results), encoding="utf-8"
    )
    _echo()
    _echo(render_table(results))
    _echo(f"Results written to {args.results_dir / 'latest.md'} and latest.json")
    failed = [run for run in results["runs"] if run["disagreements"]]
    failed += [run for run in results["runs"] if run.get("reference_agrees") is False]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
