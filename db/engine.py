"""Database URL resolution, the engine factory and schema upgrades."""

import logging
import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SQLITE_PATH = PROJECT_ROOT / "data" / "escalation_health.db"
SQLITE_BUSY_TIMEOUT_MS = 10_000


class DatabaseError(RuntimeError):
    """A database problem explained in one line a person can act on."""


def default_database_url() -> str:
    """Return ``DATABASE_URL`` if set, else the embedded SQLite file."""
    return os.environ.get("DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE_PATH}"


def normalise_url(url: str) -> str:
    """Select the psycopg 3 driver for plain ``postgresql://`` URLs."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def is_sqlite(engine: Engine) -> bool:
    """Whether the engine talks to SQLite."""
    return engine.dialect.name == "sqlite"


def _configure_sqlite(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets the dashboard read while a writer commits; the busy timeout makes
    # a second writer wait instead of failing at once with "database is locked".
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_db_engine(url: str | None = None, **options: Any) -> Engine:
    """Build an engine for ``url`` (default: :func:`default_database_url`).

    Nothing connects until the engine is first used. Raises
    :class:`DatabaseError` when the URL cannot be understood.
    """
    raw = normalise_url(url or default_database_url())
    try:
        parsed = make_url(raw)
    except ArgumentError as error:
        message = f"Not a database URL: {raw!r} ({error})"
        raise DatabaseError(message) from error

    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            parsed,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            **options,
        )
        event.listen(engine, "connect", _configure_sqlite)
        return engine

    try:
        return create_engine(parsed, pool_pre_ping=True, **options)
    except (ArgumentError, ImportError) as error:
        message = f"Cannot use database URL {parsed!r}: {error}"
        raise DatabaseError(message) from error


def check_connection(engine: Engine) -> None:
    """Connect once, turning any failure into a one-line :class:`DatabaseError`."""
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError as error:
        original = getattr(error, "orig", None)
        reason = str(original if original is not None else error)
        first_line = reason.strip().splitlines()[0] if reason.strip() else repr(error)
        message = (
            f"Cannot reach the database at {engine.url!r}: {first_line}. "
            "Check DATABASE_URL or --db."
        )
        raise DatabaseError(message) from error
