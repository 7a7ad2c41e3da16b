"""Several people writing at the same moment lose nothing, on SQLite and PostgreSQL.

Each writer is a thread with an engine of its own, built by the project's engine
factory the way a second app process builds it, so no two writers share a
connection or a pool. A barrier releases the writers together, so that their
transactions really overlap instead of running one after another.
"""

import threading
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl
import pytest
from sqlalchemy import Engine, text

from db.engine import create_db_engine, is_sqlite
from db.fixes import (
    FixInput,
    ReviewInput,
    StaleFixError,
    change_fix_status,
    create_fix,
    link_escalations,
    load_fix,
    record_review,
    update_fix,
)
from db.importer import ImportReport, ImportResult, run_import, validate_import
from db.version import read_data_version
from tests.factories import account, at, escalation, write

WRITERS = 4
EACH = 25
NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)


def sibling_engine(engine: Engine) -> Engine:
    """Another engine on the same database, made by the app's engine factory."""
    url = engine.url.render_as_string(hide_password=False)
    if is_sqlite(engine):
        return create_db_engine(url)
    # The PostgreSQL test database lives in a schema of its own; keep to it.
    with engine.connect() as connection:
        schema = connection.execute(text("SHOW search_path")).scalar_one()
    return create_db_engine(url, connect_args={"options": f"-csearch_path={schema}"})


@pytest.fixture
def writers(db_engine: Engine) -> Iterator[list[Engine]]:
    """One engine per writer, all on the test database."""
    engines = [sibling_engine(db_engine) for _ in range(WRITERS)]
    yield engines
    for engine in engines:
        engine.dispose()


def run_together(calls: Sequence[Callable[[], Any]]) -> list[Any]:
    """Run each call on its own thread, released at once; results or exceptions."""
    barrier = threading.Barrier(len(calls))
    outcomes: list[Any] = [None] * len(calls)

    def run(index: int) -> None:
        barrier.wait()
        try:
            outcomes[index] = calls[index]()
        except Exception as error:  # kept for the test to inspect
            outcomes[index] = error

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        # A liveness guard, not a speed check: a deadlock must fail, not hang.
        thread.join(timeout=600)
    assert not any(thread.is_alive() for thread in threads)
    return outcomes


def failures(outcomes: Sequence[Any]) -> list[Exception]:
    """The exceptions among the outcomes, for a readable assertion message."""
    return [outcome for outcome in outcomes if isinstance(outcome, Exception)]


def data_version(engine: Engine) -> int:
    with engine.connect() as connection:
        return read_data_version(connection=connection)


def scalar(engine: Engine, sql: str, **params: Any) -> Any:
    with engine.connect() as connection:
        return connection.execute(text(sql), params).scalar_one()


def fix_input(token: str, **fields: Any) -> FixInput:
    """A valid new fix with its own submission token."""
    values: dict[str, Any] = {
        "title": f"Fix {token}",
        "trigger_type": "sla_breach",
        "root_cause": "ownership_handoff",
        "owner": "Dana Okafor",
        "due_on": date(2026, 3, 30),
        "expected_effect": None,
        "escalation_ids": (),
        "author": "Priya Raman",
        "token": token,
    }
    values.update(fields)
    return FixInput(**values)


def an_escalation(engine: Engine) -> int:
    (account_id,) = write(engine, account())
    (escalation_id,) = write(
        engine, escalation(account_id, at("2026-02-02", 10), 5, trigger_type="sla")
    )
    return escalation_id


def test_four_writers_log_a_hundred_fixes_and_lose_none(
    db_engine: Engine, writers: list[Engine]
) -> None:
    linked = an_escalation(db_engine)
    before = data_version(db_engine)

    def log_fixes(writer: int) -> list[int]:
        return [
            create_fix(
                engine=writers[writer],
                data=fix_input(f"w{writer}-{n}", escalation_ids=(linked,)),
                now=NOW,
            )
            for n in range(EACH)
        ]

    outcomes = run_together([lambda w=w: log_fixes(w) for w in range(WRITERS)])

    assert failures(outcomes) == []
    ids = [fix_id for ids in outcomes for fix_id in ids]
    # 4 writers x 25 fixes, each fix one row, one link, one "created" history row
    # and one data version step.
    assert (len(ids), len(set(ids))) == (100, 100)
    assert scalar(db_engine, "SELECT COUNT(*) FROM process_fix") == 100
    assert scalar(db_engine, "SELECT COUNT(DISTINCT title) FROM process_fix") == 100
    assert scalar(db_engine, "SELECT COUNT(*) FROM process_fix_escalation") == 100
    with db_engine.connect() as connection:
        created = connection.execute(
            text("SELECT fix_id FROM process_fix_history WHERE field = 'created'")
        ).scalars()
        assert sorted(created) == sorted(ids)
    assert scalar(db_engine, "SELECT COUNT(*) FROM process_fix_history") == 100
    assert data_version(db_engine) == before + 100


def test_racing_status_changes_have_one_winner_a_round(
    db_engine: Engine, writers: list[Engine]
) -> None:
    fix_id = create_fix(engine=db_engine, data=fix_input("race"), now=NOW)
    before = data_version(db_engine)
    winners: list[str] = []

    # Three rounds through the lifecycle; in each, all four writers try the same
    # move from the version they all read.
    for version, status in enumerate(("in_progress", "shipped", "verified"), 1):

        def move(writer: int, status: str = status, version: int = version) -> int:
            return change_fix_status(
                engine=writers[writer],
                fix_id=fix_id,
                new_status=status,
                author=f"Writer {writer}",
                now=NOW,
                expected_version=version,
            )

        outcomes = run_together([lambda w=w: move(w) for w in range(WRITERS)])

        won = [w for w, outcome in enumerate(outcomes) if outcome == version + 1]
        stale = [o for o in outcomes if isinstance(o, StaleFixError)]
        assert (len(won), len(stale)) == (1, WRITERS - 1), outcomes
        winner = f"Writer {won[0]}"
        winners.append(winner)
        for error in stale:
            assert (error.expected_version, error.current_version) == (
                version,
                version + 1,
            )
            assert error.changed_by == winner
            assert str(error).startswith("Someone else changed this fix at ")
            assert f"by {winner}; reload it to see their change" in str(error)
            assert (
                f"(you had version {version}, it is now version {version + 1})"
                in str(error)
            )

    fix = load_fix_from(db_engine, fix_id)
    assert (fix["status"], fix["version"]) == ("verified", 4)
    with db_engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT author, old_value, new_value FROM process_fix_history "
                "WHERE fix_id = :fix_id AND field = 'status' ORDER BY id"
            ),
            {"fix_id": fix_id},
        ).all()
    # Exactly one status row per round, written by that round's winner.
    assert [tuple(row) for row in rows] == [
        (winners[0], "proposed", "in_progress"),
        (winners[1], "in_progress", "shipped"),
        (winners[2], "shipped", "verified"),
    ]
    assert data_version(db_engine) == before + 3


def load_fix_from(engine: Engine, fix_id: int) -> dict[str, Any]:
    with engine.connect() as connection:
        fix = load_fix(connection=connection, fix_id=fix_id)
    assert fix is not None
    return fix


def test_an_edit_a_link_and_a_move_at_one_version_let_exactly_one_through(
    db_engine: Engine, writers: list[Engine]
) -> None:
    linked = an_escalation(db_engine)
    fix_id = create_fix(engine=db_engine, data=fix_input("mixed"), now=NOW)
    before = data_version(db_engine)
    common = {"fix_id": fix_id, "now": NOW, "expected_version": 1}
    calls: list[Callable[[], int]] = [
        lambda: update_fix(
            engine=writers[0], changes={"title": "Renamed"}, author="Ana", **common
        ),
        lambda: update_fix(
            engine=writers[1], changes={"owner": "Ben Ode"}, author="Ben", **common
        ),
        lambda: link_escalations(
            engine=writers[2], escalation_ids=[linked], author="Chi", **common
        ),
        lambda: change_fix_status(
            engine=writers[3],
            new_status="abandoned",
            reason="Dup",
            author="Dee",
            **common,
        ),
    ]

    outcomes = run_together(calls)

    won = [index for index, outcome in enumerate(outcomes) if outcome == 2]
    assert len(won) == 1, outcomes
    assert sum(isinstance(o, StaleFixError) for o in outcomes) == 3
    # The winner's change and nothing else: one history row beside "created" (an
    # abandon writes two: status and reason), one link at most, one version step.
    expected_fields = {
        0: ["title"],
        1: ["owner"],
        2: ["linked escalations"],
        3: ["status", "abandon_reason"],
    }[won[0]]
    with db_engine.connect() as connection:
        fields = connection.execute(
            text(
                "SELECT field FROM process_fix_history WHERE fix_id = :fix_id "
                "AND field <> 'created' ORDER BY id"
            ),
            {"fix_id": fix_id},
        ).scalars()
        assert sorted(fields) == sorted(expected_fields)
    links = scalar(db_engine, "SELECT COUNT(*) FROM process_fix_escalation")
    assert links == (1 if won[0] == 2 else 0)
    assert load_fix_from(db_engine, fix_id)["version"] == 2
    assert data_version(db_engine) == before + 1


def test_writers_editing_their_own_fixes_all_get_through(
    db_engine: Engine, writers: list[Engine]
) -> None:
    fix_ids = [
        create_fix(engine=db_engine, data=fix_input(f"own-{w}"), now=NOW)
        for w in range(WRITERS)
    ]
    before = data_version(db_engine)

    def edit(writer: int) -> int:
        version = 1
        for n in range(EACH):
            version = update_fix(
                engine=writers[writer],
                fix_id=fix_ids[writer],
                changes={"owner": f"Owner {writer}-{n}"},
                author=f"Writer {writer}",
                now=NOW + timedelta(minutes=n),
                expected_version=version,
            )
        return version

    outcomes = run_together([lambda w=w: edit(w) for w in range(WRITERS)])

    # Every edit changes the owner, so each of the 25 moves its fix one version.
    assert outcomes == [26] * WRITERS
    for writer, fix_id in enumerate(fix_ids):
        fix = load_fix_from(db_engine, fix_id)
        assert (fix["version"], fix["owner"]) == (26, f"Owner {writer}-24")
        owners = scalar(
            db_engine,
            "SELECT COUNT(*) FROM process_fix_history "
            "WHERE fix_id = :fix_id AND field = 'owner'",
            fix_id=fix_id,
        )
        assert owners == EACH
    assert data_version(db_engine) == before + WRITERS * EACH


def test_meetings_recorded_at_once_are_all_kept(
    db_engine: Engine, writers: list[Engine]
) -> None:
    before = data_version(db_engine)

    def record(writer: int) -> list[int]:
        return [
            record_review(
                engine=writers[writer],
                data=ReviewInput(
                    held_on=date(2026, 3, 2),
                    attendees="Ana, Ben",
                    decisions=f"Decision {writer}-{n}",
                    notes=None,
                    author=f"Writer {writer}",
                    token=f"review-{writer}-{n}",
                ),
                now=NOW,
            )
            for n in range(10)
        ]

    outcomes = run_together([lambda w=w: record(w) for w in range(WRITERS)])

    assert failures(outcomes) == []
    ids = [review_id for ids in outcomes for review_id in ids]
    # 4 writers x 10 meetings.
    assert len(set(ids)) == 40
    assert scalar(db_engine, "SELECT COUNT(*) FROM review_meeting") == 40
    assert data_version(db_engine) == before + 40


def validated(engine: Engine, kind: str, columns: dict[str, list[str]]) -> ImportReport:
    """A checked import of ``columns`` (all text, as a file is read)."""
    with engine.connect() as connection:
        report = validate_import(kind, pl.DataFrame(columns), connection=connection)
    assert report.ok, report.problems
    return report


def test_an_import_while_others_log_fixes_keeps_every_row(
    db_engine: Engine, writers: list[Engine]
) -> None:
    rows = 500
    report = validated(
        db_engine,
        "fixes",
        {
            "fix_id": [f"F-{n}" for n in range(rows)],
            "title": [f"Imported {n}" for n in range(rows)],
            "trigger_type": ["sla_breach"] * rows,
            "root_cause": ["tooling"] * rows,
            "owner": ["Dana Okafor"] * rows,
            "logged_at": ["2026-02-01T10:00:00Z"] * rows,
        },
    )
    before = data_version(db_engine)

    def log_fixes(writer: int) -> list[int]:
        return [
            create_fix(
                engine=writers[writer], data=fix_input(f"w{writer}-{n}"), now=NOW
            )
            for n in range(EACH)
        ]

    outcomes = run_together(
        [
            lambda: run_import(
                report, engine=writers[0], skip_invalid=False, dry_run=False
            ),
            *(lambda w=w: log_fixes(w) for w in range(1, WRITERS)),
        ]
    )

    assert failures(outcomes) == []
    assert outcomes[0] == ImportResult(inserted=rows, written=True)
    # 500 imported and 3 writers x 25 logged: 575 fixes, each with one "created"
    # history row; one data version step for the import and one per form.
    assert scalar(db_engine, "SELECT COUNT(*) FROM process_fix") == 575
    assert scalar(db_engine, "SELECT COUNT(DISTINCT id) FROM process_fix") == 575
    with db_engine.connect() as connection:
        created = connection.execute(
            text("SELECT fix_id FROM process_fix_history WHERE field = 'created'")
        ).scalars()
        ids = connection.execute(text("SELECT id FROM process_fix")).scalars()
        assert sorted(created) == sorted(ids)
    assert data_version(db_engine) == before + 1 + 3 * EACH


def escalation_file(prefix: str, rows: int) -> dict[str, list[str]]:
    """Escalations ``prefix-0`` ... of one account, ``A-1``, not stored yet."""
    return {
        "escalation_id": [f"{prefix}-{n}" for n in range(rows)],
        "account_id": ["A-1"] * rows,
        "account_name": ["Acme"] * rows,
        "trigger_type": ["outage"] * rows,
        "severity": ["high"] * rows,
        "first_signal_at": ["2026-03-01T10:00:00Z"] * rows,
        "escalated_at": ["2026-03-01T12:00:00Z"] * rows,
    }


def test_two_imports_at_once_both_land_and_share_one_new_account(
    db_engine: Engine, writers: list[Engine]
) -> None:
    first = validated(db_engine, "escalations", escalation_file("E-a", 300))
    second = validated(db_engine, "escalations", escalation_file("E-b", 300))
    before = data_version(db_engine)

    outcomes = run_together(
        [
            lambda: run_import(
                first, engine=writers[0], skip_invalid=False, dry_run=False
            ),
            lambda: run_import(
                second, engine=writers[1], skip_invalid=False, dry_run=False
            ),
        ]
    )

    assert failures(outcomes) == []
    assert [result.inserted for result in outcomes] == [300, 300]
    # Whichever ran first created A-1; the other found it stored.
    assert sorted(result.accounts_created for result in outcomes) == [0, 1]
    assert scalar(db_engine, "SELECT COUNT(*) FROM escalation") == 600
    assert scalar(db_engine, "SELECT COUNT(*) FROM account") == 1
    assert data_version(db_engine) == before + 2
