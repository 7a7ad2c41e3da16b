"""Time ``escalation-health seed`` on fresh databases, several runs per database.

Not a test: run ``python -m bench.seed_bench [--scale 400] [--runs 3]`` and read
the figures. Each run seeds an empty database in a process of its own (Python
start to exit, schema creation included) and reports its wall time and peak
memory, summed over the seed's processes and the parts waiting between them;
the table gives the fastest, median and slowest run, since times on a
shared virtual machine vary by a fifth or more from one run to the next. The
target is well under a minute for a million escalations (``--scale 400``).
"""

import argparse
import logging
import os
import statistics
import sys
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

from bench.databases import (
    BACKENDS,
    DEFAULT_WORK_DIR,
    POSTGRES,
    SQLITE,
    database_url,
    drop_database,
    postgres_server_url,
)
from bench.process import parts_in_transit, run_process
from bench.run import Result, machine_description

DEFAULT_SCALE = 400.0
DEFAULT_RUNS = 3
RESULTS = Path(__file__).parent / "results" / "seed.md"


def _command(url: str, scale: float, seed: int) -> list[str]:
    script = Path(sys.executable).with_name("escalation-health")
    prefix = (
        [str(script)] if script.exists() else [sys.executable, "-m", "dashboard.cli"]
    )
    return [*prefix, "seed", "--db", url, "--scale", f"{scale:g}", "--seed", str(seed)]


def time_seeding(
    backend: str, *, scale: float, seed: int, runs: int, server_url: str | None
) -> list[tuple[float, float]]:
    """Wall seconds and peak MB of ``runs`` seeds, each into an empty database."""
    url = database_url(
        backend,
        seed=seed,
        scale=scale,
        work_dir=DEFAULT_WORK_DIR,
        server_url=server_url,
        tag="seedtime",
    )
    DEFAULT_WORK_DIR.mkdir(parents=True, exist_ok=True)
    figures: list[tuple[float, float]] = []
    try:
        for run in range(1, runs + 1):
            drop_database(backend, url, create=backend == POSTGRES)
            _, seconds, peak_mb = run_process(
                _command(url, scale, seed),
                dict(os.environ),
                held_elsewhere=parts_in_transit,
            )
            sys.stdout.write(
                f"{backend} run {run}: {seconds:.1f} s, {peak_mb:,.0f} MB\n"
            )
            sys.stdout.flush()
            figures.append((seconds, peak_mb))
    finally:
        drop_database(backend, url)
    return figures


def report(
    results: dict[str, list[tuple[float, float]]], scale: float, machine: Result
) -> str:
    """The figures as a Markdown table, with the machine they were taken on."""
    load = ", ".join(str(value) for value in machine["load_average_at_start"])
    lines = [
        f"# Seeding at scale {scale:g}",
        "",
        f"Measured {datetime.now(UTC).isoformat(timespec='seconds')} on "
        f"{machine['cpu']}, {machine['cores']} cores, Python {machine['python']}; "
        f"load average at start {load}. Each run seeds an empty database in a "
        "process of its own. Written by `python -m bench.seed_bench`.",
        "",
        "| database | runs | fastest | median | slowest | peak MB (largest run) |",
        "|---|---|---|---|---|---|",
    ]
    for backend, figures in results.items():
        seconds = [wall for wall, _ in figures]
        lines.append(
            f"| {backend} | {len(figures)} | {min(seconds):.1f} s "
            f"| {statistics.median(seconds):.1f} s | {max(seconds):.1f} s "
            f"| {max(peak for _, peak in figures):,.0f} |"
        )
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Seed each database ``--runs`` times and write the table."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(message)s")
    parser = argparse.ArgumentParser(
        prog="python -m bench.seed_bench", description=__doc__.splitlines()[0]
    )
    parser.add_argument("--scale", type=float, default=DEFAULT_SCALE)
    parser.add_argument("--runs", type=int, default=DEFAULT_RUNS)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument(
        "--databases",
        default=",".join(BACKENDS),
        help="comma-separated: sqlite, postgres (default: both)",
    )
    parser.add_argument("--postgres-url", default=postgres_server_url())
    args = parser.parse_args(argv)
    backends = [name.strip() for name in args.databases.split(",") if name.strip()]
    if POSTGRES in backends and args.postgres_url is None:
        sys.stdout.write(
            "skipping PostgreSQL: set BENCH_POSTGRES_URL or TEST_POSTGRES_URL\n"
        )
        backends.remove(POSTGRES)
    if args.runs < 1 or args.scale <= 0:
        parser.error("--runs must be at least 1 and --scale above 0")

    machine = machine_description()
    results = {
        backend: time_seeding(
            backend,
            scale=args.scale,
            seed=args.seed,
            runs=args.runs,
            server_url=args.postgres_url,
        )
        for backend in backends
        if backend in (SQLITE, POSTGRES)
    }
    table = report(results, args.scale, machine)
    RESULTS.write_text(table, encoding="utf-8")
    sys.stdout.write(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
