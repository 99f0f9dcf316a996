"""``/api/v1/churn/...``: predictions, overview, driver segments, one customer, scoring, what-if
and the decision threshold. Every route calls ``revintel.churn.service`` and only formats."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from enum import IntEnum
from pathlib import Path
from tempfile import TemporaryDirectory
from typing import Annotated, Any, Literal

from fastapi import APIRouter, File, Form, Query, UploadFile
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, model_validator

from revintel.api.deps import ContextDep
from revintel.api.schemas import error_responses
from revintel.api.uploads import save_uploads
from revintel.churn import service
from revintel.churn.features import HORIZONS
from revintel.core.errors import RevintelError
from revintel.core.jsonable import jsonable
from revintel.core.vocabulary import RiskTier

router = APIRouter(prefix="/churn", tags=["churn"])

Feature = float | int | bool | str | None

# Query values arrive as text, which a Literal[1, 3] never equals; an IntEnum parses "1".
Horizon = IntEnum("Horizon", {f"months_{h}": h for h in HORIZONS})  # type: ignore[misc]

NEEDS_MODEL = error_responses(
    404,
    409,
    503,
    descriptions={
        404: "No such account or model version, or no model in production.",
        409: "A table it needs is not loaded.",
    },
)


plain = jsonable
"""JSON-able results (``revintel.core.jsonable``); the models routes use it too."""


@contextmanager
def as_422(field: str) -> Iterator[None]:
    """Turn the service's input errors (``RevintelError`` itself or ``InvalidChurnRequest``, not
    other subclasses such as not found) into a 422 naming ``field`` of the body."""
    from revintel.churn.service import InvalidChurnRequest

    try:
        yield
    except RevintelError as exc:
        if type(exc) not in (RevintelError, InvalidChurnRequest):
            raise
        named = getattr(exc, "field", None) or field
        raise RequestValidationError(
            [{"loc": ("body", named), "msg": str(exc), "type": "value_error"}]
        ) from None


# -- request and response bodies --------------------------------------------------------------
class PredictionPage(BaseModel):
    """One page of the latest predictions, riskiest first, and how many match the filters."""

    total: int
    limit: int
    offset: int
    items: list[dict[str, Any]]


class ScoreRequest(BaseModel):
    """Feature rows to score (feature → value, and each row's ``account_id``), with a model
    version."""

    version: str | None = Field(default=None, description="Default: the production model.")
    rows: list[dict[str, Feature]] = Field(min_length=1, max_length=10_000)


class ScoreResponse(BaseModel):
    version: str
    count: int
    scores: list[dict[str, Any]]


class WhatIfRequest(BaseModel):
    """New values of some features of the customer's latest feature row."""

    account_id: str = Field(min_length=1)
    changes: dict[str, Feature] = Field(min_length=1)


class ThresholdUpdate(BaseModel):
    """Either a threshold, or a method that chooses it on the held-out rows."""

    # The rule of ``_one_way``, in the spec too.
    model_config = ConfigDict(
        json_schema_extra={
            "anyOf": [
                {
                    "required": ["threshold"],
                    "properties": {
                        "threshold": {"type": "number"},
                        "method": {"enum": ["manual", None]},
                    },
                },
                {
                    "required": ["method"],
                    "properties": {
                        "threshold": {"type": "null"},
                        "method": {
                            "enum": [
                                "max_f1",
                                "max_net_value",
                                "recall_at_precision",
                                "max_net_value_within_capacity",
                            ]
                        },
                    },
                },
            ]
        }
    )

    threshold: float | None = Field(default=None, gt=0, lt=1)
    method: (
        Literal[
            "manual", "max_f1", "max_net_value", "recall_at_precision",
            "max_net_value_within_capacity",
        ]
        | None
    ) = None  # fmt: skip
    min_precision: float | None = Field(default=None, gt=0, le=1)
    max_contacts: int | None = Field(
        default=None,
        ge=0,
        description="The most customers the retention team can contact (for "
        "max_net_value_within_capacity).",
    )
    version: str | None = None

    @model_validator(mode="after")
    def _one_way(self) -> ThresholdUpdate:
        method = self.method or "manual"
        if method == "manual" and self.threshold is None:
            raise ValueError("give a threshold, or a method other than manual")
        if method != "manual" and self.threshold is not None:
            raise ValueError(f"give a threshold or the method {method}, not both")
        if method == "max_net_value_within_capacity" and self.max_contacts is None:
            raise ValueError("max_net_value_within_capacity needs max_contacts")
        return self


# -- reading --------------------------------------------------------------------------------------
@router.get("/predictions", responses={**NEEDS_MODEL, **error_responses(422)})
def predictions(
    ctx: ContextDep,
    tier: Annotated[list[RiskTier] | None, Query(description="Repeatable.")] = None,
    min_score: Annotated[float | None, Query(ge=0, le=1)] = None,
    max_score: Annotated[float | None, Query(ge=0, le=1)] = None,
    search: Annotated[str | None, Query(description="Text in the account id or name.")] = None,
    segment: Annotated[list[str] | None, Query()] = None,
    plan: Annotated[list[str] | None, Query()] = None,
    owner: Annotated[list[str] | None, Query()] = None,
    driver_segment: Annotated[str | None, Query(description="e.g. Payment issues.")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    offset: Annotated[int, Query(ge=0)] = 0,
) -> PredictionPage:
    """The latest prediction per customer (ours or brought), filtered, riskiest first."""
    frame = service.filter_predictions(
        service.current_predictions(ctx),
        tiers=tier,
        min_score=min_score,
        max_score=max_score,
        search=search,
        segment=segment,
        plan=plan,
        owner=owner,
        driver_segment=driver_segment,
    )
    return PredictionPage(
        total=frame.height,
        limit=limit,
        offset=offset,
        items=plain(frame.slice(min(offset, frame.height), limit)),
    )


@router.get("/overview", responses=NEEDS_MODEL)
def overview(ctx: ContextDep) -> dict[str, Any]:
    """KPI cards and tier counts, plus the production 1- and 3-month models side by side."""
    horizons = [m.to_dict() for m in service.compare_horizons(ctx)]
    return plain({**service.overview(ctx).to_dict(), "horizons": horizons})


@router.get("/segments", responses=NEEDS_MODEL)
def segments(ctx: ContextDep) -> list[dict[str, Any]]:
    """Driver segments: customers at risk, average risk, MRR and the recommended action."""
    return plain([s.to_dict() for s in service.driver_segments(ctx)])


@router.get("/customers/{account_id}", responses={**NEEDS_MODEL, **error_responses(422)})
def customer(
    ctx: ContextDep, account_id: str, top: Annotated[int, Query(ge=1, le=100)] = 10
) -> dict[str, Any]:
    """Score, tier, explanation (top factors), risk trend and recommended actions."""
    return plain(service.customer(ctx, account_id, top=top).to_dict())


@router.get("/customers/{account_id}/similar", responses={**NEEDS_MODEL, **error_responses(422)})
def similar(
    ctx: ContextDep, account_id: str, n: Annotated[int, Query(ge=1, le=100)] = 5
) -> list[dict[str, Any]]:
    """The nearest customers of the same segment in standardised feature space."""
    return plain(service.similar_customers(ctx, account_id, n=n))


# -- scoring and what-if --------------------------------------------------------------------------
@router.post("/score", responses={**NEEDS_MODEL, **error_responses(400, 413, 422)})
def score(ctx: ContextDep, body: ScoreRequest) -> ScoreResponse:
    """Score feature rows, each with its ``account_id``; missing features are missing values;
    unknown features, and values a feature cannot take (text for a number, a share outside 0–1),
    a 422 naming the row and feature."""
    with as_422("rows"):
        frame = service.score_records(ctx, body.rows, body.version)
    version = frame["model_version"][0] if frame.height else (body.version or "")
    return ScoreResponse(version=version, count=frame.height, scores=plain(frame))


@router.post("/score/file", responses={**NEEDS_MODEL, **error_responses(400, 413, 422)})
def score_file(
    ctx: ContextDep,
    file: Annotated[UploadFile, File(description="A CSV or Parquet feature table.")],
    version: Annotated[
        str | None, Form(description="Default: the production model trained on a file.")
    ] = None,
) -> ScoreResponse:
    """Score an uploaded feature table (its columns must include the model's features)."""
    with TemporaryDirectory(prefix="revintel-upload-") as tmp:
        (path,) = save_uploads([(file.filename, file.file)], Path(tmp), field="file")
        with as_422("file"):
            frame = service.score_file(ctx, path, version or None)
    version = frame["model_version"][0] if frame.height else (version or "")
    return ScoreResponse(version=version, count=frame.height, scores=plain(frame))


@router.post("/what-if", responses={**NEEDS_MODEL, **error_responses(400, 413, 422)})
def what_if(ctx: ContextDep, body: WhatIfRequest) -> dict[str, Any]:
    """The customer's probability with ``changes`` applied, and the changes that lower it most."""
    with as_422("changes"):
        result = service.customer_what_if(ctx, body.account_id, dict(body.changes))
    return plain({"account_id": body.account_id, **result.to_dict()})


# -- threshold ------------------------------------------------------------------------------------
@router.get("/threshold", responses={**NEEDS_MODEL, **error_responses(400, 422)})
def threshold(
    ctx: ContextDep,
    version: str | None = None,
    horizon: Annotated[
        Horizon | None,
        Query(description="Model horizon, months; default: the churn settings' default."),
    ] = None,
    cost_per_action: Annotated[float | None, Query(ge=0)] = None,
    value_per_save: Annotated[float | None, Query(gt=0)] = None,
    success_rate: Annotated[float | None, Query(ge=0, le=1)] = None,
    min_precision: Annotated[float | None, Query(gt=0, le=1)] = None,
    max_contacts: Annotated[
        int | None,
        Query(
            ge=0,
            description="The most customers the retention team can contact: adds the max net "
            "value within that capacity (and recommends it).",
        ),
    ] = None,
    at: Annotated[
        list[Annotated[float, Field(ge=0, le=1)]] | None,
        Query(description="Thresholds between 0 and 1 to give every figure at (repeatable)."),
    ] = None,
) -> dict[str, Any]:
    """Threshold table, the max-F1 / max-net-value / recall-at-precision choices (and the max net
    value within a capacity), PR curve, and the figures at the thresholds of ``at``."""
    record = service.resolve_model(ctx, version, int(horizon) if horizon else None)
    return plain(
        service.threshold_analysis(
            ctx,
            record.version,
            cost_per_action=cost_per_action,
            value_per_save=value_per_save,
            success_rate=success_rate,
            min_precision=min_precision,
            max_contacts=max_contacts,
            at=at or (),
        ).to_dict()
    )


@router.put("/threshold", responses={**NEEDS_MODEL, **error_responses(400, 413, 422)})
def put_threshold(ctx: ContextDep, body: ThresholdUpdate) -> dict[str, Any]:
    """Save the decision threshold every page and endpoint uses."""
    with as_422("method" if body.method not in (None, "manual") else "threshold"):
        config = service.apply_threshold(
            ctx,
            body.threshold,
            method=body.method or "manual",
            version=body.version,
            min_precision=body.min_precision,
            max_contacts=body.max_contacts,
        )
    return {
        "threshold": config.threshold,
        "threshold_method": config.threshold_method,
        "min_precision": config.min_precision,
    }
