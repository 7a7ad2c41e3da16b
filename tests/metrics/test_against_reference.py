"""The polars report agrees with the plain-Python reading in tests/reference.py."""

import random
from datetime import UTC, datetime, timedelta

import polars as pl
import pytest

from metrics import metrics_report
from tests.reference import Row, assert_reports_close, report

T0 = datetime(2024, 1, 1, tzinfo=UTC)


def _random_history(seed: int, size: int) -> list[Row]:
    chooser = random.Random(seed)
    rows = []
    for n in range(size):
        # Whole hours over half a year, few accounts: ties, repeats, exact
        # 90-day gaps and thresholds all turn up.
        escalated_at = T0 + timedelta(hours=chooser.randint(0, 24 * 180))
        latency = timedelta(hours=chooser.choice([0, 1, 24, 25, 72, 73, 168, 400]))
        rows.append(
            Row(
                id=n + 1,
                account_id=chooser.randint(1, 6),
                trigger_type=chooser.choice(["usage_drop", "billing", "nps"]),
                severity=chooser.choice(["critical", "high", "medium", "low"]),
                first_signal_at=escalated_at - latency,
                escalated_at=escalated_at,
            )
        )
    return rows


def _frame(rows: list[Row]) -> pl.DataFrame:
    return pl.DataFrame(
        [
            (
                r.id,
                r.account_id,
                r.trigger_type,
                r.severity,
                r.first_signal_at,
                r.escalated_at,
            )
            for r in rows
        ],
        schema={
            "id": pl.Int64,
            "account_id": pl.Int64,
            "trigger_type": pl.String,
            "severity": pl.String,
            "first_signal_at": pl.Datetime("us", "UTC"),
            "escalated_at": pl.Datetime("us", "UTC"),
        },
        orient="row",
    )


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize(
    ("start", "end"),
    [
        (None, None),
        (T0 + timedelta(days=60), T0 + timedelta(days=120)),
        (T0 + timedelta(days=100), None),
        (None, T0 + timedelta(days=30)),
    ],
)
def test_report_matches_the_reference(
    seed: int, start: datetime | None, end: datetime | None
) -> None:
    rows = _random_history(seed, 250)

    actual = metrics_report(_frame(rows), start=start, end=end)

    assert_reports_close(actual, report(rows, start=start, end=end))
