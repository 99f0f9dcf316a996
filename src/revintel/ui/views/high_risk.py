"""High-Risk Customers: filter the scored customers, sort them, open one, export for the CRM.

Thin: :func:`revintel.churn.service.filter_predictions` over the cached predictions frame; the
table shows at most ``MAX_ROWS`` rows (riskiest first) and the CSV export holds every filtered
row. Selecting a row opens Customer Lookup (deep link ``/customer-lookup?account=ID``).
"""

from __future__ import annotations

from functools import partial

import polars as pl
import streamlit as st

from revintel.app.context import AppContext
from revintel.churn import service
from revintel.core.vocabulary import AT_RISK_TIERS
from revintel.ui import churn as ui
from revintel.ui.components import current_context

# Rows sent to the browser at once; the export holds them all.
MAX_ROWS = 1_000
TABLE_COLUMNS = (
    "account_id", "account_name", "churn_risk_score", "risk_tier", "top_factor_label",
    "driver_segment", "mrr", "owner", "segment", "plan_type",
)  # fmt: skip


def _choices(frame: pl.DataFrame, column: str) -> list[str]:
    return sorted(v for v in frame[column].drop_nulls().unique().to_list())


def render(ctx: AppContext) -> None:
    """The whole page."""
    frame = ui.page_predictions(
        ctx,
        "High-Risk Customers",
        "Customers by churn risk, riskiest first. Filter, click a row to open the customer, or "
        "export the filtered rows as a CSV ready for CRM import.",
    )
    if frame is None:
        return
    if ui.imported_only(frame):
        st.info(
            "Imported predictions: there is no top risk factor or driver segment without a "
            "revintel model.",
            icon=":material/info:",
        )

    top = st.columns([2, 2, 2])
    tiers = top[0].multiselect(
        "Risk tier",
        list(ui.TIERS),
        default=list(AT_RISK_TIERS),
        key="hr_tiers",
        placeholder="All",
    )
    low, high = top[1].slider(
        "Risk score", 0.0, 1.0, (0.0, 1.0), step=0.01, key="hr_score", format="%.2f"
    )
    search = top[2].text_input(
        "Search", key="hr_search", placeholder="Account id or name", icon=":material/search:"
    )
    more = st.columns(3)
    segment = more[0].multiselect(
        "Segment", _choices(frame, "segment"), key="hr_segment", placeholder="All"
    )
    plan = more[1].multiselect(
        "Plan", _choices(frame, "plan_type"), key="hr_plan", placeholder="All"
    )
    owner = more[2].multiselect(
        "Owner", _choices(frame, "owner"), key="hr_owner", placeholder="All"
    )
    rows = service.filter_predictions(
        frame,
        tiers=tiers or None,
        min_score=low if low > 0 else None,
        max_score=high if high < 1 else None,
        search=search or None,
        segment=segment or None,
        plan=plan or None,
        owner=owner or None,
    )
    render_table(rows)


def render_table(rows: pl.DataFrame) -> None:
    """The first ``MAX_ROWS`` filtered rows; a selected row opens Customer Lookup."""
    total = rows.height
    head = st.columns([3, 1])
    shown = min(total, MAX_ROWS)
    head[0].markdown(
        f"**{total:,} customers** match"
        + (
            f" · showing the top {shown:,} of {total:,} by risk (the export holds all)"
            if total > shown
            else ""
        )
    )
    head[1].download_button(
        f"Export {total:,} rows (CSV)",
        data=partial(ui.crm_csv, rows),  # made on the click, not on every run
        file_name="high_risk_customers.csv",
        mime="text/csv",
        icon=":material/download:",
        key="hr_export",
        disabled=total == 0,
        on_click="ignore",
    )
    if total == 0:
        st.info("No customers match these filters.", icon=":material/filter_alt_off:")
        return
    # Columns nobody has a value in (imported predictions: no names, factors, MRR …) are left out.
    always = {"account_id", "churn_risk_score", "risk_tier"}
    columns = [c for c in TABLE_COLUMNS if c in always or rows[c].null_count() < rows.height]
    table = rows.head(MAX_ROWS).select(columns)
    event = st.dataframe(
        table.to_pandas(),
        key="hr_table",
        on_select="rerun",
        selection_mode="single-row",
        hide_index=True,
        placeholder="—",
        height=560,
        column_config={
            "account_id": st.column_config.TextColumn("account"),
            "account_name": st.column_config.TextColumn("name"),
            "churn_risk_score": st.column_config.ProgressColumn(
                "churn risk", min_value=0.0, max_value=1.0, format="percent"
            ),
            "risk_tier": st.column_config.TextColumn("tier"),
            "top_factor_label": st.column_config.TextColumn("top risk factor"),
            "driver_segment": st.column_config.TextColumn("driver segment"),
            "mrr": st.column_config.NumberColumn("MRR", format="dollar"),
            "plan_type": st.column_config.TextColumn("plan"),
        },
    )
    st.caption("Click a column header to sort; select a row to open the customer.")
    selected = event.selection.rows if event else []
    if selected:
        ui.open_customer(table["account_id"][selected[0]])


if __name__ == "__main__":  # Streamlit runs a page script as __main__
    render(current_context())
