"""Data: bring your own escalation history in, checked before anything is written."""

import streamlit as st

from dashboard.auth import Role, current_identity, explain_missing_role
from dashboard.data_view import (
    render_file_summary,
    render_import,
    render_validation,
    upload_frame,
)
from dashboard.page_context import page_context
from db.importer import KINDS

context = page_context()

st.title("Data")
st.caption(
    "Import accounts, escalations, signals, level changes or process fixes from "
    "CSV, Parquet or JSON Lines. Every row is checked first; a file with any bad "
    "row writes nothing unless you choose to skip the bad rows. Importing the same "
    "file again changes nothing. The format is described in docs/import.md."
)
identity = current_identity()
if not identity.may(Role.ADMIN):
    explain_missing_role(identity, Role.ADMIN)
    st.stop()

kind = st.selectbox(
    "What the file holds",
    KINDS,
    key="import_kind",
    format_func=lambda k: k.replace("-", " ").capitalize(),
)
time_zone = st.text_input(
    "Time zone of timestamps without an offset",
    value="UTC",
    key="import_tz",
    help="An IANA name such as Europe/Berlin. Timestamps with an offset keep it.",
)
upload = st.file_uploader(
    "File", type=["csv", "parquet", "jsonl", "ndjson", "json"], key="import_file"
)
if upload is None:
    st.info(
        "Choose a file to see a preview and the validation report. Example files "
        "for every kind ship in the project's examples folder.",
        icon=":material/upload_file:",
    )
    st.stop()

frame = upload_frame(upload.getvalue(), upload.name)
if frame is None:
    st.stop()
render_file_summary(frame, upload.name)

report = render_validation(context.url, kind, frame, time_zone)
if report is None:
    st.stop()
render_import(context.url, report)
