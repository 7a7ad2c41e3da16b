"""A manager's drill-down, end to end: Overview to one escalation's packet."""

import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.browser.actions import (
    WAIT_MS,
    exceptions,
    grid_cell,
    open_page,
    settle,
)
from tests.browser.conftest import Served, screenshot_path

pytestmark = pytest.mark.browser

# st.dataframe draws rows of 35 px under a header row of the same height.
ROW_PX = 35
# The late table is 400 px high: ten rows show without scrolling.
SHOWN_WHOLE = 10
LINK = re.compile(r"escalation\?id=(\d+)")


def test_overview_to_late_escalations_to_a_bar_to_a_row_opens_that_packet(
    server: Served, page: Any
) -> None:
    open_page(page, server.base + "/", "Overview")
    assert exceptions(page) == []

    page.get_by_test_id("stSidebarNav").get_by_role(
        "link", name="Late escalations"
    ).click()
    page.get_by_role("heading", name="Late escalations", exact=True).first.wait_for(
        timeout=WAIT_MS
    )
    settle(page)
    assert exceptions(page) == []

    # The second chart is the breakdown by team; its first bar the worst team,
    # labelled "late of all".
    point = page.locator(".js-plotly-plot").nth(1).locator(".barlayer .point").first
    late = int(str(point.locator("text").text_content()).split(" of ")[0])
    # The mouse only reaches what is inside the window.
    point.locator("path").scroll_into_view_if_needed()
    box = point.locator("path").bounding_box()
    assert box is not None
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.wait_for_function(
        "() => window.location.search.includes('focus=')", timeout=WAIT_MS
    )
    settle(page)
    assert exceptions(page) == []
    (team,) = parse_qs(urlsplit(page.url).query)["focus"]
    # The table under the chart lists exactly the late escalations of that bar.
    page.get_by_text(re.compile(rf"^{late:,} late escalations")).wait_for(
        timeout=WAIT_MS
    )

    table = page.get_by_test_id("stDataFrame").last
    # The grid takes the new rows after the run is over. A short list is drawn
    # whole, so its row count tells when the grid shows the focused rows.
    assert 1 <= late <= SHOWN_WHOLE
    page.wait_for_function(
        "([grid, rows]) => grid.querySelectorAll('tr[aria-rowindex]').length === rows",
        arg=[table.element_handle(), late + 1],
        timeout=WAIT_MS,
    )
    # The second row when there is one: the first would also be chosen by a
    # page that ignored which row was selected.
    row = 1 if late >= 2 else 0
    # Column 0 holds the row checkboxes, 1 the link, 2 the account.
    link = LINK.fullmatch(grid_cell(table, column=1, row=row))
    assert link is not None
    chosen_id = int(link.group(1))
    account = grid_cell(table, column=2, row=row)

    table.scroll_into_view_if_needed()
    grid = table.bounding_box()
    assert grid is not None
    # The row's checkbox sits in the narrow first column, left of "Open".
    page.mouse.click(grid["x"] + 15, grid["y"] + ROW_PX * (row + 1) + ROW_PX / 2)
    page.wait_for_url(re.compile(r"/escalation\?id=\d+"), timeout=WAIT_MS)
    page.get_by_role("heading", name="The packet", exact=True).wait_for(timeout=WAIT_MS)
    settle(page)
    page.screenshot(path=str(screenshot_path("drill-down-packet")), full_page=True)

    assert exceptions(page) == []
    assert page.url.endswith(f"/escalation?id={chosen_id}"), (page.url, chosen_id)
    title = page.get_by_role("heading", level=1).first.inner_text()
    assert title.endswith(f"· {account}")
    # Read back independently of the page: the row really is that escalation,
    # an escalation of the team whose bar was clicked.
    (record,) = server.rows(
        "SELECT a.name AS account, a.team FROM escalation e "
        "JOIN account a ON a.id = e.account_id WHERE e.id = :id",
        id=chosen_id,
    )
    assert record["account"] == account
    assert record["team"] == team
