"""Every page renders in a real browser, served by the real command."""

import pytest

from tests.browser.conftest import screenshot_path

pytestmark = pytest.mark.browser

PAGES = [("overview", "/", "Overview")]


@pytest.mark.parametrize(("name", "path", "heading"), PAGES)
def test_page_renders_without_an_exception(
    server: str, browser: object, name: str, path: str, heading: str
) -> None:
    page = browser.new_page(viewport={"width": 1400, "height": 1000})  # type: ignore[attr-defined]
    try:
        page.goto(server + path)
        page.get_by_role("heading", name=heading).wait_for(timeout=60_000)
        page.wait_for_selector("[data-testid='stMetric']", timeout=60_000)
        page.wait_for_timeout(1_500)  # let plotly finish drawing before the shot
        page.screenshot(path=str(screenshot_path(name)), full_page=True)

        assert page.locator("[data-testid='stException']").count() == 0
        assert page.locator("[data-testid='stMetric']").count() == 5
    finally:
        page.close()


def test_filters_survive_in_the_url(server: str, browser: object) -> None:
    page = browser.new_page()  # type: ignore[attr-defined]
    try:
        page.goto(server + "/?severity=critical")
        page.get_by_role("heading", name="Overview").wait_for(timeout=60_000)
        page.wait_for_selector("[data-testid='stMetric']", timeout=60_000)

        assert "critical" in page.locator("[data-testid='stSidebar']").inner_text()
        assert (
            "severity: critical"
            in page.locator("[data-testid='stCaptionContainer']").first.inner_text()
        )
    finally:
        page.close()
