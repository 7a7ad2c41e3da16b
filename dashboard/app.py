"""Streamlit entry point: page registry, shared filters, and the data guard."""

import logging
from pathlib import Path

import streamlit as st

from dashboard.auth import gate
from dashboard.page_context import prepare_context

PAGES_DIR = Path(__file__).resolve().parents[1] / "pages"

logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")

st.set_page_config(
    page_title="Escalation Health",
    page_icon=":material/monitor_heart:",
    layout="wide",
)

navigation = st.navigation(
    [
        st.Page(
            PAGES_DIR / "overview.py",
            title="Overview",
            icon=":material/dashboard:",
            # NOTE: the default page lives at the root address; Streamlit
            # ignores its url_path, so /overview opens a "page not found"
            # notice over this same page.
            url_path="overview",
            default=True,
        ),
        st.Page(
            PAGES_DIR / "late_escalations.py",
            title="Late escalations",
            icon=":material/schedule:",
            url_path="late-escalations",
        ),
        st.Page(
            PAGES_DIR / "recurrence.py",
            title="Recurrence",
            icon=":material/replay:",
            url_path="recurrence",
        ),
        st.Page(
            PAGES_DIR / "fix_impact.py",
            title="Fix impact",
            icon=":material/build:",
            url_path="fix-impact",
        ),
        st.Page(
            PAGES_DIR / "early_warning.py",
            title="Early warning",
            icon=":material/notifications_active:",
            url_path="early-warning",
        ),
        st.Page(
            PAGES_DIR / "repair_review.py",
            title="Repair review",
            icon=":material/event_note:",
            url_path="repair-review",
        ),
        st.Page(
            PAGES_DIR / "data.py",
            title="Data",
            icon=":material/upload_file:",
            url_path="data",
        ),
        st.Page(
            PAGES_DIR / "escalation.py",
            title="Escalation",
            icon=":material/description:",
            url_path="escalation",
            visibility="hidden",
        ),
    ]
)
gate()
prepare_context()
navigation.run()
