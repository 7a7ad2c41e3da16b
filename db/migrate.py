"""Bring a database to the latest schema revision with Alembic."""

import logging
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

log = logging.getLogger(__name__)

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def alembic_config(engine: Engine) -> Config:
    """An Alembic config bound to ``engine`` instead of an ini file's URL."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["engine"] = engine
    return config


def head_revision() -> str:
    """The newest revision shipped with the code."""
    script = ScriptDirectory(str(MIGRATIONS_DIR))
    head = script.get_current_head()
    if head is None:
        message = f"No migrations found in {MIGRATIONS_DIR}"
        raise RuntimeError(message)
    return head


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an unmanaged database."""
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Upgrade the schema to ``revision``; a no-op when already there."""
    before = current_revision(engine)
    if revision == "head" and before == head_revision():
        return
    log.info("Upgrading database schema from %s to %s", before, revision)
    command.upgrade(alembic_config(engine), revision)
