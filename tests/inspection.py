"""What tests read back from a database to check what was stored."""

from typing import Any

import sqlalchemy as sa

from db.bulk import table_order


def stored_counts(engine: sa.Engine) -> dict[str, int]:
    """Rows in each history table, counted by the database."""
    with engine.connect() as connection:
        return {
            name: connection.execute(
                sa.select(sa.func.count()).select_from(sa.table(name))
            ).scalar_one()
            for name in table_order()
        }


def index_condition(index: Any) -> str | None:
    """The WHERE of a reflected partial index as the database reports it, else None."""
    options = index.get("dialect_options", {})
    condition = options.get("sqlite_where", options.get("postgresql_where"))
    return None if condition is None else str(condition)
