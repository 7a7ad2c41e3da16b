"""Packet completeness: five answers, each present when not null and not blank."""

import polars as pl
import pytest

from metrics import (
    PACKET_QUESTIONS,
    packet_answer_present,
    packet_answers_present,
    packet_complete,
    packet_completeness,
)

FULL = {
    "evidence": "usage down 40% in two weeks",
    "decision_needed": "approve a service credit",
    "next_owner": "Dana Reyes",
    "consequence_if_unchanged": "no renewal in June",
    "exit_evidence": "usage back above 80% for a month",
}
PACKET_SCHEMA = dict.fromkeys(PACKET_QUESTIONS, pl.String)


def _packets(*rows: dict[str, str | None]) -> pl.DataFrame:
    """Packets built from FULL with the given answers replaced."""
    return pl.DataFrame([{**FULL, **row} for row in rows], schema=PACKET_SCHEMA)


def test_questions_are_the_five_in_reading_order() -> None:
    assert list(PACKET_QUESTIONS) == [
        "evidence",
        "decision_needed",
        "next_owner",
        "consequence_if_unchanged",
        "exit_evidence",
    ]
    assert all(question.endswith("?") for question in PACKET_QUESTIONS.values())


@pytest.mark.parametrize(
    ("answer", "present"),
    [
        ("Dana", True),
        ("  Dana  ", True),
        ("x", True),
        (None, False),
        ("", False),
        ("   ", False),
        ("\t\n", False),
        ("\u00a0", False),  # a no-break space is whitespace too
    ],
)
def test_an_answer_is_present_when_not_null_and_not_blank(
    answer: str | None, present: bool
) -> None:
    frame = pl.DataFrame({"next_owner": [answer]}, schema={"next_owner": pl.String})

    result = frame.select(packet_answer_present("next_owner"))

    assert result.columns == ["next_owner_answered"]
    assert result.item() is present


def test_answers_are_counted_per_escalation() -> None:
    packets = _packets(
        {},  # all five
        {"exit_evidence": None},  # four
        {"evidence": " ", "decision_needed": "", "next_owner": None},  # two
        dict.fromkeys(PACKET_QUESTIONS, None),  # none
    )

    result = packets.select(packet_answers_present(), packet_complete())

    assert result.schema == {"packet_answers": pl.Int64, "packet_complete": pl.Boolean}
    assert result.rows() == [(5, True), (4, False), (2, False), (0, False)]


def test_a_column_of_only_nulls_counts_as_unanswered() -> None:
    # A loader can hand over an all-null column with dtype Null.
    packets = _packets({}).with_columns(pl.lit(None).alias("exit_evidence"))

    result = packets.select(packet_answers_present(), packet_complete())

    assert result.rows() == [(4, False)]


def test_completeness_gives_counts_and_shares() -> None:
    packets = _packets(
        {},
        {},
        {"exit_evidence": "  "},
        {"exit_evidence": None, "next_owner": None},
    )

    report = packet_completeness(packets)

    # 2 of 4 complete; next_owner missing once (3/4), exit_evidence twice (2/4).
    assert report == {
        "escalations": 4,
        "complete": 2,
        "complete_share": 0.5,
        "answered": {
            "evidence": 4,
            "decision_needed": 4,
            "next_owner": 3,
            "consequence_if_unchanged": 4,
            "exit_evidence": 2,
        },
        "answered_share": {
            "evidence": 1.0,
            "decision_needed": 1.0,
            "next_owner": 0.75,
            "consequence_if_unchanged": 1.0,
            "exit_evidence": 0.5,
        },
    }
    assert list(report["answered"]) == list(PACKET_QUESTIONS)


def test_completeness_of_no_escalations_has_empty_shares() -> None:
    report = packet_completeness(pl.DataFrame(schema=PACKET_SCHEMA))

    assert report["escalations"] == 0
    assert report["complete"] == 0
    assert report["complete_share"] is None
    assert set(report["answered"].values()) == {0}
    assert set(report["answered_share"].values()) == {None}


def test_completeness_names_a_missing_column() -> None:
    packets = _packets({}).drop("exit_evidence")

    with pytest.raises(ValueError, match="exit_evidence"):
        packet_completeness(packets)


def test_other_columns_are_ignored() -> None:
    packets = _packets({}).with_columns(pl.lit("ignored").alias("risk"))

    assert packet_completeness(packets)["complete"] == 1
