"""Every page renders in a real browser, served by the real command."""

from typing import Any

import pytest

from tests.browser.actions import exceptions, open_page
from tests.browser.conftest import Served, screenshot_path

pytestmark = pytest.mark.browser

PAGES = [
    ("overview", "/", "Overview"),
    ("late-escalations", "/late-escalations", "Late escalations"),
    ("escalation", "/escalation?id=1", "The packet"),
    ("recurrence", "/recurrence", "Recurrence"),
    ("fix-impact", "/fix-impact", "Fix impact"),
    ("early-warning", "/early-warning", "Early warning"),
    ("repair-review", "/repair-review", "Repair review"),
    ("data", "/data", "Data"),
]


@pytest.mark.parametrize(("name", "path", "heading"), PAGES)
def test_page_renders_without_an_exception(
    server: Served, page: Any, name: str, path: str, heading: str
) -> None:
    open_page(page, server.base + path, heading)
    page.screenshot(path=str(screenshot_path(name)), full_page=True)

    assert exceptions(page) == []
    assert page.locator("[data-testid='stMain']").inner_text().strip()


def test_filters_survive_in_the_url(server: Served, page: Any) -> None:
    open_page(page, server.base + "/?severity=critical", "Overview")

    assert "severity: critical" in page.locator("[data-testid='stMain']").inner_text()
