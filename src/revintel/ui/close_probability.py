"""The close-probability panel of one open deal, for the deal page's slot (docs/pipeline.md,
Close probability): brief 003's rule with its breakdown beside the calibrated model's probability
and its held-out accuracy.

Thin: calls :func:`revintel.pipeline.service.forecasts.deal_close_probability`, draws.
"""

from __future__ import annotations

import streamlit as st

from revintel.app.context import AppContext
from revintel.core.errors import RevintelError
from revintel.pipeline.service import forecasts

BREAKDOWN_LABELS = {
    "base_probability": "Base (stage)",
    "engagement_boost": "+ engagement",
    "qualification_boost": "+ qualification",
    "velocity_penalty": "− velocity",
    "competition_penalty": "− competition",
}


def render_close_probability(ctx: AppContext, deal_id: str) -> None:
    """The panel for ``deal_id``; a short note when the deal is not open or data is missing."""
    st.subheader("Close probability", anchor=False)
    try:
        result = forecasts.deal_close_probability(ctx, deal_id).to_dict()
    except RevintelError as exc:
        st.info(str(exc), icon=":material/info:")
        return
    left, right = st.columns(2)
    left.metric(
        "Rule (brief 003)",
        f"{result['close_probability']:.0f}%",
        help="Base by stage + engagement + qualification − velocity − competition, clamped.",
        border=True,
    )
    left.caption(
        " · ".join(
            f"{label} {result['breakdown'][key]:g}" for key, label in BREAKDOWN_LABELS.items()
        )
        + f" · confidence {result['confidence']}"
    )
    model = result["model"]
    if model is None:
        right.info("Too few closed deals to fit the close-probability model.")
        return
    right.metric(
        f"Model ({model['method']})",
        f"{model['close_probability']:.0f}%",
        help="Calibrated on deals closed before the held-out ones; scored on the deal as it "
        "stands today.",
        border=True,
    )
    accuracy = f"held-out ROC AUC {model['roc_auc']}, Brier {model['brier']}"
    if model.get("oracle_auc") is not None:
        accuracy += f"; oracle AUC {model['oracle_auc']}"
    right.caption(accuracy)
