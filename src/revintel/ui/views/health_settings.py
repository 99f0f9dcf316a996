"""Health settings: pillar weights, tier cut-offs, playbook thresholds and actions (validated).

Saved to ``REVINTEL_HOME/health.toml`` through the settings service (:mod:`revintel.app.settings`;
the fields: :mod:`revintel.health.config`, docs/health.md).
"""

from __future__ import annotations

import streamlit as st

from revintel.app import settings as app_settings
from revintel.app.context import AppContext
from revintel.app.settings import HEALTH
from revintel.health.config import PLAYBOOKS, InvalidHealthConfig
from revintel.ui.components import current_context, flash


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


if __name__ == "__main__":  # Streamlit runs a page script as __main__
    render(current_context())
