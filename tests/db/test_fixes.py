"""Logging fixes and moving them through their lifecycle, on SQLite and PostgreSQL."""

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from sqlalchemy import Engine, text

import db.fixes
from db.fixes import (
    FIELD_LIMITS,
    FixInput,
    FixTransitionError,
    FixValidationError,
    StaleFixError,
    change_fix_status,
    create_fix,
    link_escalations,
    load_fix,
    load_fix_history,
    load_fix_links,
    normalise_trigger_type,
    update_fix,
    validate_fix,
)
from db.version import read_data_version, read_versions
from tests.factories import account, at, escalation, fix_input, write

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
TODAY = date(2026, 3, 2)
WRITTEN_TABLES = (
    "process_fix",
    "process_fix_escalation",
    "process_fix_history",
    "review_meeting",
    "data_version",
)


def two_escalations(engine: Engine) -> list[int]:
    """Write an account with two escalations; return the escalations' ids."""
    (account_id,) = write(engine, account())
    return write(
        engine,
        escalation(account_id, at("2026-02-02", 10), 5, trigger_type="sla_breach"),
        escalation(account_id, at("2026-02-09", 10), 30, trigger_type="sla_breach"),
    )


def stored(engine: Engine) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table these functions write, in a stable order."""
    with engine.connect() as connection:
        return {
            name: sorted(
                connection.execute(text(f"SELECT * FROM {name}")).all(),
                key=repr,
            )
            for name in WRITTEN_TABLES
        }


def data_version(engine: Engine) -> int:
    with engine.connect() as connection:
        return read_data_version(connection=connection)


def history_version(engine: Engine) -> int:
    with engine.connect() as connection:
        return read_versions(connection=connection)[1]


def history(engine: Engine, fix_id: int) -> list[tuple[str, str | None, str | None]]:
    """(field, old, new) of a fix's history rows, oldest first."""
    with engine.connect() as connection:
        frame = load_fix_history(connection=connection, fix_id=fix_id)
    return list(frame.select("field", "old_value", "new_value").iter_rows())


def current(engine: Engine, fix_id: int) -> dict[str, Any]:
    with engine.connect() as connection:
        fix = load_fix(connection=connection, fix_id=fix_id)
    assert fix is not None
    return fix


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


# Creating a fix


def test_create_writes_the_fix_its_links_and_one_history_row(
    db_engine: Engine,
) -> None:
    escalation_ids = two_escalations(db_engine)
    version_before = data_version(db_engine)
    data = fix_input(
        title="  Name an owner for every SLA breach ",
        trigger_type="SLA Breach",
        escalation_ids=(escalation_ids[1], escalation_ids[0], escalation_ids[1]),
    )

    fix_id = create_fix(engine=db_engine, data=data, now=NOW)

    fix = current(db_engine, fix_id)
    assert {
        name: fix[name]
        for name in (
            "title",
            "trigger_type",
            "status",
            "logged_at",
            "due_at",
            "due_on",
            "shipped_at",
            "version",
            "author",
            "abandon_reason",
            "updated_at",
            "escalation_ids",
        )
    } == {
        "title": "Name an owner for every SLA breach",
        "trigger_type": "sla_breach",
        "status": "proposed",
        "logged_at": NOW,
        "due_at": datetime(2026, 3, 30, tzinfo=UTC),
        "due_on": date(2026, 3, 30),
        "shipped_at": None,
        "version": 1,
        "author": "Priya Raman",
        "abandon_reason": None,
        "updated_at": None,
        "escalation_ids": tuple(escalation_ids),
    }
    with db_engine.connect() as connection:
        links = load_fix_links(connection=connection)
        rows = load_fix_history(connection=connection)
    assert_frame_equal(
        links,
        pl.DataFrame(
            {"fix_id": [fix_id, fix_id], "escalation_id": escalation_ids},
            schema={"fix_id": pl.Int64, "escalation_id": pl.Int64},
        ),
    )
    assert rows.height == 1
    created = rows.row(0, named=True)
    assert (created["fix_id"], created["field"], created["old_value"]) == (
        fix_id,
        "created",
        None,
    )
    assert (created["at"], created["author"]) == (NOW, "Priya Raman")
    assert json.loads(created["new_value"]) == {
        "title": "Name an owner for every SLA breach",
        "trigger_type": "sla_breach",
        "root_cause": "ownership_handoff",
        "owner": "Dana Okafor",
        "status": "proposed",
        "due_at": "2026-03-30T00:00:00+00:00",
        "expected_effect": "Half as many late SLA escalations",
        "author": "Priya Raman",
        "escalation_ids": f"{escalation_ids[0]}, {escalation_ids[1]}",
    }
    assert data_version(db_engine) == version_before + 1


def test_a_fix_may_be_due_today_and_need_no_links_or_effect(
    db_engine: Engine,
) -> None:
    data = fix_input(due_on=TODAY, expected_effect="   ")

    fix_id = create_fix(engine=db_engine, data=data, now=NOW)

    fix = current(db_engine, fix_id)
    assert (fix["due_on"], fix["expected_effect"], fix["escalation_ids"]) == (
        TODAY,
        None,
        (),
    )


def test_the_same_token_twice_gives_one_fix_and_the_same_id(
    db_engine: Engine,
) -> None:
    first = create_fix(engine=db_engine, data=fix_input(), now=NOW)
    after_first = stored(db_engine)

    second = create_fix(
        engine=db_engine, data=fix_input(), now=NOW + timedelta(seconds=1)
    )

    assert second == first
    assert stored(db_engine) == after_first


def test_the_same_token_from_two_threads_at_once_gives_one_fix(
    db_engine: Engine,
) -> None:
    version_before = data_version(db_engine)

    results = in_parallel(
        lambda: create_fix(engine=db_engine, data=fix_input(), now=NOW),
        lambda: create_fix(engine=db_engine, data=fix_input(), now=NOW),
    )

    assert results[0] == results[1]
    assert isinstance(results[0], int)
    rows = stored(db_engine)
    assert len(rows["process_fix"]) == 1
    assert len(rows["process_fix_history"]) == 1
    assert data_version(db_engine) == version_before + 1


def test_a_duplicate_caught_by_the_unique_token_returns_the_first_fix(
    db_engine: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The early look-up misses once, as when two submits pass it together: the
    # insert then fails on the unique token and the winner is read afresh.
    first = create_fix(engine=db_engine, data=fix_input(), now=NOW)
    after_first = stored(db_engine)
    real = db.fixes._id_for_token
    calls: list[str] = []

    def miss_once(engine: Engine, table_: Any, token: str) -> int | None:
        calls.append(token)
        return None if len(calls) == 1 else real(engine, table_, token)

    monkeypatch.setattr(db.fixes, "_id_for_token", miss_once)

    second = create_fix(engine=db_engine, data=fix_input(), now=NOW)

    assert (second, len(calls)) == (first, 2)
    assert stored(db_engine) == after_first


def test_different_tokens_give_different_fixes(db_engine: Engine) -> None:
    first = create_fix(engine=db_engine, data=fix_input(token="a"), now=NOW)
    second = create_fix(engine=db_engine, data=fix_input(token="b"), now=NOW)

    assert second != first
    assert len(stored(db_engine)["process_fix"]) == 2


# Refused input


REQUIRED_MESSAGES = {
    "title": "Title is required.",
    "trigger_type": "Trigger type is required.",
    "root_cause": "Root cause is required.",
    "owner": "Owner is required.",
    "due_on": "Due date is required.",
    "author": "Author is required.",
    "token": "The form has no submission token; reload the page and submit again.",
}


def test_a_blank_form_names_every_required_field() -> None:
    blank = FixInput(
        title=" ",
        trigger_type="",
        root_cause="",
        owner="",
        due_on=None,
        expected_effect=None,
        escalation_ids=(),
        author="\t",
        token="",
    )

    assert validate_fix(blank, today=TODAY) == REQUIRED_MESSAGES


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"title": "x" * 201},
            {
                "title": "Title is 201 characters long; the limit is 200. "
                "Shorten it by 1."
            },
        ),
        (
            {"owner": "o" * 250},
            {
                "owner": "Owner is 250 characters long; the limit is 200. "
                "Shorten it by 50."
            },
        ),
        (
            {"author": "a" * 201},
            {
                "author": "Author is 201 characters long; the limit is 200. "
                "Shorten it by 1."
            },
        ),
        (
            {"expected_effect": "e" * 4001},
            {
                "expected_effect": "Expected effect is 4001 characters long; the "
                "limit is 4000. Shorten it by 1."
            },
        ),
        (
            {"trigger_type": "t" * 65},
            {
                "trigger_type": "Trigger type is 65 characters long; the limit is "
                "64. Shorten it by 1."
            },
        ),
        (
            {"trigger_type": "Billing / Dispute"},
            {
                "trigger_type": "Trigger type 'billing_/_dispute' may hold only "
                "lowercase letters, digits and underscores (spaces and dashes "
                "become underscores)."
            },
        ),
        (
            {"root_cause": "bad_luck"},
            {
                "root_cause": "Root cause 'bad_luck' is unknown; choose one of: "
                "unclear_trigger, missing_decision_rights, evidence_gap, "
                "ownership_handoff, review_cadence, tooling, policy, other."
            },
        ),
        (
            {"due_on": date(2026, 3, 1)},
            {
                "due_on": "Due date 2026-03-01 is before today (2026-03-02); pick "
                "today or a later day."
            },
        ),
        (
            {"due_on": datetime(2026, 3, 30, tzinfo=UTC)},
            {"due_on": "Due date must be a calendar date, without a time."},
        ),
    ],
)
def test_validate_fix_explains_each_problem(
    fields: dict[str, Any], expected: dict[str, str]
) -> None:
    assert validate_fix(fix_input(**fields), today=TODAY) == expected


def test_limits_at_their_edge_are_accepted() -> None:
    data = fix_input(
        title="x" * FIELD_LIMITS["title"],
        owner="o" * FIELD_LIMITS["owner"],
        author="a" * FIELD_LIMITS["author"],
        expected_effect="e" * FIELD_LIMITS["expected_effect"],
        trigger_type="t" * FIELD_LIMITS["trigger_type"],
    )

    assert validate_fix(data, today=TODAY) == {}


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("sla_breach", "sla_breach"),
        ("SLA Breach", "sla_breach"),
        (" data-loss  risk ", "data_loss_risk"),
        ("Outage--Impact", "outage_impact"),
    ],
)
def test_trigger_types_are_normalised(raw: str, normal: str) -> None:
    assert normalise_trigger_type(raw) == normal


@pytest.mark.parametrize(
    ("fields", "keys"),
    [
        ({"title": "", "owner": ""}, {"title", "owner"}),
        ({"due_on": date(2026, 2, 1)}, {"due_on"}),
        ({"root_cause": "weather"}, {"root_cause"}),
    ],
)
def test_invalid_input_writes_nothing(
    db_engine: Engine, fields: dict[str, Any], keys: set[str]
) -> None:
    before = stored(db_engine)

    with pytest.raises(FixValidationError) as raised:
        create_fix(engine=db_engine, data=fix_input(**fields), now=NOW)

    assert set(raised.value.errors) == keys
    assert stored(db_engine) == before


def test_links_to_escalations_that_do_not_exist_are_refused(
    db_engine: Engine,
) -> None:
    real = two_escalations(db_engine)[0]
    before = stored(db_engine)

    with pytest.raises(FixValidationError) as raised:
        create_fix(
            engine=db_engine,
            data=fix_input(escalation_ids=(real, 999, 998)),
            now=NOW,
        )

    assert raised.value.errors == {
        "escalation_ids": "No escalations have ids 998, 999; remove them from the list."
    }
    assert stored(db_engine) == before


def test_a_naive_now_is_a_programming_error(db_engine: Engine) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        create_fix(engine=db_engine, data=fix_input(), now=datetime(2026, 3, 2, 15))


# Status changes


def test_each_status_change_writes_its_history_and_bumps_the_version(
    db_engine: Engine,
) -> None:
    fix_id = create_fix(engine=db_engine, data=fix_input(), now=NOW)
    version_before = data_version(db_engine)
    shipped = datetime(2026, 3, 9, 12, 0, tzinfo=UTC)

    v2 = change_fix_status(
        engine=db_engine,
        fix_id=fix_id,
        new_status="in_progress",
        author="Dana Okafor",
        now=NOW + timedelta(days=1),
        expected_version=1,
    )
    v3 = change_fix_status(
        engine=db_engine,
        fix_id=fix_id,
        new_status="shipped",
        author="Dana Okafor",
        now=NOW + timedelta(days=10),
        expected_version=v2,
        shipped_at=shipped,
    )
    v4 = change_fix_status(
        engine=db_engine,
        fix_id=fix_id,
        new_status="verified",
        author="Priya Raman",
        now=NOW + timedelta(days=40),
        expected_version=v3,
    )

    assert (v2, v3, v4) == (2, 3, 4)
    assert history(db_engine, fix_id)[1:] == [
        ("status", "proposed", "in_progress"),
        ("status", "in_progress", "shipped"),
        ("shipped_at", None, "2026-03-09T12:00:00+00:00"),
        ("status", "shipped", "verified"),
    ]
    fix = current(db_engine, fix_id)
    assert (fix["status"], fix["version"], fix["shipped_at"], fix["updated_at"]) == (
        "verified",
        4,
        shipped,
        NOW + timedelta(days=40),
    )
    assert data_version(db_engine) == version_before + 3


def test_shipping_without_a_time_ships_now(db_engine: Engine) -> None:
    fix_id = create_fix(engine=db_engine, data=fix_input(), now=NOW)
    change_fix_status(
        engine=db_engine,
        fix_id=fix_id,
        new_status="in_progress",
        author="Dana Okafor",
        now=NOW,
        expected_version=1,
    )
    later = NOW + timedelta(hours=3)

    change_fix_status(
        engine=db_engine,
        fix_id=fix_id,
        new_status="shipped",
        author="Dana Okafor",
        now=later,
        expected_version=2,
    )

    assert current(db_engine, fix_id)["shipped_at"] == later


def test_abandoning_records_the_reason(db_engine: Engine) -> None:
    fix_id = create_fix(engine=db_engine, data=fix_input(), now=NOW)

    version = change_fix_status(
        engine=db_engine,
        fix_id=fix_id,
        new_status="abandoned",
        author="Priya Raman",
        now=NOW + timedelta(days=2),
        expected_version=1,
        reason="  Folded into the renewal playbook fix ",
    )

    assert version == 2
    assert history(db_engine, fix_id)[1:] == [
        ("status", "proposed", "abandoned"),
        ("abandon_reason", None, "Folded into the renewal playbook fix"),
    ]
    assert current(db_engine, fix_id)["abandon_reason"] == (
        "Folded into the renewal playbook fix"
    )


@pytest.mark.parametrize("reason", [None, "", "   "])
def test_abandoning_without_a_reason_is_refused(
    db_engine: Engine, reason: str | None
) -> None:
    fix_id = create_fix(engine=db_engine, data=fix_input(), now=NOW)
    before = stored(db_engine)

    with pytest.raises(FixValidationError) as raised:
        change_fix_status(
            engine=db_engine,
            fix_id=fix_id,
            new_status="abandoned",
            author="Priya Raman",
            now=NOW,
            expected_version=1,
            reason=reason,
        )

    assert raised.value.errors == {"reason": "Reason for abandoning is required."}
    assert stored(db_engine) == before


@pytest.mark.parametrize(
    ("shipped_at", "message"),
    [
        (
            NOW + timedelta(minutes=1),
            "Shipped time 2026-03-02T15:01:00+00:00 is in the future (now is "
            "2026-03-02T15:00:00+00:00); enter when it actually shipped.",
        ),
        (datetime(2026, 3, 1, 9), "Shipped time needs a time zone."),
    ],
)
def test_a_future_or_naive_shipped_time_is_refused(
    db_engine: Engine, shipped_at: datetime, message: str
) -> None:
    fix_id = create_fix(engine=db_engine, data=fix_input(), now=NOW)
    change_fix_status(
        engine=db_engine,
        fix_id=fix_id,
        new_status="in_progress",
        author="Dana Okafor",
        now=NOW,
        expected_version=1,
    )
    before = stored(db_engine)

    with pytest.raises(FixValidationError) as raised:
        change_fix_status(
            engine=db_engine,
            fix_id=fix_id,
            new_status="shipped",
            author="Dana Okafor",
            now=NOW,
            expected_version=2,
            shipped_at=shipped_at,
        )

    assert raised.value.errors == {"shipped_at": message}
    assert stored(db_engine) == before


# From proposed, the statuses to pass through before the refused move.
@pytest.mark.parametrize(
    ("path", "refused", "message"),
    [
        (
            [],
            "shipped",
            "Fix {id} cannot move from proposed to shipped; from proposed it can "
            "move to: in_progress, abandoned.",
        ),
        (
            [],
            "proposed",
            "Fix {id} cannot move from proposed to proposed; from proposed it can "
            "move to: in_progress, abandoned.",
        ),
        (
            [],
            "done",
            "Fix {id} cannot move from proposed to done; from proposed it can "
            "move to: in_progress, abandoned.",
        ),
        (
            ["in_progress"],
            "verified",
            "Fix {id} cannot move from in_progress to verified; from in_progress "
            "it can move to: shipped, abandoned.",
        ),
        (
            ["in_progress", "shipped", "verified"],
            "in_progress",
            "Fix {id} cannot move from verified to in_progress; from verified it "
            "can move to: nothing (final).",
        ),
        (
            ["abandoned"],
            "in_progress",
            "Fix {id} cannot move from abandoned to in_progress; from abandoned it "
            "can move to: nothing (final).",
        ),
    ],
)
def test_moves_the_lifecycle_does_not_allow_are_refused(
    db_engine: Engine, path: list[str], refused: str, message: str
) -> None:
    fix_id = create_fix(engine=db_engine, data=fix_input(), now=NOW)
    version = 1
    for status in path:
        version = change_fix_status(
            engine=db_engine,
            fix_id=fix_id,
            new_status=status,
            author="Dana Okafor",
            now=NOW,
            expected_version=version,
            reason="Not needed" if status == "abandoned" else None,
        )
    before = stored(db_engine)

    with pytest.raises(FixTransitionError) as raised:
        change_fix_status(
            engine=db_engine,
            fix_id=fix_id,
            new_status=refused,
            author="Dana Okafor",
            now=NOW,
            expected_version=version,
        )

    assert str(raised.value) == message.format(id=fix_id)
    assert stored(db_engine) == before


def test_a_stale_version_is_refused_and_changes_nothing(db_engine: Engine) -> None:
    fix_id = create_fix(engine=db_engine, data=fix_input(), now=NOW)
    change_fix_status(
        engine=db_engine,
        fix_id=fix_id,
        new_status="in_progress",
        author="Dana Okafor",
        now=datetime(2026, 3, 3, 9, 30, tzinfo=UTC),
        expected_version=1,
    )
    before = stored(db_engine)

    with pytest.raises(StaleFixError) as raised:
        change_fix_status(
            engine=db_engine,
            fix_id=fix_id,
            new_status="abandoned",
            author="Priya Raman",
            now=NOW + timedelta(days=2),
            expected_version=1,
            reason="Duplicate",
        )

    assert str(raised.value) == (
        "Someone else changed this fix at 2026-03-03 09:30 UTC by Dana Okafor; "
        "reload it to see their change (you had version 1, it is now version 2)."
    )
    assert (raised.value.current_version, raised.value.changed_by) == (
        2,
        "Dana Okafor",
    )
    assert stored(db_engine) == before


def test_two_writers_with_the_same_version_exactly_one_wins(
    db_engine: Engine,
) -> None:
    fix_id = create_fix(engine=db_engine, data=fix_input(), now=NOW)
    version_before = data_version(db_engine)

    def move(status: str, author: str) -> Callable[[], int]:
        return lambda: change_fix_status(
            engine=db_engine,
            fix_id=fix_id,
            new_status=status,
            author=author,
            now=NOW,
            expected_version=1,
            reason="Not needed" if status == "abandoned" else None,
        )

    results = in_parallel(
        move("in_progress", "Dana Okafor"), move("abandoned", "Priya Raman")
    )

    wins = [result for result in results if result == 2]
    losses = [result for result in results if isinstance(result, StaleFixError)]
    assert (len(wins), len(losses)) == (1, 1)
    fix = current(db_engine, fix_id)
    assert fix["version"] == 2
    assert fix["status"] in {"in_progress", "abandoned"}
    assert [field for field, _, _ in history(db_engine, fix_id)].count("status") == 1
    assert data_version(db_engine) == version_before + 1


def test_an_unknown_fix_is_a_lookup_error(db_engine: Engine) -> None:
    before = stored(db_engine)

    with pytest.raises(LookupError, match="No process fix with id 42"):
        change_fix_status(
            engine=db_engine,
            fix_id=42,
            new_status="in_progress",
            author="Dana Okafor",
            now=NOW,
            expected_version=1,
        )

    assert stored(db_engine) == before


# Editing and linking


def test_update_writes_one_history_row_per_changed_field(db_engine: Engine) -> None:
    fix_id = create_fix(engine=db_engine, data=fix_input(), now=NOW)
    version_before = data_version(db_engine)

    version = update_fix(
        engine=db_engine,
        fix_id=fix_id,
        changes={
            "title": "Name an owner within the hour",
            "owner": "Dana Okafor",
            "due_on": date(2026, 4, 15),
            "trigger_type": "SLA-breach",
            "expected_effect": "",
        },
        author="Priya Raman",
        now=NOW + timedelta(days=1),
        expected_version=1,
    )

    assert version == 2
    assert history(db_engine, fix_id)[1:] == [
        (
            "title",
            "Name an owner for every SLA breach",
            "Name an owner within the hour",
        ),
        ("due_at", "2026-03-30T00:00:00+00:00", "2026-04-15T00:00:00+00:00"),
        ("expected_effect", "Half as many late SLA escalations", None),
    ]
    fix = current(db_engine, fix_id)
    assert (fix["due_on"], fix["expected_effect"], fix["version"]) == (
        date(2026, 4, 15),
        None,
        2,
    )
    assert data_version(db_engine) == version_before + 1


def test_an_update_that_changes_nothing_writes_nothing(db_engine: Engine) -> None:
    fix_id = create_fix(engine=db_engine, data=fix_input(), now=NOW)
    before = stored(db_engine)

    version = update_fix(
        engine=db_engine,
        fix_id=fix_id,
        changes={
            "title": " Name an owner for every SLA breach",
            "due_on": date(2026, 3, 30),
        },
        author="Priya Raman",
        now=NOW,
        expected_version=1,
    )

    assert version == 1
    assert stored(db_engine) == before


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"title": ""}, {"title": "Title is required."}),
        (
            {"due_on": date(2026, 3, 1)},
            {
                "due_on": "Due date 2026-03-01 is before today (2026-03-02); pick "
                "today or a later day."
            },
        ),
        ({"due_on": "2026-04-01"}, {"due_on": "Due date must be a calendar date."}),
        ({"owner": 7}, {"owner": "Owner must be text."}),
        (
            {"trigger_type": "x!"},
            {
                "trigger_type": "Trigger type 'x!' may hold only lowercase letters, "
                "digits and underscores (spaces and dashes become underscores)."
            },
        ),
    ],
)
def test_invalid_edits_are_refused(
    db_engine: Engine, changes: dict[str, object], expected: dict[str, str]
) -> None:
    fix_id = create_fix(engine=db_engine, data=fix_input(), now=NOW)
    before = stored(db_engine)

    with pytest.raises(FixValidationError) as raised:
        update_fix(
            engine=db_engine,
            fix_id=fix_id,
            changes=changes,
            author="Priya Raman",
            now=NOW,
            expected_version=1,
        )

    assert raised.value.errors == expected
    assert stored(db_engine) == before


def test_fields_outside_the_form_cannot_be_edited(db_engine: Engine) -> None:
    fix_id = create_fix(engine=db_engine, data=fix_input(), now=NOW)

    with pytest.raises(ValueError, match=r"Cannot edit \['status'\]"):
        update_fix(
            engine=db_engine,
            fix_id=fix_id,
            changes={"status": "verified"},
            author="Priya Raman",
            now=NOW,
            expected_version=1,
        )


def test_a_stale_edit_is_refused(db_engine: Engine) -> None:
    fix_id = create_fix(engine=db_engine, data=fix_input(), now=NOW)
    update_fix(
        engine=db_engine,
        fix_id=fix_id,
        changes={"owner": "Sam Lee"},
        author="Sam Lee",
        now=NOW,
        expected_version=1,
    )
    before = stored(db_engine)

    with pytest.raises(StaleFixError, match="by Sam Lee"):
        update_fix(
            engine=db_engine,
            fix_id=fix_id,
            changes={"owner": "Dana Okafor"},
            author="Priya Raman",
            now=NOW,
            expected_version=1,
        )

    assert stored(db_engine) == before


def test_linking_adds_only_new_escalations(db_engine: Engine) -> None:
    first, second = two_escalations(db_engine)
    fix_id = create_fix(
        engine=db_engine, data=fix_input(escalation_ids=(first,)), now=NOW
    )
    version_before = data_version(db_engine)

    version = link_escalations(
        engine=db_engine,
        fix_id=fix_id,
        escalation_ids=[second, first],
        author="Priya Raman",
        now=NOW,
        expected_version=1,
    )
    again = link_escalations(
        engine=db_engine,
        fix_id=fix_id,
        escalation_ids=[first],
        author="Priya Raman",
        now=NOW,
        expected_version=version,
    )

    assert (version, again) == (2, 2)
    assert current(db_engine, fix_id)["escalation_ids"] == (first, second)
    assert history(db_engine, fix_id)[1:] == [
        ("linked escalations", str(first), f"{first}, {second}")
    ]
    assert data_version(db_engine) == version_before + 1


def test_linking_escalations_that_do_not_exist_is_refused(db_engine: Engine) -> None:
    fix_id = create_fix(engine=db_engine, data=fix_input(), now=NOW)
    before = stored(db_engine)

    with pytest.raises(FixValidationError) as raised:
        link_escalations(
            engine=db_engine,
            fix_id=fix_id,
            escalation_ids=[404],
            author="Priya Raman",
            now=NOW,
            expected_version=1,
        )

    assert raised.value.errors == {
        "escalation_ids": "No escalation has id 404; remove it from the list."
    }
    assert stored(db_engine) == before


def test_the_data_version_moves_once_per_write_and_never_on_a_refusal(
    db_engine: Engine,
) -> None:
    (escalation_id, _) = two_escalations(db_engine)
    start = data_version(db_engine)
    history_start = history_version(db_engine)
    steps: list[int] = []

    fix_id = create_fix(engine=db_engine, data=fix_input(), now=NOW)
    steps.append(data_version(db_engine) - start)
    create_fix(engine=db_engine, data=fix_input(), now=NOW)  # double submit
    steps.append(data_version(db_engine) - start)
    with pytest.raises(StaleFixError):
        update_fix(
            engine=db_engine,
            fix_id=fix_id,
            changes={"title": "New"},
            author="Sam Lee",
            now=NOW,
            expected_version=5,
        )
    steps.append(data_version(db_engine) - start)
    link_escalations(
        engine=db_engine,
        fix_id=fix_id,
        escalation_ids=[escalation_id],
        author="Sam Lee",
        now=NOW,
        expected_version=1,
    )
    steps.append(data_version(db_engine) - start)
    with pytest.raises(FixTransitionError):
        change_fix_status(
            engine=db_engine,
            fix_id=fix_id,
            new_status="verified",
            author="Sam Lee",
            now=NOW,
            expected_version=2,
        )
    steps.append(data_version(db_engine) - start)
    change_fix_status(
        engine=db_engine,
        fix_id=fix_id,
        new_status="in_progress",
        author="Sam Lee",
        now=NOW,
        expected_version=2,
    )
    steps.append(data_version(db_engine) - start)

    assert steps == [1, 1, 1, 2, 2, 3]
    # Fixes are not the escalation history: its cached copies stay valid.
    assert history_version(db_engine) == history_start


def test_history_of_all_fixes_is_in_write_order(db_engine: Engine) -> None:
    first = create_fix(engine=db_engine, data=fix_input(token="a"), now=NOW)
    second = create_fix(
        engine=db_engine, data=fix_input(token="b"), now=NOW + timedelta(hours=1)
    )
    update_fix(
        engine=db_engine,
        fix_id=first,
        changes={"owner": "Sam Lee"},
        author="Sam Lee",
        now=NOW + timedelta(hours=2),
        expected_version=1,
    )

    with db_engine.connect() as connection:
        frame = load_fix_history(connection=connection)

    assert frame.schema == pl.Schema(
        {
            "id": pl.Int64,
            "fix_id": pl.Int64,
            "at": pl.Datetime("us", "UTC"),
            "author": pl.String,
            "field": pl.String,
            "old_value": pl.String,
            "new_value": pl.String,
        }
    )
    assert frame.select("fix_id", "field").rows() == [
        (first, "created"),
        (second, "created"),
        (first, "owner"),
    ]


def test_an_absent_fix_loads_as_none(db_engine: Engine) -> None:
    with db_engine.connect() as connection:
        assert load_fix(connection=connection, fix_id=1) is None


def test_a_partial_form_replaced_later_is_still_one_fix(db_engine: Engine) -> None:
    # A second submit of the same form, whatever it carries, is the first one.
    first = create_fix(engine=db_engine, data=fix_input(), now=NOW)

    second = create_fix(
        engine=db_engine, data=replace(fix_input(), title="Edited title"), now=NOW
    )

    assert second == first
    assert current(db_engine, first)["title"] == "Name an owner for every SLA breach"
