"""Home: what revintel is, what is loaded, and how to load data when nothing is."""

from __future__ import annotations

import streamlit as st

from revintel.app.catalog import table_catalog
from revintel.app.context import AppContext
from revintel.ui.components import (
    PRODUCT,
    TAGLINE,
    age_text,
    current_context,
    has_data,
    last_load_time,
    render_empty_state,
)
from revintel.ui.views import PAGES

INTRO = (
    "Exact SaaS metrics, account health, churn risk, pipeline and attribution, computed from "
    "your own customers, subscriptions and payments, on your own machine or warehouse."
)


def render(ctx: AppContext) -> None:
    """What revintel is; what is loaded, or how to load data when nothing is."""
    st.title(PRODUCT, anchor=False)
    st.markdown(f"**{TAGLINE}.** {INTRO}")
    if not has_data(ctx):
        render_empty_state(ctx)
        return
    tables = [t for t in table_catalog(ctx) if t.loaded]
    customers = next(t.rows for t in tables if t.name == "customers")
    cols = st.columns(4)
    cols[0].metric("Customers", f"{customers:,}", border=True)
    cols[1].metric("Tables loaded", len(tables), border=True)
    cols[2].metric("Rows", f"{sum(t.rows for t in tables):,}", border=True)
    cols[3].metric("Last load", age_text(last_load_time(ctx)), border=True)
    st.subheader("Explore", anchor=False)
    for spec in PAGES:
        if not spec.default:
            st.page_link(spec.path, label=spec.title, icon=spec.icon)


if __name__ == "__main__":  # Streamlit runs a page script as __main__
    render(current_context())
