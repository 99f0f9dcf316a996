"""The close-probability panel of one open deal (docs/pipeline.md, Close probability): the
multi-factor rule with its breakdown beside the calibrated model's probability and its held-out
accuracy.

Thin: calls :func:`revintel.pipeline.service.forecasts.deal_close_probability`, draws.
"""

from __future__ import annotations

from typing import Any

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
    try:
        result = forecasts.deal_close_probability(ctx, deal_id).to_dict()
    except RevintelError as exc:
        draw_close_probability(None, str(exc))
        return
    draw_close_probability(result, None)


def draw_close_probability(result: dict[str, Any] | None, note: str | None) -> None:
    """The panel for a :class:`~revintel.pipeline.service.forecasts.CloseProbabilityResult` as a
    dict (the Deals page hands in the one ``deal_detail`` returns), or ``note`` when there is
    none."""
    st.subheader("Close probability", anchor=False)
    if result is None:
        st.info(note or "No close probability for this deal.", icon=":material/info:")
        return
    left, right = st.columns(2)
    left.metric(
        "Multi-factor rule",
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
