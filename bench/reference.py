"""The lean reference for ``escalation-health metrics --json`` on a SQLite file.

Reads the five columns the figures need straight out of SQLite through ADBC,
with no schema check, no ORM and no cache, and computes the report with the same
polars code as the command (``metrics.summary.metrics_report``), so that the two
differ only in how the rows reach polars. Run as a whole process:
``python -m bench.reference PATH`` prints the report as one JSON object.
"""

import json
import sys

import adbc_driver_sqlite.dbapi as adbc_sqlite
import polars as pl

from metrics.summary import metrics_report

FIVE_COLUMNS = (
    "account_id",
    "trigger_type",
    "severity",
    "first_signal_at",
    "escalated_at",
)
SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S%.6f"


def read_five_columns(path: str) -> pl.DataFrame:
    """The five columns of every escalation, timestamps as aware UTC."""
    query = f"SELECT {', '.join(FIVE_COLUMNS)} FROM escalation"
    with adbc_sqlite.connect(path) as connection, connection.cursor() as cursor:
        cursor.execute(query)
        table = cursor.fetch_arrow_table()
    frame = pl.from_arrow(table)
    assert isinstance(frame, pl.DataFrame)
    return frame.with_columns(
        pl.col("first_signal_at", "escalated_at").str.to_datetime(
            SQLITE_DATETIME, time_unit="us", time_zone="UTC"
        )
    )


def main(argv: list[str]) -> int:
    """Print the metrics report of the SQLite file named in ``argv``."""
    if len(argv) != 1:
        sys.stderr.write("usage: python -m bench.reference PATH_TO_SQLITE_FILE\n")
        return 2
    report = metrics_report(read_five_columns(argv[0]))
    sys.stdout.write(json.dumps(report, allow_nan=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
