"""The Repair review page when someone else changed a fix after it was opened."""

import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Engine, text
from streamlit.testing.v1 import AppTest

from dashboard import format as fmt
from db.fixes import FixInput, change_fix_status, create_fix
from tests.factories import account, escalation, write

NOW = datetime.now(UTC)
# The other person's name would be a live image if the message were Markdown.
OTHER = "Ben <img src=x onerror=alert(1)> [Ode](http://evil.example)"


def unescaped(markdown: str) -> str:
    """Markdown source as read: a backslash before ASCII punctuation is dropped."""
    return re.sub(r"\\([!-/:-@\[-`{-~])", r"\1", markdown)


@pytest.fixture
def one_fix(sqlite_engine: Engine) -> int:
    (acme,) = write(sqlite_engine, account(name="Acme"))
    write(sqlite_engine, escalation(acme, NOW - timedelta(days=2), 5))
    return create_fix(
        engine=sqlite_engine,
        data=FixInput(
            title="Page the duty manager",
            trigger_type="outage_impact",
            root_cause="unclear_trigger",
            owner="Dana Okafor",
            due_on=NOW.date() + timedelta(days=14),
            expected_effect=None,
            escalation_ids=(),
            author="Ana Lima",
            token="first",
        ),
        now=NOW - timedelta(days=1),
    )


def open_fix(page: AppTest, fix_id: int) -> AppTest:
    page.query_params["fix"] = str(fix_id)
    page.run()
    page.switch_page("../pages/repair_review.py").run()
    page.get_by_key("author").set_value("Ana Lima")  # type: ignore[union-attr]
    page.selectbox(key="fix").set_value(fix_id).run()
    assert not page.exception, page.exception
    return page


def status_rows(engine: Engine, fix_id: int) -> list[tuple[str, str, str]]:
    with engine.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT author, old_value, new_value FROM process_fix_history "
                "WHERE fix_id = :fix_id AND field = 'status' ORDER BY id"
            ),
            {"fix_id": fix_id},
        ).all()
    return [tuple(row) for row in rows]


def test_a_stale_status_change_says_who_changed_it_and_what_to_do(
    one_fix: int, app_for: Callable[[Engine], AppTest], sqlite_engine: Engine
) -> None:
    page = open_fix(app_for(sqlite_engine), one_fix)
    # Someone else moves the fix while this page still shows version 1.
    moved_at = datetime(NOW.year, NOW.month, NOW.day, 9, 30, tzinfo=UTC)
    change_fix_status(
        engine=sqlite_engine,
        fix_id=one_fix,
        new_status="in_progress",
        author=OTHER,
        now=moved_at,
        expected_version=1,
    )

    page.selectbox(key="status_new").set_value("abandoned")
    page.get_by_key("status_reason").set_value("Duplicate")  # type: ignore[union-attr]
    page.button(key=f"FormSubmitter:status_{one_fix}-Change status").click().run()

    assert not page.exception
    (error,) = [e.value for e in page.error]
    assert unescaped(error) == (
        f"{OTHER} changed this fix at {fmt.moment(moved_at)} UTC, after you "
        "opened it, so your change was not saved. The record above has been "
        "reloaded with their change (now version 2): check it, then choose the "
        "new status again if it still applies."
    )
    # Shown as text: the name's tag and link are escaped in the Markdown source.
    assert "<img" not in error.replace("\\<img", "")
    assert "](" not in error.replace("\\]\\(", "")
    # Nothing of the refused change was written; the other person's change stands.
    assert status_rows(sqlite_engine, one_fix) == [(OTHER, "proposed", "in_progress")]
    # The page shows the fix as it now is, and offers the moves from there.
    tiles = {metric.label: metric.value for metric in page.metric}
    assert tiles["Status"] == "in progress"
    assert page.selectbox(key="status_new").options == ["abandoned", "shipped"]


def test_choosing_again_after_a_stale_change_goes_through(
    one_fix: int, app_for: Callable[[Engine], AppTest], sqlite_engine: Engine
) -> None:
    page = open_fix(app_for(sqlite_engine), one_fix)
    change_fix_status(
        engine=sqlite_engine,
        fix_id=one_fix,
        new_status="in_progress",
        author=OTHER,
        now=NOW,
        expected_version=1,
    )
    submit = f"FormSubmitter:status_{one_fix}-Change status"
    page.selectbox(key="status_new").set_value("in_progress")
    page.button(key=submit).click().run()

    page.selectbox(key="status_new").set_value("shipped")
    page.date_input(key="status_shipped").set_value(NOW.date())
    page.button(key=submit).click().run()

    assert not page.exception
    assert status_rows(sqlite_engine, one_fix) == [
        (OTHER, "proposed", "in_progress"),
        ("Ana Lima", "in_progress", "shipped"),
    ]
    assert any("is now shipped" in s.value for s in page.success)
