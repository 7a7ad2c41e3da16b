"""The draft packet for a flagged account: what it says, cites and leaves out."""

import re
from datetime import UTC, datetime

import polars as pl
import pytest

from metrics.early_warning import (
    EVIDENCE_LINES,
    SIMILAR_CASE_SCHEMA,
    TIMELINE_LINES,
    DraftPacket,
    draft_packet,
)
from tests.metrics.early_warning_rows import signals_with

AS_OF = datetime(2026, 5, 29, 12, tzinfo=UTC)
NAME = "Acme Analytics"


def _at(month: int, day: int) -> datetime:
    return datetime(2026, month, day, 10, tzinfo=UTC)


# The default window is 28 days: (1 May 12:00, 29 May 12:00]. Ids count from 1.
WINDOW = signals_with(
    [
        (1, _at(4, 20), "H", "ticket", ["how do i"]),  # 1: before the window
        (1, _at(5, 4), "H", "ticket", ["how do i"]),  # 2
        (1, _at(5, 6), "F", "chat", ["again", "still waiting"]),  # 3
        (1, _at(5, 10), "F", "call_transcript", ["third time"]),  # 4
        (1, _at(5, 12), "E", "renewal_conversation", ["not renewing"]),  # 5
        (
            1,
            _at(5, 15),
            "E",
            "account_review",
            ["alternatives", "reviewing our options"],
        ),  # 6
        (
            1,
            _at(5, 20),
            "E",
            "renewal_conversation",
            ["not renewing", "notice period"],
        ),  # 7
        (1, _at(5, 22), "H", "chat", []),  # 8
        (1, _at(5, 25), "F", "ticket", ["unacceptable"]),  # 9
        (1, _at(5, 27), "E", "renewal_conversation", ["rfp"]),  # 10
        (1, _at(5, 28), "E", "chat", ["cancel our subscription"]),  # 11
        (1, _at(5, 30), "E", "chat", ["churn"]),  # 12: after as_of
    ]
)
NO_CASES = pl.DataFrame(schema=SIMILAR_CASE_SCHEMA)
ONE_CASE = pl.DataFrame(
    {
        "account_id": [1],
        "case_rank": [1],
        "escalation_id": [40],
        "similarity": [0.9],
        "past_account_id": [8],
        "past_account_name": ["Borealis Freight"],
        "trigger_type": ["usage_drop"],
        "escalated_at": [datetime(2026, 2, 3, 9, tzinfo=UTC)],
        "why": ["late"],
    },
    schema=SIMILAR_CASE_SCHEMA,
)


@pytest.fixture(scope="module")
def packet() -> DraftPacket:
    return draft_packet(NAME, WINDOW, ONE_CASE, as_of=AS_OF)


def test_risk_names_the_account_and_the_drift_in_the_window(
    packet: DraftPacket,
) -> None:
    # In the window: signals 2 to 11, ten of them. Exit seeking: 5, 6, 7, 10
    # and 11 (5 of 10, 50 %); frustrated: 3, 4, 9. Three of the five exit
    # signals came in renewal conversations, more than half.
    assert packet.risk == (
        "Acme Analytics's signals are drifting toward leaving: 5 of the 10 "
        "signals in the 28 days to 29 May 2026 (50%) read as exit-seeking, most "
        "of them in renewal conversations, and 3 more as frustrated. The first "
        "came on 12 May 2026, the latest on 28 May 2026."
    )


def test_evidence_lists_the_worrying_signals_newest_first_and_caps_them(
    packet: DraftPacket,
) -> None:
    # Eight exit-seeking or frustrated signals, newest first: 11, 10, 9, 7, 6,
    # 5, 4, 3. The first EVIDENCE_LINES (6) get a line, the last two are
    # counted; every one of them is cited.
    assert EVIDENCE_LINES == 6
    assert packet.evidence.split("\n") == [
        '28 May 2026, chat, exit-seeking: "cancel our subscription"',
        '27 May 2026, renewal conversation, exit-seeking: "rfp"',
        '25 May 2026, ticket, frustrated: "unacceptable"',
        '20 May 2026, renewal conversation, exit-seeking: "not renewing", '
        '"notice period"',
        '15 May 2026, account review, exit-seeking: "alternatives", '
        '"reviewing our options"',
        '12 May 2026, renewal conversation, exit-seeking: "not renewing"',
        "and 2 more exit-seeking or frustrated in the window",
    ]
    assert packet.evidence_signal_ids == (11, 10, 9, 7, 6, 5, 4, 3)


def test_timeline_runs_oldest_first_over_the_window_only(
    packet: DraftPacket,
) -> None:
    lines = packet.timeline.split("\n")

    assert len(lines) == 10  # signals 2 to 11; neither 20 April nor 30 May
    assert lines[0] == "4 May 2026: ticket, help-seeking"
    assert lines[1] == '6 May 2026: chat, frustrated ("again")'
    assert (
        lines[3] == '12 May 2026: renewal conversation, exit-seeking ("not renewing")'
    )
    assert lines[-1] == '28 May 2026: chat, exit-seeking ("cancel our subscription")'
    assert "churn" not in packet.timeline


def test_consequence_cites_the_similar_past_case(packet: DraftPacket) -> None:
    assert packet.consequence_if_unchanged == (
        "Over the 8 weeks before 1 past escalation that came late, the signals "
        "ran much like these: Borealis Freight, usage drop, escalated 3 Feb 2026 "
        "(late). If nothing changes, Acme Analytics could go the same way, with "
        "the risk reaching an owner only once it is urgent."
    )


def test_consequence_without_similar_cases_says_there_were_none() -> None:
    packet = draft_packet(NAME, WINDOW, NO_CASES, as_of=AS_OF)

    assert "No past late or recurring escalation" in packet.consequence_if_unchanged
    assert "Borealis" not in packet.consequence_if_unchanged


def test_exit_evidence_quotes_the_threshold_and_the_most_said_exit_phrases(
    packet: DraftPacket,
) -> None:
    # "not renewing" was said twice; of the phrases said once, "cancel our
    # subscription" was said last.
    assert packet.exit_evidence == (
        "Fewer than 20% of Acme Analytics's signals read as exit-seeking over a "
        'full 28 days, with no more talk of "not renewing", "cancel our '
        'subscription".'
    )


def test_decision_and_options_leave_the_choice_to_a_person(
    packet: DraftPacket,
) -> None:
    assert NAME in packet.decision_needed
    assert "dismiss" in packet.decision_needed
    options = packet.options.split("\n")
    assert len(options) == 3
    assert options[0] == (
        "Open an escalation now and name an owner to speak with Acme Analytics "
        'about "not renewing".'
    )
    assert options[-1].startswith("Dismiss the flag with a reason")
    assert packet.next_owner == ""


def test_the_packet_is_plain_text(packet: DraftPacket) -> None:
    texts = [
        packet.risk,
        packet.evidence,
        packet.timeline,
        packet.consequence_if_unchanged,
        packet.exit_evidence,
        packet.decision_needed,
        packet.options,
    ]

    for text in texts:
        assert text.strip() == text
        assert not re.search(r"[*_`#<>\[\]]|^\s*[-+] ", text, flags=re.MULTILINE), text


def test_the_packet_follows_the_data() -> None:
    # One exit-seeking remark among three signals: singular wording, no claim
    # about sources, the one date given; an exit signal without phrases says
    # so rather than inventing one.
    window = signals_with(
        [
            (1, _at(5, 20), "H", "ticket", ["how do i"]),
            (1, _at(5, 21), "H", "chat", []),
            (1, _at(5, 26), "E", "call_transcript", []),
        ]
    )

    packet = draft_packet("Birch & Co", window, NO_CASES, as_of=AS_OF)

    assert packet.risk == (
        "Birch & Co's signals are drifting toward leaving: 1 of the 3 signals in "
        "the 28 days to 29 May 2026 (33%) reads as exit-seeking. It came on 26 May "
        "2026."
    )
    assert packet.evidence == (
        "26 May 2026, call, exit-seeking: no single phrase stood out"
    )
    assert packet.evidence_signal_ids == (3,)
    assert packet.exit_evidence.endswith("over a full 28 days.")
    assert "about what it has raised" in packet.options


def test_a_long_window_sums_up_its_oldest_signals_in_one_line() -> None:
    # Thirteen signals, 3 more than TIMELINE_LINES: the three oldest (two help,
    # one frustrated, 2 to 4 May) become one line.
    tones = ["H", "F", "H"] + ["E", "H"] * 5
    window = signals_with(
        [
            (1, _at(5, 2 + n), tone, "ticket", [f"phrase {n}"])
            for n, tone in enumerate(tones)
        ]
    )

    packet = draft_packet(NAME, window, NO_CASES, as_of=AS_OF)

    lines = packet.timeline.split("\n")
    assert len(lines) == TIMELINE_LINES + 1
    assert lines[0] == (
        "2 May 2026 to 4 May 2026: 3 earlier signals, 2 help-seeking, 1 frustrated"
    )
    assert lines[1] == '5 May 2026: ticket, exit-seeking ("phrase 3")'


@pytest.mark.parametrize("name", ["", "   "])
def test_a_blank_account_name_is_refused(name: str) -> None:
    with pytest.raises(ValueError, match="name"):
        draft_packet(name, WINDOW, NO_CASES, as_of=AS_OF)


def test_a_window_without_signals_is_refused() -> None:
    with pytest.raises(ValueError, match="no signal of Acme Analytics"):
        draft_packet(NAME, WINDOW, NO_CASES, as_of=datetime(2026, 1, 1, tzinfo=UTC))
