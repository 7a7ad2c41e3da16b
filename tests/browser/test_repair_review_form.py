"""Logging a process fix through the Repair review form in a real browser."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.browser.actions import (
    WAIT_MS,
    click_twice_quickly,
    exceptions,
    fill_fix_form,
    open_page,
    settle,
    type_and_commit,
)
from tests.browser.conftest import Served, fixes_titled, screenshot_path

pytestmark = pytest.mark.browser


def test_a_fix_logged_in_the_form_is_one_row_with_its_author(
    server: Served, page: Any
) -> None:
    title = "Hand renewal risks to the account owner on day one"
    due = datetime.now(UTC) + timedelta(days=30)
    open_page(page, server.base + "/repair-review", "Repair review")
    type_and_commit(page, "Your name", "Rita Reviewer")

    fill_fix_form(page, title, due).click()
    notice = page.get_by_text("Logged fix #")
    notice.wait_for(timeout=WAIT_MS)
    settle(page)
    page.screenshot(path=str(screenshot_path("repair-review-fix-logged")))

    assert exceptions(page) == []
    (fix,) = fixes_titled(server, title)
    assert notice.inner_text() == f"Logged fix #{fix['id']}: {title}"
    assert fix["author"] == "Rita Reviewer"
    assert (fix["trigger_type"], fix["root_cause"], fix["owner"]) == (
        "renewal_at_risk",
        "ownership_handoff",
        "Olga Owner",
    )
    # Stored as midnight UTC of the chosen day; SQLite hands back the text.
    assert str(fix["due_at"]).startswith(due.strftime("%Y-%m-%d"))
    assert fix["status"] == "proposed"


def test_a_second_click_on_log_fix_writes_no_second_row(
    server: Served, page: Any
) -> None:
    title = "Name a deputy owner for every strategic account"
    due = datetime.now(UTC) + timedelta(days=21)
    open_page(page, server.base + "/repair-review", "Repair review")
    type_and_commit(page, "Your name", "Dora Doubleclick")
    replays_before = server.log_text().count("fix form")

    click_twice_quickly(fill_fix_form(page, title, due))
    page.get_by_text("Logged fix #").wait_for(timeout=WAIT_MS)
    # The second click reached the server and was answered with the first row;
    # without that, this test would prove nothing about the submission token.
    server.wait_for_log(lambda text: text.count("fix form") > replays_before)
    settle(page)

    assert exceptions(page) == []
    assert [fix["author"] for fix in fixes_titled(server, title)] == [
        "Dora Doubleclick"
    ]
