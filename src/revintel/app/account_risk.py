"""Account churn risk for revenue intelligence, and the revenue API's health check.

Churn risk is not a second churn engine: it reads the EXISTING churn model's latest prediction and
explanation (:func:`revintel.churn.service.customer`) and the account's health score
(:func:`revintel.health.service.account_detail`), and puts them side by side
(``docs/pipeline.md``, Account churn risk). Either may be missing (no model trained, no health
tables): the answer says which, and why.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from revintel.core.errors import NoDataError, NotFoundError, RevintelError
from revintel.core.text import check_text

if TYPE_CHECKING:
    from revintel.core.runtime import Runtime
    from revintel.pipeline.service.expansion import ExpansionReport

RISK_LEVELS = {"High": "high", "Medium": "medium", "Low": "low", "Safe": "low"}
"""The churn model's tier → the risk level (high / medium / low)."""
HEALTH_LEVELS = {"Critical": "high", "At Risk": "medium", "Healthy": "low"}
"""The health tier → the risk level, when no churn model has scored the account."""


@dataclass(frozen=True)
class AccountChurnRisk:
    """One account's churn risk from the churn model, beside its health score."""

    account_id: str
    account_name: str | None
    risk_level: str | None
    """high / medium / low: the churn model's tier, else the health tier; None with neither."""
    risk_source: str | None
    """``churn model`` or ``health score``: where ``risk_level`` comes from."""
    churn_probability: float | None
    churn_risk_tier: str | None
    model_version: str | None
    scored_at: str | None
    horizon_months: int | None
    health_score: float | None
    health_tier: str | None
    health_month: str | None
    playbook: str | None
    risk_factors: list[str]
    """The churn model's factors that raise risk (its sentences), then health's reason."""
    recommendations: list[str]
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def churn_risk(rt: Runtime, account_id: str) -> AccountChurnRisk:
    """The account's churn probability, tier and factors from the current churn model, with its
    health score, tier and playbook; :class:`NotFoundError` when neither knows the account."""
    from revintel.churn import service as churn
    from revintel.health import service as health

    check_text("account_id", account_id)
    if not account_id.strip():
        raise NotFoundError("account_id: expected an account id, got an empty text")
    notes: list[str] = []
    risk = None
    try:
        risk = churn.customer(rt, account_id, top=5)
    except (NotFoundError, NoDataError) as exc:
        notes.append(f"Churn model: {exc}")
    detail = None
    try:
        detail = health.account_detail(rt, account_id)
    except (NotFoundError, NoDataError) as exc:
        notes.append(f"Health score: {exc}")
    except RevintelError as exc:  # no health data at all (coverage of an empty warehouse)
        notes.append(f"Health score: {exc}")
    if risk is None and detail is None:
        raise NotFoundError(
            f"account_id {account_id!r}: neither the churn model nor the health score knows "
            f"this account ({' '.join(notes)})"
        )
    factors: list[str] = []
    recommendations: list[str] = []
    if risk is not None:
        factors += [
            str(f["sentence"])
            for f in risk.explanation.factors
            if f.get("direction") == "raises risk"
        ]
        recommendations += risk.recommended_actions
    account = detail.account if detail is not None else None
    if account is not None and account.reason:
        factors.append(f"Health: {account.reason}")
    if detail is not None:
        recommendations += [a for a in detail.actions if a not in recommendations]
    if risk is not None:
        level, source = RISK_LEVELS.get(risk.risk_tier), "churn model"
    elif account is not None and account.tier is not None:
        level, source = HEALTH_LEVELS.get(account.tier), "health score"
    else:
        level, source = None, None
    return AccountChurnRisk(
        account_id=account_id,
        account_name=(risk.account_name if risk else None)
        or (account.account_name if account else None),
        risk_level=level,
        risk_source=source,
        churn_probability=risk.churn_risk_score if risk else None,
        churn_risk_tier=risk.risk_tier if risk else None,
        model_version=risk.model_version if risk else None,
        scored_at=risk.scored_at if risk else None,
        horizon_months=risk.horizon_months if risk else None,
        health_score=account.health_score if account else None,
        health_tier=account.tier if account else None,
        health_month=account.scored_month if account else None,
        playbook=account.playbook if account else None,
        risk_factors=factors,
        recommendations=recommendations,
        notes=notes,
    )


# -- the revenue API's health check ---------------------------------------------------------------
REVENUE_TABLES: dict[str, str] = {
    "deals": "pipeline, forecasts, deal health, competitors",
    "deal_stage_history": "stage probabilities, point-in-time pipeline, forecast backtest",
    "deal_activities": "activity factors of deal health and close probability",
    "subscriptions": "expansion score and its backtest (MRR, plans)",
    "usage": "expansion score (seats, usage, adoption), health score",
    "nps_responses": "expansion and health (NPS)",
    "customers": "every customer analytic",
}


@dataclass(frozen=True)
class HealthCheck:
    """Whether the revenue features can answer: ``healthy`` when deals and the account tables are
    loaded, ``degraded`` (with what is missing and what that leaves out) otherwise."""

    status: str
    tables: dict[str, str]
    """Each table → ``available`` or ``missing``."""
    missing: dict[str, str]
    """Each missing table → what it leaves out."""
    churn_model: str
    timestamp: str

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


def health_check(rt: Runtime) -> HealthCheck:
    """The tables the revenue features read, loaded or not, and whether a churn model is in use."""
    from revintel.churn import service as churn

    wh = rt.warehouse
    tables = {t: "available" if wh.has_table(t) else "missing" for t in REVENUE_TABLES}
    missing = {t: REVENUE_TABLES[t] for t, s in tables.items() if s == "missing"}
    try:
        churn.resolve_model(rt, None)
        model = "available"
    except RevintelError:
        model = "not trained"
    return HealthCheck(
        status="healthy" if not missing else "degraded",
        tables=tables,
        missing=missing,
        churn_model=model,
        timestamp=datetime.now(UTC).isoformat(timespec="seconds"),
    )


# -- expansion beside churn risk (the Expansion page) ---------------------------------------------
@dataclass(frozen=True)
class ExpansionBesideRisk:
    """The expansion ranking with each listed account's current churn prediction, so an account
    worth expanding but likely to leave is seen as such."""

    report: ExpansionReport
    churn_risk: dict[str, tuple[float, str]]
    """Account → (churn probability, risk tier) from the current churn predictions."""
    churn_note: str | None
    """Why there is no churn risk (no predictions), else None."""


def expansion_beside_churn_risk(
    rt: Runtime,
    *,
    segment: str | None = None,
    owner: str | None = None,
    month: str | None = None,
    limit: int | None = None,
) -> ExpansionBesideRisk:
    """:func:`revintel.pipeline.service.expansion.expansion_scores` and, for the accounts it
    lists, the churn model's latest probability and tier (no second churn engine)."""
    import polars as pl

    from revintel.churn import service as churn
    from revintel.pipeline.service.expansion import expansion_scores

    report = expansion_scores(rt, segment=segment, owner=owner, month=month, limit=limit)
    listed = [a.account_id for a in report.accounts]
    risk: dict[str, tuple[float, str]] = {}
    note = None
    try:
        preds = churn.current_predictions(rt).filter(pl.col("account_id").is_in(listed))
    except RevintelError as exc:
        note = str(exc)
    else:
        for row in preds.select("account_id", "churn_risk_score", "risk_tier").iter_rows():
            risk[row[0]] = (float(row[1]), str(row[2]))
    return ExpansionBesideRisk(report=report, churn_risk=risk, churn_note=note)
