"""The Data page: preview, validation report, and an import that writes once."""

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlmodel import Session
from streamlit.testing.v1 import AppTest

from db.models import Account, Escalation

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"


def escalations_in(engine: Engine) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(Escalation)).one()[0])


def open_data(page: AppTest, kind: str, name: str, content: bytes) -> AppTest:
    page.run()
    page.switch_page("../pages/data.py").run()
    page.selectbox(key="import_kind").set_value(kind)
    page.file_uploader[0].set_value((name, content, "text/csv"))
    page.run()
    assert not page.exception, page.exception
    return page


def test_example_escalations_preview_validate_and_import(
    sqlite_engine: Engine, app_for: Callable[[Engine], AppTest]
) -> None:
    content = (EXAMPLES / "escalations.csv").read_bytes()
    rows = content.decode().strip().count("\n")  # lines after the header
    page = open_data(app_for(sqlite_engine), "escalations", "escalations.csv", content)

    assert f"All {rows:,} rows are valid." in page.success[0].value
    assert len(page.dataframe[0].value) == min(rows, 20)

    page.button(key="import_go").click().run()

    assert not page.exception
    assert escalations_in(sqlite_engine) == rows
    assert f"{rows:,} inserted" in page.success[-1].value


def test_a_file_with_bad_rows_is_explained_and_writes_nothing(
    sqlite_engine: Engine, app_for: Callable[[Engine], AppTest]
) -> None:
    content = (
        b"escalation_id,account_id,trigger_type,severity,first_signal_at,escalated_at\n"
        b"E-1,A-1,outage,critical,2026-03-01T10:00:00Z,2026-03-01T12:00:00Z\n"
        b"E-2,A-1,outage,sev9,2026-03-01T10:00:00Z,2026-03-01T12:00:00Z\n"
        b"E-3,A-1,outage,high,2026-03-02T10:00:00Z,2026-03-01T12:00:00Z\n"
    )
    page = open_data(app_for(sqlite_engine), "escalations", "bad.csv", content)

    problems = page.dataframe[1].value

    assert "2 of 3 rows have problems" in page.warning[0].value
    assert sorted(problems["row_number"].tolist()) == [2, 3]
    assert set(problems["column"]) == {"severity", "escalated_at"}
    assert page.button(key="import_go").disabled
    assert escalations_in(sqlite_engine) == 0


def test_skipping_bad_rows_imports_the_rest(
    sqlite_engine: Engine, app_for: Callable[[Engine], AppTest]
) -> None:
    content = (
        b"escalation_id,account_id,trigger_type,severity,first_signal_at,escalated_at\n"
        b"E-1,A-1,outage,critical,2026-03-01T10:00:00Z,2026-03-01T12:00:00Z\n"
        b"E-2,A-1,outage,sev9,2026-03-01T10:00:00Z,2026-03-01T12:00:00Z\n"
    )
    page = open_data(app_for(sqlite_engine), "escalations", "mixed.csv", content)
    page.checkbox(key="import_skip").check().run()
    page.button(key="import_go").click().run()

    assert escalations_in(sqlite_engine) == 1
    with Session(sqlite_engine) as session:
        assert session.exec(select(func.count()).select_from(Account)).one()[0] == 1


def test_not_a_table_gets_one_line(
    sqlite_engine: Engine, app_for: Callable[[Engine], AppTest]
) -> None:
    page = open_data(
        app_for(sqlite_engine), "escalations", "notes.csv", b"\xff\xfe\x00binary\x00"
    )

    assert page.error[0].value.count("\n") == 0
    assert escalations_in(sqlite_engine) == 0
