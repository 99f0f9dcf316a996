"""Alerts: rules, evaluation (an alert fires once per condition until it clears), delivery by
email, webhook and the in-app inbox, acknowledgement, history and digests (docs/retention.md,
Alerts). Owned by the alerts area.

A rule has a ``kind`` (:data:`KINDS`), a ``scope`` (every customer; a saved segment
``{"segment_id": 3}``; or filters ``{"segment": [...], "plan": [...], "owner": [...]}``),
``thresholds`` and ``channels`` (``email``: addresses, ``webhooks``: ``{"url", "style"}``,
``inbox``: the alerts table itself). :func:`evaluate` computes every rule's condition over all
customers at once (polars), then per (rule, subject):

* the condition holds and no alert of it is firing → a new alert fires (for the kinds that speak
  of *entering* a state, only when the subject entered it since the previous month);
* it holds and one is firing → ``last_seen_at`` moves on, nothing is sent again;
* an alert is firing and the condition no longer holds → it is cleared; if the condition
  returns later, a new alert fires.

A rule whose data is missing (one scored month only, no deals loaded) is skipped with the reason,
and its firing alerts are left as they are.
"""

from __future__ import annotations

import html
import json
import math
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

import polars as pl
from sqlalchemy import delete, func, insert, select, update

from revintel.core.errors import ConfigError, InvalidOption, NoDataError, NotFoundError
from revintel.retention import delivery as dlv
from revintel.retention.config import RetentionConfig, load_config
from revintel.store.alerts import Alert, AlertDelivery, AlertRule

if TYPE_CHECKING:
    from revintel.core.runtime import Runtime

Kind = Literal[
    "risk_rise",
    "high_tier_value",
    "health_critical",
    "deal_at_risk",
    "metric_anomaly",
    "segment_risk_rise",
]
Period = Literal["daily", "weekly"]
STATES = ("firing", "cleared")
SCOPE_FILTERS = ("segment", "plan", "owner")
ANOMALY_METRICS = ("mrr", "revenue")
LISTED_IN_MESSAGE = 50
"""A delivery lists this many new alerts in its text; the email attaches all of them as CSV."""
_CHUNK = 500


@dataclass(frozen=True)
class KindSpec:
    """What a rule kind watches, its thresholds (name → (low, high, default, meaning)), and
    whether it fires only on *entering* the state."""

    label: str
    subject: Literal["customer", "deal", "metric", "segment"]
    thresholds: dict[str, tuple[float, float, float | None, str]]
    condition: str


INF = math.inf
KINDS: dict[str, KindSpec] = {
    "risk_rise": KindSpec(
        "Churn risk rose",
        "customer",
        {"points": (0, 100, None, "percentage points of churn risk")},
        "churn risk in the latest scored month minus the month scored before it, in points, "
        "is more than `points`",
    ),
    "high_tier_value": KindSpec(
        "High-value customer entered the High tier",
        "customer",
        {
            "mrr": (0, INF, None, "lowest MRR of the customers watched"),
            "arr": (0, INF, None, "lowest ARR of the customers watched"),
        },
        "risk tier is High, MRR ≥ `mrr` (or ARR ≥ `arr`), and the risk the month before was not "
        "in the High tier (every such customer on the first scored month)",
    ),
    "health_critical": KindSpec(
        "Health turned Critical",
        "customer",
        {"min_mrr": (0, INF, 0.0, "lowest MRR of the customers watched")},
        "health tier is Critical in the latest health month, and was not the month before",
    ),
    "deal_at_risk": KindSpec(
        "Open deal at risk",
        "deal",
        {"amount": (0, INF, None, "lowest deal amount watched")},
        "an open deal with amount ≥ `amount` is critical or carries an alert factor "
        "(docs/pipeline.md, At-risk alerts)",
    ),
    "metric_anomaly": KindSpec(
        "Metric anomaly",
        "metric",
        {"min_size": (0, 10, 0.0, "smallest relative deviation (0.1 = 10%)")},
        "a metric (`metrics`: mrr, revenue) is flagged anomalous in its latest month, with "
        "|size| ≥ `min_size` (docs/forecasting.md, Anomalies)",
    ),
    "segment_risk_rise": KindSpec(
        "Segment's average risk rose",
        "segment",
        {"points": (0, 100, None, "percentage points of average churn risk")},
        "the scope's customers' average churn risk in the latest scored month minus the month "
        "before, in points, is more than `points`",
    ),
}


# -- rules -----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RuleView:
    """A rule as faces show it: webhook URLs masked."""

    id: int
    name: str
    kind: str
    scope: dict[str, Any]
    thresholds: dict[str, Any]
    channels: dict[str, Any]
    enabled: bool
    created_by: str
    created_at: str
    updated_by: str | None
    updated_at: str | None
    firing: int = 0

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @property
    def description(self) -> str:
        return describe_rule(self.kind, self.scope, self.thresholds)


def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat(timespec="seconds")


def _masked_channels(channels: Mapping[str, Any]) -> dict[str, Any]:
    out = dict(channels)
    out["webhooks"] = [
        {"url": dlv.public_url(h["url"]), "style": h.get("style", "generic")}
        for h in channels.get("webhooks", [])
    ]
    return out


def _view(rule: AlertRule, firing: int = 0) -> RuleView:
    return RuleView(
        rule.id,
        rule.name,
        rule.kind,
        dict(rule.scope or {}),
        dict(rule.thresholds or {}),
        _masked_channels(rule.channels or {}),
        bool(rule.enabled),
        rule.created_by,
        _iso(rule.created_at) or "",
        rule.updated_by,
        _iso(rule.updated_at),
        firing,
    )


def describe_rule(kind: str, scope: Mapping[str, Any], thresholds: Mapping[str, Any]) -> str:
    """The rule in words: its kind, thresholds and scope."""
    spec = KINDS.get(kind)
    label = spec.label if spec else kind
    parts = [f"{k} {v}" for k, v in thresholds.items()]
    return f"{label} ({', '.join(parts) or 'no threshold'}) for {describe_scope(scope)}"


def describe_scope(scope: Mapping[str, Any]) -> str:
    if not scope:
        return "all customers"
    if "segment_id" in scope:
        return f"saved segment {scope['segment_id']}"
    return "; ".join(f"{k} in {', '.join(map(str, v))}" for k, v in scope.items())


def parse_scope(text: str | None) -> dict[str, Any]:
    """``all`` (or empty), ``segment_id=3``, or filters ``segment=A|B,plan=Pro,owner=ann``."""
    if text is None or text.strip().lower() in ("", "all"):
        return {}
    out: dict[str, Any] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        key = key.strip()
        if not sep or not value.strip():
            raise InvalidOption(
                f"scope: {part.strip()!r}; expected all, segment_id=N, or filters like "
                "segment=Enterprise|Mid-Market,plan=Pro,owner=ann"
            )
        if key == "segment_id":
            out[key] = value.strip()
        else:
            out[key] = [v.strip() for v in value.split("|") if v.strip()]
    return out


def parse_thresholds(kind: str, text: str | None) -> dict[str, Any]:
    """``10`` (the kind's first threshold) or ``points=10``, ``mrr=5000``,
    ``metrics=mrr|revenue,min_size=0.1``."""
    spec = _spec(kind)
    if text is None or not text.strip():
        return {}
    out: dict[str, Any] = {}
    for part in text.split(","):
        key, sep, value = part.partition("=")
        if not sep:
            key, value = next(iter(spec.thresholds)), key
        key = key.strip()
        if key == "metrics":
            out[key] = [v.strip() for v in value.split("|") if v.strip()]
            continue
        try:
            out[key] = float(value)
        except ValueError as exc:
            raise InvalidOption(
                f"threshold {key}: {value.strip()!r} is not a number; expected e.g. "
                f"{next(iter(spec.thresholds))}=10"
            ) from exc
    return out


def _spec(kind: str) -> KindSpec:
    if kind not in KINDS:
        raise InvalidOption(
            f"kind: {kind!r} is not a rule kind; expected one of {', '.join(KINDS)}"
        )
    return KINDS[kind]


def validate_rule(
    kind: str,
    scope: Mapping[str, Any] | None,
    thresholds: Mapping[str, Any] | None,
    channels: Mapping[str, Any] | None,
    allow_private: Sequence[str] = (),
    name: str | None = "rule",
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """(scope, thresholds, channels) normalised, or InvalidOption naming the field."""
    spec = _spec(kind)
    if name is not None and not name.strip():
        raise InvalidOption("name: empty; expected a name for the rule")
    if name is not None and len(name) > 200:
        raise InvalidOption("name: longer than 200 characters")
    return (
        _check_scope(kind, dict(scope or {})),
        _check_thresholds(kind, spec, dict(thresholds or {})),
        _check_channels(dict(channels or {}), allow_private),
    )


def _check_scope(kind: str, scope: dict[str, Any]) -> dict[str, Any]:
    if scope.get("all"):
        scope.pop("all")
    if "segment_id" in scope:
        if len(scope) > 1:
            raise InvalidOption("scope: a saved segment or filters, not both")
        try:
            sid = int(scope["segment_id"])
        except (TypeError, ValueError) as exc:
            raise InvalidOption(
                f"scope.segment_id: {scope['segment_id']!r}; expected a saved segment's id"
            ) from exc
        if sid < 1:
            raise InvalidOption(f"scope.segment_id: {sid}; expected a saved segment's id (≥ 1)")
        scope = {"segment_id": sid}
    else:
        for key, values in scope.items():
            if key not in SCOPE_FILTERS:
                raise InvalidOption(
                    f"scope: unknown filter {key!r}; expected segment_id or one of "
                    f"{', '.join(SCOPE_FILTERS)}"
                )
            if isinstance(values, str):
                values = [values]
            if not values or not all(isinstance(v, str) and v.strip() for v in values):
                raise InvalidOption(f"scope.{key}: expected one or more non-empty values")
            scope[key] = [v.strip() for v in values]
    if kind == "metric_anomaly" and scope:
        raise InvalidOption("scope: a metric anomaly is company-wide; expected all")
    if kind == "deal_at_risk" and set(scope) - {"owner", "segment"}:
        raise InvalidOption("scope: deals can be scoped by owner or segment only")
    return scope


def _check_thresholds(kind: str, spec: KindSpec, given: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    metrics = given.pop("metrics", None)
    if kind == "metric_anomaly":
        metrics = list(metrics or ANOMALY_METRICS)
        wrong = [m for m in metrics if m not in ANOMALY_METRICS]
        if wrong or not metrics:
            raise InvalidOption(
                f"threshold metrics: {wrong[0] if wrong else 'none'!r}; expected one or more of "
                f"{', '.join(ANOMALY_METRICS)}"
            )
        out["metrics"] = list(dict.fromkeys(metrics))
    elif metrics is not None:
        raise InvalidOption(f"threshold metrics: only a metric_anomaly rule has metrics ({kind})")
    for key, value in given.items():
        if key not in spec.thresholds:
            raise InvalidOption(
                f"threshold {key}: not a threshold of {kind}; expected "
                f"{' or '.join(spec.thresholds)}"
            )
        low, high, _, meaning = spec.thresholds[key]
        try:
            number = float(value)
        except (TypeError, ValueError) as exc:
            raise InvalidOption(f"threshold {key}: {value!r}; expected a number") from exc
        if not math.isfinite(number) or not low <= number <= high:
            bound = f"between {low:g} and {high:g}" if high != INF else f"≥ {low:g}"
            raise InvalidOption(
                f"threshold {key}: {number:g} out of range; expected {bound} ({meaning})"
            )
        out[key] = number
    for key, (_, _, default, _) in spec.thresholds.items():
        if key not in out and default is not None:
            out[key] = default
    if kind == "high_tier_value":
        given_keys = [k for k in ("mrr", "arr") if k in out]
        if len(given_keys) != 1:
            raise InvalidOption(
                "threshold: expected exactly one of mrr or arr (the customer's value), "
                "e.g. mrr=5000"
            )
    else:
        missing = [k for k in spec.thresholds if k not in out]
        if missing:
            raise InvalidOption(
                f"threshold {missing[0]}: missing; expected {spec.thresholds[missing[0]][3]}"
            )
    return out


def _check_channels(channels: dict[str, Any], allow_private: Sequence[str]) -> dict[str, Any]:
    unknown = set(channels) - {"email", "webhooks", "inbox"}
    if unknown:
        raise InvalidOption(
            f"channels: unknown channel {sorted(unknown)[0]!r}; expected email, webhooks, inbox"
        )
    email = channels.get("email") or []
    if isinstance(email, str):
        email = [email]
    emails = list(dict.fromkeys(dlv.check_email(a, "channels.email") for a in email))
    hooks = []
    for i, hook in enumerate(channels.get("webhooks") or []):
        if isinstance(hook, str):
            hook = {"url": hook}
        url = str(hook.get("url") or "").strip()
        style = hook.get("style", "generic")
        if style not in ("generic", "slack"):
            raise InvalidOption(
                f"channels.webhooks[{i}].style: {style!r}; expected generic or slack"
            )
        dlv.check_webhook_url(url, allow_private, field_name=f"channels.webhooks[{i}].url")
        hooks.append({"url": url, "style": style})
    inbox = bool(channels.get("inbox", True))
    if not emails and not hooks and not inbox:
        raise InvalidOption(
            "channels: empty; expected at least one of email, webhooks or the inbox"
        )
    return {"email": emails, "webhooks": hooks, "inbox": inbox}


def _now() -> datetime:
    return datetime.now(UTC)


def _allow_private(rt: Runtime) -> list[str]:
    return list(load_config(rt.settings).webhooks.allow_private)


def create_rule(
    rt: Runtime,
    *,
    name: str,
    kind: str,
    thresholds: Mapping[str, Any] | None = None,
    scope: Mapping[str, Any] | None = None,
    channels: Mapping[str, Any] | None = None,
    enabled: bool = True,
    created_by: str = "api",
) -> RuleView:
    """Validate and save a rule."""
    sc, th, ch = validate_rule(kind, scope, thresholds, channels, _allow_private(rt), name)
    with rt.store.session() as s:
        rule = AlertRule(
            name=name.strip(),
            kind=kind,
            scope=sc,
            thresholds=th,
            channels=ch,
            enabled=enabled,
            created_by=created_by or "api",
            created_at=_now(),
        )
        s.add(rule)
        s.flush()
        return _view(rule)


def _get_rule(s: Any, rule_id: int) -> AlertRule:
    rule = s.get(AlertRule, rule_id)
    if rule is None:
        raise NotFoundError(f"alert rule {rule_id}: no such rule")
    return rule


def get_rule(rt: Runtime, rule_id: int) -> RuleView:
    with rt.store.session() as s:
        return _view(_get_rule(s, rule_id), _firing_counts(s).get(rule_id, 0))


def update_rule(
    rt: Runtime, rule_id: int, changes: Mapping[str, Any], updated_by: str = "api"
) -> RuleView:
    """Change a rule's name, thresholds, scope, channels or enabled flag (validated as a whole).

    A webhook given with a masked URL (as listings show it) keeps the stored URL."""
    allowed = {"name", "thresholds", "scope", "channels", "enabled"}
    wrong = set(changes) - allowed
    if wrong:
        raise InvalidOption(
            f"{sorted(wrong)[0]}: cannot be changed; expected {', '.join(sorted(allowed))}"
        )
    with rt.store.session() as s:
        rule = _get_rule(s, rule_id)
        name = changes.get("name", rule.name)
        channels = dict(changes.get("channels", rule.channels))
        if "channels" in changes:
            stored = {dlv.public_url(h["url"]): h["url"] for h in rule.channels.get("webhooks", [])}
            channels["webhooks"] = [
                {**h, "url": stored.get(h["url"], h["url"])} if isinstance(h, dict) else h
                for h in channels.get("webhooks") or []
            ]
        sc, th, ch = validate_rule(
            rule.kind,
            changes.get("scope", rule.scope),
            changes.get("thresholds", rule.thresholds),
            channels,
            _allow_private(rt),
            name,
        )
        rule.name, rule.scope, rule.thresholds, rule.channels = name.strip(), sc, th, ch
        if "enabled" in changes:
            rule.enabled = bool(changes["enabled"])
        rule.updated_by, rule.updated_at = updated_by, _now()
        s.flush()
        return _view(rule, _firing_counts(s).get(rule_id, 0))


def delete_rule(rt: Runtime, rule_id: int) -> None:
    """Delete a rule with its alerts (its delivery log stays)."""
    with rt.store.session() as s:
        _get_rule(s, rule_id)
        s.execute(delete(Alert).where(Alert.rule_id == rule_id))
        s.execute(delete(AlertRule).where(AlertRule.id == rule_id))


def _firing_counts(s: Any) -> dict[int, int]:
    rows = s.execute(
        select(Alert.rule_id, func.count()).where(Alert.state == "firing").group_by(Alert.rule_id)
    ).all()
    return {int(r): int(n) for r, n in rows}


def list_rules(rt: Runtime) -> list[RuleView]:
    with rt.store.session() as s:
        counts = _firing_counts(s)
        rules = s.scalars(select(AlertRule).order_by(AlertRule.id)).all()
        return [_view(r, counts.get(r.id, 0)) for r in rules]


# -- the data a rule reads -------------------------------------------------------------------------
@dataclass
class AlertInputs:
    """What the rules read; a field left None is read from the runtime when a rule needs it.

    * ``customers``: ``customer_id``, ``name``, ``segment``, ``plan``, ``owner``, ``mrr``,
      ``arr``, ``risk_tier`` (the latest scoring);
    * ``risk``: ``customer_id``, ``month`` (YYYY-MM), ``churn_risk`` (0..1), one row per customer
      and scored month;
    * ``high_cutoff``: the probability above which risk is in the High tier;
    * ``health``: ``customer_id``, ``month``, ``tier``, ``previous_tier``, ``health_score``,
      ``previous_score``;
    * ``deals``: ``deal_id``, ``name``, ``owner``, ``segment``, ``stage``, ``amount``,
      ``health_score``, ``risk_factors`` (at-risk open deals of every amount);
    * ``anomalies``: ``metric``, ``month``, ``size``, ``direction``, ``reason`` (each metric's
      flagged months) and ``latest``: each metric's latest month;
    * ``segment``: a saved segment id → its customer ids.
    """

    customers: pl.DataFrame | None = None
    risk: pl.DataFrame | None = None
    high_cutoff: float | None = None
    health: pl.DataFrame | None = None
    deals: pl.DataFrame | None = None
    anomalies: pl.DataFrame | None = None
    latest: dict[str, str] | None = None
    segment: Callable[[int], pl.Series] | None = None


class _Sources:
    """:class:`AlertInputs`, filling what is missing from the runtime once, on first use."""

    def __init__(self, rt: Runtime, given: AlertInputs | None) -> None:
        self.rt = rt
        self.given = given or AlertInputs()
        self._segments: dict[int, pl.Series] = {}
        self.pair: tuple[pl.DataFrame, str, str | None] | None = None

    def customers(self) -> pl.DataFrame:
        if self.given.customers is None:
            self.given.customers = _read_customers(self.rt)
        return self.given.customers

    def risk(self) -> pl.DataFrame:
        if self.given.risk is None:
            self.given.risk = _read_risk(self.rt)
        return self.given.risk

    def high_cutoff(self) -> float:
        if self.given.high_cutoff is None:
            from revintel.churn.service.predictions import current_tier_cutoffs

            self.given.high_cutoff = float(current_tier_cutoffs(self.rt).high)
        return self.given.high_cutoff

    def health(self) -> pl.DataFrame:
        if self.given.health is None:
            self.given.health = _read_health(self.rt)
        return self.given.health

    def deals(self) -> pl.DataFrame:
        if self.given.deals is None:
            self.given.deals = _read_deals(self.rt)
        return self.given.deals

    def anomalies(self) -> tuple[pl.DataFrame, dict[str, str]]:
        if self.given.anomalies is None or self.given.latest is None:
            self.given.anomalies, self.given.latest = _read_anomalies(self.rt)
        return self.given.anomalies, self.given.latest

    def segment(self, segment_id: int) -> pl.Series:
        if segment_id not in self._segments:
            if self.given.segment is not None:
                ids = self.given.segment(segment_id)
            else:
                from revintel.app.retention.segments import resolve_customers

                ids = resolve_customers(self.rt, segment_id=segment_id)["customer_id"]
            self._segments[segment_id] = ids.cast(pl.String)
        return self._segments[segment_id]


def _read_customers(rt: Runtime) -> pl.DataFrame:
    """The customers frame of the retention features (current values, last complete month)."""
    from revintel.app.retention.features import customer_features

    return customer_features(rt).frame.select(
        customer_id=pl.col("customer_id").cast(pl.String),
        name=pl.coalesce("name", "customer_id"),
        segment="segment",
        plan="plan",
        owner="owner",
        risk_tier="risk_tier",
        mrr=pl.col("mrr").cast(pl.Float64),
        arr=pl.col("arr").cast(pl.Float64),
    )


def _read_risk(rt: Runtime) -> pl.DataFrame:
    """Each customer's last score of each scored month (``predictions``' dated rows)."""
    from revintel.churn.service.predictions import raw_predictions

    raw = raw_predictions(rt).filter(pl.col("scored_at").is_not_null())
    return (
        raw.sort("scored_at")
        .with_columns(month=pl.col("scored_at").cast(pl.Date).dt.strftime("%Y-%m"))
        .group_by("account_id", "month")
        .agg(churn_risk=pl.col("churn_risk_score").last())
        .select(
            customer_id=pl.col("account_id").cast(pl.String),
            month="month",
            churn_risk=pl.col("churn_risk").cast(pl.Float64),
        )
    )


def _read_health(rt: Runtime) -> pl.DataFrame:
    from revintel.health.service import score_month

    scores = score_month(rt)
    tiers = scores.config.tiers
    prev = pl.col("previous_score")
    return scores.frame.select(
        customer_id=pl.col("account_id").cast(pl.String),
        month=pl.lit(scores.month),
        health_score="health_score",
        previous_score="previous_score",
        tier="tier",
        previous_tier=pl.when(prev.is_null())
        .then(None)
        .when(prev >= tiers.healthy_from)
        .then(pl.lit("Healthy"))
        .when(prev >= tiers.at_risk_from)
        .then(pl.lit("At Risk"))
        .otherwise(pl.lit("Critical")),
    )


def _read_deals(rt: Runtime) -> pl.DataFrame:
    from revintel.pipeline.service.deals import at_risk

    rows = at_risk(rt, 0.0).deals
    schema = {
        "deal_id": pl.String,
        "name": pl.String,
        "owner": pl.String,
        "stage": pl.String,
        "amount": pl.Float64,
        "health_score": pl.Float64,
        "risk_factors": pl.String,
    }
    return pl.DataFrame(
        [
            {
                "deal_id": str(r["id"]),
                "name": r.get("name"),
                "owner": r.get("owner"),
                "stage": r.get("stage"),
                "amount": float(r.get("deal_value") or 0.0),
                "health_score": r.get("health_score"),
                "risk_factors": "; ".join(r.get("risk_factors") or []),
            }
            for r in rows
        ],
        schema=schema,
    ).with_columns(segment=pl.lit(None, pl.String))


def _read_anomalies(rt: Runtime) -> tuple[pl.DataFrame, dict[str, str]]:
    from revintel.app.outlooks import find_anomalies
    from revintel.app.reports import series_rows

    report = find_anomalies(rt, ANOMALY_METRICS)
    latest: dict[str, str] = {}
    for metric in ANOMALY_METRICS:
        try:
            months = [str(r["month"]) for r in series_rows(rt, metric)]
        except NoDataError:
            continue
        if months:
            latest[metric] = max(months)
    frame = pl.DataFrame(
        [
            {
                "metric": a.metric,
                "month": a.anomaly.month,
                "size": float(a.anomaly.size),
                "direction": a.anomaly.direction,
                "reason": a.anomaly.reason,
            }
            for a in report.anomalies
        ],
        schema={
            "metric": pl.String,
            "month": pl.String,
            "size": pl.Float64,
            "direction": pl.String,
            "reason": pl.String,
        },
    )
    return frame, latest


# -- conditions ------------------------------------------------------------------------------------
CONDITION_COLUMNS = ("subject", "subject_name", "message", "entering")


def _scoped_ids(src: _Sources, scope: Mapping[str, Any]) -> pl.Series | None:
    """The customer ids a scope admits (None: every customer)."""
    if not scope:
        return None
    if "segment_id" in scope:
        return src.segment(int(scope["segment_id"]))
    frame = src.customers()
    cond = pl.lit(True)
    for key, values in scope.items():
        cond = cond & pl.col(key).is_in(list(values))
    return frame.filter(cond)["customer_id"]


def _two_months(risk: pl.DataFrame, kind: str) -> tuple[str, str | None]:
    months = sorted(risk["month"].unique().drop_nulls().to_list())
    if not months:
        raise NoDataError(f"{kind}: no scored month in the predictions")
    return months[-1], (months[-2] if len(months) > 1 else None)


def _risk_pair(src: _Sources, kind: str, need_two: bool) -> tuple[pl.DataFrame, str, str | None]:
    """Per customer: ``now`` (latest month's risk) and ``before`` (the month before's)."""
    if src.pair is None:
        src.pair = _pair_of(src.risk(), kind)
    pair, latest, previous = src.pair
    if previous is None and need_two:
        raise NoDataError(
            f"{kind}: needs two scored months to compare; the predictions hold only {latest} "
            "(score again next month)"
        )
    return pair, latest, previous


def _pair_of(risk: pl.DataFrame, kind: str) -> tuple[pl.DataFrame, str, str | None]:
    latest, previous = _two_months(risk, kind)
    now = risk.filter(pl.col("month") == latest).select("customer_id", now="churn_risk")
    if previous is None:
        return now.with_columns(before=pl.lit(None, pl.Float64)), latest, None
    before = risk.filter(pl.col("month") == previous).select("customer_id", before="churn_risk")
    return now.join(before, on="customer_id", how="left"), latest, previous


def _pct(expr: pl.Expr) -> pl.Expr:
    return (expr * 100).round(1).cast(pl.String) + pl.lit("%")


def _money(expr: pl.Expr) -> pl.Expr:
    return expr.round(0).cast(pl.Int64).cast(pl.String)


def _with_names(frame: pl.DataFrame, src: _Sources) -> pl.DataFrame:
    names = src.customers().select("customer_id", "name", "mrr", "arr", "segment", "owner")
    return frame.join(names, on="customer_id", how="left").with_columns(
        name=pl.coalesce("name", "customer_id")
    )


def _in_scope(frame: pl.DataFrame, ids: pl.Series | None) -> pl.DataFrame:
    if ids is None:
        return frame
    return frame.join(ids.rename("customer_id").to_frame(), on="customer_id", how="semi")


def condition_frame(rule: Mapping[str, Any], src: _Sources) -> tuple[pl.DataFrame, list[str]]:
    """The subjects for which ``rule``'s condition holds now: ``subject``, ``subject_name``,
    ``message``, ``entering`` (may fire a new alert) and the detail columns; with notes."""
    kind = rule["kind"]
    th = rule["thresholds"]
    scope = rule["scope"]
    notes: list[str] = []
    if kind == "risk_rise":
        pair, latest, previous = _risk_pair(src, kind, True)
        frame = _in_scope(pair, _scoped_ids(src, scope))
        frame = frame.with_columns(rise=((pl.col("now") - pl.col("before")) * 100).round(2))
        frame = _with_names(frame.filter(pl.col("rise") > th["points"]), src)
        frame = frame.select(
            subject="customer_id",
            subject_name="name",
            message=pl.format(
                "{}: churn risk rose {} points ({} → {}) from {} to {}",
                "name",
                pl.col("rise").round(1).cast(pl.String),
                _pct(pl.col("before")),
                _pct(pl.col("now")),
                pl.lit(previous),
                pl.lit(latest),
            ),
            entering=pl.lit(True),
            risk_before="before",
            risk_now="now",
            rise_points="rise",
            mrr="mrr",
            month=pl.lit(latest),
        )
    elif kind == "high_tier_value":
        key = "mrr" if "mrr" in th else "arr"
        pair, latest, previous = _risk_pair(src, kind, False)
        cut = src.high_cutoff()
        customers = _in_scope(src.customers(), _scoped_ids(src, scope))
        frame = customers.filter((pl.col("risk_tier") == "High") & (pl.col(key) >= th[key])).join(
            pair, on="customer_id", how="left"
        )
        if previous is None:
            notes.append(f"{kind}: one scored month only, every High customer counts as entering")
        frame = frame.select(
            subject="customer_id",
            subject_name=pl.coalesce("name", "customer_id"),
            message=pl.format(
                "{} ({} {}) entered the High risk tier: churn risk {}",
                pl.coalesce("name", "customer_id"),
                pl.lit(key.upper()),
                _money(pl.col(key)),
                _pct(pl.col("now")),
            ),
            entering=pl.col("before").is_null() | (pl.col("before") <= cut),
            risk_now="now",
            risk_before="before",
            mrr="mrr",
            arr="arr",
            month=pl.lit(latest),
        )
    elif kind == "health_critical":
        health = _in_scope(src.health(), _scoped_ids(src, scope))
        frame = _with_names(health.filter(pl.col("tier") == "Critical"), src)
        frame = frame.filter(pl.col("mrr").fill_null(0) >= th.get("min_mrr", 0))
        frame = frame.select(
            subject="customer_id",
            subject_name="name",
            message=pl.format(
                "{}: health turned Critical (score {}, was {}) in {}",
                "name",
                pl.col("health_score").round(1).cast(pl.String),
                pl.col("previous_score").round(1).cast(pl.String).fill_null("unknown"),
                "month",
            ),
            entering=pl.col("previous_tier").is_null() | (pl.col("previous_tier") != "Critical"),
            health_score="health_score",
            previous_score="previous_score",
            mrr="mrr",
            month="month",
        )
    elif kind == "deal_at_risk":
        deals = src.deals().filter(pl.col("amount") >= th["amount"])
        for key, values in scope.items():
            deals = deals.filter(pl.col(key).is_in(list(values)))
        frame = deals.select(
            subject="deal_id",
            subject_name=pl.coalesce("name", "deal_id"),
            message=pl.format(
                "Deal {} ({}, {}) is at risk: health {}; {}",
                pl.coalesce("name", "deal_id"),
                _money(pl.col("amount")),
                pl.col("stage").fill_null("open"),
                pl.col("health_score").round(0).cast(pl.String).fill_null("unknown"),
                pl.col("risk_factors").fill_null(""),
            ),
            entering=pl.lit(True),
            amount="amount",
            owner="owner",
            stage="stage",
            health_score="health_score",
        )
    elif kind == "metric_anomaly":
        anomalies, newest = src.anomalies()
        metrics = th.get("metrics", list(ANOMALY_METRICS))
        wanted = pl.DataFrame(
            {"metric": list(newest), "month": list(newest.values())},
            schema={"metric": pl.String, "month": pl.String},
        ).filter(pl.col("metric").is_in(metrics))
        frame = anomalies.join(wanted, on=["metric", "month"], how="inner").filter(
            pl.col("size").abs() >= th.get("min_size", 0.0)
        )
        frame = (
            frame.group_by("metric", "month")
            .agg(pl.all().sort_by(pl.col("size").abs()).last())
            .select(
                subject=pl.col("metric") + pl.lit(":") + pl.col("month"),
                subject_name=pl.col("metric").str.to_uppercase() + pl.lit(" ") + pl.col("month"),
                message=pl.format(
                    "{} is anomalous in {}: {} ({} {})",
                    pl.col("metric").str.to_uppercase(),
                    "month",
                    "reason",
                    "direction",
                    _pct(pl.col("size")),
                ),
                entering=pl.lit(True),
                metric="metric",
                month="month",
                size="size",
                direction="direction",
            )
        )
    elif kind == "segment_risk_rise":
        pair, latest, previous = _risk_pair(src, kind, True)
        ids = _scoped_ids(src, scope)
        frame = _in_scope(pair, ids)
        label = describe_scope(scope)
        key = (
            f"segment:{scope['segment_id']}"
            if "segment_id" in scope
            else ("scope:" + json.dumps(scope, sort_keys=True) if scope else "portfolio")
        )
        stats = frame.select(
            now=pl.col("now").mean(),
            before=pl.col("before").mean(),
            customers=pl.len(),
        ).with_columns(rise=((pl.col("now") - pl.col("before")) * 100).round(2))
        frame = stats.filter(pl.col("rise") > th["points"]).select(
            subject=pl.lit(key[:255]),
            subject_name=pl.lit(label[:255]),
            message=pl.format(
                "{}: average churn risk rose {} points ({} → {}) from {} to {} over {} customers",
                pl.lit(label),
                pl.col("rise").round(1).cast(pl.String),
                _pct(pl.col("before")),
                _pct(pl.col("now")),
                pl.lit(previous),
                pl.lit(latest),
                "customers",
            ),
            entering=pl.lit(True),
            average_before="before",
            average_now="now",
            rise_points="rise",
            customers="customers",
            month=pl.lit(latest),
        )
    else:  # pragma: no cover - validated on save
        raise InvalidOption(f"kind: {kind!r}")
    return frame.unique("subject", keep="first"), notes


# -- evaluation ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class RuleOutcome:
    """What one rule did in one evaluation; ``skipped`` says why it could not be evaluated."""

    rule_id: int
    name: str
    kind: str
    fired: int = 0
    still_firing: int = 0
    cleared: int = 0
    skipped: str | None = None
    notes: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class DeliveryRecord:
    """One logged delivery (of a rule's new alerts, a digest or a test message)."""

    id: int
    kind: str
    rule_id: int | None
    alert_id: int | None
    alert_count: int
    channel: str
    target: str
    status: str
    attempts: int
    http_status: int | None
    detail: str | None
    at: str
    attempt_log: list[dict[str, Any]]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class EvaluationSummary:
    """One evaluation: alerts fired, still firing and cleared, and the deliveries made."""

    evaluated_at: str
    fired: int
    still_firing: int
    cleared: int
    deliveries_sent: int
    deliveries_failed: int
    rules: list[RuleOutcome]
    deliveries: list[DeliveryRecord]
    seconds: float

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _firing_frame(s: Any, rule_id: int) -> pl.DataFrame:
    rows = s.execute(
        select(Alert.id, Alert.subject).where(Alert.rule_id == rule_id, Alert.state == "firing")
    ).all()
    return pl.DataFrame(
        {"id": [r[0] for r in rows], "subject": [r[1] for r in rows]},
        schema={"id": pl.Int64, "subject": pl.String},
    )


def _chunks(values: Sequence[int], size: int = _CHUNK) -> Iterable[Sequence[int]]:
    for i in range(0, len(values), size):
        yield values[i : i + size]


def _jsonable(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def evaluate(
    rt: Runtime,
    *,
    inputs: AlertInputs | None = None,
    rule_ids: Sequence[int] | None = None,
    deliver: bool = True,
    now: datetime | None = None,
) -> EvaluationSummary:
    """Evaluate every enabled rule (or ``rule_ids``), fire new alerts, clear resolved ones,
    deliver; the result says what fired, cleared and was delivered.

    Each rule's changes are written in one transaction; deliveries happen after it commits (a
    failed receiver loses nothing: the alerts stay, the delivery log has every attempt)."""
    import time as _time

    started = _time.perf_counter()
    now = now or _now()
    cfg = load_config(rt.settings)
    src = _Sources(rt, inputs)
    with rt.store.session() as s:
        query = select(AlertRule).where(AlertRule.enabled.is_(True)).order_by(AlertRule.id)
        if rule_ids is not None:
            query = select(AlertRule).where(AlertRule.id.in_(list(rule_ids)))
        rules: list[dict[str, Any]] = [
            {
                "id": r.id,
                "name": r.name,
                "kind": r.kind,
                "scope": dict(r.scope or {}),
                "thresholds": dict(r.thresholds or {}),
                "channels": dict(r.channels or {}),
            }
            for r in s.scalars(query).all()
        ]
    outcomes: list[RuleOutcome] = []
    records: list[DeliveryRecord] = []
    for rule in rules:
        try:
            cond, notes = condition_frame(rule, src)
        except (NoDataError, NotFoundError, InvalidOption, ConfigError) as exc:
            outcomes.append(RuleOutcome(rule["id"], rule["name"], rule["kind"], skipped=str(exc)))
            continue
        outcome, new_alerts = _apply(rt, rule, cond, now)
        outcomes.append(RuleOutcome(**{**asdict(outcome), "notes": notes}))
        if deliver and new_alerts:
            records.extend(_deliver_rule(rt, cfg, rule, new_alerts, now))
    return EvaluationSummary(
        evaluated_at=_iso(now) or "",
        fired=sum(o.fired for o in outcomes),
        still_firing=sum(o.still_firing for o in outcomes),
        cleared=sum(o.cleared for o in outcomes),
        deliveries_sent=sum(r.status == "sent" for r in records),
        deliveries_failed=sum(r.status == "failed" for r in records),
        rules=outcomes,
        deliveries=records,
        seconds=round(_time.perf_counter() - started, 3),
    )


def _apply(
    rt: Runtime, rule: Mapping[str, Any], cond: pl.DataFrame, now: datetime
) -> tuple[RuleOutcome, list[dict[str, Any]]]:
    rid = rule["id"]
    detail_cols = [c for c in cond.columns if c not in CONDITION_COLUMNS]
    with rt.store.session() as s:
        firing = _firing_frame(s, rid)
        holding = cond.select("subject")
        cleared = firing.join(holding, on="subject", how="anti")["id"].to_list()
        still = firing.height - len(cleared)
        new = cond.filter(pl.col("entering")).join(firing, on="subject", how="anti")
        for chunk in _chunks(cleared):
            s.execute(
                update(Alert)
                .where(Alert.id.in_(list(chunk)))
                .values(state="cleared", cleared_at=now, last_seen_at=now)
            )
        if still:
            s.execute(
                update(Alert)
                .where(Alert.rule_id == rid, Alert.state == "firing")
                .values(last_seen_at=now)
            )
        rows: list[dict[str, Any]] = []
        if new.height:
            details = new.select(detail_cols).to_dicts() if detail_cols else [{}] * new.height
            for subject, name, message, extra in zip(
                new["subject"].to_list(),
                new["subject_name"].to_list(),
                new["message"].to_list(),
                details,
                strict=True,
            ):
                rows.append(
                    {
                        "rule_id": rid,
                        "subject": str(subject)[:255],
                        "subject_name": None if name is None else str(name)[:255],
                        "state": "firing",
                        "message": message or str(subject),
                        "details": {k: _jsonable(v) for k, v in extra.items()},
                        "first_fired_at": now,
                        "last_seen_at": now,
                    }
                )
            s.execute(insert(Alert), rows)
            ids = dict(
                s.execute(
                    select(Alert.subject, Alert.id).where(
                        Alert.rule_id == rid, Alert.state == "firing", Alert.first_fired_at == now
                    )
                ).all()
            )
            for row in rows:
                row["id"] = ids.get(row["subject"])
    outcome = RuleOutcome(rid, rule["name"], rule["kind"], len(rows), still, len(cleared))
    return outcome, rows


# -- delivery --------------------------------------------------------------------------------------
def _csv(alerts: Sequence[Mapping[str, Any]]) -> bytes:
    from revintel.core.csv_export import to_csv_bytes

    rows = []
    for a in alerts:
        fired = a.get("first_fired_at")
        rows.append(
            {
                "alert_id": a.get("id"),
                "subject": a["subject"],
                "name": a.get("subject_name") or "",
                "message": a["message"],
                "first_fired_at": _iso(fired) if isinstance(fired, datetime) else fired,
            }
        )
    return to_csv_bytes(rows, ["alert_id", "subject", "name", "message", "first_fired_at"])


def _alert_message(
    rule: Mapping[str, Any], alerts: Sequence[Mapping[str, Any]], cfg: RetentionConfig
) -> tuple[str, str, str, list[str]]:
    """Subject, text, HTML and the listed lines of a rule's new alerts."""
    n = len(alerts)
    title = f"[revintel] {rule['name']}: {n} new alert{'s' if n != 1 else ''}"
    lines = [a["message"] for a in alerts[:LISTED_IN_MESSAGE]]
    more = n - len(lines)
    head = describe_rule(rule["kind"], rule["scope"], rule["thresholds"])
    text = "\n".join(
        [
            f"Rule: {rule['name']} — {head}",
            "",
            *[f"- {line}" for line in lines],
            *([f"… and {more} more (all in the attached CSV)"] if more > 0 else []),
            "",
            "Acknowledge them in the Alerts inbox"
            + (f": {cfg.alerts.dashboard_url}" if cfg.alerts.dashboard_url else "."),
        ]
    )
    items = "".join(f"<li>{html.escape(line)}</li>" for line in lines)
    html_body = (
        f"<h2>{html.escape(rule['name'])}</h2><p>{html.escape(head)}</p><ul>{items}</ul>"
        + (f"<p>… and {more} more (all in the attached CSV)</p>" if more > 0 else "")
    )
    return title, text, html_body, lines


def _record(
    rt: Runtime,
    result: dlv.Delivery,
    *,
    kind: str,
    rule_id: int | None,
    alert_ids: Sequence[int],
    at: datetime,
) -> DeliveryRecord:
    ids = [int(i) for i in alert_ids if i is not None]
    with rt.store.session() as s:
        row = AlertDelivery(
            kind=kind,
            rule_id=rule_id,
            alert_id=ids[0] if len(ids) == 1 else None,
            alert_ids=ids[:1000],
            channel=result.channel,
            target=result.target[:500],
            status=result.status,
            attempts=result.attempts,
            http_status=result.http_status,
            detail=result.detail,
            attempt_log=[a.to_dict() for a in result.attempt_log],
            at=at,
        )
        s.add(row)
        s.flush()
        return _delivery_record(row, len(ids))


def _delivery_record(row: AlertDelivery, count: int | None = None) -> DeliveryRecord:
    return DeliveryRecord(
        row.id,
        row.kind,
        row.rule_id,
        row.alert_id,
        count if count is not None else len(row.alert_ids or []),
        row.channel,
        row.target,
        row.status,
        row.attempts,
        row.http_status,
        row.detail,
        _iso(row.at) or "",
        list(row.attempt_log or []),
    )


def _deliver_rule(
    rt: Runtime,
    cfg: RetentionConfig,
    rule: Mapping[str, Any],
    alerts: Sequence[Mapping[str, Any]],
    now: datetime,
) -> list[DeliveryRecord]:
    channels = rule["channels"]
    ids = [a["id"] for a in alerts]
    out: list[DeliveryRecord] = []
    if not channels.get("email") and not channels.get("webhooks"):
        return out
    subject, text, html_body, lines = _alert_message(rule, alerts, cfg)
    if channels.get("email"):
        result = dlv.send_mail(
            cfg.mail,
            to=channels["email"],
            subject=subject,
            text=text,
            html=html_body,
            attachments=[(f"alerts-rule-{rule['id']}.csv", _csv(alerts), "text/csv")],
        )
        out.append(_record(rt, result, kind="alert", rule_id=rule["id"], alert_ids=ids, at=now))
    for hook in channels.get("webhooks", []):
        payload = {
            "event": "alerts.fired",
            "title": subject.removeprefix("[revintel] "),
            "text": describe_rule(rule["kind"], rule["scope"], rule["thresholds"]),
            "items": lines,
            "rule": {"id": rule["id"], "name": rule["name"], "kind": rule["kind"]},
            "count": len(alerts),
            "alerts": [
                {
                    "id": a.get("id"),
                    "subject": a["subject"],
                    "subject_name": a.get("subject_name"),
                    "message": a["message"],
                    "details": a.get("details", {}),
                    "first_fired_at": _iso(now),
                }
                for a in alerts[:100]
            ],
            "truncated": len(alerts) > 100,
            "url": cfg.alerts.dashboard_url,
        }
        try:
            result = dlv.post_webhook(cfg.webhooks, hook["url"], payload, style=hook["style"])
        except InvalidOption as exc:  # a URL saved before the policy changed
            result = dlv.Delivery("webhook", dlv.public_url(hook["url"]), "failed", 0, str(exc))
        out.append(_record(rt, result, kind="alert", rule_id=rule["id"], alert_ids=ids, at=now))
    return out


# -- inbox, history, deliveries --------------------------------------------------------------------
@dataclass(frozen=True)
class AlertView:
    """One alert as the inbox and history show it."""

    id: int
    rule_id: int
    rule_name: str
    kind: str
    subject: str
    subject_name: str | None
    state: str
    message: str
    details: dict[str, Any]
    first_fired_at: str
    last_seen_at: str
    cleared_at: str | None
    acknowledged_by: str | None
    acknowledged_at: str | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class AlertList:
    """A page of alerts with the total count matching the filters."""

    total: int
    alerts: list[AlertView]

    def to_dict(self) -> dict[str, Any]:
        return {"total": self.total, "alerts": [a.to_dict() for a in self.alerts]}


def _alert_view(alert: Alert, rule_name: str, kind: str) -> AlertView:
    return AlertView(
        alert.id,
        alert.rule_id,
        rule_name,
        kind,
        alert.subject,
        alert.subject_name,
        alert.state,
        alert.message,
        dict(alert.details or {}),
        _iso(alert.first_fired_at) or "",
        _iso(alert.last_seen_at) or "",
        _iso(alert.cleared_at),
        alert.acknowledged_by,
        _iso(alert.acknowledged_at),
    )


def list_alerts(
    rt: Runtime,
    *,
    state: Literal["firing", "cleared", "all"] = "firing",
    acknowledged: bool | None = None,
    rule_id: int | None = None,
    since: datetime | None = None,
    limit: int = 100,
    offset: int = 0,
) -> AlertList:
    """The inbox (firing alerts, newest first) or, with ``state="all"``, the history."""
    if state not in ("firing", "cleared", "all"):
        raise InvalidOption(f"state: {state!r}; expected firing, cleared or all")
    if not 1 <= limit <= 10_000:
        raise InvalidOption(f"limit: {limit}; expected 1 to 10000")
    if offset < 0:
        raise InvalidOption(f"offset: {offset}; expected ≥ 0")
    conds = []
    if state != "all":
        conds.append(Alert.state == state)
    if acknowledged is True:
        conds.append(Alert.acknowledged_at.is_not(None))
    elif acknowledged is False:
        conds.append(Alert.acknowledged_at.is_(None))
    if rule_id is not None:
        conds.append(Alert.rule_id == rule_id)
    if since is not None:
        conds.append(Alert.first_fired_at >= since)
    with rt.store.session() as s:
        total = s.scalar(select(func.count()).select_from(Alert).where(*conds)) or 0
        rows = s.execute(
            select(Alert, AlertRule.name, AlertRule.kind)
            .join(AlertRule, AlertRule.id == Alert.rule_id)
            .where(*conds)
            .order_by(Alert.first_fired_at.desc(), Alert.id.desc())
            .limit(limit)
            .offset(offset)
        ).all()
        return AlertList(int(total), [_alert_view(a, n, k) for a, n, k in rows])


def history(rt: Runtime, *, rule_id: int | None = None, limit: int = 100) -> AlertList:
    """Every alert, firing or cleared, newest first."""
    return list_alerts(rt, state="all", rule_id=rule_id, limit=limit)


def acknowledge(rt: Runtime, alert_id: int, by: str) -> AlertView:
    """Mark an alert acknowledged by ``by`` (the first acknowledgement is kept)."""
    if not by or not by.strip():
        raise InvalidOption("by: empty; expected who acknowledges the alert")
    with rt.store.session() as s:
        alert = s.get(Alert, alert_id)
        if alert is None:
            raise NotFoundError(f"alert {alert_id}: no such alert")
        if alert.acknowledged_at is None:
            alert.acknowledged_by, alert.acknowledged_at = by.strip()[:255], _now()
        rule = s.get(AlertRule, alert.rule_id)
        s.flush()
        return _alert_view(alert, rule.name if rule else "", rule.kind if rule else "")


def list_deliveries(
    rt: Runtime,
    *,
    status: Literal["sent", "failed"] | None = None,
    rule_id: int | None = None,
    limit: int = 100,
) -> list[DeliveryRecord]:
    """The delivery log, newest first, each with its attempts."""
    if status not in (None, "sent", "failed"):
        raise InvalidOption(f"status: {status!r}; expected sent or failed")
    conds = []
    if status:
        conds.append(AlertDelivery.status == status)
    if rule_id is not None:
        conds.append(AlertDelivery.rule_id == rule_id)
    with rt.store.session() as s:
        rows = s.scalars(
            select(AlertDelivery).where(*conds).order_by(AlertDelivery.id.desc()).limit(limit)
        ).all()
        return [_delivery_record(r) for r in rows]


# -- digests and test messages ---------------------------------------------------------------------
@dataclass(frozen=True)
class DigestResult:
    """One digest: the period, the alerts it summarised and its deliveries."""

    period: str
    since: str
    until: str
    alerts: int
    by_rule: dict[str, int]
    deliveries: list[DeliveryRecord]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


PERIODS = {"daily": timedelta(days=1), "weekly": timedelta(days=7)}


def send_digests(
    rt: Runtime, period: Literal["daily", "weekly"], *, now: datetime | None = None
) -> DigestResult:
    """Send the daily or weekly digest of alerts to the configured recipients."""
    if period not in PERIODS:
        raise InvalidOption(f"period: {period!r}; expected daily or weekly")
    cfg = load_config(rt.settings)
    recipients = list(cfg.alerts.digest_recipients)
    if not recipients and not cfg.alerts.digest_webhook:
        raise ConfigError(
            "alerts.digest_recipients is empty and alerts.digest_webhook is not set: nobody to "
            "send the digest to (set them in the retention settings)"
        )
    now = now or _now()
    since = now - PERIODS[period]
    found = list_alerts(rt, state="all", since=since, limit=10_000)
    by_rule: dict[str, int] = {}
    for a in found.alerts:
        by_rule[a.rule_name] = by_rule.get(a.rule_name, 0) + 1
    n = found.total
    title = f"[revintel] {period.capitalize()} alert digest: {n} alert{'s' if n != 1 else ''}"
    span = f"{since:%Y-%m-%d %H:%M} to {now:%Y-%m-%d %H:%M} UTC"
    firing = sum(a.state == "firing" for a in found.alerts)
    lines = [f"{a.rule_name}: {a.message} ({a.state})" for a in found.alerts[:LISTED_IN_MESSAGE]]
    text = "\n".join(
        [
            f"Alerts fired {span}: {n} ({firing} still firing).",
            "",
            *[f"{name}: {count}" for name, count in sorted(by_rule.items())],
            "",
            *[f"- {line}" for line in lines],
            *([f"… and {n - len(lines)} more"] if n > len(lines) else []),
        ]
    )
    if not n:
        text = f"No alert fired {span}."
    html_body = (
        f"<h2>{html.escape(title.removeprefix('[revintel] '))}</h2>"
        f"<p>{html.escape(span)}</p><ul>"
        + "".join(f"<li>{html.escape(line)}</li>" for line in lines)
        + "</ul>"
    )
    ids = [a.id for a in found.alerts]
    records = []
    if recipients:
        rows = [
            {
                "id": a.id,
                "subject": a.subject,
                "subject_name": a.subject_name,
                "message": a.message,
                "first_fired_at": a.first_fired_at,
            }
            for a in found.alerts
        ]
        result = dlv.send_mail(
            cfg.mail,
            to=recipients,
            subject=title,
            text=text,
            html=html_body,
            attachments=[(f"alerts-{period}-{now:%Y%m%d}.csv", _csv(rows), "text/csv")]
            if n
            else [],
        )
        records.append(_record(rt, result, kind="digest", rule_id=None, alert_ids=ids, at=now))
    if cfg.alerts.digest_webhook:
        payload = {
            "event": f"alerts.digest.{period}",
            "title": title.removeprefix("[revintel] "),
            "text": text.split("\n", 1)[0],
            "items": lines,
            "since": _iso(since),
            "until": _iso(now),
            "count": n,
            "by_rule": by_rule,
        }
        result = dlv.post_webhook(
            cfg.webhooks, cfg.alerts.digest_webhook, payload, style=cfg.alerts.digest_webhook_style
        )
        records.append(_record(rt, result, kind="digest", rule_id=None, alert_ids=ids, at=now))
    return DigestResult(period, _iso(since) or "", _iso(now) or "", n, by_rule, records)


def test_delivery(
    rt: Runtime,
    *,
    email: str | None = None,
    webhook: str | None = None,
    style: Literal["generic", "slack"] = "generic",
) -> list[DeliveryRecord]:
    """Send a test message to ``email`` and/or ``webhook`` with the current settings."""
    if not email and not webhook:
        raise InvalidOption("email, webhook: expected at least one target for the test message")
    cfg = load_config(rt.settings)
    now = _now()
    out = []
    if email:
        address = dlv.check_email(email, "email")
        result = dlv.send_mail(
            cfg.mail,
            to=[address],
            subject="[revintel] Test message",
            text="This is a test message from revintel alerts: email delivery works.",
            html="<p>This is a test message from revintel alerts: email delivery works.</p>",
        )
        out.append(_record(rt, result, kind="test", rule_id=None, alert_ids=[], at=now))
    if webhook:
        dlv.check_webhook_url(webhook, cfg.webhooks.allow_private, field_name="webhook")
        payload = {
            "event": "alerts.test",
            "title": "revintel test message",
            "text": "Webhook delivery works.",
        }
        result = dlv.post_webhook(cfg.webhooks, webhook, payload, style=style)
        out.append(_record(rt, result, kind="test", rule_id=None, alert_ids=[], at=now))
    return out


test_delivery.__test__ = False  # type: ignore[attr-defined]  # not a pytest test
