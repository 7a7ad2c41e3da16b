"""Sign-in and roles: who may read, write and import, and who is recorded."""

import pytest
import sqlalchemy as sa
from sqlalchemy import Engine
from streamlit.testing.v1 import AppTest

from dashboard.auth import Role, role_for
from tests.pages.test_early_warning import PAGE as EARLY_WARNING
from tests.pages.test_early_warning import button, decisions

# Placeholder settings: the app only checks that the section exists; the
# identity provider is never contacted in these tests.
AUTH = {
    "redirect_uri": "http://localhost:8501/oauth2callback",
    "cookie_secret": "not-a-real-secret",
    "client_id": "escalation-health",
    "client_secret": "not-a-real-secret",
    "server_metadata_url": "https://id.example.com/.well-known/openid-configuration",
}
ROLES = {
    "admins": ["Ada@Example.com"],
    "editors": ["edith@example.com"],
}
PAGES = [
    "../pages/overview.py",
    "../pages/late_escalations.py",
    "../pages/recurrence.py",
    "../pages/fix_impact.py",
    EARLY_WARNING,
    "../pages/repair_review.py",
    "../pages/data.py",
]


def signed_in(app_for, engine: Engine, email: str | None, name: str) -> AppTest:  # type: ignore[no-untyped-def]
    at = app_for(engine)
    at.secrets["auth"] = AUTH
    at.secrets["roles"] = ROLES
    at.user = {"is_logged_in": email is not None, "email": email, "name": name}
    return at


def visit(at: AppTest, page: str) -> AppTest:
    at.run()
    at.switch_page(page)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize(
    ("email", "expected"),
    [
        ("ada@example.com", Role.ADMIN),  # listed with other capitals
        (" EDITH@example.com ", Role.EDITOR),
        ("someone@example.com", Role.VIEWER),
        (None, Role.VIEWER),
    ],
)
def test_roles_come_from_the_lists_without_case(
    email: str | None, expected: Role
) -> None:
    assert role_for(email, ROLES) == expected


def test_the_default_role_of_everyone_else_can_be_raised_but_not_invented() -> None:
    assert role_for("x@example.com", {**ROLES, "default": "editor"}) == Role.EDITOR
    assert role_for("x@example.com", {**ROLES, "default": "owner"}) == Role.VIEWER
    assert role_for("x@example.com", None) == Role.VIEWER


@pytest.mark.parametrize("page", PAGES)
def test_without_sign_in_every_page_says_it_is_in_local_mode(
    app_for, drifting: Engine, page: str
) -> None:
    at = visit(app_for(drifting), page)

    assert any("Local single-user mode" in c.value for c in at.sidebar.caption)


def test_a_visitor_who_has_not_signed_in_sees_no_data(
    app_for, drifting: Engine
) -> None:
    at = signed_in(app_for, drifting, None, "")
    at.run()

    assert not at.exception
    assert [b.label for b in at.button] == ["Sign in"]
    assert not at.dataframe
    assert not at.metric


def test_a_viewer_reads_but_cannot_decide_or_import(app_for, drifting: Engine) -> None:
    at = visit(signed_in(app_for, drifting, "vera@example.com", "Vera"), EARLY_WARNING)

    assert at.dataframe[0].value["account_name"].tolist() == ["Lumen Retail"]
    assert "Open escalation" not in [b.label for b in at.button]
    assert any("signed in as a viewer" in i.value for i in at.info)
    assert any("Signed in as Vera (viewer)" in c.value for c in at.sidebar.caption)

    at.switch_page("../pages/data.py")
    at.run()
    assert not at.get("file_uploader")
    assert any("admin role" in i.value for i in at.info)

    at.switch_page("../pages/repair_review.py")
    at.run()
    assert not at.exception
    keys = {widget.key for widget in at.text_input}
    assert "fix_title" not in keys
    assert "author" not in keys
    assert any("editor role" in i.value for i in at.info)


def test_an_editor_decides_under_the_signed_in_name(app_for, drifting: Engine) -> None:
    at = visit(
        signed_in(app_for, drifting, "edith@example.com", "Edith Editor"),
        EARLY_WARNING,
    )
    assert "author" not in [t.key for t in at.text_input]

    at.text_area(key="ew_dismiss_reason").input("Renewal already signed.")
    button(at, "Dismiss flag").click().run()

    assert not at.exception
    (decision,) = decisions(drifting)
    assert decision["decided_by"] == "Edith Editor"


def test_an_admin_may_import(app_for, drifting: Engine) -> None:
    at = visit(
        signed_in(app_for, drifting, "ada@example.com", "Ada"), "../pages/data.py"
    )

    assert at.get("file_uploader")
    with drifting.connect() as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM account")).scalar() == 3
