"""bulk_insert and seed_database on a migrated database, SQLite and PostgreSQL."""

import os
import threading
import uuid
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import polars as pl
import pytest
import sqlalchemy as sa
from sqlmodel import Session, SQLModel

from db.bulk import bulk_insert, table_order
from db.engine import create_db_engine, normalise_url
from db.migrate import upgrade
from db.models import Account, Escalation, LevelChange, ProcessFix, Signal, Team
from db.version import read_data_version
from seed_data.generate import DemoHistory, generate_history, history_parts
from seed_data.handover import OwnProcess
from seed_data.load import seed_database
from tests.conftest import POSTGRES_URL
from tests.inspection import index_condition, stored_counts
from tests.seed import makers
from tests.seed.conftest import END


@pytest.fixture(scope="module")
def tiny() -> DemoHistory:
    """15 accounts, 125 escalations, about 1,250 signals."""
    return generate_history(seed=4, scale=0.05, end=END)


def data_version(engine: sa.Engine) -> int:
    with engine.connect() as connection:
        return read_data_version(connection=connection)


def test_rows_read_back_equal_to_the_frames(
    db_engine: sa.Engine, tiny: DemoHistory
) -> None:
    bulk_insert(db_engine, tiny)

    assert stored_counts(db_engine) == tiny.counts()
    samples: list[tuple[type[SQLModel], pl.DataFrame]] = [
        (Account, tiny.account),
        (Escalation, tiny.escalation),
        (LevelChange, tiny.level_change),
        (Signal, tiny.signal),
        (ProcessFix, tiny.process_fix),
    ]
    with Session(db_engine) as session:
        for model, frame in samples:
            for position in (0, frame.height // 2, frame.height - 1):
                expected = frame.row(position, named=True)
                stored = session.get(model, expected["id"])
                assert stored is not None
                assert stored.model_dump() == expected, model.__name__
        escalation = session.get(Escalation, 1)
        assert escalation is not None
        assert escalation.first_signal_at.utcoffset() == timedelta(0)
        assert session.get(Team, "International") is not None


def test_later_orm_inserts_get_fresh_ids(
    db_engine: sa.Engine, tiny: DemoHistory
) -> None:
    bulk_insert(db_engine, tiny)
    fix = ProcessFix(
        title="Name an owner for every SLA breach",
        trigger_type="sla_breach",
        root_cause="ownership_handoff",
        owner="Dana Whitfield",
        logged_at=END,
    )

    with Session(db_engine) as session:
        session.add(fix)
        session.commit()
        session.refresh(fix)

    assert fix.id == tiny.process_fix.height + 1


def test_progress_reports_every_table_up_to_done(
    db_engine: sa.Engine, tiny: DemoHistory
) -> None:
    reports: list[tuple[str, float]] = []

    bulk_insert(
        db_engine, tiny, progress=lambda table, done: reports.append((table, done))
    )

    fractions = [done for _, done in reports]
    assert fractions == sorted(fractions)
    assert fractions[-1] == pytest.approx(1.0)
    assert list(dict.fromkeys(table for table, _ in reports)) == table_order()
    assert data_version(db_engine) == 1


def test_failure_midway_leaves_the_database_empty(
    db_engine: sa.Engine, tiny: DemoHistory
) -> None:
    def stop_at_signals(table: str, _done: float) -> None:
        if table == "signal":
            raise RuntimeError("interrupted")

    with pytest.raises(RuntimeError, match="interrupted"):
        bulk_insert(db_engine, tiny, progress=stop_at_signals)

    assert set(stored_counts(db_engine).values()) == {0}
    assert data_version(db_engine) == 0


def test_database_error_midway_rolls_everything_back(
    db_engine: sa.Engine, tiny: DemoHistory
) -> None:
    tables = tiny.tables()
    repeated_id = pl.concat([tiny.signal, tiny.signal.head(1)])

    with pytest.raises(sa.exc.IntegrityError):
        bulk_insert(db_engine, {**tables, "signal": repeated_id})

    assert set(stored_counts(db_engine).values()) == {0}


def test_seed_database_refuses_a_database_with_rows(db_engine: sa.Engine) -> None:
    counts = seed_database(db_engine, seed=1, scale=0.02, end=END)

    with pytest.raises(ValueError, match="already has rows"):
        seed_database(db_engine, seed=2, scale=0.02, end=END)

    assert stored_counts(db_engine) == counts
    assert counts["escalation"] == 50


def test_a_large_seed_is_generated_in_a_process_of_its_own(
    db_engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A tiny history stands in for a large one: only the threshold moves.
    monkeypatch.setattr("seed_data.load.OWN_PROCESS_FROM_SCALE", 0.01)
    started: list[OwnProcess] = []
    real_own_process = OwnProcess

    def watched(*args: Any, **kwargs: Any) -> OwnProcess:
        started.append(real_own_process(*args, **kwargs))
        return started[-1]

    monkeypatch.setattr("seed_data.load.OwnProcess", watched)

    counts = seed_database(db_engine, seed=4, scale=0.05, end=END)

    assert len(started) == 1
    expected = generate_history(seed=4, scale=0.05, end=END)
    assert counts == expected.counts()
    assert stored_counts(db_engine) == expected.counts()
    with db_engine.connect() as connection:
        texts = connection.execute(
            sa.select(Signal.text).order_by(Signal.id)  # type: ignore[arg-type]
        ).scalars()
        assert list(texts) == expected.signal.get_column("text").to_list()
    assert not started[0].process.is_alive()
    assert not os.path.exists(started[0].folder)


def test_a_seed_whose_generating_process_fails_leaves_the_database_empty(
    db_engine: sa.Engine,
) -> None:
    generated = OwnProcess(
        makers.history_failing_at_signals, seed=1, scale=0.02, end=END
    )

    with pytest.raises(MemoryError, match="no room for the signals"):
        seed_database(db_engine, seed=1, scale=0.02, end=END, generated=generated)

    assert set(stored_counts(db_engine).values()) == {0}
    assert data_version(db_engine) == 0
    assert not generated.process.is_alive()
    assert not os.path.exists(generated.folder)


def test_frames_that_do_not_fit_their_table_are_refused(tiny: DemoHistory) -> None:
    engine = sa.create_engine("sqlite://")
    tables = tiny.tables()

    with pytest.raises(ValueError, match="no table for frames"):
        bulk_insert(engine, {**tables, "fix_truth": tiny.fix_truth})
    with pytest.raises(ValueError, match=r"missing \['note'\]"):
        bulk_insert(engine, {"level_change": tiny.level_change.drop("note")})
    naive = tiny.escalation.with_columns(
        pl.col("escalated_at").dt.replace_time_zone(None)
    )
    with pytest.raises(ValueError, match="naive"):
        bulk_insert(engine, {"escalation": naive})
    engine.dispose()


def schema_snapshot(engine: sa.Engine) -> dict[str, tuple[object, ...]]:
    inspector = sa.inspect(engine)
    return {
        name: (
            sorted(
                (i["name"], tuple(i["column_names"]), index_condition(i))
                for i in inspector.get_indexes(name)
            ),
            sorted(
                (tuple(k["constrained_columns"]), k["referred_table"])
                for k in inspector.get_foreign_keys(name)
            ),
        )
        for name in table_order()
    }


def test_rebuilt_indexes_and_keys_come_back_and_still_check(
    db_engine: sa.Engine, tiny: DemoHistory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("db.bulk.REBUILD_FROM_ROWS", 1)
    before = schema_snapshot(db_engine)
    orphan = tiny.signal.with_columns(
        pl.when(pl.col("id") == 7)
        .then(10_000)
        .otherwise(pl.col("account_id"))
        .alias("account_id")
    )

    with pytest.raises(sa.exc.IntegrityError):
        bulk_insert(db_engine, {**tiny.tables(), "signal": orphan})
    bulk_insert(db_engine, tiny)

    assert schema_snapshot(db_engine) == before
    assert stored_counts(db_engine) == tiny.counts()


def test_a_broken_check_constraint_rolls_everything_back(
    db_engine: sa.Engine, tiny: DemoHistory
) -> None:
    unknown_severity = tiny.escalation.with_columns(
        pl.when(pl.col("id") == 3)
        .then(pl.lit("urgent"))
        .otherwise(pl.col("severity"))
        .alias("severity")
    )

    with pytest.raises(sa.exc.IntegrityError):
        bulk_insert(db_engine, {**tiny.tables(), "escalation": unknown_severity})

    assert set(stored_counts(db_engine).values()) == {0}
    assert data_version(db_engine) == 0


def test_nulls_dates_and_floats_read_back_unchanged(
    db_engine: sa.Engine, tiny: DemoHistory
) -> None:
    blanked = tiny.account.with_columns(
        pl.when(pl.col("id") == 2).then(None).otherwise(pl.col(column)).alias(column)
        for column in ("annual_value", "renewal_date")
    )
    open_again = tiny.escalation.with_columns(
        pl.when(pl.col("id") == 2).then(None).otherwise(pl.col(column)).alias(column)
        for column in ("resolved_at", "owner", "risk")
    )

    bulk_insert(
        db_engine, {**tiny.tables(), "account": blanked, "escalation": open_again}
    )

    with Session(db_engine) as session:
        for model, frame in ((Account, blanked), (Escalation, open_again)):
            for position in (0, 1, 2):
                expected = frame.row(position, named=True)
                stored = session.get(model, expected["id"])
                assert stored is not None
                assert stored.model_dump() == expected, model.__name__


def test_a_new_sqlite_file_gets_large_pages_and_is_back_in_wal_mode(
    sqlite_engine: sa.Engine, tiny: DemoHistory
) -> None:
    bulk_insert(sqlite_engine, tiny)

    with sqlite_engine.connect() as connection:
        mode = connection.exec_driver_sql("PRAGMA journal_mode").scalar_one()
        keys = connection.exec_driver_sql("PRAGMA foreign_keys").scalar_one()
        page_size = connection.exec_driver_sql("PRAGMA page_size").scalar_one()
    assert mode == "wal"
    assert keys == 1
    assert page_size == 16_384
    assert stored_counts(sqlite_engine) == tiny.counts()


def test_many_small_chunks_give_the_same_rows(
    db_engine: sa.Engine, tiny: DemoHistory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("db.bulk.ADBC_CHUNK_ROWS", 97)
    monkeypatch.setattr("db.bulk.COPY_CHUNK_ROWS", 97)
    monkeypatch.setattr("db.bulk.SQLITE_CHUNK_ROWS", 97)
    reports: list[float] = []

    bulk_insert(db_engine, tiny, progress=lambda _table, done: reports.append(done))

    assert stored_counts(db_engine) == tiny.counts()
    assert len(reports) > tiny.signal.height // 97
    with Session(db_engine) as session:
        for position in range(0, tiny.signal.height, 211):
            expected = tiny.signal.row(position, named=True)
            stored = session.get(Signal, expected["id"])
            assert stored is not None
            assert stored.model_dump() == expected


def in_parts(history: DemoHistory, signal_rows: int) -> list[tuple[str, pl.DataFrame]]:
    """The history as a loader stream: parents first, the signals in slices."""
    parts: list[tuple[str, pl.DataFrame]] = []
    for name, frame in history.tables().items():
        size = signal_rows if name == "signal" else max(frame.height, 1)
        parts += [
            (name, frame.slice(offset, size))
            for offset in range(0, max(frame.height, 1), size)
        ]
    return parts


def test_a_stream_of_parts_stores_the_same_rows(
    db_engine: sa.Engine, tiny: DemoHistory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Small enough that every big table has its indexes rebuilt from parts.
    monkeypatch.setattr("db.bulk.REBUILD_FROM_ROWS", 100)
    before = schema_snapshot(db_engine)
    parts = in_parts(tiny, signal_rows=400)
    reports: list[float] = []

    bulk_insert(
        db_engine,
        iter(parts),
        progress=lambda _table, done: reports.append(done),
        expected_rows=sum(tiny.counts().values()),
    )

    assert [name for name, _ in parts].count("signal") == -(-tiny.signal.height // 400)
    assert stored_counts(db_engine) == tiny.counts()
    assert schema_snapshot(db_engine) == before
    assert data_version(db_engine) == 1
    assert reports == sorted(reports)
    assert reports[-1] == pytest.approx(1.0)
    with Session(db_engine) as session:
        # The first and last row of the first part, and rows of later parts.
        for signal_id in (1, 400, 401, 801, tiny.signal.height):
            expected = tiny.signal.row(signal_id - 1, named=True)
            stored = session.get(Signal, signal_id)
            assert stored is not None
            assert stored.model_dump() == expected


def test_a_table_that_comes_back_in_a_stream_is_refused(
    db_engine: sa.Engine, tiny: DemoHistory
) -> None:
    parts = [
        ("team", tiny.team),
        ("account", tiny.account.head(5)),
        ("team", tiny.team),
    ]

    with pytest.raises(ValueError, match="'team' must come one after another"):
        bulk_insert(db_engine, iter(parts))

    assert set(stored_counts(db_engine).values()) == {0}
    assert data_version(db_engine) == 0


def test_a_stream_that_fails_midway_leaves_the_database_empty(
    db_engine: sa.Engine, tiny: DemoHistory
) -> None:
    parts = in_parts(tiny, signal_rows=300)

    def broken() -> Iterator[tuple[str, pl.DataFrame]]:
        yield from parts[:-2]
        raise RuntimeError("the generator failed")

    with pytest.raises(RuntimeError, match="the generator failed"):
        bulk_insert(db_engine, broken())

    assert set(stored_counts(db_engine).values()) == {0}
    assert data_version(db_engine) == 0


def test_orphans_of_rows_stored_earlier_are_found_by_the_database(
    db_engine: sa.Engine, tiny: DemoHistory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The parents were written by an earlier load, so the frames alone cannot
    # show that the keys hold: the database must be asked.
    monkeypatch.setattr("db.bulk.REBUILD_FROM_ROWS", 1)
    parents = {name: f for name, f in tiny.tables().items() if name != "signal"}
    bulk_insert(db_engine, parents)
    orphan = tiny.signal.with_columns(
        pl.when(pl.col("id") == 9)
        .then(tiny.escalation.height + 1)
        .otherwise(pl.col("escalation_id"))
        .alias("escalation_id")
    )

    with pytest.raises(sa.exc.IntegrityError, match="escalation"):
        bulk_insert(db_engine, {"signal": orphan})
    assert stored_counts(db_engine)["signal"] == 0
    bulk_insert(db_engine, {"signal": tiny.signal})

    assert stored_counts(db_engine) == tiny.counts()
    assert data_version(db_engine) == 2


@pytest.fixture
def unprivileged_engine() -> Iterator[sa.Engine]:
    """A migrated PostgreSQL schema owned by a role that is not a superuser."""
    if not POSTGRES_URL:
        pytest.skip("TEST_POSTGRES_URL is not set; PostgreSQL tests need a server")
    url = sa.make_url(normalise_url(POSTGRES_URL))
    name = f"t_{uuid.uuid4().hex[:12]}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE ROLE "{name}" LOGIN NOSUPERUSER'))
        connection.execute(sa.text(f'CREATE SCHEMA "{name}" AUTHORIZATION "{name}"'))
    engine = create_db_engine(
        url.set(username=name).render_as_string(hide_password=False),
        connect_args={"options": f"-csearch_path={name}"},
    )
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(sa.text(f'DROP SCHEMA "{name}" CASCADE'))
            connection.execute(sa.text(f'DROP ROLE "{name}"'))
        admin.dispose()


def test_without_a_superuser_keys_are_dropped_and_checked_again(
    unprivileged_engine: sa.Engine,
    tiny: DemoHistory,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr("db.bulk.REBUILD_FROM_ROWS", 1)
    before = schema_snapshot(unprivileged_engine)
    orphan = tiny.level_change.with_columns(
        pl.when(pl.col("id") == 4)
        .then(tiny.escalation.height + 1)
        .otherwise(pl.col("escalation_id"))
        .alias("escalation_id")
    )

    with caplog.at_level("INFO", logger="db.bulk"):
        with pytest.raises(sa.exc.IntegrityError, match="level_change_escalation_id"):
            bulk_insert(unprivileged_engine, {**tiny.tables(), "level_change": orphan})
        bulk_insert(unprivileged_engine, iter(in_parts(tiny, signal_rows=500)))

    assert "not a superuser" in caplog.text
    assert schema_snapshot(unprivileged_engine) == before
    assert stored_counts(unprivileged_engine) == tiny.counts()


def test_a_seed_whose_generator_fails_leaves_the_database_empty(
    db_engine: sa.Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_parts = history_parts
    handed: list[str] = []

    def failing_parts(
        *, seed: int, scale: float, end: datetime | None
    ) -> Iterator[tuple[str, pl.DataFrame]]:
        for name, frame in real_parts(seed=seed, scale=scale, end=end):
            if name == "signal":
                raise MemoryError("no room for the signals")
            handed.append(name)
            yield name, frame

    monkeypatch.setattr("seed_data.load.history_parts", failing_parts)

    with pytest.raises(MemoryError, match="no room for the signals"):
        seed_database(db_engine, seed=1, scale=0.02, end=END)

    # Everything before the signals reached the loader, and none of it stayed.
    assert "escalation" in handed and "process_fix_escalation" in handed
    assert set(stored_counts(db_engine).values()) == {0}
    assert data_version(db_engine) == 0
    assert not any(t.name == "seed-generator" for t in threading.enumerate())
