"""Health scoring as a service: what the CLI, the API and the dashboard call.

Reads the warehouse (Ibis aggregates from :mod:`revintel.health.pillars`), scores with
:mod:`revintel.health.scoring`, and shapes portfolio views (summary, capital-at-risk tree, risk
composition, renewals, account list, account 360). See ``docs/health.md``.

Which accounts are scored in month M: those with MRR > 0 at the end of M (``metric-definitions.md``,
Recurring revenue) when ``subscriptions`` is loaded, their ARR being 12 × that MRR; otherwise every
row of ``accounts`` (or ``customers``) with ``accounts.arr``. Owner, industry, renewal and last
contact come from ``accounts`` (industry falls back to ``customers.industry``).
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass, field, fields
from datetime import date, datetime
from typing import TYPE_CHECKING, Any, Literal

import ibis
import polars as pl

from revintel.core.errors import (
    InvalidOption,
    NoDataError,
    NotFoundError,
    OutsideTheData,
    RevintelError,
)
from revintel.core.text import check_text, check_texts
from revintel.health import ports
from revintel.health.backtest import BacktestResult, backtest
from revintel.health.config import (
    PILLARS,
    PLAYBOOKS,
    TIERS,
    HealthConfig,
    Pillar,
    load_config,
)
from revintel.health.pillars import (
    engagement_inputs,
    month_label,
    month_number,
    month_of_text,
    month_spine,
    sentiment_inputs,
    support_inputs,
)
from revintel.health.scoring import BIG_DROP_POINTS, score_accounts
from revintel.warehouse.cache import SnapshotCache

if TYPE_CHECKING:
    from revintel.core.runtime import Runtime
    from revintel.warehouse import Warehouse

PILLAR_TABLES: dict[Pillar, str] = {
    "engagement": "usage",
    "sentiment": "nps_responses",
    "support": "support_tickets",
}
HEALTH_TABLES = ("usage", "nps_responses", "support_tickets", "accounts")
RENEWAL_HORIZONS = (30, 60, 90, 180)
GroupBy = Literal["industry", "segment", "owner"]
SortKey = Literal[
    "health_score", "arr", "health_change", "account_name", "renewal_date", "days_since_contact"
]
SORT_KEYS: tuple[str, ...] = (
    "health_score",
    "arr",
    "health_change",
    "account_name",
    "renewal_date",
    "days_since_contact",
)
ACCOUNT_COLUMNS = (
    "account_id",
    "account_name",
    "month",
    "health_score",
    "tier",
    "playbook",
    "reason",
    "engagement",
    "sentiment",
    "support",
    "arr",
    "partial",
    "health_change",
    "owner",
    "industry",
    "segment",
    "renewal_date",
    "last_contact_date",
    "days_since_contact",
)
"""Per-account columns of ``revintel health score`` and ``GET /api/v1/accounts``."""


class InvalidHealthOption(InvalidOption):
    """A health request option (month, sort, filter, page) is invalid."""


class MonthOutsideTheData(InvalidHealthOption, OutsideTheData):
    """A well-formed month the data does not cover: the data, not the request, lacks it."""


# -- what is loaded -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Coverage:
    """Which health tables are loaded and the months they cover."""

    loaded: tuple[str, ...]
    missing: tuple[str, ...]
    first_month: int
    last_month: int
    has_subscriptions: bool

    @property
    def pillars(self) -> tuple[Pillar, ...]:
        return tuple(p for p in PILLARS if PILLAR_TABLES[p] in self.loaded)

    @property
    def months(self) -> list[str]:
        return [month_label(m) for m in range(self.first_month, self.last_month + 1)]

    def notes(self) -> list[str]:
        """One sentence per missing table: what is left out because of it."""
        notes = []
        for pillar, table in PILLAR_TABLES.items():
            if table in self.missing:
                notes.append(
                    f"Table '{table}' is not loaded: the {pillar} pillar is left out, the other "
                    "weights are renormalised and every account is marked partial."
                )
        if "accounts" in self.missing:
            notes.append(
                "Table 'accounts' is not loaded: no owner, renewal date or last contact, so the "
                "no-contact rule and the renewals view cannot apply."
            )
        if not self.has_subscriptions:
            notes.append(
                "Table 'subscriptions' is not loaded: ARR comes from accounts.arr and the "
                "backtest (which needs churn from MRR) is unavailable."
            )
        return notes


def _warehouse(source: Runtime | Warehouse) -> Warehouse:
    return getattr(source, "warehouse", source)


def _scalar(wh: Warehouse, expr: ibis.Value) -> Any:
    return wh.to_arrow(expr).as_py()


def coverage(source: Runtime | Warehouse) -> Coverage:
    """What the health engine can use; :class:`NoDataError` when no pillar table is loaded.

    Cached per Parquet snapshot (immutable): six min/max queries are not repeated per request.
    """
    wh = _warehouse(source)
    return _COVERAGE.get(wh, (), lambda: _coverage(wh))


def _coverage(wh: Warehouse) -> Coverage:
    loaded = tuple(t for t in HEALTH_TABLES if wh.has_table(t))
    bounds: list[int] = []
    if "usage" in loaded:
        u = wh.table("usage")
        lo, hi = _scalar(wh, u.month.min()), _scalar(wh, u.month.max())
        if lo is not None:
            bounds += [month_number(lo), month_number(hi)]
    for table, column in (("nps_responses", "response_date"), ("support_tickets", "opened_at")):
        if table in loaded:
            t = wh.table(table)
            lo, hi = _scalar(wh, t[column].min()), _scalar(wh, t[column].max())
            if lo is not None:
                bounds += [_month_of_value(lo), _month_of_value(hi)]
    if not any(t in loaded for t in PILLAR_TABLES.values()) or not bounds:
        raise NoDataError(
            "Health scoring needs at least one of the tables usage, nps_responses or "
            "support_tickets (with rows); none is loaded. Load them with `revintel load` or "
            "generate a demo company with `revintel demo`."
        )
    return Coverage(
        loaded=loaded,
        missing=tuple(t for t in HEALTH_TABLES if t not in loaded),
        first_month=min(bounds),
        last_month=max(bounds),
        has_subscriptions=wh.has_table("subscriptions"),
    )


def _month_of_value(value: date | datetime) -> int:
    return value.year * 12 + value.month - 1


def resolve_month(cov: Coverage, month: str | None) -> int:
    """The month to score: ``month`` (YYYY-MM) within the data, else the latest month."""
    if month is None or month == "":
        return cov.last_month
    try:
        number = month_number(month, "month")
    except RevintelError as exc:
        raise InvalidHealthOption(str(exc)) from exc
    if not cov.first_month <= number <= cov.last_month:
        raise MonthOutsideTheData(
            f"month {month}: no health data that month; expected a month from "
            f"{month_label(cov.first_month)} to {month_label(cov.last_month)}"
        )
    return number


# -- inputs (cached per warehouse snapshot) --------------------------------------------------------
# Each computed once per snapshot and key while requests wait for it (a load empties them for
# everyone); a key holds every setting its result depends on.
_COVERAGE: SnapshotCache[Coverage] = SnapshotCache("health.coverage", size=8)
_INPUTS: SnapshotCache[pl.DataFrame] = SnapshotCache("health.inputs", size=8)
_SCORES: SnapshotCache[HealthScores] = SnapshotCache("health.scores", size=8)


def snapshot_key(source: Runtime | Warehouse) -> str | None:
    """The name of the warehouse's current immutable snapshot (Parquet), None for a database.

    Two calls returning the same string see the same data, so it can key a cache (the dashboard
    keys ``st.cache_data`` with it); None means "do not cache".
    """
    return _warehouse(source).data_version()


def _fetch(wh: Warehouse, expr: ibis.Table) -> pl.DataFrame:
    """``expr`` on the warehouse's own connection (never Ibis's shared default backend)."""
    return pl.from_arrow(wh.to_arrow(expr))  # type: ignore[return-value]


def _population(wh: Warehouse, cov: Coverage, lo: int, hi: int) -> pl.DataFrame:
    """Accounts scored per month: ``account_id``, ``month_idx``, ``arr``."""
    if cov.has_subscriptions:
        payments = wh.table("payments") if wh.has_table("payments") else None
        mrr = ports.customer_mrr()(
            wh.table("subscriptions"),
            from_month=month_label(lo),
            to_month=month_label(hi),
            payments=payments,
        )
        expr = mrr.select(
            account_id=mrr.customer_id,
            month_idx=month_of_text(mrr.month),
            arr=(mrr.mrr * 12.0).cast("float64"),
        )
        return _fetch(wh, expr)
    if "accounts" in cov.loaded:
        accounts = wh.table("accounts")
        base = accounts.select("account_id", arr=accounts.arr.cast("float64"))
    else:
        customers = wh.table("customers")
        base = customers.select(account_id=customers.customer_id, arr=ibis.literal(None, "float64"))
    frame = _fetch(wh, base)
    months = pl.DataFrame({"month_idx": list(range(lo, hi + 1))}, schema={"month_idx": pl.Int64})
    return frame.join(months, how="cross")


def account_attributes(wh: Warehouse) -> pl.DataFrame:
    """One row per account: name, industry, segment, owner, renewal and last contact dates
    (from ``customers`` and, when loaded, ``accounts``); churn pages use it too."""
    return _attributes(wh, {"accounts"} if wh.has_table("accounts") else set())


def _attributes(wh: Warehouse, loaded: Collection[str]) -> pl.DataFrame:
    """One row per account: name, industry, segment, owner, renewal and last contact dates."""
    frame = pl.DataFrame(schema={"account_id": pl.String})
    if wh.has_table("customers"):
        c = wh.table("customers")
        cols = {"account_id": c.customer_id, "segment": c.segment}
        if "company_name" in c.columns:
            cols["company_name"] = c.company_name
        if "industry" in c.columns:
            cols["customer_industry"] = c.industry
        frame = _fetch(wh, c.select(**cols))
    if "accounts" in loaded:
        a = wh.table("accounts")
        wanted = ["account_name", "industry", "owner", "renewal_date", "last_contact_date"]
        acc = _fetch(wh, a.select("account_id", *[x for x in wanted if x in a.columns]))
        frame = frame.join(acc, on="account_id", how="full", coalesce=True)
    for name, dtype in {
        "segment": pl.String,
        "company_name": pl.String,
        "customer_industry": pl.String,
        "account_name": pl.String,
        "industry": pl.String,
        "owner": pl.String,
        "renewal_date": pl.Date,
        "last_contact_date": pl.Date,
    }.items():
        if name not in frame.columns:
            frame = frame.with_columns(pl.lit(None, dtype).alias(name))
    return frame.select(
        "account_id",
        pl.coalesce("account_name", "company_name", "account_id").alias("account_name"),
        pl.coalesce("industry", "customer_industry", pl.lit("Unknown")).alias("industry"),
        pl.col("segment").fill_null("Unknown"),
        pl.col("owner").fill_null("Unassigned"),
        pl.col("renewal_date").cast(pl.Date),
        pl.col("last_contact_date").cast(pl.Date),
    )


def health_inputs(
    source: Runtime | Warehouse,
    lo: int,
    hi: int,
    config: HealthConfig,
    cov: Coverage | None = None,
) -> pl.DataFrame:
    """One row per scored account and month ``lo``..``hi`` with every pillar input.

    Cached per Parquet snapshot (immutable), months and ticket windows, so a dashboard rerun or a
    second request does not query again.
    """
    wh = _warehouse(source)
    cov = cov or coverage(wh)
    key = (lo, hi, config.support_window_days, config.aged_ticket_days)
    return _INPUTS.get(wh, key, lambda: _health_inputs(wh, lo, hi, config, cov))


def _health_inputs(
    wh: Warehouse, lo: int, hi: int, config: HealthConfig, cov: Coverage
) -> pl.DataFrame:
    frame = _population(wh, cov, lo, hi)
    spine = _fetch(wh, month_spine(lo, hi).select("month_idx", "month", "month_end"))
    frame = frame.join(spine, on="month_idx", how="inner")
    frame = frame.join(_attributes(wh, cov.loaded), on="account_id", how="left")
    frame = frame.with_columns(
        pl.col("account_name").fill_null(pl.col("account_id")),
        pl.col("industry").fill_null("Unknown"),
        pl.col("segment").fill_null("Unknown"),
        pl.col("owner").fill_null("Unassigned"),
    )
    keys = ["account_id", "month_idx"]
    if "usage" in cov.loaded:
        usage = _fetch(wh, engagement_inputs(wh.table("usage"), lo, hi))
        frame = frame.join(usage, on=keys, how="left")
    if "nps_responses" in cov.loaded:
        nps = _fetch(wh, sentiment_inputs(wh.table("nps_responses"), lo, hi))
        frame = frame.join(nps, on=keys, how="left")
    if "support_tickets" in cov.loaded:
        tickets = support_inputs(
            wh.table("support_tickets"),
            lo,
            hi,
            window_days=config.support_window_days,
            aged_days=config.aged_ticket_days,
        )
        frame = frame.join(_fetch(wh, tickets), on=keys, how="left")
    return frame.sort(keys)


# -- scores ---------------------------------------------------------------------------------------
@dataclass
class HealthScores:
    """The scored accounts of one month (``frame``), with what the data allowed."""

    month: str
    frame: pl.DataFrame
    config: HealthConfig
    coverage: Coverage
    notes: list[str] = field(default_factory=list)

    @property
    def partial_data(self) -> bool:
        return bool(self.coverage.missing)


def _config(source: Runtime | Warehouse, config: HealthConfig | None) -> HealthConfig:
    return config if config is not None else load_config(_warehouse(source).settings)


def score_month(
    source: Runtime | Warehouse,
    month: str | None = None,
    config: HealthConfig | None = None,
) -> HealthScores:
    """Every account scored for ``month`` (default: the latest month with health data), with
    ``previous_score`` and ``health_change`` from the month before."""
    wh = _warehouse(source)
    config = _config(wh, config)
    cov = coverage(wh)
    m = resolve_month(cov, month)

    def compute() -> HealthScores:
        inputs = health_inputs(wh, max(m - 1, cov.first_month), m, config, cov)
        scored = score_accounts(inputs, config, cov.pillars)
        frame = scored.filter(pl.col("month_idx") == m)
        return HealthScores(month_label(m), frame, config, cov, cov.notes())

    hit = _SCORES.get(wh, (m, config.model_dump_json()), compute)
    # a copy per caller: the notes list is the caller's to extend
    return HealthScores(hit.month, hit.frame, config, hit.coverage, list(hit.notes))


def score_history(
    source: Runtime | Warehouse,
    *,
    start: str | None = None,
    end: str | None = None,
    config: HealthConfig | None = None,
) -> pl.DataFrame:
    """Every account scored for every month ``start``..``end`` (default: all months with data)."""
    wh = _warehouse(source)
    config = _config(wh, config)
    cov = coverage(wh)
    lo = resolve_month(cov, start) if start else cov.first_month
    hi = resolve_month(cov, end)
    if lo > hi:
        raise InvalidHealthOption(f"start {start} is after end {month_label(hi)}")
    inputs = health_inputs(wh, lo, hi, config, cov)
    return score_accounts(inputs, config, cov.pillars)


# -- portfolio views (pure over a scored month) ---------------------------------------------------
def filter_scores(
    frame: pl.DataFrame,
    *,
    owner: str | Sequence[str] | None = None,
    tier: str | Sequence[str] | None = None,
    playbook: str | Sequence[str] | None = None,
    segment: str | Sequence[str] | None = None,
    industry: str | Sequence[str] | None = None,
    partial: bool | None = None,
    search: str | None = None,
) -> pl.DataFrame:
    """Rows matching every given filter (a list means any of its values).

    A value with a control character (NUL, newline...) is refused with :class:`InvalidText`
    naming the option (``search`` is the API's ``q``)."""
    check_text("search (q)", search)
    allowed = {"tier": TIERS, "playbook": PLAYBOOKS}
    for column, value in (
        ("owner", owner),
        ("tier", tier),
        ("playbook", playbook),
        ("segment", segment),
        ("industry", industry),
    ):
        if value is None or value == [] or value == "":
            continue
        values = [value] if isinstance(value, str) else list(value)
        check_texts(column, values)
        if column in allowed:
            bad = [v for v in values if v not in allowed[column]]
            if bad:
                raise InvalidHealthOption(
                    f"{column} {bad[0]!r}: expected one of {', '.join(allowed[column])}"
                )
        frame = frame.filter(pl.col(column).is_in(values))
    if partial is not None:
        frame = frame.filter(pl.col("partial") == partial)
    if search:
        needle = search.lower()
        frame = frame.filter(
            pl.col("account_name").str.to_lowercase().str.contains(needle, literal=True)
            | pl.col("account_id").str.to_lowercase().str.contains(needle, literal=True)
        )
    return frame


def _share(part: float, whole: float) -> float | None:
    return part / whole if whole else None


@dataclass(frozen=True, slots=True)
class PortfolioSummary:
    """Portfolio KPIs of one month (``docs/health.md``, Portfolio); tier and playbook maps are
    keyed by :data:`~revintel.health.config.TIERS` and :data:`~revintel.health.config.PLAYBOOKS`
    in that order."""

    month: str
    owner: str | Sequence[str] | None
    accounts: int
    scored_accounts: int
    partial_accounts: int
    total_arr: float
    capital_at_risk: float
    capital_at_risk_share: float | None
    arr_by_tier: dict[str, float]
    arr_share_by_tier: dict[str, float | None]
    accounts_by_tier: dict[str, int]
    accounts_by_playbook: dict[str, int]
    arr_by_playbook: dict[str, float]
    average_health: float | None
    average_health_change: float | None
    dropped_accounts: int
    silent_accounts: int
    missing_tables: list[str]
    notes: list[str]

    def to_dict(self) -> dict[str, Any]:
        """The fields in order, as the CLI's and the API's JSON."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def portfolio_summary(
    scores: HealthScores, owner: str | Sequence[str] | None = None
) -> PortfolioSummary:
    """Portfolio KPIs: ARR, capital at risk, ARR share per tier, accounts per playbook, average
    health and its change (``docs/health.md``, Portfolio)."""
    frame = filter_scores(scores.frame, owner=owner)
    total_arr = float(frame["arr"].fill_null(0).sum())
    by_tier = {t: frame.filter(pl.col("tier") == t) for t in TIERS}
    arr_by_tier: dict[str, float] = {
        t: float(f["arr"].fill_null(0).sum()) for t, f in by_tier.items()
    }
    at_risk = capital_at_risk(frame)
    scored = frame.filter(pl.col("health_score").is_not_null())
    both = scored.filter(pl.col("previous_score").is_not_null())
    average = scored["health_score"].mean() if scored.height else None
    return PortfolioSummary(
        month=scores.month,
        owner=owner,
        accounts=frame.height,
        scored_accounts=scored.height,
        partial_accounts=int(frame["partial"].sum()),
        total_arr=total_arr,
        capital_at_risk=at_risk,
        capital_at_risk_share=_share(at_risk, total_arr),
        arr_by_tier=arr_by_tier,
        arr_share_by_tier={t: _share(v, total_arr) for t, v in arr_by_tier.items()},
        accounts_by_tier={t: f.height for t, f in by_tier.items()},
        accounts_by_playbook={p: frame.filter(pl.col("playbook") == p).height for p in PLAYBOOKS},
        arr_by_playbook={
            p: float(frame.filter(pl.col("playbook") == p)["arr"].fill_null(0).sum())
            for p in PLAYBOOKS
        },
        average_health=float(average) if average is not None else None,
        average_health_change=float(both["health_change"].mean()) if both.height else None,
        dropped_accounts=int((frame["health_change"] <= -BIG_DROP_POINTS).sum()),
        silent_accounts=int(frame["silent"].sum()),
        missing_tables=list(scores.coverage.missing),
        notes=scores.notes,
    )


AT_RISK_TIERS: tuple[str, ...] = ("At Risk", "Critical")
HEALTHY_GROUP = "Healthy (not at risk)"
"""The treemap group of the Healthy accounts, drawn only when asked for as context."""


def at_risk_accounts(frame: pl.DataFrame) -> pl.DataFrame:
    """The accounts whose ARR is capital at risk: tier At Risk or Critical."""
    return frame.filter(pl.col("tier").is_in(AT_RISK_TIERS))


def capital_at_risk(frame: pl.DataFrame) -> float:
    """Capital at risk = Σ ARR of the At Risk and Critical accounts of ``frame``
    (``docs/health.md``, Portfolio views): the KPI and the treemap's total."""
    return float(at_risk_accounts(frame)["arr"].fill_null(0).sum())


def capital_at_risk_tree(
    frame: pl.DataFrame, top_n: int = 15, *, include_healthy: bool = False
) -> pl.DataFrame:
    """Boxes of the Capital at Risk treemap: the At Risk and Critical accounts grouped by playbook
    (column ``group``), per group its ``top_n`` accounts by ARR and one "Others (k accounts)" box
    for the rest (ARR summed, health ARR-weighted). Its ARR adds up to :func:`capital_at_risk`.

    ``include_healthy`` adds the Healthy accounts as one more group, :data:`HEALTHY_GROUP`, for
    context (their ARR is not at risk)."""
    rows = at_risk_accounts(frame).filter(pl.col("playbook").is_not_null())
    rows = rows.with_columns(group=pl.col("playbook"))
    if include_healthy:
        healthy = frame.filter(pl.col("tier") == "Healthy").with_columns(
            group=pl.lit(HEALTHY_GROUP)
        )
        rows = pl.concat([rows, healthy], how="vertical_relaxed")
    rows = rows.with_columns(
        _rank=pl.col("arr").fill_null(0).rank("ordinal", descending=True).over("group")
    )
    top = rows.filter(pl.col("_rank") <= top_n).select(
        "group",
        "playbook",
        "account_id",
        label=pl.col("account_name"),
        arr=pl.col("arr").fill_null(0.0),
        health_score="health_score",
        engagement="engagement",
        sentiment="sentiment",
        support="support",
        renewal_date="renewal_date",
        tier="tier",
        accounts=pl.lit(1, pl.Int64),
    )
    rest = rows.filter(pl.col("_rank") > top_n)
    others = rest.group_by("group").agg(
        arr=pl.col("arr").fill_null(0.0).sum(),
        health_score=(
            (pl.col("health_score") * pl.col("arr").fill_null(0)).sum()
            / pl.col("arr").fill_null(0).sum()
        ).fill_nan(None),
        engagement=pl.col("engagement").mean(),
        sentiment=pl.col("sentiment").mean(),
        support=pl.col("support").mean(),
        accounts=pl.len().cast(pl.Int64),
    )
    others = others.with_columns(
        playbook=pl.when(pl.col("group") == HEALTHY_GROUP)
        .then(pl.lit(None, pl.String))
        .otherwise(pl.col("group")),
        account_id=pl.lit(None, pl.String),
        label=pl.format("Others ({} accounts)", pl.col("accounts")),
        renewal_date=pl.lit(None, pl.Date),
        tier=pl.lit(None, pl.String),
    ).select(top.columns)
    order = {p: i for i, p in enumerate((*PLAYBOOKS, HEALTHY_GROUP))}
    out = pl.concat([top, others], how="vertical_relaxed")
    return (
        out.with_columns(_o=pl.col("group").replace_strict(order, default=99))
        .sort(["_o", "arr"], descending=[False, True])
        .drop("_o")
    )


def risk_composition(frame: pl.DataFrame, by: GroupBy = "industry") -> pl.DataFrame:
    """Per group (industry, segment or owner) and tier: accounts, ARR and the share of the group's
    accounts (the 100% stacked bars)."""
    if by not in ("industry", "segment", "owner"):
        raise InvalidHealthOption(f"by {by!r}: expected industry, segment or owner")
    scored = frame.filter(pl.col("tier").is_not_null())
    grid = scored.select(by).unique().join(pl.DataFrame({"tier": list(TIERS)}), how="cross")
    counts = scored.group_by([by, "tier"]).agg(
        accounts=pl.len().cast(pl.Int64), arr=pl.col("arr").fill_null(0).sum()
    )
    out = grid.join(counts, on=[by, "tier"], how="left").with_columns(
        pl.col("accounts").fill_null(0), pl.col("arr").fill_null(0.0)
    )
    out = out.with_columns(
        share=pl.col("accounts") / pl.col("accounts").sum().over(by),
        arr_share=(pl.col("arr") / pl.col("arr").sum().over(by)).fill_nan(0.0),
    )
    order = {t: i for i, t in enumerate(TIERS)}
    return out.with_columns(_o=pl.col("tier").replace_strict(order)).sort([by, "_o"]).drop("_o")


def renewals(frame: pl.DataFrame, horizons: Sequence[int] = RENEWAL_HORIZONS) -> pl.DataFrame:
    """ARR and accounts renewing within each horizon (days after the month's end), by tier.
    Cumulative: the 60-day row includes the 30-day renewals."""
    days = (pl.col("renewal_date") - pl.col("month_end")).dt.total_days()
    upcoming = frame.with_columns(_days=days).filter(pl.col("_days") >= 0)
    rows = []
    for h in horizons:
        within = upcoming.filter(pl.col("_days") <= h)
        for t in TIERS:
            part = within.filter(pl.col("tier") == t)
            rows.append(
                {
                    "within_days": h,
                    "tier": t,
                    "accounts": part.height,
                    "arr": float(part["arr"].fill_null(0).sum()),
                }
            )
    return pl.DataFrame(
        rows,
        schema={
            "within_days": pl.Int64,
            "tier": pl.String,
            "accounts": pl.Int64,
            "arr": pl.Float64,
        },
    )


def silent_accounts(frame: pl.DataFrame) -> pl.DataFrame:
    """Accounts with no contact for more than ``no_contact_days``, longest silence first."""
    return frame.filter(pl.col("silent")).sort("days_since_contact", descending=True)


@dataclass(frozen=True, slots=True)
class AccountRow:
    """One account's health in a month: the columns :data:`ACCOUNT_COLUMNS`, in that order."""

    account_id: str
    account_name: str | None
    month: str
    health_score: float | None
    tier: str | None
    playbook: str | None
    reason: str
    engagement: float | None
    sentiment: float | None
    support: float | None
    arr: float | None
    partial: bool
    health_change: float | None
    owner: str | None
    industry: str | None
    segment: str | None
    renewal_date: date | None
    last_contact_date: date | None
    days_since_contact: int | None

    def to_dict(self) -> dict[str, Any]:
        """The fields in order, as the CLI's and the API's JSON."""
        return {f.name: getattr(self, f.name) for f in fields(self)}


def account_rows(frame: pl.DataFrame) -> list[AccountRow]:
    """The per-account columns as rows (pillars and change rounded to 0.1 points)."""
    rounded = [pl.col(c).round(1) for c in ("engagement", "sentiment", "support", "health_change")]
    table = frame.select(ACCOUNT_COLUMNS).with_columns(*rounded, pl.col("arr").round(2))
    return [AccountRow(*row) for row in table.iter_rows()]


@dataclass(frozen=True, slots=True)
class AccountPage:
    """One page of accounts (:func:`list_accounts`) and how many accounts match."""

    items: list[AccountRow]
    total: int


def list_accounts(
    scores: HealthScores,
    *,
    sort: str = "health_score",
    descending: bool = False,
    page: int = 1,
    page_size: int = 50,
    **filters: Any,
) -> AccountPage:
    """One page of accounts (filtered, sorted) and the number of matching accounts."""
    if sort not in SORT_KEYS:
        raise InvalidHealthOption(f"sort {sort!r}: expected one of {', '.join(SORT_KEYS)}")
    if page < 1 or not 1 <= page_size <= 1000:
        raise InvalidHealthOption("page must be ≥ 1 and page_size between 1 and 1000")
    frame = filter_scores(scores.frame, **filters)
    frame = frame.sort([sort, "account_id"], descending=[descending, False], nulls_last=True)
    # A page past the end is empty; the offset is capped so a huge page number cannot overflow.
    rows = frame.slice(min((page - 1) * page_size, frame.height), page_size)
    return AccountPage(account_rows(rows), frame.height)


# -- account 360 ----------------------------------------------------------------------------------
PILLAR_INPUTS: dict[Pillar, tuple[str, ...]] = {
    "engagement": (
        "active_users",
        "licensed_seats",
        "utilisation_score",
        "logins",
        "logins_per_day",
        "prior_logins_per_day",
        "login_trend_score",
        "key_feature_adoption",
        "adoption_score",
    ),
    "sentiment": (
        "nps_score",
        "nps_date",
        "nps_previous",
        "nps_responses",
        "nps_age_days",
        "nps_staleness_weight",
        "nps_trend_points",
    ),
    "support": (
        "tickets",
        "tickets_low",
        "tickets_medium",
        "tickets_high",
        "tickets_urgent",
        "weighted_tickets",
        "tickets_per_seat",
        "peer_ratio",
        "support_volume_score",
        "aged_open_tickets",
    ),
}


def account_timeline(source: Runtime | Warehouse, account_id: str) -> pl.DataFrame:
    """Subscription changes, support tickets and NPS responses of one account, newest first.

    Columns: ``date`` (datetime), ``kind`` (subscription, ticket, nps), ``event``, ``detail``.
    """
    wh = _warehouse(source)
    events: list[dict[str, Any]] = []
    if wh.has_table("subscriptions"):
        s = wh.table("subscriptions")
        subs = _fetch(wh, s.filter(s.customer_id == account_id))
        for row in subs.iter_rows(named=True):
            seats = f", {row['seats']} seats" if row.get("seats") is not None else ""
            price = f"${row['monthly_price']:,.0f}/month"
            events.append(
                {
                    "date": datetime.combine(row["start_date"], datetime.min.time()),
                    "kind": "subscription",
                    "event": f"Subscription started: {row['plan_type']}",
                    "detail": f"{row['subscription_id']}: {price}{seats}",
                }
            )
            if row.get("end_date") is not None:
                events.append(
                    {
                        "date": datetime.combine(row["end_date"], datetime.min.time()),
                        "kind": "subscription",
                        "event": f"Subscription ended: {row['plan_type']}",
                        "detail": f"{row['subscription_id']}: {price} no longer billed",
                    }
                )
    if wh.has_table("support_tickets"):
        t = wh.table("support_tickets")
        tickets = _fetch(wh, t.filter(t.account_id == account_id))
        for row in tickets.iter_rows(named=True):
            category = row.get("category") or "ticket"
            closed = row.get("closed_at")
            state = f"closed {closed:%Y-%m-%d}" if closed is not None else "still open"
            events.append(
                {
                    "date": row["opened_at"],
                    "kind": "ticket",
                    "event": f"Ticket opened: {row['severity']} {category}",
                    "detail": f"{row['ticket_id']}, {state}",
                }
            )
    if wh.has_table("nps_responses"):
        n = wh.table("nps_responses")
        answers = _fetch(wh, n.filter(n.account_id == account_id))
        for row in answers.iter_rows(named=True):
            events.append(
                {
                    "date": datetime.combine(row["response_date"], datetime.min.time()),
                    "kind": "nps",
                    "event": f"NPS response: {row['score']}/10",
                    "detail": row.get("comment") or "",
                }
            )
    schema = {"date": pl.Datetime("us"), "kind": pl.String, "event": pl.String, "detail": pl.String}
    return pl.DataFrame(events, schema=schema).sort("date", descending=True)


@dataclass(frozen=True, slots=True)
class AccountHeader(AccountRow):
    """The account's row in the month it was last scored, with its standing then."""

    scored_month: str
    previous_score: float | None
    silent: bool
    current: bool  # scored in the requested (default: latest) month


@dataclass(frozen=True, slots=True)
class PillarDetail:
    """One pillar of one account: score, weight, where its data comes from and its inputs."""

    score: float | None
    weight: float
    has_data: bool
    source_table: str
    table_loaded: bool
    inputs: dict[str, Any]  # :data:`PILLAR_INPUTS` of the pillar, by name

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self)}


HISTORY_COLUMNS = (
    "month",
    "health_score",
    "tier",
    "engagement",
    "sentiment",
    "support",
    "arr",
    "playbook",
    "partial",
)
"""Columns of :attr:`AccountDetail.history`."""


@dataclass(frozen=True, slots=True)
class AccountDetail:
    """Everything the Account 360 shows.

    ``history`` has :data:`HISTORY_COLUMNS`, one row per month scored, oldest first;
    ``timeline`` is :func:`account_timeline`.
    """

    account: AccountHeader
    pillars: dict[Pillar, PillarDetail]
    actions: list[str]
    history: pl.DataFrame
    timeline: pl.DataFrame
    notes: list[str]

    def to_dict(self) -> dict[str, Any]:
        """The account 360 as plain data (the API's JSON)."""
        return {
            "account": self.account.to_dict(),
            "pillars": {name: pillar.to_dict() for name, pillar in self.pillars.items()},
            "actions": self.actions,
            "history": self.history.to_dicts(),
            "timeline": self.timeline.to_dicts(),
            "notes": self.notes,
        }


def account_detail(
    source: Runtime | Warehouse,
    account_id: str,
    month: str | None = None,
    config: HealthConfig | None = None,
) -> AccountDetail:
    """Everything the Account 360 shows: header, pillars with inputs, actions, history, timeline.

    :class:`NotFoundError` when the account is not scored in any month of the data.
    """
    wh = _warehouse(source)
    config = _config(wh, config)
    history = score_history(wh, end=month, config=config)
    rows = history.filter(pl.col("account_id") == account_id).sort("month_idx")
    if rows.is_empty():
        raise NotFoundError(
            f"Account {account_id!r} is not scored in any month up to "
            f"{month or 'the latest month'}: it does not exist or never had MRR > 0."
        )
    latest = rows.row(-1, named=True)
    cov = coverage(wh)
    weights = config.weights.as_dict()
    pillars = {
        pillar: PillarDetail(
            score=latest[pillar],
            weight=weights[pillar],
            has_data=latest[pillar] is not None,
            source_table=PILLAR_TABLES[pillar],
            table_loaded=PILLAR_TABLES[pillar] in cov.loaded,
            inputs={k: latest.get(k) for k in PILLAR_INPUTS[pillar]},
        )
        for pillar in PILLARS
    }
    row: dict[str, Any] = {k: latest.get(k) for k in ACCOUNT_COLUMNS}
    header = AccountHeader(
        **row,
        scored_month=latest["month"],
        previous_score=latest["previous_score"],
        silent=latest["silent"],
        current=latest["month_idx"] == resolve_month(cov, month),
    )
    return AccountDetail(
        account=header,
        pillars=pillars,
        actions=config.actions.get(latest["playbook"], []) if latest["playbook"] else [],
        history=rows.select(HISTORY_COLUMNS),
        timeline=account_timeline(wh, account_id),
        notes=cov.notes(),
    )


def run_backtest(
    source: Runtime | Warehouse,
    config: HealthConfig | None = None,
    horizon: int = 3,
) -> BacktestResult:
    """Backtest every month's scores against churn in the next ``horizon`` months."""
    wh = _warehouse(source)
    config = _config(wh, config)
    if not wh.has_table("subscriptions"):
        raise NoDataError(
            "The health backtest needs the subscriptions table (churn is MRR falling to 0); "
            "it is not loaded."
        )
    if not 1 <= horizon <= 12:
        raise InvalidHealthOption(f"horizon {horizon}: expected 1 to 12 months")
    result = backtest(score_history(wh, config=config), config, horizon)
    result.notes = coverage(wh).notes() + result.notes
    return result
