"""Bulk insert of polars frames into the escalation tables, all or nothing.

No ORM objects are built. A SQLite file is loaded through ADBC, which binds
Arrow columns in C, inside one transaction on its own connection; PostgreSQL
with psycopg 3 gets binary ``COPY`` built column by column with Arrow, and the
id sequences are moved past the inserted ids. SQLite in memory (or without the
ADBC driver) goes through the driver's ``executemany``, and any other database
gets a plain Core insert.

Timestamps keep SQLAlchemy's own storage: SQLite text in its DATETIME format,
PostgreSQL ``timestamptz``; sqlmodel reads both back as aware UTC datetimes.
"""

import itertools
import logging
import os
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from typing import Any, Protocol

import adbc_driver_sqlite.dbapi as adbc_sqlite
import numpy as np
import numpy.typing as npt
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from psycopg.copy import QueuedLibpqWriter
from sqlmodel import SQLModel

from db.engine import SQLITE_BUSY_TIMEOUT_MS
from db.models import (
    Account,
    DataVersion,
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
ADBC_CHUNK_ROWS = 1_000_000
COPY_CHUNK_ROWS = 250_000
CORE_CHUNK_ROWS = 5_000
# From this many rows on, dropping a table's secondary indexes (and on PostgreSQL
# its keys) and rebuilding them after the load beats maintaining them row by
# row: five times faster on SQLite and twice on PostgreSQL at ten million rows.
REBUILD_FROM_ROWS = 100_000
# Page cache for the inserts, in KiB. Index builds get SQLite's default cache
# back: its sorter then merges many small sorted runs, which measured twice as
# fast as a few huge ones at ten million rows.
SQLITE_LOAD_CACHE_KIB = 64 * 1024
SQLITE_INDEX_CACHE_KIB = 2_000
# Page size given to a database that is still empty when a load starts, and the
# most a database may hold to count as empty (its schema, a few small rows).
SQLITE_PAGE_BYTES = 16_384
SQLITE_EMPTY_BYTES = 4 * 1024 * 1024
# Helper threads SQLite's sorter may use while building an index.
SQLITE_SORT_THREADS = 2
# Memory PostgreSQL may use, within the load's transaction only, to sort an
# index and to hash a parent table while re-checking a foreign key.
POSTGRES_MAINTENANCE_WORK_MEM = "1GB"
POSTGRES_WORK_MEM = "256MB"


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


Part = tuple[sa.Table, pl.DataFrame]


def _checked(name: str, frame: pl.DataFrame) -> Part:
    """The frame's table and the frame in the table's column order, or ValueError."""
    known = table_order()
    if name not in known:
        message = f"no table for frames {[name]}; known tables are {known}"
        raise ValueError(message)
    table = SQLModel.metadata.tables[name]
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
    return table, frame.select(wanted)


def _ordered(frames: Mapping[str, pl.DataFrame]) -> list[Part]:
    """Frames matched to their tables in insert order, columns checked and ordered."""
    known = table_order()
    unknown = sorted(set(frames) - set(known))
    if unknown:
        message = f"no table for frames {unknown}; known tables are {known}"
        raise ValueError(message)
    return [_checked(name, frames[name]) for name in known if name in frames]


def _streamed(parts: Iterable[tuple[str, pl.DataFrame]]) -> Iterator[Part]:
    """Each part checked as it arrives; a table's parts must come one after another."""
    finished: set[str] = set()
    current: str | None = None
    for name, frame in parts:
        if name != current:
            if name in finished:
                message = (
                    f"parts of table {name!r} must come one after another; "
                    f"it came back after {current!r}"
                )
                raise ValueError(message)
            if current is not None:
                finished.add(current)
            current = name
        yield _checked(name, frame)


def _by_table(
    parts: Iterable[Part],
) -> Iterator[tuple[sa.Table, pl.DataFrame, Iterator[pl.DataFrame]]]:
    """Per table: the table, its first part, and all its parts (the first again).

    Each table's parts must be read before the next table is asked for; what
    the caller leaves unread is skipped.
    """
    stream = iter(parts)
    upcoming = next(stream, None)
    while upcoming is not None:
        table, first = upcoming
        upcoming = None

        def frames(
            table: sa.Table = table, first: pl.DataFrame = first
        ) -> Iterator[pl.DataFrame]:
            nonlocal upcoming
            yield first
            for part in stream:
                if part[0].name != table.name:
                    upcoming = part
                    return
                yield part[1]

        these = frames()
        yield table, first, these
        for _ in these:
            pass


def _as_text_times(frame: pl.DataFrame, datetime_format: str) -> pl.DataFrame:
    """Datetimes as UTC text in ``datetime_format`` and dates as ISO text."""
    return frame.with_columns(
        pl.col(pl.Datetime).dt.convert_time_zone("UTC").dt.strftime(datetime_format),
        pl.col(pl.Date).dt.strftime(SQLITE_DATE),
    )


def _chunks(frames: Iterable[pl.DataFrame], size: int) -> Iterator[pl.DataFrame]:
    """Consecutive slices of at most ``size`` rows of each frame in turn."""
    for frame in frames:
        for offset in range(0, frame.height, size):
            yield frame.slice(offset, size)


def _peeked(
    frames: pl.DataFrame | Iterable[pl.DataFrame],
) -> tuple[pl.DataFrame | None, Iterator[pl.DataFrame]]:
    """The first frame (None if there is none) and an iterator over all of them.

    Every frame must have the first one's columns, in its order.
    """
    stream = iter([frames] if isinstance(frames, pl.DataFrame) else frames)
    first = next(stream, None)
    if first is None:
        return None, iter(())
    return first, itertools.chain([first], stream)


def _prefetched(
    frames: Iterable[pl.DataFrame], size: int, convert: Callable[[pl.DataFrame], Any]
) -> Iterator[tuple[int, Any]]:
    """Each chunk's row count and ``convert(chunk)``, the next one converted ahead.

    The conversion of chunk k + 1 runs on a helper thread while the caller
    writes chunk k, so a second core formats while the first one inserts.
    """
    with ThreadPoolExecutor(max_workers=1) as helper:
        chunks = _chunks(frames, size)
        first = next(chunks, None)
        if first is None:
            return
        pending = (first.height, helper.submit(convert, first))
        for chunk in chunks:
            height, ready = pending
            pending = (chunk.height, helper.submit(convert, chunk))
            yield height, ready.result()
        yield pending[0], pending[1].result()


def _quoted(name: str) -> str:
    """A double-quoted SQL identifier (a few column names are keywords)."""
    return '"' + name.replace('"', '""') + '"'


class Tally:
    """Counts rows written and reports the overall fraction done.

    ``total`` may be an estimate (a streamed load knows its size only at the
    end); the fraction reported never passes 1.
    """

    def __init__(self, total: int, progress: Progress | None) -> None:
        self.total = max(total, 1)
        self.done = 0
        self.progress = progress

    def add(self, table: str, rows: int) -> None:
        """Record ``rows`` more rows written to ``table``."""
        self.done += rows
        if self.progress is not None:
            self.progress(table, min(self.done / self.total, 1.0))


def worth_rebuilding(raw: Any, table: sa.Table, frame: pl.DataFrame) -> bool:
    """Whether to rebuild the table's indexes after the load: big load, empty table.

    ``frame`` is the table's first (or only) part. A table that already has
    rows keeps its indexes, since rebuilding would re-sort the rows that were
    there too.
    """
    if frame.height < REBUILD_FROM_ROWS:
        return False
    cursor = raw.cursor()
    try:
        cursor.execute(f"SELECT 1 FROM {_quoted(table.name)} LIMIT 1")
        return cursor.fetchone() is None
    finally:
        cursor.close()


def _timed(table: sa.Table, write: Callable[[], int]) -> None:
    """Run one table's insert, which returns its row count, and log how long it took."""
    started = time.perf_counter()
    rows = write()
    log.info(
        "inserted %s rows into %s in %.1f s",
        rows,
        table.name,
        time.perf_counter() - started,
    )


def _timed_statements(
    execute: Callable[[str], object], statements: list[str], what: str
) -> None:
    """Run rebuild statements, each timed at debug level, the whole at info level."""
    if not statements:
        return
    started = time.perf_counter()
    for statement in statements:
        began = time.perf_counter()
        execute(statement)
        log.debug("%.1f s: %s", time.perf_counter() - began, statement)
    log.info(
        "rebuilt %s %s in %.1f s", len(statements), what, time.perf_counter() - started
    )


@dataclass(frozen=True)
class ForeignKey:
    """One foreign key of a table: its columns and the parent columns they name."""

    columns: tuple[str, ...]
    parent: str
    parent_columns: tuple[str, ...]


def _kept_columns(table: sa.Table) -> list[str]:
    """The columns of ``table`` that a foreign key check may need.

    Its own foreign key columns, and the columns other tables' keys point at.
    """
    wanted = {element.parent.name for element in table.foreign_keys}
    for other in SQLModel.metadata.tables.values():
        for element in other.foreign_keys:
            if element.column.table.name == table.name:
                wanted.add(element.column.name)
    return [column.name for column in table.columns if column.name in wanted]


class LoadedKeys:
    """The key columns of every part written, for a foreign key check at the end.

    Only the columns a foreign key uses are kept (for the signal table: two
    integer columns of its nine), so the check needs no second read of the
    rows and holds little memory.
    """

    def __init__(self) -> None:
        self._parts: dict[str, list[pl.DataFrame]] = {}

    def keep(self, table: sa.Table, frame: pl.DataFrame) -> None:
        """Remember the key columns of one part of ``table``."""
        columns = [c for c in _kept_columns(table) if c in frame.columns]
        self._parts.setdefault(table.name, []).append(frame.select(columns))

    def frame(self, name: str) -> pl.DataFrame | None:
        """All kept columns of table ``name``, or None if it was not written."""
        parts = self._parts.get(name)
        if parts is None:
            return None
        if len(parts) > 1:
            # A parent is asked for by each of its children: join its parts once.
            parts[:] = [pl.concat(parts, how="vertical")]
        return parts[0]

    def unproven(self, name: str, keys: list[ForeignKey]) -> list[ForeignKey]:
        """The keys of table ``name`` that this load alone cannot show to hold.

        A key holds when every non-null value of the table's rows is among
        its parent's rows in this load. Parents outside the load, composite
        keys and columns not kept are left to the database to check.
        """
        frame = self.frame(name)
        if frame is None:
            return []
        unproven: list[ForeignKey] = []
        for key in keys:
            parent = self.frame(key.parent)
            if (
                len(key.columns) != 1
                or parent is None
                or key.columns[0] not in frame.columns
                or key.parent_columns[0] not in parent.columns
            ):
                unproven.append(key)
                continue
            values = frame.get_column(key.columns[0]).drop_nulls()
            known = parent.get_column(key.parent_columns[0]).implode()
            if not values.is_in(known).all():
                unproven.append(key)
        return unproven


# --- SQLite -------------------------------------------------------------------


def drop_sqlite_indexes(raw: Any, table: sa.Table) -> list[str]:
    """Drop the table's explicit indexes; return the SQL that recreates them."""
    cursor = raw.cursor()
    try:
        cursor.execute(
            "SELECT name, sql FROM sqlite_master "
            "WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL",
            (table.name,),
        )
        found = cursor.fetchall()
        for name, _ in found:
            cursor.execute(f"DROP INDEX {_quoted(name)}")
    finally:
        cursor.close()
    log.debug("rebuilding %s indexes of %s after the load", len(found), table.name)
    return [sql for _, sql in found]


def sqlite_insert(
    raw: sqlite3.Connection,
    table: sa.Table,
    frames: pl.DataFrame | Iterable[pl.DataFrame],
    tally: Tally,
) -> int:
    """executemany with plain tuples, a chunk at a time; returns the rows written."""
    first, frames = _peeked(frames)
    if first is None:
        return 0
    columns = ", ".join(_quoted(column) for column in first.columns)
    marks = ", ".join("?" for _ in first.columns)
    statement = f"INSERT INTO {_quoted(table.name)} ({columns}) VALUES ({marks})"
    written = 0
    cursor = raw.cursor()
    try:
        for chunk in _chunks(frames, SQLITE_CHUNK_ROWS):
            text = _as_text_times(chunk, SQLITE_DATETIME)
            values = [series.to_list() for series in text.iter_columns()]
            rows = zip(*values, strict=True)
            cursor.executemany(statement, rows)
            written += chunk.height
            tally.add(table.name, chunk.height)
    finally:
        cursor.close()
    return written


def _load_sqlite(raw: sqlite3.Connection, parts: Iterable[Part], tally: Tally) -> None:
    """All SQLite inserts inside the caller's transaction, with a larger cache."""
    # The driver opens a transaction implicitly before the first INSERT, but not
    # when the engine runs it in autocommit mode; an explicit BEGIN keeps the
    # load all-or-nothing either way. SQLAlchemy's commit or rollback ends it.
    if not raw.in_transaction:
        raw.execute("BEGIN")
    (previous_cache,) = raw.execute("PRAGMA cache_size").fetchone() or (-2000,)
    raw.execute(f"PRAGMA cache_size = {-SQLITE_LOAD_CACHE_KIB}")
    try:
        for table, first, frames in _by_table(parts):
            deferred = (
                drop_sqlite_indexes(raw, table)
                if worth_rebuilding(raw, table, first)
                else []
            )
            _timed(table, partial(sqlite_insert, raw, table, frames, tally))
            for statement in deferred:
                raw.execute(statement)
    finally:
        raw.execute(f"PRAGMA cache_size = {int(previous_cache)}")


def _sqlite_file(engine: sa.Engine) -> str | None:
    """Absolute path of the engine's SQLite file; None for memory or URI names."""
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return os.path.abspath(database)


def _pragma(cursor: Any, setting: str) -> Any:
    """Run ``PRAGMA setting`` and return the first value it answers, if any."""
    cursor.execute(f"PRAGMA {setting}")
    row = cursor.fetchone()
    return None if row is None else row[0]


def _broken_check(table: sa.Table, frame: pl.DataFrame) -> tuple[str | None, bool]:
    """A CHECK constraint some row of ``frame`` breaks, and whether one is unread.

    The constraints are SQL; polars evaluates simple ones directly on the
    frame, in a fraction of a second where SQLite would re-read the table.
    The second value says that some constraint was beyond polars, to be left
    to SQLite's own check of the table. A row breaks a CHECK only when it is
    false, not when it is NULL.
    """
    unread = False
    for constraint in table.constraints:
        if not isinstance(constraint, sa.CheckConstraint):
            continue
        condition = str(constraint.sqltext)
        try:
            broken = frame.sql(f"SELECT count(*) FROM self WHERE NOT ({condition})")
        except pl.exceptions.PolarsError:
            log.debug("SQLite checks %s of %s itself", constraint.name, table.name)
            unread = True
            continue
        if broken.item() > 0:
            return str(constraint.name or condition), unread
    return None, unread


def _sqlite_foreign_keys(cursor: Any, table: sa.Table) -> list[ForeignKey]:
    """The foreign keys SQLite knows for ``table``."""
    cursor.execute(f"PRAGMA foreign_key_list({_quoted(table.name)})")
    grouped: dict[int, list[tuple[str, str, str | None]]] = {}
    for row in cursor.fetchall():
        grouped.setdefault(row[0], []).append((row[2], row[3], row[4]))
    return [
        ForeignKey(
            columns=tuple(column for _, column, _ in pairs),
            parent=pairs[0][0],
            parent_columns=tuple(parent or "" for _, _, parent in pairs),
        )
        for pairs in grouped.values()
    ]


def _version_bump(dialect: sa.Dialect) -> tuple[str, list[Any]]:
    """The data version bump as plain SQL, for a connection outside SQLAlchemy.

    NOTE: this mirrors db.version.bump_data_version, which needs a SQLAlchemy
    connection; the time goes through the column's own type, so it is stored
    exactly as SQLAlchemy would store it.
    """
    version = DataVersion.__table__  # type: ignore[attr-defined]
    changed_at = version.c.changed_at
    process = changed_at.type.bind_processor(dialect)
    now = datetime.now(UTC)
    stamp = process(now) if process is not None else now
    # A bulk load writes the history: both counters move.
    counters = (version.c.version.name, version.c.history_version.name)
    times = (changed_at.name, version.c.history_changed_at.name)
    assignments = ", ".join(
        [f"{_quoted(name)} = {_quoted(name)} + 1" for name in counters]
        + [f"{_quoted(name)} = ?" for name in times]
    )
    statement = (
        f"UPDATE {_quoted(version.name)} SET {assignments} "
        f"WHERE {_quoted(version.c.id.name)} = 1"
    )
    return statement, [stamp, stamp]


@contextmanager
def _adbc_errors(statement: str) -> Iterator[None]:
    """Re-raise ADBC driver errors as SQLAlchemy errors, constraint failures first."""
    try:
        yield
    except adbc_sqlite.Error as error:
        if "constraint failed" in str(error):
            raise sa.exc.IntegrityError(statement, None, error) from error
        raise sa.exc.DBAPIError(statement, None, error) from error


def _integrity_error(statement: str, message: str) -> sa.exc.IntegrityError:
    """A SQLAlchemy IntegrityError for a violation found by a check of our own."""
    return sa.exc.IntegrityError(statement, None, ValueError(message))


def _orphan_error(table: sa.Table, row: str, parent: str) -> sa.exc.IntegrityError:
    """The IntegrityError for a row of ``table`` with no parent in ``parent``."""
    message = (
        f"FOREIGN KEY constraint failed: {table.name} {row} has no parent in {parent}"
    )
    return _integrity_error(f"bulk insert into {table.name}", message)


def _load_sqlite_adbc(
    engine: sa.Engine, path: str, parts: Iterable[Part], tally: Tally
) -> None:
    """Load a SQLite file through ADBC in one transaction on its own connection.

    For the load only: the rollback journal instead of WAL, so the pages are
    written once rather than to the WAL and again at the checkpoint; no fsync,
    which the rollback journal makes safe against a failed or killed load,
    though not against a power cut during it; and no per-row CHECK or
    foreign-key work, both verified for the whole load before the commit.
    """
    # NOTE: ADBC brings its own copy of SQLite, and two copies in one process do
    # not see each other's file locks. Closing the pooled connections first
    # leaves this one alone on the file here; other processes are locked out
    # as usual. Do not use the engine from another thread during the load.
    engine.dispose()
    connection = adbc_sqlite.connect(path, autocommit=True)
    cursor = connection.cursor()
    try:
        with _adbc_errors("bulk insert (sqlite ADBC)"):
            _pragma(cursor, f"busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
            previous_mode = str(_pragma(cursor, "journal_mode"))
            mode = _switch_journal(cursor, "delete")
            if mode == "delete":
                _enlarge_pages_if_empty(cursor)
            for setting in (
                "foreign_keys = OFF",
                "ignore_check_constraints = ON",
                "synchronous = OFF",
                f"threads = {SQLITE_SORT_THREADS}",
            ):
                _pragma(cursor, setting)
            try:
                _adbc_transaction(connection, engine.dialect, parts, tally)
            finally:
                if mode != previous_mode:
                    _switch_journal(cursor, previous_mode)
    finally:
        cursor.close()
        connection.close()


def _enlarge_pages_if_empty(cursor: Any) -> None:
    """Give a database that holds next to nothing larger pages before the load.

    With 16 KiB pages instead of 4 KiB the load measured a sixth faster at
    ten million signals (fewer pages to fill, split and sort into indexes),
    and whole-table reads get cheaper too. VACUUM rewrites the file, which is
    instant only while it is nearly empty, so a database with data keeps its
    pages. NOTE: this outlives the load; every later write uses the new size.
    """
    page_size = int(_pragma(cursor, "page_size"))
    pages = int(_pragma(cursor, "page_count"))
    if page_size >= SQLITE_PAGE_BYTES or pages * page_size > SQLITE_EMPTY_BYTES:
        return
    _pragma(cursor, f"page_size = {SQLITE_PAGE_BYTES}")
    cursor.execute("VACUUM")
    log.info("page size of the new database set to %s bytes", SQLITE_PAGE_BYTES)


def _switch_journal(cursor: Any, wanted: str) -> str:
    """Set the journal mode if SQLite allows it now; return the mode in force."""
    try:
        mode = str(_pragma(cursor, f"journal_mode = {wanted}")).lower()
    except adbc_sqlite.Error:
        mode = str(_pragma(cursor, "journal_mode")).lower()
    if mode != wanted.lower():
        log.info("journal mode stays %s: other connections hold the file", mode)
    return mode


def _adbc_transaction(
    connection: Any, dialect: sa.Dialect, parts: Iterable[Part], tally: Tally
) -> None:
    """The whole SQLite load as one transaction, rolled back on any failure."""
    cursor = connection.cursor()
    try:
        cursor.execute("BEGIN IMMEDIATE")
        try:
            _adbc_statements(connection, cursor, parts, tally)
            cursor.execute(*_version_bump(dialect))
        except BaseException:
            try:
                cursor.execute("ROLLBACK")
            except adbc_sqlite.Error:
                # SQLite ends the transaction itself after some errors (a full
                # disk).
                log.debug("no transaction left to roll back", exc_info=True)
            raise
        cursor.execute("COMMIT")
    finally:
        cursor.close()


def _adbc_statements(
    connection: Any, cursor: Any, parts: Iterable[Part], tally: Tally
) -> None:
    """Insert each table, rebuild its indexes once it is complete, then verify.

    A table's indexes are rebuilt as soon as its last part is in, so on a
    streamed load SQLite sorts them while the next table is still being made.
    CHECK constraints are verified part by part as the rows pass, foreign
    keys once every table is in.
    """
    keys = LoadedKeys()
    unread_checks: list[sa.Table] = []

    def verified(table: sa.Table, frames: Iterable[pl.DataFrame]) -> Iterator[Any]:
        for frame in frames:
            broken, unread = _broken_check(table, frame)
            if broken is not None:
                message = f"CHECK constraint failed: {table.name}.{broken}"
                raise _integrity_error(f"bulk insert into {table.name}", message)
            if unread and table not in unread_checks:
                unread_checks.append(table)
            keys.keep(table, frame)
            yield frame

    loaded: list[sa.Table] = []
    for table, first, frames in _by_table(parts):
        rebuild = (
            drop_sqlite_indexes(connection, table)
            if worth_rebuilding(connection, table, first)
            else []
        )
        _pragma(cursor, f"cache_size = {-SQLITE_LOAD_CACHE_KIB}")
        _timed(
            table, partial(_adbc_ingest, cursor, table, verified(table, frames), tally)
        )
        _pragma(cursor, f"cache_size = {-SQLITE_INDEX_CACHE_KIB}")
        _timed_statements(cursor.execute, rebuild, f"indexes of {table.name}")
        loaded.append(table)

    for table in unread_checks:
        _pragma(cursor, "ignore_check_constraints = OFF")
        verdict = _pragma(cursor, f"quick_check({_quoted(table.name)})")
        _pragma(cursor, "ignore_check_constraints = ON")
        if verdict != "ok":
            message = f"CHECK constraint failed: {table.name}: {verdict}"
            raise _integrity_error(f"bulk insert into {table.name}", message)
    for table in loaded:
        if keys.unproven(table.name, _sqlite_foreign_keys(cursor, table)):
            cursor.execute(f"PRAGMA foreign_key_check({_quoted(table.name)})")
            orphan = cursor.fetchone()
            if orphan is not None:
                raise _orphan_error(table, f"row {orphan[1]}", orphan[2])


def _adbc_ingest(
    cursor: Any, table: sa.Table, frames: Iterable[pl.DataFrame], tally: Tally
) -> int:
    """Append the frames through ADBC in chunks, the next one formatted meanwhile."""

    def arrow(chunk: pl.DataFrame) -> pa.Table:
        return _as_text_times(chunk, SQLITE_DATETIME).to_arrow()

    written = 0
    for height, batch in _prefetched(frames, ADBC_CHUNK_ROWS, arrow):
        cursor.adbc_ingest(table.name, batch, mode="append")
        written += height
        tally.add(table.name, height)
    return written


# --- PostgreSQL ---------------------------------------------------------------

# Binary COPY: an 11-byte signature, a flags word and an empty header extension;
# then per row a field count and, per field, a byte length (-1 for NULL) and the
# value in network byte order; then -1 as the field count.
_COPY_SIGNATURE = b"PGCOPY\n\xff\r\n\x00" + bytes(8)
_COPY_TRAILER = b"\xff\xff"
_NULL_FIELD = b"\xff\xff\xff\xff"
# PostgreSQL counts days and microseconds from 2000-01-01.
_POSTGRES_EPOCH_DAYS = 10_957
_POSTGRES_EPOCH_US = _POSTGRES_EPOCH_DAYS * 86_400 * 1_000_000
# Server type name to the big-endian numpy type its binary value is written as.
_FIXED_WIDTH = {
    "int2": ">i2",
    "int4": ">i4",
    "int8": ">i8",
    "float4": ">f4",
    "float8": ">f8",
    "bool": ">u1",
    "date": ">i4",
    "timestamp": ">i8",
    "timestamptz": ">i8",
}
_TEXT_TYPES = {"text", "varchar", "bpchar"}


def _drop_postgres_indexes_and_keys(
    raw: Any, table: sa.Table, *, foreign_keys: bool
) -> list[str]:
    """Drop indexes and constraints the load can rebuild; return SQL that restores them.

    Secondary indexes, the primary key and unique constraints that no foreign
    key leans on, and (with ``foreign_keys``) the table's foreign keys are
    rebuilt after the load: a sort per index and one join per foreign key are
    far cheaper than upkeep per row, and re-adding a key still fails on a
    duplicate or an orphan. NOTE: until the commit the table is locked
    exclusively, so readers wait; fine for seeding, not for a live database.
    """
    relation = _quoted(table.name)
    with raw.cursor() as cursor:
        cursor.execute(
            "SELECT c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
            "WHERE c.conrelid = %s::regclass AND ((c.contype = 'f' AND %s) OR ("
            "c.contype IN ('p', 'u') AND NOT EXISTS (SELECT 1 FROM pg_constraint r "
            "WHERE r.contype = 'f' AND r.conindid = c.conindid))) "
            "ORDER BY c.contype <> 'f'",
            (relation, foreign_keys),
        )
        constraints = cursor.fetchall()
        cursor.execute(
            "SELECT i.relname, pg_get_indexdef(ix.indexrelid) "
            "FROM pg_index ix JOIN pg_class i ON i.oid = ix.indexrelid "
            "WHERE ix.indrelid = %s::regclass AND NOT EXISTS ("
            "SELECT 1 FROM pg_constraint c WHERE c.conindid = ix.indexrelid)",
            (relation,),
        )
        indexes = cursor.fetchall()
        for name, _ in constraints:
            cursor.execute(f"ALTER TABLE {relation} DROP CONSTRAINT {_quoted(name)}")
        for name, _ in indexes:
            cursor.execute(f"DROP INDEX {_quoted(name)}")
    log.debug(
        "rebuilding %s indexes and %s constraints of %s after the load",
        len(indexes),
        len(constraints),
        table.name,
    )
    restore = [
        f"ALTER TABLE {relation} ADD CONSTRAINT {_quoted(name)} {definition}"
        for name, definition in constraints
    ]
    return restore + [definition for _, definition in indexes]


def _server_types(raw: Any, table: sa.Table) -> dict[str, str]:
    """Each column's type name on the server, such as int4 or timestamptz."""
    with raw.cursor() as cursor:
        cursor.execute(
            "SELECT a.attname, t.typname FROM pg_attribute a "
            "JOIN pg_type t ON t.oid = a.atttypid "
            "WHERE a.attrelid = %s::regclass AND a.attnum > 0 AND NOT a.attisdropped",
            (_quoted(table.name),),
        )
        return dict(cursor.fetchall())


def _fixed_fields(values: npt.NDArray[Any], wire: str) -> pa.Array:
    """Length-prefixed big-endian values, one binary field per row."""
    width = np.dtype(wire).itemsize
    fields = np.empty((values.size, 4 + width), dtype=np.uint8)
    fields[:, :4] = np.frombuffer(np.array([width], ">i4").tobytes(), np.uint8)
    fields[:, 4:] = values.astype(wire).view(np.uint8).reshape(values.size, width)
    buffer = pa.py_buffer(fields)
    fixed = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(4 + width), values.size, [None, buffer]
    )
    return fixed.cast(pa.large_binary())


def _length_prefixes(lengths: npt.NDArray[np.int64]) -> pa.Array:
    """Four-byte big-endian lengths, one binary value per row."""
    buffer = pa.py_buffer(lengths.astype(">i4"))
    fixed = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(4), lengths.size, [None, buffer]
    )
    return fixed.cast(pa.large_binary())


def _binary_column(series: pl.Series, server_type: str) -> pa.Array:
    """One column as binary COPY fields: a length, then the value or nothing."""
    if server_type in _TEXT_TYPES:
        values = series.cast(pl.String).to_arrow().cast(pa.large_binary())
        lengths = pc.binary_length(values).fill_null(0).to_numpy(zero_copy_only=False)
        fields = pc.binary_join_element_wise(
            _length_prefixes(lengths.astype(np.int64)),
            values,
            pa.scalar(b"", pa.large_binary()),
        )
    else:
        if server_type in ("timestamp", "timestamptz"):
            numbers = series.dt.epoch("us") - _POSTGRES_EPOCH_US
        elif server_type == "date":
            numbers = series.cast(pl.Int32) - _POSTGRES_EPOCH_DAYS
        else:
            numbers = series
        plain = numbers.fill_null(0).to_numpy()
        fields = _fixed_fields(plain, _FIXED_WIDTH[server_type])
    if series.null_count():
        null = pa.scalar(_NULL_FIELD, pa.large_binary())
        fields = pc.if_else(series.is_null().to_arrow(), null, fields)
    return fields


def _binary_rows(frame: pl.DataFrame, types: Mapping[str, str]) -> memoryview:
    """The rows of ``frame`` in PostgreSQL's binary COPY layout, back to back."""
    count = np.frombuffer(np.array([frame.width], ">i2").tobytes(), np.uint8)
    starts = pa.FixedSizeBinaryArray.from_buffers(
        pa.binary(2), frame.height, [None, pa.py_buffer(np.tile(count, frame.height))]
    ).cast(pa.large_binary())
    fields = [_binary_column(frame.get_column(c), types[c]) for c in frame.columns]
    rows = pc.binary_join_element_wise(
        starts, *fields, pa.scalar(b"", pa.large_binary())
    )
    offsets = np.frombuffer(
        rows.buffers()[1], np.int64, frame.height + 1, rows.offset * 8
    )
    return memoryview(rows.buffers()[2])[offsets[0] : offsets[-1]]


def _move_sequence(raw: Any, table: sa.Table) -> None:
    """Move the table's id sequence past the largest id, if it has one."""
    if "id" not in table.columns:
        return
    with raw.cursor() as cursor:
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'), "
            f"(SELECT max(id) FROM {_quoted(table.name)}))",
            (_quoted(table.name),),
        )


def postgres_copy(
    raw: Any,
    table: sa.Table,
    frames: pl.DataFrame | Iterable[pl.DataFrame],
    tally: Tally,
    *,
    move_sequence: bool = True,
) -> int:
    """COPY ... FROM STDIN of one or more frames; returns the rows written.

    Binary when every column has a type encoded here (the server then parses
    no text at all: twice as fast), CSV otherwise. With ``move_sequence`` the
    id sequence is then moved past the new ids.
    """
    first, frames = _peeked(frames)
    if first is None:
        return 0
    names = first.columns
    columns = ", ".join(_quoted(name) for name in names)
    types = _server_types(raw, table)
    binary = all(
        types.get(c) in _TEXT_TYPES or types.get(c) in _FIXED_WIDTH for c in names
    )
    options = "FORMAT binary" if binary else "FORMAT csv"
    statement = f"COPY {_quoted(table.name)} ({columns}) FROM STDIN ({options})"

    def encoded(chunk: pl.DataFrame) -> str | memoryview:
        if binary:
            return _binary_rows(chunk, types)
        return _as_text_times(chunk, POSTGRES_TIMESTAMPTZ).write_csv(
            include_header=False
        )

    written = 0
    # The queued writer sends on a thread of its own, and the next chunk is
    # encoded on another, so the server never waits for the client.
    with (
        raw.cursor() as cursor,
        cursor.copy(statement, writer=QueuedLibpqWriter(cursor)) as copy,
    ):
        if binary:
            copy.write(_COPY_SIGNATURE)
        for height, data in _prefetched(frames, COPY_CHUNK_ROWS, encoded):
            copy.write(data)
            written += height
            tally.add(table.name, height)
        if binary:
            copy.write(_COPY_TRAILER)
    if move_sequence and written:
        _move_sequence(raw, table)
    return written


def _may_skip_key_triggers(raw: Any) -> bool:
    """Turn off the per-row foreign key triggers for this transaction, if allowed.

    ``session_replication_role = replica`` is what logical replication uses
    to apply rows whose parents it trusts; it needs a superuser. The load then
    verifies every key itself before the commit (see ``LoadedKeys``), so the
    keys stay in place and valid instead of being dropped and re-checked with
    a join over every row.
    """
    with raw.cursor() as cursor:
        cursor.execute("SELECT current_setting('is_superuser') = 'on'")
        row = cursor.fetchone()
        if row is None or not row[0]:
            log.info("not a superuser: foreign keys are dropped and re-added instead")
            return False
        cursor.execute("SET LOCAL session_replication_role = replica")
    return True


def _postgres_foreign_keys(raw: Any, table: sa.Table) -> list[ForeignKey]:
    """The foreign keys PostgreSQL knows for ``table``."""
    with raw.cursor() as cursor:
        cursor.execute(
            "SELECT p.relname, "
            "array(SELECT a.attname FROM unnest(c.conkey) WITH ORDINALITY k(n, i) "
            "JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.n "
            "ORDER BY k.i), "
            "array(SELECT a.attname FROM unnest(c.confkey) WITH ORDINALITY k(n, i) "
            "JOIN pg_attribute a ON a.attrelid = c.confrelid AND a.attnum = k.n "
            "ORDER BY k.i) "
            "FROM pg_constraint c JOIN pg_class p ON p.oid = c.confrelid "
            "WHERE c.conrelid = %s::regclass AND c.contype = 'f'",
            (_quoted(table.name),),
        )
        return [
            ForeignKey(tuple(columns), parent, tuple(parent_columns))
            for parent, columns, parent_columns in cursor.fetchall()
        ]


def _postgres_orphan_check(raw: Any, table: sa.Table, key: ForeignKey) -> None:
    """Raise IntegrityError if a row of ``table`` has no parent under ``key``."""
    child = [f"c.{_quoted(column)}" for column in key.columns]
    parent = [f"p.{_quoted(column)}" for column in key.parent_columns]
    present = " AND ".join(f"{column} IS NOT NULL" for column in child)
    matched = " AND ".join(f"{a} = {b}" for a, b in zip(parent, child, strict=True))
    statement = (
        f"SELECT {', '.join(child)} FROM {_quoted(table.name)} c WHERE {present} "
        f"AND NOT EXISTS (SELECT 1 FROM {_quoted(key.parent)} p WHERE {matched}) "
        "LIMIT 1"
    )
    with raw.cursor() as cursor:
        cursor.execute(statement)
        orphan = cursor.fetchone()
    if orphan is not None:
        raise _orphan_error(table, f"{key.columns} = {orphan}", key.parent)


def _load_postgres(raw: Any, parts: Iterable[Part], tally: Tally) -> None:
    """All PostgreSQL COPYs inside the caller's transaction, keys rebuilt per table.

    A table's indexes and keys are rebuilt as soon as its last part is in, so
    on a streamed load the server sorts them while the next table is still
    being made. Foreign keys are either kept and verified at the end (as a
    superuser) or dropped and re-added once every table is in.
    """
    with raw.cursor() as cursor:
        cursor.execute(
            f"SET LOCAL maintenance_work_mem = '{POSTGRES_MAINTENANCE_WORK_MEM}'"
        )
        cursor.execute(f"SET LOCAL work_mem = '{POSTGRES_WORK_MEM}'")
    keep_foreign_keys = _may_skip_key_triggers(raw)
    keys = LoadedKeys()

    def kept(table: sa.Table, frames: Iterable[pl.DataFrame]) -> Iterator[Any]:
        for frame in frames:
            keys.keep(table, frame)
            yield frame

    loaded: list[sa.Table] = []
    add_foreign_keys: list[str] = []
    for table, first, frames in _by_table(parts):
        rebuild = (
            _drop_postgres_indexes_and_keys(
                raw, table, foreign_keys=not keep_foreign_keys
            )
            if worth_rebuilding(raw, table, first)
            else []
        )
        _timed(
            table,
            partial(
                postgres_copy,
                raw,
                table,
                kept(table, frames),
                tally,
                move_sequence=False,
            ),
        )
        now = [statement for statement in rebuild if " FOREIGN KEY " not in statement]
        add_foreign_keys += [s for s in rebuild if " FOREIGN KEY " in s]
        _timed_statements(raw.execute, now, f"keys and indexes of {table.name}")
        _move_sequence(raw, table)
        loaded.append(table)

    _timed_statements(raw.execute, add_foreign_keys, "foreign keys")
    if keep_foreign_keys:
        started = time.perf_counter()
        for table in loaded:
            for key in keys.unproven(table.name, _postgres_foreign_keys(raw, table)):
                _postgres_orphan_check(raw, table, key)
        log.info("verified foreign keys in %.1f s", time.perf_counter() - started)


def core_insert(
    connection: sa.Connection,
    table: sa.Table,
    frames: pl.DataFrame | Iterable[pl.DataFrame],
    tally: Tally,
) -> int:
    """Plain SQLAlchemy Core executemany, for databases without a fast path."""
    if isinstance(frames, pl.DataFrame):
        frames = [frames]
    written = 0
    for chunk in _chunks(frames, CORE_CHUNK_ROWS):
        connection.execute(table.insert(), chunk.to_dicts())
        written += chunk.height
        tally.add(table.name, chunk.height)
    return written


def bulk_insert(
    engine: sa.Engine,
    history: HasTables
    | Mapping[str, pl.DataFrame]
    | Iterable[tuple[str, pl.DataFrame]],
    *,
    progress: Progress | None = None,
    expected_rows: int | None = None,
) -> None:
    """Write every frame to its table in one transaction; nothing on failure.

    Parameters
    ----------
    engine
        Engine of a migrated database; the tables should be empty, since the
        frames carry their own ids. On a SQLite file the engine's idle pooled
        connections are closed first (see ``_load_sqlite_adbc``).
    history
        A ``DemoHistory`` (anything with ``tables()``), a mapping from table
        name to frame, or a stream of ``(table name, frame)`` parts, such as
        ``seed_data.generate.history_parts``, written as they arrive. A
        stream must bring parents before children and a table's parts one
        after another. Each frame must have exactly the table's columns;
        datetimes must be timezone-aware. Tables without a frame are skipped.
    progress
        Called after each chunk with the table name and the fraction of all
        rows written so far (0 to 1).
    expected_rows
        For a stream, about how many rows it brings, for ``progress``.
    """
    parts: Iterable[Part]
    if hasattr(history, "tables") or isinstance(history, Mapping):
        frames = history.tables() if hasattr(history, "tables") else history
        ordered = _ordered(frames)
        parts = ordered
        total = sum(frame.height for _, frame in ordered)
    else:
        parts = _streamed(history)
        total = expected_rows or 0
    tally = Tally(total, progress)
    dialect = engine.dialect
    started = time.perf_counter()

    sqlite_path = _sqlite_file(engine) if dialect.name == "sqlite" else None
    if sqlite_path is not None:
        _load_sqlite_adbc(engine, sqlite_path, parts, tally)
    else:
        with engine.begin() as connection:
            raw: Any = connection.connection.dbapi_connection
            if dialect.name == "sqlite" and isinstance(raw, sqlite3.Connection):
                with as_sqlalchemy_errors(dialect, "bulk insert (sqlite executemany)"):
                    _load_sqlite(raw, parts, tally)
            elif dialect.name == "postgresql" and dialect.driver == "psycopg":
                with as_sqlalchemy_errors(dialect, "bulk insert (postgresql COPY)"):
                    _load_postgres(raw, parts, tally)
            else:
                log.warning(
                    "no fast path for %s+%s; using plain inserts",
                    dialect.name,
                    dialect.driver,
                )
                for table, _, table_frames in _by_table(parts):
                    _timed(
                        table,
                        partial(core_insert, connection, table, table_frames, tally),
                    )
            # Caches key on the data version; the load is one write like any other.
            bump_data_version(connection=connection, history=True)
    log.info(
        "bulk insert of %s rows took %.1f s", tally.done, time.perf_counter() - started
    )


@contextmanager
def as_sqlalchemy_errors(dialect: sa.Dialect, statement: str) -> Iterator[None]:
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
