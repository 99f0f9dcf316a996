"""Campaigns: templates, the wizard (audience → template → timeline → owners → success criteria →
holdout → create), tasks by owner and the CRM export (docs/retention.md, Campaigns).

:func:`create_campaign` validates the whole request first (audience, template and edited steps,
dates, owners, criteria, holdout), then writes the campaign, its members (treated and holdout,
with risk tier, risk and MRR at the start) and one task per step for each treated customer, with
its rendered email or call script, in ONE transaction: a failed wizard leaves nothing.
:func:`preview_campaign` runs the same plan without writing (the wizard's preview).

Measured impact (treated versus holdout) is :mod:`revintel.app.retention.impact`.
"""

from __future__ import annotations

import secrets
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
from sqlalchemy import Date, func, insert, select

from revintel.core.csv_export import to_csv
from revintel.core.errors import InvalidOption, NotFoundError, RevintelError
from revintel.retention import holdout as H
from revintel.retention import templates as T
from revintel.retention.config import load_config
from revintel.store.campaigns import Campaign, CampaignMember, CampaignTask, CampaignTemplate

if TYPE_CHECKING:
    from revintel.app.retention.features import CustomerFeatures
    from revintel.core.runtime import Runtime

STATUSES = ("todo", "contacted", "responded", "done")
"""A task's status flow: to do → contacted → responded → done (forward only; steps may be
skipped, e.g. to do → done)."""
CAMPAIGN_STATUSES = ("active", "finished", "cancelled")
CSV_COLUMNS = (
    "task_id", "campaign_id", "campaign", "customer_id", "customer_name", "owner", "due_date",
    "step", "kind", "title", "condition", "status", "outcome", "subject", "script",
)  # fmt: skip
CRITERIA = {
    "risk_below": "Churn risk below this (0-1) within `within_days` days.",
    "within_days": "Days after the start the risk criterion is read (1-365).",
    "no_churn_months": "No churn for this many months after the start (1-24).",
}
MAX_OUTCOME = 2000
UNASSIGNED = "unassigned"


def _now() -> datetime:
    return datetime.now(UTC)


# -- templates ------------------------------------------------------------------------------------
def _from_row(row: CampaignTemplate) -> T.Template:
    return T.Template(
        name=row.name,
        label=row.label,
        description=row.description or "",
        target=row.target or "",
        steps=tuple(T.Step(**s) for s in row.steps),
        builtin=False,
        meta={
            "based_on": row.based_on,
            "created_by": row.created_by,
            "created_at": row.created_at.isoformat() if row.created_at else None,
            "updated_by": row.updated_by,
            "updated_at": row.updated_at.isoformat() if row.updated_at else None,
        },
    )


def list_templates(rt: Runtime) -> list[T.Template]:
    """The five built-in templates, then the custom ones by name."""
    with rt.store.session() as s:
        rows = s.scalars(select(CampaignTemplate).order_by(CampaignTemplate.name)).all()
        custom = [_from_row(r) for r in rows]
    return [*T.BUILTIN.values(), *custom]


def get_template(rt: Runtime, name: str) -> T.Template:
    """A built-in or custom template by name; NotFoundError listing the names."""
    if name in T.BUILTIN:
        return T.BUILTIN[name]
    with rt.store.session() as s:
        row = s.scalars(select(CampaignTemplate).where(CampaignTemplate.name == name)).first()
        if row is not None:
            return _from_row(row)
        names = [*T.BUILTIN, *s.scalars(select(CampaignTemplate.name)).all()]
    raise NotFoundError(f"template {name!r}: no such template; expected one of {', '.join(names)}")


def save_template(rt: Runtime, data: dict[str, Any], author: str) -> T.Template:
    """Create or replace a custom template (by ``name``); every script is checked first
    (:func:`revintel.retention.templates.validate_template`: an unknown variable is refused, naming
    it and the allowed list). A built-in's name is refused: save a copy under another name."""
    template = T.validate_template(data)
    author = _author(author)
    steps = [s.to_dict() for s in template.steps]
    with rt.store.session() as s:
        row = s.scalars(
            select(CampaignTemplate).where(CampaignTemplate.name == template.name)
        ).first()
        if row is None:
            row = CampaignTemplate(
                name=template.name,
                label=template.label,
                description=template.description,
                target=template.target,
                steps=steps,
                based_on=template.meta.get("based_on"),
                created_at=_now(),
                created_by=author,
            )
            s.add(row)
        else:
            row.label = template.label
            row.description = template.description
            row.target = template.target
            row.steps = steps
            row.based_on = template.meta.get("based_on") or row.based_on
            row.updated_at = _now()
            row.updated_by = author
        s.flush()
        return _from_row(row)


def copy_template(rt: Runtime, source: str, name: str, author: str) -> T.Template:
    """Save a copy of a template (built-in or custom) under ``name``, to edit it."""
    original = get_template(rt, source)
    data = original.to_dict()
    return save_template(
        rt,
        {
            "name": name,
            "label": f"{original.label} (copy)",
            "description": data["description"],
            "target": data["target"],
            "steps": data["steps"],
            "based_on": source,
        },
        author,
    )


def delete_template(rt: Runtime, name: str) -> None:
    """Delete a custom template (campaigns keep their own copy of its steps)."""
    if name in T.BUILTIN:
        raise InvalidOption(f"template {name!r}: a built-in template cannot be deleted")
    with rt.store.session() as s:
        row = s.scalars(select(CampaignTemplate).where(CampaignTemplate.name == name)).first()
        if row is None:
            raise NotFoundError(f"template {name!r}: no such custom template")
        s.delete(row)


@dataclass(frozen=True)
class RenderedStep:
    """A step of a template rendered for one customer (the wizard's preview)."""

    day: int
    due_date: str
    kind: str
    condition: str
    title: str
    subject: str
    script: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def preview_template(
    rt: Runtime,
    name: str,
    *,
    steps: list[dict[str, Any]] | None = None,
    customer_id: str | None = None,
    start: date | None = None,
    features: CustomerFeatures | None = None,
) -> dict[str, Any]:
    """A template's timeline rendered for one customer (``customer_id``, or a sample customer when
    none is given), with its steps edited when ``steps`` is given."""
    template = get_template(rt, name)
    chosen = T.parse_steps(steps) if steps is not None else template.steps
    start = start or date.today()
    row: dict[str, Any] = dict(T.SAMPLE_CUSTOMER)
    factors = list(T.SAMPLE_FACTORS)
    if customer_id is not None:
        frame = _features(rt, features).frame.filter(pl.col("customer_id") == customer_id)
        if frame.is_empty():
            raise NotFoundError(f"customer_id {customer_id!r}: no such customer")
        frame = _with_factors(rt, frame)
        row = frame.row(0, named=True)
        factors = _factor_list(row)
    compiled = T.CompiledTemplate(chosen, campaign_name=template.label, start=start)
    rendered = compiled.render_all(T.customer_variables(row, factors))
    out = [
        RenderedStep(step.day, due.isoformat(), step.kind, step.condition, title, subject, body)
        for step, due, (title, subject, body) in zip(chosen, compiled.dues, rendered, strict=True)
        if due is not None
    ]
    return {
        "template": template.to_dict(),
        "customer": row.get("customer_id"),
        "sample": customer_id is None,
        "steps": [r.to_dict() for r in out],
    }


# -- the wizard -----------------------------------------------------------------------------------
@dataclass
class CampaignRequest:
    """Everything the wizard asks. Exactly one audience: ``segment_id``, ``rule`` or
    ``customer_ids``."""

    name: str
    template: str
    start_date: date
    segment_id: int | None = None
    rule: str | None = None
    customer_ids: list[str] | None = None
    steps: list[dict[str, Any]] | None = None  # an edited timeline; default the template's
    owners_mode: str = "account_owner"  # account_owner | round_robin
    people: list[str] = field(default_factory=list)
    capacity: int | None = None  # per person; default the settings' owner_capacity
    overflow: str = "error"  # error | unassigned (customers beyond the people's capacity)
    success_criteria: dict[str, Any] = field(default_factory=dict)
    holdout_share: float | None = None  # default the settings' campaigns.holdout_share
    seed: int | None = None  # default a random seed, recorded
    cost_per_customer: float = 0.0
    created_by: str = "app"
    description: str | None = None


@dataclass(frozen=True)
class CampaignCreated:
    """What the wizard made (or, from :func:`preview_campaign`, would make)."""

    campaign_id: int | None
    name: str
    template: str
    start_date: str
    customers: int
    treated: int
    holdout: int
    tasks: int
    mrr: float
    by_tier: dict[str, dict[str, int]]
    by_owner: dict[str, int]
    unassigned: int
    seed: int
    holdout_share: float
    seconds: float
    sample: list[dict[str, Any]] = field(default_factory=list)  # the first customer's steps

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _author(author: str | None, field_name: str = "created_by") -> str:
    text = (author or "").strip()
    if not text or len(text) > 255:
        raise InvalidOption(f"{field_name}: expected a name of 1-255 characters, got {author!r}")
    return text


def _features(rt: Runtime, features: CustomerFeatures | None) -> CustomerFeatures:
    if features is not None:
        return features
    from revintel.app.retention.features import customer_features

    return customer_features(rt)


def _factor_list(row: dict[str, Any]) -> list[str]:
    out = []
    for i in (1, 2, 3):
        value = row.get(f"top_factor_{i}_label") or row.get(f"top_factor_{i}")
        if value:
            out.append(str(value))
    if not out and row.get("top_factor_label"):
        out.append(str(row["top_factor_label"]))
    return out


def _with_factors(rt: Runtime, frame: pl.DataFrame) -> pl.DataFrame:
    """The frame with its customers' top risk factors in words (``top_factor_i_label``): from the
    frame's ``top_factor_i`` columns, else from the latest churn scores; absent when neither has
    them (the scripts then show them as missing)."""
    from revintel.churn import features as churn_features

    labels = {k: v.label for k, v in churn_features.FEATURES.items()}
    present = [f"top_factor_{i}" for i in (1, 2, 3) if f"top_factor_{i}" in frame.columns]
    if not present and "top_factor_label" not in frame.columns:
        try:
            from revintel.churn import service as churn

            scores = churn.current_predictions(rt)
        except (RevintelError, FileNotFoundError):
            return frame
        if "top_risk_factor" not in scores.columns:
            return frame
        scores = scores.select(
            pl.col("account_id").cast(pl.String).alias("customer_id"),
            pl.col("top_risk_factor").alias("top_factor_1"),
        )
        frame = frame.join(scores, on="customer_id", how="left")
        present = ["top_factor_1"]
    return frame.with_columns(
        pl.col(c)
        .cast(pl.String)
        .replace_strict(labels, default=pl.col(c).cast(pl.String))
        .alias(f"{c}_label")
        for c in present
    )


def _audience(rt: Runtime, req: CampaignRequest, features: CustomerFeatures | None) -> pl.DataFrame:
    given = [
        n for n, v in (("segment_id", req.segment_id), ("rule", req.rule),
                       ("customer_ids", req.customer_ids)) if v is not None
    ]  # fmt: skip
    if len(given) != 1:
        raise InvalidOption(
            "audience: expected exactly one of segment_id, rule or customer_ids"
            + (f", got {', '.join(given)}" if given else ", got none")
        )
    if req.customer_ids is not None:
        wanted = list(dict.fromkeys(str(c).strip() for c in req.customer_ids if str(c).strip()))
        if not wanted:
            raise InvalidOption("customer_ids: expected at least one customer id")
        frame = _features(rt, features).frame
        ids = frame.select(pl.col("customer_id").cast(pl.String))["customer_id"]
        known = set(ids.to_list())
        unknown = [c for c in wanted if c not in known]
        if unknown:
            shown = ", ".join(repr(c) for c in unknown[:10])
            more = f" and {len(unknown) - 10} more" if len(unknown) > 10 else ""
            raise NotFoundError(
                f"customer_ids: {len(unknown)} unknown customer id(s): {shown}{more}; expected ids "
                "from the customers table"
            )
        audience = frame.filter(pl.col("customer_id").cast(pl.String).is_in(wanted))
    else:
        from revintel.app.retention.segments import resolve_customers

        if req.rule is not None and not req.rule.strip():
            raise InvalidOption("rule: expected a segment rule, e.g. churn_risk > 0.7")
        audience = resolve_customers(rt, segment_id=req.segment_id, rule=req.rule)
    if audience.is_empty():
        which = (
            f"segment {req.segment_id}"
            if req.segment_id is not None
            else ("the rule" if req.rule is not None else "the customer list")
        )
        raise InvalidOption(
            f"audience: {which} selects no customers; a campaign needs at least one"
        )
    return audience.with_columns(pl.col("customer_id").cast(pl.String))


def _criteria(data: dict[str, Any] | None) -> dict[str, Any]:
    data = dict(data or {})
    unknown = sorted(set(data) - set(CRITERIA))
    if unknown:
        raise InvalidOption(
            f"success_criteria: unknown field {', '.join(unknown)}; expected {', '.join(CRITERIA)}"
        )
    out: dict[str, Any] = {}
    if data.get("risk_below") is not None:
        risk = data["risk_below"]
        if isinstance(risk, bool) or not isinstance(risk, int | float) or not 0 < risk < 1:
            raise InvalidOption(
                f"success_criteria.risk_below: expected a risk between 0 and 1, got {risk!r}"
            )
        out["risk_below"] = float(risk)
        days = data.get("within_days", 90)
        if isinstance(days, bool) or not isinstance(days, int) or not 1 <= days <= 365:
            raise InvalidOption(
                f"success_criteria.within_days: expected whole days 1..365, got {days!r}"
            )
        out["within_days"] = days
    elif data.get("within_days") is not None:
        raise InvalidOption("success_criteria.within_days: only with risk_below")
    if data.get("no_churn_months") is not None:
        months = data["no_churn_months"]
        if isinstance(months, bool) or not isinstance(months, int) or not 1 <= months <= 24:
            raise InvalidOption(
                f"success_criteria.no_churn_months: expected whole months 1..24, got {months!r}"
            )
        out["no_churn_months"] = months
    return out


@dataclass
class _Plan:
    req: CampaignRequest
    template: T.Template
    steps: tuple[T.Step, ...]
    share: float
    seed: int
    capacity: int | None
    criteria: dict[str, Any]
    as_of: str | None
    audience: pl.DataFrame
    holdout: H.HoldoutSplit
    owners: list[str | None]  # per audience row; None for holdout or unassigned


def _plan(rt: Runtime, req: CampaignRequest, features: CustomerFeatures | None) -> _Plan:
    cfg = load_config(rt.settings).campaigns
    name = (req.name or "").strip()
    if not name or len(name) > 200:
        raise InvalidOption(f"name: expected a campaign name of 1-200 characters, got {req.name!r}")
    _author(req.created_by)
    if not isinstance(req.start_date, date):
        raise InvalidOption(f"start_date: expected a date YYYY-MM-DD, got {req.start_date!r}")
    template = get_template(rt, req.template)
    steps = T.parse_steps(req.steps) if req.steps is not None else template.steps
    share = H.check_share(cfg.holdout_share if req.holdout_share is None else req.holdout_share)
    seed = secrets.randbelow(2**31 - 1) if req.seed is None else req.seed
    if isinstance(seed, bool) or not isinstance(seed, int) or not 0 <= seed < 2**31:
        raise InvalidOption(f"seed: expected a whole number 0..2^31-1, got {req.seed!r}")
    cost = req.cost_per_customer
    if isinstance(cost, bool) or not isinstance(cost, int | float) or not 0 <= cost <= 1e9:
        raise InvalidOption(f"cost_per_customer: expected an amount ≥ 0, got {cost!r}")
    criteria = _criteria(req.success_criteria)
    if req.owners_mode not in H.OWNER_MODES:
        raise InvalidOption(
            f"owners.mode: expected one of {', '.join(H.OWNER_MODES)}, got {req.owners_mode!r}"
        )
    capacity = None
    if req.owners_mode == "round_robin":
        H.check_people(req.people, "owners.people")
        capacity = cfg.owner_capacity if req.capacity is None else req.capacity
    if req.description is not None and len(req.description) > 5000:
        raise InvalidOption("description: expected at most 5000 characters")
    T.CompiledTemplate(steps)  # every script compiles (also checked on save)

    audience = _audience(rt, req, features)
    as_of = _features(rt, features).as_of or None  # cached per data snapshot
    for column, dtype in (
        ("risk_tier", pl.String), ("churn_risk", pl.Float64), ("mrr", pl.Float64),
        ("owner", pl.String), ("name", pl.String),
    ):  # fmt: skip
        if column not in audience.columns:
            audience = audience.with_columns(pl.lit(None, dtype).alias(column))
    audience = audience.sort("customer_id")
    split = H.split_holdout(
        audience["customer_id"].to_list(), audience["risk_tier"].to_list(), share, seed
    )
    treated = np.flatnonzero(~split.holdout)
    owners_treated = H.assign_owners(
        mode=req.owners_mode,
        account_owners=[audience["owner"][int(i)] for i in treated],
        risks=[audience["churn_risk"][int(i)] for i in treated],
        people=req.people,
        capacity=capacity,
        overflow=req.overflow,
    )
    owners: list[str | None] = [None] * audience.height
    for i, owner in zip(treated, owners_treated, strict=True):
        owners[int(i)] = owner
    return _Plan(
        req=req,
        template=template,
        steps=steps,
        share=share,
        seed=seed,
        capacity=capacity,
        criteria=criteria,
        as_of=as_of,
        audience=audience,
        holdout=split,
        owners=owners,
    )


def _tasks(rt: Runtime, plan: _Plan, campaign_id: int | None, limit: int | None = None):
    """Task rows for the treated customers (first ``limit`` only when given), rendered."""
    req = plan.req
    treated = np.flatnonzero(~plan.holdout.holdout)
    if limit is not None:
        treated = treated[:limit]
    frame = _with_factors(rt, plan.audience[treated.tolist()]) if len(treated) else None
    compiled = T.CompiledTemplate(plan.steps, campaign_name=req.name.strip(), start=req.start_date)
    dues = compiled.dues
    kinds = [step.kind for step in plan.steps]
    rows: list[dict[str, Any]] = []
    if frame is None:
        return rows
    owners = [plan.owners[int(i)] for i in treated]
    frame = frame.with_columns(pl.Series("assigned_owner", owners, dtype=pl.String))
    factor_cols: list[str] = [
        c
        for c in ("top_factor_1_label", "top_factor_2_label", "top_factor_3_label")
        if c in frame.columns
    ]
    if not factor_cols and "top_factor_label" in frame.columns:
        factor_cols = ["top_factor_label"]
    factors = (
        [list(r) for r in frame.select(factor_cols).iter_rows()]
        if factor_cols
        else [[] for _ in range(frame.height)]
    )
    table = T.variables_table(frame, factors, compiled.names)
    ids = frame["customer_id"].to_list()
    for cid, owner, variables in zip(ids, owners, table, strict=True):
        for index, (title, subject, body) in enumerate(compiled.render_all(variables)):
            rows.append(
                {
                    "campaign_id": campaign_id,
                    "customer_id": cid,
                    "owner": owner,
                    "step": index,
                    "kind": kinds[index],
                    "title": title[:200],
                    "due_date": dues[index],
                    "status": "todo",
                    "outcome": None,
                    "script": body,
                    "subject": subject[:300] or None,
                    "updated_at": None,
                    "updated_by": None,
                }
            )
    return rows


def _summary(plan: _Plan, campaign_id: int | None, tasks: int, seconds: float, sample=None):
    treated_owners = [o for o, h in zip(plan.owners, plan.holdout.holdout, strict=True) if not h]
    counts = Counter(o or UNASSIGNED for o in treated_owners)
    mrr = plan.audience["mrr"].fill_null(0).sum()
    return CampaignCreated(
        campaign_id=campaign_id,
        name=plan.req.name.strip(),
        template=plan.template.name,
        start_date=plan.req.start_date.isoformat(),
        customers=plan.audience.height,
        treated=len(treated_owners),
        holdout=plan.holdout.n_holdout,
        tasks=tasks,
        mrr=round(float(mrr or 0.0), 2),
        by_tier=plan.holdout.by_tier,
        by_owner=dict(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))),
        unassigned=counts.get(UNASSIGNED, 0),
        seed=plan.seed,
        holdout_share=plan.share,
        seconds=round(seconds, 3),
        sample=sample or [],
    )


def preview_campaign(
    rt: Runtime, req: CampaignRequest, *, features: CustomerFeatures | None = None
) -> CampaignCreated:
    """What :func:`create_campaign` would make, without writing: counts, the split by tier and
    owner, and the first treated customer's rendered steps."""
    started = time.perf_counter()
    plan = _plan(rt, req, features)
    sample = _tasks(rt, plan, None, limit=1)
    for row in sample:
        row["due_date"] = row["due_date"].isoformat()
    n_tasks = (plan.audience.height - plan.holdout.n_holdout) * len(plan.steps)
    return _summary(plan, None, n_tasks, time.perf_counter() - started, sample)


BATCH = 20_000


def _bulk_insert(session: Any, table: Any, rows: list[dict[str, Any]]) -> None:
    """Insert ``rows`` (dicts with the same keys) in the session's transaction, in batches.

    SQLAlchemy Core's ``insert`` executemany everywhere (PostgreSQL: psycopg's batched
    insertmanyvalues); on SQLite the rows go straight to the driver's ``executemany`` as tuples
    (column names from the table, never from input; dates as SQLAlchemy stores them, ISO text),
    which halves the time of a 170k-task campaign."""
    if not rows:
        return
    connection = session.connection()
    keys = list(rows[0])
    if connection.dialect.name != "sqlite":
        for i in range(0, len(rows), BATCH):
            connection.execute(insert(table), rows[i : i + BATCH])
        return
    columns = [table.c[k] for k in keys]  # KeyError on a name that is not a column
    sql = (
        f"INSERT INTO {table.name} ({', '.join(f'{chr(34)}{c.name}{chr(34)}' for c in columns)}) "
        f"VALUES ({', '.join('?' for _ in columns)})"
    )
    dated = [i for i, c in enumerate(columns) if isinstance(c.type, Date)]
    cursor = connection.connection.driver_connection.cursor()
    try:
        for i in range(0, len(rows), BATCH):
            batch = [tuple(r[k] for k in keys) for r in rows[i : i + BATCH]]
            if dated:
                batch = [
                    tuple(
                        v.isoformat() if j in dated and v is not None else v
                        for j, v in enumerate(t)
                    )
                    for t in batch
                ]
            cursor.executemany(sql, batch)
    finally:
        cursor.close()


def create_campaign(
    rt: Runtime, req: CampaignRequest, *, features: CustomerFeatures | None = None
) -> CampaignCreated:
    """The wizard: validate everything, then write the campaign, its members and its tasks in one
    transaction (module docstring). ``features``: the customer features to draw from (default
    :func:`revintel.app.retention.features.customer_features`)."""
    started = time.perf_counter()
    plan = _plan(rt, req, features)
    tasks = _tasks(rt, plan, None)
    a = plan.audience
    members = [
        {
            "customer_id": cid,
            "group": "holdout" if held else "treated",
            "risk_tier": tier,
            "risk_at_start": risk,
            "mrr_at_start": mrr,
            "owner": owner,
            "customer_name": (name or None) if name is None else str(name)[:255],
        }
        for cid, held, tier, risk, mrr, owner, name in zip(
            a["customer_id"].to_list(),
            plan.holdout.holdout.tolist(),
            a["risk_tier"].to_list(),
            a["churn_risk"].to_list(),
            a["mrr"].to_list(),
            plan.owners,
            a["name"].to_list(),
            strict=True,
        )
    ]
    req = plan.req
    with rt.store.session() as s:
        campaign = Campaign(
            name=req.name.strip(),
            template=plan.template.name,
            status="active",
            source="app",
            created_at=_now(),
            created_by=_author(req.created_by),
            start_date=req.start_date,
            segment_id=req.segment_id,
            audience={
                "segment_id": req.segment_id,
                "rule": req.rule,
                "customer_ids": len(req.customer_ids) if req.customer_ids is not None else None,
            },
            steps=[st.to_dict() for st in plan.steps],
            owners={
                "mode": req.owners_mode,
                "people": H.check_people(req.people) if req.owners_mode == "round_robin" else [],
                "capacity": plan.capacity,
                "overflow": req.overflow,
            },
            success_criteria=plan.criteria,
            holdout_share=plan.share,
            seed=plan.seed,
            cost_per_customer=float(req.cost_per_customer),
            as_of_month=plan.as_of,
            description=req.description,
        )
        s.add(campaign)
        s.flush()
        cid = campaign.id
        for m in members:
            m["campaign_id"] = cid
        for t in tasks:
            t["campaign_id"] = cid
        _bulk_insert(s, CampaignMember.__table__, members)
        _bulk_insert(s, CampaignTask.__table__, tasks)
    return _summary(plan, cid, len(tasks), time.perf_counter() - started)


# -- campaigns ------------------------------------------------------------------------------------
def _campaign_dict(c: Campaign) -> dict[str, Any]:
    return {
        "campaign_id": c.id,
        "name": c.name,
        "template": c.template,
        "status": c.status,
        "source": c.source,
        "created_at": c.created_at.isoformat() if c.created_at else None,
        "created_by": c.created_by,
        "start_date": c.start_date.isoformat(),
        "end_date": c.end_date.isoformat() if c.end_date else None,
        "segment_id": c.segment_id,
        "audience": c.audience,
        "owners": c.owners,
        "success_criteria": c.success_criteria,
        "holdout_share": c.holdout_share,
        "seed": c.seed,
        "cost_per_customer": c.cost_per_customer,
        "as_of_month": c.as_of_month,
        "description": c.description,
    }


def _progress(tasks_by_status: dict[str, int]) -> dict[str, Any]:
    total = sum(tasks_by_status.values())
    done = tasks_by_status.get("done", 0)
    return {
        "tasks": total,
        "by_status": {s: tasks_by_status.get(s, 0) for s in STATUSES},
        "done_share": round(done / total, 4) if total else None,
    }


def list_campaigns(rt: Runtime, status: str | None = None) -> list[dict[str, Any]]:
    """Every campaign, newest first, with its treated / holdout counts and task progress."""
    if status is not None and status not in CAMPAIGN_STATUSES:
        raise InvalidOption(
            f"status: expected one of {', '.join(CAMPAIGN_STATUSES)}, got {status!r}"
        )
    with rt.store.session() as s:
        query = select(Campaign).order_by(Campaign.id.desc())
        if status is not None:
            query = query.where(Campaign.status == status)
        campaigns = s.scalars(query).all()
        groups: dict[int, dict[str, int]] = {}
        for cid, group, n in s.execute(
            select(CampaignMember.campaign_id, CampaignMember.group, func.count()).group_by(
                CampaignMember.campaign_id, CampaignMember.group
            )
        ):
            groups.setdefault(cid, {})[group] = n
        statuses: dict[int, dict[str, int]] = {}
        for cid, st, n in s.execute(
            select(CampaignTask.campaign_id, CampaignTask.status, func.count()).group_by(
                CampaignTask.campaign_id, CampaignTask.status
            )
        ):
            statuses.setdefault(cid, {})[st] = n
        out = []
        for c in campaigns:
            g = groups.get(c.id, {})
            out.append(
                {
                    **_campaign_dict(c),
                    "treated": g.get("treated", 0),
                    "holdout": g.get("holdout", 0),
                    **_progress(statuses.get(c.id, {})),
                }
            )
    return out


def _get(s: Any, campaign_id: int) -> Campaign:
    c = s.get(Campaign, campaign_id)
    if c is None:
        raise NotFoundError(f"campaign {campaign_id}: no such campaign")
    return c


def get_campaign(rt: Runtime, campaign_id: int) -> dict[str, Any]:
    """One campaign: its settings and steps, members by group and tier, task progress overall
    and by owner."""
    with rt.store.session() as s:
        c = _get(s, campaign_id)
        detail = {**_campaign_dict(c), "steps": c.steps}
        tiers: dict[str, dict[str, int]] = {}
        mrr: dict[str, float] = {}
        for group, tier, n, total in s.execute(
            select(
                CampaignMember.group,
                CampaignMember.risk_tier,
                func.count(),
                func.sum(CampaignMember.mrr_at_start),
            )
            .where(CampaignMember.campaign_id == campaign_id)
            .group_by(CampaignMember.group, CampaignMember.risk_tier)
        ):
            tiers.setdefault(tier or H.UNKNOWN_TIER, {"treated": 0, "holdout": 0})[group] = n
            mrr[group] = mrr.get(group, 0.0) + float(total or 0.0)
        statuses: dict[str, int] = {}
        owners: dict[str, dict[str, int]] = {}
        for owner, st, n in s.execute(
            select(CampaignTask.owner, CampaignTask.status, func.count())
            .where(CampaignTask.campaign_id == campaign_id)
            .group_by(CampaignTask.owner, CampaignTask.status)
        ):
            statuses[st] = statuses.get(st, 0) + n
            owners.setdefault(owner or UNASSIGNED, {})[st] = n
    detail.update(
        treated=sum(t["treated"] for t in tiers.values()),
        holdout=sum(t["holdout"] for t in tiers.values()),
        mrr_treated=round(mrr.get("treated", 0.0), 2),
        mrr_holdout=round(mrr.get("holdout", 0.0), 2),
        by_tier=tiers,
        **_progress(statuses),
        by_owner={o: _progress(v) for o, v in sorted(owners.items())},
    )
    return detail


def _set_status(rt: Runtime, campaign_id: int, status: str, end: date | None, by: str) -> dict:
    _author(by, "updated_by")
    with rt.store.session() as s:
        c = _get(s, campaign_id)
        if c.status != "active":
            raise InvalidOption(
                f"campaign {campaign_id}: is {c.status}; only an active campaign can be {status}"
            )
        end = end or date.today()
        if end < c.start_date:
            raise InvalidOption(
                f"end_date: expected on or after the start date {c.start_date}, got {end}"
            )
        c.status = status
        c.end_date = end
    return get_campaign(rt, campaign_id)


def finish_campaign(
    rt: Runtime, campaign_id: int, *, end_date: date | None = None, by: str = "app"
) -> dict[str, Any]:
    """Mark an active campaign finished on ``end_date`` (default today): its impact can be
    measured once the outcome window has passed."""
    return _set_status(rt, campaign_id, "finished", end_date, by)


def cancel_campaign(
    rt: Runtime, campaign_id: int, *, end_date: date | None = None, by: str = "app"
) -> dict[str, Any]:
    """Cancel an active campaign: its open tasks stay as they are and can no longer change."""
    return _set_status(rt, campaign_id, "cancelled", end_date, by)


# -- tasks ----------------------------------------------------------------------------------------
def _task_query(
    campaign_id: int | None, owner: str | None, status: str | None, due_before: date | None
):
    if status is not None and status not in STATUSES:
        raise InvalidOption(f"status: expected one of {', '.join(STATUSES)}, got {status!r}")
    query = (
        select(
            CampaignTask,
            Campaign.name,
            CampaignMember.customer_name,
            Campaign.steps,
        )
        .join(Campaign, Campaign.id == CampaignTask.campaign_id)
        .outerjoin(
            CampaignMember,
            (CampaignMember.campaign_id == CampaignTask.campaign_id)
            & (CampaignMember.customer_id == CampaignTask.customer_id),
        )
        .order_by(CampaignTask.due_date, CampaignTask.id)
    )
    if campaign_id is not None:
        query = query.where(CampaignTask.campaign_id == campaign_id)
    if owner is not None:
        if owner == UNASSIGNED:
            query = query.where(CampaignTask.owner.is_(None))
        else:
            query = query.where(CampaignTask.owner == owner)
    if status is not None:
        query = query.where(CampaignTask.status == status)
    if due_before is not None:
        query = query.where(CampaignTask.due_date <= due_before)
    return query


def _task_dict(t: CampaignTask, campaign: str, customer_name: str | None, steps) -> dict[str, Any]:
    step = steps[t.step] if steps and 0 <= t.step < len(steps) else {}
    return {
        "task_id": t.id,
        "campaign_id": t.campaign_id,
        "campaign": campaign,
        "customer_id": t.customer_id,
        "customer_name": customer_name,
        "owner": t.owner,
        "due_date": t.due_date.isoformat(),
        "step": t.step,
        "kind": t.kind,
        "title": t.title,
        "condition": step.get("condition", "always"),
        "status": t.status,
        "outcome": t.outcome,
        "subject": t.subject,
        "script": t.script,
        "updated_at": t.updated_at.isoformat() if t.updated_at else None,
        "updated_by": t.updated_by,
    }


def tasks(
    rt: Runtime,
    *,
    campaign_id: int | None = None,
    owner: str | None = None,
    status: str | None = None,
    due_before: date | None = None,
    limit: int | None = 1000,
    offset: int = 0,
) -> list[dict[str, Any]]:
    """Tasks by due date, filtered by campaign, owner (``unassigned`` for none), status and due
    date (on or before)."""
    if limit is not None and not 1 <= limit <= 1_000_000:
        raise InvalidOption(f"limit: expected 1..1000000, got {limit}")
    if offset < 0:
        raise InvalidOption(f"offset: expected ≥ 0, got {offset}")
    with rt.store.session() as s:
        if campaign_id is not None:
            _get(s, campaign_id)
        query = _task_query(campaign_id, owner, status, due_before).offset(offset)
        if limit is not None:
            query = query.limit(limit)
        return [_task_dict(*row) for row in s.execute(query)]


def task_owners(rt: Runtime, campaign_id: int | None = None) -> list[str]:
    """The owners who have tasks (``unassigned`` last if some have none)."""
    with rt.store.session() as s:
        query = select(CampaignTask.owner).distinct()
        if campaign_id is not None:
            query = query.where(CampaignTask.campaign_id == campaign_id)
        found = s.scalars(query).all()
    named = sorted(o for o in found if o)
    return named + ([UNASSIGNED] if any(o is None for o in found) else [])


def update_task(
    rt: Runtime,
    task_id: int,
    *,
    status: str | None = None,
    outcome: str | None = None,
    updated_by: str = "app",
) -> dict[str, Any]:
    """Move a task along to do → contacted → responded → done (forward; a step may be skipped)
    and/or record its outcome. A task of a cancelled campaign cannot change."""
    by = _author(updated_by, "updated_by")
    if status is None and outcome is None:
        raise InvalidOption("task: expected a status, an outcome or both")
    if status is not None and status not in STATUSES:
        raise InvalidOption(f"status: expected one of {', '.join(STATUSES)}, got {status!r}")
    if outcome is not None and len(outcome) > MAX_OUTCOME:
        raise InvalidOption(
            f"outcome: expected at most {MAX_OUTCOME} characters, got {len(outcome)}"
        )
    with rt.store.session() as s:
        row = s.execute(
            _task_query(None, None, None, None).where(CampaignTask.id == task_id)
        ).first()
        if row is None:
            raise NotFoundError(f"task {task_id}: no such task")
        task = row[0]
        campaign = s.get(Campaign, task.campaign_id)
        if campaign is not None and campaign.status == "cancelled":
            raise InvalidOption(f"task {task_id}: its campaign {campaign.id} is cancelled")
        if status is not None:
            now_at, to = STATUSES.index(task.status), STATUSES.index(status)
            if to < now_at:
                allowed = ", ".join(STATUSES[now_at:])
                raise InvalidOption(
                    f"status: task {task_id} is {task.status!r}; it can only move forward "
                    f"({allowed}), got {status!r}"
                )
            task.status = status
        if outcome is not None:
            task.outcome = outcome.strip() or None
        task.updated_at = _now()
        task.updated_by = by
        s.flush()
        return _task_dict(task, row[1], row[2], row[3])


def export_tasks_csv(
    rt: Runtime,
    *,
    campaign_id: int | None = None,
    owner: str | None = None,
    status: str | None = None,
) -> str:
    """The tasks as CSV for CRM import (:data:`CSV_COLUMNS`; formula-like text escaped)."""
    rows = tasks(rt, campaign_id=campaign_id, owner=owner, status=status, limit=None)
    return to_csv(rows, CSV_COLUMNS)


def wizard_options(rt: Runtime) -> dict[str, Any]:
    """What the wizard offers: saved segments (id, name, rule), templates, the owners found in
    the customer data, and the settings' defaults (holdout share, capacity)."""
    cfg = load_config(rt.settings).campaigns
    from revintel.app.retention.segments import list_segments

    segments = [
        {"id": s.id, "name": s.name, "rule": s.rule} for s in list_segments(rt, counts=False)
    ]
    return {
        "segments": segments,
        "templates": [
            {"name": t.name, "label": t.label, "builtin": t.builtin} for t in list_templates(rt)
        ],
        "holdout_share": cfg.holdout_share,
        "owner_capacity": cfg.owner_capacity,
        "variables": T.VARIABLES,
    }
