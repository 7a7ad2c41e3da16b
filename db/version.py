"""The data version: a counter every write bumps in the same transaction."""

from datetime import UTC, datetime

from sqlalchemy import Connection, select, update

from db.models import DataVersion

_TABLE = DataVersion.__table__  # type: ignore[attr-defined]


def read_data_version(*, connection: Connection) -> int:
    """The current data version (0 for a database never written to)."""
    value = connection.execute(select(_TABLE.c.version).where(_TABLE.c.id == 1))
    return int(value.scalar_one_or_none() or 0)


def bump_data_version(*, connection: Connection) -> None:
    """Increase the data version inside the caller's transaction."""
    connection.execute(
        update(_TABLE)
        .where(_TABLE.c.id == 1)
        .values(version=_TABLE.c.version + 1, changed_at=datetime.now(UTC))
    )
