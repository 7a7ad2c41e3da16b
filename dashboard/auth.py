"""Who is using the app, and what they may do: sign-in, roles, the local mode.

Sign-in is optional. With an ``[auth]`` section in ``.streamlit/secrets.toml``
every visitor signs in through OpenID Connect (``st.login``) and gets a role
from the ``[roles]`` section: a viewer reads, an editor also logs and moves
fixes, records reviews and decides on early-warning flags, an admin also
imports data. The signed-in name is recorded as the author of every write.

Without ``[auth]`` the app runs in a local single-user mode: whoever opens it
may do everything, names themselves in a text field, and every page says so.
"""

import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import IntEnum
from typing import Any

import streamlit as st

from dashboard import format as fmt

log = logging.getLogger(__name__)

AUTHOR_KEY = "author"


class Role(IntEnum):
    """What a person may do; each role may do everything the lower ones may."""

    VIEWER = 1
    EDITOR = 2
    ADMIN = 3


ROLE_NAMES = {role: role.name.lower() for role in Role}
WHAT_ROLES_DO = {
    Role.VIEWER: "read every page",
    Role.EDITOR: "log and update fixes, record reviews and decide on early warnings",
    Role.ADMIN: "import data",
}


@dataclass(frozen=True)
class Identity:
    """The person behind this session, as far as the app knows."""

    role: Role
    signed_in: bool
    local: bool
    name: str | None = None
    email: str | None = None

    @property
    def label(self) -> str | None:
        """How the person is recorded as an author: name, else e-mail."""
        return self.name or self.email

    def may(self, needed: Role) -> bool:
        """Whether this person's role includes ``needed``."""
        return self.role >= needed


def _section(name: str) -> Mapping[str, Any] | None:
    """A section of the secrets, or None when there is none or no secrets file."""
    try:
        if name not in st.secrets:
            return None
        section = st.secrets[name]
    except (FileNotFoundError, KeyError):
        return None
    except Exception:  # a malformed secrets file must not take the app down
        log.exception("Cannot read the [%s] section of the secrets", name)
        return None
    return section if isinstance(section, Mapping) else None


def sign_in_configured() -> bool:
    """Whether OpenID Connect sign-in is set up (an ``[auth]`` secrets section)."""
    return _section("auth") is not None


def _listed(section: Mapping[str, Any], key: str) -> set[str]:
    values = section.get(key, ())
    if isinstance(values, str):
        values = [values]
    if not isinstance(values, Sequence):
        return set()
    return {str(value).strip().lower() for value in values if str(value).strip()}


def role_for(email: str | None, roles: Mapping[str, Any] | None) -> Role:
    """The role configured for an e-mail address; viewer unless listed.

    ``roles`` is the ``[roles]`` section: ``admins`` and ``editors`` list
    e-mail addresses (compared without case); ``default`` names the role of
    everyone else who can sign in, ``viewer`` unless set.
    """
    if roles is None:
        return Role.VIEWER
    address = (email or "").strip().lower()
    if address and address in _listed(roles, "admins"):
        return Role.ADMIN
    if address and address in _listed(roles, "editors"):
        return Role.EDITOR
    default = str(roles.get("default", "viewer")).strip().lower()
    by_name = {name: role for role, name in ROLE_NAMES.items()}
    if default not in by_name:
        log.warning("Unknown default role %r in [roles]; using viewer", default)
        return Role.VIEWER
    return by_name[default]


def current_identity() -> Identity:
    """Who this session belongs to; the local mode when sign-in is not set up."""
    if not sign_in_configured():
        return Identity(role=Role.ADMIN, signed_in=False, local=True)
    user = st.user
    if not user.get("is_logged_in", False):
        return Identity(role=Role.VIEWER, signed_in=False, local=False)
    email = user.get("email")
    name = user.get("name")
    return Identity(
        role=role_for(str(email) if email else None, _section("roles")),
        signed_in=True,
        local=False,
        name=str(name) if name else None,
        email=str(email) if email else None,
    )


def gate() -> Identity:
    """Ask for sign-in when it is set up; say who is here, or that nobody signed in.

    Stops the page for a visitor who has not signed in. Once signed in, the
    person's name is put where the forms read their author, so nobody can
    write under another name.
    """
    identity = current_identity()
    if identity.local:
        st.sidebar.caption(
            ":material/person: Local single-user mode: no sign-in is set up, so "
            "anyone who can open this address may read and write. Name yourself "
            "in the forms; README explains how to turn sign-in on."
        )
        return identity
    if not identity.signed_in:
        st.title("Escalation Health")
        st.write("Sign in with your company account to see the escalation history.")
        st.button("Sign in", type="primary", on_click=st.login)
        st.stop()
    st.session_state[AUTHOR_KEY] = identity.label
    with st.sidebar:
        st.caption(
            f":material/person: Signed in as {fmt.plain(identity.label)} "
            f"({ROLE_NAMES[identity.role]})."
        )
        st.button("Sign out", on_click=st.logout)
    return identity


def author_input(identity: Identity, help_text: str) -> None:
    """The "Your name" field in the local mode; nothing when sign-in names people."""
    if identity.local:
        st.text_input("Your name", key=AUTHOR_KEY, help=help_text)


def explain_missing_role(identity: Identity, needed: Role) -> None:
    """Tell a signed-in person why a form is not shown to them."""
    st.info(
        f"You are signed in as a {ROLE_NAMES[identity.role]}. To "
        f"{WHAT_ROLES_DO[needed]}, ask an administrator for the "
        f"{ROLE_NAMES[needed]} role.",
        icon=":material/lock:",
    )
