"""The latest prediction per account (revintel's own or brought), its filters and summaries."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from typing import Any

import polars as pl

from revintel.churn import features as F
from revintel.churn.actions import DRIVER_SEGMENTS, TOP_FACTORS, driver_segment, recommended_action
from revintel.churn.config import ChurnConfig, TierCutoffs, load_config
from revintel.churn.ports import providers
from revintel.churn.service.common import (
    scores_path,
    tier_cutoffs,
    tiers_of,
)
from revintel.core.errors import NoDataError
from revintel.core.runtime import Runtime
from revintel.core.text import check_text, check_texts
from revintel.core.vocabulary import RISK_TIERS, RiskTier
from revintel.warehouse.cache import SnapshotCache


@dataclass(frozen=True, slots=True)
class RiskVerdict:
    """What one churn probability means under the current settings: its tier (the tier bounds'
    :meth:`~revintel.churn.config.RiskTiers.tier_of`) and whether the applied threshold puts the
    customer on the retention list. Both come from the same settings and the same tier cut-offs
    as the tables, so a page never shows a tier and a decision computed from different ones."""

    probability: float
    tier: RiskTier
    flagged: bool
    """At or above the applied threshold (``prediction`` = 1)."""
    threshold: float
    tier_label: str
    """``High risk``, ``Medium risk``, ``Low risk`` or ``Safe``."""
    decision_label: str
    """``On the retention list`` or ``Not on the retention list``."""
    explanation: str


TIER_LABELS: dict[str, str] = {
    "High": "High risk",
    "Medium": "Medium risk",
    "Low": "Low risk",
    "Safe": "Safe",
}
"""How a tier reads on its own (``Safe``, not "Safe risk")."""


def risk_verdict(
    probability: float, cfg: ChurnConfig, cut: TierCutoffs | None = None
) -> RiskVerdict:
    """The tier and the decision of one probability, from ``cfg``'s threshold and the tier
    cut-offs ``cut`` in force (those of the customers scored, as every table shows them; the
    fixed cut-offs when None)."""
    bounds = cut or cfg.tiers.fixed_cutoffs()
    if probability > bounds.high:
        tier: RiskTier = "High"
    elif probability >= bounds.medium:
        tier = "Medium"
    elif probability >= bounds.low:
        tier = "Low"
    else:
        tier = "Safe"
    flagged = probability >= cfg.threshold
    ranges = {
        "High": f"above {bounds.high:.1%}",
        "Medium": f"{bounds.medium:.1%}–{bounds.high:.1%}",
        "Low": f"{bounds.low:.1%}–{bounds.medium:.1%}",
        "Safe": f"below {bounds.low:.1%}",
    }
    side = "at or above" if flagged else "below"
    return RiskVerdict(
        probability=probability,
        tier=tier,
        flagged=flagged,
        threshold=cfg.threshold,
        tier_label=TIER_LABELS[tier],
        decision_label="On the retention list" if flagged else "Not on the retention list",
        explanation=(
            f"{probability:.1%} is {side} the action threshold {cfg.threshold:.1%}; "
            f"tier {tier}: {ranges[tier]}."
        ),
    )


RAW_PREDICTIONS: SnapshotCache[pl.DataFrame] = SnapshotCache("churn.raw_predictions", size=2)
"""The whole ``predictions`` table of a data snapshot."""
CURRENT_PREDICTIONS: SnapshotCache[pl.DataFrame] = SnapshotCache(
    "churn.current_predictions", size=4
)
"""The latest prediction per account, keyed by the home (whose scores files it joins) and the
threshold and tier bounds it applies."""


def _attributes(ctx: Runtime) -> pl.DataFrame:
    """Per account: name, industry, segment, owner (customers, and accounts when loaded)."""
    return providers().account_attributes(ctx.warehouse)


def raw_predictions(ctx: Runtime) -> pl.DataFrame:
    """The whole ``predictions`` table (computed once per data snapshot); NoDataError if empty."""
    return RAW_PREDICTIONS.get(ctx.warehouse, (), lambda: _read_predictions(ctx))


def _read_predictions(ctx: Runtime) -> pl.DataFrame:
    wh = ctx.warehouse
    raw = None
    if wh.has_table("predictions"):
        raw = pl.from_arrow(wh.table("predictions").to_pyarrow())
    if not isinstance(raw, pl.DataFrame) or raw.height == 0:
        raise NoDataError(
            "No churn predictions yet: train and score a model (`revintel churn train` then "
            "`revintel churn score`) or load your own predictions CSV (account_id, "
            "churn_risk_score, risk_tier, prediction)."
        )
    for name, dtype in (("scored_at", pl.Date), ("model_version", pl.String)):
        if name not in raw.columns:
            raw = raw.with_columns(pl.lit(None, dtype).alias(name))
    return raw


def current_predictions(ctx: Runtime) -> pl.DataFrame:
    """The latest prediction per account, tiered and thresholded with the current settings.

    Columns: ``account_id``, ``account_name``, ``segment``, ``industry``, ``owner``,
    ``churn_risk_score``, ``risk_tier``, ``prediction``, ``scored_at``, ``model_version``, and,
    where revintel's own model scored it, ``plan_type``, ``mrr``, ``top_risk_factor``,
    ``top_factor_label``, ``top_factor_contribution``, ``driver_segment``; then
    ``recommended_action`` for every account (:func:`revintel.churn.actions.recommended_action`).
    """
    cfg = load_config(ctx.settings)
    key = (str(ctx.settings.home), cfg.threshold, *cfg.tiers.stamp())
    return CURRENT_PREDICTIONS.get(ctx.warehouse, key, lambda: _latest(ctx, cfg))


def _latest(ctx: Runtime, cfg: ChurnConfig) -> pl.DataFrame:
    raw = raw_predictions(ctx)
    # The latest scoring run: rows of the latest scored date (all rows when undated, as
    # imported predictions may be); an account scored before but not then has churned since.
    newest = raw["scored_at"].max()
    if newest is not None:
        raw = raw.filter(pl.col("scored_at") == newest)
    latest = raw.sort(["account_id", "scored_at"]).group_by("account_id").last()
    latest = latest.with_columns(
        risk_tier=tiers_of(latest["churn_risk_score"], cfg),
        prediction=(pl.col("churn_risk_score") >= cfg.threshold).cast(pl.Int64),
    )
    latest = latest.join(_attributes(ctx), on="account_id", how="left")
    versions = [v for v in latest["model_version"].drop_nulls().unique().to_list()]
    factors = [
        f"top_{kind}_{i}" for i in range(1, TOP_FACTORS + 1) for kind in ("factor", "contribution")
    ]
    extra = []
    for version in versions:
        path = scores_path(ctx, version)
        if path.exists():
            part = pl.read_parquet(path, columns=["account_id", "plan_type", "mrr", *factors])
            extra.append(part.with_columns(model_version=pl.lit(version)))
    if extra:
        joined = pl.concat(extra, how="vertical_relaxed")
        latest = latest.join(joined, on=["account_id", "model_version"], how="left")
    for name, dtype in (
        ("plan_type", pl.String),
        ("mrr", pl.Float64),
        *((f, pl.String if f.startswith("top_factor") else pl.Float64) for f in factors),
    ):
        if name not in latest.columns:
            latest = latest.with_columns(pl.lit(None, dtype).alias(name))
    latest = latest.with_columns(driver_segment()).rename(
        {"top_factor_1": "top_risk_factor", "top_contribution_1": "top_factor_contribution"}
    )
    latest = latest.drop([f for f in factors if f in latest.columns])
    latest = latest.with_columns(
        top_factor_label=pl.col("top_risk_factor").replace_strict(
            {k: v.label for k, v in F.FEATURES.items()}, default=pl.col("top_risk_factor")
        ),
    )
    latest = latest.with_columns(recommended_action())
    return latest.sort("churn_risk_score", descending=True)


def filter_predictions(
    frame: pl.DataFrame,
    *,
    tiers: Sequence[str] | None = None,
    min_score: float | None = None,
    max_score: float | None = None,
    search: str | None = None,
    segment: Sequence[str] | None = None,
    plan: Sequence[str] | None = None,
    owner: Sequence[str] | None = None,
    driver_segment: str | None = None,
) -> pl.DataFrame:
    """The High-Risk Customers filters (tier, score range, search, segment, plan, owner).

    A text value with a control character (NUL, newline...) is refused with
    :class:`InvalidText` naming the option."""
    check_text("search", search)
    check_text("driver_segment", driver_segment)
    for name, given in (("segment", segment), ("plan", plan), ("owner", owner)):
        check_texts(name, list(given or ()))
    out = frame
    if tiers:
        out = out.filter(pl.col("risk_tier").is_in(list(tiers)))
    if min_score is not None:
        out = out.filter(pl.col("churn_risk_score") >= min_score)
    if max_score is not None:
        out = out.filter(pl.col("churn_risk_score") <= max_score)
    if search:
        needle = search.strip().lower()
        out = out.filter(
            pl.col("account_id").str.to_lowercase().str.contains(needle, literal=True)
            | pl.col("account_name")
            .fill_null("")
            .str.to_lowercase()
            .str.contains(needle, literal=True)
        )
    for column, values in (("segment", segment), ("plan_type", plan), ("owner", owner)):
        if values:
            out = out.filter(pl.col(column).is_in(list(values)))
    if driver_segment:
        out = out.filter(pl.col("driver_segment") == driver_segment)
    return out


@dataclass(frozen=True, slots=True)
class ChurnOverview:
    """Churn Overview: the six KPI cards and the tier distribution."""

    customers: int
    tiers: dict[str, int]
    """Customers per tier: High, Medium, Low, Safe."""
    tier_cutoffs: dict[str, float]
    """The lowest probability of High (exclusive), Medium and Low (inclusive)."""
    tier_rule: str
    """How the tiers are cut, in words (fixed cut-offs or multiples of the average risk)."""
    average_risk: float | None
    predicted_churners: int
    threshold: float
    expected_churners: float
    """The sum of the probabilities."""
    expected_mrr_lost: float | None
    """Σ MRR × probability; None when no prediction has an MRR (imported predictions)."""
    scored_at: str | None
    model_versions: list[str]

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass(frozen=True, slots=True)
class DriverSegmentSummary:
    """The customers at risk of one driver segment and what to do about them."""

    segment: str
    group: str
    customers: int
    average_risk: float | None
    mrr: float
    recommended_action: str

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


def _latest_date(frame: pl.DataFrame) -> str | None:
    """The latest ``scored_at`` as YYYY-MM-DD; None when nothing is dated (imported scores)."""
    latest = frame["scored_at"].max() if frame.height else None
    return None if latest is None else str(latest)


def overview(ctx: Runtime, frame: pl.DataFrame | None = None) -> ChurnOverview:
    """Churn Overview: the six KPI cards and the tier distribution."""
    frame = current_predictions(ctx) if frame is None else frame
    cfg = load_config(ctx.settings)
    counts = {t: 0 for t in RISK_TIERS}
    for row in frame.group_by("risk_tier").len().iter_rows():
        counts[row[0]] = row[1]
    mrr_at_risk = None
    if frame["mrr"].null_count() < frame.height:
        mrr_at_risk = float((frame["mrr"].fill_null(0) * frame["churn_risk_score"]).sum())
    cut = tier_cutoffs(cfg, frame["churn_risk_score"])
    return ChurnOverview(
        customers=frame.height,
        tiers=counts,
        tier_cutoffs=cut.as_dict(),
        tier_rule=cfg.tiers.describe(cut),
        average_risk=float(frame["churn_risk_score"].mean()) if frame.height else None,  # type: ignore[arg-type]
        predicted_churners=int(frame["prediction"].sum()),
        threshold=cfg.threshold,
        expected_churners=float(frame["churn_risk_score"].sum()),
        expected_mrr_lost=mrr_at_risk,
        scored_at=_latest_date(frame),
        model_versions=sorted(frame["model_version"].drop_nulls().unique().to_list()),
    )


def driver_segments(ctx: Runtime, frame: pl.DataFrame | None = None) -> list[DriverSegmentSummary]:
    """Payment issues, support issues, declining engagement, revenue decline, renewal due:
    customers at risk (tier above Safe) by :func:`revintel.churn.actions.driver_segment` (the
    first reason among their top risk-raising factors, else contract timing)."""
    frame = current_predictions(ctx) if frame is None else frame
    at_risk = frame.filter(pl.col("risk_tier") != "Safe")
    out = []
    for group, (name, action) in DRIVER_SEGMENTS.items():
        rows = at_risk.filter(pl.col("driver_segment") == name)
        out.append(
            DriverSegmentSummary(
                segment=name,
                group=group,
                customers=rows.height,
                average_risk=float(rows["churn_risk_score"].mean()) if rows.height else None,  # type: ignore[arg-type]
                mrr=float(rows["mrr"].fill_null(0).sum()) if rows.height else 0.0,
                recommended_action=action,
            )
        )
    return out


def current_tier_cutoffs(ctx: Runtime, frame: pl.DataFrame | None = None) -> TierCutoffs:
    """The tier cut-offs the latest predictions are tiered with (``frame``: those predictions,
    when the caller has them)."""
    frame = current_predictions(ctx) if frame is None else frame
    return tier_cutoffs(load_config(ctx.settings), frame["churn_risk_score"])


def scored_risks(ctx: Runtime) -> pl.Series | None:
    """The scores of the latest predictions (the population a customer scored alone is tiered
    among); None when there are none."""
    try:
        return current_predictions(ctx)["churn_risk_score"]
    except NoDataError:
        return None


def search_accounts(frame: pl.DataFrame, text: str, limit: int = 10) -> list[str]:
    """Suggestions for Customer Lookup: ids or names containing ``text``, riskiest first."""
    return filter_predictions(frame, search=text).head(limit)["account_id"].to_list()
