"""The data versions: counters that writes bump in their own transaction."""

from datetime import UTC, datetime

from sqlalchemy import Connection, select, update

from db.models import DataVersion

_TABLE = DataVersion.__table__  # type: ignore[attr-defined]


def read_data_version(*, connection: Connection) -> int:
    """The current data version (0 for a database never written to)."""
    value = connection.execute(select(_TABLE.c.version).where(_TABLE.c.id == 1))
    return int(value.scalar_one_or_none() or 0)


def read_versions(*, connection: Connection) -> tuple[int, int]:
    """The data version and the history version, read together."""
    row = connection.execute(
        select(_TABLE.c.version, _TABLE.c.history_version).where(_TABLE.c.id == 1)
    ).first()
    if row is None:
        return 0, 0
    return int(row[0] or 0), int(row[1] or 0)


def bump_data_version(*, connection: Connection, history: bool) -> None:
    """Increase the data version inside the caller's transaction.

    ``history`` says whether the write changed the escalation history
    (accounts, escalations, level changes or signals); it then bumps the
    history version too, and every cached copy of the history is rebuilt.
    """
    now = datetime.now(UTC)
    values: dict[str, object] = {"version": _TABLE.c.version + 1, "changed_at": now}
    if history:
        values["history_version"] = _TABLE.c.history_version + 1
        values["history_changed_at"] = now
    connection.execute(update(_TABLE).where(_TABLE.c.id == 1).values(**values))
