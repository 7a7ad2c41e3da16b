"""Pieces of the Data page: reading an upload, its report, and the import."""

import logging

import polars as pl
import streamlit as st
from sqlalchemy.exc import SQLAlchemyError

from dashboard import format as fmt
from dashboard.data import get_engine
from db.importer import (
    ImportFileError,
    ImportReport,
    max_import_bytes,
    preview,
    read_upload,
    run_import,
    validate_import,
)

log = logging.getLogger(__name__)
SHOWN_PROBLEMS = 200


def upload_frame(data: bytes, filename: str) -> pl.DataFrame | None:
    """The uploaded table, or None after saying in one line what is wrong."""
    try:
        return read_upload(data, filename, max_bytes=max_import_bytes())
    except ImportFileError as error:
        st.error(fmt.plain(str(error)), icon=":material/block:")
        return None


def render_file_summary(frame: pl.DataFrame, filename: str) -> None:
    """How big the file is and its first rows, as read."""
    st.subheader("Preview")
    st.caption(
        f"{fmt.plain(filename)}: {frame.height:,} rows, {frame.width} columns. "
        "First rows:"
    )
    st.dataframe(preview(frame), hide_index=True, width="stretch")


def render_validation(
    url: str, kind: str, frame: pl.DataFrame, time_zone: str
) -> ImportReport | None:
    """Check every row; show each problem with its row, column and reason."""
    st.subheader("Validation")
    try:
        with (
            st.spinner("Checking every row…"),
            get_engine(url).connect() as connection,
        ):
            report = validate_import(
                kind, frame, connection=connection, naive_time_zone=time_zone.strip()
            )
    except ImportFileError as error:
        st.error(fmt.plain(str(error)), icon=":material/block:")
        return None
    except ValueError as error:
        st.error(fmt.plain(str(error)), icon=":material/settings:")
        return None
    if report.ok:
        st.success(
            f"All {report.total_rows:,} rows are valid.", icon=":material/task_alt:"
        )
        return report
    bad_rows = report.rejects["row_number"].n_unique() if report.rejects.height else 0
    st.warning(
        f"{bad_rows:,} of {report.total_rows:,} rows have problems "
        f"({report.problems.height:,} in all). Row 1 is the first data row, under "
        "the header.",
        icon=":material/report:",
    )
    st.dataframe(
        report.problems.head(SHOWN_PROBLEMS),
        hide_index=True,
        width="stretch",
        column_config={
            "row_number": st.column_config.NumberColumn("Row", format="%d"),
            "column": "Column",
            "reason": "Problem",
        },
    )
    if report.problems.height > SHOWN_PROBLEMS:
        st.caption(
            f"The first {SHOWN_PROBLEMS} problems are shown; download the rejected "
            "rows for all of them."
        )
    st.download_button(
        "Download the rejected rows with their reasons (CSV)",
        report.rejects.write_csv(),
        file_name=f"{kind}.rejects.csv",
        mime="text/csv",
        icon=":material/download:",
    )
    return report


def render_import(url: str, report: ImportReport) -> None:
    """Import on request, with a progress bar; refuse a bad file unless told."""
    st.subheader("Import")
    skip = False
    if not report.ok:
        skip = st.checkbox(
            "Skip the rows with problems and import the rest",
            key="import_skip",
            help="Without this, a file with any bad row writes nothing.",
        )
    if not st.button(
        "Import", type="primary", key="import_go", disabled=not (report.ok or skip)
    ):
        return
    bar = st.progress(0.0, text="Importing…")

    def advance(share: float) -> None:
        bar.progress(min(max(share, 0.0), 1.0), text="Importing…")

    try:
        result = run_import(
            report,
            engine=get_engine(url),
            skip_invalid=skip,
            dry_run=False,
            progress=advance,
        )
    except SQLAlchemyError:
        log.exception("Import failed")
        bar.empty()
        st.error(
            "The database refused the import and nothing was written. Try again; "
            "if it keeps failing, tell your administrator.",
            icon=":material/error:",
        )
        return
    bar.progress(1.0, text="Done")
    st.success(
        f"{result.inserted:,} inserted, {result.updated:,} updated, "
        f"{result.unchanged:,} unchanged, {result.rejected:,} skipped"
        + (
            f"; {result.accounts_created:,} accounts created"
            if result.accounts_created
            else ""
        )
        + ". Every page now shows the new history.",
        icon=":material/task_alt:",
    )
