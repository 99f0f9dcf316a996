"""Account 360: one account's header, health history, pillars with inputs and its timeline.

Deep link: ``/account-360?account=ID``. Thin: calls :func:`revintel.health.service.account_detail`.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from revintel.app.context import AppContext
from revintel.core.errors import NoDataError, NotFoundError
from revintel.health import service
from revintel.health.config import Pillar
from revintel.ui.components import current_context, has_data, render_empty_state

BADGE_COLOURS = {"Healthy": "green", "At Risk": "orange", "Critical": "red"}
PILLAR_TITLES = {
    "engagement": "Product engagement",
    "sentiment": "Sentiment (NPS)",
    "support": "Support volume",
}


def _fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        return f"{value:,.2f}" if abs(value) < 100 else f"{value:,.0f}"
    return str(value)


def render(ctx: AppContext) -> None:
    """The whole page."""
    if not has_data(ctx):
        st.title("Account 360", anchor=False)
        render_empty_state(ctx)
        return
    try:
        scores = service.score_month(ctx)
    except NoDataError as exc:
        st.title("Account 360", anchor=False)
        st.warning(str(exc), icon=":material/info:")
        return
    names = dict(scores.frame.sort("account_name").select("account_id", "account_name").iter_rows())
    wanted = st.query_params.get("account")
    options = list(names)
    if wanted and wanted not in names:
        options.insert(0, wanted)
    choice = st.selectbox(
        "Account",
        options,
        index=options.index(wanted) if wanted in options else None,
        format_func=lambda a: f"{names.get(a, a)} ({a})",
        placeholder="Choose an account (or click one on Account Health)",
        key=f"a360_pick_{wanted}",
    )
    if choice is None:
        st.title("Account 360", anchor=False)
        st.info("Pick an account, or click one in the treemap or tables of Account Health.")
        return
    if choice != wanted:
        st.query_params["account"] = choice
    try:
        detail = service.account_detail(ctx, choice)
    except NotFoundError as exc:
        st.title("Account 360", anchor=False)
        st.error(str(exc), icon=":material/error:")
        return
    for note in detail.notes:
        st.warning(note, icon=":material/warning:")
    render_header(detail)
    render_history(detail.history)
    render_pillars(detail.pillars)
    render_timeline(detail.timeline)


def render_header(detail: service.AccountDetail) -> None:
    """Name, tier badge, ARR, renewal, owner, playbook with its reason and actions."""
    a = detail.account
    st.title(a.account_name or a.account_id, anchor=False)
    tier = a.tier
    badges = st.container(horizontal=True)
    with badges:
        if tier:
            st.badge(tier, color=BADGE_COLOURS[tier], icon=":material/monitor_heart:")
        else:
            st.badge("Not scored", color="gray")
        if a.partial:
            st.badge("Partial data", color="gray", icon=":material/help:")
        if a.silent:
            st.badge("Silent: no recent contact", color="violet")
        st.caption(f"{a.account_id} · {a.segment} · {a.industry} · scored {a.month}")
    cols = st.columns(4)
    change = a.health_change
    cols[0].metric(
        "Health",
        "—" if a.health_score is None else f"{a.health_score:.1f}",
        delta=None if change is None else f"{change:+.1f} since last month",
        border=True,
    )
    cols[1].metric("ARR", f"${a.arr:,.0f}" if a.arr is not None else "—", border=True)
    renewal = a.renewal_date
    cols[2].metric("Renewal", renewal.isoformat() if renewal else "—", border=True)
    cols[3].metric("Owner", a.owner or "—", border=True)
    with st.container(border=True):
        st.markdown(f"**Playbook: {a.playbook or 'none'}** — {a.reason}")
        for action in detail.actions:
            st.markdown(f"- {action}")
        contact = a.last_contact_date
        if contact:
            st.caption(f"Last contact {contact.isoformat()} ({a.days_since_contact} days before)")


def render_history(frame: pl.DataFrame) -> None:
    """Monthly health with the three pillars."""
    st.subheader("Health history", anchor=False)
    figure = go.Figure()
    figure.add_hrect(y0=0, y1=40, fillcolor="#FEE2E2", line_width=0, opacity=0.5)
    figure.add_hrect(y0=40, y1=70, fillcolor="#FEF3C7", line_width=0, opacity=0.5)
    figure.add_scatter(
        x=frame["month"].to_list(), y=frame["health_score"].to_list(), name="Health",
        mode="lines+markers", line={"width": 3, "color": "#2563EB"},
    )  # fmt: skip
    for pillar in ("engagement", "sentiment", "support"):
        figure.add_scatter(
            x=frame["month"].to_list(), y=frame[pillar].to_list(), name=pillar,
            mode="lines", line={"width": 1, "dash": "dot"},
        )  # fmt: skip
    figure.update_layout(
        yaxis={"range": [0, 100], "title": "score"},
        height=320,
        margin={"t": 10, "l": 0, "r": 0, "b": 0},
        legend={"orientation": "h"},
    )
    st.plotly_chart(figure, key="a360_history")


def render_pillars(pillars: dict[Pillar, service.PillarDetail]) -> None:
    """Each pillar's score, weight and the inputs that produced it."""
    st.subheader("Pillars", anchor=False)
    cols = st.columns(3)
    for col, (name, pillar) in zip(cols, pillars.items(), strict=True):
        with col.container(border=True):
            score = pillar.score
            st.metric(
                f"{PILLAR_TITLES[name]} · weight {pillar.weight:g}%",
                "no data" if score is None else f"{score:.1f}",
            )
            if not pillar.table_loaded:
                st.caption(f"Table {pillar.source_table} is not loaded: left out.")
            elif score is None:
                st.caption("No data for this account: left out, weights renormalised.")
            inputs = [{"input": k, "value": _fmt(v)} for k, v in pillar.inputs.items()]
            st.dataframe(inputs, hide_index=True, key=f"a360_inputs_{name}")


def render_timeline(events: pl.DataFrame) -> None:
    """Subscription changes, tickets and NPS responses, newest first."""
    st.subheader("Timeline", anchor=False)
    if events.is_empty():
        st.info("No subscription, ticket or NPS events.")
        return
    st.dataframe(
        events.to_pandas(),
        hide_index=True,
        key="a360_timeline",
        column_config={"date": st.column_config.DatetimeColumn("date", format="YYYY-MM-DD")},
    )


if __name__ == "__main__":  # Streamlit runs a page script as __main__
    render(current_context())
