"""Real OpenID Connect sign-in in a real browser, and what each role may do.

The app under test reads ``.streamlit/secrets.toml`` from the folder it was
started in and signs people in through the provider in ``oidc_provider.py``:
the browser really leaves for the provider's authorization endpoint, comes back
to ``/oauth2callback`` with a code, and the app's server redeems the code and
checks the signed id_token, as it would against a company's identity provider.
"""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from tests.browser.actions import (
    WAIT_MS,
    button_labels,
    exceptions,
    fill_fix_form,
    open_page,
    settle,
    sidebar_text,
)
from tests.browser.conftest import (
    ADMIN,
    EDITOR,
    VIEWER,
    Served,
    fixes_titled,
    screenshot_path,
)
from tests.browser.oidc_provider import IdentityProvider

pytestmark = pytest.mark.browser

# Buttons that write; a viewer must see none of them.
WRITING_BUTTONS = (
    "Open escalation",
    "Dismiss flag",
    "Log fix",
    "Change status",
    "Record meeting",
)


def sign_in(
    page: Any, served: Served, provider: IdentityProvider, person: tuple[str, str]
) -> None:
    """Sign ``person`` in from the front page, through the provider and back."""
    email, name = person
    provider.sign_in_next(email, name)
    page.goto(served.base + "/")
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.get_by_test_id("stSidebar").get_by_text(f"Signed in as {name}").wait_for(
        timeout=WAIT_MS
    )
    settle(page)


def writing_buttons(page: Any) -> list[str]:
    """The labels of the buttons on the page that would write something."""
    return [
        label
        for label in button_labels(page)
        if any(label.endswith(writer) for writer in WRITING_BUTTONS)
    ]


@pytest.mark.parametrize("path", ["/", "/escalation?id=1"])
def test_before_sign_in_a_page_shows_only_the_sign_in_button(
    signed_in_server: Served, page: Any, path: str
) -> None:
    page.goto(signed_in_server.base + path)
    page.get_by_role("button", name="Sign in", exact=True).wait_for(timeout=WAIT_MS)
    settle(page)

    assert exceptions(page) == []
    assert button_labels(page) == ["Sign in"]
    main = page.get_by_test_id("stMain")
    # No page of the app ran: the only heading is the sign-in screen's own.
    assert main.get_by_role("heading").all_inner_texts() == ["Escalation Health"]
    for element in ("stDataFrame", "stMetric", "stPlotlyChart", "stForm", "stTable"):
        assert main.get_by_test_id(element).count() == 0, element
    assert "Signed in as" not in sidebar_text(page)
    assert "Local single-user mode" not in sidebar_text(page)


def test_a_viewer_reads_but_may_not_decide_log_fixes_or_import(
    signed_in_server: Served, identity_provider: IdentityProvider, page: Any
) -> None:
    sign_in(page, signed_in_server, identity_provider, VIEWER)
    assert f"Signed in as {VIEWER[1]} (viewer)." in sidebar_text(page)

    open_page(page, signed_in_server.base + "/early-warning", "Early warning")
    assert exceptions(page) == []
    # The flags are there to read: the page is not simply empty.
    page.get_by_test_id("stDataFrame").first.locator("tr[aria-rowindex='2']").wait_for(
        state="attached", timeout=WAIT_MS
    )
    # Where the decision forms would be, the page says why they are not; only
    # after that has arrived does their absence mean anything.
    refusal = page.get_by_text("You are signed in as a viewer. To log and update")
    refusal.wait_for(timeout=WAIT_MS)
    assert page.get_by_test_id("stForm").count() == 0
    assert writing_buttons(page) == []

    open_page(page, signed_in_server.base + "/data", "Data")
    page.get_by_text("ask an administrator for the admin role").wait_for(
        timeout=WAIT_MS
    )
    page.screenshot(path=str(screenshot_path("signed-in-viewer-data")))
    assert exceptions(page) == []
    assert page.get_by_test_id("stFileUploader").count() == 0

    open_page(page, signed_in_server.base + "/repair-review", "Repair review")
    # One refusal where the fix form would be, one where the meeting form would.
    refusal.nth(1).wait_for(timeout=WAIT_MS)
    assert exceptions(page) == []
    assert page.get_by_test_id("stForm").count() == 0
    assert writing_buttons(page) == []


def test_an_editor_signs_in_and_logs_a_fix_under_the_signed_in_name(
    signed_in_server: Served, identity_provider: IdentityProvider, page: Any
) -> None:
    title = "Route renewal risks past the queue to the account owner"
    issued_before = len(identity_provider.issued)

    sign_in(page, signed_in_server, identity_provider, EDITOR)
    page.screenshot(path=str(screenshot_path("signed-in-overview")))
    assert exceptions(page) == []
    # [roles] lists the editor in capitals; addresses compare without case.
    assert f"Signed in as {EDITOR[1]} (editor)." in sidebar_text(page)
    assert page.url.rstrip("/") == signed_in_server.base
    page.get_by_role("heading", name="Overview", exact=True).wait_for(timeout=WAIT_MS)
    # The provider really issued one id_token, for this person and this app.
    (claims,) = identity_provider.issued[issued_before:]
    assert (claims["email"], claims["aud"]) == (EDITOR[0], "escalation-health")

    open_page(page, signed_in_server.base + "/repair-review", "Repair review")
    submit = fill_fix_form(page, title, datetime.now(UTC) + timedelta(days=30))
    # Nobody types a name: there is no box for it (the form's own text boxes
    # are drawn by now), and the signed-in name is recorded.
    assert page.get_by_role("textbox", name="Your name").count() == 0
    submit.click()
    page.get_by_text("Logged fix #").wait_for(timeout=WAIT_MS)
    settle(page)

    assert exceptions(page) == []
    assert [fix["author"] for fix in fixes_titled(signed_in_server, title)] == [
        EDITOR[1]
    ]


def test_an_admin_may_import_and_signing_out_asks_for_sign_in_again(
    signed_in_server: Served, identity_provider: IdentityProvider, page: Any
) -> None:
    sign_in(page, signed_in_server, identity_provider, ADMIN)
    open_page(page, signed_in_server.base + "/data", "Data")
    # Upload widgets are drawn a moment after the run that sends them.
    page.get_by_test_id("stFileUploader").wait_for(timeout=WAIT_MS)
    assert exceptions(page) == []
    assert f"Signed in as {ADMIN[1]} (admin)." in sidebar_text(page)

    # Signing out leaves for the app's logout address, which clears the cookie
    # and sends the browser back to the front page.
    page.get_by_test_id("stSidebar").get_by_role("button", name="Sign out").click()
    page.get_by_role("button", name="Sign in", exact=True).wait_for(timeout=WAIT_MS)
    assert button_labels(page) == ["Sign in"]

    # The sign-in cookie is gone: opening a page afresh asks again.
    page.goto(signed_in_server.base + "/data")
    page.get_by_role("button", name="Sign in", exact=True).wait_for(timeout=WAIT_MS)
    settle(page)
    assert page.get_by_test_id("stFileUploader").count() == 0
    assert "Signed in as" not in sidebar_text(page)
