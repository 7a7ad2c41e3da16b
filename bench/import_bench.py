"""Time the import of a generated escalations CSV into a fresh SQLite database.

Not a test: run ``python bench/import_bench.py [ROWS]`` and read the figures.
The target is a million rows in under 60 s on a 2-core machine.
"""

import sys
import tempfile
import time
from pathlib import Path

import polars as pl

from db.engine import create_db_engine
from db.importer import read_file, run_import, validate_import
from db.migrate import upgrade

DEFAULT_ROWS = 1_000_000
SEVERITIES = ["critical", "Sev2", "p3", "low", "major", "minor"]
TRIGGERS = ["data loss", "renewal-at-risk", "sso_outage", "billing dispute"]


def generate_csv(path: Path, rows: int) -> None:
    """A CSV of ``rows`` escalations over 5,000 accounts, with offsets and aliases."""
    index = pl.int_range(0, rows, eager=True)
    start = pl.datetime(2024, 1, 1, time_zone="UTC")
    frame = pl.DataFrame({"i": index}).select(
        pl.format("ESC-{}", pl.col("i")).alias("escalation_id"),
        pl.format("ACC-{}", pl.col("i") % 5_000).alias("account_id"),
        pl.lit(TRIGGERS).list.get(pl.col("i") % len(TRIGGERS)).alias("trigger_type"),
        pl.lit(SEVERITIES).list.get(pl.col("i") % len(SEVERITIES)).alias("severity"),
        (start + pl.duration(minutes=pl.col("i") * 7)).alias("first"),
        (pl.col("i") % 97 + 1).alias("hours"),
        pl.format("Owner {}", pl.col("i") % 300).alias("owner"),
        pl.format("Risk of churn noted on call {}", pl.col("i")).alias("risk"),
    )
    frame = frame.select(
        "escalation_id",
        "account_id",
        "trigger_type",
        "severity",
        pl.col("first").dt.strftime("%Y-%m-%dT%H:%M:%S+00:00").alias("first_signal_at"),
        (pl.col("first") + pl.duration(hours=pl.col("hours")))
        .dt.strftime("%Y-%m-%dT%H:%M:%S+00:00")
        .alias("escalated_at"),
        "owner",
        "risk",
    )
    frame.write_csv(path)


def main() -> None:
    """Generate, import, print the timings."""
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_ROWS
    with tempfile.TemporaryDirectory() as folder:
        csv = Path(folder) / "escalations.csv"
        generate_csv(csv, rows)
        engine = create_db_engine(f"sqlite:///{Path(folder) / 'bench.db'}")
        upgrade(engine)

        started = time.perf_counter()
        frame = read_file(csv, max_bytes=10**10)
        read_s = time.perf_counter() - started
        with engine.connect() as connection:
            report = validate_import("escalations", frame, connection=connection)
        validate_s = time.perf_counter() - started - read_s
        result = run_import(report, engine=engine, skip_invalid=False, dry_run=False)
        total_s = time.perf_counter() - started
        engine.dispose()

    sys.stdout.write(
        f"{rows:,} escalation rows: read {read_s:.1f} s, validate {validate_s:.1f} s, "
        f"write {total_s - read_s - validate_s:.1f} s, total {total_s:.1f} s "
        f"({result.inserted:,} inserted, {result.accounts_created:,} accounts)\n"
    )


if __name__ == "__main__":
    main()
