"""What a person does in the browser, and how the tests wait for the app to answer.

Streamlit marks its root element with the state of the script run
(``data-test-script-state``): the tests wait on that rather than on the clock.
"""

import re
from collections.abc import Callable
from datetime import date
from typing import Any

from playwright.sync_api import TimeoutError as PlaywrightTimeout

WAIT_MS = 60_000
# A select box whose list has not shown this long after the key gets the key again.
_OPEN_WAIT_MS = 5_000
_OPEN_ATTEMPTS = 4
_SETTLED = "[data-testid='stApp'][data-test-script-state='notRunning']"
# Counts every change of the run state from now on: any change means a run began.
_WATCH_RUNS = """() => {
  const app = document.querySelector("[data-testid='stApp']");
  window.__runStateChanges = 0;
  new MutationObserver((records) => { window.__runStateChanges += records.length; })
    .observe(app, {attributes: true, attributeFilter: ['data-test-script-state']});
}"""
# Clicks the button, then once more as soon as the app says it runs the first
# click: the moment an impatient second click does the most harm.
_CLICK_TWICE = """(button) => new Promise((resolve) => {
  const app = document.querySelector("[data-testid='stApp']");
  const observer = new MutationObserver(() => {
    if (app.dataset.testScriptState === 'running') {
      observer.disconnect();
      button.click();
      resolve(true);
    }
  });
  const watched = ['data-test-script-state'];
  observer.observe(app, {attributes: true, attributeFilter: watched});
  button.click();
})"""


def settle(page: Any) -> None:
    """Wait until the run is over, every chart has drawn and no placeholder is left.

    Streamlit shows grey placeholders where elements are still on their way; a
    page can report its run over a moment before they are replaced.
    """
    page.wait_for_selector(_SETTLED, timeout=WAIT_MS)
    page.wait_for_function(
        """() => [...document.querySelectorAll("[data-testid='stPlotlyChart']")]
            .every((chart) => chart.querySelector('.main-svg'))
          && !document.querySelector(
            "[data-testid='stSkeleton'], [data-testid='stSkeletonElement']")""",
        timeout=WAIT_MS,
    )


def open_page(page: Any, url: str, heading: str) -> Any:
    """Go to ``url`` and wait until its heading shows and the run is over."""
    page.goto(url)
    page.get_by_role("heading", name=heading, exact=True).first.wait_for(
        timeout=WAIT_MS
    )
    settle(page)
    return page


def after_rerun(page: Any, action: Callable[[], object]) -> None:
    """Do ``action``, then wait for the run it causes to start and to finish."""
    page.evaluate(_WATCH_RUNS)
    action()
    page.wait_for_function("() => window.__runStateChanges > 0", timeout=WAIT_MS)
    settle(page)


def type_and_commit(page: Any, label: str, text: str) -> None:
    """Type into a text box outside a form and press Enter, which reruns the app."""
    box = page.get_by_role("textbox", name=label, exact=True)
    box.fill(text)
    after_rerun(page, lambda: box.press("Enter"))


def choose(page: Any, scope: Any, label: str, option: str) -> None:
    """Pick ``option`` in the select box called ``label`` inside ``scope``.

    The keyboard opens the list: a click sometimes opens it and sometimes not.
    On a busy machine the key now and then arrives before the box listens, so
    it is pressed again until the list shows. CSS finds the list and its
    options, because an open list hides the rest of the page from the
    accessibility tree, and with it from ``get_by_role``.
    """
    combobox = scope.locator(f"input[role='combobox'][aria-label='{label}']")
    listbox = page.locator(f"[role='listbox'][aria-label='{label}']")
    for _ in range(_OPEN_ATTEMPTS):
        combobox.focus()
        combobox.press("ArrowDown")
        try:
            listbox.wait_for(state="visible", timeout=_OPEN_WAIT_MS)
            break
        except PlaywrightTimeout:
            continue
    listbox.locator("[role='option']").filter(
        has_text=re.compile(rf"^{re.escape(option)}$")
    ).click()
    listbox.wait_for(state="detached", timeout=WAIT_MS)


def type_date(scope: Any, label: str, year: int, month: int, day: int) -> None:
    """Type a date into a date input, segment by segment as a keyboard user would."""
    scope.get_by_role("spinbutton", name=f"year, {label}").click()
    scope.page.keyboard.type(f"{year:04d}{month:02d}{day:02d}")


def form_with_button(page: Any, button: str) -> Any:
    """The form whose submit button reads ``button``."""
    return page.get_by_test_id("stForm").filter(
        has=page.get_by_test_id("stFormSubmitButton").filter(has_text=button)
    )


def fill_fix_form(page: Any, title: str, due: date) -> Any:
    """Fill every field of the fix form; returns its submit button."""
    form = form_with_button(page, "Log fix")
    form.get_by_role("textbox", name="Title", exact=True).fill(title)
    choose(page, form, "Trigger type", "renewal_at_risk")
    choose(page, form, "Root cause", "ownership handoff")
    form.get_by_role("textbox", name="Owner", exact=True).fill("Olga Owner")
    type_date(form, "Due", due.year, due.month, due.day)
    form.get_by_role("textbox", name="Expected effect", exact=True).fill(
        "Renewal risks reach the account owner within a day."
    )
    return form.get_by_role("button", name="Log fix", exact=True)


def click_twice_quickly(button: Any) -> None:
    """Click, and click again the moment the app starts handling the first click."""
    button.evaluate(_CLICK_TWICE)


def exceptions(page: Any) -> list[str]:
    """The text of every exception box on the page."""
    boxes = page.locator("[data-testid='stException']")
    return [boxes.nth(i).inner_text() for i in range(boxes.count())]


def sidebar_text(page: Any) -> str:
    """Everything the sidebar says."""
    return str(page.get_by_test_id("stSidebar").inner_text())


def button_labels(page: Any) -> list[str]:
    """The labels of the app's own buttons, form submit buttons included."""
    buttons = page.locator(
        "[data-testid='stButton'] button, [data-testid='stFormSubmitButton'] button"
    )
    return [re.sub(r"\s+", " ", text).strip() for text in buttons.all_inner_texts()]


def grid_cell(table: Any, column: int, row: int) -> str:
    """The text of one cell of a dataframe, from its accessible copy.

    ``column`` is the grid's own number: 0 is the first column shown, or the
    row checkboxes when rows can be selected. ``row`` counts data rows from 0.
    """
    return str(table.get_by_test_id(f"glide-cell-{column}-{row}").inner_text())
