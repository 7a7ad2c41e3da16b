"""A columnar copy of the escalation history, kept in step with the database.

The copy holds the escalations (every column ``db.queries.load_escalations``
reads) and, in a file of its own, their level changes.

Reading a million escalations row by row out of the database takes tens of
seconds; reading the same columns from a Parquet file takes tens of
milliseconds. The copy is keyed on the database's identity and on its history
version (the number and the moment it last changed), which every write to
accounts, escalations, level changes or signals bumps in its own transaction: such
a write makes the next read reload once, a logged fix or a review leaves the copy
alone, and a restored backup whose counter happens to match an old copy is still
told apart by the moment.

The key and the rows are read in one transaction (a single read transaction on
SQLite, REPEATABLE READ on PostgreSQL), so a copy never holds rows newer or older
than its key. The rows come in column by column where the driver allows it:
through ADBC, in a helper process, from a SQLite file of at least
``SQLITE_CHILD_FROM_ROWS`` escalations, and through ``COPY ... TO STDOUT`` from
PostgreSQL with psycopg; both are several times faster than building a Python
object per value. Anything else, or any failure there, falls back to the
row-by-row loaders of :mod:`db.queries`. Trouble with the cache folder (not
writable, a corrupt file) is logged as a warning and the rows come straight from
the database instead.
"""

import hashlib
import io
import json
import logging
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import polars as pl
from sqlalchemy import Connection, Engine, column, func, select, table

from db.engine import PROJECT_ROOT, is_sqlite

log = logging.getLogger(__name__)

CACHE_DIR_ENV = "ESCALATION_HEALTH_CACHE_DIR"
DEFAULT_CACHE_DIR = PROJECT_ROOT / "data" / "cache"
FILE_PREFIX = "escalations"
UTC_DATETIME = pl.Datetime("us", "UTC")

# The data version row, described here rather than imported from db.models: the
# models (and sqlmodel) take about a third of a second to import, which the
# ``metrics`` command would pay on every start for a two-column read.
# The copies are keyed on the history version: only writes to accounts,
# escalations, level changes or signals make them stale, not a logged fix.
_VERSION_TABLE = table(
    "data_version",
    column("id"),
    column("history_version"),
    column("history_changed_at"),
)
_VERSION_SQL = (
    "SELECT history_version, history_changed_at FROM data_version WHERE id = 1"
)
# SQLAlchemy writes SQLite datetimes as UTC text, always with six fraction digits;
# the optional fraction here also reads values written without one.
_SQLITE_DATETIME = "%Y-%m-%d %H:%M:%S%.f"
_SQLITE_DATETIME_US = "%Y-%m-%d %H:%M:%S%.6f"
# ADBC infers each column's type from the first batch and refuses a later batch
# that disagrees (a column NULL in the first rows, text after them). One batch
# for the whole result leaves nothing to disagree with.
_ADBC_BATCH_ROWS = 2**30
_HEADER_BYTES = 8
# Below this many escalations the loader in this process is quicker than
# starting the ADBC reader's process.
SQLITE_CHILD_FROM_ROWS = 50_000


@dataclass(frozen=True)
class SnapshotKey:
    """What a copy of the history is valid for: one database at one version."""

    identity: str
    version: int
    changed_at: str

    def file_name(self, table: str = FILE_PREFIX) -> str:
        """A copy's file name: the table, identity, version and a hash of the rest."""
        stamp = hashlib.sha256(self.changed_at.encode()).hexdigest()[:12]
        return f"{table}-{self.identity}-v{self.version}-{stamp}.parquet"


def cache_dir() -> Path:
    """The folder for copies: ``ESCALATION_HEALTH_CACHE_DIR`` or ``data/cache``."""
    configured = os.environ.get(CACHE_DIR_ENV, "").strip()
    return Path(configured).expanduser() if configured else DEFAULT_CACHE_DIR


def _sqlite_path(engine: Engine) -> str | None:
    """The SQLite file's absolute path, or None for a database in memory."""
    database = engine.url.database
    if not is_sqlite(engine) or database in (None, "", ":memory:"):
        return None
    if str(database).startswith("file:"):
        return None
    return str(Path(str(database)).expanduser().resolve())


def _cacheable(engine: Engine) -> bool:
    """Whether a copy can stand for the database (not SQLite in memory)."""
    return not is_sqlite(engine) or _sqlite_path(engine) is not None


def _key(engine: Engine, row: Sequence[Any] | None, schema: str) -> SnapshotKey:
    """The key for a version row (history version, its time) read from ``engine``."""
    url = engine.url
    path = _sqlite_path(engine)
    if path is not None:
        url = url.set(database=path)
    source = f"{url.render_as_string(hide_password=True)}#{schema}"
    identity = hashlib.sha256(source.encode()).hexdigest()[:16]
    version = 0 if row is None or row[0] is None else int(row[0])
    changed_at = "" if row is None or row[1] is None else str(row[1])
    return SnapshotKey(identity=identity, version=version, changed_at=changed_at)


def read_snapshot_key(*, connection: Connection) -> SnapshotKey:
    """The key of the history as ``connection`` sees it now.

    On PostgreSQL the current schema is part of the identity, so two schemas of
    one database never share a copy.
    """
    engine = connection.engine
    selected: list[Any] = [
        _VERSION_TABLE.c.history_version,
        _VERSION_TABLE.c.history_changed_at,
    ]
    if not is_sqlite(engine):
        selected.append(func.current_schema())
    row = connection.execute(select(*selected).where(_VERSION_TABLE.c.id == 1)).first()
    schema = "" if is_sqlite(engine) or row is None else str(row[2])
    return _key(engine, row, schema)


@dataclass(frozen=True)
class _Source:
    """One table the copies are made of: its columns, query and row loader."""

    name: str
    columns: Callable[[], dict[str, tuple[Any, pl.DataType]]]
    query: Callable[[list[Any]], Any]
    load_rows: Callable[[Connection, tuple[str, ...]], pl.DataFrame]


def _escalation_columns() -> dict[str, tuple[Any, pl.DataType]]:
    from db.queries import ESCALATION_COLUMNS  # noqa: PLC0415

    return ESCALATION_COLUMNS


def _escalation_query(selected: list[Any]) -> Any:
    from db.models import Account, Escalation  # noqa: PLC0415

    escalation = Escalation.__table__  # type: ignore[attr-defined]
    account = Account.__table__  # type: ignore[attr-defined]
    return (
        select(*selected)
        .select_from(escalation)
        .join(account, escalation.c.account_id == account.c.id)
        .order_by(escalation.c.id)
    )


def _load_escalation_rows(
    connection: Connection, columns: tuple[str, ...]
) -> pl.DataFrame:
    from db.queries import load_escalations  # noqa: PLC0415

    return load_escalations(connection=connection, columns=columns)


def _level_change_columns() -> dict[str, tuple[Any, pl.DataType]]:
    from db.models import LevelChange  # noqa: PLC0415
    from db.queries import LEVEL_CHANGE_SCHEMA  # noqa: PLC0415

    table = LevelChange.__table__  # type: ignore[attr-defined]
    return {name: (table.c[name], dtype) for name, dtype in LEVEL_CHANGE_SCHEMA.items()}


def _level_change_query(selected: list[Any]) -> Any:
    from db.models import LevelChange  # noqa: PLC0415

    table = LevelChange.__table__  # type: ignore[attr-defined]
    return select(*selected).order_by(table.c.at, table.c.id)


def _load_level_change_rows(
    connection: Connection, columns: tuple[str, ...]
) -> pl.DataFrame:
    from db.queries import load_level_changes  # noqa: PLC0415

    return load_level_changes(connection=connection).select(columns)


ESCALATIONS = _Source(
    "escalations", _escalation_columns, _escalation_query, _load_escalation_rows
)
LEVEL_CHANGES = _Source(
    "level_changes", _level_change_columns, _level_change_query, _load_level_change_rows
)
_SOURCES = {source.name: source for source in (ESCALATIONS, LEVEL_CHANGES)}


def snapshot_columns() -> tuple[str, ...]:
    """Every column the escalation copy holds: all ``load_escalations`` can read."""
    return tuple(_escalation_columns())


def _check_columns(source: _Source, columns: Sequence[str] | None) -> tuple[str, ...]:
    known = tuple(source.columns())
    if columns is None:
        return known
    wanted = tuple(columns)
    unknown = sorted(set(wanted) - set(known))
    if unknown:
        label = source.name.replace("_", " ")[:-1]
        message = f"Unknown {label} columns {unknown}; known: {list(known)}"
        raise ValueError(message)
    return wanted


def _rows_sql(engine: Engine, source: _Source, columns: Sequence[str]) -> str:
    """The loader's query as SQL text for ``engine``'s dialect, values inlined.

    PostgreSQL timestamps come out as whole microseconds since the epoch, which
    a CSV reader turns back into instants without any parsing by format.
    """
    from sqlalchemy import BigInteger, cast  # noqa: PLC0415

    known = source.columns()
    selected = []
    for name in columns:
        expression, dtype = known[name]
        if isinstance(dtype, pl.Datetime) and not is_sqlite(engine):
            expression = cast(func.extract("epoch", expression) * 1_000_000, BigInteger)
        selected.append(expression.label(name))
    compiled = source.query(selected).compile(
        dialect=engine.dialect, compile_kwargs={"literal_binds": True}
    )
    return str(compiled)


def sqlite_datetimes(text: pl.Series) -> pl.Series:
    """SQLite's UTC datetime text as aware UTC datetimes; raises on anything else."""
    try:
        # The layout SQLAlchemy writes; a fixed width parses twice as fast.
        return text.str.to_datetime(
            _SQLITE_DATETIME_US, time_unit="us", time_zone="UTC", strict=True
        )
    except pl.exceptions.PolarsError:
        return text.str.to_datetime(
            _SQLITE_DATETIME, time_unit="us", time_zone="UTC", strict=True
        )


def _typed(
    frame: pl.DataFrame, source: _Source, columns: Sequence[str], *, from_text: bool
) -> pl.DataFrame:
    """``frame`` with the loader's dtypes.

    Timestamps come from SQLite's text (``from_text``) or from whole
    microseconds since the epoch.
    """
    known = source.columns()
    converted: list[pl.Series | pl.Expr] = []
    for name in columns:
        dtype = known[name][1]
        values = pl.col(name)
        if isinstance(dtype, pl.Datetime) and frame.schema[name] == pl.String:
            converted.append(sqlite_datetimes(frame.get_column(name)))
        elif isinstance(dtype, pl.Datetime):
            if from_text and frame.get_column(name).null_count() < frame.height:
                # SQLite text is the only layout this reader knows; a number
                # there could be seconds or days, so leave it to the loader.
                message = f"column {name} holds {frame.schema[name]}, not text"
                raise ValueError(message)
            converted.append(values.cast(pl.Int64).cast(UTC_DATETIME))
        else:
            converted.append(values.cast(dtype, strict=True))
    return frame.select(converted)


def _load_sqlite_adbc(
    engine: Engine, path: str, source: _Source, columns: Sequence[str]
) -> tuple[SnapshotKey, pl.DataFrame]:
    """Key and rows through ADBC in a child process, in one read transaction.

    ADBC brings its own copy of SQLite. Two copies in one process do not share
    their file locks: a connection of one then reads stale pages and the other
    fails with "disk I/O error". A child process keeps them apart, and its
    start (about half a second) is small next to the rows it reads.
    """
    header, rows = _run_sqlite_reader(
        {"path": path, "sql": _rows_sql(engine, source, columns)}
    )
    frame = pl.read_ipc_stream(io.BytesIO(rows))
    key = _key(engine, (header["version"], header["changed_at"]), "")
    return key, _typed(frame, source, columns, from_text=True)


def _run_sqlite_reader(request: dict[str, str]) -> tuple[dict[str, Any], bytes]:
    """Run the ADBC child on ``request``; its header and whatever rows it sent."""
    environment = {**os.environ, "PYTHONPATH": _python_path()}
    finished = subprocess.run(
        [sys.executable, "-m", "db.snapshot"],
        input=json.dumps(request).encode(),
        capture_output=True,
        env=environment,
        check=False,
    )
    if finished.returncode != 0:
        lines = finished.stderr.decode(errors="replace").strip().splitlines()
        message = f"the ADBC reader failed: {lines[-1] if lines else 'no output'}"
        raise RuntimeError(message)
    output = finished.stdout
    header_size = int.from_bytes(output[:_HEADER_BYTES], "big")
    header = json.loads(output[_HEADER_BYTES : _HEADER_BYTES + header_size])
    return header, output[_HEADER_BYTES + header_size :]


def _copy_sqlite_adbc(
    engine: Engine, path: str, source: _Source, folder: Path
) -> SnapshotKey:
    """Have the ADBC child write the whole copy itself; return the key it holds.

    The caller then reads only the columns it needs from the file. Receiving
    every column as an Arrow stream and typing it here would hold the history
    twice in this process: at a million escalations, over a gigabyte more at
    the peak of a cold build.
    """
    folder.mkdir(parents=True, exist_ok=True)
    handle, temporary_name = tempfile.mkstemp(
        dir=folder, prefix=f".{source.name}.", suffix=".tmp"
    )
    os.close(handle)
    temporary = Path(temporary_name)
    try:
        header, _ = _run_sqlite_reader(
            {
                "path": path,
                "sql": _rows_sql(engine, source, tuple(source.columns())),
                "source": source.name,
                "output": str(temporary),
            }
        )
        key = _key(engine, (header["version"], header["changed_at"]), "")
        _publish_copy(folder, key, source.name, temporary)
    finally:
        temporary.unlink(missing_ok=True)
    return key


def _python_path() -> str:
    """PYTHONPATH for a child that must import this package."""
    inherited = os.environ.get("PYTHONPATH", "")
    return os.pathsep.join(part for part in (str(PROJECT_ROOT), inherited) if part)


def _sqlite_reader_main() -> int:
    """The child's side of :func:`_load_sqlite_adbc`: read, write to stdout.

    Reads ``{"path", "sql"}`` as JSON on stdin; writes a length-prefixed JSON
    header (the history version row) and then the rows as an Arrow IPC stream.
    """
    import adbc_driver_sqlite.dbapi as adbc_sqlite  # noqa: PLC0415
    import pyarrow as pa  # noqa: PLC0415
    from adbc_driver_sqlite import StatementOptions  # noqa: PLC0415

    request = json.loads(sys.stdin.buffer.read())
    # With autocommit off (the DB-API default) the driver opens a transaction;
    # SQLite takes its read snapshot at the first SELECT, the key's.
    with (
        adbc_sqlite.connect(request["path"]) as connection,
        connection.cursor() as cursor,
    ):
        cursor.execute(_VERSION_SQL)
        row = cursor.fetchone()
        cursor.adbc_statement.set_options(
            **{StatementOptions.BATCH_ROWS.value: str(_ADBC_BATCH_ROWS)}
        )
        cursor.execute(request["sql"])
        rows = cursor.fetch_arrow_table()
        connection.rollback()

    version, changed_at = (None, None) if row is None else row
    header = json.dumps({"version": version, "changed_at": changed_at}).encode()
    out = sys.stdout.buffer
    output = request.get("output")
    if output is not None:
        # Write the copy here and send only the key: see _copy_sqlite_adbc.
        source = _SOURCES[request["source"]]
        arrived = pl.from_arrow(rows)
        assert isinstance(arrived, pl.DataFrame)
        del rows  # the Arrow table and the typed frame need not live together
        columns = tuple(source.columns())
        _typed(arrived, source, columns, from_text=True).write_parquet(output)
    out.write(len(header).to_bytes(_HEADER_BYTES, "big"))
    out.write(header)
    if output is None:
        with pa.ipc.new_stream(out, rows.schema) as stream:
            stream.write_table(rows)
    out.flush()
    return 0


def _load_postgres_copy(
    engine: Engine, source: _Source, columns: Sequence[str]
) -> tuple[SnapshotKey, pl.DataFrame]:
    """Key and rows in one REPEATABLE READ transaction, the rows through COPY."""
    known = source.columns()

    with engine.connect().execution_options(
        isolation_level="REPEATABLE READ"
    ) as connection:
        key = read_snapshot_key(connection=connection)
        connection.exec_driver_sql("SET LOCAL client_encoding TO 'UTF8'")
        sql = _rows_sql(engine, source, columns)
        buffer = bytearray()
        driver = connection.connection.driver_connection
        assert driver is not None
        cursor = driver.cursor()
        with cursor.copy(f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)") as copy:
            for chunk in copy:
                buffer += chunk
        connection.rollback()

    # PostgreSQL writes NULL as an empty field and an empty string as "", which
    # the reader keeps apart.
    schema = {
        name: pl.Int64() if isinstance(dtype, pl.Datetime) else dtype
        for name, (_, dtype) in ((n, known[n]) for n in columns)
    }
    if not buffer:
        empty = pl.DataFrame(schema=schema)
        return key, _typed(empty, source, columns, from_text=False)
    frame = pl.read_csv(
        bytes(buffer), has_header=False, new_columns=list(schema), schema=schema
    )
    return key, _typed(frame, source, columns, from_text=False)


def _load_row_by_row(
    engine: Engine, source: _Source, columns: tuple[str, ...]
) -> tuple[SnapshotKey, pl.DataFrame]:
    """Key and rows through the loader, in one transaction of the engine."""
    options: dict[str, Any] = {}
    if not is_sqlite(engine):
        options["isolation_level"] = "REPEATABLE READ"
    with engine.connect().execution_options(**options) as connection:
        if is_sqlite(engine):
            # Python's sqlite3 opens no transaction for a SELECT, so each would
            # read the latest commit; BEGIN makes the reads share one snapshot.
            connection.exec_driver_sql("BEGIN")
        key = read_snapshot_key(connection=connection)
        frame = source.load_rows(connection, columns)
        connection.rollback()
    return key, frame


def _largest_escalation_id(engine: Engine) -> int:
    """The largest escalation id: about how many rows a load reads, at once."""
    with engine.connect() as connection:
        found = connection.exec_driver_sql("SELECT max(id) FROM escalation").scalar()
    return int(found or 0)


def _load(
    engine: Engine, source: _Source, columns: tuple[str, ...]
) -> tuple[SnapshotKey, pl.DataFrame]:
    """Key and rows of ``source`` in one transaction, by column where possible."""
    path = _sqlite_path(engine)
    if path is not None:
        fast = _largest_escalation_id(engine) >= SQLITE_CHILD_FROM_ROWS
    else:
        fast = engine.dialect.driver == "psycopg"
    if fast:
        try:
            if path is not None:
                return _load_sqlite_adbc(engine, path, source, columns)
            return _load_postgres_copy(engine, source, columns)
        except Exception as error:  # the slow path always works
            log.warning(
                "Reading %s column by column failed (%s); reading it row by row",
                source.name,
                error,
            )
    return _load_row_by_row(engine, source, columns)


def load_consistent(
    engine: Engine, columns: Sequence[str] | None = None
) -> tuple[SnapshotKey, pl.DataFrame]:
    """Read the key and the escalations in one transaction; no file involved.

    The frame equals what :func:`db.queries.load_escalations` returns for the
    same columns: same rows in id order, same dtypes.
    """
    return _load(engine, ESCALATIONS, _check_columns(ESCALATIONS, columns))


def _read_copy(path: Path, columns: tuple[str, ...]) -> pl.DataFrame | None:
    """The copy at ``path``, or None when there is none or it cannot be read.

    A copy that lacks one of ``columns`` (written before the column existed)
    counts as missing.
    """
    if not path.is_file():
        return None
    try:
        if not set(columns) <= set(pl.read_parquet_schema(path)):
            return None
        return pl.read_parquet(path, columns=list(columns))
    except FileNotFoundError:
        # Removed by a newer writer between the check and the read.
        return None
    except Exception as error:  # any unreadable file means reload
        log.warning(
            "Ignoring the unreadable history copy %s (%s); reading the database",
            path,
            error,
        )
        return None


def _write_copy(
    folder: Path, key: SnapshotKey, table: str, frame: pl.DataFrame
) -> None:
    """Write the copy atomically, then remove this database's other copies."""
    name = key.file_name(table)
    temporary: Path | None = None
    try:
        folder.mkdir(parents=True, exist_ok=True)
        handle, temporary_name = tempfile.mkstemp(
            dir=folder, prefix=f".{name}.", suffix=".tmp"
        )
        os.close(handle)
        temporary = Path(temporary_name)
        frame.write_parquet(temporary)
        _publish_copy(folder, key, table, temporary)
        temporary = None
    except Exception as error:  # a cache must never fail a read
        log.warning(
            "Cannot keep a copy of the history in %s (%s); "
            "every load will read the database",
            folder,
            error,
        )
        if temporary is not None:
            temporary.unlink(missing_ok=True)


def _publish_copy(folder: Path, key: SnapshotKey, table: str, written: Path) -> None:
    """Move a finished copy into place, then remove this database's older ones."""
    name = key.file_name(table)
    os.replace(written, folder / name)
    # NOTE: a slower writer holding an older key can remove a newer copy here;
    # the next read then rebuilds it. That costs time, never correctness.
    for older in folder.glob(f"{table}-{key.identity}-v*.parquet"):
        if older.name != name:
            try:
                older.unlink(missing_ok=True)
            except OSError as error:
                log.warning("Cannot remove the old history copy %s: %s", older, error)


def _copy_in_child(engine: Engine, source: _Source, folder: Path) -> SnapshotKey | None:
    """Build the copy of a large SQLite history in the ADBC child; its key, or None.

    None when the child does not apply (another database, a small history) or
    fails; the caller then builds the copy here.
    """
    path = _sqlite_path(engine)
    if path is None or _largest_escalation_id(engine) < SQLITE_CHILD_FROM_ROWS:
        return None
    try:
        return _copy_sqlite_adbc(engine, path, source, folder)
    except Exception as error:  # the copy can always be built here instead
        log.warning(
            "Building the %s copy in a helper process failed (%s); building it here",
            source.name.replace("_", " "),
            error,
        )
        return None


def _log_copied(source: _Source, key: SnapshotKey, rows: int, started: float) -> None:
    log.info(
        "Copied %s %s at history version %s in %.1f s",
        rows,
        source.name.replace("_", " "),
        key.version,
        time.perf_counter() - started,
    )


def _snapshot(
    engine: Engine,
    source: _Source,
    columns: Sequence[str] | None,
    folder: Path | None,
) -> pl.DataFrame:
    """``columns`` of ``source`` from its copy, made first when missing."""
    if not _cacheable(engine):
        return _load(engine, source, _check_columns(source, columns))[1]

    place = cache_dir() if folder is None else folder
    with engine.connect() as connection:
        key = read_snapshot_key(connection=connection)
    # Named columns are checked against the file, so that a hit never imports
    # the models (a third of a second of the metrics command's start).
    requested = tuple(columns) if columns is not None else None
    wanted = requested if requested is not None else _check_columns(source, None)
    copy = _read_copy(place / key.file_name(source.name), wanted)
    if copy is not None:
        log.debug("Copy %s hit", key.file_name(source.name))
        return copy

    wanted = _check_columns(source, requested)
    # TODO: append the rows a write added instead of copying everything again;
    # at a million escalations a rebuild takes 10 to 20 s after every write to
    # the history.
    started = time.perf_counter()
    built = _copy_in_child(engine, source, place)
    if built is not None:
        copy = _read_copy(place / built.file_name(source.name), wanted)
        if copy is not None:
            _log_copied(source, built, copy.height, started)
            return copy
    # NOTE: on PostgreSQL the rows still come through this process (COPY), so
    # a cold build there holds the whole history here for a moment.
    key, frame = _load(engine, source, tuple(source.columns()))
    _write_copy(place, key, source.name, frame)
    _log_copied(source, key, frame.height, started)
    return frame.select(wanted)


def load_escalation_snapshot(
    engine: Engine,
    columns: Sequence[str] | None = None,
    *,
    folder: Path | None = None,
) -> pl.DataFrame:
    """Escalations as ``db.queries.load_escalations`` returns them, from the copy.

    Reads the history version first; when a copy for it exists, reads only
    ``columns`` from it. Otherwise reads every column from the database in one
    transaction with the version, writes the copy for next time and returns the
    columns asked for.

    Parameters
    ----------
    engine
        The database the history belongs to.
    columns
        Which columns of ``db.queries.ESCALATION_COLUMNS`` to return; all by
        default. Unknown names raise ValueError.
    folder
        Where copies live; :func:`cache_dir` by default.
    """
    return _snapshot(engine, ESCALATIONS, columns, folder)


def load_level_change_snapshot(
    engine: Engine, *, folder: Path | None = None
) -> pl.DataFrame:
    """Every level change as ``db.queries.load_level_changes`` returns them.

    Kept and refreshed exactly like the escalation copy, under the same key.
    """
    return _snapshot(engine, LEVEL_CHANGES, None, folder)


if __name__ == "__main__":
    sys.exit(_sqlite_reader_main())
