"""The ``seed`` command when the history is large enough for a process of its own."""

from pathlib import Path

import pytest
import sqlalchemy as sa

from dashboard.cli import main
from seed_data.generate import generate_history
from tests.inspection import stored_counts


@pytest.fixture
def own_process(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """Send small seeds through the generating process; its files into a folder here."""
    monkeypatch.setattr("seed_data.load.OWN_PROCESS_FROM_SCALE", 0.01)
    parts = tmp_path / "parts"
    parts.mkdir()
    monkeypatch.setattr("seed_data.handover._MEMORY_FOLDER", str(parts))
    return parts


def counts(url: str) -> dict[str, int]:
    engine = sa.create_engine(url)
    try:
        return stored_counts(engine)
    finally:
        engine.dispose()


def test_seed_through_a_generating_process(
    own_process: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'seeded.db'}"

    code = main(["seed", "--db", url, "--scale", "0.04", "--seed", "5"])

    out = capsys.readouterr().out
    assert code == 0
    stored = counts(url)
    # 0.04 of the demo: 12 accounts, 100 escalations, 1,000 signals.
    assert (stored["account"], stored["escalation"], stored["signal"]) == (
        12,
        100,
        1_000,
    )
    assert f"{stored['level_change']:,} level_change" in out
    # The same history as one generated here, ending today.
    assert stored == generate_history(seed=5, scale=0.04).counts()
    assert list(own_process.iterdir()) == []


def test_a_refused_seed_stops_the_process_it_started(
    own_process: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite:///{tmp_path / 'seeded.db'}"
    assert main(["seed", "--db", url, "--scale", "0.04"]) == 0
    before = counts(url)
    capsys.readouterr()

    code = main(["seed", "--db", url, "--scale", "0.04", "--seed", "9"])

    err = capsys.readouterr().err
    assert code == 1
    assert "already has rows" in err
    assert err.count("\n") == 1
    assert counts(url) == before
    assert list(own_process.iterdir()) == []
