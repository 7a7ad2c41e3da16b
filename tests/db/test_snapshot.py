"""The columnar copy of the history, on SQLite and PostgreSQL.

Every frame the copy returns is compared with what the row-by-row loader reads
from the same database at the same moment: the loader is the independent
reference, and the copy must match it exactly (values, nulls, dtypes, order).
"""

import logging
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import polars as pl
import pytest
from polars.testing import assert_frame_equal
from sqlalchemy import Engine, text

import db.queries
import db.snapshot
from db.fixes import create_fix
from db.queries import load_escalations, load_level_changes
from db.snapshot import (
    FILE_PREFIX,
    SnapshotKey,
    load_consistent,
    load_escalation_snapshot,
    load_level_change_snapshot,
    read_snapshot_key,
)
from db.version import read_data_version
from tests.conftest import make_engine
from tests.factories import (
    account,
    at,
    escalation,
    fix_input,
    level_change,
    write,
)

UTC_DATETIME = pl.Datetime("us", "UTC")
# What the metrics command reads.
METRIC_COLUMNS = (
    "id",
    "account_id",
    "trigger_type",
    "severity",
    "first_signal_at",
    "escalated_at",
)


def direct(engine: Engine, columns: tuple[str, ...] | None = None) -> pl.DataFrame:
    """The reference: the loader, straight from the database."""
    with engine.connect() as connection:
        return load_escalations(connection=connection, columns=columns)


def copies(folder: Path) -> list[str]:
    """Names of the copies in ``folder``."""
    return sorted(path.name for path in folder.glob(f"{FILE_PREFIX}-*.parquet"))


def awkward_history(engine: Engine) -> None:
    """Rows that trip up text and CSV readers, NULLs first in every column.

    The first escalations have no resolved_at, owner or packet answers, and the
    later ones have them, so a reader that guesses types from the first rows
    meets a change of type; names carry commas, quotes, newlines and non-ASCII.
    """
    atlas, boreal = write(
        engine,
        account(name='Atlas, "Foods"\nEMEA', team="Atlas", segment="enterprise"),
        account(name="Børeal Frèight ✈", team="", segment="smb"),
    )
    rows = [
        escalation(atlas, at("2026-03-02", 9 + i), 10 + i, severity="high")
        for i in range(3)
    ]
    rows += [
        escalation(
            boreal,
            at("2026-03-10", 0.000001 * 7),
            0.5,
            severity="critical",
            trigger_type="billing_dispute",
            owner="",
            evidence="   ",
            decision_needed="Approve the credit, yes or no",
            next_owner="Dana Okafor",
            consequence_if_unchanged="",
            exit_evidence="Two clean invoices",
            resolved_at=at("2026-03-12", 3.25),
            status="resolved",
        ),
        escalation(
            atlas,
            at("1969-12-31", 23.5),
            1,
            severity="low",
            owner='Sam "Ops" Lee, Jr.',
            evidence="Call notes,\nwith a newline",
        ),
    ]
    write(engine, *rows)


@pytest.fixture(autouse=True)
def _column_reader_at_any_size(monkeypatch: pytest.MonkeyPatch) -> None:
    # SQLite's column reader runs in a child process and only pays off from
    # tens of thousands of rows; these tests need it on five.
    monkeypatch.setattr(db.snapshot, "SQLITE_CHILD_FROM_ROWS", 0)


def test_the_copy_equals_the_loaders_frame(
    db_engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    awkward_history(db_engine)
    folder = tmp_path / "cache"

    with caplog.at_level(logging.WARNING):
        built = load_escalation_snapshot(db_engine, folder=folder)
        read_back = load_escalation_snapshot(db_engine, folder=folder)
        subset = load_escalation_snapshot(db_engine, METRIC_COLUMNS, folder=folder)

    reference = direct(db_engine)
    assert reference.height == 5
    assert_frame_equal(built, reference)
    assert_frame_equal(read_back, reference)
    assert_frame_equal(subset, direct(db_engine, METRIC_COLUMNS))
    for name in ("first_signal_at", "escalated_at", "resolved_at"):
        assert read_back.schema[name] == UTC_DATETIME
    # The column-by-column reader handled every row itself: no fallback warning.
    assert caplog.records == []


def test_the_copy_is_read_on_the_second_call(
    db_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    awkward_history(db_engine)
    folder = tmp_path / "cache"
    loads: list[str] = []
    real_load = db.snapshot._load

    def counting_load(
        engine: Engine, source: Any, columns: tuple[str, ...]
    ) -> tuple[SnapshotKey, pl.DataFrame]:
        loads.append(source.name)
        return real_load(engine, source, columns)

    real_copy = db.snapshot._copy_sqlite_adbc

    def counting_copy(
        engine: Engine, path: str, source: Any, folder: Path
    ) -> SnapshotKey:
        loads.append(source.name)
        return real_copy(engine, path, source, folder)

    # Both ways a copy is built read the database: here, or in the helper
    # process that writes the file itself (a large SQLite history).
    monkeypatch.setattr(db.snapshot, "_load", counting_load)
    monkeypatch.setattr(db.snapshot, "_copy_sqlite_adbc", counting_copy)
    first = load_escalation_snapshot(db_engine, METRIC_COLUMNS, folder=folder)
    # A change that skips the data version: only a reader of the copy misses it.
    with db_engine.begin() as connection:
        connection.execute(text("UPDATE escalation SET severity = 'medium'"))
    second = load_escalation_snapshot(db_engine, METRIC_COLUMNS, folder=folder)

    assert loads == ["escalations"]
    assert_frame_equal(second, first)
    assert "medium" not in second["severity"].to_list()
    assert direct(db_engine)["severity"].unique().to_list() == ["medium"]


def test_a_write_reloads_once_and_removes_the_old_copy(
    db_engine: Engine, tmp_path: Path
) -> None:
    awkward_history(db_engine)
    folder = tmp_path / "cache"
    before = load_escalation_snapshot(db_engine, folder=folder)
    old_copies = copies(folder)

    (atlas_id,) = direct(db_engine, ("account_id",))["account_id"].head(1)
    (new_id,) = write(
        db_engine, escalation(atlas_id, at("2026-03-20"), 5, severity="medium")
    )
    after = load_escalation_snapshot(db_engine, folder=folder)

    assert before.height == 5
    assert after.height == 6
    assert after["id"].to_list()[-1] == new_id
    assert_frame_equal(after, direct(db_engine))
    assert len(old_copies) == 1
    assert len(copies(folder)) == 1
    assert copies(folder) != old_copies
    # The version bumped by one: 2 writes in awkward_history, then this one.
    with db_engine.connect() as connection:
        assert read_data_version(connection=connection) == 3
    assert "-v3-" in copies(folder)[0]


@pytest.fixture
def other_sqlite(tmp_path: Path) -> Iterator[Engine]:
    """A second migrated SQLite database beside the test's own."""
    (tmp_path / "other").mkdir()
    yield from make_engine("sqlite", tmp_path / "other")


def test_another_databases_copy_is_kept(
    db_engine: Engine, other_sqlite: Engine, tmp_path: Path
) -> None:
    awkward_history(db_engine)
    awkward_history(other_sqlite)
    folder = tmp_path / "cache"
    load_escalation_snapshot(db_engine, folder=folder)
    load_escalation_snapshot(other_sqlite, folder=folder)

    # A write to the second database replaces its copy only.
    (account_id,) = direct(other_sqlite, ("account_id",))["account_id"].head(1)
    write(other_sqlite, escalation(account_id, at("2026-03-21"), 2))
    load_escalation_snapshot(other_sqlite, folder=folder)

    with db_engine.connect() as connection:
        first_key = read_snapshot_key(connection=connection)
    names = copies(folder)
    assert len(names) == 2
    assert first_key.file_name() in names


def test_a_restored_backup_with_the_same_number_is_not_served_the_old_copy(
    db_engine: Engine, tmp_path: Path
) -> None:
    awkward_history(db_engine)
    folder = tmp_path / "cache"
    load_escalation_snapshot(db_engine, folder=folder)

    # A backup taken at the same version numbers, with other rows in it: the
    # rows change and the moments differ, the counters do not.
    with db_engine.begin() as connection:
        connection.execute(text("UPDATE escalation SET trigger_type = 'restored'"))
        connection.execute(
            text(
                "UPDATE data_version SET changed_at = :moment, "
                "history_changed_at = :moment WHERE id = 1"
            ),
            {"moment": at("2020-01-01")},
        )
    again = load_escalation_snapshot(db_engine, folder=folder)

    assert again["trigger_type"].unique().to_list() == ["restored"]
    assert len(copies(folder)) == 1


def test_a_corrupt_copy_falls_back_to_the_database(
    db_engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    awkward_history(db_engine)
    folder = tmp_path / "cache"
    load_escalation_snapshot(db_engine, folder=folder)
    (name,) = copies(folder)
    (folder / name).write_bytes(b"PAR1 this is not a parquet file")

    with caplog.at_level(logging.WARNING, logger="db.snapshot"):
        frame = load_escalation_snapshot(db_engine, folder=folder)

    assert_frame_equal(frame, direct(db_engine))
    assert any("unreadable history copy" in r.getMessage() for r in caplog.records)
    # The rebuilt copy replaced the corrupt one and reads cleanly.
    assert_frame_equal(pl.read_parquet(folder / name), direct(db_engine))


def test_an_unusable_cache_folder_falls_back_to_the_database(
    db_engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    awkward_history(db_engine)
    # A folder that cannot be created: its parent is a file.
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")

    with caplog.at_level(logging.WARNING, logger="db.snapshot"):
        first = load_escalation_snapshot(db_engine, folder=blocker / "cache")
        second = load_escalation_snapshot(db_engine, folder=blocker / "cache")

    assert_frame_equal(first, direct(db_engine))
    assert_frame_equal(second, direct(db_engine))
    warnings = [r for r in caplog.records if "Cannot keep a copy" in r.getMessage()]
    assert len(warnings) == 2


def test_the_cache_folder_comes_from_the_environment(
    db_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    awkward_history(db_engine)
    monkeypatch.setenv("ESCALATION_HEALTH_CACHE_DIR", str(tmp_path / "configured"))

    load_escalation_snapshot(db_engine, METRIC_COLUMNS)

    assert len(copies(tmp_path / "configured")) == 1


def force_row_by_row(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make both column-by-column readers fail, as an unusual driver would."""

    def broken(*args: Any) -> None:
        message = "column reader unavailable"
        raise RuntimeError(message)

    monkeypatch.setattr(db.snapshot, "_load_sqlite_adbc", broken)
    monkeypatch.setattr(db.snapshot, "_copy_sqlite_adbc", broken)
    monkeypatch.setattr(db.snapshot, "_load_postgres_copy", broken)


def test_a_failing_column_reader_falls_back_to_the_loader(
    db_engine: Engine,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    awkward_history(db_engine)
    force_row_by_row(monkeypatch)

    with caplog.at_level(logging.WARNING, logger="db.snapshot"):
        frame = load_escalation_snapshot(db_engine, folder=tmp_path / "cache")

    assert_frame_equal(frame, direct(db_engine))
    assert any("row by row" in r.getMessage() for r in caplog.records)


def write_in_between(engine: Engine, real: Callable[..., Any]) -> Callable[..., Any]:
    """Wrap ``real`` so that another connection commits a write before it runs."""

    def wrapped(*args: Any, **kwargs: Any) -> Any:
        (account_id,) = direct(engine, ("account_id",))["account_id"].head(1)
        write(engine, escalation(account_id, at("2026-03-25"), 3, owner="late"))
        return real(*args, **kwargs)

    return wrapped


@pytest.mark.parametrize("reader", ["by column", "by row"])
def test_a_write_between_the_key_and_the_rows_is_not_mixed_in(
    db_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, reader: str
) -> None:
    if reader == "by column" and db_engine.dialect.name == "sqlite":
        pytest.skip(
            "SQLite's column reader reads key and rows in a child process; "
            "test_adbc_reads_one_snapshot_across_statements covers it"
        )
    awkward_history(db_engine)
    if reader == "by column":
        # The query text is built after the key was read and before the rows are.
        monkeypatch.setattr(
            db.snapshot, "_rows_sql", write_in_between(db_engine, db.snapshot._rows_sql)
        )
    else:
        force_row_by_row(monkeypatch)
        monkeypatch.setattr(
            db.queries,
            "load_escalations",
            write_in_between(db_engine, db.queries.load_escalations),
        )

    key, frame = load_consistent(db_engine)
    monkeypatch.undo()

    # The key says version 2 (two writes in awkward_history) and the rows are
    # those of version 2: the escalation committed in between is in neither.
    assert key.version == 2
    assert frame.height == 5
    assert "late" not in frame["owner"].to_list()
    assert direct(db_engine).height == 6


# A child that reads the row count twice through ADBC, as the column reader does,
# and waits for a line on stdin in between.
ADBC_TWO_READS = """
import sys
import adbc_driver_sqlite.dbapi as adbc_sqlite

with adbc_sqlite.connect(sys.argv[1]) as connection, connection.cursor() as cursor:
    cursor.execute("SELECT count(*) FROM escalation")
    print(cursor.fetchone()[0], flush=True)
    sys.stdin.readline()
    cursor.execute("SELECT count(*) FROM escalation")
    print(cursor.fetchone()[0], flush=True)
"""


def test_adbc_reads_one_snapshot_across_statements(sqlite_engine: Engine) -> None:
    awkward_history(sqlite_engine)
    database = sqlite_engine.url.database
    assert database is not None

    with subprocess.Popen(
        [sys.executable, "-c", ADBC_TWO_READS, database],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as child:
        assert child.stdin is not None and child.stdout is not None
        first = child.stdout.readline().strip()
        (account_id,) = direct(sqlite_engine, ("account_id",))["account_id"].head(1)
        write(sqlite_engine, escalation(account_id, at("2026-03-25"), 3))
        child.stdin.write("go\n")
        child.stdin.flush()
        second = child.stdout.readline().strip()

    # The write committed between the two reads is not seen by the second.
    assert (first, second) == ("5", "5")
    assert direct(sqlite_engine).height == 6


def test_an_empty_history_keeps_the_loaders_columns(
    db_engine: Engine, tmp_path: Path
) -> None:
    folder = tmp_path / "cache"

    built = load_escalation_snapshot(db_engine, folder=folder)
    read_back = load_escalation_snapshot(db_engine, folder=folder)

    assert built.height == 0
    assert_frame_equal(built, direct(db_engine))
    assert_frame_equal(read_back, direct(db_engine))


def test_an_unknown_column_is_named(db_engine: Engine, tmp_path: Path) -> None:
    awkward_history(db_engine)
    load_escalation_snapshot(db_engine, folder=tmp_path)

    # The copy exists now; a column it lacks is still refused by name.
    with pytest.raises(ValueError, match=r"Unknown escalation columns \['colour'\]"):
        load_escalation_snapshot(db_engine, ("id", "colour"), folder=tmp_path)


def test_a_copy_without_a_requested_column_is_rebuilt(
    db_engine: Engine, tmp_path: Path
) -> None:
    awkward_history(db_engine)
    load_escalation_snapshot(db_engine, folder=tmp_path)
    # A copy written when fewer columns existed, under the current key.
    (name,) = copies(tmp_path)
    pl.read_parquet(tmp_path / name).drop("region").write_parquet(tmp_path / name)

    frame = load_escalation_snapshot(db_engine, ("id", "region"), folder=tmp_path)

    assert_frame_equal(frame, direct(db_engine, ("id", "region")))
    assert "region" in pl.read_parquet_schema(tmp_path / name)


def test_level_changes_are_copied_like_escalations(
    db_engine: Engine, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    awkward_history(db_engine)
    ids = direct(db_engine, ("id",))["id"].to_list()
    # NULL-first columns again, text with commas and quotes, a pre-1970 moment.
    write(
        db_engine,
        level_change(ids[0], at("2026-03-03"), 1, 2),
        level_change(
            ids[1],
            at("1969-12-31", 12),
            2,
            3,
            owner_before="",
            owner_after='Dana "D" Okafor, EMEA',
            note="Moved up:\nno decision rights at level 2",
        ),
    )
    folder = tmp_path / "cache"

    with caplog.at_level(logging.WARNING):
        built = load_level_change_snapshot(db_engine, folder=folder)
    with db_engine.connect() as connection:
        reference = load_level_changes(connection=connection)

    assert reference.height == 2
    assert_frame_equal(built, reference)
    assert caplog.records == []
    assert len(list(folder.glob("level_changes-*.parquet"))) == 1

    # A write bumps the version: the next read reloads and sees the new row.
    write(db_engine, level_change(ids[2], at("2026-03-04"), 1, 3))
    again = load_level_change_snapshot(db_engine, folder=folder)

    assert again.height == 3
    assert len(list(folder.glob("level_changes-*.parquet"))) == 1


def test_a_logged_fix_leaves_the_copy_in_place(
    db_engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    awkward_history(db_engine)
    folder = tmp_path / "cache"
    first = load_escalation_snapshot(db_engine, folder=folder)
    before = copies(folder)

    create_fix(engine=db_engine, data=fix_input(), now=at("2026-03-30"))

    def no_database_read(*_: object) -> None:
        message = "the copy should have served this read"
        raise AssertionError(message)

    # The fix moved the data version only: the same file serves the history,
    # and the database is not read again.
    monkeypatch.setattr(db.snapshot, "_load", no_database_read)
    again = load_escalation_snapshot(db_engine, folder=folder)
    assert copies(folder) == before
    assert again.equals(first)
