"""Segments: build a rule visually or as text with its live count and MRR, save and reuse it,
compare 2-3 segments, discover clusters (docs/retention.md, Segments).

Thin: each tab reads its inputs, calls one function of :mod:`revintel.app.retention.segments`
and draws the result.
"""

from __future__ import annotations

import getpass
from typing import Any

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from revintel.app.context import AppContext
from revintel.app.retention import segments as service
from revintel.core.errors import RevintelError
from revintel.core.formatting import money, percent
from revintel.ui.components import current_context, has_data, render_empty_state
from revintel.ui.revenue import PALETTE, chart_card, layout

OPERATOR_LABELS = {
    "=": "=", "!=": "≠", "<": "<", "<=": "≤", ">": ">", ">=": "≥", "in": "is one of",
    "not in": "is none of", "between": "between", "not between": "not between",
    "contains": "contains", "not contains": "does not contain", "starts_with": "starts with",
    "not starts_with": "does not start with", "ends_with": "ends with",
    "not ends_with": "does not end with", "is null": "is missing", "is not null": "is present",
    "is true": "is true", "is false": "is false",
}  # fmt: skip
ROWS_KEY = "segment_builder_rows"


def _default_author() -> str:
    try:
        return getpass.getuser() or "dashboard"
    except Exception:  # no user name in this environment
        return "dashboard"


def render(ctx: AppContext) -> None:
    """The whole page."""
    st.title("Segments", anchor=False)
    st.caption(
        "Customers selected by a rule over their attributes and computed features (MRR, health, "
        "churn risk, CLV, RFM and every churn feature) as of the last complete month. "
        "Definitions and the rule grammar: docs/retention.md, Segments."
    )
    if not has_data(ctx):
        render_empty_state(ctx)
        return
    try:
        catalog = service.feature_columns(ctx)
    except RevintelError as exc:
        st.error(str(exc))
        return
    builder, saved, compare, discover = st.tabs(["Builder", "Saved", "Compare", "Discover"])
    with builder:
        _builder_tab(ctx, catalog)
    with saved:
        _saved_tab(ctx)
    with compare:
        _compare_tab(ctx)
    with discover:
        _discover_tab(ctx)


# -- builder ------------------------------------------------------------------------------------
def _rows() -> list[dict[str, Any]]:
    rows = st.session_state.setdefault(ROWS_KEY, [{"id": 0}])
    return rows


def _condition_row(
    row: dict[str, Any], columns: dict[str, dict[str, Any]], ops: dict[str, list[str]]
) -> dict[str, Any] | None:
    rid = row["id"]
    names = [n for n in columns if n != "customer_id"]
    left, mid, right, drop = st.columns([3, 2, 4, 1], vertical_alignment="bottom")
    feature = left.selectbox(
        "Feature",
        names,
        index=names.index("mrr") if "mrr" in names else 0,
        format_func=lambda n: f"{columns[n]['label']} ({n})",
        key=f"seg_feature_{rid}",
    )
    col = columns[feature]
    kind = col["kind"]
    operator = mid.selectbox(
        "Operator", ops[kind], format_func=lambda o: OPERATOR_LABELS.get(o, o), key=f"seg_op_{rid}"
    )
    if drop.button("✕", key=f"seg_drop_{rid}", help="Remove this condition"):
        st.session_state[ROWS_KEY] = [r for r in _rows() if r["id"] != rid] or [{"id": rid + 1}]
        st.rerun()
    value: Any = None
    base = operator.removeprefix("not ")
    if operator.startswith("is "):
        right.caption("no value needed")
    elif kind == "number":
        if base == "between":
            a, b = right.columns(2)
            value = [
                a.number_input("From", value=0.0, key=f"seg_lo_{rid}"),
                b.number_input("To", value=1000.0, key=f"seg_hi_{rid}"),
            ]
        elif base == "in":
            text = right.text_input("Values (comma-separated)", key=f"seg_vals_{rid}")
            try:
                value = [float(v) for v in text.split(",") if v.strip()]
            except ValueError:
                right.error("Expected numbers separated by commas")
                return None
        else:
            value = right.number_input("Value", value=0.0, key=f"seg_num_{rid}")
    elif kind == "date":
        if base == "between":
            a, b = right.columns(2)
            value = [
                a.date_input("From", key=f"seg_dlo_{rid}").isoformat(),
                b.date_input("To", key=f"seg_dhi_{rid}").isoformat(),
            ]
        else:
            value = right.date_input("Date", key=f"seg_date_{rid}").isoformat()
    else:  # text
        choices = col.get("values")
        if base == "in" and choices:
            value = right.multiselect("Values", choices, key=f"seg_multi_{rid}")
        elif base in ("=", "!=") and operator in ("=", "!=") and choices:
            value = right.selectbox("Value", choices, key=f"seg_choice_{rid}")
        elif base == "in":
            value = [
                v.strip()
                for v in right.text_input("Values (comma-separated)", key=f"seg_tvals_{rid}").split(
                    ","
                )
                if v.strip()
            ]
        else:
            value = right.text_input("Text", key=f"seg_text_{rid}")
    if isinstance(value, list) and not value:
        return None
    spec: dict[str, Any] = {"feature": feature, "operator": operator}
    if value is not None:
        spec["value"] = value
    return spec


def _builder_tab(ctx: AppContext, catalog: dict[str, Any]) -> None:
    columns = {c["name"]: c for c in catalog["columns"]}
    ops = catalog["operators"]
    mode = st.radio(
        "Write the rule", ["Visual builder", "Text rule"], horizontal=True, key="seg_mode"
    )
    rule_text: str | None = None
    builder: dict[str, Any] | None = None
    if mode == "Text rule":
        rule_text = st.text_area(
            "Rule",
            key="seg_rule_text",
            placeholder="mrr > 10k and churn_risk > 0.7 and not has_account_manager",
            help="Operators: = != < <= > >= in (…) between … and … contains starts_with "
            "ends_with is null; combine with and, or, not and parentheses. Numbers may use _ "
            "and k/M suffixes.",
        )
        if not (rule_text or "").strip():
            st.info("Type a rule to see how many customers it selects.")
            return
    else:
        combine = st.radio(
            "Customers matching", ["all conditions (AND)", "any condition (OR)"],
            horizontal=True, key="seg_combine",
        )  # fmt: skip
        conditions = []
        for row in list(_rows()):
            with st.container(border=True):
                spec = _condition_row(row, columns, ops)
                if spec is not None:
                    conditions.append(spec)
        if st.button("Add a condition", icon=":material/add:", key="seg_add"):
            rows = _rows()
            rows.append({"id": max(r["id"] for r in rows) + 1})
            st.rerun()
        if not conditions:
            st.info("Complete a condition to see how many customers it selects.")
            return
        builder = {"op": "and" if combine.startswith("all") else "or", "conditions": conditions}
    try:
        result = service.preview(ctx, rule_text, builder=builder, sample=20)
    except RevintelError as exc:
        st.error(str(exc), icon=":material/error:")
        return
    if builder is not None:
        st.code(result.rule, language=None)
    a, b, c, d = st.columns(4)
    a.metric("Customers", f"{result.count:,}", help=f"of {result.total_customers:,}")
    b.metric("MRR", money(result.mrr), help=f"{percent(result.share_of_mrr)} of all MRR")
    c.metric("ARR", money(result.arr))
    d.metric("Average churn risk", percent(result.avg_risk))
    st.caption(
        f"As of {result.as_of}; {percent(result.share_of_customers)} of customers; "
        f"evaluated in {result.elapsed_ms:.0f} ms."
    )
    for note in result.notes:
        st.caption(f"Note: {note}")
    if result.sample:
        st.dataframe(pd.DataFrame(result.sample), hide_index=True, use_container_width=True)
    with st.form("seg_save", clear_on_submit=False, border=True):
        st.markdown("**Save this segment**")
        left, right = st.columns(2)
        name = left.text_input("Name", key="seg_save_name")
        author = right.text_input("Saved by", value=_default_author(), key="seg_save_author")
        description = st.text_input("Description (optional)", key="seg_save_description")
        shared = st.checkbox("Shared with everyone", value=True, key="seg_save_shared")
        if st.form_submit_button("Save segment", icon=":material/save:"):
            try:
                seg = service.create_segment(
                    ctx,
                    name,
                    rule=rule_text,
                    builder=builder,
                    description=description or None,
                    shared=shared,
                    created_by=author or _default_author(),
                )
            except RevintelError as exc:
                st.error(str(exc))
            else:
                st.success(f"Saved segment {seg.id}: {seg.name}")


# -- saved --------------------------------------------------------------------------------------
def _saved_tab(ctx: AppContext) -> None:
    try:
        saved = service.list_segments(ctx)
    except RevintelError as exc:
        st.error(str(exc))
        return
    if not saved:
        st.info("No saved segments yet: build one in the Builder tab and save it.")
        return
    table = pd.DataFrame(
        [
            {
                "id": s.id, "name": s.name, "customers": s.count, "mrr": s.mrr,
                "avg_risk": s.avg_risk, "rule": s.rule, "by": s.created_by,
                "shared": s.shared, "updated": s.updated_at[:10], "problem": s.error,
            }
            for s in saved
        ]
    )  # fmt: skip
    st.dataframe(table, hide_index=True, use_container_width=True, key="seg_saved_table")
    names: dict[int, str] = {s.id: f"{s.id}: {s.name}" for s in saved}
    chosen = st.selectbox(
        "Open a segment", list(names), format_func=lambda i: names[i], key="seg_open"
    )
    seg = next(s for s in saved if s.id == chosen)
    st.markdown(f"**{seg.name}** — `{seg.rule}`")
    if seg.description:
        st.caption(seg.description)
    left, mid, right = st.columns(3)
    if left.button("Track over time", key="seg_track"):
        try:
            tracked = service.track(ctx, seg.id)
        except RevintelError as exc:
            st.error(str(exc))
        else:
            months = pd.DataFrame(tracked.months)
            figure = go.Figure()
            figure.add_bar(x=months["month"], y=months["customers"], name="Members paying",
                           marker_color=PALETTE[0])  # fmt: skip
            figure.add_scatter(x=months["month"], y=months["churn_rate"], name="Churn rate",
                               yaxis="y2", line={"color": PALETTE[3]})  # fmt: skip
            figure.update_layout(yaxis2={"overlaying": "y", "side": "right", "tickformat": ".0%"})
            chart_card(
                "Current members by month", layout(figure), lambda: months, "segment_track",
                caption=tracked.method,
            )  # fmt: skip
    csv = None
    try:
        csv = service.members_csv(ctx, seg.id)
    except RevintelError as exc:
        mid.caption(str(exc))
    if csv is not None:
        mid.download_button(
            "Members CSV", csv, file_name=f"segment-{seg.id}.csv", mime="text/csv",
            key="seg_members_csv",
        )  # fmt: skip
    if right.button("Delete", key="seg_delete", type="secondary"):
        service.delete_segment(ctx, seg.id)
        st.success(f"Deleted segment {seg.id}: {seg.name}")
        st.rerun()


# -- compare ------------------------------------------------------------------------------------
def _compare_tab(ctx: AppContext) -> None:
    saved = service.list_segments(ctx, counts=False)
    names: dict[int, str] = {s.id: s.name for s in saved}
    picked = st.multiselect(
        "Saved segments (2 or 3)", list(names), format_func=lambda i: names[i], max_selections=3,
        key="seg_compare_pick",
    )  # fmt: skip
    extra = st.text_input("…or add a rule", key="seg_compare_rule", placeholder='segment = "SMB"')
    items: list[int | str] = [*picked, *([extra] if extra.strip() else [])]
    if len(items) < 2:
        st.info("Choose two or three segments (or a rule) to compare them.")
        return
    try:
        result = service.compare(ctx, items[:3])
    except RevintelError as exc:
        st.error(str(exc))
        return
    cols = st.columns(len(result.segments))
    for col, s in zip(cols, result.segments, strict=True):
        with col.container(border=True):
            st.markdown(f"**{s.label}**")
            st.caption(s.rule)
            st.metric("Customers", f"{s.count:,}")
            st.metric("MRR", money(s.mrr))
            st.metric("Average churn risk", percent(s.avg_risk))
            st.metric("Average monthly churn", percent(s.average_monthly_churn))
    figure = go.Figure()
    for i, s in enumerate(result.segments):
        figure.add_scatter(
            x=[m["month"] for m in s.churn_by_month],
            y=[m["churn_rate"] for m in s.churn_by_month],
            name=s.label, mode="lines+markers", line={"color": PALETTE[i % len(PALETTE)]},
        )  # fmt: skip
    figure.update_yaxes(tickformat=".1%")
    rows = [{"segment": s.label, **m} for s in result.segments for m in s.churn_by_month]
    chart_card(
        "Churn rate by month", layout(figure), lambda: pd.DataFrame(rows), "segment_churn",
        caption=result.definitions["churn_rate"],
    )  # fmt: skip
    st.markdown("**Features that differ most**")
    diff = pd.DataFrame(
        [
            {
                "feature": d.label, "measure": d.measure, "effect size": d.effect,
                "between": " vs ".join(d.between),
                **{k: (f"{v['top']} ({v['share']:.0%})" if isinstance(v, dict) else v)
                   for k, v in d.values.items()},
            }
            for d in result.differences
        ]
    )  # fmt: skip
    st.dataframe(diff, hide_index=True, use_container_width=True)
    st.caption(f"{result.definitions['cohens_d']} {result.definitions['cramers_v']}")


# -- discover -----------------------------------------------------------------------------------
def _discover_tab(ctx: AppContext) -> None:
    left, _ = st.columns([1, 3])
    k = left.selectbox("Clusters", ["best (silhouette)", *range(2, 11)], key="seg_k")
    chosen = None if isinstance(k, str) else int(k)
    if not st.toggle("Run the clustering", key="seg_discover_on"):
        st.caption("KMeans on standardised features of the paying customers; takes a few seconds.")
        return
    try:
        with st.spinner("Clustering…"):
            found = service.discover(ctx, chosen)
    except RevintelError as exc:
        st.error(str(exc))
        return
    st.caption(
        f"{found.population:,} paying customers as of {found.as_of}, k = {found.k}; criterion: "
        f"{found.criterion}. Silhouette by k: "
        + ", ".join(f"{kk}: {s:.3f}" for kk, s in found.scores.items())
        + f". Churn rate = {found.churn_rate_definition}."
    )
    table = pd.DataFrame(
        [
            {
                "cluster": c.cluster, "customers": c.size, "share": c.share, "mrr": c.mrr,
                "churn rate": c.churn_rate, "description": c.description, "rule": c.rule,
                "rule precision": c.rule_precision, "rule recall": c.rule_recall,
            }
            for c in found.clusters
        ]
    )  # fmt: skip
    st.dataframe(table, hide_index=True, use_container_width=True)
    with st.form("seg_save_cluster", border=True):
        st.markdown("**Save a cluster as a segment** (its rule)")
        a, b, c = st.columns(3)
        cluster = a.selectbox("Cluster", [c.cluster for c in found.clusters])
        name = b.text_input("Name")
        author = c.text_input("Saved by", value=_default_author())
        if st.form_submit_button("Save cluster"):
            try:
                seg = service.save_cluster(ctx, int(cluster), name, k=chosen, created_by=author)
            except RevintelError as exc:
                st.error(str(exc))
            else:
                st.success(f"Saved segment {seg.id}: {seg.name} ({seg.rule})")


if __name__ == "__main__":  # Streamlit runs a page script as __main__
    render(current_context())
