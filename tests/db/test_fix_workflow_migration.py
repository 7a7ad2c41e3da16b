"""Revision 0003 keeps the fixes a database already holds."""

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from alembic import command
from sqlalchemy import Engine, bindparam, text
from sqlmodel.sql.sqltypes import UTCDateTime

from db.engine import create_db_engine
from db.fixes import change_fix_status, load_fix
from db.migrate import alembic_config, current_revision, head_revision, upgrade
from tests.conftest import BACKENDS, POSTGRES_URL, _postgres_engine_in_new_schema
from tests.factories import account, at, escalation, write

LOGGED = datetime(2026, 1, 12, 9, 30, tzinfo=UTC)


@pytest.fixture(params=BACKENDS)
def empty_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """An engine on a database no migration has touched yet."""
    if request.param == "sqlite":
        engine = create_db_engine(f"sqlite:///{tmp_path / 'old.db'}")
        yield engine
        engine.dispose()
        return

    if not POSTGRES_URL:
        pytest.skip("TEST_POSTGRES_URL is not set; PostgreSQL tests need a server")
    admin, engine, schema = _postgres_engine_in_new_schema()
    try:
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


def fix_at_0002(engine: Engine) -> int:
    """Migrate to 0002 and store a shipped fix linked to one escalation.

    Returns the escalation's id; the fix is id 1.
    """
    upgrade(engine, "0002")
    # At 0002 the version row has no history counter yet.
    (account_id,) = write(engine, account(), bump_versions=False)
    (escalation_id,) = write(
        engine, escalation(account_id, at("2026-01-05"), 4), bump_versions=False
    )
    with engine.begin() as connection:
        connection.execute(
            text(
                "INSERT INTO process_fix (title, trigger_type, root_cause, owner, "
                "status, logged_at, shipped_at) VALUES ('Name an owner', "
                "'sla_breach', 'ownership_handoff', 'Dana Okafor', 'shipped', "
                ":logged_at, :logged_at)"
            ).bindparams(bindparam("logged_at", type_=UTCDateTime())),
            {"logged_at": LOGGED},
        )
        connection.execute(
            text(
                "INSERT INTO process_fix_escalation (fix_id, escalation_id) "
                "VALUES (1, :escalation_id)"
            ),
            {"escalation_id": escalation_id},
        )
    return escalation_id


def test_upgrading_past_0002_keeps_existing_fixes_at_version_1(
    empty_engine: Engine,
) -> None:
    escalation_id = fix_at_0002(empty_engine)

    upgrade(empty_engine)

    assert current_revision(empty_engine) == head_revision()
    with empty_engine.connect() as connection:
        fix = load_fix(connection=connection, fix_id=1)
    assert fix is not None
    assert {
        name: fix[name]
        for name in (
            "title",
            "status",
            "logged_at",
            "shipped_at",
            "version",
            "author",
            "abandon_reason",
            "updated_at",
            "escalation_ids",
        )
    } == {
        "title": "Name an owner",
        "status": "shipped",
        "logged_at": LOGGED,
        "shipped_at": LOGGED,
        "version": 1,
        "author": None,
        "abandon_reason": None,
        "updated_at": None,
        "escalation_ids": (escalation_id,),
    }


def test_a_fix_from_before_0003_can_move_on(empty_engine: Engine) -> None:
    fix_at_0002(empty_engine)
    upgrade(empty_engine)

    version = change_fix_status(
        engine=empty_engine,
        fix_id=1,
        new_status="verified",
        author="Priya Raman",
        now=datetime(2026, 3, 2, tzinfo=UTC),
        expected_version=1,
    )

    assert version == 2


def test_downgrading_to_0002_keeps_the_fixes_and_their_links(
    empty_engine: Engine,
) -> None:
    escalation_id = fix_at_0002(empty_engine)
    upgrade(empty_engine)
    change_fix_status(
        engine=empty_engine,
        fix_id=1,
        new_status="verified",
        author="Priya Raman",
        now=datetime(2026, 3, 2, tzinfo=UTC),
        expected_version=1,
    )

    command.downgrade(alembic_config(empty_engine), "0002")

    with empty_engine.connect() as connection:
        fixes = connection.execute(text("SELECT id, status FROM process_fix")).all()
        links = connection.execute(
            text("SELECT fix_id, escalation_id FROM process_fix_escalation")
        ).all()
    assert current_revision(empty_engine) == "0002"
    assert [tuple(row) for row in fixes] == [(1, "verified")]
    assert [tuple(row) for row in links] == [(1, escalation_id)]
