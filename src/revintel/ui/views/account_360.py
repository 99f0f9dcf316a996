"""Account 360: one account's header, health history, pillars with inputs, its timeline, and its
notes and logged actions.

Deep link: ``/account-360?account=ID``. Thin: calls :func:`revintel.health.service.account_detail`
and draws the notes with :func:`revintel.ui.notes_panel.render_notes`.
"""

from __future__ import annotations

import re
from typing import Any

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from revintel.app.context import AppContext
from revintel.core.errors import NoDataError, NotFoundError
from revintel.health import service
from revintel.health.config import Pillar
from revintel.ui.components import current_context, has_data, render_empty_state
from revintel.ui.notes_panel import render_notes

BADGE_COLOURS = {"Healthy": "green", "At Risk": "orange", "Critical": "red"}
PILLAR_TITLES = {
    "engagement": "Product engagement",
    "sentiment": "Sentiment (NPS)",
    "support": "Support volume",
}


def _plain(text: str) -> str:
    """``text`` with Markdown's special characters escaped, so a name shows as written."""
    return re.sub(r"([\\`*_{}\[\]()#+\-.!<>|~$])", r"\\\1", text)


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
        render_notes(ctx, choice, key="a360")  # a customer not scored still has its notes
        return
    for note in detail.notes:
        st.warning(note, icon=":material/warning:")
    render_header(detail)
    render_history(detail.history)
    render_pillars(detail.pillars)
    render_timeline(detail.timeline)
    render_notes(ctx, choice, key="a360")


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
    # Not a metric: a metric's value is cut to one line, and an owner's full name must show.
    with cols[3].container(border=True, key="a360_owner"):
        st.caption("Owner")
        st.subheader(_plain(a.owner or "—"), anchor=False)
    with st.container(border=True):
        st.markdown(f"**Playbook: {a.playbook or 'none'}** — {a.reason}")
        for action in detail.actions:
            st.markdown(f"- {action}")
        contact = a.last_contact_date
        if contact:
            st.caption(f"Last contact {contact.isoformat()} ({a.days_since_contact} days before)")


# Tier bands behind the health line (drawn below the traces so no line changes colour).
TIER_BANDS = (
    (0.0, 40.0, "#FEE2E2", "Critical < 40"),
    (40.0, 70.0, "#FEF3C7", "At Risk 40–70"),
    (70.0, 100.0, "#DCFCE7", "Healthy ≥ 70"),
)
PILLAR_LINES = {
    "engagement": {"color": "#7C3AED", "dash": "dash"},
    "sentiment": {"color": "#DB2777", "dash": "dot"},
    "support": {"color": "#0D9488", "dash": "dashdot"},
}


def history_figure(frame: pl.DataFrame) -> go.Figure:
    """Monthly health (solid, one colour) and the three pillars (coloured, dashed), on tier bands
    named in the legend."""
    figure = go.Figure()
    months = frame["month"].to_list()
    figure.add_scatter(
        x=months, y=frame["health_score"].to_list(), name="Health",
        mode="lines+markers", line={"width": 3.5, "color": "#1D4ED8"}, marker={"size": 7},
    )  # fmt: skip
    for pillar, style in PILLAR_LINES.items():
        figure.add_scatter(
            x=months, y=frame[pillar].to_list(), name=PILLAR_TITLES[pillar],
            mode="lines+markers", line={"width": 2.2, **style}, marker={"size": 5},
            opacity=0.95,
        )  # fmt: skip
    for low, high, colour, name in TIER_BANDS:
        figure.add_hrect(y0=low, y1=high, fillcolor=colour, line_width=0, layer="below")
        # A legend entry per band (a filled square; no point drawn), so the colours behind the
        # lines are named. After the data traces, so the months still set the x axis.
        figure.add_scatter(
            x=months[:1], y=[None], mode="markers", name=name,
            marker={"symbol": "square", "size": 12, "color": colour,
                    "line": {"width": 1, "color": "#94A3B8"}},
            hoverinfo="skip",
        )  # fmt: skip
    figure.update_layout(
        yaxis={"range": [-2, 103], "title": "score", "tickvals": [0, 20, 40, 60, 80, 100]},
        height=360,
        margin={"t": 10, "l": 0, "r": 0, "b": 0},
        legend={"orientation": "h", "y": -0.15},
    )
    return figure


def render_history(frame: pl.DataFrame) -> None:
    """Monthly health with the three pillars."""
    st.subheader("Health history", anchor=False)
    st.plotly_chart(history_figure(frame), key="a360_history")


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
