"""Builders for the small, hand-written escalation frames the metric tests use."""

from collections.abc import Callable
from datetime import UTC, datetime

import polars as pl
import pytest

from metrics import early_warning
from metrics.schema import ESCALATION_SCHEMA

# (account_id, trigger_type, severity, first_signal_at, escalated_at)
Row = tuple[int, str, str, datetime, datetime]


def _utc(year: int, month: int, day: int, hour: int = 0) -> datetime:
    return datetime(year, month, day, hour, tzinfo=UTC)


def build_escalations(rows: list[Row]) -> pl.DataFrame:
    """An escalations frame in the loader's schema, plus a pass-through column."""
    accounts, types, severities, signals, escalated = (
        [list(column) for column in zip(*rows, strict=True)] if rows else [[]] * 5
    )
    return pl.DataFrame(
        {
            "id": list(range(1, len(rows) + 1)),
            "account_id": accounts,
            "trigger_type": types,
            "severity": severities,
            "first_signal_at": signals,
            "escalated_at": escalated,
            "resolved_at": [None] * len(rows),
            "team": [f"team-{n % 2}" for n in range(len(rows))],
        },
        schema={**ESCALATION_SCHEMA, "team": pl.String},
    )


@pytest.fixture
def make_escalations() -> Callable[[list[Row]], pl.DataFrame]:
    """Build an escalations frame from (account, type, severity, signal, at) rows."""
    return build_escalations


@pytest.fixture
def history() -> pl.DataFrame:
    """A seven-escalation history around the window [2024-03-04, 2024-03-18).

    Latency in hours, lateness against the default thresholds, and recurrence:

    1. acct 1 usage_drop high      24h  on time  first            (before window)
    2. acct 1 usage_drop critical   0h  on time  recurs (row 1, 48 days)
    3. acct 2 usage_drop critical  30h  late     first
    4. acct 2 billing    medium   168h  on time  first  (exactly on threshold)
    5. acct 3 billing    low      384h  late     first
    6. acct 2 billing    medium    36h  on time  recurs (row 4, 3.5 days)
    7. acct 1 usage_drop high      24h  on time  recurs (row 2)  (at window end)
    """
    return build_escalations(
        [
            (1, "usage_drop", "high", _utc(2024, 1, 15), _utc(2024, 1, 16)),
            (1, "usage_drop", "critical", _utc(2024, 3, 4), _utc(2024, 3, 4)),
            (2, "usage_drop", "critical", _utc(2024, 3, 5), _utc(2024, 3, 6, 6)),
            (2, "billing", "medium", _utc(2024, 3, 1), _utc(2024, 3, 8)),
            (3, "billing", "low", _utc(2024, 3, 1), _utc(2024, 3, 17)),
            (2, "billing", "medium", _utc(2024, 3, 10), _utc(2024, 3, 11, 12)),
            (1, "usage_drop", "high", _utc(2024, 3, 17), _utc(2024, 3, 18)),
        ]
    )


@pytest.fixture(params=["one pass", "passes of two rows"])
def each_rows_per_pass(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Run a test in one pass and again with the early warning's passes of two rows.

    With two rows a pass nearly every account gets a pass of its own, so any
    rule that reads across accounts would come out differently.
    """
    if request.param == "passes of two rows":
        monkeypatch.setattr(early_warning, "ROWS_PER_PASS", 2)
