"""Queries that read the history straight into polars frames.

Rows are selected through the SQLModel tables' columns (SQLAlchemy Core), never
turned into ORM objects: at a million escalations that alone would take
minutes and gigabytes.
"""

import logging
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

import polars as pl
from sqlalchemy import (
    BigInteger,
    Connection,
    Select,
    String,
    and_,
    case,
    cast,
    func,
    select,
    type_coerce,
)

from db.models import Account, Escalation, LevelChange, ProcessFix, Signal, Team
from db.snapshot import sqlite_datetimes

log = logging.getLogger(__name__)

UTC_DATETIME = pl.Datetime("us", "UTC")

_ESCALATION = Escalation.__table__.c  # type: ignore[attr-defined]
_ACCOUNT = Account.__table__.c  # type: ignore[attr-defined]
_LEVEL_CHANGE = LevelChange.__table__.c  # type: ignore[attr-defined]
_SIGNAL = Signal.__table__.c  # type: ignore[attr-defined]

PACKET_FIELDS = (
    "evidence",
    "decision_needed",
    "next_owner",
    "consequence_if_unchanged",
    "exit_evidence",
)


def _answered(column: Any) -> Any:
    """A short marker when a packet answer is present, NULL when it is not.

    Lists of escalations only need to know whether each answer exists; reading
    the answers' full text for every row would multiply memory for nothing.
    """
    present = and_(column.is_not(None), func.trim(column) != "")
    return case((present, "answered"), else_=None)


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
    **{
        field: (_answered(getattr(_ESCALATION, field)), pl.String())
        for field in PACKET_FIELDS
    },
}
DEFAULT_ESCALATION_COLUMNS: tuple[str, ...] = tuple(ESCALATION_COLUMNS)


def read_frame(
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
    frame = read_frame(connection, query, schema)
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


def load_escalation(
    *, connection: Connection, escalation_id: int
) -> dict[str, Any] | None:
    """One escalation with its full packet and account, or None if absent."""
    query = (
        select(
            Escalation.__table__,  # type: ignore[attr-defined]
            _ACCOUNT.name.label("account_name"),
            _ACCOUNT.external_id.label("account_external_id"),
            _ACCOUNT.segment,
            _ACCOUNT.region,
            _ACCOUNT.team,
        )
        .join(Account.__table__, _ESCALATION.account_id == _ACCOUNT.id)  # type: ignore[attr-defined]
        .where(_ESCALATION.id == escalation_id)
    )
    row = connection.execute(query).mappings().first()
    return dict(row) if row is not None else None


LEVEL_CHANGE_SCHEMA: dict[str, pl.DataType] = {
    column.name: (
        UTC_DATETIME
        if column.name == "at"
        else pl.Int64()
        if column.name in {"id", "escalation_id", "from_level", "to_level"}
        else pl.String()
    )
    for column in LevelChange.__table__.columns  # type: ignore[attr-defined]
}


def load_level_changes(
    *, connection: Connection, escalation_id: int | None = None
) -> pl.DataFrame:
    """Level changes, all or one escalation's, in the order they happened."""
    query = select(*(_LEVEL_CHANGE[name] for name in LEVEL_CHANGE_SCHEMA))
    if escalation_id is not None:
        query = query.where(_LEVEL_CHANGE.escalation_id == escalation_id)
    query = query.order_by(_LEVEL_CHANGE.at, _LEVEL_CHANGE.id)
    return read_frame(connection, query, LEVEL_CHANGE_SCHEMA)


SIGNAL_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.Int64(),
    "account_id": pl.Int64(),
    "escalation_id": pl.Int64(),
    "source": pl.String(),
    "observed_at": UTC_DATETIME,
    "author": pl.String(),
    "text": pl.String(),
    "tone": pl.String(),
}


def load_signals(
    *,
    connection: Connection,
    escalation_id: int | None = None,
    account_id: int | None = None,
) -> pl.DataFrame:
    """Signals of one escalation or one account, oldest first."""
    query = select(*(_SIGNAL[name] for name in SIGNAL_SCHEMA))
    if escalation_id is not None:
        query = query.where(_SIGNAL.escalation_id == escalation_id)
    if account_id is not None:
        query = query.where(_SIGNAL.account_id == account_id)
    query = query.order_by(_SIGNAL.observed_at, _SIGNAL.id)
    return read_frame(connection, query, SIGNAL_SCHEMA)


TONE_INPUT_COLUMNS = (
    "id",
    "account_id",
    "escalation_id",
    "source",
    "observed_at",
    "text",
)
"""What the tone model and the early warning read of every signal."""


def iter_signal_batches(
    *,
    connection: Connection,
    since: datetime | None = None,
    batch_rows: int = 200_000,
    columns: Sequence[str] = TONE_INPUT_COLUMNS,
) -> Iterator[pl.DataFrame]:
    """Signals in id order, ``batch_rows`` at a time, for the tone model.

    Only those observed at or after ``since`` when it is given, and only
    ``columns`` (some of :data:`TONE_INPUT_COLUMNS`). Batches keep memory flat
    on a large history: the caller labels each one and drops its text before
    the next arrives.
    """
    unknown = sorted(set(columns) - set(TONE_INPUT_COLUMNS))
    if unknown:
        message = f"Unknown signal columns {unknown}; known: {list(TONE_INPUT_COLUMNS)}"
        raise ValueError(message)
    sqlite = connection.dialect.name == "sqlite"
    selected = []
    for name in columns:
        column: Any = _SIGNAL[name]
        if name == "observed_at":
            # A datetime object per row costs most of the read (30 s for five
            # million signals); SQLite's text and PostgreSQL's whole
            # microseconds since the epoch convert in bulk instead.
            column = (
                type_coerce(column, String)
                if sqlite
                else cast(func.extract("epoch", column) * 1_000_000, BigInteger)
            )
        selected.append(column.label(name))
    query = select(*selected).order_by(_SIGNAL.id)
    if since is not None:
        query = query.where(_SIGNAL.observed_at >= since)
    result = connection.execution_options(yield_per=batch_rows).execute(query)
    for rows in result.partitions():
        values = dict(zip(columns, zip(*rows, strict=True), strict=True))
        yield pl.DataFrame(
            [_signal_series(name, values[name], sqlite=sqlite) for name in columns]
        )


def _signal_series(name: str, values: Sequence[Any], *, sqlite: bool) -> pl.Series:
    if name != "observed_at":
        return pl.Series(name, values, dtype=SIGNAL_SCHEMA[name], strict=False)
    if sqlite:
        return sqlite_datetimes(pl.Series(name, values, dtype=pl.String))
    return pl.Series(name, values, dtype=pl.Int64).cast(UTC_DATETIME)


def signal_fingerprint(*, connection: Connection) -> tuple[int, int]:
    """How many signals there are and the highest id: changes when signals do.

    Signals are only ever added (an escalation may claim one, which leaves its
    text and time alone), so these two numbers tell whether work that reads
    signal texts must be redone, while other writes leave it cached.
    """
    count, highest = connection.execute(
        select(func.count(), func.coalesce(func.max(_SIGNAL.id), 0))
    ).one()
    return int(count), int(highest)


def load_account_escalations(
    *, connection: Connection, account_id: int
) -> pl.DataFrame:
    """Every escalation of one account, newest first, without packet text."""
    wanted = (
        "id",
        "external_id",
        "trigger_type",
        "severity",
        "first_signal_at",
        "escalated_at",
        "resolved_at",
        "status",
        "owner",
    )
    query = (
        select(*(ESCALATION_COLUMNS[name][0].label(name) for name in wanted))
        .where(_ESCALATION.account_id == account_id)
        .order_by(_ESCALATION.escalated_at.desc(), _ESCALATION.id.desc())
    )
    return read_frame(
        connection, query, {name: ESCALATION_COLUMNS[name][1] for name in wanted}
    )


def load_team_time_zones(*, connection: Connection) -> dict[str, str]:
    """Each team's IANA time zone, for business-hours latency."""
    table = Team.__table__  # type: ignore[attr-defined]
    rows = connection.execute(select(table.c.name, table.c.time_zone)).all()
    return {str(name): str(zone) for name, zone in rows}


FIX_SCHEMA: dict[str, pl.DataType] = {
    "id": pl.Int64(),
    "title": pl.String(),
    "trigger_type": pl.String(),
    "root_cause": pl.String(),
    "owner": pl.String(),
    "status": pl.String(),
    "logged_at": UTC_DATETIME,
    "due_at": UTC_DATETIME,
    "shipped_at": UTC_DATETIME,
    "expected_effect": pl.String(),
    "version": pl.Int64(),
    "author": pl.String(),
    "abandon_reason": pl.String(),
    "updated_at": UTC_DATETIME,
}


ACCOUNT_SCHEMA: dict[str, pl.DataType] = {
    "account_id": pl.Int64(),
    "account_name": pl.String(),
    "segment": pl.String(),
    "region": pl.String(),
    "team": pl.String(),
    "annual_value": pl.Float64(),
    "renewal_date": pl.Date(),
}


def load_accounts(*, connection: Connection) -> pl.DataFrame:
    """Every account with the attributes the sidebar filters and lists use."""
    query = select(
        _ACCOUNT.id.label("account_id"),
        _ACCOUNT.name.label("account_name"),
        _ACCOUNT.segment,
        _ACCOUNT.region,
        _ACCOUNT.team,
        _ACCOUNT.annual_value,
        _ACCOUNT.renewal_date,
    ).order_by(_ACCOUNT.id)
    return read_frame(connection, query, ACCOUNT_SCHEMA)


def load_fixes(*, connection: Connection) -> pl.DataFrame:
    """Every process fix, oldest logged first."""
    table = ProcessFix.__table__  # type: ignore[attr-defined]
    query = select(*(table.c[name] for name in FIX_SCHEMA)).order_by(
        table.c.logged_at, table.c.id
    )
    return read_frame(connection, query, FIX_SCHEMA)
