"""Customer Insights: churn by segment, conversion by country or channel, cohorts, ARPA by cut.

Thin: reads the sidebar filters, calls :mod:`revintel.metrics.service` (through
:mod:`revintel.ui.revenue`'s caches) and draws. Without a trials table the conversion chart says
which table to load. Definitions: ``docs/metrics.md``.
"""

from __future__ import annotations

from functools import partial

import streamlit as st

from revintel.app.context import AppContext
from revintel.core.formatting import money
from revintel.metrics.service import cohort_triangle
from revintel.ui import revenue as rv
from revintel.ui.components import current_context, has_data, render_empty_state

CHURN_RATES = {"Logo churn": "logo_churn_rate", "Gross MRR churn": "gross_mrr_churn_rate"}
COHORT_VALUES = {"Logo retention": "logo_retention", "Revenue retention": "revenue_retention"}


def render(ctx: AppContext) -> None:
    """The whole page."""
    rv.page_header(
        "Customer Insights",
        "Who churns, where trials convert, how cohorts retain and what each segment and plan "
        "pays. Definitions: docs/metrics.md.",
    )
    if not has_data(ctx):
        render_empty_state(ctx)
        return
    if rv.missing_table_notice(ctx, "subscriptions", "churn, cohorts and ARPA"):
        return
    filters = rv.render_filters(ctx)
    st.caption(f":material/calendar_month: {filters.describe()}")
    movements = rv.metric(ctx, "mrr_movements", end=filters.end, filters=filters.dimensions)
    retention = rv.metric(ctx, "retention", end=filters.end, filters=filters.dimensions)
    month = filters.end
    rv.kpi_tiles(
        [
            rv.kpi_from_rows("customers", movements, month),
            rv.kpi_from_rows("arpa", movements, month),
            rv.kpi_from_rows("logo_churn_rate", movements, month, good_when_down=True),
            rv.kpi_from_rows("grr_t12m", retention, month),
        ]
    )
    left, right = st.columns(2)
    with left:
        render_churn_by_segment(ctx, filters)
    with right:
        render_conversion(ctx, filters)
    render_cohorts(ctx, filters)
    left, right = st.columns(2)
    with left:
        render_arpa_by(ctx, filters, "segment", "ARPA by segment")
    with right:
        render_arpa_by(ctx, filters, "plan", "ARPA by plan")


def render_churn_by_segment(ctx: AppContext, filters: rv.RevenueFilters) -> None:
    """Monthly logo or gross MRR churn, one line per segment."""
    rows = rv.metric(
        ctx,
        "retention",
        start=filters.start,
        end=filters.end,
        by="segment",
        filters=filters.dimensions,
    )
    label = st.segmented_control(
        "Churn measure", list(CHURN_RATES), default="Logo churn", key="ci_churn_rate",
        label_visibility="collapsed",
    )  # fmt: skip
    column = CHURN_RATES[label or "Logo churn"]
    rv.chart_card(
        "Churn by segment",
        rv.lines_by(rows, "segment", column, "ratio"),
        partial(
            rv.frame_of,
            rows,
            [
                "month",
                "segment",
                "customers_previous",
                "churned_customers",
                "mrr_previous",
                *CHURN_RATES.values(),
            ],
        ),
        "churn_by_segment",
        help=rv.definition_help(column),
        caption="Monthly rate per segment; a gap is a month with no paying customers the month "
        "before (rate undefined).",
    )


CONVERSION_BY = {"Country": "country", "Channel": "acquisition_channel"}


def render_conversion(ctx: AppContext, filters: rv.RevenueFilters) -> None:
    """Trial-to-paid conversion of the trials started in the range, per country or per
    acquisition channel (the user's choice), sorted."""
    if not ctx.warehouse.has_table("trials"):
        with st.container(border=True):
            st.markdown(
                "**Trial conversion by country and channel**",
                help=rv.definition_help("conversion_rate"),
            )
            rv.missing_table_notice(
                ctx, "trials", "trial-to-paid conversion by country and channel"
            )
        return
    label = st.segmented_control(
        "Conversion by", list(CONVERSION_BY), default="Country", key="ci_conversion_by",
        label_visibility="collapsed",
    )  # fmt: skip
    label = label or "Country"
    dim = CONVERSION_BY[label]
    rows = rv.metric(
        ctx, "trial_conversion", start=filters.start, end=filters.end, by=dim,
        filters=filters.dimensions,
    )  # fmt: skip
    per_value: dict[str, dict[str, int]] = {}
    for r in rows:
        totals = per_value.setdefault(str(r[dim]), {"trials": 0, "converted": 0, "open": 0})
        totals["trials"] += r["trials"] or 0
        totals["converted"] += r["converted"] or 0
        totals["open"] += (r["trials"] or 0) if r["provisional"] else 0
    values = list(per_value)
    rates = [
        per_value[v]["converted"] / per_value[v]["trials"] if per_value[v]["trials"] else None
        for v in values
    ]
    reasons = [None if rate is not None else "no trials started" for rate in rates]
    notes = [
        f"{per_value[v]['converted']:,} of {per_value[v]['trials']:,} trials converted"
        + (f"; {per_value[v]['open']:,} still in their window" if per_value[v]["open"] else "")
        for v in values
    ]
    open_trials = sum(t["open"] for t in per_value.values())
    rv.chart_card(
        f"Trial conversion by {label.lower()}",
        rv.ranked_bars(values, rates, reasons, "ratio", notes=notes) if values else None,
        partial(rv.frame_of, rows),
        f"conversion_by_{label.lower()}",
        help=rv.definition_help("conversion_rate"),
        caption=(
            "Trials started in the range that became paying within the window ÷ trials started. "
            + (
                f"{open_trials:,} trials' windows are still open (provisional)."
                if open_trials
                else ""
            )
        )
        if values
        else "No trials started in the range.",
    )


def render_cohorts(ctx: AppContext, filters: rv.RevenueFilters) -> None:
    """The retention triangle of the cohorts first paying in the range, logo or revenue."""
    rows = rv.metric(
        ctx, "cohorts", start=filters.start, end=filters.end, filters=filters.dimensions
    )
    label = st.segmented_control(
        "Cohort measure", list(COHORT_VALUES), default="Logo retention", key="ci_cohort_value",
        label_visibility="collapsed",
    )  # fmt: skip
    value = COHORT_VALUES[label or "Logo retention"]
    triangle = cohort_triangle(rows, value)  # type: ignore[arg-type]
    rv.chart_card(
        "Retention cohorts",
        rv.cohort_heatmap(
            triangle, label or "Logo retention", diverging=value == "revenue_retention"
        )
        if triangle
        else None,
        partial(rv.frame_of, rows),
        "retention_cohorts",
        help=rv.definition_help(value),
        caption="Each row is the customers whose first payment fell in that month; each column "
        "the months since. Revenue retention can exceed 100% (expansion): red below 100%, green "
        "above."
        if triangle
        else "No cohort starts paying in the range.",
    )


def render_arpa_by(ctx: AppContext, filters: rv.RevenueFilters, by: str, title: str) -> None:
    """ARPA of the range's last month per segment or plan."""
    rows = rv.metric(ctx, "mrr_movements", start=filters.end, end=filters.end, by=by,
                     filters=filters.dimensions)  # fmt: skip
    labels = [str(r[by]) for r in rows]
    notes = [f"{r['customers']:,} paying customers · MRR {money(r['mrr'])}" for r in rows]
    rv.chart_card(
        title,
        rv.ranked_bars(
            labels,
            [r["arpa"] for r in rows],
            [r.get("arpa_reason") for r in rows],
            "currency",
            notes=notes,
            colour="#0EA5E9",
        )
        if rows
        else None,
        partial(rv.frame_of, rows, ["month", by, "mrr", "customers", "arpa"]),
        f"arpa_by_{by}",
        help=rv.definition_help("arpa"),
        caption=f"MRR ÷ paying customers at the end of {filters.end}.",
    )


if __name__ == "__main__":  # Streamlit runs a page script as __main__
    render(current_context())
