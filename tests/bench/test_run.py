"""The benchmark end to end at a tiny size: every table row, the paths agreeing.

No timing is asserted: speed is what the benchmark reports, not what a test
checks. PostgreSQL joins in when TEST_POSTGRES_URL is set.
"""

import json
import os
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from bench.databases import POSTGRES, SQLITE, database_url, drop_database
from bench.probes import PAGES
from bench.run import main

POSTGRES_URL = os.environ.get("TEST_POSTGRES_URL")
# 2,500 escalations per unit of scale: 200 escalations.
SCALE = 0.08
SEED = 11


@pytest.fixture
def backends(tmp_path: Path) -> Iterator[tuple[list[str], str]]:
    """The databases to run on and a tag that keeps this run's databases apart."""
    tag = f"t{uuid.uuid4().hex[:8]}"
    chosen = [SQLITE, POSTGRES] if POSTGRES_URL else [SQLITE]
    yield chosen, tag
    if POSTGRES_URL:
        url = database_url(
            POSTGRES,
            seed=SEED,
            scale=SCALE,
            work_dir=tmp_path,
            server_url=POSTGRES_URL,
            tag=tag,
        )
        drop_database(POSTGRES, url)


def test_a_tiny_run_fills_every_table(
    tmp_path: Path, backends: tuple[list[str], str]
) -> None:
    chosen, tag = backends
    results_dir = tmp_path / "results"
    arguments = [
        "--scale",
        str(SCALE),
        "--seed",
        str(SEED),
        "--databases",
        ",".join(chosen),
        "--reruns",
        "2",
        "--process-runs",
        "1",
        "--tag",
        tag,
        "--work-dir",
        str(tmp_path / "work"),
        "--results-dir",
        str(results_dir),
    ]
    if POSTGRES_URL:
        arguments += ["--postgres-url", POSTGRES_URL]

    code = main(arguments)

    assert code == 0
    results: dict[str, Any] = json.loads((results_dir / "latest.json").read_text())
    runs = results["runs"]
    assert [run["backend"] for run in runs] == chosen
    for run in runs:
        assert run["escalations"] == 200
        assert run["disagreements"] == {}
        # The three paths' figures, compared here on their own terms.
        polars = run["paths"]["polars"]["figures"]
        for other in ("orm", "pandas"):
            figures = run["paths"][other]["figures"]
            assert figures["escalations"] == polars["escalations"] == 200
            for name in ("median_hours", "p90_hours", "late_rate", "recurrence_rate"):
                assert figures[name] == pytest.approx(polars[name], rel=1e-12)
            assert sorted(figures["by_trigger_type"]) == sorted(
                polars["by_trigger_type"]
            )
        assert set(run["ratios"]) == {
            "orm_over_polars",
            "pandas_over_polars",
            "orm_over_polars_compute",
            "pandas_over_polars_compute",
        }
        pages = run["pages"]["pages"]
        assert list(pages) == [name for name, _ in PAGES]
        for name, page in pages.items():
            assert page["errors"] == [], name
            assert len(page["reruns_s"]) == 2
        assert run["load"]["rows"] == 200
        assert run["suite"]["rows"] == 200
    assert runs[0]["reference_agrees"] is True

    markdown = (results_dir / "latest.md").read_text()
    for backend in chosen:
        # One row in each of the summary, page, memory and seeding tables, and
        # three in the paths table.
        assert markdown.count(f"| {backend} | 200 |") == 7
    for name, _ in PAGES:
        assert name in markdown
