"""Opening an escalation from a flag, or dismissing it, on SQLite and PostgreSQL."""

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import polars as pl
import pytest
from alembic import command
from polars.testing import assert_frame_equal
from sqlalchemy import Engine, insert, inspect, text
from sqlalchemy.exc import IntegrityError

import db.early_warning
from db.early_warning import (
    FLAG_DECISION_SCHEMA,
    EscalationPacket,
    FlagValidationError,
    dismiss_flag,
    load_flag_decisions,
    open_escalation_from_flag,
)
from db.migrate import alembic_config, current_revision, head_revision, upgrade
from db.models import EarlyWarningDecision
from db.queries import load_escalation, load_signals
from db.version import read_data_version, read_versions
from tests.factories import account, at, escalation, signal, write

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
FLAGGED_SINCE = datetime(2026, 2, 23, 9, 0, tzinfo=UTC)
# As the person edited it on the page; surrounding blanks are not kept.
PACKET = EscalationPacket(
    risk="  Renewal in May is at risk: two asks about exporting all data ",
    evidence="Tickets on 18 and 20 February ask how to export every record.",
    options="Call the sponsor this week; offer the migration review.",
    decision_needed="Whether to offer the migration review before renewal talks",
    next_owner="Dana Okafor",
    consequence_if_unchanged="The customer evaluates other providers unopposed.",
    exit_evidence=None,
)


@dataclass(frozen=True)
class Flagged:
    """Ids of a flagged account's history, as :func:`flagged_account` wrote it."""

    account_id: int
    other_account_id: int
    earlier_escalation_id: int
    early: int
    late: int
    taken: int
    uncited: int
    foreign: int


def flagged_account(engine: Engine) -> Flagged:
    """An account with four signals, one already in an escalation, and a neighbour.

    Signals of the flagged account: ``early`` 18 Feb 09:00, ``taken`` 19 Feb
    08:00 (in an earlier escalation), ``late`` 20 Feb 10:00 and ``uncited`` 21
    Feb 11:00. The neighbour account has one signal, ``foreign``.
    """
    account_id, other_id = write(
        engine, account(name="Northwind Freight"), account(name="Contoso Retail")
    )
    (earlier,) = write(engine, escalation(account_id, at("2026-02-19", 12), 4))
    early, taken, late, uncited, foreign = write(
        engine,
        signal(account_id, None, at("2026-02-18", 9), tone="help_seeking"),
        signal(account_id, earlier, at("2026-02-19", 8), tone="frustrated"),
        signal(account_id, None, at("2026-02-20", 10), tone="exit_seeking"),
        signal(account_id, None, at("2026-02-21", 11), tone="exit_seeking"),
        signal(other_id, None, at("2026-02-19", 9), tone="exit_seeking"),
    )
    return Flagged(account_id, other_id, earlier, early, late, taken, uncited, foreign)


def open_args(flagged: Flagged, **overrides: Any) -> dict[str, Any]:
    """Valid arguments for opening an escalation; ``overrides`` replace some."""
    values: dict[str, Any] = {
        "account_id": flagged.account_id,
        "decided_by": "Priya Raman",
        "owner": "Dana Okafor",
        "severity": "high",
        "trigger_type": "Exit Risk",
        "packet": PACKET,
        "evidence_signal_ids": [flagged.late, flagged.early, flagged.taken],
        "flagged_since": FLAGGED_SINCE,
        "exit_share": 0.6,
        "signals_in_window": 5,
        "token": "open-1",
        "now": NOW,
    }
    values.update(overrides)
    return values


def dismiss_args(flagged: Flagged, **overrides: Any) -> dict[str, Any]:
    """Valid arguments for dismissing a flag; ``overrides`` replace some."""
    values: dict[str, Any] = {
        "account_id": flagged.account_id,
        "decided_by": "Marta Kowalski",
        "reason_category": "known_issue_in_hand",
        "reason": "  The export questions are about the audit; Dana is on it. ",
        "flagged_since": FLAGGED_SINCE,
        "exit_share": 0.4,
        "signals_in_window": 5,
        "token": "dismiss-1",
        "now": NOW,
    }
    values.update(overrides)
    return values


def stored(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table, in a stable order."""
    names = sorted(set(inspect(engine).get_table_names()) - {"alembic_version"})
    with engine.connect() as connection:
        return {
            name: sorted(
                connection.execute(text(f"SELECT * FROM {name}")).all(), key=repr
            )
            for name in names
        }


def data_version(engine: Engine) -> int:
    """The data version as it stands."""
    with engine.connect() as connection:
        return read_data_version(connection=connection)


def history_version(engine: Engine) -> int:
    """The history version as it stands."""
    with engine.connect() as connection:
        return read_versions(connection=connection)[1]


def decisions(engine: Engine) -> pl.DataFrame:
    """Every recorded decision, as the page reads them."""
    with engine.connect() as connection:
        return load_flag_decisions(connection=connection)


def signal_owners(engine: Engine, account_id: int) -> dict[int, int | None]:
    """Each signal of an account -> the escalation it belongs to."""
    with engine.connect() as connection:
        frame = load_signals(connection=connection, account_id=account_id)
    return dict(frame.select("id", "escalation_id").iter_rows())


def count(engine: Engine, table: str) -> int:
    """Number of rows in ``table``."""
    with engine.connect() as connection:
        return int(connection.execute(text(f"SELECT COUNT(*) FROM {table}")).scalar())


def decision_frame(rows: list[dict[str, Any]]) -> pl.DataFrame:
    """An expected :func:`load_flag_decisions` frame, built by hand."""
    return pl.DataFrame(rows, schema=FLAG_DECISION_SCHEMA)


def in_parallel(*calls: Callable[[], Any]) -> list[Any]:
    """Run the calls on threads released together; return results or exceptions."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        barrier.wait()
        try:
            return call()
        except Exception as error:
            return error

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))


# Opening an escalation


def test_opening_creates_one_escalation_as_the_person_wrote_it(
    db_engine: Engine,
) -> None:
    flagged = flagged_account(db_engine)
    escalations_before = count(db_engine, "escalation")
    version_before = data_version(db_engine)
    history_before = history_version(db_engine)

    escalation_id = open_escalation_from_flag(db_engine, **open_args(flagged))

    assert count(db_engine, "escalation") == escalations_before + 1
    with db_engine.connect() as connection:
        opened = load_escalation(connection=connection, escalation_id=escalation_id)
    assert opened is not None
    assert opened["external_id"].startswith("EW-20260302-")
    # first_signal_at: the cited signals were observed 20 Feb 10:00, 18 Feb
    # 09:00 and 19 Feb 08:00; the earliest is 18 Feb 09:00.
    assert {
        name: opened[name]
        for name in (
            "account_id",
            "trigger_type",
            "severity",
            "first_signal_at",
            "escalated_at",
            "resolved_at",
            "status",
            "level",
            "owner",
            "raised_by",
            "raised_via",
            "risk",
            "evidence",
            "options",
            "decision_needed",
            "next_owner",
            "consequence_if_unchanged",
            "exit_evidence",
        )
    } == {
        "account_id": flagged.account_id,
        "trigger_type": "exit_risk",
        "severity": "high",
        "first_signal_at": datetime(2026, 2, 18, 9, 0, tzinfo=UTC),
        "escalated_at": NOW,
        "resolved_at": None,
        "status": "open",
        "level": 1,
        "owner": "Dana Okafor",
        "raised_by": "Priya Raman",
        "raised_via": "proactive_team",
        "risk": "Renewal in May is at risk: two asks about exporting all data",
        "evidence": "Tickets on 18 and 20 February ask how to export every record.",
        "options": "Call the sponsor this week; offer the migration review.",
        "decision_needed": (
            "Whether to offer the migration review before renewal talks"
        ),
        "next_owner": "Dana Okafor",
        "consequence_if_unchanged": (
            "The customer evaluates other providers unopposed."
        ),
        "exit_evidence": None,
    }
    # The two free cited signals move over; the one in an earlier escalation
    # stays there, the uncited one stays free, the neighbour's is not touched.
    assert signal_owners(db_engine, flagged.account_id) == {
        flagged.early: escalation_id,
        flagged.taken: flagged.earlier_escalation_id,
        flagged.late: escalation_id,
        flagged.uncited: None,
    }
    assert signal_owners(db_engine, flagged.other_account_id) == {flagged.foreign: None}
    assert_frame_equal(
        decisions(db_engine).drop("id"),
        decision_frame(
            [
                {
                    "id": 0,
                    "account_id": flagged.account_id,
                    "account_name": "Northwind Freight",
                    "decision": "opened",
                    "decided_by": "Priya Raman",
                    "decided_at": NOW,
                    "reason_category": None,
                    "reason": None,
                    "flagged_since": FLAGGED_SINCE,
                    "exit_share": 0.6,
                    "signals_in_window": 5,
                    "escalation_id": escalation_id,
                }
            ]
        ).drop("id"),
    )
    assert data_version(db_engine) == version_before + 1
    # A new escalation is part of the history: its cached copies must reload.
    assert history_version(db_engine) == history_before + 1


def test_a_packet_may_come_as_a_mapping_with_only_the_required_answers(
    db_engine: Engine,
) -> None:
    flagged = flagged_account(db_engine)
    packet = {
        "risk": "Exit talk in chat",
        "evidence": "Chat of 20 Feb",
        "decision_needed": "Who calls the sponsor",
        "options": "   ",
    }

    escalation_id = open_escalation_from_flag(
        db_engine,
        **open_args(flagged, packet=packet, evidence_signal_ids=[flagged.late]),
    )

    with db_engine.connect() as connection:
        opened = load_escalation(connection=connection, escalation_id=escalation_id)
    assert opened is not None
    assert (
        opened["risk"],
        opened["evidence"],
        opened["decision_needed"],
        opened["options"],
        opened["next_owner"],
        opened["first_signal_at"],
    ) == (
        "Exit talk in chat",
        "Chat of 20 Feb",
        "Who calls the sponsor",
        None,
        None,
        datetime(2026, 2, 20, 10, 0, tzinfo=UTC),
    )


def test_unknown_packet_keys_are_a_programming_error(db_engine: Engine) -> None:
    flagged = flagged_account(db_engine)
    before = stored(db_engine)
    packet = {"risk": "r", "evidence": "e", "decision_needed": "d", "urgency": "x"}

    with pytest.raises(ValueError, match="urgency"):
        open_escalation_from_flag(db_engine, **open_args(flagged, packet=packet))

    assert stored(db_engine) == before


def test_a_signal_another_escalation_holds_is_never_taken(db_engine: Engine) -> None:
    # Citing only the taken signal still opens the escalation, dated by that
    # signal (19 Feb 08:00), but the signal stays with the earlier escalation.
    flagged = flagged_account(db_engine)

    escalation_id = open_escalation_from_flag(
        db_engine, **open_args(flagged, evidence_signal_ids=[flagged.taken])
    )

    owners = signal_owners(db_engine, flagged.account_id)
    assert owners[flagged.taken] == flagged.earlier_escalation_id
    assert escalation_id not in owners.values()
    with db_engine.connect() as connection:
        opened = load_escalation(connection=connection, escalation_id=escalation_id)
    assert opened is not None
    assert opened["first_signal_at"] == datetime(2026, 2, 19, 8, 0, tzinfo=UTC)


def test_limits_at_their_edge_are_accepted(db_engine: Engine) -> None:
    # Exactly at each limit: 4000 and 200 characters, exit share 0 and 1, an
    # empty window, a flag and a signal both at the very moment of deciding.
    flagged = flagged_account(db_engine)
    (at_now,) = write(db_engine, signal(flagged.account_id, None, NOW))
    packet = EscalationPacket(
        risk="r" * 4000,
        evidence="e" * 4000,
        decision_needed="d" * 4000,
        next_owner="n" * 200,
    )

    escalation_id = open_escalation_from_flag(
        db_engine,
        **open_args(
            flagged,
            packet=packet,
            decided_by="p" * 200,
            owner="o" * 200,
            trigger_type="t" * 64,
            evidence_signal_ids=[at_now],
            flagged_since=NOW,
            exit_share=1.0,
            signals_in_window=0,
            token="k" * 64,
        ),
    )
    decision_id = dismiss_flag(
        db_engine,
        **dismiss_args(
            flagged,
            reason="x" * 1000,
            exit_share=0.0,
            signals_in_window=0,
            flagged_since=NOW,
        ),
    )

    with db_engine.connect() as connection:
        opened = load_escalation(connection=connection, escalation_id=escalation_id)
    assert opened is not None
    assert (opened["first_signal_at"], opened["escalated_at"]) == (NOW, NOW)
    frame = decisions(db_engine)
    assert frame.get_column("exit_share").to_list() == [1.0, 0.0]
    assert frame.get_column("id").to_list()[1] == decision_id
    assert len(frame.get_column("reason").to_list()[1]) == 1000


def test_opening_without_now_uses_the_current_time(db_engine: Engine) -> None:
    flagged = flagged_account(db_engine)
    args = open_args(flagged)
    del args["now"]
    before = datetime.now(UTC)

    escalation_id = open_escalation_from_flag(db_engine, **args)

    with db_engine.connect() as connection:
        opened = load_escalation(connection=connection, escalation_id=escalation_id)
    assert opened is not None
    assert before <= opened["escalated_at"] <= datetime.now(UTC)


# Dismissing a flag


def test_dismissing_records_who_and_why_and_opens_nothing(db_engine: Engine) -> None:
    flagged = flagged_account(db_engine)
    escalations_before = count(db_engine, "escalation")
    owners_before = signal_owners(db_engine, flagged.account_id)
    version_before = data_version(db_engine)
    history_before = history_version(db_engine)

    decision_id = dismiss_flag(db_engine, **dismiss_args(flagged))

    assert_frame_equal(
        decisions(db_engine),
        decision_frame(
            [
                {
                    "id": decision_id,
                    "account_id": flagged.account_id,
                    "account_name": "Northwind Freight",
                    "decision": "dismissed",
                    "decided_by": "Marta Kowalski",
                    "decided_at": NOW,
                    "reason_category": "known_issue_in_hand",
                    "reason": (
                        "The export questions are about the audit; Dana is on it."
                    ),
                    "flagged_since": FLAGGED_SINCE,
                    "exit_share": 0.4,
                    "signals_in_window": 5,
                    "escalation_id": None,
                }
            ]
        ),
    )
    assert count(db_engine, "escalation") == escalations_before
    assert signal_owners(db_engine, flagged.account_id) == owners_before
    assert data_version(db_engine) == version_before + 1
    assert history_version(db_engine) == history_before


# Double submits


def test_opening_twice_with_one_token_gives_the_same_escalation(
    db_engine: Engine,
) -> None:
    flagged = flagged_account(db_engine)
    first = open_escalation_from_flag(db_engine, **open_args(flagged))
    after_first = stored(db_engine)

    second = open_escalation_from_flag(
        db_engine, **open_args(flagged, now=NOW + timedelta(seconds=1))
    )

    assert second == first
    assert stored(db_engine) == after_first


def test_dismissing_twice_with_one_token_gives_the_same_decision(
    db_engine: Engine,
) -> None:
    flagged = flagged_account(db_engine)
    first = dismiss_flag(db_engine, **dismiss_args(flagged))
    after_first = stored(db_engine)

    second = dismiss_flag(
        db_engine, **dismiss_args(flagged, now=NOW + timedelta(seconds=1))
    )

    assert second == first
    assert stored(db_engine) == after_first


def test_opening_from_two_threads_at_once_gives_one_escalation(
    db_engine: Engine,
) -> None:
    flagged = flagged_account(db_engine)
    escalations_before = count(db_engine, "escalation")
    version_before = data_version(db_engine)

    results = in_parallel(
        lambda: open_escalation_from_flag(db_engine, **open_args(flagged)),
        lambda: open_escalation_from_flag(db_engine, **open_args(flagged)),
    )

    assert isinstance(results[0], int)
    assert results[1] == results[0]
    assert count(db_engine, "escalation") == escalations_before + 1
    assert count(db_engine, "early_warning_decision") == 1
    assert signal_owners(db_engine, flagged.account_id)[flagged.early] == results[0]
    assert data_version(db_engine) == version_before + 1


@pytest.mark.parametrize("kind", ["open", "dismiss"])
def test_a_duplicate_caught_by_the_unique_token_returns_the_first_write(
    db_engine: Engine, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    # The early look-up misses once, as when two submits pass it together: the
    # insert then fails on the unique token and the first write is read afresh.
    flagged = flagged_account(db_engine)

    def submit() -> int:
        if kind == "open":
            return open_escalation_from_flag(db_engine, **open_args(flagged))
        return dismiss_flag(db_engine, **dismiss_args(flagged))

    first = submit()
    after_first = stored(db_engine)
    real = db.early_warning._existing_decision
    calls: list[str] = []

    def miss_once(engine: Engine, token: str) -> dict[str, Any] | None:
        calls.append(token)
        return None if len(calls) == 1 else real(engine, token)

    monkeypatch.setattr(db.early_warning, "_existing_decision", miss_once)

    second = submit()

    assert (second, len(calls)) == (first, 2)
    assert stored(db_engine) == after_first


def test_a_token_that_recorded_another_decision_is_refused(db_engine: Engine) -> None:
    flagged = flagged_account(db_engine)
    dismiss_flag(db_engine, **dismiss_args(flagged, token="shared"))
    before = stored(db_engine)

    with pytest.raises(FlagValidationError) as raised:
        open_escalation_from_flag(db_engine, **open_args(flagged, token="shared"))

    assert list(raised.value.errors) == ["token"]
    assert "dismissed on account" in raised.value.errors["token"]
    assert stored(db_engine) == before


# Refused input


def _nan() -> float:
    """Not a number, which compares false with every bound."""
    return float("nan")


OPEN_REFUSALS: list[tuple[str, Callable[[Flagged], dict[str, Any]], str, str]] = [
    ("blank decider", lambda f: {"decided_by": "  "}, "decided_by", ""),
    ("no owner", lambda f: {"owner": ""}, "owner", ""),
    (
        "unknown severity",
        lambda f: {"severity": "urgent"},
        "severity",
        "Severity 'urgent' is unknown; choose one of: critical, high, medium, low.",
    ),
    (
        "trigger type with a slash",
        lambda f: {"trigger_type": "Exit / Risk"},
        "trigger_type",
        "Trigger type 'exit_/_risk' may hold only lowercase letters, digits and "
        "underscores (spaces and dashes become underscores).",
    ),
    (
        "oversized risk",
        lambda f: {"packet": EscalationPacket("r" * 4001, "e", decision_needed="d")},
        "risk",
        "Risk is 4001 characters long; the limit is 4000. Shorten it by 1.",
    ),
    (
        "oversized next owner",
        lambda f: {
            "packet": EscalationPacket(
                "r", "e", decision_needed="d", next_owner="n" * 250
            )
        },
        "next_owner",
        "Next owner is 250 characters long; the limit is 200. Shorten it by 50.",
    ),
    (
        "oversized decider",
        lambda f: {"decided_by": "p" * 201},
        "decided_by",
        "Decided by is 201 characters long; the limit is 200. Shorten it by 1.",
    ),
    (
        "packet without the decision needed",
        lambda f: {"packet": EscalationPacket("r", "e", decision_needed=" ")},
        "decision_needed",
        "Decision needed is required.",
    ),
    (
        "exit share above 1",
        lambda f: {"exit_share": 1.5},
        "exit_share",
        "Exit share 1.5 is outside 0 to 1; it is the share of the window's "
        "signals that seek an exit.",
    ),
    (
        "exit share below 0",
        lambda f: {"exit_share": -0.01},
        "exit_share",
        "Exit share -0.01 is outside 0 to 1; it is the share of the window's "
        "signals that seek an exit.",
    ),
    (
        "exit share not a number",
        lambda f: {"exit_share": _nan()},
        "exit_share",
        "Exit share must be a number, got nan.",
    ),
    (
        "negative window",
        lambda f: {"signals_in_window": -1},
        "signals_in_window",
        "Signals in window is -1; it cannot be negative.",
    ),
    (
        "naive flag start",
        lambda f: {"flagged_since": datetime(2026, 2, 23, 9)},
        "flagged_since",
        "Flagged since 2026-02-23T09:00:00 has no time zone; give it in UTC.",
    ),
    (
        "flag starting after the decision",
        lambda f: {"flagged_since": NOW + timedelta(minutes=1)},
        "flagged_since",
        "Flagged since 2026-03-02T15:01:00+00:00 is after the decision time "
        "2026-03-02T15:00:00+00:00; a flag cannot start later.",
    ),
    (
        "no cited signal",
        lambda f: {"evidence_signal_ids": []},
        "evidence_signal_ids",
        "Cite at least one signal as evidence; the earliest one dates the risk.",
    ),
    ("no token", lambda f: {"token": " "}, "token", ""),
    (
        "oversized token",
        lambda f: {"token": "t" * 65},
        "token",
        "Submission token is 65 characters long; the limit is 64. Shorten it by 1.",
    ),
    (
        "a signal of another account",
        lambda f: {"evidence_signal_ids": [f.early, f.foreign]},
        "evidence_signal_ids",
        "Signal {foreign} belongs to another account than account {account}. "
        "Remove them.",
    ),
    (
        "a signal that does not exist",
        lambda f: {"evidence_signal_ids": [f.early, 9999]},
        "evidence_signal_ids",
        "No signal has id 9999. Remove them.",
    ),
    (
        "an unknown account",
        lambda f: {"account_id": 9999},
        "account_id",
        "No account has id 9999; it may have been removed. Reload the page to see "
        "the current flags.",
    ),
]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [case[1:] for case in OPEN_REFUSALS],
    ids=[case[0] for case in OPEN_REFUSALS],
)
def test_refused_openings_name_the_field_and_write_nothing(
    db_engine: Engine,
    overrides: Callable[[Flagged], dict[str, Any]],
    field: str,
    message: str,
) -> None:
    flagged = flagged_account(db_engine)
    before = stored(db_engine)
    version_before = data_version(db_engine)

    with pytest.raises(FlagValidationError) as raised:
        open_escalation_from_flag(db_engine, **open_args(flagged, **overrides(flagged)))

    assert list(raised.value.errors) == [field]
    if message:
        expected = message.format(foreign=flagged.foreign, account=flagged.account_id)
        assert raised.value.errors[field] == expected
    assert stored(db_engine) == before
    assert data_version(db_engine) == version_before


DISMISS_REFUSALS: list[tuple[str, Callable[[Flagged], dict[str, Any]], str, str]] = [
    ("no reason", lambda f: {"reason": "   "}, "reason", "Reason is required."),
    ("reason missing", lambda f: {"reason": None}, "reason", "Reason is required."),
    (
        "oversized reason",
        lambda f: {"reason": "x" * 1001},
        "reason",
        "Reason is 1001 characters long; the limit is 1000. Shorten it by 1.",
    ),
    (
        "unknown reason category",
        lambda f: {"reason_category": "bored"},
        "reason_category",
        "Reason category 'bored' is unknown; choose one of: already_handled, "
        "not_a_risk, known_issue_in_hand, customer_confirmed_ok, other.",
    ),
    ("blank decider", lambda f: {"decided_by": ""}, "decided_by", ""),
    (
        "exit share above 1",
        lambda f: {"exit_share": 2},
        "exit_share",
        "Exit share 2 is outside 0 to 1; it is the share of the window's "
        "signals that seek an exit.",
    ),
    (
        "an unknown account",
        lambda f: {"account_id": 9999},
        "account_id",
        "No account has id 9999; it may have been removed. Reload the page to see "
        "the current flags.",
    ),
]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [case[1:] for case in DISMISS_REFUSALS],
    ids=[case[0] for case in DISMISS_REFUSALS],
)
def test_refused_dismissals_name_the_field_and_write_nothing(
    db_engine: Engine,
    overrides: Callable[[Flagged], dict[str, Any]],
    field: str,
    message: str,
) -> None:
    flagged = flagged_account(db_engine)
    before = stored(db_engine)
    version_before = data_version(db_engine)

    with pytest.raises(FlagValidationError) as raised:
        dismiss_flag(db_engine, **dismiss_args(flagged, **overrides(flagged)))

    assert list(raised.value.errors) == [field]
    if message:
        assert raised.value.errors[field] == message
    assert stored(db_engine) == before
    assert data_version(db_engine) == version_before


def test_every_problem_is_named_at_once(db_engine: Engine) -> None:
    flagged = flagged_account(db_engine)

    with pytest.raises(FlagValidationError) as raised:
        open_escalation_from_flag(
            db_engine,
            **open_args(
                flagged,
                decided_by="",
                severity="urgent",
                packet={},
                exit_share=3.0,
                token="",
            ),
        )

    assert set(raised.value.errors) == {
        "decided_by",
        "severity",
        "risk",
        "evidence",
        "decision_needed",
        "exit_share",
        "token",
    }


def test_a_signal_observed_after_the_decision_is_refused(db_engine: Engine) -> None:
    flagged = flagged_account(db_engine)
    (future,) = write(
        db_engine, signal(flagged.account_id, None, NOW + timedelta(hours=1))
    )
    before = stored(db_engine)

    with pytest.raises(FlagValidationError) as raised:
        open_escalation_from_flag(
            db_engine, **open_args(flagged, evidence_signal_ids=[future])
        )

    assert raised.value.errors == {
        "evidence_signal_ids": "The earliest cited signal was observed at "
        "2026-03-02T16:00:00+00:00, after the decision time "
        "2026-03-02T15:00:00+00:00; check the clock or the signals cited."
    }
    assert stored(db_engine) == before


def test_a_naive_now_is_a_programming_error(db_engine: Engine) -> None:
    flagged = flagged_account(db_engine)

    with pytest.raises(ValueError, match="timezone-aware"):
        dismiss_flag(db_engine, **dismiss_args(flagged, now=datetime(2026, 3, 2, 15)))


# The table's own rules, for writers that bypass these functions


@pytest.mark.parametrize(
    "fields",
    [
        {"decision": "opened", "escalation_id": None},
        {"decision": "dismissed", "reason": None},
        {"decision": "dismissed", "reason_category": None},
        {"decision": "dismissed", "reason_category": "bored"},
        {"decision": "snoozed"},
        {"exit_share": 1.01},
        {"exit_share": -0.5},
        {"signals_in_window": -1},
    ],
)
def test_the_schema_refuses_inconsistent_decisions(
    db_engine: Engine, fields: dict[str, Any]
) -> None:
    flagged = flagged_account(db_engine)
    row: dict[str, Any] = {
        "account_id": flagged.account_id,
        "decision": "dismissed",
        "decided_by": "Marta Kowalski",
        "decided_at": NOW,
        "reason_category": "other",
        "reason": "Seen it",
        "flagged_since": FLAGGED_SINCE,
        "exit_share": 0.5,
        "signals_in_window": 2,
        "escalation_id": None,
    }
    row.update(fields)
    table = EarlyWarningDecision.__table__  # type: ignore[attr-defined]

    with pytest.raises(IntegrityError), db_engine.begin() as connection:
        connection.execute(insert(table).values(**row))

    assert count(db_engine, "early_warning_decision") == 0


# Reading decisions


def test_no_decisions_read_as_an_empty_frame_with_the_schema(
    db_engine: Engine,
) -> None:
    frame = decisions(db_engine)

    assert frame.height == 0
    assert frame.schema == pl.Schema(FLAG_DECISION_SCHEMA)


def test_decisions_read_oldest_first_whatever_the_order_written(
    db_engine: Engine,
) -> None:
    # Written: a dismissal at 15:00, an opening at 09:00, a dismissal at 15:00.
    # Read: the opening first (09:00), then the two 15:00 dismissals in the
    # order they were recorded.
    flagged = flagged_account(db_engine)
    version_before = data_version(db_engine)
    first_dismissal = dismiss_flag(db_engine, **dismiss_args(flagged, token="a"))
    escalation_id = open_escalation_from_flag(
        db_engine, **open_args(flagged, now=NOW - timedelta(hours=6), token="b")
    )
    second_dismissal = dismiss_flag(
        db_engine,
        **dismiss_args(flagged, account_id=flagged.other_account_id, token="c"),
    )

    frame = decisions(db_engine)

    assert frame.select("decision", "escalation_id", "account_name").rows() == [
        ("opened", escalation_id, "Northwind Freight"),
        ("dismissed", None, "Northwind Freight"),
        ("dismissed", None, "Contoso Retail"),
    ]
    assert frame.get_column("id").to_list()[1:] == [first_dismissal, second_dismissal]
    assert data_version(db_engine) == version_before + 3


# Schema revision


def test_downgrading_to_0004_drops_the_decisions_and_keeps_escalations(
    db_engine: Engine,
) -> None:
    flagged = flagged_account(db_engine)
    escalation_id = open_escalation_from_flag(db_engine, **open_args(flagged))
    dismiss_flag(db_engine, **dismiss_args(flagged))

    command.downgrade(alembic_config(db_engine), "0004")

    assert current_revision(db_engine) == "0004"
    assert "early_warning_decision" not in inspect(db_engine).get_table_names()
    with db_engine.connect() as connection:
        kept = load_escalation(connection=connection, escalation_id=escalation_id)
    assert kept is not None

    upgrade(db_engine)

    assert current_revision(db_engine) == head_revision()
    assert "early_warning_decision" in inspect(db_engine).get_table_names()
    assert decisions(db_engine).height == 0
