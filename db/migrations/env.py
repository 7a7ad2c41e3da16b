"""Alembic environment: runs migrations on the engine the caller provides."""

from alembic import context
from sqlalchemy import Engine, engine_from_config, pool
from sqlmodel import SQLModel

import db.models  # noqa: F401  (registers the tables on SQLModel.metadata)

config = context.config
target_metadata = SQLModel.metadata


def _engine() -> Engine:
    provided = config.attributes.get("engine")
    if provided is not None:
        return provided
    # Invoked through the alembic command line: use the URL the app would use.
    from db.engine import create_db_engine  # noqa: PLC0415

    url = config.get_main_option("sqlalchemy.url")
    if url:
        return engine_from_config(
            {"sqlalchemy.url": url}, prefix="sqlalchemy.", poolclass=pool.NullPool
        )
    return create_db_engine()


def run_migrations_offline() -> None:
    """Emit SQL to stdout instead of running it."""
    context.configure(
        url=str(_engine().url),
        target_metadata=target_metadata,
        literal_binds=True,
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    """Run migrations in one transaction on a live connection."""
    with _engine().connect() as connection:
        context.configure(
            connection=connection,
            target_metadata=target_metadata,
            render_as_batch=True,
        )
        with context.begin_transaction():
            context.run_migrations()
        connection.commit()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
