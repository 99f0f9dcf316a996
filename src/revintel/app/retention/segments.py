"""Segments: preview a rule, save and reuse segments, compare, discover, track (docs/retention.md,
Segments). Owned by the segments area.

A segment is a rule (:mod:`revintel.retention.rules`) over the customer features frame
(:func:`revintel.app.retention.features.customer_features`): every row of ``customers``, with
current values as of the last complete month. A rule is evaluated by DuckDB through Ibis: the
frame is registered once per features snapshot in an in-memory DuckDB connection, and a rule
becomes ``table.filter(expr)`` with the aggregates on top (no SQL text, no ``eval``).
"""

from __future__ import annotations

import itertools
import math
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import numpy as np
import polars as pl
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from revintel.app.retention.features import CustomerFeatures, customer_features, mrr_history
from revintel.core.errors import InvalidOption, NotFoundError, RevintelError
from revintel.core.text import check_text
from revintel.retention import rules as R
from revintel.retention.config import load_config
from revintel.warehouse.cache import ResultCache, SnapshotCache

if TYPE_CHECKING:
    from revintel.core.runtime import Runtime

SAMPLE_COLUMNS = (
    "customer_id", "name", "segment", "plan", "country", "mrr", "churn_risk", "risk_tier",
    "health_score", "health_tier",
)  # fmt: skip
"""Columns of a preview's sample rows."""
CHURN_MONTHS = 12
"""Months of churn history in compare and track."""


class InvalidSegment(InvalidOption):
    """A segment's name, rule, builder form or options are not valid."""


# -- evaluation ---------------------------------------------------------------------------------
class RuleEngine:
    """The features frame registered in an in-memory DuckDB connection, evaluated through Ibis.

    One per features snapshot; a lock serialises queries (a DuckDB connection is not for
    concurrent use)."""

    def __init__(self, frame: pl.DataFrame, kinds: Mapping[str, str], as_of: str = "") -> None:
        import ibis

        self.con = ibis.duckdb.connect()
        self.table = self.con.create_table("customer_features", frame.to_arrow())
        self.kinds = kinds
        self.as_of = as_of
        self.total = frame.height
        self.total_mrr = float(frame["mrr"].sum()) if "mrr" in frame.columns else 0.0
        self.lock = threading.Lock()

    def expression(self, node: R.Node) -> Any:
        return R.to_ibis(node, self.table, self.kinds)

    def summary(self, node: R.Node) -> dict[str, Any]:
        """count, mrr and average churn risk of the customers the rule selects."""
        import ibis

        t = self.table
        picked = t.filter(self.expression(node))
        agg = picked.aggregate(
            count=picked.count(),
            mrr=picked.mrr.sum() if "mrr" in self.kinds else ibis.literal(0.0),
            avg_risk=picked.churn_risk.mean()
            if "churn_risk" in self.kinds
            else ibis.literal(None, "float64"),
        )
        with self.lock:
            row = agg.to_pyarrow().to_pylist()[0]
        return {
            "count": int(row["count"] or 0),
            "mrr": float(row["mrr"] or 0.0),
            "avg_risk": None if row["avg_risk"] is None else float(row["avg_risk"]),
        }

    def summary_and_rows(
        self, node: R.Node, columns: Sequence[str], limit: int
    ) -> tuple[dict[str, Any], pl.DataFrame]:
        """:meth:`summary` and the ``limit`` largest rows by MRR in ONE query (window
        aggregates beside the rows): the preview's live path."""
        if limit <= 0:
            return self.summary(node), pl.DataFrame()
        import ibis

        t = self.table
        picked = t.filter(self.expression(node))
        keep = [c for c in columns if c in self.kinds]
        window = ibis.window()
        picked = picked.select(
            *keep,
            _count=picked.customer_id.count().over(window),
            _mrr=picked.mrr.sum().over(window),
            _risk=picked.churn_risk.mean().over(window)
            if "churn_risk" in self.kinds
            else ibis.literal(None, "float64"),
        )
        picked = picked.order_by([picked.mrr.desc(), "customer_id"]).limit(limit)
        with self.lock:
            out = pl.from_arrow(picked.to_pyarrow())
        assert isinstance(out, pl.DataFrame)
        if out.height == 0:
            return {"count": 0, "mrr": 0.0, "avg_risk": None}, out.select(keep)
        risk = out["_risk"][0]
        summary = {
            "count": int(out["_count"][0]),
            "mrr": float(out["_mrr"][0] or 0.0),
            "avg_risk": None if risk is None else float(risk),
        }
        return summary, out.select(keep)

    def rows(
        self, node: R.Node, columns: Sequence[str] | None = None, limit: int | None = None
    ) -> pl.DataFrame:
        t = self.table
        picked = t.filter(self.expression(node))
        if columns is not None:
            picked = picked.select(*[c for c in columns if c in self.kinds])
        if limit is not None:
            order = [t.mrr.desc()] if "mrr" in self.kinds else []
            picked = picked.order_by([*order, "customer_id"]).limit(limit)
        with self.lock:
            out = pl.from_arrow(picked.to_pyarrow())
        assert isinstance(out, pl.DataFrame)
        return out


_ENGINES: ResultCache[RuleEngine] = ResultCache(size=2)


def engine_for(features: CustomerFeatures) -> RuleEngine:
    """The DuckDB engine of a features frame (built once per frame)."""
    kinds = {name: col.kind for name, col in features.columns.items()}
    key = features.key or str(id(features.frame))
    return _ENGINES.get(key, lambda: RuleEngine(features.frame, kinds, features.as_of))


def parse_rule(text: str | None = None, builder: Any = None) -> tuple[R.Node, str]:
    """The AST and text of a rule given as text or in the builder's form (exactly one)."""
    if (text is None or not str(text).strip()) and builder is None:
        raise R.RuleError("expected a rule (text) or a builder form; got neither")
    if builder is not None:
        node = R.from_builder(builder)
        return node, R.to_text(node)
    assert text is not None
    return R.parse(text), text.strip()


# -- preview ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SegmentPreview:
    """What a rule selects: how many customers, their MRR and ARR, average churn risk, a sample."""

    rule: str
    count: int
    mrr: float
    arr: float
    avg_risk: float | None
    share_of_customers: float | None
    share_of_mrr: float | None
    total_customers: int
    as_of: str
    builder: dict[str, Any]
    sample: list[dict[str, Any]]
    elapsed_ms: float
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _jsonable(rows: pl.DataFrame) -> list[dict[str, Any]]:
    out = []
    for row in rows.iter_rows(named=True):
        clean: dict[str, Any] = {}
        for k, v in row.items():
            if isinstance(v, float) and not math.isfinite(v):
                v = None
            elif hasattr(v, "isoformat"):
                v = v.isoformat()
            clean[k] = v
        out.append(clean)
    return out


def preview(
    rt: Runtime, rule: str | None = None, *, builder: Any = None, sample: int = 10
) -> SegmentPreview:
    """Count, MRR, ARR and average risk of the customers ``rule`` (or ``builder``) selects, with
    the ``sample`` largest by MRR. :class:`~revintel.retention.rules.RuleError` with the
    position when the rule does not parse or names an unknown feature."""
    if not 0 <= sample <= 1000:
        raise InvalidSegment(f"sample: expected 0 to 1000 rows, got {sample}")
    node, text = parse_rule(rule, builder)
    return preview_features(customer_features(rt), node, text, sample)


def preview_features(
    features: CustomerFeatures, node: R.Node, text: str, sample: int = 10
) -> SegmentPreview:
    """:func:`preview` on a features frame (the benchmark times this)."""
    started = time.perf_counter()
    eng = engine_for(features)
    s, rows = eng.summary_and_rows(node, SAMPLE_COLUMNS, sample)
    elapsed = (time.perf_counter() - started) * 1000
    return SegmentPreview(
        rule=text,
        count=s["count"],
        mrr=round(s["mrr"], 2),
        arr=round(s["mrr"] * 12, 2),
        avg_risk=None if s["avg_risk"] is None else round(s["avg_risk"], 4),
        share_of_customers=s["count"] / eng.total if eng.total else None,
        share_of_mrr=s["mrr"] / eng.total_mrr if eng.total_mrr else None,
        total_customers=eng.total,
        as_of=features.as_of,
        builder=R.to_builder(node),
        sample=_jsonable(rows),
        elapsed_ms=round(elapsed, 1),
        notes=list(features.notes),
    )


def resolve_customers(
    rt: Runtime, *, segment_id: int | None = None, rule: str | None = None
) -> pl.DataFrame:
    """The rows of :func:`revintel.app.retention.features.customer_features` a saved segment or a
    rule selects (exactly one of the two); a rule that does not parse raises
    a ``RuleError`` (an InvalidOption) with its position."""
    if (segment_id is None) == (rule is None):
        raise InvalidSegment("expected exactly one of segment_id and rule")
    if segment_id is not None:
        rule = get_segment(rt, segment_id).rule
    assert rule is not None
    node = R.parse(rule)
    features = customer_features(rt)
    return engine_for(features).rows(node).sort("customer_id")


# -- saved segments -----------------------------------------------------------------------------
@dataclass(frozen=True)
class SavedSegment:
    """A saved segment (``count`` and ``mrr`` when listed with counts)."""

    id: int
    name: str
    description: str | None
    rule: str
    builder: dict[str, Any] | None
    source: str
    shared: bool
    created_by: str
    created_at: str
    updated_at: str
    count: int | None = None
    mrr: float | None = None
    avg_risk: float | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _now() -> datetime:
    return datetime.now(UTC)


def _iso(value: datetime) -> str:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    return value.isoformat()


def _saved(row: Any, **extra: Any) -> SavedSegment:
    return SavedSegment(
        id=row.id,
        name=row.name,
        description=row.description,
        rule=row.rule,
        builder=row.builder,
        source=row.source,
        shared=bool(row.shared),
        created_by=row.created_by,
        created_at=_iso(row.created_at),
        updated_at=_iso(row.updated_at),
        **extra,
    )


def _check_name(name: Any) -> str:
    if not isinstance(name, str) or not name.strip():
        raise InvalidSegment("name: expected a non-empty name")
    name = name.strip()
    check_text("name", name)
    if len(name) > 200:
        raise InvalidSegment(f"name: expected at most 200 characters, got {len(name)}")
    return name


def _validated(rt: Runtime, rule: str | None, builder: Any) -> tuple[str, dict[str, Any]]:
    """The rule's text and builder form, checked against the features' kinds when the data
    allows (without data the grammar alone is checked)."""
    node, text = parse_rule(rule, builder)
    try:
        features = customer_features(rt)
    except RevintelError:
        features = None
    if features is not None:
        R.check(node, {n: c.kind for n, c in features.columns.items()})
    return text, R.to_builder(node)


SOURCES = ("rule", "builder", "discovery")


def create_segment(
    rt: Runtime,
    name: str,
    *,
    rule: str | None = None,
    builder: Any = None,
    description: str | None = None,
    shared: bool = True,
    created_by: str = "api",
    source: str | None = None,
) -> SavedSegment:
    """Save a segment; a bad rule or a name in use saves nothing (:class:`InvalidSegment` or
    ``RuleError``)."""
    from revintel.store.segments import Segment

    name = _check_name(name)
    check_text("description", description)
    check_text("created_by", created_by)
    source = source or ("builder" if builder is not None else "rule")
    if source not in SOURCES:
        raise InvalidSegment(f"source: expected one of {', '.join(SOURCES)}, got {source!r}")
    text, form = _validated(rt, rule, builder)
    now = _now()
    try:
        with rt.store.session() as s:
            if s.scalars(select(Segment).where(Segment.name == name)).first() is not None:
                raise InvalidSegment(f"name: a segment named {name!r} exists; choose another name")
            row = Segment(
                name=name,
                description=description,
                rule=text,
                builder=form,
                source=source,
                shared=bool(shared),
                created_by=(created_by or "api")[:255],
                created_at=now,
                updated_at=now,
            )
            s.add(row)
            s.flush()
            return _saved(row)
    except IntegrityError as exc:
        raise InvalidSegment(f"name: a segment named {name!r} exists; choose another name") from exc


def get_segment(rt: Runtime, segment_id: int) -> SavedSegment:
    from revintel.store.segments import Segment

    with rt.store.session() as s:
        row = s.get(Segment, int(segment_id))
        if row is None:
            raise NotFoundError(f"segment_id {segment_id}: no saved segment has this id")
        return _saved(row)


def list_segments(rt: Runtime, *, counts: bool = True) -> list[SavedSegment]:
    """Every saved segment, newest first, with its current count, MRR and average risk (a
    segment whose rule no longer fits the features says why in ``error``)."""
    from revintel.store.segments import Segment

    with rt.store.session() as s:
        rows = [_saved(r) for r in s.scalars(select(Segment).order_by(Segment.id.desc()))]
    if not counts or not rows:
        return rows
    try:
        eng = engine_for(customer_features(rt))
    except RevintelError as exc:
        return [SavedSegment(**{**r.to_dict(), "error": str(exc)}) for r in rows]
    out = []
    for r in rows:
        try:
            m = eng.summary(R.parse(r.rule))
            out.append(
                SavedSegment(
                    **{**r.to_dict(), "count": m["count"], "mrr": round(m["mrr"], 2)},
                )
            )
            if m["avg_risk"] is not None:
                out[-1] = SavedSegment(**{**out[-1].to_dict(), "avg_risk": round(m["avg_risk"], 4)})
        except RevintelError as exc:
            out.append(SavedSegment(**{**r.to_dict(), "error": str(exc)}))
    return out


def update_segment(
    rt: Runtime,
    segment_id: int,
    *,
    name: str | None = None,
    rule: str | None = None,
    builder: Any = None,
    description: str | None = None,
    shared: bool | None = None,
) -> SavedSegment:
    """Change a saved segment; a bad rule or a name in use changes nothing."""
    from revintel.store.segments import Segment

    new_name = _check_name(name) if name is not None else None
    check_text("description", description)
    form = None
    text = None
    if rule is not None or builder is not None:
        text, form = _validated(rt, rule, builder)
    try:
        with rt.store.session() as s:
            row = s.get(Segment, int(segment_id))
            if row is None:
                raise NotFoundError(f"segment_id {segment_id}: no saved segment has this id")
            if new_name is not None and new_name != row.name:
                clash = s.scalars(select(Segment).where(Segment.name == new_name)).first()
                if clash is not None:
                    raise InvalidSegment(
                        f"name: a segment named {new_name!r} exists; choose another name"
                    )
                row.name = new_name
            if text is not None:
                row.rule, row.builder = text, form
                if builder is not None:
                    row.source = "builder"
            if description is not None:
                row.description = description
            if shared is not None:
                row.shared = bool(shared)
            row.updated_at = _now()
            s.flush()
            return _saved(row)
    except IntegrityError as exc:
        raise InvalidSegment(f"name: a segment named {new_name!r} exists") from exc


def delete_segment(rt: Runtime, segment_id: int) -> SavedSegment:
    """Delete a saved segment and its recorded snapshots; returns what was deleted."""
    from revintel.store.segments import Segment, SegmentSnapshot

    with rt.store.session() as s:
        row = s.get(Segment, int(segment_id))
        if row is None:
            raise NotFoundError(f"segment_id {segment_id}: no saved segment has this id")
        gone = _saved(row)
        for snap in s.scalars(select(SegmentSnapshot).where(SegmentSnapshot.segment_id == row.id)):
            s.delete(snap)
        s.delete(row)
        return gone


# -- churn by month of current members ----------------------------------------------------------
_HISTORY: SnapshotCache[pl.DataFrame] = SnapshotCache("retention.segment_mrr_history", size=2)


def _months_back(as_of: str, n: int) -> list[str]:
    from revintel.core.calendar import month_label, month_number

    end = month_number(as_of)
    return [month_label(m) for m in range(end - n + 1, end + 1)]


def monthly_history(rt: Runtime, as_of: str, months: int = CHURN_MONTHS) -> pl.DataFrame:
    """MRR per customer and month over ``months`` months to ``as_of`` and the month before."""
    span = _months_back(as_of, months + 1)
    return _HISTORY.get(rt.warehouse, (as_of, months), lambda: mrr_history(rt, span[0], span[-1]))


def churn_by_month(
    history: pl.DataFrame, members: Sequence[str], as_of: str, months: int = CHURN_MONTHS
) -> list[dict[str, Any]]:
    """Monthly logo churn of ``members`` over ``months`` months to ``as_of``: of the members
    with MRR > 0 at the end of the month before (``at_start``), those with no MRR at the end of
    the month (``churned``), and the rate churned ÷ at_start (None with nobody at start)."""
    span = _months_back(as_of, months + 1)
    ids = pl.Series("customer_id", list(members), dtype=pl.String)
    paying = history.filter(pl.col("customer_id").is_in(ids) & (pl.col("mrr") > 0))
    by_month = {m: set(g["customer_id"].to_list()) for (m,), g in paying.group_by("month")}
    out = []
    for prev, month in itertools.pairwise(span):
        start = by_month.get(prev, set())
        now = by_month.get(month, set())
        churned = len(start - now)
        mrr = float(paying.filter(pl.col("month") == month)["mrr"].sum())
        out.append(
            {
                "month": month,
                "customers": len(now),
                "mrr": round(mrr, 2),
                "at_start": len(start),
                "churned": churned,
                "churn_rate": round(churned / len(start), 4) if start else None,
            }
        )
    return out


# -- compare ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SegmentSummary:
    label: str
    rule: str
    segment_id: int | None
    count: int
    mrr: float
    avg_risk: float | None
    churn_by_month: list[dict[str, Any]]
    average_monthly_churn: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class FeatureDifference:
    feature: str
    label: str
    kind: str
    measure: str  # "Cohen's d" | "Cramér's V"
    effect: float
    between: list[str]
    values: dict[str, Any]
    """Per segment label: the mean (numbers, true share for true/false) or the top category and
    its share (text)."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class SegmentComparison:
    as_of: str
    segments: list[SegmentSummary]
    differences: list[FeatureDifference]
    overlap: dict[str, int]
    definitions: dict[str, str]

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


DEFINITIONS = {
    "churn_rate": (
        "Monthly logo churn of the segment's CURRENT members, from the warehouse MRR: of those "
        "with MRR > 0 at the end of the month before, the share with no MRR at the month's end. "
        "Members selected for current values (e.g. mrr > 0) have 0 churn by construction."
    ),
    "cohens_d": (
        "Difference of means ÷ pooled standard deviation, for each pair of segments; the largest "
        "in absolute value is shown (0.2 small, 0.5 medium, 0.8 large)."
    ),
    "cramers_v": (
        "Association between segment and category, √(χ² ÷ (n × (min(r, c) − 1))) over the "
        "segments × categories table (0 none, 1 complete); with the top category's share."
    ),
}


def _cohens_d(a: np.ndarray, b: np.ndarray) -> float | None:
    if len(a) < 2 or len(b) < 2:
        return None
    va, vb = a.var(ddof=1), b.var(ddof=1)
    pooled = math.sqrt(((len(a) - 1) * va + (len(b) - 1) * vb) / (len(a) + len(b) - 2))
    if pooled == 0 or not math.isfinite(pooled):
        return None if a.mean() == b.mean() else math.copysign(float("inf"), a.mean() - b.mean())
    return float((a.mean() - b.mean()) / pooled)


def _cramers_v(groups: list[pl.Series]) -> float | None:
    cats = sorted({v for g in groups for v in g.drop_nulls().to_list()})
    if len(cats) < 2:
        return None
    table = np.array([[int((g == c).sum()) for c in cats] for g in groups], dtype=float)
    n = table.sum()
    if n == 0:
        return None
    expected = table.sum(1, keepdims=True) * table.sum(0, keepdims=True) / n
    with np.errstate(divide="ignore", invalid="ignore"):
        chi2 = np.nansum(np.where(expected > 0, (table - expected) ** 2 / expected, 0.0))
    k = min(table.shape) - 1
    return float(math.sqrt(chi2 / (n * k))) if k > 0 else None


def _differences(
    features: CustomerFeatures, members: dict[str, pl.DataFrame], top: int
) -> list[FeatureDifference]:
    labels = list(members)
    out: list[FeatureDifference] = []
    skip = {"customer_id", "name", "arr", "signup_date"}
    for name, col in features.columns.items():
        if name in skip or col.kind == "date":
            continue
        if col.kind in ("number", "bool"):
            arrays = {
                lab: members[lab][name].drop_nulls().cast(pl.Float64).to_numpy() for lab in labels
            }
            best: tuple[float, list[str]] | None = None
            for i, a in enumerate(labels):
                for b in labels[i + 1 :]:
                    d = _cohens_d(arrays[a], arrays[b])
                    if d is None or not math.isfinite(d):
                        continue
                    if best is None or abs(d) > abs(best[0]):
                        best = (d, [a, b])
            if best is None:
                continue
            means: dict[str, Any] = {
                lab: (round(float(arrays[lab].mean()), 4) if len(arrays[lab]) else None)
                for lab in labels
            }
            out.append(
                FeatureDifference(
                    name, col.label, col.kind, "Cohen's d", round(best[0], 3), best[1], means
                )
            )
        else:
            series = [members[lab][name] for lab in labels]
            v = _cramers_v(series)
            if v is None:
                continue
            values: dict[str, dict[str, Any] | None] = {}
            for lab, s in zip(labels, series, strict=True):
                counts = s.drop_nulls().value_counts(sort=True)
                if counts.height:
                    top_value = counts[name][0]
                    values[lab] = {
                        "top": top_value,
                        "share": round(counts["count"][0] / max(s.len(), 1), 4),
                    }
                else:
                    values[lab] = None
            out.append(
                FeatureDifference(
                    name, col.label, col.kind, "Cramér's V", round(v, 3), labels, values
                )
            )
    out.sort(key=lambda d: abs(d.effect), reverse=True)
    return out[:top]


def _resolve_items(rt: Runtime, items: Sequence[int | str]) -> list[tuple[str, str, int | None]]:
    """(label, rule, segment id) of each item: a saved segment's id or a rule's text."""
    out: list[tuple[str, str, int | None]] = []
    for i, item in enumerate(items):
        if isinstance(item, int) or (isinstance(item, str) and item.strip().isdigit()):
            seg = get_segment(rt, int(item))
            out.append((seg.name, seg.rule, seg.id))
        elif isinstance(item, str):
            out.append((f"rule {i + 1}", item, None))
        else:
            raise InvalidSegment(f"segments[{i}]: expected a segment id or a rule, got {item!r}")
    labels = [o[0] for o in out]
    if len(set(labels)) != len(labels):  # the same segment twice: number them
        out = [(f"{lab} ({i + 1})", r, s) for i, (lab, r, s) in enumerate(out)]
    return out


def compare(rt: Runtime, items: Sequence[int | str], *, top: int = 10) -> SegmentComparison:
    """Two or three segments (saved ids or rules) side by side: size, MRR, average risk, monthly
    churn of current members over the last 12 months, and the features that differ most."""
    if not 2 <= len(items) <= 3:
        raise InvalidSegment(f"segments: expected 2 or 3 segments to compare, got {len(items)}")
    if not 1 <= top <= 100:
        raise InvalidSegment(f"top: expected 1 to 100 features, got {top}")
    resolved = _resolve_items(rt, items)
    features = customer_features(rt)
    eng = engine_for(features)
    history = monthly_history(rt, features.as_of)
    summaries: list[SegmentSummary] = []
    members: dict[str, pl.DataFrame] = {}
    for label, rule, seg_id in resolved:
        try:
            node = R.parse(rule)
        except R.RuleError as exc:
            raise R.RuleError(f"{label}: {exc.detail}", exc.position) from exc
        rows = eng.rows(node)
        members[label] = rows
        s = eng.summary(node)
        churn = churn_by_month(history, rows["customer_id"].to_list(), features.as_of)
        rates = [m["churn_rate"] for m in churn if m["churn_rate"] is not None]
        summaries.append(
            SegmentSummary(
                label=label,
                rule=rule,
                segment_id=seg_id,
                count=s["count"],
                mrr=round(s["mrr"], 2),
                avg_risk=None if s["avg_risk"] is None else round(s["avg_risk"], 4),
                churn_by_month=churn,
                average_monthly_churn=round(float(np.mean(rates)), 4) if rates else None,
            )
        )
    ids = {lab: set(f["customer_id"].to_list()) for lab, f in members.items()}
    labels = list(ids)
    overlap = {
        f"{a} & {b}": len(ids[a] & ids[b]) for i, a in enumerate(labels) for b in labels[i + 1 :]
    }
    return SegmentComparison(
        as_of=features.as_of,
        segments=summaries,
        differences=_differences(features, members, top),
        overlap=overlap,
        definitions=DEFINITIONS,
    )


# -- discovery ----------------------------------------------------------------------------------
LOG_FEATURES = frozenset(
    {"mrr", "clv", "seats", "tickets_3m", "urgent_tickets_3m", "aged_open_tickets",
     "logins_per_user", "logins_per_day", "late_payments_3m", "failed_payments_3m"}
)  # fmt: skip
"""Heavy-tailed features, clustered on log(1 + x)."""
EXCLUDED = frozenset({"arr", "churn_risk", "clv", "is_active"})
"""Not clustered on: ARR repeats MRR; churn risk and CLV describe the clusters afterwards."""
CATEGORICAL = ("segment", "plan", "billing_period")
"""Categoricals one-hot encoded for clustering."""
MAX_MISSING = 0.3
"""A numeric feature missing for more than this share of the population is left out."""
SILHOUETTE_SAMPLE = 4000
FIT_SAMPLE = 50_000


@dataclass(frozen=True)
class Cluster:
    cluster: int
    size: int
    share: float
    mrr: float
    average_mrr: float
    churn_rate: float | None
    """Mean churn_risk (the churn model's probability of churning within its horizon)."""
    distinctive: list[dict[str, Any]]
    description: str
    rule: str
    rule_matches: int
    rule_precision: float | None
    rule_recall: float | None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Discovery:
    as_of: str
    population: int
    k: int
    criterion: str
    scores: dict[int, float]
    features: list[str]
    clusters: list[Cluster]
    churn_rate_definition: str
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["scores"] = {str(k): v for k, v in self.scores.items()}
        return d


_DISCOVERIES: SnapshotCache[Discovery] = SnapshotCache("retention.segment_discovery", size=4)


def discover(rt: Runtime, k: int | None = None) -> Discovery:
    """Cluster the paying customers (MRR > 0 in the last complete month) with KMeans on
    standardised features; ``k`` (default: the best silhouette score over 2..max_clusters)."""
    cfg = load_config(rt.settings).segments
    if k is not None and not 2 <= k <= 20:
        raise InvalidSegment(f"k: expected 2 to 20 clusters, got {k}")
    features = customer_features(rt)
    key = (features.key, k, cfg.max_clusters, cfg.discovery_seed)
    return _DISCOVERIES.get(
        rt.warehouse, key, lambda: discover_frame(features, k, cfg.max_clusters, cfg.discovery_seed)
    )


def _matrix(
    pop: pl.DataFrame, features: CustomerFeatures
) -> tuple[np.ndarray, list[str], list[str]]:
    numeric = [
        n
        for n, c in features.columns.items()
        if c.kind in ("number", "bool")
        and n not in EXCLUDED
        and pop[n].null_count() <= MAX_MISSING * pop.height
        and pop[n].cast(pl.Float64).drop_nulls().std() not in (None, 0.0)
    ]
    blocks = []
    for n in numeric:
        x = pop[n].cast(pl.Float64).to_numpy().astype(float)
        if n in LOG_FEATURES:
            x = np.sign(x) * np.log1p(np.abs(x))
        med = np.nanmedian(x)
        x = np.where(np.isnan(x), med, x)
        sd = x.std()
        blocks.append((x - x.mean()) / (sd if sd > 0 else 1.0))
    names = list(numeric)
    for c in CATEGORICAL:
        if c not in pop.columns:
            continue
        values = pop[c].fill_null("(missing)")
        levels = values.value_counts(sort=True)[c].to_list()[:6]
        if len(levels) < 2:
            continue
        for lev in levels:
            blocks.append((values == lev).cast(pl.Float64).to_numpy())
            names.append(f"{c}={lev}")
    if not blocks:
        raise InvalidSegment("discovery: no feature varies among the paying customers")
    return np.column_stack(blocks), numeric, names


def _fit_all(
    rows: np.ndarray,
    ks: list[int],
    sil_idx: np.ndarray,
    seed: int,
    scores: dict[int, float],
    models: dict[int, Any],
) -> None:
    from sklearn.cluster import KMeans
    from sklearn.metrics import silhouette_score

    for kk in ks:
        model = KMeans(n_clusters=kk, n_init=4, random_state=seed).fit(rows)
        labels = model.labels_
        if len(set(labels[sil_idx])) > 1:
            scores[kk] = round(float(silhouette_score(rows[sil_idx], labels[sil_idx])), 4)
        models[kk] = model


def discover_frame(
    features: CustomerFeatures, k: int | None, max_clusters: int, seed: int
) -> Discovery:
    """:func:`discover` on a features frame (pure; for tests and the benchmark)."""
    from threadpoolctl import threadpool_limits

    frame = features.frame
    pop = frame.filter(pl.col("mrr") > 0) if "mrr" in frame.columns else frame
    if pop.height < 10:
        raise InvalidSegment(
            f"discovery: expected at least 10 paying customers to cluster, got {pop.height}"
        )
    x, numeric, used = _matrix(pop, features)
    rng = np.random.default_rng(seed)
    fit_rows = x if len(x) <= FIT_SAMPLE else x[rng.choice(len(x), FIT_SAMPLE, replace=False)]
    sil_idx = (
        np.arange(len(fit_rows))
        if len(fit_rows) <= SILHOUETTE_SAMPLE
        else rng.choice(len(fit_rows), SILHOUETTE_SAMPLE, replace=False)
    )
    scores: dict[int, float] = {}
    models: dict[int, Any] = {}
    ks = [k] if k is not None else list(range(2, min(max_clusters, len(fit_rows) - 1) + 1))
    with threadpool_limits(1):  # OpenMP threads only contend on a small, shared machine
        _fit_all(fit_rows, ks, sil_idx, seed, scores, models)
    chosen = k if k is not None else max(scores, key=lambda kk: (scores[kk], -kk))
    labels = models[chosen].predict(x)
    pop = pop.with_columns(_cluster=pl.Series(labels, dtype=pl.Int64))
    import ibis

    con = ibis.duckdb.connect()
    try:
        table = con.create_table("population", pop.to_arrow())
        clusters = [_describe_cluster(pop, features, numeric, c, table) for c in range(chosen)]
    finally:
        con.disconnect()
    clusters.sort(key=lambda c: -c.size)
    return Discovery(
        as_of=features.as_of,
        population=pop.height,
        k=chosen,
        criterion=(
            "silhouette score (mean over a sample of up to "
            f"{SILHOUETTE_SAMPLE:,} customers) of KMeans for k = 2..{max_clusters}; "
            "the highest wins"
            if k is None
            else f"k = {k} as asked (its silhouette score shown)"
        ),
        scores=scores,
        features=used,
        clusters=clusters,
        churn_rate_definition=(
            "the cluster's mean churn_risk: the churn model's probability of churning within "
            "its horizon, over the customers it scored (every clustered customer pays today, so "
            "realised churn is not yet known)"
        ),
        notes=list(features.notes),
    )


def _fmt(x: float) -> str:
    if abs(x) >= 1000:
        return f"{x:,.0f}".replace(",", "_")
    if abs(x) >= 10 or float(x).is_integer():
        return f"{x:.0f}" if float(x).is_integer() else f"{x:.1f}"
    return f"{x:.3g}"


def _describe_cluster(
    pop: pl.DataFrame, features: CustomerFeatures, numeric: list[str], c: int, table: Any
) -> Cluster:
    inside = pop.filter(pl.col("_cluster") == c)
    rows: list[dict[str, Any]] = []
    for n in numeric:
        allv = pop[n].cast(pl.Float64).drop_nulls()
        sd = allv.std()
        inv = inside[n].cast(pl.Float64).drop_nulls()
        if not sd or inv.len() == 0:
            continue
        smd = (float(inv.mean()) - float(allv.mean())) / float(sd)  # type: ignore[arg-type]
        rows.append(
            {
                "feature": n,
                "label": features.columns[n].label,
                "kind": "number",
                "cluster_mean": round(float(inv.mean()), 4),  # type: ignore[arg-type]
                "overall_mean": round(float(allv.mean()), 4),  # type: ignore[arg-type]
                "smd": round(smd, 3),
                "q25": float(inv.quantile(0.1) or 0.0),
                "q75": float(inv.quantile(0.9) or 0.0),
                "kind_in_rule": features.columns[n].kind,
            }
        )
    for cat in CATEGORICAL:
        if cat not in pop.columns:
            continue
        counts = inside[cat].drop_nulls().value_counts(sort=True)
        if not counts.height:
            continue
        top, n_top = counts[cat][0], counts["count"][0]
        share = n_top / inside.height
        overall = float((pop[cat] == top).sum()) / pop.height
        rows.append(
            {
                "feature": cat,
                "label": features.columns[cat].label,
                "kind": "text",
                "top": top,
                "cluster_share": round(share, 4),
                "overall_share": round(overall, 4),
                "smd": round(share - overall, 3),  # share difference for a category
            }
        )
    rows.sort(key=lambda r: abs(r["smd"]), reverse=True)
    distinctive = rows[:5]
    parts = []
    for r in distinctive[:4]:
        if r["kind"] == "text":
            share, overall = r["cluster_share"], r["overall_share"]
            parts.append(f"{r['label']} mostly {r['top']} ({share:.0%} vs {overall:.0%})")
        else:
            word = "high" if r["smd"] > 0 else "low"
            parts.append(f"{word} {r['label'].split(' (')[0]} ({r['smd']:+.1f} sd)")
    # a rule from the 3 most distinctive features (numeric: past the cluster's 10th / 90th
    # percentile on the side it
    # differs; category: its top value when most of the cluster has it)
    conds = ["mrr > 0"]
    for r in distinctive[:3]:
        if r["kind"] == "text":
            if r["cluster_share"] >= 0.7:
                conds.append(f"{r['feature']} = {R.format_value(r['top'])}")
        elif r.get("kind_in_rule") == "bool":
            conds.append(r["feature"] if r["smd"] > 0 else f"not {r['feature']}")
        elif abs(r["smd"]) >= 0.3:
            conds.append(
                f"{r['feature']} >= {_fmt(r['q25'])}"
                if r["smd"] > 0
                else f"{r['feature']} <= {_fmt(r['q75'])}"
            )
    if any(c.startswith("mrr >= ") and not c.startswith("mrr >= 0") for c in conds[1:]):
        conds = conds[1:]  # a positive lower bound on MRR already keeps the payers only
    rule = " and ".join(conds)
    node = R.parse(rule)
    kinds = {n: col.kind for n, col in features.columns.items()}
    R.check(node, kinds)
    picked = table.filter(R.to_ibis(node, table, kinds))
    got = picked.aggregate(n=picked.count(), hit=(picked._cluster == c).sum())
    got = got.to_pyarrow().to_pylist()[0]
    matches, hits = int(got["n"] or 0), int(got["hit"] or 0)
    risk = inside["churn_risk"].drop_nulls() if "churn_risk" in inside.columns else pl.Series([])
    for r in distinctive:
        r.pop("q25", None)
        r.pop("q75", None)
        r.pop("kind_in_rule", None)
    return Cluster(
        cluster=c,
        size=inside.height,
        share=round(inside.height / pop.height, 4),
        mrr=round(float(inside["mrr"].sum()), 2),
        average_mrr=round(float(inside["mrr"].mean() or 0.0), 2),  # type: ignore[arg-type]
        churn_rate=round(float(risk.mean()), 4) if risk.len() else None,  # type: ignore[arg-type]
        distinctive=distinctive,
        description="; ".join(parts) or "close to the average customer",
        rule=rule,
        rule_matches=matches,
        rule_precision=round(hits / matches, 4) if matches else None,
        rule_recall=round(hits / inside.height, 4) if inside.height else None,
    )


def save_cluster(
    rt: Runtime,
    cluster: int,
    name: str,
    *,
    k: int | None = None,
    created_by: str = "api",
    shared: bool = True,
) -> SavedSegment:
    """Save a discovered cluster as a segment: its generated rule (``rule_precision`` and
    ``rule_recall`` say how closely the rule matches the cluster)."""
    found = discover(rt, k)
    for c in found.clusters:
        if c.cluster == cluster:
            return create_segment(
                rt,
                name,
                rule=c.rule,
                description=f"Discovered cluster {c.cluster} of {found.k} ({found.as_of}): "
                f"{c.description}",
                created_by=created_by,
                shared=shared,
                source="discovery",
            )
    raise NotFoundError(
        f"cluster {cluster}: expected one of {', '.join(str(c.cluster) for c in found.clusters)}"
    )


# -- tracking -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class SegmentTrack:
    segment: SavedSegment
    as_of: str
    current: dict[str, Any]
    months: list[dict[str, Any]]
    snapshots: list[dict[str, Any]]
    method: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


TRACK_METHOD = (
    "months: the segment's CURRENT members over the last 12 months (customers paying, their MRR, "
    "monthly logo churn from the warehouse MRR, average churn risk of the scoring runs dated in "
    "the month); snapshots: what the rule selected as of each month it was tracked (recorded "
    "once per month, the rule evaluated on that month's features)"
)


def _risk_by_month(rt: Runtime, members: Sequence[str]) -> dict[str, float]:
    from revintel.churn.service.predictions import raw_predictions

    try:
        raw = raw_predictions(rt)
    except RevintelError:
        return {}
    if "scored_at" not in raw.columns:
        return {}
    ids = pl.Series(list(members), dtype=pl.String)
    part = raw.filter(
        pl.col("account_id").cast(pl.String).is_in(ids) & pl.col("scored_at").is_not_null()
    )
    if not part.height:
        return {}
    per = part.group_by(pl.col("scored_at").cast(pl.Date).dt.strftime("%Y-%m").alias("m")).agg(
        pl.col("churn_risk_score").mean()
    )
    return {m: round(float(v), 4) for m, v in per.iter_rows()}


def track(rt: Runtime, segment_id: int) -> SegmentTrack:
    """A saved segment over time: its current members' count, MRR, churn and risk by month, and
    the snapshots recorded of the rule itself (this call records the current month's)."""
    from revintel.store.segments import SegmentSnapshot

    seg = get_segment(rt, segment_id)
    features = customer_features(rt)
    eng = engine_for(features)
    node = R.parse(seg.rule)
    rows = eng.rows(node, ["customer_id"])
    s = eng.summary(node)
    members = rows["customer_id"].to_list()
    months = churn_by_month(monthly_history(rt, features.as_of), members, features.as_of)
    risks = _risk_by_month(rt, members)
    for m in months:
        m["average_risk"] = risks.get(m["month"])
    with rt.store.session() as session:
        snap = session.scalars(
            select(SegmentSnapshot).where(
                SegmentSnapshot.segment_id == seg.id, SegmentSnapshot.month == features.as_of
            )
        ).first()
        if snap is None:
            snap = SegmentSnapshot(segment_id=seg.id, month=features.as_of)
            session.add(snap)
        snap.rule = seg.rule
        snap.customers = s["count"]
        snap.mrr = round(s["mrr"], 2)
        snap.average_risk = None if s["avg_risk"] is None else round(s["avg_risk"], 4)
        snap.recorded_at = _now()
        session.flush()
        snaps = [
            {
                "month": r.month,
                "customers": r.customers,
                "mrr": r.mrr,
                "average_risk": r.average_risk,
                "rule": r.rule,
                "recorded_at": _iso(r.recorded_at),
            }
            for r in session.scalars(
                select(SegmentSnapshot)
                .where(SegmentSnapshot.segment_id == seg.id)
                .order_by(SegmentSnapshot.month)
            )
        ]
    return SegmentTrack(
        segment=seg,
        as_of=features.as_of,
        current={
            "customers": s["count"],
            "mrr": round(s["mrr"], 2),
            "average_risk": None if s["avg_risk"] is None else round(s["avg_risk"], 4),
        },
        months=months,
        snapshots=snaps,
        method=TRACK_METHOD,
    )


def feature_columns(rt: Runtime) -> dict[str, Any]:
    """The features a rule may name, with kinds, labels, sources and (for text features with
    few values) the values, for builders; plus the operators and the as-of month."""
    features = customer_features(rt)
    out: list[dict[str, Any]] = []
    frame = features.frame
    for col in features.columns.values():
        d: dict[str, Any] = dict(col.to_dict())
        if col.kind == "text" and col.name not in ("customer_id", "name"):
            values = frame[col.name].drop_nulls().unique().sort().to_list()
            if len(values) <= 50:
                d["values"] = values
        d["missing"] = int(frame[col.name].null_count())
        out.append(d)
    return {
        "as_of": features.as_of,
        "customers": frame.height,
        "columns": out,
        "operators": {
            "number": [
                "=",
                "!=",
                "<",
                "<=",
                ">",
                ">=",
                "between",
                "not between",
                "in",
                "not in",
                "is null",
                "is not null",
            ],
            "text": [
                "=",
                "!=",
                "in",
                "not in",
                "contains",
                "not contains",
                "starts_with",
                "not starts_with",
                "ends_with",
                "not ends_with",
                "is null",
                "is not null",
            ],
            "bool": ["is true", "is false", "is null", "is not null"],
            "date": [
                "=",
                "!=",
                "<",
                "<=",
                ">",
                ">=",
                "between",
                "not between",
                "is null",
                "is not null",
            ],
        },
        "notes": list(features.notes),
    }


def members_csv(rt: Runtime, segment_id: int) -> str:
    """The members of a saved segment as CSV (every feature column)."""
    from revintel.core.csv_export import to_csv

    return to_csv(resolve_customers(rt, segment_id=segment_id))
