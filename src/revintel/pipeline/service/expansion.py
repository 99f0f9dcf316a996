"""Expansion opportunities: every paying account scored, with reasons, an expected expansion ARR
and the score's backtest lift (``docs/pipeline.md``, Expansion opportunity).

The health score and its usage and NPS inputs (health) and MRR per month (metrics) come through
:mod:`revintel.pipeline.ports`; the plan and the growth of active users are read here with the
Ibis expressions of :mod:`revintel.pipeline.expansion`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import polars as pl

from revintel.core.calendar import month_label, parsed_month
from revintel.core.errors import InvalidOption, NoDataError, NotFoundError, OutsideTheData
from revintel.core.text import check_text
from revintel.pipeline.config import ExpansionConfig, load_config
from revintel.pipeline.expansion import (
    PLAN_ORDER,
    SIGNALS,
    ExpansionBacktest,
    MissingAccountData,
    Reason,
    backtest,
    compare_fitted,
    expansion_outcomes,
    plan_ranks,
    reasons_of,
    score_signals,
    user_growth,
    with_deciles,
)
from revintel.pipeline.ports import expansion_providers
from revintel.warehouse.cache import SnapshotCache

if TYPE_CHECKING:
    import ibis

    from revintel.core.runtime import Runtime
    from revintel.warehouse import Warehouse

REQUIRED_TABLES = ("subscriptions", "usage")


class InvalidExpansionOption(InvalidOption):
    """An expansion request option (month, limit, filter) is invalid."""


class ExpansionMonthOutsideTheData(InvalidExpansionOption, OutsideTheData):
    """A well-formed month the health data does not cover."""


@dataclass(frozen=True, slots=True)
class AccountExpansion:
    """One account's expansion opportunity in a month."""

    account_id: str
    account_name: str | None
    segment: str | None
    owner: str | None
    month: str
    arr: float | None
    plan: str | None
    expansion_score: float
    """0–100: the sum of ``points`` of its signals (``docs/pipeline.md``, Expansion opportunity)."""
    decile: int
    """1 = the top 10% of the month's scores."""
    expansion_probability: float | None
    """The share of accounts in the same decile that expanded within the horizon, in the
    backtest (None without a backtest)."""
    expected_expansion_arr: float | None
    """ARR × the decile's mean expansion ARR ÷ ARR in the backtest (None without one)."""
    reasons: list[Reason]
    signals: dict[str, float | None]
    """Each signal's raw value (utilisation, growth and adoption as fractions)."""
    points: dict[str, float | None]
    """Each signal's points of the score."""

    def to_dict(self) -> dict[str, Any]:
        out = {k: getattr(self, k) for k in self.__slots__}
        out["reasons"] = [
            {"signal": r.signal, "points": r.points, "evidence": r.evidence} for r in self.reasons
        ]
        return out


@dataclass(frozen=True)
class ExpansionReport:
    """The ranked accounts of a month, with the backtest of the score beside them."""

    month: str
    accounts_scored: int
    accounts: list[AccountExpansion]
    expected_expansion_arr: float
    """Sum over ``accounts`` (after filters and limit)."""
    backtest: ExpansionBacktest | None
    """None when no month of the data is followed by the horizon's months (with a note)."""
    weights: dict[str, float]
    notes: list[str] = field(default_factory=list)
    segments: list[str] = field(default_factory=list)
    """The segments of the month's scored accounts (the choices of the segment filter)."""
    owners: list[str] = field(default_factory=list)
    """Their owners (the choices of the owner filter)."""

    def to_dict(self) -> dict[str, Any]:
        return {
            "month": self.month,
            "accounts_scored": self.accounts_scored,
            "expected_expansion_arr": self.expected_expansion_arr,
            "accounts": [a.to_dict() for a in self.accounts],
            "backtest": None if self.backtest is None else self.backtest.to_dict(),
            "weights": self.weights,
            "notes": self.notes,
        }


@dataclass(frozen=True)
class _Scored:
    frame: pl.DataFrame
    backtest: ExpansionBacktest | None
    first_month: int
    last_month: int
    notes: list[str]


_SCORED: SnapshotCache[_Scored] = SnapshotCache("pipeline.expansion", size=4)


def _fetch(wh: Warehouse, expr: ibis.Table) -> pl.DataFrame:
    return pl.from_arrow(wh.to_arrow(expr))  # type: ignore[return-value]


def _compute(rt: Runtime, config: ExpansionConfig) -> _Scored:
    wh = rt.warehouse
    missing = [t for t in REQUIRED_TABLES if not wh.has_table(t)]
    if missing:
        raise MissingAccountData(
            f"expansion scoring needs the {' and '.join(missing)} table"
            f"{'s' if len(missing) > 1 else ''} (seats and usage per month, plans and MRR); "
            "not loaded"
        )
    ports = expansion_providers()
    lo, hi = ports.health_months(rt)
    horizon = config.horizon_months
    notes = []
    if not wh.has_table("nps_responses"):
        notes.append("Table 'nps_responses' is not loaded: the NPS signal is left out.")
    signals = ports.account_signals(rt, lo=lo, hi=hi)
    subs, usage = wh.table("subscriptions"), wh.table("usage")
    growth = _fetch(wh, user_growth(usage, lo, hi))
    plans = _fetch(wh, plan_ranks(subs, lo, hi)).drop("seats")
    keys = ["account_id", "month_idx"]
    frame = signals.join(growth.cast({"month_idx": pl.Int64}), on=keys, how="left").join(
        plans.cast({"month_idx": pl.Int64}), on=keys, how="left"
    )
    last_labelled = hi - horizon
    if last_labelled >= lo:
        mrr = ports.monthly_mrr(
            subs, payments=None, from_month=month_label(lo), to_month=month_label(hi)
        )
        holdings = plan_ranks(subs, lo, hi)
        outcomes = _fetch(wh, expansion_outcomes(mrr, holdings, lo, last_labelled, horizon))
        outcomes = outcomes.select(
            pl.col("account_id"),
            pl.col("month_idx").cast(pl.Int64),
            pl.col("expanded").cast(pl.Int64),
            pl.col("expansion_mrr").cast(pl.Float64),
        )
        frame = frame.join(outcomes, on=keys, how="left")
        # Paying that month by health's rule but not by contracted MRR (an unpaid invoice):
        # no outcome, left out of the backtest.
    else:
        frame = frame.with_columns(
            expanded=pl.lit(None, pl.Int64), expansion_mrr=pl.lit(None, pl.Float64)
        )
    scored = with_deciles(score_signals(frame, config))
    labelled = scored.filter(pl.col("month_idx") <= last_labelled)
    result: ExpansionBacktest | None = None
    try:
        result = backtest(labelled, horizon)
    except MissingAccountData as exc:
        notes.append(f"No backtest: {exc}, so no expected expansion ARR either.")
    else:
        result = replace(result, fitted=compare_fitted(labelled))
    return _Scored(scored, result, lo, hi, notes)


def _month(value: str | None, lo: int, hi: int) -> int:
    if value is None or value == "":
        return hi
    number = parsed_month(value)
    if number is None:
        raise InvalidExpansionOption(f"month = {value!r}: expected a month YYYY-MM, e.g. 2024-03")
    if not lo <= number <= hi:
        raise ExpansionMonthOutsideTheData(
            f"month {value}: no account data that month; expected a month from "
            f"{month_label(lo)} to {month_label(hi)}"
        )
    return number


def _row(
    r: dict[str, Any], rates: dict[int, tuple[float, float]] | None, cfg: ExpansionConfig
) -> AccountExpansion:
    rate: float | None = None
    expected: float | None = None
    arr = r["arr"]
    if rates is not None:
        rate, ratio = rates.get(int(r["decile"]), (0.0, 0.0))
        rate, expected = round(rate, 4), round((arr or 0.0) * ratio, 2)
    rank = r.get("plan_rank")
    return AccountExpansion(
        account_id=r["account_id"],
        account_name=r.get("account_name"),
        segment=r.get("segment"),
        owner=r.get("owner"),
        month=r["month"],
        arr=arr,
        plan=PLAN_ORDER[int(rank)] if rank is not None else None,
        expansion_score=float(r["expansion_score"]),
        decile=int(r["decile"]),
        expansion_probability=rate,
        expected_expansion_arr=expected,
        reasons=reasons_of(r, cfg.reason_min),
        signals={s: r.get(s) for s in SIGNALS},
        points={s: r.get(f"points_{s}") for s in SIGNALS},
    )


def expansion_scores(
    rt: Runtime,
    *,
    month: str | None = None,
    segment: str | None = None,
    owner: str | None = None,
    account_id: str | None = None,
    limit: int | None = None,
    config: ExpansionConfig | None = None,
) -> ExpansionReport:
    """Every account paying in ``month`` (default: the latest month with account data), ranked
    by expansion score, with reasons and expected expansion ARR, and the backtest of the score.

    ``segment``, ``owner`` and ``account_id`` filter the list (not the backtest); ``limit`` keeps
    the first accounts. :class:`NotFoundError` when ``account_id`` is not scored that month.
    """
    for name, value in (("segment", segment), ("owner", owner), ("account_id", account_id)):
        check_text(name, value)
    if limit is not None and limit < 1:
        raise InvalidExpansionOption(f"limit = {limit}: expected a whole number ≥ 1")
    cfg = config if config is not None else load_config(rt.settings).expansion
    scored = _SCORED.get(rt.warehouse, cfg.model_dump_json(), lambda: _compute(rt, cfg))
    m = _month(month, scored.first_month, scored.last_month)
    now = scored.frame.filter(pl.col("month_idx") == m)
    total = now.height
    segments = sorted(v for v in now["segment"].unique().to_list() if v)
    owners = sorted(v for v in now["owner"].unique().to_list() if v)
    if segment:
        now = now.filter(pl.col("segment") == segment)
    if owner:
        now = now.filter(pl.col("owner") == owner)
    if account_id:
        now = now.filter(pl.col("account_id") == account_id)
        if now.is_empty():
            raise NotFoundError(
                f"account_id {account_id!r} is not scored in {month_label(m)}: it does not "
                "exist, paid nothing that month, or has no account data"
            )
    now = now.sort(["expansion_score", "account_id"], descending=[True, False])
    if limit is not None:
        now = now.head(limit)
    bt = scored.backtest
    rates = (
        None if bt is None else {d.decile: (d.expansion_rate, d.uplift_ratio) for d in bt.deciles}
    )
    rows = [_row(r, rates, cfg) for r in now.iter_rows(named=True)]
    weights = {s: float(getattr(cfg, f"weight_{s}")) for s in SIGNALS}
    return ExpansionReport(
        month=month_label(m),
        accounts_scored=total,
        accounts=rows,
        expected_expansion_arr=round(sum(r.expected_expansion_arr or 0.0 for r in rows), 2),
        backtest=scored.backtest,
        weights=weights,
        notes=list(scored.notes),
        segments=segments,
        owners=owners,
    )


@dataclass(frozen=True)
class AccountInputs:
    """An account's signals given directly (``POST /accounts/expansion-score`` with ``signals``):
    scored with the same rule, placed among the latest month's scores for its decile."""

    active_users: int | None = None
    licensed_seats: int | None = None
    users_3_months_ago: int | None = None
    key_feature_adoption: float | None = None
    plan: str | None = None
    health_score: float | None = None
    nps_score: int | None = None
    arr: float | None = None


@dataclass(frozen=True)
class InputScore:
    """The score of :class:`AccountInputs`, its points, reasons and (with data loaded) the decile
    it would fall in this month and the expected expansion ARR that decile implies."""

    expansion_score: float | None
    points: dict[str, float | None]
    reasons: list[Reason]
    decile: int | None
    expansion_probability: float | None
    expected_expansion_arr: float | None
    month: str | None
    notes: list[str]

    def to_dict(self) -> dict[str, Any]:
        out = dict(self.__dict__)
        out["reasons"] = [
            {"signal": r.signal, "points": r.points, "evidence": r.evidence} for r in self.reasons
        ]
        return out


def score_inputs(
    rt: Runtime, inputs: AccountInputs, *, config: ExpansionConfig | None = None
) -> InputScore:
    """Score ``inputs`` with the expansion rule; :class:`InvalidExpansionOption` names a field
    out of range. Where account data is loaded, the score is placed among the latest month's."""
    checks = (
        ("active_users", inputs.active_users, 0, None),
        ("licensed_seats", inputs.licensed_seats, 0, None),
        ("users_3_months_ago", inputs.users_3_months_ago, 0, None),
        ("key_feature_adoption", inputs.key_feature_adoption, 0, 1),
        ("health_score", inputs.health_score, 0, 100),
        ("nps_score", inputs.nps_score, 0, 10),
        ("arr", inputs.arr, 0, None),
    )
    for name, value, lo, hi in checks:
        if value is None:
            continue
        if value < lo or (hi is not None and value > hi):
            bound = f"between {lo} and {hi}" if hi is not None else f"≥ {lo}"
            raise InvalidExpansionOption(f"{name} = {value}: expected a number {bound}")
    if inputs.plan is not None and inputs.plan not in PLAN_ORDER:
        raise InvalidExpansionOption(
            f"plan = {inputs.plan!r}: expected one of {', '.join(PLAN_ORDER)}"
        )
    cfg = config if config is not None else load_config(rt.settings).expansion
    row = pl.DataFrame(
        {
            "account_id": ["input"],
            "active_users": [inputs.active_users],
            "licensed_seats": [inputs.licensed_seats],
            "users_before": [inputs.users_3_months_ago],
            "key_feature_adoption": [inputs.key_feature_adoption],
            "plan_rank": [None if inputs.plan is None else PLAN_ORDER.index(inputs.plan)],
            "health_score": [inputs.health_score],
            "nps_score": [inputs.nps_score],
        },
        schema={
            "account_id": pl.String,
            "active_users": pl.Int64,
            "licensed_seats": pl.Int64,
            "users_before": pl.Int64,
            "key_feature_adoption": pl.Float64,
            "plan_rank": pl.Int64,
            "health_score": pl.Float64,
            "nps_score": pl.Int64,
        },
    )
    scored = score_signals(row, cfg).row(0, named=True)
    score = scored["expansion_score"]
    notes: list[str] = []
    decile = rate = expected = None
    month = None
    if score is None:
        notes.append("No signal was given: nothing to score.")
    else:
        try:
            data = _SCORED.get(rt.warehouse, cfg.model_dump_json(), lambda: _compute(rt, cfg))
        except (MissingAccountData, NoDataError) as exc:
            notes.append(f"No decile or expected ARR: {exc}")
        else:
            now = data.frame.filter(pl.col("month_idx") == data.last_month)
            month = month_label(data.last_month)
            above = int((now["expansion_score"] > score).sum())
            decile = min(10, above * 10 // max(now.height, 1) + 1)
            rates = {} if data.backtest is None else {d.decile: d for d in data.backtest.deciles}
            if decile in rates:
                rate = round(rates[decile].expansion_rate, 4)
                if inputs.arr is not None:
                    expected = round(inputs.arr * rates[decile].uplift_ratio, 2)
    return InputScore(
        expansion_score=score,
        points={s: scored.get(f"points_{s}") for s in SIGNALS},
        reasons=reasons_of(scored, cfg.reason_min),
        decile=decile,
        expansion_probability=rate,
        expected_expansion_arr=expected,
        month=month,
        notes=notes,
    )
