"""Measured impact of campaigns: churn and risk change of treated versus holdout, uplift with a 95%
interval and a p-value, saves, cost and ROI; intervention impact across campaigns; per-action
success rates among similar past customers (docs/retention.md, Measured impact).

Two kinds of campaign are measured the same way:

* **app** campaigns, created by the campaign wizard (``store/campaigns.py``), id a whole number;
* **imported** past campaigns, from the warehouse tables ``campaigns`` / ``campaign_members``
  (a CRM's, or the demo company's planted ones), id as written there. They are listed beside the
  app's with source ``imported`` and are read-only (they change only by loading the tables again).

**Outcome.** A member *churned* when its MRR is 0 at the end of some month of its outcome window
(the logo-churn rule of ``metric-definitions.md``, MRR from ``revintel.metrics.mrr.customer_mrr``
with its delinquency rule, as the churn model's labels). The window starts with the month of the
member's enrolment (``enrolled_on``; the campaign's start otherwise) and lasts ``outcome_months``
months (the imported campaign's own, else the ``campaigns.outcome_months`` setting). Only members
with MRR > 0 at the end of the month before their window are measured (the others could not
churn); they are counted as ``not_active_at_start``. A campaign whose last window has not ended
by the last complete month of data is **in progress**: it reports the months remaining, no
figures.

**Statistics** (:mod:`revintel.retention.uplift`): uplift = holdout churn − treated churn with
Newcombe's interval, the z test (Fisher's exact test when an expected count is below 5), the
Cochran–Mantel–Haenszel risk difference over risk tiers, Welch's interval of the risk change,
saves = uplift × treated, ROI = saves × the treated members' average CLV at the start − cost.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import polars as pl

from revintel.core.calendar import (
    date_month_number,
    month_label,
    month_last_day,
)
from revintel.core.errors import InvalidOption, NoDataError, NotFoundError
from revintel.core.vocabulary import RISK_TIERS
from revintel.retention import uplift as U
from revintel.retention.config import load_config

if TYPE_CHECKING:
    from revintel.core.runtime import Runtime
    from revintel.warehouse import Warehouse

Source = Literal["app", "imported"]
Status = Literal["finished", "in progress", "not started", "cancelled"]
CONFIDENCE = 0.95
SIMILAR_MIN = 20  # fewer similar treated customers: the segment condition is dropped

METHOD = (
    "Churned = MRR 0 at the end of a month of the member's outcome window. Uplift = holdout churn "
    "− treated churn, 95% interval by Newcombe's hybrid score method; p-value two-sided (z test, "
    "Fisher's exact test when an expected count is below 5). Saves = uplift × treated customers; "
    "ROI = saves × average CLV − cost."
)


@dataclass(frozen=True)
class TierCounts:
    """Treated and holdout members of one risk tier and how many churned."""

    risk_tier: str
    treated: int
    treated_churned: int
    holdout: int
    holdout_churned: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class PlantedEffect:
    """The demo company's planted effect of an imported campaign (``truth/campaign_effects``)."""

    hazard_reduction: float
    true_churn_untreated: float
    true_churn_treated: float
    true_uplift: float
    true_uplift_treated_members: float
    inside_interval: bool | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class CampaignResults:
    """One campaign's measured impact (figures are None while it is in progress)."""

    campaign_id: str
    source: Source
    name: str
    template: str
    status: Status
    start_date: date
    outcome_end: date  # last day of the last member's outcome window
    outcome_months: int
    last_data_month: str
    months_remaining: int
    members: int
    not_active_at_start: int
    treated: int
    holdout: int
    churn: U.ChurnComparison | None
    stratified: U.StratifiedDifference | None
    tiers: list[TierCounts]
    risk_before_treated: float | None
    risk_before_holdout: float | None
    risk_after_treated: float | None
    risk_after_holdout: float | None
    risk_change: U.MeanDifference | None
    saves: U.Value | None
    cost_per_customer: float | None
    cost: float | None
    average_clv: float | None
    roi: U.Value | None
    planted: PlantedEffect | None
    method: str = METHOD
    notes: list[str] = field(default_factory=list)

    @property
    def finished(self) -> bool:
        return self.churn is not None

    def to_dict(self) -> dict[str, Any]:
        out = {
            k: getattr(self, k)
            for k in self.__dataclass_fields__
            if k not in {"churn", "stratified", "tiers", "risk_change", "saves", "roi", "planted"}
        }
        out["start_date"] = self.start_date.isoformat()
        out["outcome_end"] = self.outcome_end.isoformat()
        for name in ("churn", "stratified", "risk_change", "saves", "roi", "planted"):
            value = getattr(self, name)
            out[name] = None if value is None else value.to_dict()
        out["tiers"] = [t.to_dict() for t in self.tiers]
        return out

    def row(self) -> dict[str, Any]:
        """The flat row of the cross-campaign table."""
        c, s, r = self.churn, self.saves, self.roi
        return {
            "campaign_id": self.campaign_id,
            "source": self.source,
            "name": self.name,
            "template": self.template,
            "status": self.status,
            "start_date": self.start_date.isoformat(),
            "months_remaining": self.months_remaining,
            "customers": self.members - self.not_active_at_start,
            "treated": self.treated,
            "holdout": self.holdout,
            "risk_before": _mean2(self.risk_before_treated, self.risk_before_holdout),
            "risk_after_treated": self.risk_after_treated,
            "risk_after_holdout": self.risk_after_holdout,
            "treated_churn": c.treated_rate if c else None,
            "holdout_churn": c.holdout_rate if c else None,
            "uplift": c.uplift if c else None,
            "uplift_low": c.uplift_low if c else None,
            "uplift_high": c.uplift_high if c else None,
            "p_value": c.p_value if c else None,
            "test": c.test if c else None,
            "saves": s.value if s else None,
            "saves_low": s.low if s else None,
            "saves_high": s.high if s else None,
            "cost": self.cost,
            "roi": r.value if r else None,
            "roi_low": r.low if r else None,
            "roi_high": r.high if r else None,
            "true_uplift": self.planted.true_uplift if self.planted else None,
        }


@dataclass(frozen=True)
class InterventionImpact:
    """Every campaign side by side (finished ones with figures), brief 004's flow 5."""

    campaigns: list[CampaignResults]
    last_data_month: str | None
    truth_available: bool
    method: str = METHOD

    @property
    def finished(self) -> list[CampaignResults]:
        return [c for c in self.campaigns if c.finished]

    def rows(self) -> list[dict[str, Any]]:
        return [c.row() for c in self.campaigns]

    def to_dict(self) -> dict[str, Any]:
        return {
            "last_data_month": self.last_data_month,
            "truth_available": self.truth_available,
            "method": self.method,
            "campaigns": self.rows(),
        }


# -- members ---------------------------------------------------------------------------------------
@dataclass
class _Campaign:
    campaign_id: str
    source: Source
    name: str
    template: str
    status: str
    start_date: date
    outcome_months: int
    cost_per_customer: float | None
    members: pl.DataFrame  # customer_id, group, risk_tier, risk_at_start, window_start (month no.)


_MEMBER_SCHEMA = {
    "customer_id": pl.String,
    "group": pl.String,
    "risk_tier": pl.String,
    "risk_at_start": pl.Float64,
    "window_start": pl.Int64,
}


def _outcome_months(rt: Runtime, criteria: dict[str, Any] | None = None) -> int:
    wanted = (criteria or {}).get("outcome_months")
    if isinstance(wanted, int) and 1 <= wanted <= 36:
        return wanted
    return load_config(rt.settings).campaigns.outcome_months


def _app_campaigns(rt: Runtime, campaign_id: int | None = None) -> list[_Campaign]:
    from sqlalchemy import select

    from revintel.store.campaigns import Campaign, CampaignMember

    out: list[_Campaign] = []
    with rt.store.session() as s:
        query = select(Campaign).order_by(Campaign.start_date, Campaign.id)
        if campaign_id is not None:
            query = query.where(Campaign.id == campaign_id)
        for c in s.scalars(query):
            rows = s.execute(
                select(
                    CampaignMember.customer_id,
                    CampaignMember.group,
                    CampaignMember.risk_tier,
                    CampaignMember.risk_at_start,
                ).where(CampaignMember.campaign_id == c.id)
            ).all()
            start = date_month_number(c.start_date)
            members = pl.DataFrame(
                {
                    "customer_id": [r[0] for r in rows],
                    "group": [r[1] for r in rows],
                    "risk_tier": [r[2] for r in rows],
                    "risk_at_start": [r[3] for r in rows],
                    "window_start": [start] * len(rows),
                },
                schema=_MEMBER_SCHEMA,
            )
            out.append(
                _Campaign(
                    campaign_id=str(c.id),
                    source="app",
                    name=c.name,
                    template=c.template,
                    status=c.status,
                    start_date=c.start_date,
                    outcome_months=_outcome_months(rt, c.success_criteria),
                    cost_per_customer=c.cost_per_customer,
                    members=members,
                )
            )
    return out


def _fetch(expr: Any) -> pl.DataFrame:
    return pl.from_arrow(expr.to_pyarrow())  # type: ignore[return-value]


def _imported_campaigns(rt: Runtime, campaign_id: str | None = None) -> list[_Campaign]:
    wh = rt.warehouse
    if not (wh.has_table("campaigns") and wh.has_table("campaign_members")):
        return []
    table = wh.table("campaigns")
    if campaign_id is not None:
        table = table.filter(table.campaign_id == campaign_id)
    campaigns = _fetch(table).sort("start_date", "campaign_id")
    if campaigns.height == 0:
        return []
    members = wh.table("campaign_members")
    members = members.filter(members.campaign_id.isin(campaigns["campaign_id"].to_list()))
    frame = _fetch(members)
    default = load_config(rt.settings).campaigns.outcome_months
    out: list[_Campaign] = []
    for c in campaigns.iter_rows(named=True):
        start = date_month_number(c["start_date"])
        months = c.get("outcome_months")
        if months is None:
            months = (
                max(date_month_number(c["end_date"]) - start + 1, 1) if c["end_date"] else default
            )
        rows = frame.filter(pl.col("campaign_id") == c["campaign_id"])
        enrolled = (
            rows["enrolled_on"]
            if "enrolled_on" in rows.columns
            else pl.Series([None] * rows.height)
        )
        window = [start if d is None else date_month_number(d) for d in enrolled.to_list()]
        rows = rows.with_columns(window_start=pl.Series(window, dtype=pl.Int64))
        for name, dtype in _MEMBER_SCHEMA.items():
            if name not in rows.columns:
                rows = rows.with_columns(pl.lit(None, dtype).alias(name))
        out.append(
            _Campaign(
                campaign_id=str(c["campaign_id"]),
                source="imported",
                name=c["name"],
                template=c["template"],
                status="finished",
                start_date=c["start_date"],
                outcome_months=int(months),
                cost_per_customer=c.get("cost_per_customer"),
                members=rows.select([pl.col(n).cast(t) for n, t in _MEMBER_SCHEMA.items()]),
            )
        )
    return out


# -- outcomes --------------------------------------------------------------------------------------
def _last_data_month(wh: Warehouse) -> int:
    from revintel.churn.features import data_months

    return data_months(wh)[1]


def _presence(wh: Warehouse, customers: list[str], lo: int, hi: int) -> pl.DataFrame:
    """``customer_id``, ``month_no`` of every member-month with MRR > 0 at the month's end."""
    from revintel.metrics.mrr import customer_mrr

    subs = wh.table("subscriptions")
    subs = subs.filter(subs.customer_id.isin(customers))
    payments = wh.table("payments") if wh.has_table("payments") else None
    if payments is not None:
        payments = payments.filter(payments.customer_id.isin(customers))
    expr = customer_mrr(
        subs, from_month=month_label(lo), to_month=month_label(hi), payments=payments
    )
    frame = _fetch(expr.select("customer_id", "month"))
    return frame.select(
        "customer_id",
        month_no=pl.col("month").str.slice(0, 4).cast(pl.Int64) * 12
        + pl.col("month").str.slice(5, 2).cast(pl.Int64)
        - 1,
    )


def _outcomes(wh: Warehouse, members: pl.DataFrame, months: int) -> pl.DataFrame:
    """Members with ``active_at_start`` and ``churned`` (MRR 0 at a month end of the window)."""
    if members.height == 0:
        return members.with_columns(active_at_start=pl.lit(False), churned=pl.lit(False))
    lo = int(members["window_start"].min()) - 1
    hi = int(members["window_start"].max()) + months - 1
    present = _presence(wh, members["customer_id"].unique().to_list(), lo, hi)
    keyed = present.select("customer_id", _prev="month_no", here=pl.lit(True))
    out = (
        members.with_columns(_prev=pl.col("window_start") - 1)
        .join(keyed, on=["customer_id", "_prev"], how="left")
        .with_columns(active_at_start=pl.col("here").fill_null(False))
        .drop("here", "_prev")
    )
    # Months of the window with MRR > 0, per member.
    spans = members.select("customer_id", "window_start").unique()
    counts = (
        spans.join(present, on="customer_id", how="inner")
        .filter(
            (pl.col("month_no") >= pl.col("window_start"))
            & (pl.col("month_no") < pl.col("window_start") + months)
        )
        .group_by("customer_id", "window_start")
        .agg(present_months=pl.len())
    )
    out = out.join(counts, on=["customer_id", "window_start"], how="left").with_columns(
        churned=pl.col("present_months").fill_null(0) < months
    )
    return out.drop("present_months")


def _latest_risk_after(wh: Warehouse, customers: list[str], after: date) -> pl.DataFrame | None:
    """The latest churn score of each customer scored on or after ``after`` (None without)."""
    if not wh.has_table("predictions"):
        return None
    t = wh.table("predictions")
    t = t.filter(t.account_id.isin(customers) & (t.scored_at.cast("date") >= after))
    frame = _fetch(t.select("account_id", "churn_risk_score", "scored_at"))
    if frame.height == 0:
        return None
    return (
        frame.sort("scored_at")
        .group_by("account_id")
        .agg(risk_after=pl.col("churn_risk_score").last())
        .rename({"account_id": "customer_id"})
    )


_CLV_CACHE: dict[tuple[str, date], pl.DataFrame] = {}


def _average_clv(rt: Runtime, customers: list[str], as_of: date) -> float | None:
    """Mean CLV of ``customers`` as of ``as_of`` (None when CLV cannot be computed); every
    customer's CLV is kept per Parquet snapshot and date (it cannot change)."""
    from revintel.clv.service import customer_values, snapshot_key
    from revintel.core.errors import RevintelError

    snapshot = snapshot_key(rt)
    values = _CLV_CACHE.get((snapshot, as_of)) if snapshot else None
    if values is None:
        try:
            values = customer_values(rt, as_of=as_of).select("customer_id", "clv")
        except (RevintelError, ValueError):
            return None
        if snapshot:
            if len(_CLV_CACHE) > 64:
                _CLV_CACHE.clear()
            _CLV_CACHE[(snapshot, as_of)] = values
    mine = values.filter(pl.col("customer_id").is_in(customers))["clv"].drop_nulls()
    if mine.len() == 0:
        return None
    value = float(mine.mean())  # type: ignore[arg-type]
    return value if math.isfinite(value) else None


def _truth_dir(rt: Runtime) -> Path:
    return rt.settings.home / "demo" / "truth"


def _planted(rt: Runtime) -> pl.DataFrame | None:
    folder = _truth_dir(rt)
    for name in ("campaign_effects.parquet", "campaign_effects.csv"):
        path = folder / name
        if path.exists():
            return pl.read_parquet(path) if path.suffix == ".parquet" else pl.read_csv(path)
    return None


def _mean2(a: float | None, b: float | None) -> float | None:
    vals = [v for v in (a, b) if v is not None]
    return sum(vals) / len(vals) if vals else None


def _mean(series: pl.Series) -> float | None:
    s = series.drop_nulls()
    return float(s.mean()) if s.len() else None  # type: ignore[arg-type]


def _measure(
    rt: Runtime, c: _Campaign, last: int, truth: pl.DataFrame | None, with_clv: bool = True
) -> CampaignResults:
    members = c.members
    window_end = (
        (int(members["window_start"].max()) if members.height else date_month_number(c.start_date))
        + c.outcome_months
        - 1
    )
    remaining = max(window_end - last, 0)
    outcome_end = month_last_day(window_end)
    status: Status
    if c.status == "cancelled":
        status = "cancelled"
    elif date_month_number(c.start_date) > last:
        status = "not started"
    elif remaining > 0:
        status = "in progress"
    else:
        status = "finished"
    treated_all = members.filter(pl.col("group") == "treated")
    holdout_all = members.filter(pl.col("group") == "holdout")
    base = dict(
        campaign_id=c.campaign_id,
        source=c.source,
        name=c.name,
        template=c.template,
        start_date=c.start_date,
        outcome_end=outcome_end,
        outcome_months=c.outcome_months,
        last_data_month=month_label(last),
        months_remaining=remaining,
        members=members.height,
        cost_per_customer=c.cost_per_customer,
        risk_before_treated=_mean(treated_all["risk_at_start"]),
        risk_before_holdout=_mean(holdout_all["risk_at_start"]),
    )
    empty = dict(
        churn=None, stratified=None, tiers=[], risk_after_treated=None, risk_after_holdout=None,
        risk_change=None, saves=None, cost=None, average_clv=None, roi=None, planted=None,
    )  # fmt: skip
    if status != "finished" or treated_all.height == 0 or holdout_all.height == 0:
        notes = []
        if status == "in progress":
            notes.append(
                f"The outcome window ends {outcome_end.isoformat()}; data reaches "
                f"{month_label(last)}: {remaining} month(s) to go."
            )
        elif status == "finished":
            notes.append("Needs treated and holdout members to compare.")
        return CampaignResults(
            status=status,
            not_active_at_start=0,
            treated=treated_all.height,
            holdout=holdout_all.height,
            notes=notes,
            **base,  # type: ignore[arg-type]
            **empty,  # type: ignore[arg-type]
        )
    wh = rt.warehouse
    measured = _outcomes(wh, members, c.outcome_months)
    active = measured.filter(pl.col("active_at_start"))
    t = active.filter(pl.col("group") == "treated")
    h = active.filter(pl.col("group") == "holdout")
    notes: list[str] = []
    inactive = measured.height - active.height
    if inactive:
        notes.append(
            f"{inactive} member(s) had no MRR at the end of the month before their window and "
            "are not measured."
        )
    if t.height == 0 or h.height == 0:
        return CampaignResults(
            status=status,
            not_active_at_start=inactive,
            treated=t.height,
            holdout=h.height,
            notes=[*notes, "No active treated or holdout member to compare."],
            **base,  # type: ignore[arg-type]
            **empty,  # type: ignore[arg-type]
        )
    churn = U.compare_churn(
        t.height, int(t["churned"].sum()), h.height, int(h["churned"].sum()), CONFIDENCE
    )
    tiers: list[TierCounts] = []
    stratified = None
    if active["risk_tier"].null_count() == 0:
        for tier in RISK_TIERS:
            tt = t.filter(pl.col("risk_tier") == tier)
            hh = h.filter(pl.col("risk_tier") == tier)
            if tt.height or hh.height:
                tiers.append(
                    TierCounts(
                        tier,
                        tt.height,
                        int(tt["churned"].sum()),
                        hh.height,
                        int(hh["churned"].sum()),
                    )
                )
        if len(tiers) > 1:
            stratified = U.stratified_difference(
                [x.holdout for x in tiers],
                [x.holdout_churned for x in tiers],
                [x.treated for x in tiers],
                [x.treated_churned for x in tiers],
                CONFIDENCE,
            )
    # Risk after: the latest churn score from the end of the outcome window on.
    risk_after_t = risk_after_h = None
    change = None
    after = _latest_risk_after(wh, active["customer_id"].to_list(), outcome_end)
    if after is not None:
        joined = active.join(after, on="customer_id", how="left")
        jt = joined.filter(pl.col("group") == "treated")
        jh = joined.filter(pl.col("group") == "holdout")
        risk_after_t, risk_after_h = _mean(jt["risk_after"]), _mean(jh["risk_after"])
        delta = (pl.col("risk_after") - pl.col("risk_at_start")).alias("d")
        change = U.risk_change(
            jt.select(delta)["d"].drop_nulls().to_numpy(),
            jh.select(delta)["d"].drop_nulls().to_numpy(),
            CONFIDENCE,
        )
    saved = U.saves(churn.uplift, churn.uplift_low, churn.uplift_high, t.height)
    cost = None if c.cost_per_customer is None else c.cost_per_customer * t.height
    clv = None
    if with_clv:
        before = month_last_day(date_month_number(c.start_date) - 1)
        clv = _average_clv(rt, t["customer_id"].to_list(), before)
    roi = U.money(saved, clv, cost or 0.0) if clv is not None else None
    if clv is None:
        notes.append("ROI needs the customers' CLV, which could not be computed.")
    planted = None
    if truth is not None and c.source == "imported":
        row = truth.filter(pl.col("campaign_id") == c.campaign_id)
        if row.height:
            r = row.row(0, named=True)
            inside = churn.uplift_low <= r["true_uplift"] <= churn.uplift_high
            planted = PlantedEffect(
                hazard_reduction=r["hazard_reduction"],
                true_churn_untreated=r["true_churn_untreated"],
                true_churn_treated=r["true_churn_treated"],
                true_uplift=r["true_uplift"],
                true_uplift_treated_members=r["true_uplift_treated_members"],
                inside_interval=bool(inside),
            )
    return CampaignResults(
        status=status,
        not_active_at_start=inactive,
        treated=t.height,
        holdout=h.height,
        churn=churn,
        stratified=stratified,
        tiers=tiers,
        risk_after_treated=risk_after_t,
        risk_after_holdout=risk_after_h,
        risk_change=change,
        saves=saved,
        cost=cost,
        average_clv=clv,
        roi=roi,
        planted=planted,
        notes=notes,
        **base,  # type: ignore[arg-type]
    )


def _find(rt: Runtime, campaign_id: int | str) -> _Campaign:
    text = str(campaign_id).strip()
    if not text:
        raise InvalidOption("campaign_id: expected a campaign id, got an empty value")
    if text.isdigit():
        found = _app_campaigns(rt, int(text))
        if found:
            return found[0]
    found_imported = _imported_campaigns(rt, text)
    if found_imported:
        return found_imported[0]
    raise NotFoundError(
        f"campaign_id: no campaign {text!r} (app campaigns have whole-number ids; imported ones "
        "the ids of the warehouse table campaigns)"
    )


def _require_data(rt: Runtime) -> int:
    wh = rt.warehouse
    if not wh.has_table("subscriptions"):
        raise NoDataError("Measuring a campaign needs the subscriptions table; load it first.")
    return _last_data_month(wh)


def campaign_results(rt: Runtime, campaign_id: int | str) -> CampaignResults:
    """One campaign's measured impact (app or imported); :class:`NotFoundError` for an unknown
    id; an unfinished campaign reports ``in progress`` and the months remaining."""
    c = _find(rt, campaign_id)
    last = _require_data(rt)
    return _measure(rt, c, last, _planted(rt))


def intervention_impact(rt: Runtime) -> InterventionImpact:
    """Every campaign (app and imported) side by side; figures for the finished ones (brief 004's
    flow 5)."""
    campaigns = [*_imported_campaigns(rt), *_app_campaigns(rt)]
    truth = _planted(rt)
    if not campaigns:
        return InterventionImpact([], None, truth is not None)
    last = _require_data(rt)
    results = [_measure(rt, c, last, truth) for c in campaigns]
    results.sort(key=lambda r: (r.start_date, r.campaign_id))
    return InterventionImpact(results, month_label(last), truth is not None)


# -- smart recommendations -------------------------------------------------------------------------
@dataclass(frozen=True)
class ActionRate:
    """One play's record among customers similar to the account."""

    template: str
    campaigns: int
    treated: int
    treated_retained: int
    retention_treated: float
    retention_treated_low: float
    retention_treated_high: float
    holdout: int
    holdout_retained: int
    retention_holdout: float | None
    uplift: float | None  # retention treated − retention holdout (= churn holdout − treated)
    uplift_low: float | None
    uplift_high: float | None
    p_value: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Recommendations:
    """Per-play success rates among past campaign members similar to the account."""

    account_id: str
    risk_tier: str | None
    segment: str | None
    similar_by: list[str]
    actions: list[ActionRate]
    definition: str
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out["actions"] = [a.to_dict() for a in self.actions]
        return out


def _account(rt: Runtime, account_id: str) -> tuple[str | None, str | None]:
    """The account's segment and its latest churn risk tier (None when unknown)."""
    wh = rt.warehouse
    if not wh.has_table("customers"):
        raise NoDataError("Recommendations need the customers table; load it first.")
    customers = wh.table("customers")
    row = _fetch(customers.filter(customers.customer_id == account_id))
    if row.height == 0:
        raise NotFoundError(f"account_id: no customer {account_id!r} in the customers table")
    segment = row["segment"][0] if "segment" in row.columns else None
    tier = None
    if wh.has_table("predictions"):
        p = wh.table("predictions")
        frame = _fetch(p.filter(p.account_id == account_id))
        if frame.height:
            latest = frame.sort("scored_at", nulls_last=False).row(-1, named=True)
            tier = latest.get("risk_tier")
            if tier is None and latest.get("churn_risk_score") is not None:
                from revintel.churn.evaluation import risk_tier

                tier = risk_tier([latest["churn_risk_score"]])[0]
    return segment, tier


def recommendations(rt: Runtime, account_id: str) -> Recommendations:
    """Each play's retention rate among treated past members similar to the account, beside the
    holdout's, with sample sizes and 95% intervals; best uplift first.

    Similar = the same churn risk tier at enrolment as the account's latest tier, and the same
    customer segment (SMB / Mid-Market / Enterprise); when fewer than 20 treated members of a play
    match both, the segment condition is dropped for that play (``similar_by`` says which held).
    Retained = not churned within the member's outcome window."""
    account_id = str(account_id).strip()
    if not account_id:
        raise InvalidOption("account_id: expected a customer id, got an empty value")
    segment, tier = _account(rt, account_id)
    campaigns = [*_imported_campaigns(rt), *_app_campaigns(rt)]
    definition = (
        "Similar past customers: campaign members with the account's churn risk tier at "
        "enrolment and its segment (segment dropped for a play with fewer than "
        f"{SIMILAR_MIN} such treated members). Success = still a customer at the end of the "
        "outcome window. Intervals: Wilson (rate), Newcombe (uplift)."
    )
    notes: list[str] = []
    if tier is None:
        notes.append("The account has no churn score: members of every risk tier are compared.")
    if not campaigns:
        return Recommendations(account_id, tier, segment, [], [], definition, notes)
    last = _require_data(rt)
    wh = rt.warehouse
    frames = []
    for c in campaigns:
        m = c.members
        if m.height == 0:
            continue
        end = int(m["window_start"].max()) + c.outcome_months - 1
        if end > last:
            continue
        out = _outcomes(wh, m, c.outcome_months).filter(pl.col("active_at_start"))
        frames.append(
            out.select("customer_id", "group", "risk_tier", "churned").with_columns(
                template=pl.lit(c.template), campaign=pl.lit(c.campaign_id)
            )
        )
    if not frames:
        notes.append("No finished campaign yet.")
        return Recommendations(account_id, tier, segment, [], [], definition, notes)
    pool = pl.concat(frames)
    customers = wh.table("customers")
    seg = (
        _fetch(customers.select("customer_id", "segment"))
        if "segment" in customers.columns
        else None
    )
    if seg is not None:
        pool = pool.join(seg, on="customer_id", how="left")
    else:
        pool = pool.with_columns(segment=pl.lit(None, pl.String))
    if tier is not None:
        pool = pool.filter(pl.col("risk_tier") == tier)
    actions: list[ActionRate] = []
    used: set[str] = set()
    for template in sorted(pool["template"].unique().to_list()):
        rows = pool.filter(pl.col("template") == template)
        if segment is not None:
            narrow = rows.filter(pl.col("segment") == segment)
            if narrow.filter(pl.col("group") == "treated").height >= SIMILAR_MIN:
                rows = narrow
                used.add("segment")
        t = rows.filter(pl.col("group") == "treated")
        h = rows.filter(pl.col("group") == "holdout")
        if t.height == 0:
            continue
        kept_t = t.height - int(t["churned"].sum())
        kept_h = h.height - int(h["churned"].sum())
        lo, hi = U.wilson_interval(kept_t, t.height, CONFIDENCE)
        cmp = (
            U.compare_churn(t.height, t.height - kept_t, h.height, h.height - kept_h)
            if h.height
            else None
        )
        actions.append(
            ActionRate(
                template=template,
                campaigns=rows["campaign"].n_unique(),
                treated=t.height,
                treated_retained=kept_t,
                retention_treated=kept_t / t.height,
                retention_treated_low=lo,
                retention_treated_high=hi,
                holdout=h.height,
                holdout_retained=kept_h,
                retention_holdout=kept_h / h.height if h.height else None,
                uplift=cmp.uplift if cmp else None,
                uplift_low=cmp.uplift_low if cmp else None,
                uplift_high=cmp.uplift_high if cmp else None,
                p_value=cmp.p_value if cmp else None,
            )
        )
    actions.sort(key=lambda a: (a.uplift is None, -(a.uplift or 0.0), a.template))
    similar_by = ["risk_tier"] if tier is not None else []
    if used:
        similar_by.append("segment (where enough)")
    return Recommendations(account_id, tier, segment, similar_by, actions, definition, notes)
