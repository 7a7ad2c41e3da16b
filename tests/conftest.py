"""Shared fixtures: a migrated database per test, on SQLite and PostgreSQL.

PostgreSQL runs when ``TEST_POSTGRES_URL`` is set. Each test gets a schema of
its own there, so that parallel runs on one server never see each other's rows.
When the variable is set and the server does not answer, the tests fail rather
than skip: a silent skip would let a broken PostgreSQL path pass CI.
"""

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text

from db.engine import create_db_engine, normalise_url
from db.migrate import upgrade

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL")
BACKENDS = ["sqlite", "postgres"]


def _postgres_engine_in_new_schema() -> tuple[Engine, Engine, str]:
    """An admin engine, an engine confined to a fresh schema, and its name."""
    assert POSTGRES_URL is not None
    url = normalise_url(POSTGRES_URL)
    schema = f"t_{uuid.uuid4().hex[:12]}"
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    engine = create_db_engine(url, connect_args={"options": f"-csearch_path={schema}"})
    return admin, engine, schema


def make_engine(backend: str, tmp_path: Path) -> Iterator[Engine]:
    """Yield a freshly migrated engine for ``backend`` and clean it up."""
    if backend == "sqlite":
        engine = create_db_engine(f"sqlite:///{tmp_path / 'test.db'}")
        upgrade(engine)
        yield engine
        engine.dispose()
        return

    if not POSTGRES_URL:
        pytest.skip("TEST_POSTGRES_URL is not set; PostgreSQL tests need a server")
    admin, engine, schema = _postgres_engine_in_new_schema()
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with admin.connect() as connection:
            connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
        admin.dispose()


@pytest.fixture(autouse=True, scope="session")
def _history_copies_in_tmp(
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[None]:
    # Columnar copies of test histories go to a throwaway folder, not data/cache;
    # set for the whole session so that servers started once see it too.
    with pytest.MonkeyPatch.context() as patch:
        folder = tmp_path_factory.mktemp("history-copies")
        patch.setenv("ESCALATION_HEALTH_CACHE_DIR", str(folder))
        yield


@pytest.fixture(params=BACKENDS)
def db_engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    """A migrated, empty database on each backend."""
    yield from make_engine(request.param, tmp_path)


@pytest.fixture
def sqlite_engine(tmp_path: Path) -> Iterator[Engine]:
    """A migrated, empty SQLite database."""
    yield from make_engine("sqlite", tmp_path)
