"""Health settings: pillar weights, tier cut-offs, playbook thresholds and actions (validated),
and the health backtest with its suggested weights, which can be applied.

Saved to ``REVINTEL_HOME/health.toml`` through the settings service (:mod:`revintel.app.settings`;
the fields: :mod:`revintel.health.config`, docs/health.md). The backtest is
:func:`revintel.health.service.run_backtest`, as in ``revintel health backtest``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl
import streamlit as st

from revintel.app import settings as app_settings
from revintel.app.context import AppContext
from revintel.app.settings import HEALTH
from revintel.core.errors import RevintelError
from revintel.core.formatting import percent
from revintel.health import service
from revintel.health.backtest import BacktestResult
from revintel.health.config import PILLARS, PLAYBOOKS, HealthConfig, InvalidHealthConfig
from revintel.ui.components import current_context, flash, has_data

BACKTEST_KEY = "hs_backtest"  # session state: (what it was run on, result)
PILLAR_NAMES = {"engagement": "Engagement", "sentiment": "Sentiment", "support": "Support"}


def render(ctx: AppContext) -> None:
    """The settings form; the sum of the weights is checked before anything is saved."""
    st.title("Health settings", anchor=False)
    settings = ctx.settings
    try:
        in_effect = app_settings.read(settings, HEALTH)
    except InvalidHealthConfig as exc:
        st.error(str(exc), icon=":material/error:")
        if st.button("Reset to defaults", key="hs_reset_broken"):
            app_settings.reset(settings, HEALTH)
            st.rerun()
        return
    config = in_effect.value
    st.caption(
        "In effect: defaults"
        + "".join(f" + `{p}`" for p in in_effect.sources)
        + f". Saving writes `{app_settings.home_file(settings, HEALTH)}`."
    )
    with st.form("health_settings"):
        st.subheader("Pillar weights (%)", anchor=False)
        w = st.columns(3)
        engagement = w[0].number_input("Engagement", 0.0, 100.0, config.weights.engagement, 5.0)
        sentiment = w[1].number_input("Sentiment", 0.0, 100.0, config.weights.sentiment, 5.0)
        support = w[2].number_input("Support", 0.0, 100.0, config.weights.support, 5.0)
        st.subheader("Tiers and playbook thresholds", anchor=False)
        t = st.columns(4)
        healthy = t[0].number_input("Healthy from", 1.0, 100.0, config.tiers.healthy_from, 1.0)
        at_risk = t[1].number_input("At Risk from", 1.0, 100.0, config.tiers.at_risk_from, 1.0)
        high_value = t[2].number_input(
            "Executive call from ARR ($)", 0.0, None, config.high_value_arr, 10_000.0
        )
        no_contact = t[3].number_input(
            "No contact for more than (days)", 1, 3650, config.no_contact_days, 1
        )
        st.subheader("Pillar details", anchor=False)
        d = st.columns(3)
        half_life = d[0].number_input(
            "NPS half-life (days)", 1.0, None, config.nps_half_life_days, 30.0
        )
        window = d[1].number_input("Ticket window (days)", 7, 730, config.support_window_days, 1)
        aged = d[2].number_input("Aged ticket after (days)", 1, None, config.aged_ticket_days, 1)
        s = st.columns(4)
        sev = config.severity_weights
        severity = {
            level: s[i].number_input(f"Weight of a {level} ticket", 0.0, None, getattr(sev, level))
            for i, level in enumerate(("low", "medium", "high", "urgent"))
        }
        st.subheader("Recommended actions (one per line)", anchor=False)
        actions = {
            playbook: st.text_area(playbook, "\n".join(config.actions[playbook]), key=f"hs_{i}")
            for i, playbook in enumerate(PLAYBOOKS)
        }
        saved = st.form_submit_button("Save settings", type="primary")
    if saved:
        try:
            app_settings.save(
                settings,
                HEALTH,
                {
                    "weights": {
                        "engagement": engagement,
                        "sentiment": sentiment,
                        "support": support,
                    },
                    "tiers": {"healthy_from": healthy, "at_risk_from": at_risk},
                    "high_value_arr": high_value,
                    "no_contact_days": no_contact,
                    "nps_half_life_days": half_life,
                    "support_window_days": window,
                    "aged_ticket_days": aged,
                    "severity_weights": severity,
                    "actions": {
                        p: [line.strip() for line in text.splitlines() if line.strip()]
                        for p, text in actions.items()
                    },
                },
            )
        except InvalidHealthConfig as exc:
            st.error(f"Not saved. {exc}", icon=":material/error:")
        else:
            flash("Health settings saved.")
            st.rerun()
    if app_settings.home_file(settings, HEALTH).exists() and st.button(
        "Reset to defaults", key="hs_reset"
    ):
        app_settings.reset(settings, HEALTH)
        flash("Health settings reset to the defaults.")
        st.rerun()
    render_backtest(ctx, config)


def _weights_text(weights: Mapping[Any, float] | None) -> str:
    if not weights:
        return "—"
    return " · ".join(f"{PILLAR_NAMES[p]} {weights[p]:g}%" for p in PILLARS)


def _auc(value: float | None) -> str:
    return "—" if value is None else f"{value:.3f}"


def render_backtest(ctx: AppContext, config: HealthConfig) -> None:
    """Backtest the settings in effect against churn; offer the suggested weights."""
    st.divider()
    st.subheader("Backtest and suggested weights", anchor=False)
    st.caption(
        "How well past months' health scores predicted churn in the following months (ROC AUC: "
        "0.5 is chance, 1 is perfect), and the pillar weights a logistic regression of churn on "
        "the pillars suggests, with their cross-validated AUC. Definitions: docs/health.md, "
        "Backtest."
    )
    if not has_data(ctx):
        st.info("Load data first: the backtest needs subscriptions and the health tables.")
        return
    left, right = st.columns([1, 3], vertical_alignment="bottom")
    horizon = int(
        left.number_input("Churn within (months)", 1, 12, 3, 1, key="hs_backtest_horizon")
    )
    ran = right.button("Run backtest", key="hs_backtest_run", icon=":material/query_stats:")
    # The result is kept for the data, settings and horizon it was run on.
    basis = (service.snapshot_key(ctx), config.model_dump_json(), horizon)
    if ran:
        with st.spinner("Scoring every month and fitting the weights…"):
            try:
                result = service.run_backtest(ctx, config=config, horizon=horizon)
            except RevintelError as exc:
                st.warning(str(exc), icon=":material/info:")
                return
        st.session_state[BACKTEST_KEY] = (basis, result)
    kept = st.session_state.get(BACKTEST_KEY)
    if kept is None or kept[0] != basis:
        st.caption("Run the backtest to see how the settings in effect would have done.")
        return
    render_backtest_result(ctx, kept[1])


def render_backtest_result(ctx: AppContext, result: BacktestResult) -> None:
    """AUCs, churn by tier and the suggested weights with an apply button."""
    for note in result.notes:
        st.info(note, icon=":material/info:")
    cols = st.columns(4)
    cols[0].metric(
        "AUC, current weights",
        _auc(result.auc_current),
        help=_weights_text(result.current_weights),
        border=True,
    )
    cols[1].metric(
        "AUC, suggested weights",
        _auc(result.auc_suggested_cv),
        help="Cross-validated (5 folds grouped by account) on the same account-months.",
        border=True,
    )
    lift = result.lift_critical_over_healthy
    cols[2].metric(
        "Lift, Critical over Healthy",
        "—" if lift is None else f"{lift:.1f}×",
        help="Churn rate of Critical accounts ÷ churn rate of Healthy accounts.",
        border=True,
    )
    cols[3].metric(
        "Account-months",
        f"{result.rows:,}",
        help=f"{result.churners:,} of them churned within {result.horizon} months.",
        border=True,
    )
    tiers = pl.DataFrame(result.tiers).with_columns(
        pl.col("churn_rate").map_elements(lambda r: percent(r, 1), return_dtype=pl.String)
    )
    st.dataframe(
        tiers.rename(
            {
                "tier": "Tier",
                "accounts": "Account-months",
                "churners": "Churned",
                "churn_rate": f"Churn within {result.horizon} months",
            }
        ),
        hide_index=True,
        key="hs_backtest_tiers",
    )
    suggested = result.suggested_weights
    with st.container(border=True):
        st.markdown(f"**Current weights:** {_weights_text(result.current_weights)}")
        st.markdown(f"**Suggested weights:** {_weights_text(suggested)}")
        if suggested is None:
            return
        if suggested == result.current_weights:
            st.caption("The suggested weights are the ones in effect.")
            return
        if st.button("Apply suggested weights", key="hs_apply_suggested", type="primary"):
            try:
                app_settings.update(ctx.settings, HEALTH, weights=suggested)
            except InvalidHealthConfig as exc:
                st.error(f"Not applied. {exc}", icon=":material/error:")
            else:
                st.session_state.pop(BACKTEST_KEY, None)
                flash(f"Suggested weights applied: {_weights_text(suggested)}.")
                st.rerun()


if __name__ == "__main__":  # Streamlit runs a page script as __main__
    render(current_context())
