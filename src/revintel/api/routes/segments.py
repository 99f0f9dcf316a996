"""``/api/v1/segments``: preview a rule, saved segments (CRUD), compare, discover, track, members,
and the features a rule may name (docs/retention.md, Segments).

Each route validates its body, calls one function of :mod:`revintel.app.retention.segments` and
returns its result. A rule that does not parse answers 422 with ``detail`` naming the position
(``rule: position 14: expected a value after '>', got end of rule``).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from revintel.api.deps import ContextDep
from revintel.api.schemas import error_responses
from revintel.app.retention import segments as service

router = APIRouter(prefix="/segments", tags=["segments"])

READS = error_responses(
    400,
    409,
    422,
    503,
    descriptions={
        409: "The customers table (or the MRR it needs) is not loaded.",
        422: "The rule does not parse (the detail names the position), names an unknown feature "
        "or compares a feature with a value of another kind.",
    },
)
ONE = error_responses(
    400,
    404,
    409,
    422,
    503,
    descriptions={404: "No saved segment has this id.", 409: "The customers table is not loaded."},
)
SegmentId = Annotated[int, Path(ge=1, le=2**31 - 1, description="The saved segment's id.")]


class _Rule(BaseModel):
    model_config = ConfigDict(extra="forbid")

    rule: str | None = Field(
        default=None,
        max_length=10_000,
        description="The rule as text, e.g. `mrr > 10k and churn_risk > 0.7 and not "
        "has_account_manager` (docs/retention.md, Segments → Rule grammar).",
    )
    builder: dict[str, Any] | None = Field(
        default=None,
        description='The builder form instead: {"op": "and"|"or", "negate": false, '
        '"conditions": [{"feature", "operator", "value"} or a nested group]}.',
    )

    @model_validator(mode="after")
    def _one(self) -> _Rule:
        if (self.rule is None) == (self.builder is None):
            raise ValueError("expected exactly one of rule and builder")
        return self


class PreviewBody(_Rule):
    """A rule to preview."""

    sample: int = Field(default=10, ge=0, le=1000, description="Sample rows (largest MRR first).")


class PreviewOut(BaseModel):
    """What a rule selects, as of the last complete month."""

    rule: str = Field(description="The rule's text (the builder's form rendered as text).")
    count: int = Field(description="Customers the rule selects.")
    mrr: float = Field(description="Their MRR in the last complete month.")
    arr: float = Field(description="12 × MRR.")
    avg_risk: float | None = Field(description="Their average churn risk (0..1) where scored.")
    share_of_customers: float | None = Field(description="count ÷ every customer.")
    share_of_mrr: float | None = Field(description="mrr ÷ total MRR.")
    total_customers: int = Field(description="Rows of customers.")
    as_of: str = Field(description="The last complete month (YYYY-MM).")
    builder: dict[str, Any] = Field(description="The rule in the builder's form.")
    sample: list[dict[str, Any]] = Field(description="The largest selected customers by MRR.")
    elapsed_ms: float = Field(description="Time the evaluation took on the server.")
    notes: list[str] = Field(description="Sources that could not answer (their columns null).")


class SegmentBody(_Rule):
    """A segment to save."""

    name: str = Field(min_length=1, max_length=200, description="Unique name.")
    description: str | None = Field(default=None, max_length=5000, description="What it is for.")
    shared: bool = Field(default=True, description="Visible to everyone (no users exist yet).")
    created_by: str = Field(
        default="api", min_length=1, max_length=200, description="Who saves it (recorded)."
    )


class SegmentPatch(BaseModel):
    """Fields to change; the rule as text or builder form (not both)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = Field(default=None, min_length=1, max_length=200, description="New name.")
    rule: str | None = Field(default=None, max_length=10_000, description="New rule (text).")
    builder: dict[str, Any] | None = Field(default=None, description="New rule (builder form).")
    description: str | None = Field(default=None, max_length=5000, description="New description.")
    shared: bool | None = Field(default=None, description="Shared with everyone.")

    @model_validator(mode="after")
    def _one(self) -> SegmentPatch:
        if self.rule is not None and self.builder is not None:
            raise ValueError("expected at most one of rule and builder")
        return self


class SegmentOut(BaseModel):
    """A saved segment."""

    id: int = Field(description="Its id.")
    name: str = Field(description="Unique name.")
    description: str | None = Field(description="What it is for.")
    rule: str = Field(description="The rule (text).")
    builder: dict[str, Any] | None = Field(description="The rule in the builder's form.")
    source: str = Field(description="rule, builder or discovery.")
    shared: bool = Field(description="Shared with everyone.")
    created_by: str = Field(description="Who saved it.")
    created_at: str = Field(description="When (UTC, ISO 8601).")
    updated_at: str = Field(description="Last change (UTC, ISO 8601).")
    count: int | None = Field(default=None, description="Customers it selects now (in lists).")
    mrr: float | None = Field(default=None, description="Their MRR now (in lists).")
    avg_risk: float | None = Field(default=None, description="Their average churn risk now.")
    error: str | None = Field(default=None, description="Why the rule cannot be evaluated now.")


class CompareBody(BaseModel):
    """2-3 segments: saved ids or rules."""

    model_config = ConfigDict(extra="forbid")

    segments: list[int | str] = Field(
        min_length=2, max_length=3, description="Saved segment ids or rule texts (2 or 3)."
    )
    top: int = Field(default=10, ge=1, le=100, description="Features that differ most to list.")


class DiscoverSaveBody(BaseModel):
    """Save a discovered cluster as a segment (its generated rule)."""

    model_config = ConfigDict(extra="forbid")

    cluster: int = Field(ge=0, le=19, description="The cluster's number in the discovery.")
    name: str = Field(min_length=1, max_length=200, description="The new segment's name.")
    k: int | None = Field(
        default=None, ge=2, le=20, description="The discovery's k (default best)."
    )
    shared: bool = Field(default=True, description="Shared with everyone.")
    created_by: str = Field(default="api", min_length=1, max_length=200, description="Who saves.")


@router.post("/preview", responses=READS)
def preview(ctx: ContextDep, body: PreviewBody) -> PreviewOut:
    """Count, MRR, ARR and average risk of the customers a rule selects, with a sample."""
    result = service.preview(ctx, body.rule, builder=body.builder, sample=body.sample)
    return PreviewOut(**result.to_dict())


@router.get("/features", responses=READS)
def features(ctx: ContextDep) -> dict[str, Any]:
    """The features a rule may name: name, kind (number, text, bool, date), label, source,
    missing values and (text with few values) the values; the operators of each kind."""
    return service.feature_columns(ctx)


@router.get("", responses=READS)
def list_segments(
    ctx: ContextDep,
    counts: Annotated[bool, Query(description="With each segment's current count and MRR.")] = True,
) -> list[SegmentOut]:
    """Saved segments, newest first."""
    return [SegmentOut(**s.to_dict()) for s in service.list_segments(ctx, counts=counts)]


@router.post("", status_code=201, responses=READS)
def create(ctx: ContextDep, body: SegmentBody) -> SegmentOut:
    """Save a segment; a bad rule or a name in use saves nothing (422)."""
    seg = service.create_segment(
        ctx,
        body.name,
        rule=body.rule,
        builder=body.builder,
        description=body.description,
        shared=body.shared,
        created_by=body.created_by,
    )
    return SegmentOut(**seg.to_dict())


@router.post("/compare", responses=ONE)
def compare(ctx: ContextDep, body: CompareBody) -> dict[str, Any]:
    """2-3 segments side by side: size, MRR, average risk, monthly logo churn of the current
    members over 12 months, and the features that differ most (Cohen's d, Cramér's V)."""
    return service.compare(ctx, body.segments, top=body.top).to_dict()


@router.get("/discover", responses=READS)
def discover(
    ctx: ContextDep,
    k: Annotated[
        int | None, Query(ge=2, le=20, description="Clusters; default the best silhouette score.")
    ] = None,
) -> dict[str, Any]:
    """KMeans clusters of the paying customers on standardised features, k chosen by silhouette,
    each with its distinctive features, churn rate (mean churn risk) and a rule."""
    return service.discover(ctx, k).to_dict()


@router.post("/discover/save", status_code=201, responses=ONE)
def save_cluster(ctx: ContextDep, body: DiscoverSaveBody) -> SegmentOut:
    """Save a discovered cluster as a segment (its generated rule)."""
    seg = service.save_cluster(
        ctx, body.cluster, body.name, k=body.k, created_by=body.created_by, shared=body.shared
    )
    return SegmentOut(**seg.to_dict())


@router.get("/{segment_id}", responses=ONE)
def get(ctx: ContextDep, segment_id: SegmentId) -> SegmentOut:
    """One saved segment."""
    return SegmentOut(**service.get_segment(ctx, segment_id).to_dict())


@router.patch("/{segment_id}", responses=ONE)
def update(ctx: ContextDep, segment_id: SegmentId, body: SegmentPatch) -> SegmentOut:
    """Change a saved segment; a bad rule or a name in use changes nothing (422)."""
    seg = service.update_segment(
        ctx,
        segment_id,
        name=body.name,
        rule=body.rule,
        builder=body.builder,
        description=body.description,
        shared=body.shared,
    )
    return SegmentOut(**seg.to_dict())


@router.delete("/{segment_id}", responses=ONE)
def delete(ctx: ContextDep, segment_id: SegmentId) -> SegmentOut:
    """Delete a saved segment (and its recorded snapshots); returns what was deleted."""
    return SegmentOut(**service.delete_segment(ctx, segment_id).to_dict())


@router.get("/{segment_id}/track", responses=ONE)
def track(ctx: ContextDep, segment_id: SegmentId) -> dict[str, Any]:
    """The segment by month (current members: count, MRR, churn rate, average risk) and the
    snapshots recorded of its rule (this call records the current month's)."""
    return service.track(ctx, segment_id).to_dict()


MEMBERS = {
    **ONE,
    200: {
        "description": "The members: JSON rows, or a CSV file with ?format=csv.",
        "content": {"application/json": {}, "text/csv": {"schema": {"type": "string"}}},
    },
}


@router.get("/{segment_id}/members", responses=MEMBERS, response_model=None)
def members(
    ctx: ContextDep,
    segment_id: SegmentId,
    format: Annotated[
        Literal["json", "csv"], Query(description="json rows or a CSV file.")
    ] = "json",
    limit: Annotated[
        int | None, Query(ge=1, le=1_000_000, description="At most this many.")
    ] = None,
) -> Any:
    """The segment's customers with every feature (CSV for a CRM import)."""
    from revintel.core.csv_export import to_csv

    frame = service.resolve_customers(ctx, segment_id=segment_id)
    if limit is not None:
        frame = frame.head(limit)
    if format == "csv":
        return Response(
            to_csv(frame.to_dicts(), frame.columns),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="segment-{segment_id}.csv"'},
        )
    rows = frame.to_dicts()
    for row in rows:
        for key, value in row.items():
            if hasattr(value, "isoformat"):
                row[key] = value.isoformat()
    return {"segment_id": segment_id, "count": frame.height, "customers": rows}
