"""The installed entry point answers bad input in one line, never a traceback."""

import subprocess
import sys
from pathlib import Path

import pytest


@pytest.mark.parametrize(
    "arguments",
    [
        ["metrics", "--from", "not-a-day"],
        ["report", "--week", "2026-W60"],
        ["import", "tickets", "missing.csv"],
        ["explode"],
    ],
)
def test_bad_input_is_one_line_with_exit_2(
    arguments: list[str], tmp_path: Path
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "dashboard.cli", *arguments],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
        env={"DATABASE_URL": f"sqlite:///{tmp_path / 'x.db'}", "PATH": "/usr/bin"},
    )

    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("escalation-health: error: ")
    assert result.stderr.strip().count("\n") == 0
