"""Every page renders in a real browser, served by the real command."""

import re

import pytest

from tests.browser.conftest import screenshot_path

pytestmark = pytest.mark.browser

PAGES = [
    ("overview", "/", "Overview"),
    ("late-escalations", "/late-escalations", "Late escalations"),
    ("escalation", "/escalation?id=1", "The packet"),
    ("recurrence", "/recurrence", "Recurrence"),
    ("fix-impact", "/fix-impact", "Fix impact"),
    ("repair-review", "/repair-review", "Repair review"),
]
WAIT_MS = 60_000


def _open(browser: object, url: str, heading: str):  # type: ignore[no-untyped-def]
    page = browser.new_page(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    page.goto(url)
    page.get_by_role("heading", name=heading, exact=True).first.wait_for(
        timeout=WAIT_MS
    )
    # Every page ends its first draw with a chart or a tile.
    page.wait_for_selector(
        "[data-testid='stPlotlyChart'], [data-testid='stMetric']", timeout=WAIT_MS
    )
    page.wait_for_timeout(1_500)  # let plotly finish drawing
    return page


@pytest.mark.parametrize(("name", "path", "heading"), PAGES)
def test_page_renders_without_an_exception(
    server: str, browser: object, name: str, path: str, heading: str
) -> None:
    page = _open(browser, server + path, heading)
    try:
        page.screenshot(path=str(screenshot_path(name)), full_page=True)

        assert page.locator("[data-testid='stException']").count() == 0
        assert page.locator("[data-testid='stMain']").inner_text().strip()
    finally:
        page.close()


def test_filters_survive_in_the_url(server: str, browser: object) -> None:
    page = _open(browser, server + "/?severity=critical", "Overview")
    try:
        main = page.locator("[data-testid='stMain']").inner_text()

        assert "severity: critical" in main
    finally:
        page.close()


def test_clicking_a_bar_narrows_the_late_table_and_keeps_it_in_the_url(
    server: str, browser: object
) -> None:
    # Bound widgets carry their shown label in the address.
    page = _open(browser, server + "/late-escalations?by=Severity", "Late escalations")
    try:
        # The second chart is the breakdown; the first is the histogram.
        chart = page.locator(".js-plotly-plot").nth(1)
        bar = chart.locator(".barlayer .point path").first
        box = bar.bounding_box()
        assert box is not None
        page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
        page.wait_for_function(
            "() => window.location.search.includes('focus=')", timeout=WAIT_MS
        )
        page.wait_for_timeout(1_500)

        assert page.locator("[data-testid='stException']").count() == 0
        assert re.search(r"focus=(critical|high|medium|low)", page.url)
    finally:
        page.close()
