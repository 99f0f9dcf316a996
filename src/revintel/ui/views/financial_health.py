"""Financial Health: cost vs revenue, gross margin, contribution, CAC and payback by channel.

Thin: reads the sidebar filters, calls :mod:`revintel.metrics.service` (through
:mod:`revintel.ui.revenue`'s caches) and draws. Costs are company-wide, so the customer filters
apply only where the engine can cut (CAC by channel); each chart says which filters it ignores.
Without ``marketing_spend`` the CAC chart says to load it. Definitions: ``docs/metrics.md``.
"""

from __future__ import annotations

from functools import partial

import streamlit as st

from revintel.app.context import AppContext
from revintel.ui import revenue as rv
from revintel.ui.components import current_context, has_data, render_empty_state

COSTS = [
    ("infra_cost", "Infrastructure", "#94A3B8"),
    ("support_cost", "Support", "#CBD5E1"),
    ("marketing_cost", "Marketing", "#FCD34D"),
]


def render(ctx: AppContext) -> None:
    """The whole page."""
    rv.page_header(
        "Financial Health",
        "Cash collected against costs, gross margin, contribution after infra, support and "
        "marketing, and what it costs to acquire a customer. Definitions: docs/metrics.md.",
    )
    if not has_data(ctx):
        render_empty_state(ctx)
        return
    if rv.missing_table_notice(ctx, "subscriptions", "recurring revenue and CAC"):
        return
    filters = rv.render_filters(ctx)
    st.caption(f":material/calendar_month: {filters.describe()}")
    if not ctx.warehouse.has_table("payments"):
        rv.missing_table_notice(ctx, "payments", "revenue, margins and profit")
        return
    if rv.missing_table_notice(ctx, "costs", "cost vs revenue, gross margin and profit"):
        return
    rows = rv.metric(ctx, "financials", end=filters.end)
    movements = rv.metric(ctx, "mrr_movements", end=filters.end)
    cac = rv.metric(ctx, "acquisition", end=filters.end)
    month = filters.end
    rv.kpi_tiles(
        [
            rv.cash_kpi(rows, movements, month),
            rv.kpi_from_rows("gross_margin", rows, month),
            rv.kpi_from_rows("contribution", rows, month),
            rv.kpi_from_rows("cac", cac, month, good_when_down=True),
            rv.kpi_from_rows("cac_payback_months", cac, month, good_when_down=True),
        ],
        per_row=5,
    )
    rv.filter_note(filters, (), "Revenue, costs and margins are company-wide")
    shown = rv.in_range(rows, filters)
    left, right = st.columns(2)
    with left:
        rv.chart_card(
            "Costs vs cash collected",
            rv.money_bars_and_lines(shown, COSTS, [("revenue", "Cash collected", rv.BLUE)]),
            partial(rv.frame_of, shown, ["month", "revenue", *(c for c, _, _ in COSTS)]),
            "cost_vs_revenue",
            help=rv.definition_help("revenue"),
            caption="Stacked bars: costs by kind; line: cash collected (successful payments, as "
            "billed, so annual prepayments show as peaks).",
        )
    with right:
        rv.chart_card(
            "Gross margin",
            rv.ratio_line(shown, "gross_margin", "Gross margin"),
            partial(rv.frame_of, shown, ["month", "revenue", "gross_profit", "gross_margin"]),
            "gross_margin",
            help=rv.definition_help("gross_margin"),
            caption="(Cash collected − infrastructure − support) ÷ cash collected; undefined (a "
            "gap) in a month without payments.",
        )
    left, right = st.columns(2)
    with left:
        rv.chart_card(
            "Contribution after infra, support and marketing",
            rv.signed_bars(shown, "contribution", "Contribution"),
            partial(
                rv.frame_of,
                shown,
                ["month", "revenue", "contribution", *(c for c, _, _ in COSTS)],
            ),
            "contribution",
            help=rv.definition_help("contribution"),
            caption="Cash collected − infrastructure − support − marketing; green positive, red "
            "negative. Not operating profit: payroll, R&D and G&A are not in the costs table.",
        )
    with right:
        render_cac_by_channel(ctx, filters)


def render_cac_by_channel(ctx: AppContext, filters: rv.RevenueFilters) -> None:
    """CAC and CAC payback per acquisition channel (needs marketing_spend)."""
    if not ctx.warehouse.has_table("marketing_spend"):
        with st.container(border=True):
            st.markdown("**CAC and payback by channel**", help=rv.definition_help("cac"))
            rv.missing_table_notice(ctx, "marketing_spend", "CAC and payback by channel")
            st.caption("The CAC tile above uses the costs table's marketing_cost (all channels).")
        return
    rows = rv.metric(ctx, "acquisition", start=filters.start, end=filters.end,
                     by="acquisition_channel")  # fmt: skip
    chosen = filters.dimensions.get("acquisition_channel")
    if chosen:
        rows = [r for r in rows if r["acquisition_channel"] in chosen]
    measure = st.segmented_control(
        "CAC measure", ["CAC", "Payback"], default="CAC", key="fh_cac_measure",
        label_visibility="collapsed",
    )  # fmt: skip
    column, unit = (("cac", "currency") if measure != "Payback"
                    else ("cac_payback_months", "months"))  # fmt: skip
    rv.chart_card(
        "CAC and payback by channel",
        rv.lines_by(rows, "acquisition_channel", column, unit),
        partial(rv.frame_of, rows),
        "cac_by_channel",
        help=rv.definition_help(column),
        caption="Marketing spend ÷ new customers per channel; payback = CAC ÷ (ARPA × gross "
        "margin). A gap is a month without new customers (CAC undefined).",
    )
    rv.filter_note(filters, ("acquisition_channel",), "CAC by channel")


if __name__ == "__main__":  # Streamlit runs a page script as __main__
    render(current_context())
