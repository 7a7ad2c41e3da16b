"""Session state of one form: its submission token, field errors and notice.

A form's token is written to a UNIQUE column with the row it creates, so a
second click on the same form finds the first row instead of writing another.
A fresh token is drawn only after a write succeeded or the form was reset.
"""

import uuid
from dataclasses import dataclass

import streamlit as st

from dashboard import format as fmt


@dataclass(frozen=True)
class FormState:
    """Keys in ``st.session_state`` that belong to the form called ``name``."""

    name: str

    @property
    def token(self) -> str:
        """The token of the submission being prepared, drawn on first use."""
        key = f"{self.name}_token"
        if key not in st.session_state:
            st.session_state[key] = uuid.uuid4().hex
        return str(st.session_state[key])

    def renew_token(self) -> None:
        """Start a new submission: the next write is a different one."""
        st.session_state[f"{self.name}_token"] = uuid.uuid4().hex

    @property
    def errors(self) -> dict[str, str]:
        """Field name to message, from the last failed submission."""
        return dict(st.session_state.get(f"{self.name}_errors", {}))

    def fail(self, errors: dict[str, str]) -> None:
        """Keep the messages of a refused submission and drop any old notice."""
        st.session_state[f"{self.name}_errors"] = dict(errors)
        st.session_state.pop(f"{self.name}_notice", None)

    def succeed(self, notice: str) -> None:
        """Keep the notice of a saved submission; the next one gets a new token."""
        st.session_state[f"{self.name}_errors"] = {}
        st.session_state[f"{self.name}_notice"] = notice
        self.renew_token()

    @property
    def notice(self) -> str | None:
        """The message of the last saved submission, if any."""
        notice = st.session_state.get(f"{self.name}_notice")
        return str(notice) if notice else None

    def show_field_error(self, field: str) -> None:
        """The message for one field, drawn right under it, as plain text."""
        message = self.errors.get(field)
        if message:
            st.markdown(f":red[{fmt.plain(message)}]")

    def show_form_error(self) -> None:
        """Messages that belong to no single field, above the form's fields."""
        for field, message in self.errors.items():
            if field.startswith("_") or field not in _SHOWN_BY_FIELD:
                st.error(fmt.plain(message), icon=":material/error:")


# Errors under these keys are drawn next to their own field; any other key
# (a database failure, a field without a widget) is shown above the form.
_SHOWN_BY_FIELD: frozenset[str] = frozenset()
