"""Opening an escalation from an early-warning flag, in a real browser."""

import re
from typing import Any

import pytest

from tests.browser.actions import (
    WAIT_MS,
    exceptions,
    form_with_button,
    grid_cell,
    open_page,
    settle,
    type_and_commit,
)
from tests.browser.conftest import Served, screenshot_path

pytestmark = pytest.mark.browser

CHOSEN = re.compile(r"(?P<name>.+) \(#(?P<id>\d+)\)")


def test_opening_an_escalation_from_the_first_flag_records_who_decided(
    server: Served, page: Any
) -> None:
    open_page(page, server.base + "/early-warning", "Early warning")
    flags = page.get_by_test_id("stDataFrame").first
    # The demo history makes a few accounts drift towards leaving right now;
    # the grid fills its rows after the run, so wait for the first one.
    flags.locator("tr[aria-rowindex='2']").wait_for(state="attached", timeout=WAIT_MS)
    first_flag = grid_cell(flags, column=1, row=0)  # rank, then account
    chosen = CHOSEN.fullmatch(
        page.get_by_role("combobox", name="Account to review").input_value()
    )
    assert chosen is not None
    assert chosen["name"] == first_flag, (chosen, first_flag)
    account_id = int(chosen["id"])
    assert server.rows("SELECT id FROM escalation WHERE external_id LIKE 'EW-%'") == []

    type_and_commit(page, "Your name", "Nora Nightwatch")
    form = form_with_button(page, "Open escalation")
    form.get_by_role("textbox", name="Owner of the escalation", exact=True).fill(
        "Owen Owner"
    )
    form.get_by_role("button", name="Open escalation", exact=True).click()
    notice = page.get_by_text("Opened escalation #")
    notice.wait_for(timeout=WAIT_MS)
    settle(page)
    page.screenshot(path=str(screenshot_path("early-warning-opened")), full_page=True)

    assert exceptions(page) == []
    (opened,) = server.rows(
        "SELECT id, account_id, raised_by, owner, raised_via FROM escalation "
        "WHERE external_id LIKE 'EW-%'"
    )
    assert notice.inner_text() == (
        f"Opened escalation #{opened['id']} for {first_flag}, decided by "
        "Nora Nightwatch."
    )
    assert opened["account_id"] == account_id
    assert opened["raised_by"] == "Nora Nightwatch"
    assert opened["owner"] == "Owen Owner"
    (decision,) = server.rows(
        "SELECT account_id, decision, decided_by, escalation_id, reason_category "
        "FROM early_warning_decision"
    )
    assert decision == {
        "account_id": account_id,
        "decision": "opened",
        "decided_by": "Nora Nightwatch",
        "escalation_id": opened["id"],
        "reason_category": None,
    }
