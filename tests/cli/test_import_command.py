"""The ``import`` and ``export`` commands: messages, exit codes, round trip."""

import json
import shutil
from pathlib import Path

import pytest
from sqlalchemy import Engine

from dashboard.cli import main
from seed_data.load import seed_database
from tests.cli.test_metrics_command import url_and_env

EXAMPLES = Path(__file__).resolve().parents[2] / "examples"
ORDER = (
    ("accounts", "accounts.csv"),
    ("escalations", "escalations.csv"),
    ("signals", "signals.jsonl"),
    ("level-changes", "level-changes.csv"),
    ("fixes", "fixes.csv"),
)


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def test_examples_import_then_repeat_as_unchanged(
    db_engine: Engine,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url, *_ = url_and_env(db_engine, monkeypatch)
    for kind, name in ORDER:
        code, out, err = run(capsys, "import", kind, str(EXAMPLES / name), "--db", url)
        assert (code, err) == (0, ""), err

    code, out, err = run(
        capsys, "import", "escalations", str(EXAMPLES / "escalations.csv"), "--db", url
    )

    assert code == 0
    assert out == (
        "Imported: escalations from escalations.csv: "
        "0 inserted, 0 updated, 4 unchanged\n"
    )


def test_a_file_with_bad_rows_exits_1_and_lists_them(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "esc.csv"
    bad.write_text(
        "escalation_id,account_id,trigger_type,severity,first_signal_at,escalated_at\n"
        "E1,A1,x,sev9,2026-01-01,2026-01-02\n"
        "E2,A1,x,high,2026-01-03,yesterday\n"
    )

    code, out, err = run(
        capsys,
        "import",
        "escalations",
        str(bad),
        "--db",
        f"sqlite:///{tmp_path / 'x.db'}",
    )

    assert code == 1
    assert out == ""
    assert err.splitlines() == [
        "escalation-health: error: esc.csv rejected, nothing written: 2 of 2 rows "
        "are invalid (rows count from 1 at the first data row)",
        "  row 1, column severity: unknown severity 'sev9': use critical, high, "
        "medium or low (or sev1-sev4, p1-p4)",
        "  row 2, column escalated_at: unparseable date 'yesterday': use ISO 8601 "
        "such as 2026-05-04T09:30:00+02:00",
    ]


def test_skip_invalid_writes_a_reject_file_next_to_the_input(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    bad = tmp_path / "esc.csv"
    bad.write_text(
        "escalation_id,account_id,trigger_type,severity,first_signal_at,escalated_at\n"
        "E1,A1,x,sev9,2026-01-01,2026-01-02\n"
        "E2,A1,x,high,2026-01-01,2026-01-02\n"
    )

    code, out, _ = run(
        capsys,
        "import",
        "escalations",
        str(bad),
        "--skip-invalid",
        "--db",
        f"sqlite:///{tmp_path / 'x.db'}",
    )

    rejects = tmp_path / "esc.rejects.csv"
    assert code == 0
    assert "1 inserted, 0 updated, 0 unchanged, 1 accounts created, 1 rejected" in out
    assert rejects.read_text().splitlines() == [
        "escalation_id,account_id,trigger_type,severity,first_signal_at,escalated_at,reason",
        "E1,A1,x,sev9,2026-01-01,2026-01-02,\"severity: unknown severity 'sev9': use "
        'critical, high, medium or low (or sev1-sev4, p1-p4)"',
    ]


@pytest.mark.parametrize(
    ("content", "extra", "message"),
    [
        (b"", [], "escalation-health: error: e.csv is empty\n"),
        (
            b"escalation_id,severity\nE1,high\n",
            [],
            "escalation-health: error: e.csv: missing required column(s) for "
            "escalations: account_id, trigger_type, first_signal_at, escalated_at\n",
        ),
        (
            b"x" * 2048,
            [],
            # 0.001 MB is 1,048 bytes; in MB both would read as 0.
            "escalation-health: error: e.csv is 2,048 bytes, over the import limit of "
            "1,048 bytes (set ESCALATION_HEALTH_MAX_IMPORT_MB to raise it)\n",
        ),
        (
            b"a\n1\n",
            ["--timezone", "Mars/Base"],
            "escalation-health: error: --timezone 'Mars/Base' is not a time zone; use "
            "an IANA name\n",
        ),
    ],
)
def test_whole_file_problems_exit_2_in_one_line(  # noqa: PLR0917
    content: bytes,
    extra: list[str],
    message: str,
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    if len(content) == 2048:
        monkeypatch.setenv("ESCALATION_HEALTH_MAX_IMPORT_MB", "0.001")
    source = tmp_path / "e.csv"
    source.write_bytes(content)

    code, _, err = run(
        capsys,
        "import",
        "escalations",
        str(source),
        *extra,
        "--db",
        f"sqlite:///{tmp_path / 'x.db'}",
    )

    assert code == 2
    assert err == message


def test_export_then_import_reproduces_the_metrics(
    db_engine: Engine,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    seed_database(db_engine, seed=3, scale=0.05)
    url, *_ = url_and_env(db_engine, monkeypatch)
    code, expected, err = run(capsys, "metrics", "--json", "--db", url)
    assert code == 0, err
    folder = tmp_path / "export"
    assert run(capsys, "export", str(folder), "--db", url)[0] == 0
    fresh = f"sqlite:///{tmp_path / 'fresh.db'}"
    monkeypatch.delenv("PGOPTIONS", raising=False)

    for kind, _ in ORDER:
        code, _, err = run(
            capsys, "import", kind, str(folder / f"{kind}.csv"), "--db", fresh
        )
        assert code == 0, err
    code, actual, _ = run(capsys, "metrics", "--json", "--db", fresh)

    assert json.loads(actual) == json.loads(expected)
    assert json.loads(actual)["escalations"] > 20


def test_parquet_export_imports_too(
    sqlite_engine: Engine, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    url = sqlite_engine.url.render_as_string(hide_password=False)
    for kind, name in ORDER:
        shutil.copy(EXAMPLES / name, tmp_path / name)
        assert run(capsys, "import", kind, str(tmp_path / name), "--db", url)[0] == 0
    folder = tmp_path / "export"

    _, out, _ = run(capsys, "export", "--format", "parquet", str(folder), "--db", url)
    again = [
        run(capsys, "import", kind, str(folder / f"{kind}.parquet"), "--db", url)[1]
        for kind, _ in ORDER
    ]

    assert out == f"Exported 5 files to {folder}\n"
    assert all(" 0 inserted, 0 updated, " in line for line in again), again
