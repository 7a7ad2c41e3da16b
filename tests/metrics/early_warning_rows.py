"""Builders for the tiny hand-made histories of the early warning tests.

Times are given in days after ``T0``, Monday 2 March 2026 00:00 UTC, so that
each test can say "day 10" and mean exactly 10 x 24 hours after it.
"""

from datetime import UTC, datetime, timedelta

import polars as pl

from metrics.schema import UTC_DATETIME

T0 = datetime(2026, 3, 2, tzinfo=UTC)
TONE_OF = {"H": "help_seeking", "F": "frustrated", "E": "exit_seeking"}

SIGNAL_SCHEMA = {
    "id": pl.Int64(),
    "account_id": pl.Int64(),
    "escalation_id": pl.Int64(),
    "observed_at": UTC_DATETIME,
    "tone": pl.String(),
    "score": pl.Float64(),
    "phrases": pl.List(pl.String()),
    "text": pl.String(),
    "source": pl.String(),
}
ESCALATION_SCHEMA = {
    "id": pl.Int64(),
    "account_id": pl.Int64(),
    "trigger_type": pl.String(),
    "severity": pl.String(),
    "first_signal_at": UTC_DATETIME,
    "escalated_at": UTC_DATETIME,
    "resolved_at": UTC_DATETIME,
    "account_name": pl.String(),
    "team": pl.String(),
}
DECISION_SCHEMA = {
    "account_id": pl.Int64(),
    "decision": pl.String(),
    "decided_at": UTC_DATETIME,
    "reason_category": pl.String(),
    "reason": pl.String(),
}


def day(days: float) -> datetime:
    """``days`` days of 24 hours after T0."""
    return T0 + timedelta(days=days)


def signals(rows: list[tuple[int, datetime | float, str]]) -> pl.DataFrame:
    """Scored signals from (account, time or day, tone letter H/F/E) rows.

    Ids count from 1 in row order; every signal is a ticket whose one phrase
    names its tone, which is enough for the window arithmetic.
    """
    return signals_with(
        [
            (account, at, tone, "ticket", [TONE_OF[tone].replace("_", " ")])
            for account, at, tone in rows
        ]
    )


def signals_with(
    rows: list[tuple[int, datetime | float, str, str, list[str]]],
) -> pl.DataFrame:
    """Scored signals from (account, time or day, tone letter, source, phrases)."""
    return pl.DataFrame(
        {
            "id": list(range(1, len(rows) + 1)),
            "account_id": [row[0] for row in rows],
            "escalation_id": [None] * len(rows),
            "observed_at": [
                row[1] if isinstance(row[1], datetime) else day(row[1]) for row in rows
            ],
            "tone": [TONE_OF[row[2]] for row in rows],
            "score": [0.8] * len(rows),
            "phrases": [row[4] for row in rows],
            "text": [f"signal {n}" for n in range(1, len(rows) + 1)],
            "source": [row[3] for row in rows],
        },
        schema=SIGNAL_SCHEMA,
    )


def escalations(
    rows: list[tuple[int, int, float, float | None]],
    *,
    late: frozenset[int] | set[int] = frozenset(),
    triggers: dict[int, str] | None = None,
) -> pl.DataFrame:
    """Escalations from (id, account, escalated day, resolved day or None) rows.

    Every escalation is of severity high (late beyond 72 hours); those whose
    id is in ``late`` waited 100 hours since their first signal, the others
    10 hours. Trigger type usage_drop unless ``triggers`` maps the id to
    another. The account is named "Account <id>".
    """
    triggers = triggers or {}
    return pl.DataFrame(
        {
            "id": [row[0] for row in rows],
            "account_id": [row[1] for row in rows],
            "trigger_type": [triggers.get(row[0], "usage_drop") for row in rows],
            "severity": ["high"] * len(rows),
            "first_signal_at": [
                day(row[2]) - timedelta(hours=100 if row[0] in late else 10)
                for row in rows
            ],
            "escalated_at": [day(row[2]) for row in rows],
            "resolved_at": [None if row[3] is None else day(row[3]) for row in rows],
            "account_name": [f"Account {row[1]}" for row in rows],
            "team": ["Atlas"] * len(rows),
        },
        schema=ESCALATION_SCHEMA,
    )


def decisions(
    rows: list[tuple[int, str, float, str | None]],
) -> pl.DataFrame:
    """Decisions from (account, decision, decided day, reason category) rows."""
    return pl.DataFrame(
        {
            "account_id": [row[0] for row in rows],
            "decision": [row[1] for row in rows],
            "decided_at": [day(row[2]) for row in rows],
            "reason_category": [row[3] for row in rows],
            "reason": [None if row[3] is None else "checked" for row in rows],
        },
        schema=DECISION_SCHEMA,
    )


NO_SIGNALS = signals([])
NO_ESCALATIONS = escalations([])
NO_DECISIONS = decisions([])
