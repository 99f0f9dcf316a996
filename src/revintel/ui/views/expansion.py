"""Expansion: accounts ranked by expansion opportunity, with reasons and the backtest lift.

Thin: reads the options, calls :mod:`revintel.pipeline.service`, draws. Definitions:
``docs/pipeline.md``.
"""

from __future__ import annotations

from functools import partial
from typing import Any

import plotly.graph_objects as go
import polars as pl
import streamlit as st

from revintel.app.account_risk import ExpansionBesideRisk, expansion_beside_churn_risk
from revintel.app.context import AppContext
from revintel.core.csv_export import to_csv_bytes
from revintel.core.errors import RevintelError
from revintel.core.formatting import money, percent
from revintel.pipeline.expansion import SIGNAL_LABELS, ExpansionBacktest
from revintel.pipeline.service.expansion import ExpansionReport
from revintel.ui.components import current_context, has_data, render_empty_state

ALL = "All"


def _rows(found: ExpansionBesideRisk) -> pl.DataFrame:
    report, risk = found.report, found.churn_risk
    rows: list[dict[str, Any]] = [
        {
            "account": a.account_name or a.account_id,
            "score": a.expansion_score,
            "p_expand": a.expansion_probability,
            "expected_expansion_arr": a.expected_expansion_arr,
            "reasons": "; ".join(f"{r.signal} (+{r.points:.0f}): {r.evidence}" for r in a.reasons),
            "churn_risk": risk[a.account_id][0] if a.account_id in risk else None,
            "churn_tier": risk[a.account_id][1] if a.account_id in risk else None,
            "arr": a.arr,
            "plan": a.plan,
            "segment": a.segment,
            "owner": a.owner,
            "decile": a.decile,
            "account_id": a.account_id,
        }
        for a in report.accounts
    ]
    return pl.DataFrame(rows, infer_schema_length=None)


def render(ctx: AppContext) -> None:
    """The whole page."""
    st.title("Expansion", anchor=False)
    st.caption(
        "Paying accounts ranked by expansion opportunity: seat utilisation, usage growth, "
        "feature adoption, plan headroom, health and NPS, each adding points to a 0–100 score. "
        "Beside the list, the score's backtest: how often the top decile actually expanded in the "
        "following months against the base rate. Definitions: docs/pipeline.md (Expansion "
        "opportunity)."
    )
    if not has_data(ctx):
        render_empty_state(ctx)
        return
    state = st.session_state
    segment = state.get("expansion_segment", ALL)
    owner = state.get("expansion_owner", ALL)
    try:
        found = expansion_beside_churn_risk(
            ctx,
            segment=None if segment == ALL else segment,
            owner=None if owner == ALL else owner,
            limit=int(state.get("expansion_limit", 50)),
        )
    except RevintelError as exc:
        st.warning(str(exc), icon=":material/info:")
        return
    report = found.report
    c1, c2, c3 = st.columns([1, 1, 1])
    c1.selectbox("Segment", [ALL, *report.segments], key="expansion_segment")
    c2.selectbox("Owner", [ALL, *report.owners], key="expansion_owner")
    c3.number_input("Accounts listed", 5, 5000, 50, 5, key="expansion_limit")
    for note in report.notes:
        st.info(note, icon=":material/info:")
    if report.backtest is None:
        render_list(found)
        return
    render_kpis(report, report.backtest)
    left, right = st.columns([2, 1])
    with left:
        render_list(found)
    with right:
        render_backtest(report.backtest)


def render_kpis(report: ExpansionReport, b: ExpansionBacktest) -> None:
    cols = st.columns(4)
    cols[0].metric(
        "Top-decile lift",
        "—" if b.lift is None else f"{b.lift:.2f}×",
        help="Expansion rate of the top 10% of scores ÷ the base rate, over "
        f"{b.first_month}–{b.last_month} (expansion within {b.horizon_months} months)."
        + (
            ""
            if b.lift_ci_low is None or b.lift_ci_high is None
            else f" 95% interval {b.lift_ci_low:.2f}–{b.lift_ci_high:.2f} (accounts resampled)."
        ),
        border=True,
    )
    cols[1].metric(
        "Top decile / base rate",
        f"{percent(b.top_decile_rate)} / {percent(b.base_rate)}",
        help="Share of account-months followed by an expansion (more seats or a higher plan, "
        "with MRR up) within the horizon.",
        border=True,
    )
    cols[2].metric(
        "ROC AUC (backtest)",
        "—" if b.roc_auc is None else f"{b.roc_auc:.3f}",
        help="How well the score ranks accounts that expanded above those that did not (0.5: "
        f"chance), over {b.account_months:,} account-months.",
        border=True,
    )
    cols[3].metric(
        "Expected expansion ARR",
        money(report.expected_expansion_arr),
        help="Of the accounts listed: Σ ARR × the mean expansion ARR ÷ ARR of the account's "
        "decile in the backtest.",
        border=True,
    )


def render_list(found: ExpansionBesideRisk) -> None:
    report = found.report
    st.subheader(
        f"Ranked accounts, {report.month} ({report.accounts_scored:,} scored)", anchor=False
    )
    frame = _rows(found)
    if frame.is_empty():
        st.info("No account matches these filters.", icon=":material/info:")
        return
    st.dataframe(
        frame,
        hide_index=True,
        width="stretch",
        height=520,
        placeholder="—",
        column_config={
            "arr": st.column_config.NumberColumn("ARR", format="dollar"),
            "score": st.column_config.ProgressColumn(
                "score", min_value=0, max_value=100, format="%.1f"
            ),
            "p_expand": st.column_config.NumberColumn("P(expand)", format="percent"),
            "expected_expansion_arr": st.column_config.NumberColumn(
                "expected expansion ARR", format="dollar"
            ),
            "reasons": st.column_config.TextColumn("reasons", width="large"),
            "churn_risk": st.column_config.NumberColumn("churn risk", format="percent"),
            "churn_tier": st.column_config.TextColumn("churn tier"),
        },
    )
    if found.churn_note:
        st.caption(f"Churn risk: {found.churn_note}")
    st.download_button(
        "Download ranked accounts (CSV)",
        partial(to_csv_bytes, frame),
        file_name=f"expansion-{report.month}.csv",
        mime="text/csv",
        icon=":material/download:",
        key="expansion_csv",
        on_click="ignore",
    )


def render_backtest(b: ExpansionBacktest) -> None:
    st.subheader("Backtest: expansion rate by decile", anchor=False)
    deciles = pl.DataFrame(
        [
            {
                "decile": d.decile,
                "account_months": d.accounts,
                "expansion_rate": d.expansion_rate,
                "mean_score": d.mean_score,
                "uplift_ratio": d.uplift_ratio,
            }
            for d in b.deciles
        ]
    )
    fig = go.Figure()
    fig.add_bar(
        x=deciles["decile"].to_list(),
        y=deciles["expansion_rate"].to_list(),
        name="expanded",
        marker_color=["#1f77b4" if d == 1 else "#9ecae1" for d in deciles["decile"]],
    )
    fig.add_hline(
        y=b.base_rate, line_dash="dash", annotation_text=f"base rate {percent(b.base_rate)}"
    )
    fig.update_layout(
        height=320,
        margin={"l": 10, "r": 10, "t": 10, "b": 10},
        xaxis_title="Score decile (1 = highest scores)",
        yaxis_title="Expanded within horizon",
        yaxis_tickformat=".0%",
        xaxis={"dtick": 1},
        showlegend=False,
    )
    st.plotly_chart(fig, width="stretch", key="expansion_deciles")
    st.download_button(
        "Download deciles (CSV)",
        partial(to_csv_bytes, deciles),
        file_name="expansion-backtest-deciles.csv",
        mime="text/csv",
        icon=":material/download:",
        key="expansion_deciles_csv",
        on_click="ignore",
    )
    signals = pl.DataFrame(
        [
            {"signal": SIGNAL_LABELS[s], "roc_auc": v}
            for s, v in b.signal_auc.items()
            if s in SIGNAL_LABELS
        ]
    )
    st.caption(
        f"{b.months} month-ends {b.first_month}–{b.last_month}, {b.account_months:,} "
        f"account-months; each scored with data up to that month only. Each signal alone:"
    )
    fitted = b.fitted
    if fitted is not None:
        signals = signals.with_columns(
            fitted_weight=pl.Series([fitted.suggested_weights.get(s) for s in b.signal_auc])
        )
    st.dataframe(
        signals,
        hide_index=True,
        width="stretch",
        column_config={
            "roc_auc": st.column_config.NumberColumn("ROC AUC", format="%.3f"),
            "fitted_weight": st.column_config.NumberColumn("fitted weight", format="%.2f"),
        },
    )
    if fitted is not None:
        rule = "—" if fitted.rule_lift is None else f"{fitted.rule_lift:.2f}×"
        fit = "—" if fitted.fitted_lift is None else f"{fitted.fitted_lift:.2f}×"
        st.caption(
            f"Held out from {fitted.first_holdout_month} "
            f"({fitted.holdout_account_months:,} account-months): the score's top-decile lift "
            f"{rule}; with weights fitted on the earlier months, {fit}. The fitted weights can be "
            "set in the pipeline settings (expansion weights)."
        )


if __name__ == "__main__":  # Streamlit runs a page script as __main__
    render(current_context())
