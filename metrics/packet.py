"""Packet completeness: does each escalation answer the five questions it must?"""

from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

import polars as pl

from metrics.columns import (
    CONSEQUENCE_IF_UNCHANGED,
    DECISION_NEEDED,
    EVIDENCE,
    EXIT_EVIDENCE,
    NEXT_OWNER,
    PACKET_ANSWERS,
    PACKET_COMPLETE,
)
from metrics.rates import share_of_escalations
from metrics.schema import require_columns

PACKET_QUESTIONS: Mapping[str, str] = MappingProxyType(
    {
        EVIDENCE: "What evidence triggered this?",
        DECISION_NEEDED: "What decision is needed?",
        NEXT_OWNER: "Who owns the next move?",
        CONSEQUENCE_IF_UNCHANGED: "What happens if nothing changes?",
        EXIT_EVIDENCE: "What evidence will prove the risk is gone?",
    }
)
"""Packet column → the question it answers, in the order a packet is read."""

_ANSWERED_SUFFIX = "_answered"


def packet_answer_present(column: str) -> pl.Expr:
    """Whether ``column`` holds an answer: not null and not blank once stripped.

    Named "<column>_answered". Whitespace of any kind (spaces, tabs, line
    breaks, no-break spaces) does not count as an answer.
    """
    # Cast first so that a column holding only nulls (dtype Null) still works.
    stripped = pl.col(column).cast(pl.String).str.strip_chars()
    return (stripped != "").fill_null(False).alias(f"{column}{_ANSWERED_SUFFIX}")


def packet_answers_present() -> pl.Expr:
    """How many of the five packet questions a row answers, 0 to 5, as Int64.

    Named "packet_answers".

    Examples
    --------
    >>> df = pl.DataFrame(
    ...     {
    ...         "evidence": ["usage down 40%", "   "],
    ...         "decision_needed": ["approve credit", None],
    ...         "next_owner": ["Dana", "Lee"],
    ...         "consequence_if_unchanged": ["churn at renewal", ""],
    ...         "exit_evidence": [None, None],
    ...     }
    ... )
    >>> df.select(packet_answers_present()).to_series().to_list()
    [4, 1]
    """
    answered = [packet_answer_present(column) for column in PACKET_QUESTIONS]
    return pl.sum_horizontal(answered).cast(pl.Int64).alias(PACKET_ANSWERS)


def packet_complete() -> pl.Expr:
    """Whether a row answers all five packet questions, named "packet_complete"."""
    answered = [packet_answer_present(column) for column in PACKET_QUESTIONS]
    return pl.all_horizontal(answered).alias(PACKET_COMPLETE)


def packet_completeness(escalations: pl.DataFrame) -> dict[str, Any]:
    """Share of escalations with a complete packet, and of each answer.

    Returns a dict with

    - "escalations" (int): rows in ``escalations``;
    - "complete" (int) and "complete_share" (float): rows answering all five
      questions, and that count divided by "escalations";
    - "answered" and "answered_share": dicts keyed by packet column in the
      order of ``PACKET_QUESTIONS``, holding the count (int) and share (float)
      of rows that answer that question.

    Every share is None when there are no escalations.

    Examples
    --------
    >>> df = pl.DataFrame(
    ...     {
    ...         "evidence": ["usage down 40%", "ticket spike"],
    ...         "decision_needed": ["approve credit", "pick a fix"],
    ...         "next_owner": ["Dana", " "],
    ...         "consequence_if_unchanged": ["churn", "churn"],
    ...         "exit_evidence": ["usage back", "no repeats"],
    ...     }
    ... )
    >>> report = packet_completeness(df)
    >>> report["complete"], report["complete_share"]
    (1, 0.5)
    >>> report["answered_share"]["next_owner"]
    0.5
    """
    require_columns(escalations, PACKET_QUESTIONS, needed_by="packet_completeness")

    flags = escalations.select(
        packet_complete(),
        *[packet_answer_present(column) for column in PACKET_QUESTIONS],
    )
    flag_names = flags.columns
    row = flags.select(
        pl.len().cast(pl.Int64).alias("escalations"),
        *[
            pl.col(name).sum().cast(pl.Int64).alias(f"{name}_count")
            for name in flag_names
        ],
        *[share_of_escalations(name).alias(f"{name}_share") for name in flag_names],
    ).row(0, named=True)

    answered_names = {
        column: f"{column}{_ANSWERED_SUFFIX}" for column in PACKET_QUESTIONS
    }
    return {
        "escalations": int(row["escalations"]),
        "complete": int(row[f"{PACKET_COMPLETE}_count"]),
        "complete_share": row[f"{PACKET_COMPLETE}_share"],
        "answered": {
            column: int(row[f"{name}_count"]) for column, name in answered_names.items()
        },
        "answered_share": {
            column: row[f"{name}_share"] for column, name in answered_names.items()
        },
    }
