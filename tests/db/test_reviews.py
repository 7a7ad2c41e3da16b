"""Recording weekly repair reviews, on SQLite and PostgreSQL."""

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

import polars as pl
import pytest
from sqlalchemy import Engine, func, select, text

from db.fixes import (
    FixValidationError,
    ReviewInput,
    ReviewValidationError,
    latest_review,
    load_reviews,
    record_review,
    validate_review,
)
from db.version import read_data_version, read_versions

NOW = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
TODAY = date(2026, 3, 2)


def review_input(**fields: Any) -> ReviewInput:
    """A valid review; ``fields`` override single answers."""
    values: dict[str, Any] = {
        "held_on": date(2026, 3, 2),
        "attendees": "Priya Raman, Dana Okafor, Sam Lee",
        "decisions": "Ship the SLA owner rota; drop the renewal checklist fix.",
        "notes": None,
        "author": "Priya Raman",
        "token": "review-1",
    }
    values.update(fields)
    return ReviewInput(**values)


def review_rows(engine: Engine) -> list[Any]:
    with engine.connect() as connection:
        return list(connection.execute(text("SELECT * FROM review_meeting")).all())


def data_version(engine: Engine) -> int:
    with engine.connect() as connection:
        return read_data_version(connection=connection)


def test_a_review_is_recorded_and_read_back(db_engine: Engine) -> None:
    version_before = data_version(db_engine)
    with db_engine.connect() as connection:
        history_before = read_versions(connection=connection)[1]

    review_id = record_review(
        engine=db_engine,
        data=review_input(notes="  Dana to check the EMEA queue  "),
        now=NOW,
    )

    with db_engine.connect() as connection:
        latest = latest_review(connection=connection)
    assert latest == {
        "id": review_id,
        "held_on": date(2026, 3, 2),
        "attendees": "Priya Raman, Dana Okafor, Sam Lee",
        "decisions": "Ship the SLA owner rota; drop the renewal checklist fix.",
        "notes": "Dana to check the EMEA queue",
        "author": "Priya Raman",
        "recorded_at": NOW,
    }
    assert data_version(db_engine) == version_before + 1
    with db_engine.connect() as connection:
        assert read_versions(connection=connection)[1] == history_before


def test_reviews_load_newest_meeting_first(db_engine: Engine) -> None:
    older = record_review(
        engine=db_engine,
        data=review_input(held_on=date(2026, 2, 23), token="a"),
        now=NOW,
    )
    # Two records of one meeting: the one recorded later comes first, even
    # though it was written first.
    recorded_later = record_review(
        engine=db_engine,
        data=review_input(token="b"),
        now=NOW,
    )
    recorded_earlier = record_review(
        engine=db_engine,
        data=review_input(token="c"),
        now=NOW - timedelta(hours=2),
    )

    with db_engine.connect() as connection:
        frame = load_reviews(connection=connection)
        latest = latest_review(connection=connection)

    assert frame["id"].to_list() == [recorded_later, recorded_earlier, older]
    assert frame.schema == pl.Schema(
        {
            "id": pl.Int64,
            "held_on": pl.Date,
            "attendees": pl.String,
            "decisions": pl.String,
            "notes": pl.String,
            "author": pl.String,
            "recorded_at": pl.Datetime("us", "UTC"),
        }
    )
    assert latest is not None
    assert latest["id"] == recorded_later


def test_no_reviews_give_an_empty_frame_and_no_latest(db_engine: Engine) -> None:
    with db_engine.connect() as connection:
        frame = load_reviews(connection=connection)
        latest = latest_review(connection=connection)

    assert (frame.height, frame.width, latest) == (0, 7, None)


def test_the_same_token_twice_gives_one_review(db_engine: Engine) -> None:
    first = record_review(engine=db_engine, data=review_input(), now=NOW)
    version_after_first = data_version(db_engine)

    second = record_review(engine=db_engine, data=review_input(), now=NOW)

    assert second == first
    assert len(review_rows(db_engine)) == 1
    assert data_version(db_engine) == version_after_first


def test_the_same_token_from_two_threads_gives_one_review(db_engine: Engine) -> None:
    barrier = threading.Barrier(2)

    def submit() -> int:
        barrier.wait()
        return record_review(engine=db_engine, data=review_input(), now=NOW)

    with ThreadPoolExecutor(max_workers=2) as pool:
        results = list(pool.map(lambda _: submit(), range(2)))

    assert results[0] == results[1]
    assert len(review_rows(db_engine)) == 1


def test_a_blank_review_names_every_required_field() -> None:
    blank = ReviewInput(
        held_on=None, attendees=" ", decisions="", notes=None, author="", token=""
    )

    assert validate_review(blank, today=TODAY) == {
        "held_on": "Meeting date is required.",
        "attendees": "Attendees is required.",
        "decisions": "Decisions is required.",
        "author": "Author is required.",
        "token": "The form has no submission token; reload the page and submit again.",
    }


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"held_on": date(2026, 3, 3)},
            {
                "held_on": "Meeting date 2026-03-03 is after today (2026-03-02); "
                "record a review once it has been held."
            },
        ),
        (
            {"attendees": "a" * 2001},
            {
                "attendees": "Attendees is 2001 characters long; the limit is 2000. "
                "Shorten it by 1."
            },
        ),
        (
            {"decisions": "d" * 8002},
            {
                "decisions": "Decisions is 8002 characters long; the limit is 8000. "
                "Shorten it by 2."
            },
        ),
        (
            {"notes": "n" * 8001},
            {
                "notes": "Notes is 8001 characters long; the limit is 8000. "
                "Shorten it by 1."
            },
        ),
    ],
)
def test_invalid_reviews_are_refused_and_write_nothing(
    db_engine: Engine, fields: dict[str, Any], expected: dict[str, str]
) -> None:
    version_before = data_version(db_engine)

    with pytest.raises(ReviewValidationError) as raised:
        record_review(engine=db_engine, data=review_input(**fields), now=NOW)

    assert raised.value.errors == expected
    # The page catches one error type for all its forms.
    assert isinstance(raised.value, FixValidationError)
    with db_engine.connect() as connection:
        count = connection.execute(
            select(func.count()).select_from(text("review_meeting"))
        ).scalar_one()
    assert (count, data_version(db_engine)) == (0, version_before)
