"""The Alembic history builds exactly the schema the SQLModel tables declare."""

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import Engine, inspect
from sqlmodel import SQLModel

from db.migrate import current_revision, head_revision, upgrade

EXPECTED_TABLES = {
    "account",
    "escalation",
    "level_change",
    "signal",
    "process_fix",
    "process_fix_escalation",
}


def test_upgrade_reaches_head_with_every_table(db_engine: Engine) -> None:
    tables = set(inspect(db_engine).get_table_names())

    assert EXPECTED_TABLES <= tables
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
