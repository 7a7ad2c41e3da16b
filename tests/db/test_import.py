"""Importing history files: the examples, bad rows, whole-file problems, repeats."""

import io
import json
from datetime import UTC, datetime
from pathlib import Path

import polars as pl
import pytest
from sqlalchemy import Engine, func, select

from db.importer import (
    ImportFileError,
    ImportReport,
    problem_lines,
    read_file,
    read_upload,
    reject_file_frame,
    run_import,
    validate_import,
)
from db.models import Account, Escalation, LevelChange, ProcessFix, ProcessFixHistory
from db.models import Signal as SignalModel
from db.version import read_data_version, read_versions

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
EXAMPLE_FILES = {
    "accounts": "accounts.csv",
    "escalations": "escalations.csv",
    "signals": "signals.jsonl",
    "level-changes": "level-changes.csv",
    "fixes": "fixes.csv",
}
MAX_BYTES = 10 * 1024 * 1024
TABLES = (Account, Escalation, SignalModel, LevelChange, ProcessFix, ProcessFixHistory)
ESCALATION_HEADER = (
    "escalation_id,account_id,trigger_type,severity,first_signal_at,escalated_at"
)


def csv_frame(text: str, name: str = "upload.csv") -> pl.DataFrame:
    return read_upload(text.encode(), name, max_bytes=MAX_BYTES)


def validate(
    engine: Engine, kind: str, frame: pl.DataFrame, zone: str = "UTC"
) -> ImportReport:
    with engine.connect() as connection:
        return validate_import(kind, frame, connection=connection, naive_time_zone=zone)


def import_example(engine: Engine, kind: str) -> ImportReport:
    report = validate(
        engine, kind, read_file(EXAMPLES / EXAMPLE_FILES[kind], max_bytes=MAX_BYTES)
    )
    assert report.ok, report.problems
    run_import(report, engine=engine, skip_invalid=False, dry_run=False)
    return report


def snapshot(engine: Engine) -> tuple[int, ...]:
    """Row counts of every history table and the data version."""
    with engine.connect() as connection:
        counts = tuple(
            int(
                connection.execute(select(func.count()).select_from(model)).scalar_one()
            )
            for model in TABLES
        )
        return (*counts, read_data_version(connection=connection))


def test_every_example_imports_cleanly_and_a_second_time_changes_nothing(
    db_engine: Engine,
) -> None:
    for kind in EXAMPLE_FILES:
        import_example(db_engine, kind)
    before = snapshot(db_engine)

    results = []
    for kind, name in EXAMPLE_FILES.items():
        report = validate(
            db_engine, kind, read_file(EXAMPLES / name, max_bytes=MAX_BYTES)
        )
        results.append(
            run_import(report, engine=db_engine, skip_invalid=False, dry_run=False)
        )

    assert before[:-1] == (4, 4, 3, 2, 2, 2)
    assert snapshot(db_engine) == before
    assert all(r.inserted == 0 and r.updated == 0 for r in results)
    assert [r.unchanged for r in results] == [3, 4, 3, 2, 2]


def test_escalations_are_normalised_and_their_missing_account_created(
    db_engine: Engine,
) -> None:
    import_example(db_engine, "escalations")

    with db_engine.connect() as connection:
        rows = {
            row.external_id: row
            for row in connection.execute(select(Escalation.__table__))  # type: ignore[attr-defined]
        }
        delta = connection.execute(
            select(Account.__table__).where(
                Account.__table__.c.external_id == "DELTA-031"
            )  # type: ignore[attr-defined]
        ).one()

    assert {r.severity for r in rows.values()} == {"critical", "high", "low"}
    assert rows["ZD-10231"].trigger_type == "data_loss"
    assert rows["ZD-10231"].first_signal_at == datetime(2026, 3, 2, 7, 15, tzinfo=UTC)
    # No offset: read in the default zone, UTC.
    assert rows["ZD-10240"].escalated_at == datetime(2026, 3, 9, 14, 30, tzinfo=UTC)
    assert rows["ZD-10257"].status == "resolved"
    assert (delta.name, delta.segment, delta.region, delta.team) == (
        "DELTA-031",
        "unknown",
        "unknown",
        "unknown",
    )


def test_naive_timestamps_are_read_in_the_given_zone(db_engine: Engine) -> None:
    frame = csv_frame(
        f"{ESCALATION_HEADER}\nE1,A1,x,high,2026-07-01 09:00,2026-07-01T10:00\n"
    )

    report = validate(db_engine, "escalations", frame, zone="Europe/Paris")

    assert report.valid["first_signal_at"].to_list() == [
        datetime(2026, 7, 1, 7, tzinfo=UTC)
    ]


@pytest.mark.parametrize(
    ("alias", "severity"),
    [
        ("SEV1", "critical"),
        ("p1", "critical"),
        ("Urgent", "critical"),
        ("blocker", "critical"),
        ("sev2", "high"),
        ("P2", "high"),
        ("MAJOR", "high"),
        ("sev-3", "medium"),
        ("p3", "medium"),
        ("normal", "medium"),
        ("moderate", "medium"),
        ("sev4", "low"),
        ("p4", "low"),
        ("minor", "low"),
        ("Trivial", "low"),
        ("High", "high"),
    ],
)
def test_severity_aliases(alias: str, severity: str, sqlite_engine: Engine) -> None:
    frame = csv_frame(f"{ESCALATION_HEADER}\nE1,A1,x,{alias},2026-01-01,2026-01-02\n")

    report = validate(sqlite_engine, "escalations", frame)

    assert report.valid["severity"].to_list() == [severity]


def test_headers_ignore_case_spaces_dashes_and_underscores(
    sqlite_engine: Engine,
) -> None:
    frame = csv_frame(
        "ESCALATION ID,account-id,TriggerType,severity,First_Signal_At,escalated at\n"
        "E1,A1,x,low,2026-01-01T00:00:00Z,2026-01-02T00:00:00Z\n"
    )

    report = validate(sqlite_engine, "escalations", frame)

    assert report.ok
    assert report.valid["escalation_id"].to_list() == ["E1"]


GOOD = "E{n},A1,outage,high,2026-01-01T00:00:00Z,2026-01-02T00:00:00Z"
BAD_ROWS = [
    (
        "E2,A1,outage,high,2026-13-01T00:00:00Z,2026-01-02T00:00:00Z",
        "first_signal_at",
        "unparseable date '2026-13-01T00:00:00Z': use ISO 8601 such as "
        "2026-05-04T09:30:00+02:00",
    ),
    (
        "E2,A1,outage,high,2026-01-03T00:00:00Z,2026-01-02T00:00:00Z",
        "escalated_at",
        "escalated before its first signal (first_signal_at)",
    ),
    (
        "E2,A1,outage,sev9,2026-01-01T00:00:00Z,2026-01-02T00:00:00Z",
        "severity",
        "unknown severity 'sev9': use critical, high, medium or low (or sev1-sev4, "
        "p1-p4)",
    ),
    (
        "E2,,outage,high,2026-01-01T00:00:00Z,2026-01-02T00:00:00Z",
        "account_id",
        "missing required value",
    ),
    (
        "E1,A1,outage,high,2026-01-01T00:00:00Z,2026-01-02T00:00:00Z",
        "escalation_id",
        "escalation_id repeated in the file: it appears 2 times (rows 1, 2)",
    ),
    (
        "E2," + "A" * 65 + ",outage,high,2026-01-01T00:00:00Z,2026-01-02T00:00:00Z",
        "account_id",
        "text over its length limit: 65 characters, the limit is 64",
    ),
    (
        "E2,A1,out@ge,high,2026-01-01T00:00:00Z,2026-01-02T00:00:00Z",
        "trigger_type",
        "trigger type 'out@ge' may hold only letters, digits, spaces, dashes and "
        "underscores",
    ),
]


@pytest.mark.parametrize(("row", "column", "reason"), BAD_ROWS)
def test_each_bad_row_is_reported_and_nothing_is_written(
    row: str, column: str, reason: str, db_engine: Engine
) -> None:
    frame = csv_frame(f"{ESCALATION_HEADER}\n{GOOD.format(n=1)}\n{row}\n")
    before = snapshot(db_engine)

    report = validate(db_engine, "escalations", frame)
    result = run_import(report, engine=db_engine, skip_invalid=False, dry_run=False)

    assert not report.ok
    assert (2, column, reason) in report.problems.rows()
    assert result.written is False
    assert snapshot(db_engine) == before


@pytest.mark.parametrize(
    ("kind", "text", "column", "reason"),
    [
        (
            "signals",
            "account_id,source,observed_at,text,escalation_id\n"
            "A1,ticket,2026-01-01T00:00:00Z,hello,NOPE\n",
            "escalation_id",
            "no escalation with id 'NOPE' is stored; import it first",
        ),
        (
            "level-changes",
            "escalation_id,at,from_level,to_level\nNOPE,2026-01-01T00:00:00Z,1,2\n",
            "escalation_id",
            "no escalation with id 'NOPE' is stored; import it first",
        ),
        (
            "signals",
            "account_id,source,observed_at,text\nA1,fax,2026-01-01T00:00:00Z,hi\n",
            "source",
            "unknown source 'fax': use one of ticket, chat, call_transcript, "
            "account_review, renewal_conversation",
        ),
        (
            "level-changes",
            "escalation_id,at,from_level,to_level\nNOPE,2026-01-01T00:00:00Z,one,2\n",
            "from_level",
            "'one' is not a whole number",
        ),
    ],
)
def test_references_and_values_of_other_kinds(
    kind: str, text: str, column: str, reason: str, db_engine: Engine
) -> None:
    report = validate(db_engine, kind, csv_frame(text))

    assert (1, column, reason) in report.problems.rows()


def test_problem_lines_stop_at_twenty_and_count_the_rest(sqlite_engine: Engine) -> None:
    rows = "\n".join(f"E{n},A1,x,sev9,2026-01-01,2026-01-02" for n in range(25))
    report = validate(
        sqlite_engine, "escalations", csv_frame(f"{ESCALATION_HEADER}\n{rows}\n")
    )

    lines = problem_lines(report)

    assert len(lines) == 21
    assert lines[0].startswith("row 1, column severity: unknown severity 'sev9'")
    assert lines[-1] == "… and 5 more"


def test_skip_invalid_writes_the_valid_rows_and_keeps_the_rejects(
    db_engine: Engine,
) -> None:
    frame = csv_frame(
        f"{ESCALATION_HEADER},owner\n"
        "E1,A1,x,high,2026-01-01,2026-01-02,Ann\n"
        "E2,A1,x,sev9,2026-01-01,2026-01-02,Bob\n"
        "E3,A1,x,low,2026-01-05,2026-01-02,Cy\n"
    )

    report = validate(db_engine, "escalations", frame)
    result = run_import(report, engine=db_engine, skip_invalid=True, dry_run=False)
    rejects = reject_file_frame(report)

    assert (result.inserted, result.rejected) == (1, 2)
    assert rejects.columns == [*frame.columns, "reason"]
    assert rejects["escalation_id"].to_list() == ["E2", "E3"]
    assert rejects["reason"][0].startswith("severity: unknown severity 'sev9'")
    assert rejects["reason"][1] == (
        "escalated_at: escalated before its first signal (first_signal_at)"
    )
    assert snapshot(db_engine)[1] == 1


def test_dry_run_counts_and_writes_nothing(db_engine: Engine) -> None:
    report = validate(
        db_engine,
        "escalations",
        read_file(EXAMPLES / "escalations.csv", max_bytes=MAX_BYTES),
    )
    before = snapshot(db_engine)

    result = run_import(report, engine=db_engine, skip_invalid=False, dry_run=True)

    assert (result.inserted, result.accounts_created, result.written) == (4, 4, False)
    assert snapshot(db_engine) == before


def test_a_changed_row_updates_its_record(db_engine: Engine) -> None:
    import_example(db_engine, "escalations")
    version = snapshot(db_engine)[-1]
    frame = csv_frame(
        f"{ESCALATION_HEADER},owner\n"
        "ZD-10240,BLUE-014,renewal at risk,critical,"
        "2026-03-05 09:00,2026-03-09 14:30,Zoe\n"
    )

    result = run_import(
        validate(db_engine, "escalations", frame),
        engine=db_engine,
        skip_invalid=False,
        dry_run=False,
    )

    with db_engine.connect() as connection:
        row = connection.execute(
            select(Escalation.__table__).where(
                Escalation.__table__.c.external_id == "ZD-10240"
            )  # type: ignore[attr-defined]
        ).one()
    assert (result.updated, result.unchanged) == (1, 0)
    assert (row.severity, row.owner, row.status) == ("critical", "Zoe", "open")
    assert snapshot(db_engine)[-1] == version + 1


def test_imports_move_the_history_version_unless_they_bring_only_fixes(
    db_engine: Engine,
) -> None:
    def versions() -> tuple[int, int]:
        with db_engine.connect() as connection:
            return read_versions(connection=connection)

    steps = [versions()]
    for kind in ("accounts", "escalations", "fixes"):
        import_example(db_engine, kind)
        steps.append(versions())

    # (data version, history version) after each import: the fixes file names
    # no new account, so only the data version moves for it.
    assert [(data - steps[0][0], history - steps[0][1]) for data, history in steps] == [
        (0, 0),
        (1, 1),
        (2, 2),
        (3, 2),
    ]


def test_a_changed_fix_shows_in_its_history(db_engine: Engine) -> None:
    import_example(db_engine, "fixes")
    text = (
        (EXAMPLES / "fixes.csv")
        .read_text()
        .replace("2026-04-15,,Escalate", "2026-04-30,,Escalate")
        .replace(",proposed,", ",in_progress,")
    )

    result = run_import(
        validate(db_engine, "fixes", csv_frame(text)),
        engine=db_engine,
        skip_invalid=False,
        dry_run=False,
    )

    history = _HISTORY_ROWS(db_engine)
    assert (result.updated, result.unchanged) == (1, 1)
    assert ("created", "import") in {(field, author) for field, author, *_ in history}
    changed = {
        field: (old, new) for field, author, old, new in history if field != "created"
    }
    assert changed == {
        "status": ("proposed", "in_progress"),
        "due_at": ("2026-04-15T00:00:00+00:00", "2026-04-30T00:00:00+00:00"),
    }
    with db_engine.connect() as connection:
        version = connection.execute(
            select(ProcessFix.__table__.c.version).where(  # type: ignore[attr-defined]
                ProcessFix.__table__.c.external_id == "JIRA-OPS-91"  # type: ignore[attr-defined]
            )
        ).scalar_one()
    assert version == 2


def _HISTORY_ROWS(engine: Engine) -> list[tuple[str, str, str | None, str | None]]:
    table = ProcessFixHistory.__table__  # type: ignore[attr-defined]
    with engine.connect() as connection:
        rows = connection.execute(
            select(table.c.field, table.c.author, table.c.old_value, table.c.new_value)
        ).all()
    return [tuple(row) for row in rows]  # type: ignore[misc]


def test_parquet_and_json_lines_read_like_csv(sqlite_engine: Engine) -> None:
    frame = pl.DataFrame(
        {
            "escalation_id": ["E1"],
            "account_id": ["A1"],
            "trigger_type": ["x"],
            "severity": ["p1"],
            "first_signal_at": [datetime(2026, 1, 1, tzinfo=UTC)],
            "escalated_at": [datetime(2026, 1, 2, tzinfo=UTC)],
            "level": [2],
        }
    )
    buffer = io.BytesIO()
    frame.write_parquet(buffer)
    lines = "\n".join(json.dumps(row, default=str) for row in frame.to_dicts())

    from_parquet = validate(
        sqlite_engine,
        "escalations",
        read_upload(buffer.getvalue(), "e.parquet", max_bytes=MAX_BYTES),
    )
    from_json = validate(
        sqlite_engine,
        "escalations",
        read_upload(lines.encode(), "e.jsonl", max_bytes=MAX_BYTES),
    )

    for report in (from_parquet, from_json):
        assert report.ok, report.problems
        assert report.valid["first_signal_at"].to_list() == [
            datetime(2026, 1, 1, tzinfo=UTC)
        ]
        assert report.valid["level"].to_list() == [2]


@pytest.mark.parametrize(
    ("data", "name", "message"),
    [
        (b"", "e.csv", "e.csv is empty"),
        (b"  \n\n", "e.csv", "e.csv is empty"),
        (
            ESCALATION_HEADER.encode() + b"\n",
            "e.csv",
            "e.csv is empty: it has a header but no data rows",
        ),
        (
            b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR",
            "e.csv",
            "e.csv is not a table: it holds binary data",
        ),
        (
            "escalation_id,account_id\nE1,Société\n".encode("latin-1"),
            "e.csv",
            "e.csv is not UTF-8 text (byte 0xE9 at offset 32); save it as UTF-8 "
            "and import it again",
        ),
        (
            b"{not json\n",
            "e.jsonl",
            "e.jsonl is not a JSON Lines table (one JSON object a line): ",
        ),
        (
            b"PAR1 this is not really parquet",
            "e.parquet",
            "e.parquet is not a readable Parquet file: ",
        ),
        (b"a,b\n1,2,3,4\n", "e.csv", "e.csv is not a readable CSV table: "),
    ],
)
def test_whole_file_problems_are_one_line(data: bytes, name: str, message: str) -> None:
    with pytest.raises(ImportFileError) as caught:
        read_upload(data, name, max_bytes=MAX_BYTES)

    assert str(caught.value).startswith(message)
    assert "\n" not in str(caught.value)


def test_a_file_over_the_size_limit_is_refused_before_reading() -> None:
    with pytest.raises(
        ImportFileError,
        match=(
            r"^big.csv is 2.0 MB, over the import limit of 1 MB "
            r"\(set ESCALATION_HEALTH_MAX_IMPORT_MB to raise it\)$"
        ),
    ):
        read_upload(b"x" * (2 * 1024 * 1024), "big.csv", max_bytes=1024 * 1024)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            "escalation_id,account_id,severity\nE1,A1,high\n",
            "missing required column(s) for escalations: trigger_type, "
            "first_signal_at, escalated_at",
        ),
        (
            "E1,A1,x,high,2026-01-01,2026-01-02\nE2,A1,x,high,2026-01-01,2026-01-02\n",
            "the file has no header row for escalations: its first row ('E1', 'A1', "
            "'x', 'high', '2026-01-01') names none of the columns; expected "
            "escalation_id, account_id, trigger_type, severity, first_signal_at, "
            "escalated_at",
        ),
        (
            f"{ESCALATION_HEADER},Escalation-ID\nE1,A1,x,high,2026-01-01,2026-01-02,E1\n",
            "columns 'escalation_id' and 'Escalation-ID' both mean 'escalation_id'; "
            "keep one of them",
        ),
    ],
)
def test_header_problems_are_whole_file_errors(
    text: str, message: str, sqlite_engine: Engine
) -> None:
    with pytest.raises(ImportFileError) as caught:
        validate(sqlite_engine, "escalations", csv_frame(text))

    assert str(caught.value) == message
