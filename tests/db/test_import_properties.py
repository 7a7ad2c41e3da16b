"""Random and malformed rows never crash the importer, never half-write a file."""

import string

import hypothesis.strategies as st
import polars as pl
import pytest
from hypothesis import HealthCheck, given, settings
from sqlalchemy import Engine, func, select

from db.importer import FORMATS, ImportFileError, run_import, validate_import
from db.models import Account, Escalation
from db.version import read_data_version

COLUMNS = [column.name for column in FORMATS["escalations"]]
VALUES = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.text(alphabet=string.printable, min_size=60, max_size=5000),
    st.sampled_from(
        [
            "2026-01-01T00:00:00Z",
            "2026-02-30",
            "2026-01-01 25:00",
            "sev1",
            "P4",
            "resolved",
            "-3",
            "1e9",
            "nan",
            "\x00",
            " ",
        ]
    ),
)


@st.composite
def files(draw: st.DrawFn) -> pl.DataFrame:
    """A frame of text with a random subset of the known columns and junk ones."""
    names = draw(st.lists(st.sampled_from(COLUMNS), min_size=1, unique=True))
    names += draw(st.lists(st.text(min_size=1, max_size=8), max_size=2))
    names = list(dict.fromkeys(names))
    rows = draw(st.integers(min_value=1, max_value=8))
    return pl.DataFrame(
        {
            name: pl.Series(name, [draw(VALUES) for _ in range(rows)], dtype=pl.String)
            for name in names
        }
    )


def _state(engine: Engine) -> tuple[int, int, int]:
    with engine.connect() as connection:
        return (
            int(
                connection.execute(
                    select(func.count()).select_from(Escalation)
                ).scalar_one()
            ),
            int(
                connection.execute(
                    select(func.count()).select_from(Account)
                ).scalar_one()
            ),
            read_data_version(connection=connection),
        )


@pytest.mark.parametrize("skip_invalid", [False, True])
def test_random_files_are_either_refused_whole_or_written_cleanly(
    db_engine: Engine, skip_invalid: bool
) -> None:
    @settings(
        max_examples=40,
        deadline=None,
        suppress_health_check=[
            HealthCheck.function_scoped_fixture,
            HealthCheck.too_slow,
        ],
    )
    @given(frame=files())
    def check(frame: pl.DataFrame) -> None:
        before = _state(db_engine)
        try:
            with db_engine.connect() as connection:
                report = validate_import("escalations", frame, connection=connection)
        except ImportFileError as error:
            assert "\n" not in str(error)
            assert _state(db_engine) == before
            return

        result = run_import(
            report, engine=db_engine, skip_invalid=skip_invalid, dry_run=False
        )

        assert report.valid.height + report.rejects.height == report.total_rows
        after = _state(db_engine)
        if not report.ok and not skip_invalid:
            assert after == before
        else:
            assert after[0] == before[0] + result.inserted
            assert result.rejected == report.rejects.height

    check()
