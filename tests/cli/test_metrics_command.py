"""The ``metrics`` command against the rules, read independently of metrics/."""

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Engine
from sqlmodel import Session, select

from dashboard.cli import main
from db.models import Escalation
from seed_data.load import seed_database
from tests.reference import Row, assert_reports_close, report

SEED_END = datetime(2026, 6, 1, tzinfo=UTC)


def stored_rows(engine: Engine) -> list[Row]:
    """Every escalation read back through ORM objects, not through polars."""
    with Session(engine) as session:
        return [
            Row(
                e.id or 0,
                e.account_id,
                e.trigger_type,
                e.severity,
                e.first_signal_at,
                e.escalated_at,
            )
            for e in session.exec(select(Escalation)).all()
        ]


def run_json(
    capsys: pytest.CaptureFixture[str], url: str, *extra: str
) -> dict[str, object]:
    code = main(["metrics", "--db", url, "--json", *extra])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)  # type: ignore[no-any-return]


@pytest.fixture
def seeded(db_engine: Engine) -> Engine:
    seed_database(db_engine, seed=11, scale=0.1, end=SEED_END)
    return db_engine


def engine_url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=False)


def test_json_over_all_time_follows_the_definitions(
    seeded: Engine, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    rows = stored_rows(seeded)
    expected = report(rows)

    actual = run_json(capsys, *url_and_env(seeded, monkeypatch))

    assert expected["escalations"] > 100
    assert_reports_close(actual, expected)


def test_json_over_a_window_follows_the_definitions(
    seeded: Engine, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    start = datetime(2025, 10, 1, tzinfo=UTC)
    end = datetime(2026, 1, 1, tzinfo=UTC)
    expected = report(stored_rows(seeded), start, end)

    url, *extra = url_and_env(seeded, monkeypatch)
    actual = run_json(capsys, url, *extra, "--from", "2025-10-01", "--to", "2026-01-01")

    assert 0 < expected["escalations"] < len(stored_rows(seeded))
    assert_reports_close(actual, expected)


def url_and_env(engine: Engine, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The --db URL; a PostgreSQL test schema travels in libpq's PGOPTIONS."""
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            schema = connection.exec_driver_sql("SELECT current_schema()").scalar_one()
        monkeypatch.setenv("PGOPTIONS", f"-csearch_path={schema}")
    return [engine_url(engine)]


def test_an_empty_database_reports_nulls(
    sqlite_engine: Engine, capsys: pytest.CaptureFixture[str]
) -> None:
    actual = run_json(capsys, engine_url(sqlite_engine))

    assert actual == {
        "escalations": 0,
        "signal_to_escalation_hours": {"median": None, "p90": None},
        "late_rate": None,
        "recurrence_rate": None,
        "by_trigger_type": {},
    }


def test_a_window_with_nothing_in_it_reports_nulls(
    seeded: Engine, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, *extra = url_and_env(seeded, monkeypatch)
    actual = run_json(capsys, url, *extra, "--from", "2030-01-01")

    assert actual["escalations"] == 0
    assert actual["late_rate"] is None


def test_table_output_names_the_window_and_the_figures(
    seeded: Engine, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, *_ = url_and_env(seeded, monkeypatch)
    expected = report(stored_rows(seeded))

    code = main(["metrics", "--db", url])
    out = capsys.readouterr().out

    assert code == 0
    assert "the beginning to now" in out
    assert f"{expected['escalations']:,}" in out
    assert f"{expected['late_rate']:.1%}" in out


@pytest.mark.parametrize(
    ("arguments", "fragment"),
    [
        (["--from", "2026-13-01"], "--from '2026-13-01' is not a date"),
        (["--to", "yesterday"], "--to 'yesterday' is not a date"),
        (["--from", "2026-05-01", "--to", "2026-04-01"], "must be before --to"),
        (["--from", "2026-05-01", "--to", "2026-05-01"], "must be before --to"),
    ],
)
def test_bad_dates_get_one_line_and_exit_2(
    arguments: list[str],
    fragment: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
) -> None:
    code = main(["metrics", "--db", f"sqlite:///{tmp_path / 'x.db'}", *arguments])
    err = capsys.readouterr().err

    assert code == 2
    assert fragment in err
    assert err.count("\n") == 1


def test_an_unreachable_database_gets_one_line_and_exit_1(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["metrics", "--db", "postgresql://nobody@127.0.0.1:9/none"])
    err = capsys.readouterr().err

    assert code == 1
    assert err.startswith("escalation-health: error: Cannot reach the database")
    assert err.count("\n") == 1


def test_a_file_that_is_not_a_database_gets_one_line(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bogus = tmp_path / "notes.db"
    bogus.write_text("these are meeting notes, not a database\n" * 100)

    code = main(["metrics", "--db", f"sqlite:///{bogus}"])
    err = capsys.readouterr().err

    assert code == 1
    assert "escalation-health: error:" in err
    assert err.count("\n") == 1
    assert bogus.read_text().startswith("these are meeting notes")


def test_an_unknown_command_is_a_usage_error(
    capsys: pytest.CaptureFixture[str],
) -> None:
    code = main(["explode"])

    assert code == 2
    assert "invalid choice" in capsys.readouterr().err


def test_seed_refuses_a_database_that_already_has_history(
    seeded: Engine, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    url, *_ = url_and_env(seeded, monkeypatch)
    before = len(stored_rows(seeded))

    code = main(["seed", "--db", url, "--scale", "0.05"])

    assert code == 1
    assert "escalation-health: error:" in capsys.readouterr().err
    assert len(stored_rows(seeded)) == before
