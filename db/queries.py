"""Queries that read the history straight into polars frames.

Rows are selected through the SQLModel tables' columns (SQLAlchemy Core), never
turned into ORM objects: at a million escalations that alone would take
minutes and gigabytes.
"""

import logging
from collections.abc import Sequence
from typing import Any

import polars as pl
from sqlalchemy import Connection, Select, func, select

from db.models import Account, Escalation

log = logging.getLogger(__name__)

UTC_DATETIME = pl.Datetime("us", "UTC")

_ESCALATION = Escalation.__table__.c  # type: ignore[attr-defined]
_ACCOUNT = Account.__table__.c  # type: ignore[attr-defined]

# Column name -> (SQL column, polars dtype). Account attributes come in through
# the join so that filters on team or segment need no second frame.
ESCALATION_COLUMNS: dict[str, tuple[Any, pl.DataType]] = {
    "id": (_ESCALATION.id, pl.Int64()),
    "external_id": (_ESCALATION.external_id, pl.String()),
    "account_id": (_ESCALATION.account_id, pl.Int64()),
    "trigger_type": (_ESCALATION.trigger_type, pl.String()),
    "severity": (_ESCALATION.severity, pl.String()),
    "first_signal_at": (_ESCALATION.first_signal_at, UTC_DATETIME),
    "escalated_at": (_ESCALATION.escalated_at, UTC_DATETIME),
    "resolved_at": (_ESCALATION.resolved_at, UTC_DATETIME),
    "status": (_ESCALATION.status, pl.String()),
    "level": (_ESCALATION.level, pl.Int64()),
    "owner": (_ESCALATION.owner, pl.String()),
    "raised_via": (_ESCALATION.raised_via, pl.String()),
    "account_name": (_ACCOUNT.name, pl.String()),
    "segment": (_ACCOUNT.segment, pl.String()),
    "region": (_ACCOUNT.region, pl.String()),
    "team": (_ACCOUNT.team, pl.String()),
}
DEFAULT_ESCALATION_COLUMNS: tuple[str, ...] = tuple(ESCALATION_COLUMNS)


def _frame(
    connection: Connection, query: Select[Any], schema: dict[str, pl.DataType]
) -> pl.DataFrame:
    """Run ``query`` and build a frame with exactly ``schema``.

    Values are collected column by column from the cursor, which keeps the
    result typed even when the query returns no rows.
    """
    rows = connection.execute(query).all()
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in schema]
    return pl.DataFrame(
        {
            name: pl.Series(name, values, dtype=dtype, strict=False)
            for (name, dtype), values in zip(schema.items(), columns, strict=True)
        }
    )


def load_escalations(
    *, connection: Connection, columns: Sequence[str] | None = None
) -> pl.DataFrame:
    """Load escalations joined to their account's attributes.

    Parameters
    ----------
    connection
        An open SQLAlchemy connection.
    columns
        Which of :data:`ESCALATION_COLUMNS` to read; all by default. Reading
        fewer columns is markedly faster on large histories.
    """
    wanted = tuple(columns) if columns is not None else DEFAULT_ESCALATION_COLUMNS
    unknown = sorted(set(wanted) - set(ESCALATION_COLUMNS))
    if unknown:
        message = (
            f"Unknown escalation columns {unknown}; known: {list(ESCALATION_COLUMNS)}"
        )
        raise ValueError(message)

    query = (
        select(*(ESCALATION_COLUMNS[name][0].label(name) for name in wanted))
        .select_from(Escalation.__table__)  # type: ignore[attr-defined]
        .join(Account.__table__, _ESCALATION.account_id == _ACCOUNT.id)  # type: ignore[attr-defined]
        .order_by(_ESCALATION.id)
    )
    schema = {name: ESCALATION_COLUMNS[name][1] for name in wanted}
    frame = _frame(connection, query, schema)
    log.debug("Loaded %s escalations", frame.height)
    return frame


def load_filter_options(*, connection: Connection) -> dict[str, list[str]]:
    """Distinct values for the shared sidebar filters, sorted."""
    options: dict[str, list[str]] = {}
    for name, column in (
        ("segment", _ACCOUNT.segment),
        ("team", _ACCOUNT.team),
        ("trigger_type", _ESCALATION.trigger_type),
        ("severity", _ESCALATION.severity),
    ):
        values = connection.execute(select(column).distinct()).scalars().all()
        options[name] = sorted(str(value) for value in values if value is not None)
    return options


def count_escalations(*, connection: Connection) -> int:
    """Number of escalations stored."""
    return int(
        connection.execute(select(func.count()).select_from(Escalation)).scalar_one()
    )
