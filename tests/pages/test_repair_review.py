"""The Repair review page: its agenda on a known database, and its forms."""

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, func, select
from sqlmodel import Session
from streamlit.testing.v1 import AppTest

from db.models import (
    ProcessFix,
    ProcessFixEscalation,
    ProcessFixHistory,
    ReviewMeeting,
)
from tests.factories import account, escalation, fix, write

NOW = datetime.now(UTC)
TODAY = NOW.date()


def count(engine: Engine, model: type) -> int:
    with Session(engine) as session:
        return int(session.exec(select(func.count()).select_from(model)).one()[0])


@pytest.fixture
def agenda_history(sqlite_engine: Engine) -> dict[str, int]:
    (acme,) = write(sqlite_engine, account(name="Acme"))
    # Each of another trigger type, so that none recurs on another.
    late, answered, early, old = write(
        sqlite_engine,
        # Since the last review (3 days ago): late (30 h > 24 h), no fix.
        escalation(acme, NOW - timedelta(days=1), 30, severity="critical"),
        # Late too, but a proposed fix answers it.
        escalation(
            acme, NOW - timedelta(days=1), 100, severity="high", trigger_type="billing"
        ),
        # Raised in 2 h against a 24 h threshold: 8 % of it, early.
        escalation(
            acme,
            NOW - timedelta(days=2),
            2,
            severity="critical",
            trigger_type="security",
        ),
        # Late but before the last review: last week's business.
        escalation(
            acme, NOW - timedelta(days=10), 50, severity="critical", trigger_type="sla"
        ),
    )
    overdue, soon, later, judged, recent = write(
        sqlite_engine,
        fix("outage_impact", None, title="Overdue fix", due_at=NOW - timedelta(days=2)),
        fix(
            "outage_impact",
            None,
            title="Due soon",
            status="in_progress",
            due_at=NOW + timedelta(days=3),
        ),
        fix("outage_impact", None, title="Due later", due_at=NOW + timedelta(days=20)),
        fix("outage_impact", NOW - timedelta(weeks=10), title="Ready to judge"),
        fix("outage_impact", NOW - timedelta(weeks=2), title="Shipped recently"),
    )
    write(
        sqlite_engine,
        ProcessFixEscalation(fix_id=overdue, escalation_id=answered),
        ReviewMeeting(
            held_on=TODAY - timedelta(days=3),
            attendees="Ana, Ben",
            decisions="Chase overdue fixes",
            author="Ana",
            recorded_at=NOW - timedelta(days=3),
        ),
    )
    return {
        "late": late,
        "early": early,
        "old": old,
        "overdue": overdue,
        "soon": soon,
        "later": later,
        "judged": judged,
        "recent": recent,
    }


def open_review(page: AppTest) -> AppTest:
    page.run()
    page.switch_page("../pages/repair_review.py").run()
    assert not page.exception, page.exception
    return page


def frame_after(page: AppTest, heading: str):  # type: ignore[no-untyped-def]
    """The first dataframe drawn after the subheader starting with ``heading``."""
    blocks = list(page.main)
    start = next(
        i
        for i, b in enumerate(blocks)
        if b.type == "subheader" and b.value.startswith(heading)
    )
    for block in blocks[start + 1 :]:
        if block.type == "subheader":
            return None
        if block.type == "dataframe":
            return block.value
    return None


def test_agenda_lists_exactly_the_expected_rows(
    agenda_history: dict[str, int],
    app_for: Callable[[Engine], AppTest],
    sqlite_engine: Engine,
) -> None:
    page = open_review(app_for(sqlite_engine))

    unanswered = frame_after(page, "(b)")
    due = frame_after(page, "(c)")
    judge = frame_after(page, "(d)")
    early = frame_after(page, "(e)")

    assert unanswered["id"].tolist() == [agenda_history["late"]]
    assert due["title"].tolist() == ["Overdue fix", "Due soon"]
    assert due["state"].tolist() == ["OVERDUE", "due soon"]
    assert judge["title"].tolist() == ["Ready to judge"]
    assert early["id"].tolist() == [agenda_history["early"]]
    assert any("since the last review on" in c.value for c in page.caption)


def fill_fix_form(page: AppTest, **overrides: object) -> None:
    values = {
        "author": "Ana Lima",
        "fix_title": "Page the duty manager on the second outage ticket",
        "fix_trigger": "outage_impact",
        "fix_root_cause": "unclear_trigger",
        "fix_owner": "Ben Ode",
        "fix_effect": "Outage escalations raised within 12 hours",
    }
    values.update(overrides)
    for key, value in values.items():
        page.get_by_key(key).set_value(value)  # type: ignore[union-attr]


def submit_fix(page: AppTest) -> None:
    page.button(key="FormSubmitter:log_fix-Log fix").click().run()


def test_logging_a_fix_from_the_agenda_writes_it_with_its_links(
    agenda_history: dict[str, int],
    app_for: Callable[[Engine], AppTest],
    sqlite_engine: Engine,
) -> None:
    page = open_review(app_for(sqlite_engine))
    page.session_state["unanswered_table"] = {
        "selection": {"rows": [0], "columns": [], "cells": []}
    }
    page.run()
    page.button(key="start_fix").click().run()
    before = count(sqlite_engine, ProcessFix)

    fill_fix_form(page)
    submit_fix(page)

    assert not page.exception
    assert count(sqlite_engine, ProcessFix) == before + 1
    with Session(sqlite_engine) as session:
        new = session.exec(select(ProcessFix).order_by(ProcessFix.id.desc())).first()[0]
        links = session.exec(
            select(ProcessFixEscalation.escalation_id).where(
                ProcessFixEscalation.fix_id == new.id
            )
        ).all()
    assert new.title == "Page the duty manager on the second outage ticket"
    assert new.author == "Ana Lima"
    assert [row[0] for row in links] == [agenda_history["late"]]
    assert any("Logged fix" in s.value for s in page.success)


def test_pressing_submit_twice_writes_one_fix(
    agenda_history: dict[str, int],
    app_for: Callable[[Engine], AppTest],
    sqlite_engine: Engine,
) -> None:
    page = open_review(app_for(sqlite_engine))
    before = count(sqlite_engine, ProcessFix)
    fill_fix_form(page)
    submit_fix(page)
    first = page.session_state["fix_notice"]

    # A second click that arrives while the first is handled sees the form as it
    # was: same fields, same token.
    page.session_state["fix_notice"] = ""
    page.run()
    fill_fix_form(page)
    submit_fix(page)

    assert count(sqlite_engine, ProcessFix) == before + 1
    assert page.session_state["fix_notice"] == first


def test_invalid_input_shows_errors_beside_fields_and_writes_nothing(
    agenda_history: dict[str, int],
    app_for: Callable[[Engine], AppTest],
    sqlite_engine: Engine,
) -> None:
    page = open_review(app_for(sqlite_engine))
    counts = [count(sqlite_engine, m) for m in (ProcessFix, ProcessFixHistory)]

    fill_fix_form(page, fix_title="", fix_owner="x" * 10, author="")
    submit_fix(page)

    messages = " ".join(m.value for m in page.markdown)
    assert not page.exception
    assert [count(sqlite_engine, m) for m in (ProcessFix, ProcessFixHistory)] == counts
    assert "title" in messages.lower()
    assert "author" in messages.lower() or "name" in messages.lower()


def test_a_status_change_is_kept_as_history(
    agenda_history: dict[str, int],
    app_for: Callable[[Engine], AppTest],
    sqlite_engine: Engine,
) -> None:
    page = app_for(sqlite_engine)
    page.query_params["fix"] = str(agenda_history["soon"])
    open_review(page)
    page.get_by_key("author").set_value("Ana Lima")  # type: ignore[union-attr]
    page.selectbox(key="fix").set_value(agenda_history["soon"]).run()
    page.selectbox(key="status_new").set_value("shipped")
    page.button(
        key=f"FormSubmitter:status_{agenda_history['soon']}-Change status"
    ).click().run()

    assert not page.exception
    with Session(sqlite_engine) as session:
        moved = session.get(ProcessFix, agenda_history["soon"])
        history = session.exec(
            select(
                ProcessFixHistory.field,
                ProcessFixHistory.old_value,
                ProcessFixHistory.new_value,
                ProcessFixHistory.author,
            ).where(ProcessFixHistory.fix_id == agenda_history["soon"])
        ).all()
    assert moved is not None and moved.status == "shipped"
    assert moved.version == 2
    assert ("status", "in_progress", "shipped", "Ana Lima") in [
        tuple(h) for h in history
    ]
    assert any(field == "shipped_at" for field, *_ in history)


def test_recording_a_meeting_moves_since_the_last_review(
    agenda_history: dict[str, int],
    app_for: Callable[[Engine], AppTest],
    sqlite_engine: Engine,
) -> None:
    page = open_review(app_for(sqlite_engine))
    page.get_by_key("author").set_value("Ana Lima")  # type: ignore[union-attr]
    page.get_by_key("review_attendees").set_value("Ana, Ben, Chi")  # type: ignore[union-attr]
    page.get_by_key("review_decisions").set_value("Ship the paging fix")  # type: ignore[union-attr]
    page.button(key="FormSubmitter:record_review-Record meeting").click().run()

    assert count(sqlite_engine, ReviewMeeting) == 2
    assert any(
        f"since the last review on {TODAY:%d %b %Y}" in c.value for c in page.caption
    )
    # A review today leaves nothing "since": yesterday's late escalation is gone.
    assert frame_after(page, "(b)") is None
