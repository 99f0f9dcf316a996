"""Churn Segments: customers at risk grouped by what drives their risk (payment issues, support
issues, declining engagement, revenue decline, renewal due), each with its recommended retention
action.

Thin: :func:`revintel.churn.service.driver_segments` for the cards and
:func:`~revintel.churn.service.filter_predictions` for a segment's customers. A customer is in a
segment when it is not Safe and the first reason among its top risk-raising factors belongs to
that group (:func:`revintel.churn.actions.driver_segment`).
"""

from __future__ import annotations

from functools import partial

import polars as pl
import streamlit as st

from revintel.app.context import AppContext
from revintel.churn import service
from revintel.core.formatting import money, percent
from revintel.core.vocabulary import AT_RISK_TIERS
from revintel.ui import churn as ui
from revintel.ui.components import current_context
from revintel.ui.views import page_path

MAX_ROWS = 1_000
AT_RISK = list(AT_RISK_TIERS)
ICONS = {
    "payment": ":material/credit_card_off:",
    "support": ":material/support_agent:",
    "engagement": ":material/trending_down:",
    "revenue": ":material/money_off:",
    "renewal": ":material/event_repeat:",
}
TABLE_COLUMNS = (
    "account_id", "account_name", "churn_risk_score", "risk_tier", "top_factor_label", "mrr",
    "owner", "segment", "plan_type",
)  # fmt: skip


def render(ctx: AppContext) -> None:
    """The whole page."""
    frame = ui.page_predictions(
        ctx,
        "Churn Segments",
        "Customers at risk (every tier but Safe) grouped by the first reason among their top "
        "three risk-raising factors (Renewal due when contract timing is the only one), with a "
        "retention action for each group.",
    )
    if frame is None:
        return
    if ui.imported_only(frame):
        st.info(
            "Imported predictions carry no risk factors, so customers cannot be grouped by "
            "driver: train and score a revintel model to use segments.",
            icon=":material/info:",
        )
        return
    segments = service.driver_segments(ctx, frame)
    render_cards(segments)
    names = [s.segment for s in segments]
    wanted = st.query_params.get("segment")
    default = (
        wanted if wanted in names else next((s.segment for s in segments if s.customers), names[0])
    )
    choice = st.segmented_control(
        "Segment", names, default=default, key="seg_choice", width="stretch"
    )
    choice = choice or default
    if choice != wanted:
        st.query_params["segment"] = choice
    segment = next(s for s in segments if s.segment == choice)
    rows = service.filter_predictions(frame, tiers=AT_RISK, driver_segment=choice)
    render_segment(segment, rows)


def render_cards(segments: list[service.DriverSegmentSummary]) -> None:
    """One card per driver segment: customers, average risk, MRR, recommended action."""
    cols = st.columns(len(segments))
    for col, seg in zip(cols, segments, strict=True):
        with col.container(border=True, height="stretch"):
            st.markdown(f"**{ICONS.get(seg.group, '')} {seg.segment}**")
            # Five cards side by side: one metric per card keeps every value whole.
            st.metric("Customers", f"{seg.customers:,}")
            st.caption(f"Average risk: **{percent(seg.average_risk, 0)}**")
            st.caption(f"MRR at stake: **{money(seg.mrr)}**")
            st.caption(f":material/lightbulb: {seg.recommended_action}")


def render_segment(segment: service.DriverSegmentSummary, rows: pl.DataFrame) -> None:
    """The segment's customers (a row opens Customer Lookup), its export and notes."""
    name = segment.segment
    st.subheader(f"{name}: {rows.height:,} customers", anchor=False)
    with st.container(border=True):
        st.markdown(f":material/campaign: **Recommended action** — {segment.recommended_action}")
    head = st.columns([3, 1])
    if rows.height > MAX_ROWS:
        head[0].caption(
            f"Showing the top {MAX_ROWS:,} of {rows.height:,} by risk; the export holds all."
        )
    head[1].download_button(
        f"Export segment ({rows.height:,} rows)",
        data=partial(ui.crm_csv, rows),  # made on the click, not on every run
        file_name=f"churn_segment_{segment.group}.csv",
        mime="text/csv",
        icon=":material/download:",
        key="seg_export",
        disabled=rows.height == 0,
        on_click="ignore",
    )
    if rows.is_empty():
        st.info("No customer at risk is driven by this group.", icon=":material/check_circle:")
    else:
        table = rows.head(MAX_ROWS).select(TABLE_COLUMNS)
        event = st.dataframe(
            table.to_pandas(),
            key=f"seg_table_{segment.group}",
            on_select="rerun",
            selection_mode="single-row",
            hide_index=True,
            height=420,
            column_config={
                "account_id": st.column_config.TextColumn("account"),
                "account_name": st.column_config.TextColumn("name"),
                "churn_risk_score": st.column_config.ProgressColumn(
                    "churn risk", min_value=0.0, max_value=1.0, format="percent"
                ),
                "risk_tier": st.column_config.TextColumn("tier"),
                "top_factor_label": st.column_config.TextColumn("top risk factor"),
                "mrr": st.column_config.NumberColumn("MRR", format="dollar"),
                "plan_type": st.column_config.TextColumn("plan"),
            },
        )
        selected = event.selection.rows if event else []
        if selected:
            ui.open_customer(table["account_id"][selected[0]])
    with st.container(border=True):
        st.markdown(
            ":material/sticky_note_2: **Notes and actions** are kept per account, for everyone: "
            "click a customer above to open Customer Lookup, where its notes, logged calls and "
            "follow-ups are. To plan a campaign for this segment, build it as a segment and "
            "start a campaign on it."
        )
        links = st.columns(2)
        links[0].page_link(
            page_path("customer_lookup.py"),
            label="Customer Lookup",
            icon=":material/person_search:",
        )
        links[1].page_link(page_path("campaigns.py"), label="Campaigns", icon=":material/campaign:")


if __name__ == "__main__":  # Streamlit runs a page script as __main__
    render(current_context())
