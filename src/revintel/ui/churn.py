"""Pieces the churn pages share: cached predictions, tier colours, formats and empty states.

The predictions frame (:func:`revintel.churn.service.current_predictions`) is kept by the
service per data snapshot and the threshold and tier bounds it applies; one customer's details
are cached with ``st.cache_data`` under :func:`cache_key` (the snapshot and the same setting
values), so a new load, a new scoring run or a changed threshold is seen at once; a database
warehouse (no snapshot) is read on every run.
"""

from __future__ import annotations

import polars as pl
import streamlit as st

from revintel.app import settings as app_settings
from revintel.app.context import AppContext
from revintel.churn import features as F
from revintel.churn import service
from revintel.churn.actions import with_recommended_action
from revintel.core.csv_export import to_csv_bytes
from revintel.core.errors import NoDataError
from revintel.core.vocabulary import RISK_TIERS
from revintel.health.service import snapshot_key
from revintel.ui.components import has_scores, render_empty_state
from revintel.ui.views import PAGES, page_path

TIERS: tuple[str, ...] = RISK_TIERS
TIER_COLOURS = {"High": "#DC2626", "Medium": "#F97316", "Low": "#FACC15", "Safe": "#16A34A"}
"""Red High, orange Medium, yellow Low, green Safe."""
BADGE_COLOURS = {"High": "red", "Medium": "orange", "Low": "yellow", "Safe": "green"}
CUSTOMER_LOOKUP = "customer_lookup.py"
CRM_COLUMNS = (
    "account_id", "account_name", "owner", "churn_risk_score", "risk_tier", "top_risk_factor",
    "recommended_action",
)  # fmt: skip
"""The CSV export ready for CRM import (High-Risk Customers, Churn Segments)."""

CacheKey = tuple[str, tuple[float | str, ...]]


def settings_stamp(ctx: AppContext) -> tuple[float | str, ...]:
    """The churn settings a page's figures depend on (threshold, tiers): part of every cache
    key."""
    cfg = app_settings.load(ctx.settings, app_settings.CHURN)
    return (cfg.threshold, *cfg.tiers.stamp())


def cache_key(ctx: AppContext) -> CacheKey | None:
    """(snapshot, settings values); None when the data can change (no cache)."""
    snapshot = snapshot_key(ctx)
    if snapshot is None:
        return None
    return (f"{ctx.settings.home}::{snapshot}", settings_stamp(ctx))


def predictions(ctx: AppContext) -> pl.DataFrame:
    """The latest prediction per account (raises :class:`NoDataError` when there are none).

    The service keeps it in memory per snapshot and settings values, shared by every session;
    ``st.cache_data`` would copy the frame (pickle) on every rerun instead.
    """
    return service.current_predictions(ctx)


def has_page(script: str) -> bool:
    return any(spec.script == script for spec in PAGES)


def render_no_predictions(message: str | None = None) -> None:
    """No predictions yet: how to train and score a model, or import your own scores."""
    with st.container(border=True):
        st.subheader(":material/model_training: No churn predictions yet", anchor=False)
        if message:
            st.caption(message)
        st.markdown(
            "Train revintel's churn model on the loaded data and score every customer, or load "
            "a predictions table you already have (columns `account_id`, `churn_risk_score`, "
            "`risk_tier`, `prediction`)."
        )
        st.code(
            "revintel churn train --horizon 1   # train and promote the 1-month model\n"
            "revintel churn train --horizon 3   # optional: the 3-month model\n"
            "revintel churn score               # score every customer into `predictions`\n"
            "revintel load predictions.csv      # or import your own predictions",
            language="bash",
        )
        links = st.container(horizontal=True)
        if has_page("model_training.py"):
            links.page_link(
                page_path("model_training.py"),
                label="Train a model on the Model Training page",
                icon=":material/model_training:",
            )
        links.page_link(
            page_path("data.py"), label="Load files on the Data page", icon=":material/upload:"
        )


def page_predictions(ctx: AppContext, title: str, caption: str) -> pl.DataFrame | None:
    """A churn page's heading, then its predictions: None after drawing the empty state (no
    data loaded, or no predictions yet)."""
    st.title(title, anchor=False)
    st.caption(caption)
    if not has_scores(ctx):
        render_empty_state(ctx)
        return None
    return load_or_explain(ctx)


def load_or_explain(ctx: AppContext) -> pl.DataFrame | None:
    """The predictions, or None after drawing the empty state."""
    try:
        frame = predictions(ctx)
    except NoDataError as exc:
        render_no_predictions(str(exc))
        return None
    if frame.is_empty():
        render_no_predictions()
        return None
    return frame


def imported_only(frame: pl.DataFrame) -> bool:
    """Whether no prediction came from a revintel model (all imported: no ``model_version``)."""
    return frame["model_version"].null_count() == frame.height


TIER_ICONS = {
    "High": ":material/error:",
    "Medium": ":material/warning:",
    "Low": ":material/info:",
    "Safe": ":material/check_circle:",
}
"""A warning only where there is a risk to act on; a check mark for Safe."""


def tier_badge(tier: str | None) -> None:
    if tier is None:
        st.badge("Not tiered", color="gray")
    else:
        st.badge(
            service.TIER_LABELS.get(tier, tier),
            color=BADGE_COLOURS.get(tier, "gray"),  # type: ignore[arg-type]
            icon=TIER_ICONS.get(tier),
        )


def verdict_badges(verdict: service.RiskVerdict) -> None:
    """The tier and the retention-list decision of one customer, side by side, from one
    :func:`revintel.churn.service.risk_verdict` (same settings, so they never contradict)."""
    badges = st.container(horizontal=True)
    with badges:
        tier_badge(verdict.tier)
        if verdict.flagged:
            st.badge(verdict.decision_label, color="red", icon=":material/person_remove:")
        else:
            st.badge(verdict.decision_label, color="green", icon=":material/person_check:")
    st.caption(verdict.explanation)


def open_customer(account_id: str) -> None:
    """Go to Customer Lookup for ``account_id`` (deep link ``?account=ID``)."""
    st.session_state["churn_selected_account"] = account_id
    st.switch_page(page_path(CUSTOMER_LOOKUP), query_params={"account": account_id})


def feature_label(name: str | None) -> str | None:
    if name is None:
        return None
    info = F.FEATURES.get(name)
    return info.label if info else name


def crm_csv(frame: pl.DataFrame) -> bytes:
    """The rows as a CSV ready for CRM import: id, name, owner, score, tier, factor, action."""
    out = with_recommended_action(frame).with_columns(
        top_risk_factor=pl.col("top_factor_label"),
        churn_risk_score=pl.col("churn_risk_score").round(4),
    )
    return to_csv_bytes(out.select(CRM_COLUMNS))  # formula-like text escaped for spreadsheets


def scored_caption(info: service.ChurnOverview) -> str:
    """ "Scored 2025-06-30 by churn-1m-v1" from :func:`revintel.churn.service.overview`
    ("Imported predictions, undated" when the scores carry no date)."""
    versions = info.model_versions or []
    by = f" by {', '.join(versions)}" if versions else " (imported predictions)"
    if info.scored_at is None:
        scored = "Undated scores" + by if versions else "Imported predictions, undated"
    else:
        scored = f"Scored {info.scored_at}{by}"
    return f"{scored} · threshold {info.threshold:.2f}"
