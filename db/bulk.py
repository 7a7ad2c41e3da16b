"""Bulk insert of polars frames into the escalation tables, all or nothing.

No ORM objects are built. On SQLite the rows go through the driver's
``executemany`` with text timestamps in SQLAlchemy's own storage format; on
PostgreSQL with psycopg 3 they are streamed with ``COPY`` and the id sequences
are moved past the inserted ids. Any other database gets a plain Core insert.
"""

import logging
import sqlite3
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, Protocol

import polars as pl
import sqlalchemy as sa
from psycopg.copy import QueuedLibpqWriter
from sqlmodel import SQLModel

from db.models import (
    Account,
    Escalation,
    LevelChange,
    ProcessFix,
    ProcessFixEscalation,
    Signal,
    Team,
)
from db.version import bump_data_version

log = logging.getLogger(__name__)

Progress = Callable[[str, float], None]

# SQLAlchemy stores a SQLite DATETIME as '%Y-%m-%d %H:%M:%S.%f'; this is the same
# layout in the chrono syntax that polars formats with.
SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S%.6f"
SQLITE_DATE = "%Y-%m-%d"
POSTGRES_TIMESTAMPTZ = "%Y-%m-%d %H:%M:%S%.6f+00:00"
SQLITE_CHUNK_ROWS = 50_000
COPY_CHUNK_ROWS = 200_000
CORE_CHUNK_ROWS = 5_000
# From this many rows on, dropping a table's secondary indexes (and on PostgreSQL
# its foreign keys) and rebuilding them after the load beats maintaining them row
# by row: about twice as fast on both databases at ten million signals.
REBUILD_FROM_ROWS = 100_000
# Page cache for the load, in KiB (negative means KiB to SQLite). Index pages of
# a ten-million-row table stop fitting in the default 2 MiB almost at once.
SQLITE_LOAD_CACHE_KIB = 512 * 1024


class HasTables(Protocol):
    """Anything that can hand over its frames keyed by table name."""

    def tables(self) -> Mapping[str, pl.DataFrame]:
        """Frames keyed by table name."""
        ...


# Parents before children, so that enforced foreign keys hold row by row.
_MODELS = (
    Team,
    Account,
    Escalation,
    LevelChange,
    Signal,
    ProcessFix,
    ProcessFixEscalation,
)


def table_order() -> list[str]:
    """Names of the tables bulk_insert writes, parents before children."""
    return [str(model.__tablename__) for model in _MODELS]


def _prepared(
    history: HasTables | Mapping[str, pl.DataFrame],
) -> list[tuple[sa.Table, pl.DataFrame]]:
    """Frames matched to their tables in insert order, columns checked and ordered."""
    frames = history.tables() if hasattr(history, "tables") else history
    known = table_order()
    unknown = sorted(set(frames) - set(known))
    if unknown:
        message = f"no table for frames {unknown}; known tables are {known}"
        raise ValueError(message)

    prepared: list[tuple[sa.Table, pl.DataFrame]] = []
    for name in known:
        if name not in frames:
            continue
        table = SQLModel.metadata.tables[name]
        frame = frames[name]
        wanted = [column.name for column in table.columns]
        missing = [column for column in wanted if column not in frame.columns]
        extra = [column for column in frame.columns if column not in wanted]
        if missing or extra:
            message = (
                f"frame for table {name!r} does not match its columns: "
                f"missing {missing}, unexpected {extra}"
            )
            raise ValueError(message)
        for column in wanted:
            dtype = frame.schema[column]
            if isinstance(dtype, pl.Datetime) and dtype.time_zone is None:
                message = (
                    f"column {name}.{column} holds naive datetimes; "
                    "give them a time zone (UTC) before inserting"
                )
                raise ValueError(message)
        prepared.append((table, frame.select(wanted)))
    return prepared


def _as_text_times(frame: pl.DataFrame, datetime_format: str) -> pl.DataFrame:
    """Datetimes as UTC text in ``datetime_format`` and dates as ISO text."""
    return frame.with_columns(
        pl.col(pl.Datetime).dt.convert_time_zone("UTC").dt.strftime(datetime_format),
        pl.col(pl.Date).dt.strftime(SQLITE_DATE),
    )


def _chunks(frame: pl.DataFrame, size: int) -> Iterator[pl.DataFrame]:
    """Consecutive slices of at most ``size`` rows."""
    for offset in range(0, frame.height, size):
        yield frame.slice(offset, size)


def _quoted(name: str) -> str:
    """A double-quoted SQL identifier (a few column names are keywords)."""
    return '"' + name.replace('"', '""') + '"'


class _Tally:
    """Counts rows written and reports the overall fraction done."""

    def __init__(self, total: int, progress: Progress | None) -> None:
        self.total = max(total, 1)
        self.done = 0
        self.progress = progress

    def add(self, table: str, rows: int) -> None:
        """Record ``rows`` more rows written to ``table``."""
        self.done += rows
        if self.progress is not None:
            self.progress(table, self.done / self.total)


def _worth_rebuilding(raw: Any, table: sa.Table, frame: pl.DataFrame) -> bool:
    """Whether to rebuild the table's indexes after the load: big load, empty table.

    A table that already has rows keeps its indexes, since rebuilding would
    re-sort the rows that were there too.
    """
    if frame.height < REBUILD_FROM_ROWS:
        return False
    cursor = raw.cursor()
    try:
        cursor.execute(f"SELECT 1 FROM {_quoted(table.name)} LIMIT 1")
        return cursor.fetchone() is None
    finally:
        cursor.close()


def _drop_sqlite_indexes(raw: sqlite3.Connection, table: sa.Table) -> list[str]:
    """Drop the table's explicit indexes; return the SQL that recreates them."""
    found = raw.execute(
        "SELECT name, sql FROM sqlite_master "
        "WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
        (table.name,),
    ).fetchall()
    for name, _ in found:
        raw.execute(f"DROP INDEX {_quoted(name)}")
    log.debug("rebuilding %s indexes of %s after the load", len(found), table.name)
    return [sql for _, sql in found]


def _drop_postgres_indexes_and_keys(raw: Any, table: sa.Table) -> list[str]:
    """Drop secondary indexes and foreign keys; return SQL that restores them.

    Primary keys and unique indexes stay, so duplicates still fail during the
    COPY. Re-adding a foreign key checks every row in one join, which is far
    cheaper than a trigger per row. NOTE: until the commit the table is locked
    exclusively, so readers wait; fine for seeding, not for a live database.
    """
    relation = _quoted(table.name)
    with raw.cursor() as cursor:
        cursor.execute(
            "SELECT i.relname, pg_get_indexdef(ix.indexrelid) "
            "FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid "
            "WHERE ix.indrelid = %s::regclass "
            "AND NOT ix.indisunique AND NOT ix.indisprimary",
            (relation,),
        )
        indexes = cursor.fetchall()
        cursor.execute(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = %s::regclass AND contype = 'f'",
            (relation,),
        )
        keys = cursor.fetchall()
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {_quoted(name)}")
        for name, _ in keys:
            cursor.execute(f"ALTER TABLE {relation} DROP CONSTRAINT {_quoted(name)}")
    log.debug(
        "rebuilding %s indexes and %s foreign keys of %s after the load",
        len(indexes),
        len(keys),
        table.name,
    )
    restore = [definition for _, definition in indexes]
    restore += [
        f"ALTER TABLE {relation} ADD CONSTRAINT {_quoted(name)} {definition}"
        for name, definition in keys
    ]
    return restore


def _sqlite_insert(
    raw: sqlite3.Connection, table: sa.Table, frame: pl.DataFrame, tally: _Tally
) -> None:
    """executemany with plain tuples, a chunk at a time."""
    columns = ", ".join(_quoted(column) for column in frame.columns)
    marks = ", ".join("?" for _ in frame.columns)
    statement = f"INSERT INTO {_quoted(table.name)} ({columns}) VALUES ({marks})"
    cursor = raw.cursor()
    try:
        for chunk in _chunks(frame, SQLITE_CHUNK_ROWS):
            text = _as_text_times(chunk, SQLITE_DATETIME)
            values = [series.to_list() for series in text.iter_columns()]
            rows = zip(*values, strict=True)
            cursor.executemany(statement, rows)
            tally.add(table.name, chunk.height)
    finally:
        cursor.close()


def _postgres_copy(
    raw: Any, table: sa.Table, frame: pl.DataFrame, tally: _Tally
) -> None:
    """COPY ... FROM STDIN in CSV, then move the id sequence past the new ids."""
    columns = ", ".join(_quoted(column) for column in frame.columns)
    statement = f"COPY {_quoted(table.name)} ({columns}) FROM STDIN (FORMAT csv)"
    with raw.cursor() as cursor:
        # The queued writer sends on a thread of its own, so the next chunk is
        # formatted while the server parses the previous one.
        with cursor.copy(statement, writer=QueuedLibpqWriter(cursor)) as copy:
            for chunk in _chunks(frame, COPY_CHUNK_ROWS):
                text = _as_text_times(chunk, POSTGRES_TIMESTAMPTZ)
                copy.write(text.write_csv(include_header=False))
                tally.add(table.name, chunk.height)
        if "id" in frame.columns and frame.height:
            cursor.execute(
                "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
                f"(SELECT max(id) FROM {_quoted(table.name)}))",
                (_quoted(table.name),),
            )


def _core_insert(
    connection: sa.Connection, table: sa.Table, frame: pl.DataFrame, tally: _Tally
) -> None:
    """Plain SQLAlchemy Core executemany, for databases without a fast path."""
    for chunk in _chunks(frame, CORE_CHUNK_ROWS):
        connection.execute(table.insert(), chunk.to_dicts())
        tally.add(table.name, chunk.height)


def bulk_insert(
    engine: sa.Engine,
    history: HasTables | Mapping[str, pl.DataFrame],
    *,
    progress: Progress | None = None,
) -> None:
    """Write every frame to its table in one transaction; nothing on failure.

    Parameters
    ----------
    engine
        Engine of a migrated database; the tables should be empty, since the
        frames carry their own ids.
    history
        A ``DemoHistory`` (anything with ``tables()``) or a mapping from table
        name to frame. Each frame must have exactly the table's columns;
        datetimes must be timezone-aware. Tables without a frame are skipped.
    progress
        Called after each chunk with the table name and the fraction of all
        rows written so far (0 to 1).
    """
    prepared = _prepared(history)
    tally = _Tally(sum(frame.height for _, frame in prepared), progress)
    dialect = engine.dialect
    started = time.perf_counter()

    with engine.begin() as connection:
        raw: Any = connection.connection.dbapi_connection
        if dialect.name == "sqlite" and isinstance(raw, sqlite3.Connection):
            with _as_sqlalchemy_errors(dialect, "bulk insert (sqlite executemany)"):
                _load_sqlite(raw, prepared, tally)
        elif dialect.name == "postgresql" and dialect.driver == "psycopg":
            with _as_sqlalchemy_errors(dialect, "bulk insert (postgresql COPY)"):
                for table, frame in prepared:
                    deferred = (
                        _drop_postgres_indexes_and_keys(raw, table)
                        if _worth_rebuilding(raw, table, frame)
                        else []
                    )
                    _timed(table, frame, lambda t, f: _postgres_copy(raw, t, f, tally))
                    for statement in deferred:
                        raw.execute(statement)
        else:
            log.warning(
                "no fast path for %s+%s; using plain inserts",
                dialect.name,
                dialect.driver,
            )
            for table, frame in prepared:
                _timed(table, frame, lambda t, f: _core_insert(connection, t, f, tally))
        # Caches key on the data version; the load is one write like any other.
        bump_data_version(connection=connection)
    log.info(
        "bulk insert of %s rows took %.1f s", tally.done, time.perf_counter() - started
    )


@contextmanager
def _as_sqlalchemy_errors(dialect: sa.Dialect, statement: str) -> Iterator[None]:
    """Re-raise driver errors from the raw fast paths as SQLAlchemy errors.

    Callers then catch ``sqlalchemy.exc.SQLAlchemyError`` (IntegrityError and
    so on) whichever path wrote the rows, as they would after a Core insert.
    """
    driver_error: type[Exception] = dialect.loaded_dbapi.Error
    try:
        yield
    except driver_error as error:
        raise sa.exc.DBAPIError.instance(
            statement, None, error, driver_error, dialect=dialect
        ) from error


def _load_sqlite(
    raw: sqlite3.Connection,
    prepared: list[tuple[sa.Table, pl.DataFrame]],
    tally: _Tally,
) -> None:
    """All SQLite inserts inside the caller's transaction, with a larger cache."""
    # The driver opens a transaction implicitly before the first INSERT, but not
    # when the engine runs it in autocommit mode; an explicit BEGIN keeps the
    # load all-or-nothing either way. SQLAlchemy's commit or rollback ends it.
    if not raw.in_transaction:
        raw.execute("BEGIN")
    (previous_cache,) = raw.execute("PRAGMA cache_size").fetchone() or (-2000,)
    raw.execute(f"PRAGMA cache_size = {-SQLITE_LOAD_CACHE_KIB}")
    try:
        for table, frame in prepared:
            deferred = (
                _drop_sqlite_indexes(raw, table)
                if _worth_rebuilding(raw, table, frame)
                else []
            )
            _timed(table, frame, lambda t, f: _sqlite_insert(raw, t, f, tally))
            for statement in deferred:
                raw.execute(statement)
    finally:
        raw.execute(f"PRAGMA cache_size = {int(previous_cache)}")


def _timed(
    table: sa.Table,
    frame: pl.DataFrame,
    insert: Callable[[sa.Table, pl.DataFrame], None],
) -> None:
    """Run one table's insert and log how long it took."""
    started = time.perf_counter()
    insert(table, frame)
    log.info(
        "inserted %s rows into %s in %.1f s",
        frame.height,
        table.name,
        time.perf_counter() - started,
    )
