"""Forms of the Repair review page: log a fix, move a fix, record a meeting.

Submissions are handled in the submit button's callback, which runs before the
page draws, so that each field can show its own message beside it. Every form
carries a token written to a UNIQUE column: a second click on the same form
returns the row the first click wrote instead of writing another.
"""

import logging
from collections.abc import Callable, Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from dashboard import format as fmt
from dashboard.data import get_engine
from dashboard.form_state import FormState
from db.fixes import (
    ALLOWED_TRANSITIONS,
    FIELD_LIMITS,
    FixInput,
    FixTransitionError,
    FixValidationError,
    ReviewInput,
    StaleFixError,
    change_fix_status,
    create_fix,
    record_review,
)
from db.models import RootCause

log = logging.getLogger(__name__)

NEW_TRIGGER = "A new trigger type…"
ROOT_CAUSE_LABELS = {cause.value: cause.value.replace("_", " ") for cause in RootCause}
AUTHOR_KEY = "author"
FIX_FORM = FormState("fix")
STATUS_FORM = FormState("status")
REVIEW_FORM = FormState("review")


def _text(key: str) -> str:
    return str(st.session_state.get(key) or "").strip()


def _up_to(field: str) -> str:
    """The length limit of a field, said in its help tooltip."""
    return f"Up to {FIELD_LIMITS[field]:,} characters."


# NOTE: no text box here sets max_chars. Streamlit cuts a longer value to
# max_chars on the server without a word, so a long paste would lose its end;
# instead the limit is named in the help, and a longer text is refused on submit
# with a message naming the limit, kept in its box to be shortened.


def _guard(form: str, action: Callable[[], str]) -> None:
    """Run a write; a database failure becomes a message, never a traceback."""
    try:
        notice = action()
    except SQLAlchemyError:
        log.exception("Write failed in form %s", form)
        st.session_state[f"{form}_errors"] = {
            "_form": "The database refused the change; nothing was saved. Try "
            "again, and tell your administrator if it keeps happening."
        }
        return
    if notice:
        st.session_state[f"{form}_notice"] = notice
    else:
        st.session_state.pop(f"{form}_notice", None)


# --- Log a process fix -------------------------------------------------------


def start_fix_from(escalation_ids: Sequence[int], trigger_type: str | None) -> None:
    """Prefill the fix form from agenda rows (a button callback)."""
    st.session_state["fix_links"] = list(escalation_ids)
    if trigger_type:
        st.session_state["fix_trigger"] = trigger_type
    st.session_state.pop("fix_notice", None)
    FIX_FORM.renew_token()


def _submit_fix(url: str) -> None:
    choice = st.session_state.get("fix_trigger")
    trigger = _text("fix_new_trigger") if choice == NEW_TRIGGER else (choice or "")
    due = st.session_state.get("fix_due")
    data = FixInput(
        title=_text("fix_title"),
        trigger_type=trigger,
        root_cause=str(st.session_state.get("fix_root_cause") or ""),
        owner=_text("fix_owner"),
        due_on=due if isinstance(due, date) else None,
        expected_effect=_text("fix_effect"),
        escalation_ids=tuple(int(i) for i in st.session_state.get("fix_links") or ()),
        author=_text(AUTHOR_KEY),
        token=FIX_FORM.token,
    )

    def write() -> str:
        try:
            fix_id = create_fix(
                engine=get_engine(url), data=data, now=datetime.now(UTC)
            )
        except FixValidationError as error:
            st.session_state["fix_errors"] = error.errors
            return ""
        st.session_state["fix_errors"] = {}
        return f"Logged fix #{fix_id}: {data.title}"

    _guard("fix", write)


def _reset_fix_form() -> None:
    for key in (
        "fix_title",
        "fix_new_trigger",
        "fix_owner",
        "fix_effect",
        "fix_links",
        "fix_notice",
        "fix_errors",
    ):
        st.session_state.pop(key, None)
    FIX_FORM.renew_token()


def render_fix_form(
    url: str, trigger_types: Sequence[str], escalation_labels: dict[int, str]
) -> None:
    """The form that logs a process fix, with messages beside its fields."""
    notice = st.session_state.get("fix_notice")
    if notice:
        st.success(fmt.plain(notice), icon=":material/task_alt:")
        st.button("Log another fix", on_click=_reset_fix_form, key="fix_again")
        return
    form_error = FIX_FORM.errors.get("_form")
    if form_error:
        st.error(fmt.plain(form_error))

    today = datetime.now(UTC).date()
    options = [*trigger_types, NEW_TRIGGER]
    if st.session_state.get("fix_trigger") not in options:
        st.session_state.pop("fix_trigger", None)
    known_links = [
        i for i in st.session_state.get("fix_links") or [] if i in escalation_labels
    ]
    st.session_state["fix_links"] = known_links

    with st.form("log_fix", border=True, enter_to_submit=False):
        st.text_input(
            "Title", key="fix_title", placeholder="What changes", help=_up_to("title")
        )
        FIX_FORM.show_field_error("title")
        left, right = st.columns(2)
        with left:
            st.selectbox("Trigger type", options, key="fix_trigger", index=None)
            FIX_FORM.show_field_error("trigger_type")
            st.text_input(
                "New trigger type",
                key="fix_new_trigger",
                help="Only used when the trigger type is “A new trigger type…”. "
                "Lower case words joined by underscores, e.g. contract_dispute. "
                + _up_to("trigger_type"),
            )
            st.selectbox(
                "Root cause",
                list(ROOT_CAUSE_LABELS),
                format_func=ROOT_CAUSE_LABELS.__getitem__,
                key="fix_root_cause",
                index=None,
            )
            FIX_FORM.show_field_error("root_cause")
        with right:
            st.text_input("Owner", key="fix_owner", help=_up_to("owner"))
            FIX_FORM.show_field_error("owner")
            st.date_input(
                "Due",
                value=today + timedelta(days=14),
                min_value=today,
                key="fix_due",
            )
            FIX_FORM.show_field_error("due_on")
        st.text_area(
            "Expected effect", key="fix_effect", help=_up_to("expected_effect")
        )
        FIX_FORM.show_field_error("expected_effect")
        st.multiselect(
            "Linked escalations",
            list(escalation_labels),
            format_func=lambda i: escalation_labels.get(i, str(i)),
            key="fix_links",
            help="The escalations this fix answers; prefilled from the agenda.",
        )
        FIX_FORM.show_field_error("escalation_ids")
        st.form_submit_button(
            "Log fix", type="primary", on_click=_submit_fix, args=(url,)
        )
    FIX_FORM.show_field_error("author")


# --- Move a fix along ------------------------------------------------------------


def stale_message(error: StaleFixError) -> str:
    """What the page says when someone else changed the fix first: what, then what now.

    The rerun that follows the failed submit reads the fix again, so the record
    above the message already shows the other person's change.
    """
    who = error.changed_by or "Someone else"
    when = f" at {fmt.moment(error.changed_at)} UTC" if error.changed_at else ""
    return (
        f"{who} changed this fix{when}, after you opened it, so your change was "
        "not saved. The record above has been reloaded with their change (now "
        f"version {error.current_version}): check it, then choose the new status "
        "again if it still applies."
    )


def _submit_status(url: str, fix_id: int, version: int) -> None:
    new_status = st.session_state.get("status_new")
    shipped = st.session_state.get("status_shipped")
    shipped_at = (
        datetime(shipped.year, shipped.month, shipped.day, tzinfo=UTC)
        if isinstance(shipped, date) and new_status == "shipped"
        else None
    )

    def write() -> str:
        if not new_status:
            st.session_state["status_errors"] = {"status": "Choose the new status."}
            return ""
        try:
            change_fix_status(
                engine=get_engine(url),
                fix_id=fix_id,
                new_status=str(new_status),
                author=_text(AUTHOR_KEY),
                now=datetime.now(UTC),
                expected_version=version,
                shipped_at=shipped_at,
                # The reason field only means something when abandoning.
                reason=(_text("status_reason") or None)
                if new_status == "abandoned"
                else None,
            )
        except FixValidationError as error:
            st.session_state["status_errors"] = error.errors
            return ""
        except StaleFixError as error:
            st.session_state["status_errors"] = {"_form": stale_message(error)}
            st.session_state.pop("status_new", None)
            return ""
        except (FixTransitionError, ValueError, LookupError) as error:
            st.session_state["status_errors"] = {"_form": str(error)}
            return ""
        st.session_state["status_errors"] = {}
        st.session_state.pop("status_reason", None)
        st.session_state.pop("status_new", None)
        return f"Fix #{fix_id} is now {str(new_status).replace('_', ' ')}."

    _guard("status", write)


def render_status_form(url: str, fix: dict[str, Any]) -> None:
    """Move one fix to its next status; abandoning needs a reason."""
    notice = st.session_state.pop("status_notice", None)
    if notice:
        st.success(fmt.plain(notice), icon=":material/task_alt:")
    form_error = STATUS_FORM.errors.get("_form")
    if form_error:
        # Messages name people and values from the database: shown as typed.
        st.error(fmt.plain(form_error), icon=":material/sync_problem:")
    allowed = sorted(ALLOWED_TRANSITIONS.get(fix["status"], ()))
    if not allowed:
        st.caption(f"This fix is {fix['status']}: it can no longer change status.")
        return
    with st.form(f"status_{fix['id']}", border=True, enter_to_submit=False):
        st.selectbox(
            "New status",
            allowed,
            format_func=lambda s: s.replace("_", " "),
            key="status_new",
            index=None,
        )
        STATUS_FORM.show_field_error("status")
        st.date_input(
            "Shipped on (when shipping)",
            value=datetime.now(UTC).date(),
            max_value=datetime.now(UTC).date(),
            key="status_shipped",
        )
        STATUS_FORM.show_field_error("shipped_at")
        st.text_input(
            "Reason (when abandoning)", key="status_reason", help=_up_to("reason")
        )
        STATUS_FORM.show_field_error("reason")
        st.form_submit_button(
            "Change status",
            type="primary",
            on_click=_submit_status,
            args=(url, int(fix["id"]), int(fix["version"])),
        )
    STATUS_FORM.show_field_error("author")


# --- Record a review meeting --------------------------------------------------


def _submit_review(url: str) -> None:
    held = st.session_state.get("review_held_on")
    data = ReviewInput(
        held_on=held if isinstance(held, date) else None,
        attendees=_text("review_attendees"),
        decisions=_text("review_decisions"),
        notes=_text("review_notes"),
        author=_text(AUTHOR_KEY),
        token=REVIEW_FORM.token,
    )

    def write() -> str:
        try:
            review_id = record_review(
                engine=get_engine(url), data=data, now=datetime.now(UTC)
            )
        except FixValidationError as error:
            st.session_state["review_errors"] = error.errors
            return ""
        st.session_state["review_errors"] = {}
        return f"Recorded review #{review_id} of {data.held_on:%d %b %Y}."

    _guard("review", write)


def _reset_review_form() -> None:
    for key in (
        "review_attendees",
        "review_decisions",
        "review_notes",
        "review_notice",
        "review_errors",
    ):
        st.session_state.pop(key, None)
    REVIEW_FORM.renew_token()


def render_review_form(url: str) -> None:
    """Record this week's meeting: it starts the next "since the last review"."""
    notice = st.session_state.get("review_notice")
    if notice:
        st.success(notice, icon=":material/task_alt:")
        st.button(
            "Record another meeting", on_click=_reset_review_form, key="review_again"
        )
        return
    with st.form("record_review", border=True, enter_to_submit=False):
        st.date_input(
            "Held on",
            value=datetime.now(UTC).date(),
            max_value=datetime.now(UTC).date(),
            key="review_held_on",
        )
        REVIEW_FORM.show_field_error("held_on")
        st.text_input("Attendees", key="review_attendees", help=_up_to("attendees"))
        REVIEW_FORM.show_field_error("attendees")
        st.text_area("Decisions", key="review_decisions", help=_up_to("decisions"))
        REVIEW_FORM.show_field_error("decisions")
        st.text_area("Notes", key="review_notes", help=_up_to("notes"))
        REVIEW_FORM.show_field_error("notes")
        st.form_submit_button(
            "Record meeting", type="primary", on_click=_submit_review, args=(url,)
        )
    REVIEW_FORM.show_field_error("author")
