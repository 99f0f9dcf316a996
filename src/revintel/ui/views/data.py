"""Data: every canonical table (rows, freshness, columns), uploads, and the load history."""

from __future__ import annotations

import streamlit as st

from revintel.app.catalog import TableInfo, table_catalog
from revintel.app.context import AppContext
from revintel.core.errors import Problem, RevintelError, ValidationFailed
from revintel.core.vocabulary import LOAD_MODES
from revintel.data.schema import CONTRACTS
from revintel.ui import frames
from revintel.ui.components import age_text, current_context, flash, last_load_time
from revintel.ui.uploads import PendingUpload, load_upload, validate_uploads

PENDING_KEY = "data_pending_upload"
BY_FILE_NAME = "By file name"
MODE_HELP = {
    "replace": "replace: each table in the files replaces the loaded one",
    "append": "append: add rows; a row whose key exists replaces the old row",
}


def render(ctx: AppContext) -> None:
    """The whole page: summary, then tables, expected columns, upload and history tabs."""
    st.title("Data", anchor=False)
    st.caption("What is loaded, what each table expects, and how to load more.")
    tables = table_catalog(ctx)
    render_summary(ctx, tables)
    tab_tables, tab_columns, tab_upload, tab_history = st.tabs(
        [
            ":material/table_chart: Tables",
            ":material/view_column: Expected columns",
            ":material/upload: Upload files",
            ":material/history: Load history",
        ]
    )
    with tab_tables:
        render_tables(tables)
    with tab_columns:
        render_contracts()
    with tab_upload:
        render_upload(ctx)
    with tab_history:
        render_history(ctx)


def render_summary(ctx: AppContext, tables: list[TableInfo]) -> None:
    """Tables loaded, rows and the last load, as metric cards."""
    loaded = [t for t in tables if t.loaded]
    cols = st.columns(3)
    cols[0].metric("Tables loaded", f"{len(loaded)} of {len(tables)}", border=True)
    cols[1].metric("Rows", f"{sum(t.rows for t in loaded):,}", border=True)
    cols[2].metric("Last load", age_text(last_load_time(ctx)), border=True)


def render_tables(tables: list[TableInfo]) -> None:
    """Every canonical table, loaded or not, with rows and freshness."""
    st.dataframe(
        frames.catalog_frame(tables),
        hide_index=True,
        column_config={
            "table": st.column_config.TextColumn("Table", width=160),
            "loaded": st.column_config.CheckboxColumn("Loaded", width=70),
            "rows": st.column_config.NumberColumn("Rows", format="localized", width=100),
            "last_loaded": st.column_config.DatetimeColumn(
                "Last loaded", format="distance", width=130
            ),
            "description": st.column_config.TextColumn("Description", width=480),
        },
        height="content",
        placeholder="—",
    )


def render_contracts() -> None:
    """One expander per table with its expected columns, from its contract."""
    st.caption(
        "A file is named after its table (customers.csv, payments.parquet). Required columns "
        "must be present; optional ones may be left out. Only customers is required."
    )
    for name, contract in CONTRACTS.items():
        with st.expander(f"**{name}** · {frames.contract_summary(contract)}"):
            st.caption(contract.description)
            st.dataframe(
                frames.contract_frame(contract),
                hide_index=True,
                column_config={
                    "column": st.column_config.TextColumn("Column"),
                    "type": st.column_config.TextColumn("Type", width="small"),
                    "required": st.column_config.CheckboxColumn("Required", width="small"),
                    "blank_ok": st.column_config.CheckboxColumn("Blanks ok", width="small"),
                    "values": st.column_config.TextColumn("Values"),
                    "description": st.column_config.TextColumn("Description", width="large"),
                },
                height="content",
            )


def render_upload(ctx: AppContext) -> None:
    """The upload form; a submitted form is validated and kept until loaded or replaced."""
    with st.form("upload", border=True):
        files = st.file_uploader(
            "CSV or Parquet files",
            type=["csv", "parquet"],
            accept_multiple_files=True,
            help="Each file's name names its table: customers.csv, subscriptions.parquet, …",
        )
        mapping = st.file_uploader(
            "Mapping file (optional)",
            type=["toml"],
            help="A CRM export: choose its files above and its TOML mapping here; they are loaded "
            "through the mapping (docs/pipeline.md, 'Importing a CRM export'). Table is not used.",
        )
        left, right = st.columns(2)
        table = left.selectbox(
            "Table",
            [BY_FILE_NAME, *CONTRACTS],
            help="Load every file into this table instead of reading it from the file names.",
        )
        mode = right.radio("Mode", LOAD_MODES, horizontal=True, help=" · ".join(MODE_HELP.values()))
        submitted = st.form_submit_button("Validate", icon=":material/fact_check:", type="primary")
    if submitted:
        if not files:
            st.warning("Choose at least one CSV or Parquet file to validate.")
            return
        if mapping is not None and table != BY_FILE_NAME:
            st.warning("With a mapping file, leave Table on its default: the mapping names them.")
            return
        discard_pending()
        try:
            st.session_state[PENDING_KEY] = validate_uploads(
                ctx,
                [(f.name, f.getvalue()) for f in files],
                table=None if table == BY_FILE_NAME else table,
                mode=mode,
                mapping=None if mapping is None else (mapping.name, mapping.getvalue()),
            )
        except RevintelError as exc:
            st.error(str(exc), icon=":material/error:")
            return
    pending = st.session_state.get(PENDING_KEY)
    if isinstance(pending, PendingUpload):
        render_pending(ctx, pending)


def render_pending(ctx: AppContext, pending: PendingUpload) -> None:
    """Per-file report, then every problem, or (when valid) the button that loads."""
    report = pending.report
    st.dataframe(
        frames.file_reports_frame(report.files, pending.display_name),
        hide_index=True,
        column_config={
            "file": st.column_config.TextColumn("File"),
            "table": st.column_config.TextColumn("Table"),
            "format": st.column_config.TextColumn("Format"),
            "rows": st.column_config.NumberColumn("Rows", format="localized"),
            "problems": st.column_config.NumberColumn("Problems", format="localized"),
        },
        placeholder="—",
    )
    if not report.ok:
        shown = len(report.problems)
        more = f" (the first {shown} are listed)" if report.total > shown else ""
        st.error(
            f"{report.total:,} problem(s) found{more}. Nothing was loaded: fix the files and "
            "validate again.",
            icon=":material/error:",
        )
        render_problems(report.problems, pending)
        return
    rows = sum(report.tables.values())
    st.success(
        f"Valid: {rows:,} rows for {frames.tables_text(report.tables)}. "
        f"Mode: {MODE_HELP[pending.mode]}.",
        icon=":material/check_circle:",
    )
    if st.button(f"Load {len(pending.paths)} file(s)", type="primary", icon=":material/upload:"):
        del st.session_state[PENDING_KEY]
        try:
            with st.spinner("Loading…"):
                result = load_upload(ctx, pending)
        except ValidationFailed as exc:
            st.error(pending.display_name(exc.report().splitlines()[0]), icon=":material/error:")
            render_problems(exc.problems, pending)
            return
        except RevintelError as exc:
            st.error(str(exc), icon=":material/error:")
            return
        flash(
            f"Loaded {result.rows:,} rows into {len(result.tables)} table(s) "
            f"in {result.seconds:.1f} s (load #{result.run_id})."
        )
        st.rerun()


def render_problems(problems: list[Problem], pending: PendingUpload) -> None:
    """Every problem, naming the uploaded file, row and column."""
    st.dataframe(
        frames.problems_frame(problems, pending.display_name),
        hide_index=True,
        column_config={
            "file": st.column_config.TextColumn("File", width=140),
            "row": st.column_config.NumberColumn("Row", width=60),
            "column": st.column_config.TextColumn("Column", width=140),
            "problem": st.column_config.TextColumn("Problem", width=280),
            "expected": st.column_config.TextColumn("Expected", width=280),
            "got": st.column_config.TextColumn("Got", width=140),
        },
        height="content" if len(problems) <= 20 else "auto",
        placeholder="",
    )


def discard_pending() -> None:
    """Forget the validated upload and delete its files."""
    pending = st.session_state.pop(PENDING_KEY, None)
    if isinstance(pending, PendingUpload):
        pending.discard()


def render_history(ctx: AppContext) -> None:
    """The most recent loads, newest first."""
    history = frames.history_frame(ctx.store.load_history(limit=100))
    if history.empty:
        st.info("No loads yet.", icon=":material/info:")
        return
    st.dataframe(
        history,
        hide_index=True,
        column_config={
            "run": st.column_config.NumberColumn("#", width="small"),
            "started": st.column_config.DatetimeColumn("Started", format="distance"),
            "rows": st.column_config.NumberColumn("Rows", format="localized"),
            "tables": st.column_config.TextColumn("Tables", width="large"),
            "message": st.column_config.TextColumn("Message", width="large"),
        },
        placeholder="",
    )


if __name__ == "__main__":  # Streamlit runs a page script as __main__
    render(current_context())
