"""Account Health: portfolio KPIs, the Capital at Risk treemap, risk composition and renewals.

Thin: reads the month and owner filter, calls :mod:`revintel.health.service`, draws. Clicking a
treemap account or a table row opens the Account 360. Formulas: ``docs/health.md``.
"""

from __future__ import annotations

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from revintel.app.context import AppContext
from revintel.core.errors import NoDataError
from revintel.core.formatting import money, percent
from revintel.health import service
from revintel.health.config import PLAYBOOKS, TIERS
from revintel.ui.components import current_context, has_data, render_empty_state
from revintel.ui.views import page_path

TIER_COLOURS = {"Healthy": "#16A34A", "At Risk": "#F59E0B", "Critical": "#DC2626"}
HEALTH_SCALE = [[0.0, "#DC2626"], [0.4, "#F59E0B"], [0.7, "#FACC15"], [1.0, "#16A34A"]]
TREE_KEY = "health_treemap"
HEALTHY_TOGGLE = "health_tree_healthy"
ACCOUNT_360 = "account_360.py"
# Rows of the accounts table sent to the browser at a time (riskiest first, paged).
PAGE_SIZE = 500
# Longest silences listed; the count of all silent accounts is said above the table.
SILENT_ROWS = 200
GROUPINGS = ("industry", "segment", "owner")
TABLE_COLUMNS = (
    "account_id", "account_name", "health_score", "health_change", "tier", "playbook",
    "reason", "arr", "owner", "renewal_date", "partial",
)  # fmt: skip
SILENT_COLUMNS = (
    "account_id", "account_name", "days_since_contact", "last_contact_date", "tier",
    "health_score", "arr", "owner",
)  # fmt: skip


def open_account(account_id: str) -> None:
    """Go to the Account 360 of ``account_id`` (deep link ``?account=ID``)."""
    st.switch_page(page_path(ACCOUNT_360), query_params={"account": account_id})


def render(ctx: AppContext) -> None:
    """The whole page."""
    st.title("Account Health", anchor=False)
    st.caption(
        "Weighted health (engagement, sentiment, support), playbooks and capital at risk. "
        "Definitions: docs/health.md."
    )
    if not has_data(ctx):
        render_empty_state(ctx)
        return
    try:
        cov = service.coverage(ctx)
    except NoDataError as exc:
        st.warning(str(exc), icon=":material/info:")
        return
    for note in cov.notes():
        st.warning(note, icon=":material/warning:")

    left, middle, right = st.columns([1, 2, 1])
    month = left.selectbox("Month", cov.months[::-1], index=0, key="health_month")
    scores = service.score_month(ctx, month)
    owners = sorted(scores.frame["owner"].unique().to_list())
    chosen = middle.multiselect("Account owner", owners, key="health_owner", placeholder="All")
    top_n = right.slider("Accounts per playbook", 5, 50, 15, key="health_top_n")
    key = _cache_key(ctx, scores, chosen)
    healthy = bool(st.session_state.get(HEALTHY_TOGGLE, False))
    view = portfolio(key, scores, top_n, healthy)

    render_kpis(view["summary"])
    render_treemap(view["tree"], top_n, view["summary"].capital_at_risk)
    # Lazy tabs: only the open tab's content runs and is drawn, so the page's first render
    # carries one table instead of two tables and two charts (docs/health.md, Speed).
    tabs = st.tabs(
        ["Accounts", "Risk composition", "Renewals", "No recent contact"],
        key="health_tabs",
        on_change="rerun",
    )
    if tabs[0].open:
        with tabs[0]:
            render_at_risk_table(view, key, scores)
    if tabs[1].open:
        with tabs[1]:
            render_composition(view["composition"])
    if tabs[2].open:
        with tabs[2]:
            render_renewals(view["renewals"])
    if tabs[3].open:
        with tabs[3]:
            render_silent(view, cov.missing)


# -- what the page shows, computed once per data snapshot, month, settings and owner filter --------
CacheKey = tuple[str | None, str, str, tuple[str, ...]]


def _cache_key(ctx: AppContext, scores: service.HealthScores, owners: list[str]) -> CacheKey:
    """(snapshot, month, settings, owners): None as snapshot means the data can change, no cache."""
    return (
        service.snapshot_key(ctx),
        scores.month,
        scores.config.model_dump_json(),
        tuple(sorted(owners)),
    )


def _filtered(scores: service.HealthScores, owners: tuple[str, ...]) -> pl.DataFrame:
    return service.filter_scores(scores.frame, owner=list(owners) or None)


def _by_risk(frame: pl.DataFrame) -> pl.DataFrame:
    return frame.sort(["health_score", "arr"], descending=[False, True], nulls_last=True)


def portfolio_view(
    scores: service.HealthScores, owners: tuple[str, ...], top_n: int, healthy: bool = False
) -> dict:
    """Everything the page draws, small: KPIs, treemap boxes (Healthy ARR too when ``healthy``),
    the first table page, composition by each grouping, renewals, the longest silences."""
    frame = _filtered(scores, owners)
    ordered = _by_risk(frame)
    silent = service.silent_accounts(frame)
    return {
        "summary": service.portfolio_summary(scores, owner=list(owners) or None),
        "tree": service.capital_at_risk_tree(frame, top_n=top_n, include_healthy=healthy),
        "accounts": ordered.height,
        "first_page": ordered.head(PAGE_SIZE).select(TABLE_COLUMNS),
        "composition": {by: service.risk_composition(frame, by) for by in GROUPINGS},
        "renewals": service.renewals(frame),
        "silent": silent.head(SILENT_ROWS).select(SILENT_COLUMNS),
        "silent_accounts": silent.height,
    }


@st.cache_data(max_entries=32, show_spinner=False)
def _cached_view(key: CacheKey, top_n: int, healthy: bool, _scores: service.HealthScores) -> dict:
    return portfolio_view(_scores, key[3], top_n, healthy)


def portfolio(
    key: CacheKey, scores: service.HealthScores, top_n: int, healthy: bool = False
) -> dict:
    """:func:`portfolio_view`, from ``st.cache_data`` when the data is an immutable snapshot."""
    if key[0] is None:
        return portfolio_view(scores, key[3], top_n, healthy)
    return _cached_view(key, top_n, healthy, scores)


def table_page(scores: service.HealthScores, owners: tuple[str, ...], page: int) -> pl.DataFrame:
    """Rows ``PAGE_SIZE × (page − 1)`` … of the accounts, riskiest first."""
    ordered = _by_risk(_filtered(scores, owners))
    return ordered.slice((page - 1) * PAGE_SIZE, PAGE_SIZE).select(TABLE_COLUMNS)


@st.cache_data(max_entries=32, show_spinner=False)
def _cached_page(key: CacheKey, page: int, _scores: service.HealthScores) -> pl.DataFrame:
    return table_page(_scores, key[3], page)


def render_kpis(summary: service.PortfolioSummary) -> None:
    """Total ARR, capital at risk, ARR share per tier, average health and accounts per playbook."""
    cols = st.columns(5)
    cols[0].metric("Total ARR", money(summary.total_arr), border=True)
    cols[1].metric(
        "Capital at risk",
        money(summary.capital_at_risk),
        help="ARR of At Risk and Critical accounts (docs/health.md).",
        border=True,
    )
    cols[1].caption(f"{percent(summary.capital_at_risk_share, 0)} of ARR")
    change = summary.average_health_change
    avg = summary.average_health
    cols[2].metric(
        "Average health",
        "—" if avg is None else f"{avg:.1f}",
        delta=None if change is None else f"{change:+.1f} vs last month",
        border=True,
    )
    shares = summary.arr_share_by_tier
    cols[3].metric(
        "Healthy ARR",
        percent(shares["Healthy"], 0),
        help="Share of ARR in Healthy accounts.",
        border=True,
    )
    cols[3].caption(
        f"At Risk {percent(shares['At Risk'], 0)} · Critical {percent(shares['Critical'], 0)}"
    )
    cols[4].metric(
        "Accounts",
        f"{summary.accounts:,}",
        delta=f"{summary.dropped_accounts} dropped ≥ 20 pts",
        delta_color="inverse" if summary.dropped_accounts else "off",
        border=True,
    )
    per = summary.accounts_by_playbook
    st.caption(
        " · ".join(f"**{p}** {per[p]:,}" for p in PLAYBOOKS)
        + f" · {summary.partial_accounts:,} scored on partial data"
    )


def treemap_figure(tree: pl.DataFrame) -> go.Figure:
    """Group (playbook, or Healthy for context) → account boxes, size ARR, colour health; account
    leaves carry their id. Labels that do not fit a box at a readable size are hidden (the hover
    still names the account)."""
    ids: list[str] = []
    labels: list[str] = []
    parents: list[str] = []
    values: list[float] = []
    colours: list[float | None] = []
    hover: list[str] = []
    for group in (*PLAYBOOKS, service.HEALTHY_GROUP):
        part = tree.filter(pl.col("group") == group)
        if part.is_empty():
            continue
        arr = float(part["arr"].sum())
        weighted = part.filter(pl.col("health_score").is_not_null())
        health = (
            float((weighted["health_score"] * weighted["arr"]).sum() / weighted["arr"].sum())
            if weighted.height and weighted["arr"].sum() > 0
            else None
        )
        ids.append(group)
        labels.append(group)
        parents.append("")
        values.append(arr)
        colours.append(health)
        context = " (not at risk, context)" if group == service.HEALTHY_GROUP else ""
        hover.append(
            f"<b>{group}</b>{context}<br>ARR {money(arr)}<br>{int(part['accounts'].sum())} accounts"
        )
        for row in part.iter_rows(named=True):
            leaf = row["account_id"] or f"others::{group}"
            ids.append(leaf)
            labels.append(row["label"])
            parents.append(group)
            values.append(row["arr"])
            colours.append(row["health_score"])
            pillars = " · ".join(
                f"{p} {row[p]:.0f}" if row[p] is not None else f"{p} n/a"
                for p in ("engagement", "sentiment", "support")
            )
            renewal = row["renewal_date"].isoformat() if row["renewal_date"] else "—"
            score = "n/a" if row["health_score"] is None else f"{row['health_score']:.0f}"
            tier = f" · {row['tier']}" if row["tier"] else ""
            hover.append(
                f"<b>{row['label']}</b><br>ARR {money(row['arr'])} · health {score}{tier}"
                f"<br>{pillars}<br>renewal {renewal}"
            )
    figure = go.Figure(
        go.Treemap(
            ids=ids,
            labels=labels,
            parents=parents,
            values=values,
            branchvalues="total",
            marker={
                "colors": [50.0 if c is None else c for c in colours],
                "colorscale": HEALTH_SCALE,
                "cmin": 0,
                "cmax": 100,
                "colorbar": {"title": {"text": "Health"}, "thickness": 12},
            },
            hovertext=hover,
            hoverinfo="text",
            textinfo="label+value",
            texttemplate="<b>%{label}</b><br>%{value:$,.0f}",
            textfont={"size": 13},
            textposition="top left",
            root={"color": "#F8FAFC"},
            tiling={"packing": "squarify", "pad": 3},
            sort=False,  # playbooks in their order: the executive calls first (top left)
            pathbar={"visible": True, "textfont": {"size": 13}},
        )
    )
    figure.update_layout(
        margin={"t": 30, "l": 0, "r": 0, "b": 0},
        height=560,
        # A label too small to read is hidden rather than shrunk (the hover names every box).
        uniformtext={"minsize": 10, "mode": "hide"},
    )
    return figure


def render_treemap(tree: pl.DataFrame, top_n: int, at_risk: float) -> None:
    """The Capital at Risk treemap (At Risk and Critical ARR by playbook, the same total as the
    KPI; Healthy ARR on request); clicking an account box opens its Account 360."""
    st.subheader(f"Capital at Risk by playbook: {money(at_risk)}", anchor=False)
    st.toggle(
        "Show Healthy ARR for context",
        key=HEALTHY_TOGGLE,
        help="Adds the Healthy accounts as one more group; their ARR is not at risk.",
    )
    st.caption(
        f"At Risk and Critical accounts by playbook · box size: ARR · colour: health · top "
        f"{top_n} accounts per group, the rest in “Others”. Click a playbook to zoom; click an "
        "account to open its Account 360."
    )
    if tree.is_empty():
        st.info("No At Risk or Critical accounts match: no capital at risk.")
        return
    # Each group's total in words, readable however small its boxes are.
    groups = tree.group_by("group", maintain_order=True).agg(
        pl.col("arr").sum(), pl.col("accounts").sum()
    )
    st.markdown(
        " · ".join(f"**{g}** {money(arr)} ({n:,} accounts)" for g, arr, n in groups.iter_rows())
    )
    event = st.plotly_chart(
        treemap_figure(tree), key=TREE_KEY, on_select="rerun", selection_mode="points"
    )
    points = (event or {}).get("selection", {}).get("points", []) if event else []
    accounts = set(tree["account_id"].drop_nulls().to_list())
    for point in points:
        account = point.get("id")
        if account in accounts:
            open_account(account)


def render_at_risk_table(view: dict, key: CacheKey, scores: service.HealthScores) -> None:
    """The riskiest accounts first, ``PAGE_SIZE`` rows a page; selecting a row opens its 360."""
    st.subheader("Accounts", anchor=False)
    total: int = view["accounts"]
    pages = max(1, -(-total // PAGE_SIZE))
    page = 1
    if pages > 1:
        page = int(
            st.number_input("Page", min_value=1, max_value=pages, value=1, key="health_page")
        )
    if page == 1:
        table = view["first_page"]
    elif key[0] is None:
        table = table_page(scores, key[3], page)
    else:
        table = _cached_page(key, page, scores)
    first = (page - 1) * PAGE_SIZE
    if pages > 1:
        st.caption(
            f"Accounts {first + 1:,}–{first + table.height:,} of {total:,}, riskiest first "
            f"({PAGE_SIZE} a page)."
        )
    event = st.dataframe(
        table.to_pandas(),
        key="health_accounts",
        on_select="rerun",
        selection_mode="single-row",
        hide_index=True,
        height=320,
        column_config={
            "health_score": st.column_config.ProgressColumn(
                "health", min_value=0, max_value=100, format="%.1f"
            ),
            "health_change": st.column_config.NumberColumn("change", format="%+.1f"),
            "arr": st.column_config.NumberColumn("ARR", format="dollar"),
            "renewal_date": st.column_config.DateColumn("renewal"),
        },
    )
    rows = event.selection.rows if event else []
    if rows:
        open_account(table["account_id"][rows[0]])


def render_composition(compositions: dict[str, pl.DataFrame]) -> None:
    """100% stacked bars of Healthy / At Risk / Critical by industry, segment or owner."""
    st.subheader("Risk composition", anchor=False)
    by = st.segmented_control("Group by", list(GROUPINGS), default="industry", key="health_by")
    comp = compositions[by or "industry"]
    figure = go.Figure()
    for tier in TIERS:
        part = comp.filter(pl.col("tier") == tier)
        figure.add_bar(
            y=part[by or "industry"].to_list(),
            x=(part["share"] * 100).to_list(),
            name=tier,
            orientation="h",
            marker_color=TIER_COLOURS[tier],
            customdata=part["accounts"].to_list(),
            hovertemplate="%{y}: %{x:.0f}% (%{customdata} accounts)<extra>" + tier + "</extra>",
        )
    figure.update_layout(
        barmode="stack",
        # Ticks to 100% with room on the right, so the last label is not cut off at the edge.
        xaxis={
            "title": "% of accounts",
            "range": [0, 100],
            "tickvals": [0, 20, 40, 60, 80, 100],
        },
        height=380,
        margin={"t": 10, "l": 0, "r": 40, "b": 0},
        legend={"orientation": "h"},
    )
    st.plotly_chart(figure, key="health_composition")


def render_renewals(table: pl.DataFrame) -> None:
    """ARR renewing in the next 30/60/90/180 days, by tier (``service.renewals``)."""
    st.subheader("Renewals", anchor=False)
    if table["accounts"].sum() == 0:
        st.info("No renewal dates in the next 180 days (or no accounts table).")
        return
    figure = go.Figure()
    for tier in TIERS:
        part = table.filter(pl.col("tier") == tier)
        figure.add_bar(
            x=[f"≤ {d} days" for d in part["within_days"]],
            y=part["arr"].to_list(),
            name=tier,
            marker_color=TIER_COLOURS[tier],
            customdata=part["accounts"].to_list(),
            hovertemplate="%{x}: %{y:$,.0f} (%{customdata} accounts)<extra>" + tier + "</extra>",
        )
    figure.update_layout(
        barmode="stack",
        yaxis={"title": "ARR renewing"},
        height=380,
        margin={"t": 10, "l": 0, "r": 0, "b": 0},
        legend={"orientation": "h"},
    )
    st.plotly_chart(figure, key="health_renewals")


def render_silent(view: dict, missing: tuple[str, ...]) -> None:
    """Accounts with no contact for more than the no-contact window (the longest silences)."""
    st.subheader("No contact for more than the no-contact window", anchor=False)
    if "accounts" in missing:
        st.info("Needs the accounts table (last_contact_date).")
        return
    table: pl.DataFrame = view["silent"]
    if table.is_empty():
        st.success("Every account was contacted recently.")
        return
    if view["silent_accounts"] > table.height:
        st.caption(
            f"The {table.height:,} longest silences of {view['silent_accounts']:,} accounts."
        )
    event = st.dataframe(
        table.to_pandas(),
        key="health_silent",
        on_select="rerun",
        selection_mode="single-row",
        hide_index=True,
        column_config={
            "arr": st.column_config.NumberColumn("ARR", format="dollar"),
            "last_contact_date": st.column_config.DateColumn("last contact"),
        },
    )
    rows = event.selection.rows if event else []
    if rows:
        open_account(table["account_id"][rows[0]])


if __name__ == "__main__":  # Streamlit runs a page script as __main__
    render(current_context())
