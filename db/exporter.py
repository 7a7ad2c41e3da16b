"""Export every history table in the import format, one file per kind.

Records point at each other by external id, as in the files the importer reads,
so a folder written here imports into an empty database (accounts, escalations,
signals, level changes, then fixes) and gives the same history back.
"""

import logging
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Connection, Engine, select

from db.models import Account, Escalation, LevelChange, ProcessFix, Signal
from db.queries import UTC_DATETIME, read_frame

log = logging.getLogger(__name__)

FORMATS = ("csv", "parquet")
# Import order: parents before the records that name them.
FILE_STEMS = ("accounts", "escalations", "signals", "level-changes", "fixes")
ISO_UTC = "%Y-%m-%dT%H:%M:%S%.6f+00:00"

_ACCOUNT = Account.__table__  # type: ignore[attr-defined]
_ESCALATION = Escalation.__table__  # type: ignore[attr-defined]
_SIGNAL = Signal.__table__  # type: ignore[attr-defined]
_LEVEL_CHANGE = LevelChange.__table__  # type: ignore[attr-defined]
_FIX = ProcessFix.__table__  # type: ignore[attr-defined]

_ESCALATION_TEXT = (
    "trigger_type",
    "severity",
    "status",
    "owner",
    "raised_by",
    "raised_via",
    "risk",
    "evidence",
    "options",
    "decision_needed",
    "next_owner",
    "consequence_if_unchanged",
    "exit_evidence",
)
_LEVEL_TEXT = (
    *(
        f"{thing}_{side}"
        for thing in (
            "owner",
            "cadence",
            "decision_rights",
            "evidence_threshold",
            "communication_path",
        )
        for side in ("before", "after")
    ),
    "note",
)


def _accounts(connection: Connection) -> pl.DataFrame:
    columns = {
        "account_id": (_ACCOUNT.c.external_id, pl.String()),
        "name": (_ACCOUNT.c.name, pl.String()),
        "segment": (_ACCOUNT.c.segment, pl.String()),
        "region": (_ACCOUNT.c.region, pl.String()),
        "team": (_ACCOUNT.c.team, pl.String()),
        "annual_value": (_ACCOUNT.c.annual_value, pl.Float64()),
        "renewal_date": (_ACCOUNT.c.renewal_date, pl.Date()),
    }
    return _read(connection, columns, _ACCOUNT)


def _escalations(connection: Connection) -> pl.DataFrame:
    columns = {
        "escalation_id": (_ESCALATION.c.external_id, pl.String()),
        "account_id": (_ACCOUNT.c.external_id, pl.String()),
        "first_signal_at": (_ESCALATION.c.first_signal_at, UTC_DATETIME),
        "escalated_at": (_ESCALATION.c.escalated_at, UTC_DATETIME),
        "resolved_at": (_ESCALATION.c.resolved_at, UTC_DATETIME),
        "level": (_ESCALATION.c.level, pl.Int64()),
        **{name: (_ESCALATION.c[name], pl.String()) for name in _ESCALATION_TEXT},
    }
    return _read(
        connection,
        columns,
        _ESCALATION,
        join=(_ACCOUNT, _ESCALATION.c.account_id == _ACCOUNT.c.id),
    )


def _signals(connection: Connection) -> pl.DataFrame:
    columns = {
        "account_id": (_ACCOUNT.c.external_id, pl.String()),
        "escalation_id": (_ESCALATION.c.external_id, pl.String()),
        "source": (_SIGNAL.c.source, pl.String()),
        "observed_at": (_SIGNAL.c.observed_at, UTC_DATETIME),
        "author": (_SIGNAL.c.author, pl.String()),
        "text": (_SIGNAL.c.text, pl.String()),
        "tone": (_SIGNAL.c.tone, pl.String()),
    }
    query = (
        select(*(column.label(name) for name, (column, _) in columns.items()))
        .select_from(_SIGNAL)
        .join(_ACCOUNT, _SIGNAL.c.account_id == _ACCOUNT.c.id)
        .outerjoin(_ESCALATION, _SIGNAL.c.escalation_id == _ESCALATION.c.id)
        .order_by(_SIGNAL.c.id)
    )
    return read_frame(
        connection, query, {name: dtype for name, (_, dtype) in columns.items()}
    )


def _level_changes(connection: Connection) -> pl.DataFrame:
    columns = {
        "escalation_id": (_ESCALATION.c.external_id, pl.String()),
        "at": (_LEVEL_CHANGE.c.at, UTC_DATETIME),
        "from_level": (_LEVEL_CHANGE.c.from_level, pl.Int64()),
        "to_level": (_LEVEL_CHANGE.c.to_level, pl.Int64()),
        **{name: (_LEVEL_CHANGE.c[name], pl.String()) for name in _LEVEL_TEXT},
    }
    return _read(
        connection,
        columns,
        _LEVEL_CHANGE,
        join=(_ESCALATION, _LEVEL_CHANGE.c.escalation_id == _ESCALATION.c.id),
    )


def _fixes(connection: Connection) -> pl.DataFrame:
    columns = {
        "fix_id": (_FIX.c.external_id, pl.String()),
        "id": (_FIX.c.id, pl.Int64()),
        "title": (_FIX.c.title, pl.String()),
        "trigger_type": (_FIX.c.trigger_type, pl.String()),
        "root_cause": (_FIX.c.root_cause, pl.String()),
        "owner": (_FIX.c.owner, pl.String()),
        "logged_at": (_FIX.c.logged_at, UTC_DATETIME),
        "status": (_FIX.c.status, pl.String()),
        "due_on": (_FIX.c.due_at, UTC_DATETIME),
        "shipped_at": (_FIX.c.shipped_at, UTC_DATETIME),
        "expected_effect": (_FIX.c.expected_effect, pl.String()),
        "author": (_FIX.c.author, pl.String()),
        "abandon_reason": (_FIX.c.abandon_reason, pl.String()),
    }
    frame = _read(connection, columns, _FIX)
    # Fixes logged here have no external id; they get a stable stand-in. NOTE: so
    # importing the export back into the same database adds them a second time.
    return frame.with_columns(
        pl.coalesce("fix_id", pl.format("fix-{}", pl.col("id"))).alias("fix_id"),
        pl.col("due_on").dt.date(),
    ).drop("id")


def _read(
    connection: Connection,
    columns: dict[str, tuple[Any, pl.DataType]],
    base: Any,
    join: tuple[Any, Any] | None = None,
) -> pl.DataFrame:
    """Select the labelled columns of ``base`` (and one joined table), by id."""
    query = select(*(column.label(name) for name, (column, _) in columns.items()))
    query = query.select_from(base)
    if join is not None:
        query = query.join(join[0], join[1])
    query = query.order_by(base.c.id)
    schema = {name: dtype for name, (_, dtype) in columns.items()}
    return read_frame(connection, query, schema)


def export_frames(*, connection: Connection) -> dict[str, pl.DataFrame]:
    """Every table in the import format, keyed by kind, parents first."""
    return {
        "accounts": _accounts(connection),
        "escalations": _escalations(connection),
        "signals": _signals(connection),
        "level-changes": _level_changes(connection),
        "fixes": _fixes(connection),
    }


def export_database(
    engine: Engine, directory: Path, *, file_format: str = "csv"
) -> dict[str, Path]:
    """Write one file per kind into ``directory``; return the paths by kind.

    CSV keeps timestamps as ISO 8601 text in UTC with an explicit ``+00:00``;
    Parquet keeps them as UTC timestamps.
    """
    if file_format not in FORMATS:
        message = f"unknown export format {file_format!r}; use one of {FORMATS}"
        raise ValueError(message)
    directory.mkdir(parents=True, exist_ok=True)
    with engine.connect() as connection:
        frames = export_frames(connection=connection)

    written: dict[str, Path] = {}
    for kind, frame in frames.items():
        path = directory / f"{kind}.{file_format}"
        if file_format == "csv":
            frame.with_columns(
                pl.col(pl.Datetime).dt.convert_time_zone("UTC").dt.strftime(ISO_UTC)
            ).write_csv(path)
        else:
            frame.write_parquet(path)
        written[kind] = path
        log.info("exported %s %s to %s", frame.height, kind, path)
    return written
