"""Deals: open deals with their health, filterable, and one deal's page (``/deals?deal=ID``) with
its risk factors and evidence, stage timeline, activities and edits.

Thin: reads the options, calls :mod:`revintel.pipeline.service.deals`, draws. Definitions:
``docs/pipeline.md`` (Deals).
"""

from __future__ import annotations

from functools import partial
from typing import Any, Literal

import plotly.express as px
import polars as pl
import streamlit as st

from revintel.app.context import AppContext
from revintel.core.csv_export import to_csv_bytes
from revintel.core.errors import NotFoundError, RevintelError
from revintel.core.formatting import money
from revintel.pipeline.deal_health import CATEGORIES
from revintel.pipeline.deal_value import DealInputs
from revintel.pipeline.service import deals as service
from revintel.pipeline.stages import OPEN_STAGES
from revintel.ui.close_probability import draw_close_probability
from revintel.ui.components import current_context, has_data, render_empty_state

BADGE_COLOURS: dict[str, Literal["green", "orange", "red"]] = {
    "healthy": "green",
    "at risk": "orange",
    "critical": "red",
}
TABLE_COLUMNS = {
    "deal_id": "Deal",
    "account_name": "Account",
    "owner": "Owner",
    "stage": "Stage",
    "amount": "Amount",
    "health_score": "Health",
    "health_category": "Category",
    "stage_probability": "Stage probability",
    "close_probability": "Close probability",
    "weighted_amount": "Weighted amount",
    "expected_close_date": "Expected close",
    "segment": "Segment",
    "risk_factors": "Risk factors",
}


def render(ctx: AppContext) -> None:
    """The whole page: one deal when ``?deal=ID`` is set, else the list."""
    if not has_data(ctx):
        st.title("Deals", anchor=False)
        render_empty_state(ctx)
        return
    wanted = st.query_params.get("deal")
    if wanted:
        render_deal(ctx, wanted)
    else:
        render_list(ctx)


def _options(values: pl.Series) -> list[str]:
    return sorted(v for v in values.unique().to_list() if v is not None)


def render_list(ctx: AppContext) -> None:
    st.title("Deals", anchor=False)
    st.caption(
        "Open deals with their health score (0–100: healthy, at risk, critical) and the risk "
        "factors behind it; click a row to open the deal. Definitions: docs/pipeline.md, Deals."
    )
    try:
        everything = service.list_deals(ctx)
    except RevintelError as exc:
        st.warning(str(exc), icon=":material/info:")
        return
    d = everything.deals
    cols = st.columns(4)
    owner = cols[0].selectbox("Owner", _options(d["owner"]), index=None, key="deals_owner")
    segment = (
        cols[1].selectbox("Segment", _options(d["segment"]), index=None, key="deals_segment")
        if "segment" in d.columns
        else None
    )
    stage = cols[2].selectbox("Stage", list(OPEN_STAGES), index=None, key="deals_stage")
    category = cols[3].selectbox("Health", list(CATEGORIES), index=None, key="deals_category")
    result = service.list_deals(ctx, service.DealFilters(owner, segment, stage, category))
    shown = result.deals
    alerts = service.at_risk(ctx)
    tiles = st.columns(4)
    tiles[0].metric("Open deals", f"{shown.height:,}", border=True)
    tiles[1].metric("Open pipeline", money(float(shown["amount"].sum() or 0)), border=True)
    at_risk = shown.filter(pl.col("health_category") != "healthy")
    tiles[2].metric(
        "At risk or critical",
        f"{at_risk.height:,}",
        help="Deals scoring below the healthy threshold of the settings.",
        border=True,
    )
    tiles[3].metric(
        "Alerts (all open deals)",
        f"{len(alerts.deals):,}",
        help="Critical, or carrying an alert factor ("
        + ", ".join(alerts.alert_factors)
        + f"), amount ≥ {money(alerts.min_deal_value)}.",
        border=True,
    )
    for note in result.notes:
        st.caption(f":material/info: {note}")
    table = shown.select([c for c in TABLE_COLUMNS if c in shown.columns])
    event = st.dataframe(
        table.rename({c: TABLE_COLUMNS[c] for c in table.columns}),
        hide_index=True,
        width="stretch",
        on_select="rerun",
        selection_mode="single-row",
        height=min(38 + 35 * table.height, 560),
        key="deals_table",
        column_config={
            "Amount": st.column_config.NumberColumn(format="%.0f"),
            "Weighted amount": st.column_config.NumberColumn(format="%.0f"),
            "Expected close": st.column_config.DateColumn(format="YYYY-MM-DD"),
            "Stage probability": st.column_config.NumberColumn(
                format="percent", help="Learned from closed deals (docs/pipeline.md)."
            ),
            "Close probability": st.column_config.NumberColumn(
                format="percent",
                help="The calibrated close-probability model's (its held-out accuracy is on "
                "each deal's page and the Forecast page; docs/pipeline.md).",
            ),
            "Health": st.column_config.ProgressColumn(min_value=0, max_value=100, format="%.0f"),
        },
    )
    rows = event.selection.rows if event is not None else []
    if rows:
        st.query_params["deal"] = str(table["deal_id"][rows[0]])
        st.rerun()
    st.download_button(
        "Download deals (CSV)",
        partial(to_csv_bytes, table),
        file_name=f"deals-{result.as_of}.csv",
        mime="text/csv",
        icon=":material/download:",
        key="deals_csv",
        on_click="ignore",
    )
    render_value_calculator(ctx)


def render_value_calculator(ctx: AppContext) -> None:
    """Deal value: the seat-price formula beside the model learned from closed-won deals."""
    with st.expander("Deal value calculator", icon=":material/calculate:"):
        cols = st.columns(4)
        users = cols[0].number_input("Users", 1, 1_000_000, 50, key="dv_users")
        price = cols[1].number_input("List price / user / month", 0.0, 1e6, 29.0, key="dv_price")
        discount = cols[2].number_input("Discount", 0.0, 0.99, 0.0, 0.05, key="dv_discount")
        term = cols[3].number_input("Term (months)", 1, 120, 12, key="dv_term")
        try:
            result = service.predict_deal_value(
                ctx,
                DealInputs(
                    num_users_planned=int(users),
                    base_list_price_per_user=float(price),
                    discount_pct=float(discount),
                    contract_term_months=int(term),
                ),
            )
        except RevintelError as exc:
            st.warning(str(exc), icon=":material/info:")
            return
        left, right = st.columns(2)
        left.metric("Formula", money(result.predicted_deal_value), border=True)
        model = result.model
        if model is None:
            right.metric("Model", "—", border=True)
        else:
            low, high = model["interval_80"]
            right.metric(
                "Model",
                money(model["predicted_deal_value"]),
                help=f"80% interval {money(low)} – {money(high)}; held-out MAPE "
                f"{model['held_out_mape']:.0%} (segment-median baseline "
                f"{model['baseline_mape']:.0%}) on {model['tested_on']} deals.",
                border=True,
            )
        st.json(result.breakdown, expanded=False)
        for note in result.notes + ([] if model is None else model["notes"]):
            st.caption(f":material/info: {note}")


def render_deal(ctx: AppContext, deal_id: str) -> None:
    if st.button("All deals", icon=":material/arrow_back:", key="deals_back"):
        del st.query_params["deal"]
        st.rerun()
    try:
        detail = service.deal_detail(ctx, deal_id)
    except NotFoundError as exc:
        st.title("Deals", anchor=False)
        st.error(str(exc), icon=":material/error:")
        return
    except RevintelError as exc:
        st.title("Deals", anchor=False)
        st.warning(str(exc), icon=":material/info:")
        return
    deal = detail.deal
    st.title(f"{deal.get('account_name') or deal_id} · {deal_id}", anchor=False)
    health = detail.health
    badges = st.container(horizontal=True)
    with badges:
        if health is not None:
            st.badge(health.category, color=BADGE_COLOURS[health.category])
        st.badge(str(deal["stage"]), color="blue", icon=":material/flag:")
        st.caption(
            f"{deal.get('owner')} · {deal.get('segment') or '—'} · "
            f"{deal.get('deal_type') or '—'} · data as of {detail.as_of}"
        )
    cols = st.columns(4)
    cols[0].metric("Amount", money(deal["amount"]), border=True)
    cols[1].metric("Health", "—" if health is None else f"{health.score:.0f} / 100", border=True)
    cols[2].metric("Expected close", str(deal.get("expected_close_date") or "—"), border=True)
    cols[3].metric("Forecast category", str(deal.get("forecast_category") or "—"), border=True)
    render_close_probability(detail)
    st.subheader("Risk factors", anchor=False)
    if health is None:
        st.caption(detail.health_note or "")
    elif not health.factors:
        st.success("No risk factor: full health.", icon=":material/check_circle:")
    else:
        st.dataframe(
            pl.DataFrame([f.to_dict() for f in health.factors]).rename(
                {"name": "Factor", "points": "Points lost", "evidence": "Evidence"}
            ),
            hide_index=True,
            width="stretch",
            key="deal_factors",
        )
    render_timeline(detail.timeline, deal_id)
    st.subheader("Activities", anchor=False)
    if detail.activities is None:
        st.caption("deal_activities is not loaded.")
    elif not detail.activities:
        st.caption("No activity logged on this deal.")
    else:
        st.dataframe(pl.DataFrame(detail.activities), hide_index=True, width="stretch")
    if detail.edits:
        st.subheader("Edits", anchor=False)
        st.dataframe(
            pl.DataFrame([_edit_row(e) for e in detail.edits]),
            hide_index=True,
            width="stretch",
        )


def _edit_row(edit: dict[str, Any]) -> dict[str, Any]:
    changes = "; ".join(f"{k}: {v[0]} → {v[1]}" for k, v in edit["changes"].items())
    return {"when": edit["edited_at"], "who": edit["edited_by"], "changes": changes}


def render_close_probability(detail: service.DealDetail) -> None:
    """Both close-probability methods (docs/pipeline.md, Close probability), from the detail."""
    with st.container(border=True, key="deal_close_probability"):
        draw_close_probability(detail.close_probability, detail.close_probability_note)


def render_timeline(timeline: list[dict[str, Any]], deal_id: str) -> None:
    st.subheader("Stage timeline", anchor=False)
    if not timeline:
        st.caption("deal_stage_history is not loaded, or has no row for this deal.")
        return
    frame = pl.DataFrame(timeline)
    dates = [c for c in ("entered_at", "expected_close_date") if c in frame.columns]
    frame = frame.with_columns(pl.col(c).cast(pl.Date) for c in dates)
    fig = px.line(
        frame.to_pandas(),
        x="entered_at",
        y="amount",
        markers=True,
        text="stage",
        line_shape="hv",
        labels={"entered_at": "Date", "amount": "Amount"},
    )
    fig.update_traces(textposition="top center")
    fig.update_layout(height=280, margin={"l": 10, "r": 10, "t": 30, "b": 10})
    st.plotly_chart(fig, width="stretch", key="deal_timeline_chart")
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        key="deal_timeline",
        column_config={
            c: st.column_config.DateColumn(format="YYYY-MM-DD")
            for c in ("entered_at", "expected_close_date")
        },
    )
    st.download_button(
        "Download stage timeline (CSV)",
        partial(to_csv_bytes, frame),
        file_name=f"deal-{deal_id}-timeline.csv",
        mime="text/csv",
        icon=":material/download:",
        key="deal_timeline_csv",
        on_click="ignore",
    )


if __name__ == "__main__":  # Streamlit runs a page script as __main__
    render(current_context())
