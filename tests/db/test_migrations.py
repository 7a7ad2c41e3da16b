"""The Alembic history builds exactly the schema the SQLModel tables declare."""

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect, text
from sqlmodel import SQLModel

from db.migrate import alembic_config, current_revision, head_revision, upgrade
from db.version import bump_data_version, read_data_version, read_versions
from tests.inspection import index_condition

EXPECTED_TABLES = {
    "account",
    "escalation",
    "level_change",
    "signal",
    "process_fix",
    "process_fix_escalation",
    "data_version",
}


def test_upgrade_reaches_head_with_every_table(db_engine: Engine) -> None:
    tables = set(inspect(db_engine).get_table_names())

    assert tables >= EXPECTED_TABLES
    assert current_revision(db_engine) == head_revision()


def test_migrations_match_the_models(db_engine: Engine) -> None:
    with db_engine.connect() as connection:
        differences = compare_metadata(
            MigrationContext.configure(connection), SQLModel.metadata
        )

    assert differences == []


def test_upgrade_twice_is_a_no_op(db_engine: Engine) -> None:
    upgrade(db_engine)

    assert current_revision(db_engine) == head_revision()


def test_data_version_starts_at_zero_and_bumps_in_a_transaction(
    db_engine: Engine,
) -> None:
    with db_engine.connect() as connection:
        before = read_data_version(connection=connection)
    with db_engine.begin() as connection:
        bump_data_version(connection=connection, history=False)
        bump_data_version(connection=connection, history=False)
    with db_engine.connect() as connection:
        after = read_data_version(connection=connection)

    assert (before, after) == (0, 2)


def test_only_a_history_write_moves_the_history_version(db_engine: Engine) -> None:
    with db_engine.begin() as connection:
        bump_data_version(connection=connection, history=False)
    with db_engine.connect() as connection:
        after_a_fix = read_versions(connection=connection)
    with db_engine.begin() as connection:
        bump_data_version(connection=connection, history=True)
    with db_engine.connect() as connection:
        after_an_escalation = read_versions(connection=connection)

    # (data version, history version): every write moves the first.
    assert (after_a_fix, after_an_escalation) == ((1, 0), (2, 1))


def test_a_rolled_back_write_leaves_the_version_alone(db_engine: Engine) -> None:
    connection = db_engine.connect()
    transaction = connection.begin()
    bump_data_version(connection=connection, history=True)
    transaction.rollback()
    connection.close()

    with db_engine.connect() as check:
        assert read_versions(connection=check) == (0, 0)


# The signal index by escalation (revision 0007)


def signal_index_condition(engine: Engine) -> str | None:
    """The WHERE of ix_signal_escalation_id as the database reports it."""
    (index,) = (
        i
        for i in inspect(engine).get_indexes("signal")
        if i["name"] == "ix_signal_escalation_id"
    )
    return index_condition(index)


def plan_of_a_lookup_by_escalation(engine: Engine) -> str:
    """How the database would find one escalation's signals."""
    lookup = "SELECT id FROM signal WHERE escalation_id = 42 ORDER BY observed_at"
    with engine.begin() as connection:
        if engine.dialect.name == "sqlite":
            rows = connection.execute(text(f"EXPLAIN QUERY PLAN {lookup}"))
            return "\n".join(str(row[-1]) for row in rows)
        # An empty table is cheapest to scan; forbid that so the planner
        # shows whether the index is usable at all.
        connection.execute(text("SET LOCAL enable_seqscan = off"))
        return "\n".join(
            str(row[0]) for row in connection.execute(text(f"EXPLAIN {lookup}"))
        )


def test_only_linked_signals_are_indexed_by_escalation(db_engine: Engine) -> None:
    condition = signal_index_condition(db_engine)

    assert condition is not None
    assert "escalation_id IS NOT NULL" in condition
    assert "ix_signal_escalation_id" in plan_of_a_lookup_by_escalation(db_engine)


def test_downgrading_0007_indexes_every_signal_again(db_engine: Engine) -> None:
    command.downgrade(alembic_config(db_engine), "0006")

    assert signal_index_condition(db_engine) is None
    assert "ix_signal_escalation_id" in plan_of_a_lookup_by_escalation(db_engine)

    upgrade(db_engine)

    assert current_revision(db_engine) == head_revision()
    assert "escalation_id IS NOT NULL" in (signal_index_condition(db_engine) or "")
