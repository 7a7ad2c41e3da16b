"""Import escalation history from CSV, Parquet and JSON Lines files.

Three steps, each usable on its own (the Data page calls them one by one):

- :func:`read_upload` turns bytes into a frame of text columns, or raises
  :class:`ImportFileError` with one line that says what is wrong with the file;
- :func:`validate_import` checks every row with polars expressions (no Python
  loop over rows) and splits the file into valid rows and rejected ones;
- :func:`run_import` writes the valid rows in one transaction that also bumps the
  data version: new rows through the bulk fast path, changed rows with one
  ``executemany``, rows equal to what is stored not at all.

Rows are matched to stored records on their external id (accounts, escalations,
fixes) or on their natural key (signals, level changes), so importing a file
twice changes nothing the second time. The format is described in docs/import.md.
"""

import io
import json
import logging
import os
import re
import sqlite3
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any

import polars as pl
import sqlalchemy as sa
from sqlalchemy import Connection, Engine, bindparam, func, select, update
from sqlmodel.sql.sqltypes import UTCDateTime

from db.bulk import (
    Tally,
    as_sqlalchemy_errors,
    core_insert,
    drop_sqlite_indexes,
    postgres_copy,
    sqlite_insert,
    worth_rebuilding,
)
from db.fixes import CREATED, as_text
from db.models import (
    NAME_MAX,
    PACKET_MAX,
    REASON_MAX,
    SHORT_MAX,
    SIGNAL_TEXT_MAX,
    Account,
    Escalation,
    EscalationStatus,
    FixStatus,
    LevelChange,
    ProcessFix,
    ProcessFixHistory,
    RaisedVia,
    RootCause,
    Severity,
    Signal,
    SignalSource,
    Tone,
)
from db.queries import UTC_DATETIME, read_frame
from db.version import bump_data_version

log = logging.getLogger(__name__)

MAX_IMPORT_MB_VARIABLE = "ESCALATION_HEALTH_MAX_IMPORT_MB"
DEFAULT_MAX_IMPORT_MB = 200
IMPORT_AUTHOR = "import"
UNKNOWN = "unknown"
ROW = "row_number"
# Quoted values in messages are cut here: a 10,000-character cell would
# otherwise make the message unreadable.
QUOTE_CHARS = 40
_ERROR_PREFIX = "__error_"

_ACCOUNT = Account.__table__  # type: ignore[attr-defined]
_ESCALATION = Escalation.__table__  # type: ignore[attr-defined]
_SIGNAL = Signal.__table__  # type: ignore[attr-defined]
_LEVEL_CHANGE = LevelChange.__table__  # type: ignore[attr-defined]
_FIX = ProcessFix.__table__  # type: ignore[attr-defined]
_HISTORY = ProcessFixHistory.__table__  # type: ignore[attr-defined]

SEVERITY_ALIASES: dict[str, str] = {
    **{member.value: member.value for member in Severity},
    **dict.fromkeys(("sev1", "p1", "urgent", "blocker"), Severity.CRITICAL.value),
    **dict.fromkeys(("sev2", "p2", "major"), Severity.HIGH.value),
    **dict.fromkeys(("sev3", "p3", "normal", "moderate"), Severity.MEDIUM.value),
    **dict.fromkeys(("sev4", "p4", "minor", "trivial"), Severity.LOW.value),
}


class ImportFileError(ValueError):
    """A whole-file problem (not a table, wrong encoding, no header ...), one line."""


@dataclass(frozen=True)
class Column:
    """One column of an import format: how to read it and where it goes.

    ``kind`` is one of text, time, date, int, float, enum, severity, trigger.
    ``target`` is the database column when it differs from ``name``.
    """

    name: str
    kind: str = "text"
    required: bool = False
    limit: int | None = None
    choices: tuple[str, ...] = ()
    minimum: float | None = None
    target: str | None = None
    aliases: tuple[str, ...] = ()


def _enum(name: str, enum: type[StrEnum], **options: Any) -> Column:
    return Column(name, "enum", choices=tuple(m.value for m in enum), **options)


_ACCOUNT_FIELDS = (
    Column("account_name", limit=NAME_MAX),
    Column("segment", limit=SHORT_MAX),
    Column("region", limit=SHORT_MAX),
    Column("team", limit=SHORT_MAX),
)
_PACKET = (
    Column("risk", limit=PACKET_MAX),
    Column("evidence", limit=PACKET_MAX),
    Column("options", limit=PACKET_MAX),
    Column("decision_needed", limit=PACKET_MAX),
    Column("next_owner", limit=NAME_MAX),
    Column("consequence_if_unchanged", limit=PACKET_MAX),
    Column("exit_evidence", limit=PACKET_MAX),
)
_STRUCTURE = tuple(
    Column(f"{thing}_{side}", limit=NAME_MAX)
    for thing in (
        "owner",
        "cadence",
        "decision_rights",
        "evidence_threshold",
        "communication_path",
    )
    for side in ("before", "after")
)

FORMATS: dict[str, tuple[Column, ...]] = {
    "accounts": (
        Column("account_id", required=True, limit=SHORT_MAX, target="external_id"),
        Column("name", limit=NAME_MAX, aliases=("account_name",)),
        Column("segment", limit=SHORT_MAX),
        Column("region", limit=SHORT_MAX),
        Column("team", limit=SHORT_MAX),
        Column("annual_value", "float", minimum=0),
        Column("renewal_date", "date"),
    ),
    "escalations": (
        Column("escalation_id", required=True, limit=SHORT_MAX, target="external_id"),
        Column("account_id", required=True, limit=SHORT_MAX),
        Column("trigger_type", "trigger", required=True, limit=SHORT_MAX),
        Column("severity", "severity", required=True),
        Column("first_signal_at", "time", required=True),
        Column("escalated_at", "time", required=True),
        *_ACCOUNT_FIELDS,
        Column("resolved_at", "time"),
        _enum("status", EscalationStatus),
        Column("level", "int", minimum=1),
        Column("owner", limit=NAME_MAX),
        Column("raised_by", limit=NAME_MAX),
        _enum("raised_via", RaisedVia),
        *_PACKET,
    ),
    "signals": (
        Column("account_id", required=True, limit=SHORT_MAX),
        _enum("source", SignalSource, required=True),
        Column("observed_at", "time", required=True),
        Column("text", required=True, limit=SIGNAL_TEXT_MAX),
        Column("escalation_id", limit=SHORT_MAX),
        Column("author", limit=NAME_MAX),
        _enum("tone", Tone),
        *_ACCOUNT_FIELDS,
    ),
    "level-changes": (
        Column("escalation_id", required=True, limit=SHORT_MAX),
        Column("at", "time", required=True),
        Column("from_level", "int", required=True, minimum=0),
        Column("to_level", "int", required=True, minimum=0),
        *_STRUCTURE,
        Column("note", limit=PACKET_MAX),
    ),
    "fixes": (
        Column("fix_id", required=True, limit=SHORT_MAX, target="external_id"),
        Column("title", required=True, limit=NAME_MAX),
        Column("trigger_type", "trigger", required=True, limit=SHORT_MAX),
        _enum("root_cause", RootCause, required=True),
        Column("owner", required=True, limit=NAME_MAX),
        Column("logged_at", "time", required=True),
        _enum("status", FixStatus),
        Column("due_on", "date", target="due_at"),
        Column("shipped_at", "time"),
        Column("expected_effect", limit=PACKET_MAX),
        Column("author", limit=NAME_MAX),
        Column("abandon_reason", limit=REASON_MAX),
    ),
}
KINDS = tuple(FORMATS)


@dataclass
class ImportReport:
    """What validation found: the rows to write and the rows refused, and why.

    ``valid`` holds the normalised rows (canonical column names, parsed types,
    plus ``row_number``); ``rejects`` the original rows of refused ones with
    ``row_number``, ``column`` and ``reason``; ``problems`` one row per problem.
    Row numbers count data rows from 1, the header not included: row 1 is the
    second line of a CSV file (a spreadsheet's row 2) and the first of a JSON
    Lines file.
    """

    kind: str
    total_rows: int
    valid: pl.DataFrame
    rejects: pl.DataFrame
    problems: pl.DataFrame
    present: tuple[str, ...] = ()
    naive_time_zone: str = "UTC"

    @property
    def ok(self) -> bool:
        """Whether every row is valid."""
        return self.problems.height == 0


@dataclass(frozen=True)
class ImportResult:
    """Rows written by :func:`run_import`; all zero when nothing was written."""

    inserted: int = 0
    updated: int = 0
    unchanged: int = 0
    rejected: int = 0
    accounts_created: int = 0
    written: bool = False


# ---------------------------------------------------------------- reading


def max_import_bytes() -> int:
    """The configured size limit (``ESCALATION_HEALTH_MAX_IMPORT_MB``) in bytes."""
    raw = os.environ.get(MAX_IMPORT_MB_VARIABLE, "")
    try:
        megabytes = float(raw) if raw.strip() else DEFAULT_MAX_IMPORT_MB
    except ValueError:
        megabytes = DEFAULT_MAX_IMPORT_MB
    return int(megabytes * 1024 * 1024)


def check_size(size: int, filename: str, max_bytes: int) -> None:
    """Refuse a file over the size limit before reading it."""
    if size <= max_bytes:
        return
    size_mb = round(size / 1024 / 1024, 1)
    limit_mb = round(max_bytes / 1024 / 1024, 2)
    if size_mb > limit_mb > 0:
        shown = f"{size_mb:.1f} MB", f"{limit_mb:g} MB"
    else:
        # In MB the two would read as equal, or the limit as zero.
        shown = f"{size:,} bytes", f"{max_bytes:,} bytes"
    message = (
        f"{filename} is {shown[0]}, over the import limit of {shown[1]} "
        f"(set {MAX_IMPORT_MB_VARIABLE} to raise it)"
    )
    raise ImportFileError(message)


def _first_line(error: Exception) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else type(error).__name__


def _as_text_columns(frame: pl.DataFrame, filename: str) -> pl.DataFrame:
    """Every column as text; timestamps in ISO 8601 so they parse like CSV text."""
    columns: list[pl.Expr] = []
    for index, (name, dtype) in enumerate(frame.schema.items()):
        # By position: a header such as "*" or "^a$" would be a pattern to col().
        column = pl.nth(index)
        if isinstance(dtype, pl.Datetime):
            if dtype.time_zone is None:
                columns.append(column.dt.strftime("%Y-%m-%dT%H:%M:%S%.f"))
            else:
                columns.append(
                    column.dt.convert_time_zone("UTC").dt.strftime(
                        "%Y-%m-%dT%H:%M:%S%.f+00:00"
                    )
                )
        elif isinstance(dtype, pl.Date):
            columns.append(column.dt.strftime("%Y-%m-%d"))
        elif isinstance(dtype, pl.List | pl.Struct | pl.Array | pl.Object):
            message = (
                f"{filename} is not a flat table: column {name!r} holds nested "
                "values (lists or objects)"
            )
            raise ImportFileError(message)
        else:
            columns.append(column.cast(pl.String))
    return frame.select(columns)


def _csv_separator(text: str) -> str:
    """Comma, semicolon or tab: whichever the header line holds most of."""
    header = text.split("\n", 1)[0]
    return max((",", ";", "\t"), key=header.count)


def _read_csv(text: str, filename: str) -> pl.DataFrame:
    if not text.split("\n", 1)[0].strip():
        message = f"{filename} has no header: its first line is blank"
        raise ImportFileError(message)
    try:
        return pl.read_csv(
            io.StringIO(text),
            separator=_csv_separator(text),
            infer_schema=False,
        )
    except (pl.exceptions.PolarsError, ValueError) as error:
        message = f"{filename} is not a readable CSV table: {_first_line(error)}"
        raise ImportFileError(message) from None


def _read_json_lines(text: str, filename: str) -> pl.DataFrame:
    try:
        frame = pl.read_ndjson(io.StringIO(text), infer_schema_length=None)
    except (pl.exceptions.PolarsError, ValueError) as error:
        message = (
            f"{filename} is not a JSON Lines table (one JSON object a line): "
            f"{_first_line(error)}"
        )
        raise ImportFileError(message) from None
    return _as_text_columns(frame, filename)


def _read_parquet(data: bytes, filename: str) -> pl.DataFrame:
    try:
        frame = pl.read_parquet(io.BytesIO(data))
    except (pl.exceptions.PolarsError, OSError, ValueError) as error:
        message = f"{filename} is not a readable Parquet file: {_first_line(error)}"
        raise ImportFileError(message) from None
    return _as_text_columns(frame, filename)


def _decoded(data: bytes, filename: str) -> str:
    """The file as text; a binary or non-UTF-8 file is a one-line error."""
    if b"\x00" in data[:65536]:
        message = f"{filename} is not a table: it holds binary data"
        raise ImportFileError(message)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        bad = data[error.start : error.start + 1].hex().upper()
        message = (
            f"{filename} is not UTF-8 text (byte 0x{bad} at offset {error.start}); "
            "save it as UTF-8 and import it again"
        )
        raise ImportFileError(message) from None
    return text.replace("\r\n", "\n")


def read_upload(data: bytes, filename: str, *, max_bytes: int) -> pl.DataFrame:
    """Read an uploaded CSV, Parquet or JSON Lines file into text columns.

    The format comes from the file name's extension (``.csv``, ``.tsv``,
    ``.txt``; ``.parquet``, ``.pq``; ``.jsonl``, ``.ndjson``, ``.json``), and
    from the content when the extension says nothing. Every column is returned
    as ``pl.String`` so that validation sees what the person wrote.

    Raises
    ------
    ImportFileError
        With a one-line message: over ``max_bytes``, empty, binary, not UTF-8,
        not parseable as a table, or without data rows.
    """
    check_size(len(data), filename, max_bytes)
    if not data.strip():
        message = f"{filename} is empty"
        raise ImportFileError(message)

    suffix = os.path.splitext(filename)[1].lower()
    if suffix in {".parquet", ".pq"} or data[:4] == b"PAR1":
        frame = _read_parquet(data, filename)
    else:
        text = _decoded(data, filename)
        looks_like_json = text.lstrip().startswith("{")
        if suffix in {".jsonl", ".ndjson", ".json"} or (
            suffix not in {".csv", ".tsv", ".txt"} and looks_like_json
        ):
            frame = _read_json_lines(text, filename)
        else:
            frame = _read_csv(text, filename)

    if frame.width == 0:
        message = f"{filename} is not a table: no columns found"
        raise ImportFileError(message)
    if frame.height == 0:
        message = f"{filename} is empty: it has a header but no data rows"
        raise ImportFileError(message)
    return frame


def read_file(path: str | os.PathLike[str], *, max_bytes: int) -> pl.DataFrame:
    """Read a file from disk as :func:`read_upload` does, size checked first."""
    name = os.fspath(path)
    try:
        check_size(os.path.getsize(name), os.path.basename(name), max_bytes)
        with open(name, "rb") as handle:
            data = handle.read()
    except OSError as error:
        message = f"cannot read {name}: {error.strerror or error}"
        raise ImportFileError(message) from None
    return read_upload(data, os.path.basename(name), max_bytes=max_bytes)


def preview(frame: pl.DataFrame, n: int = 20) -> pl.DataFrame:
    """The first ``n`` rows with their data row numbers, for showing before import."""
    return frame.head(n).with_row_index(ROW, offset=1)


# ---------------------------------------------------------------- validation


def header_key(name: str) -> str:
    """A header as matched: case, spaces, dashes and underscores ignored."""
    return re.sub(r"[\s_\-]+", "", name).lower()


def normalise_kind(kind: str) -> str:
    """The canonical kind name; ``level_changes`` is read as ``level-changes``."""
    normal = kind.strip().lower().replace("_", "-")
    if normal not in FORMATS:
        message = f"unknown kind {kind!r}; choose one of: {', '.join(KINDS)}"
        raise ValueError(message)
    return normal


def _matched_headers(kind: str, headers: list[str]) -> dict[str, str]:
    """Original header -> canonical column; whole-file header problems raise."""
    by_key: dict[str, Column] = {}
    for column in FORMATS[kind]:
        for name in (column.name, *column.aliases):
            by_key[header_key(name)] = column
    matched: dict[str, str] = {}
    claimed: dict[str, str] = {}
    for header in headers:
        found = by_key.get(header_key(header))
        if found is None:
            continue
        if found.name in claimed:
            message = (
                f"columns {claimed[found.name]!r} and {header!r} both mean "
                f"{found.name!r}; keep one of them"
            )
            raise ImportFileError(message)
        claimed[found.name] = header
        matched[header] = found.name
    if not matched:
        shown = ", ".join(repr(h[:QUOTE_CHARS]) for h in headers[:5])
        message = (
            f"the file has no header row for {kind}: its first row ({shown}) names "
            f"none of the columns; expected {_required_names(kind)}"
        )
        raise ImportFileError(message)
    missing = [
        column.name
        for column in FORMATS[kind]
        if column.required and column.name not in claimed
    ]
    if missing:
        message = f"missing required column(s) for {kind}: {', '.join(missing)}"
        raise ImportFileError(message)
    return matched


def _required_names(kind: str) -> str:
    return ", ".join(column.name for column in FORMATS[kind] if column.required)


def _quoted(raw: pl.Expr) -> pl.Expr:
    """The raw value, cut for a message."""
    return (
        pl.when(raw.str.len_chars() > QUOTE_CHARS)
        .then(raw.str.slice(0, QUOTE_CHARS) + "…")
        .otherwise(raw)
    )


def _time(raw: pl.Expr, zone: str) -> pl.Expr:
    """ISO 8601 text as UTC; text without an offset is read in ``zone``."""
    text = (
        raw.str.replace(r"^(\d{4}-\d{2}-\d{2})[ Tt]", "${1}T")
        .str.replace(r"[zZ]$", "+00:00")
        .str.replace(r"^(\d{4}-\d{2}-\d{2})$", "${1}T00:00:00")
        .str.replace(r"T(\d{2}:\d{2})([+-]|$)", "T${1}:00${2}")
    )
    aware = text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f%z", strict=False, time_unit="us")
    naive = (
        text.str.to_datetime("%Y-%m-%dT%H:%M:%S%.f", strict=False, time_unit="us")
        .dt.replace_time_zone(zone, ambiguous="earliest", non_existent="null")
        .dt.convert_time_zone("UTC")
    )
    return pl.coalesce(aware.dt.convert_time_zone("UTC"), naive)


def _enum_key(raw: pl.Expr) -> pl.Expr:
    return raw.str.to_lowercase().str.replace_all(r"[\s\-]+", "_")


def _parsed(column: Column, raw: pl.Expr, zone: str) -> pl.Expr:  # noqa: PLR0911
    """The typed value of one column, NULL where it cannot be read."""
    if column.kind == "time":
        return _time(raw, zone)
    if column.kind == "date":
        value = raw.str.to_date("%Y-%m-%d", strict=False)
        if column.target == "due_at":
            # Due dates are kept as 00:00 UTC of the day, as the form keeps them.
            return value.cast(pl.Datetime("us")).dt.replace_time_zone("UTC")
        return value
    if column.kind == "int":
        return raw.cast(pl.Int64, strict=False)
    if column.kind == "float":
        value = raw.cast(pl.Float64, strict=False)
        return pl.when(value.is_finite()).then(value)
    if column.kind == "severity":
        key = raw.str.to_lowercase().str.replace_all(r"[\s_\-]+", "")
        return key.replace_strict(
            SEVERITY_ALIASES, default=None, return_dtype=pl.String
        )
    if column.kind == "enum":
        key = _enum_key(raw)
        return pl.when(key.is_in(column.choices)).then(key)
    if column.kind == "trigger":
        return raw.str.replace_all(r"[\s\-]+", "_").str.to_lowercase()
    return raw


def _reason(column: Column, raw: pl.Expr, value: pl.Expr) -> pl.Expr:
    """Why one cell is refused, NULL when it is fine. The first problem wins."""
    shown = _quoted(raw)
    checks: list[pl.Expr] = [
        pl.when(raw.str.contains("\x00", literal=True)).then(
            pl.lit("contains a NUL character")
        )
    ]
    if column.required:
        checks.append(pl.when(raw.is_null()).then(pl.lit("missing required value")))
    unreadable = raw.is_not_null() & value.is_null()
    if column.kind == "time":
        checks.append(
            pl.when(unreadable).then(
                pl.format(
                    "unparseable date '{}': use ISO 8601 such as "
                    "2026-05-04T09:30:00+02:00",
                    shown,
                )
            )
        )
    elif column.kind == "date":
        checks.append(
            pl.when(unreadable).then(
                pl.format("unparseable date '{}': use YYYY-MM-DD", shown)
            )
        )
    elif column.kind in {"int", "float"}:
        noun = "a whole number" if column.kind == "int" else "a number"
        checks.append(pl.when(unreadable).then(pl.format("'{}' is not " + noun, shown)))
        if column.minimum is not None:
            checks.append(
                pl.when(value < column.minimum).then(
                    pl.format(f"{{}} is below the minimum of {column.minimum:g}", value)
                )
            )
    elif column.kind == "severity":
        checks.append(
            pl.when(unreadable).then(
                pl.format(
                    "unknown severity '{}': use critical, high, medium or low "
                    "(or sev1-sev4, p1-p4)",
                    shown,
                )
            )
        )
    elif column.kind == "enum":
        checks.append(
            pl.when(unreadable).then(
                pl.format(
                    f"unknown {column.name} '{{}}': use one of "
                    f"{', '.join(column.choices)}",
                    shown,
                )
            )
        )
    if column.limit is not None:
        length = (
            value.str.len_chars() if column.kind == "trigger" else raw.str.len_chars()
        )
        checks.append(
            pl.when(length > column.limit).then(
                pl.format(
                    f"text over its length limit: {{}} characters, the limit is "
                    f"{column.limit}",
                    length,
                )
            )
        )
    if column.kind == "trigger":
        checks.append(
            pl.when(value.is_not_null() & ~value.str.contains(r"^[a-z0-9_]+$")).then(
                pl.format(
                    "trigger type '{}' may hold only letters, digits, spaces, "
                    "dashes and underscores",
                    shown,
                )
            )
        )
    return pl.coalesce(checks)


def _problem(
    frame: pl.DataFrame, mask: pl.Expr, column: str, reason: pl.Expr
) -> pl.DataFrame:
    """Rows matching ``mask`` as problems of ``column``."""
    return frame.filter(mask).select(
        pl.col(ROW), pl.lit(column).alias("column"), reason.alias("reason")
    )


def _duplicates(
    frame: pl.DataFrame, keys: list[str], column: str, what: str
) -> pl.DataFrame:
    """Every row whose key appears more than once, naming the other rows."""
    complete = frame.filter(pl.all_horizontal(pl.col(keys).is_not_null()))
    repeated = (
        complete.group_by(keys)
        .agg(pl.col(ROW).sort().alias("__rows"))
        .filter(pl.col("__rows").list.len() > 1)
    )
    if repeated.height == 0:
        return _empty_problems()
    rows = (
        repeated.explode("__rows")
        .rename({"__rows": ROW})
        .join(
            repeated.select(
                *keys,
                pl.col("__rows")
                .list.head(5)
                .cast(pl.List(pl.String))
                .list.join(", ")
                .alias("__listed"),
                pl.col("__rows").list.len().alias("__count"),
            ),
            on=keys,
            nulls_equal=True,
        )
    )
    return rows.select(
        pl.col(ROW),
        pl.lit(column).alias("column"),
        pl.format(
            f"{what} repeated in the file: it appears {{}} times (rows {{}})",
            pl.col("__count"),
            pl.col("__listed"),
        ).alias("reason"),
    )


def _empty_problems() -> pl.DataFrame:
    return pl.DataFrame(
        schema={ROW: pl.Int64, "column": pl.String, "reason": pl.String}
    )


def _external_ids(connection: Connection, table: sa.Table) -> pl.DataFrame:
    """Stored (external_id, id) pairs of a table."""
    query = select(table.c.external_id, table.c.id).where(
        table.c.external_id.is_not(None)
    )
    return read_frame(connection, query, {"external_id": pl.String(), "id": pl.Int64()})


def _missing_reference(
    frame: pl.DataFrame, known: pl.DataFrame, column: str, what: str
) -> pl.DataFrame:
    """Rows whose ``column`` names an escalation that is not stored."""
    unknown = frame.filter(pl.col(column).is_not_null()).join(
        known, left_on=column, right_on="external_id", how="anti"
    )
    return _problem(
        unknown,
        pl.lit(value=True),
        column,
        pl.format(
            f"no {what} with id '{{}}' is stored; import it first",
            _quoted(pl.col(column)),
        ),
    )


def validate_import(
    kind: str,
    frame: pl.DataFrame,
    *,
    connection: Connection,
    naive_time_zone: str = "UTC",
) -> ImportReport:
    """Check every row of a file of ``kind``; nothing is written.

    Parameters
    ----------
    kind
        One of :data:`KINDS`.
    frame
        The file as read by :func:`read_upload` (text columns, original headers).
    connection
        Used to look up the escalations that signals and level changes name.
    naive_time_zone
        IANA zone in which timestamps without an offset are read.

    Raises
    ------
    ImportFileError
        For problems of the whole file: no header, missing required columns,
        two headers meaning one column.
    ValueError
        For an unknown kind or time zone (a programming or usage error).
    """
    kind = normalise_kind(kind)
    try:
        zoneinfo.ZoneInfo(naive_time_zone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError, OSError):
        # An overlong name fails as a file name (OSError), not as a zone; the
        # message quotes only its start.
        shown = naive_time_zone[:QUOTE_CHARS] + (
            "…" if len(naive_time_zone) > QUOTE_CHARS else ""
        )
        message = f"unknown time zone {shown!r}; use an IANA name"
        raise ValueError(message) from None

    original = _as_text_columns(frame, "the file")
    matched = _matched_headers(kind, original.columns)
    columns = {column.name: column for column in FORMATS[kind]}
    present = tuple(matched.values())

    # Blank cells and surrounding spaces are not values.
    raw = original.select(
        pl.int_range(1, pl.len() + 1, dtype=pl.Int64).alias(ROW),
        *(
            pl.nth(original.columns.index(header))
            .str.strip_chars()
            .replace("", None)
            .alias(name)
            for header, name in matched.items()
        ),
        *(
            pl.lit(None, dtype=pl.String).alias(column.name)
            for column in FORMATS[kind]
            if column.name not in present
        ),
    )
    checked = raw.with_columns(
        *(
            _reason(
                column, pl.col(name), _parsed(column, pl.col(name), naive_time_zone)
            ).alias(_ERROR_PREFIX + name)
            for name, column in columns.items()
        ),
        *(
            _parsed(column, pl.col(name), naive_time_zone).alias(name)
            for name, column in columns.items()
        ),
    )

    parts = [
        _problem(
            checked,
            pl.col(_ERROR_PREFIX + name).is_not_null(),
            name,
            pl.col(_ERROR_PREFIX + name),
        )
        for name in columns
    ]
    values = checked.drop([_ERROR_PREFIX + name for name in columns])
    parts += _row_checks(kind, values, connection)
    problems = (
        pl.concat(parts, how="vertical")
        .unique(maintain_order=True)
        .sort(ROW, maintain_order=True)
    )

    bad_rows = problems.get_column(ROW).unique()
    valid = values.filter(~pl.col(ROW).is_in(bad_rows.implode()))
    rejects = _rejects(original, problems)
    return ImportReport(
        kind=kind,
        total_rows=frame.height,
        valid=valid,
        rejects=rejects,
        problems=problems,
        present=present,
        naive_time_zone=naive_time_zone,
    )


def _row_checks(
    kind: str, values: pl.DataFrame, connection: Connection
) -> list[pl.DataFrame]:
    """Checks across columns, across rows and against the database."""
    parts: list[pl.DataFrame] = []
    if kind == "escalations":
        parts.append(
            _problem(
                values,
                pl.col("escalated_at") < pl.col("first_signal_at"),
                "escalated_at",
                pl.lit("escalated before its first signal (first_signal_at)"),
            )
        )
        parts.append(
            _problem(
                values,
                pl.col("resolved_at") < pl.col("escalated_at"),
                "resolved_at",
                pl.lit("resolved before it was escalated (escalated_at)"),
            )
        )
        parts.append(
            _duplicates(values, ["escalation_id"], "escalation_id", "escalation_id")
        )
    elif kind == "accounts":
        parts.append(_duplicates(values, ["account_id"], "account_id", "account_id"))
    elif kind == "fixes":
        parts.append(_duplicates(values, ["fix_id"], "fix_id", "fix_id"))
        parts.append(
            _problem(
                values,
                pl.col("shipped_at") < pl.col("logged_at"),
                "shipped_at",
                pl.lit("shipped before it was logged (logged_at)"),
            )
        )
    elif kind == "signals":
        known = _external_ids(connection, _ESCALATION)
        parts.append(_missing_reference(values, known, "escalation_id", "escalation"))
        parts.append(
            _duplicates(
                values,
                ["account_id", "source", "observed_at", "text"],
                "observed_at",
                "signal (same account, source, observed_at and text)",
            )
        )
    elif kind == "level-changes":
        known = _external_ids(connection, _ESCALATION)
        parts.append(_missing_reference(values, known, "escalation_id", "escalation"))
        parts.append(
            _duplicates(
                values,
                ["escalation_id", "at", "from_level", "to_level"],
                "at",
                "level change (same escalation, at, from_level and to_level)",
            )
        )
    return parts


def _rejects(original: pl.DataFrame, problems: pl.DataFrame) -> pl.DataFrame:
    """Original rows of refused ones, with their row number, columns and reasons."""
    per_row = problems.group_by(ROW, maintain_order=True).agg(
        pl.col("column").unique(maintain_order=True).str.join(", ").alias("__column"),
        pl.format("{}: {}", pl.col("column"), pl.col("reason"))
        .str.join("; ")
        .alias("__reason"),
    )
    rows = original.with_row_index("__row", offset=1).with_columns(
        pl.col("__row").cast(pl.Int64)
    )
    joined = rows.join(per_row, left_on="__row", right_on=ROW, how="inner").sort(
        "__row"
    )
    names = {"__row": ROW, "__column": "column", "__reason": "reason"}
    taken = set(original.columns)
    # A file that has its own column called "reason" keeps it; ours gets a prefix.
    return joined.rename(
        {
            old: new if new not in taken else f"import_{new}"
            for old, new in names.items()
        }
    )


def reject_file_frame(report: ImportReport) -> pl.DataFrame:
    """The reject file: every refused original row plus its ``reason``."""
    added = {ROW, "column", f"import_{ROW}", "import_column"}
    keep = [i for i, name in enumerate(report.rejects.columns) if name not in added]
    return report.rejects.select(pl.nth(keep))


def problem_lines(report: ImportReport, limit: int = 20) -> list[str]:
    """The first problems as lines a person reads, then how many more there are."""
    shown = report.problems.head(limit)
    lines = [
        f"row {row}, column {column}: {reason}"
        for row, column, reason in shown.iter_rows()
    ]
    more = report.problems.height - shown.height
    if more > 0:
        lines.append(f"… and {more} more")
    return lines


# ---------------------------------------------------------------- writing


_PYTHON_DTYPES: dict[type[Any], pl.DataType] = {
    int: pl.Int64(),
    float: pl.Float64(),
}


def _schema(table: sa.Table, names: list[str]) -> dict[str, pl.DataType]:
    """Polars types of stored columns, as :func:`read_frame` reads them."""
    schema: dict[str, pl.DataType] = {}
    for name in names:
        sql_type = table.c[name].type
        python = sql_type.python_type
        # sqlmodel's UTCDateTime is a decorator whose python_type says object.
        if isinstance(sql_type, UTCDateTime) or issubclass(python, datetime):
            schema[name] = UTC_DATETIME
        elif issubclass(python, date):
            schema[name] = pl.Date()
        else:
            schema[name] = _PYTHON_DTYPES.get(python, pl.String())
    return schema


def _stored(connection: Connection, table: sa.Table, names: list[str]) -> pl.DataFrame:
    query = select(*(table.c[name] for name in names))
    return read_frame(connection, query, _schema(table, names))


@dataclass
class _Plan:
    """What an import would write."""

    table: sa.Table
    inserts: pl.DataFrame
    updates: pl.DataFrame
    unchanged: int
    accounts: pl.DataFrame | None = None
    compared: list[str] = field(default_factory=list)
    before: pl.DataFrame | None = None


def _next_ids(
    connection: Connection, table: sa.Table, frame: pl.DataFrame
) -> pl.DataFrame:
    """Give new rows ids after the highest stored one.

    The ids are chosen here, not by the database, so that the rows can go
    through the bulk fast path and children can point at new parents at once.
    NOTE: only safe under :func:`_hold_off_other_writers`, which keeps other
    writers from taking these ids before the import commits.
    """
    start = int(
        connection.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
    )
    return frame.with_columns(
        pl.int_range(start + 1, start + 1 + pl.len(), dtype=pl.Int64).alias("id")
    )


def _split(
    incoming: pl.DataFrame,
    stored: pl.DataFrame,
    keys: list[str],
    compared: list[str],
) -> tuple[pl.DataFrame, pl.DataFrame, int, pl.DataFrame]:
    """New rows, changed rows (with id), the unchanged count, changed rows as stored."""
    new = incoming.join(stored.select(keys), on=keys, how="anti", nulls_equal=True)
    matched = incoming.join(
        stored.select("id", *keys, *(c for c in compared if c not in keys)),
        on=keys,
        how="inner",
        nulls_equal=True,
        suffix="__stored",
    )
    if compared:
        differs = pl.any_horizontal(
            pl.col(name).ne_missing(pl.col(f"{name}__stored")) for name in compared
        )
    else:
        differs = pl.lit(value=False)
    changed = matched.filter(differs)
    before = changed.select(
        "id", *(pl.col(f"{name}__stored").alias(name) for name in compared)
    )
    updates = changed.select("id", *compared)
    return new, updates, matched.height - changed.height, before


def _account_ids(
    connection: Connection, valid: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The rows with ``account_ref`` resolved to ids, and the accounts to create."""
    stored = _external_ids(connection, _ACCOUNT)
    wanted = valid.group_by("account_id", maintain_order=True).agg(
        pl.col("account_name", "segment", "region", "team").drop_nulls().first()
    )
    missing = wanted.join(
        stored, left_on="account_id", right_on="external_id", how="anti"
    )
    created = _next_ids(
        connection,
        _ACCOUNT,
        missing.select(
            pl.col("account_id").alias("external_id"),
            pl.coalesce("account_name", "account_id").alias("name"),
            *(pl.col(c).fill_null(UNKNOWN) for c in ("segment", "region", "team")),
        ),
    )
    ids = pl.concat([stored, created.select("external_id", "id")], how="vertical")
    resolved = valid.join(
        ids.rename({"id": "__account"}),
        left_on="account_id",
        right_on="external_id",
        how="left",
    )
    return resolved.with_columns(pl.col("__account").alias("account_id")).drop(
        "__account"
    ), created


def _escalation_ids(
    connection: Connection, valid: pl.DataFrame, column: str
) -> pl.DataFrame:
    """``column`` (an escalation's external id) replaced by its stored id."""
    stored = _external_ids(connection, _ESCALATION).rename({"id": "__escalation"})
    resolved = valid.join(stored, left_on=column, right_on="external_id", how="left")
    lost = resolved.filter(
        pl.col(column).is_not_null() & pl.col("__escalation").is_null()
    )
    if lost.height:
        message = "escalations named in the file disappeared during the import"
        raise RuntimeError(message)
    return resolved.with_columns(pl.col("__escalation").alias(column)).drop(
        "__escalation"
    )


def _plan_accounts(connection: Connection, report: ImportReport) -> _Plan:
    valid = report.valid.rename({"account_id": "external_id"})
    compared: list[str] = [
        c
        for c in ("name", "segment", "region", "team", "annual_value", "renewal_date")
        if c in report.present
    ]
    stored = _stored(connection, _ACCOUNT, ["id", "external_id", *compared])
    new, updates, unchanged, _ = _split(valid, stored, ["external_id"], compared)
    inserts = new.select(
        "external_id",
        pl.coalesce("name", "external_id").alias("name"),
        *(pl.col(c).fill_null(UNKNOWN) for c in ("segment", "region", "team")),
        "annual_value",
        "renewal_date",
    )
    return _Plan(_ACCOUNT, inserts, updates, unchanged, compared=compared)


_ESCALATION_FIELDS = (
    "trigger_type",
    "severity",
    "first_signal_at",
    "escalated_at",
    "resolved_at",
    "status",
    "level",
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


def _plan_escalations(connection: Connection, report: ImportReport) -> _Plan:
    resolved, accounts = _account_ids(connection, report.valid)
    valid = resolved.rename({"escalation_id": "external_id"}).with_columns(
        pl.coalesce(
            "status",
            pl.when(pl.col("resolved_at").is_not_null())
            .then(pl.lit(EscalationStatus.RESOLVED.value))
            .otherwise(pl.lit(EscalationStatus.OPEN.value)),
        ),
        pl.col("level").fill_null(1),
        pl.col("raised_via").fill_null(RaisedVia.PROACTIVE.value),
    )
    # Columns the file leaves out keep their stored values on update.
    compared = [c for c in ("account_id", *_ESCALATION_FIELDS) if c in report.present]
    stored = _stored(connection, _ESCALATION, ["id", "external_id", *compared])
    new, updates, unchanged, _ = _split(valid, stored, ["external_id"], compared)
    inserts = new.select("external_id", "account_id", *_ESCALATION_FIELDS)
    return _Plan(
        _ESCALATION, inserts, updates, unchanged, accounts=accounts, compared=compared
    )


def _plan_signals(connection: Connection, report: ImportReport) -> _Plan:
    resolved, accounts = _account_ids(connection, report.valid)
    valid = _escalation_ids(connection, resolved, "escalation_id")
    keys = ["account_id", "source", "observed_at", "text"]
    compared: list[str] = [
        c for c in ("escalation_id", "author", "tone") if c in report.present
    ]
    stored = _stored(connection, _SIGNAL, ["id", *keys, *compared])
    new, updates, unchanged, _ = _split(valid, stored, keys, compared)
    inserts = new.select(*keys, "escalation_id", "author", "tone")
    return _Plan(
        _SIGNAL, inserts, updates, unchanged, accounts=accounts, compared=compared
    )


_LEVEL_FIELDS = (*(column.name for column in _STRUCTURE), "note")


def _plan_level_changes(connection: Connection, report: ImportReport) -> _Plan:
    valid = _escalation_ids(connection, report.valid, "escalation_id")
    keys = ["escalation_id", "at", "from_level", "to_level"]
    compared = [c for c in _LEVEL_FIELDS if c in report.present]
    stored = _stored(connection, _LEVEL_CHANGE, ["id", *keys, *compared])
    new, updates, unchanged, _ = _split(valid, stored, keys, compared)
    inserts = new.select(*keys, *_LEVEL_FIELDS)
    return _Plan(_LEVEL_CHANGE, inserts, updates, unchanged, compared=compared)


_FIX_FIELDS = (
    "title",
    "trigger_type",
    "root_cause",
    "owner",
    "status",
    "logged_at",
    "due_at",
    "shipped_at",
    "expected_effect",
    "author",
    "abandon_reason",
)


def _plan_fixes(connection: Connection, report: ImportReport) -> _Plan:
    valid = report.valid.rename(
        {"fix_id": "external_id", "due_on": "due_at"}
    ).with_columns(pl.col("status").fill_null(FixStatus.PROPOSED.value))
    present = {"due_at" if c == "due_on" else c for c in report.present}
    compared = [c for c in _FIX_FIELDS if c in present]
    stored = _stored(connection, _FIX, ["id", "external_id", *compared])
    new, updates, unchanged, before = _split(valid, stored, ["external_id"], compared)
    inserts = new.select("external_id", *_FIX_FIELDS).with_columns(
        pl.lit(1, dtype=pl.Int64).alias("version")
    )
    return _Plan(_FIX, inserts, updates, unchanged, compared=compared, before=before)


_PLANNERS: dict[str, Callable[[Connection, ImportReport], _Plan]] = {
    "accounts": _plan_accounts,
    "escalations": _plan_escalations,
    "signals": _plan_signals,
    "level-changes": _plan_level_changes,
    "fixes": _plan_fixes,
}
# The tables whose ids an import of each kind chooses itself (see _next_ids).
_ID_TABLES: dict[str, tuple[sa.Table, ...]] = {
    "accounts": (_ACCOUNT,),
    "escalations": (_ACCOUNT, _ESCALATION),
    "signals": (_ACCOUNT, _SIGNAL),
    "level-changes": (_LEVEL_CHANGE,),
    "fixes": (_FIX,),
}


def _hold_off_other_writers(connection: Connection, kind: str) -> None:
    """Keep other writers out from the plan's first read until the commit.

    The plan reads the stored rows and the highest ids, then inserts rows with
    the ids after them. A fix saved from a form in between would take one of
    those ids and make the whole import fail; with this lock it waits instead.
    SQLite: ``BEGIN IMMEDIATE`` takes the database's write lock before the first
    read (the driver alone would begin only at the first insert, after the
    reads). PostgreSQL: SHARE ROW EXCLUSIVE on the tables whose ids the import
    chooses lets readers on and makes inserting writers, and a second import,
    wait for the commit.
    """
    raw: Any = connection.connection.dbapi_connection
    if connection.dialect.name == "sqlite" and isinstance(raw, sqlite3.Connection):
        if not raw.in_transaction:
            with as_sqlalchemy_errors(connection.dialect, "import (sqlite lock)"):
                raw.execute("BEGIN IMMEDIATE")
    elif connection.dialect.name == "postgresql":
        preparer = connection.dialect.identifier_preparer
        names = ", ".join(preparer.format_table(table) for table in _ID_TABLES[kind])
        # Table names from the models, quoted by the dialect; nothing to bind.
        connection.execute(sa.text(f"LOCK TABLE {names} IN SHARE ROW EXCLUSIVE MODE"))


def _fast_insert(
    connection: Connection, table: sa.Table, frame: pl.DataFrame, tally: Tally
) -> None:
    """Insert a frame (ids included) inside the connection's transaction."""
    if frame.height == 0:
        return
    dialect = connection.dialect
    raw: Any = connection.connection.dbapi_connection
    if dialect.name == "sqlite" and isinstance(raw, sqlite3.Connection):
        # The driver would only begin at the first INSERT; an explicit BEGIN keeps
        # the reads above and every write below in one transaction either way.
        if not raw.in_transaction:
            raw.execute("BEGIN")
        with as_sqlalchemy_errors(dialect, "import (sqlite executemany)"):
            # A big load into an empty table: rebuilding its indexes afterwards
            # is about twice as fast as keeping them up to date row by row.
            deferred = (
                drop_sqlite_indexes(raw, table)
                if worth_rebuilding(raw, table, frame)
                else []
            )
            sqlite_insert(raw, table, frame, tally)
            for statement in deferred:
                raw.execute(statement)
    elif dialect.name == "postgresql" and dialect.driver == "psycopg":
        with as_sqlalchemy_errors(dialect, "import (postgresql COPY)"):
            postgres_copy(raw, table, frame, tally)
    else:
        core_insert(connection, table, frame, tally)


def _update(
    connection: Connection,
    table: sa.Table,
    frame: pl.DataFrame,
    extra: Mapping[str, Any],
    tally: Tally,
) -> None:
    """One executemany updating the changed rows by id."""
    if frame.height == 0:
        return
    columns = [c for c in frame.columns if c != "id"]
    statement = (
        update(table)
        .where(table.c.id == bindparam("row_id"))
        .values({**{name: bindparam(f"new_{name}") for name in columns}, **extra})
    )
    rows = frame.select(
        pl.col("id").alias("row_id"), *(pl.col(c).alias(f"new_{c}") for c in columns)
    ).to_dicts()
    connection.execute(statement, rows)
    tally.add(table.name, frame.height)


def _fix_history(plan: _Plan, now: datetime) -> list[dict[str, Any]]:
    """History rows: ``created`` for new fixes, one per changed field otherwise."""
    rows: list[dict[str, Any]] = []
    for fix in plan.inserts.to_dicts():
        snapshot = {
            name: as_text(fix[name]) for name in _FIX_FIELDS if name != "logged_at"
        }
        snapshot["external_id"] = fix["external_id"]
        rows.append(
            {
                "fix_id": fix["id"],
                "at": now,
                "author": IMPORT_AUTHOR,
                "field": CREATED,
                "old_value": None,
                "new_value": json.dumps(snapshot, sort_keys=True),
            }
        )
    if plan.before is not None:
        for after, before in zip(
            plan.updates.to_dicts(), plan.before.to_dicts(), strict=True
        ):
            for name in plan.compared:
                if before[name] != after[name]:
                    rows.append(
                        {
                            "fix_id": after["id"],
                            "at": now,
                            "author": IMPORT_AUTHOR,
                            "field": name,
                            "old_value": as_text(before[name]),
                            "new_value": as_text(after[name]),
                        }
                    )
    return rows


def run_import(
    report: ImportReport,
    *,
    engine: Engine,
    skip_invalid: bool,
    dry_run: bool,
    progress: Callable[[float], None] | None = None,
    now: datetime | None = None,
) -> ImportResult:
    """Write the valid rows of a validated file in one transaction.

    A file with refused rows writes nothing unless ``skip_invalid``. With
    ``dry_run`` the counts are worked out and nothing is written. Every write
    bumps the data version in the same transaction; a failure rolls all back.
    ``progress`` is called with the fraction of rows written (0 to 1).
    """
    rejected = report.rejects.height
    if not report.ok and not skip_invalid:
        return ImportResult(rejected=rejected)
    moment = now or datetime.now(UTC)

    with engine.begin() as connection:
        if not dry_run:
            _hold_off_other_writers(connection, report.kind)
        plan = _PLANNERS[report.kind](connection, report)
        accounts = plan.accounts if plan.accounts is not None else pl.DataFrame()
        result = ImportResult(
            inserted=plan.inserts.height,
            updated=plan.updates.height,
            unchanged=plan.unchanged,
            rejected=rejected,
            accounts_created=accounts.height,
            written=not dry_run and bool(plan.inserts.height or plan.updates.height),
        )
        if dry_run or not result.written:
            return result

        total = accounts.height + plan.inserts.height + plan.updates.height
        tally = Tally(total, None if progress is None else lambda _t, f: progress(f))
        _fast_insert(connection, _ACCOUNT, accounts, tally)
        inserts = _next_ids(connection, plan.table, plan.inserts)
        _fast_insert(connection, plan.table, inserts, tally)
        extra: dict[str, Any] = {}
        if plan.table is _FIX:
            extra = {"version": _FIX.c.version + 1, "updated_at": moment}
        _update(connection, plan.table, plan.updates, extra, tally)
        if plan.table is _FIX:
            plan.inserts = inserts
            history = _fix_history(plan, moment)
            if history:
                connection.execute(sa.insert(_HISTORY), history)
        # Fixes are not part of the escalation history; accounts created for
        # them are.
        bump_data_version(
            connection=connection,
            history=plan.table is not _FIX or accounts.height > 0,
        )
    log.info(
        "imported %s %s: %s inserted, %s updated, %s unchanged, %s rejected",
        report.total_rows,
        report.kind,
        result.inserted,
        result.updated,
        result.unchanged,
        result.rejected,
    )
    return result
