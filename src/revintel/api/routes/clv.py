"""``/api/v1/clv/...``: CLV by group, one customer's CLV, RFM segments and an sBG fit."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Query
from pydantic import AfterValidator, BaseModel, Field, field_validator
from pydantic_core import PydanticCustomError

from revintel.api.deps import ContextDep
from revintel.api.schemas import error_responses
from revintel.clv import service
from revintel.clv.sbg import InvalidSurvivors, check_survivors, fit_sbg

router = APIRouter(prefix="/clv", tags=["customer lifetime value"])

ByQuery = Annotated[
    service.GroupBy,
    Query(description="cohort (signup month), quarter, segment, plan or channel."),
]


def _not_after_today(value: date) -> date:
    # Data cannot be as of a day that has not come, and the work grows with every month up to
    # as_of (2099-01-01 took 17 s on the 2,000-customer demo).
    if value > date.today():
        raise PydanticCustomError("as_of", "expected a date no later than today, YYYY-MM-DD")
    return value


AsOfQuery = Annotated[
    Annotated[date, AfterValidator(_not_after_today)] | None,
    Query(description="Date the data is as of, no later than today; default the latest."),
]
DiscountQuery = Annotated[float, Query(ge=0, lt=10, description="Annual discount rate.")]
# A customer's remaining lifetime is a discounted sum that needs a rate above 0, one that stays
# above 0 as a monthly rate (an annual 1e-300 is 0 a month).
PositiveDiscountQuery = Annotated[
    float, Query(ge=0.0001, lt=10, description="Annual discount rate, at least 0.0001.")
]

FROM_WAREHOUSE = error_responses(
    400,
    409,
    422,
    503,
    descriptions={
        409: "A table it needs is not loaded, or no month of the data is complete by `as_of`."
    },
)


class SbgRequest(BaseModel):
    """Survivors per period N0, N1, … of one cohort, and how many periods to project."""

    survivors: list[int] = Field(min_length=2, examples=[[1000, 631, 468, 382, 326, 289, 262, 241]])
    horizon: int | None = Field(
        default=None, ge=1, le=1000, description="Periods to project; default observed + 5."
    )

    @field_validator("survivors")
    @classmethod
    def _valid_survivors(cls, value: list[int]) -> list[int]:
        try:
            return check_survivors(value)
        except InvalidSurvivors as exc:
            raise ValueError(str(exc)) from None


class SbgResponse(BaseModel):
    """The fit (Fader & Hardie 2007) and its projection; ``docs/clv.md``."""

    alpha: float
    beta: float
    log_likelihood: float
    n_periods: int
    converged: bool
    at_bound: bool
    mean_churn_probability: float
    expected_lifetime: float | None = Field(description="Periods; null when infinite (α ≤ 1).")
    horizon: int
    observed_survivors: list[float]
    projected_survivors: list[float]
    survival: list[float]
    retention: list[float]


@router.get("/segments", responses=FROM_WAREHOUSE)
def segments(
    ctx: ContextDep,
    by: ByQuery = "cohort",
    as_of: AsOfQuery = None,
    discount_rate: DiscountQuery = 0.10,
) -> dict[str, Any]:
    """CLV per group: sBG α/β, DEL, ARPA × gross margin × DEL, curves, simple LTV beside it."""
    return service.report(ctx, by=by, as_of=as_of, discount_rate=discount_rate).to_dict()


@router.get(
    "/customers/{customer_id}",
    responses={**FROM_WAREHOUSE, **error_responses(404, descriptions={404: "No such customer."})},
)
def customer(
    ctx: ContextDep,
    customer_id: str,
    by: Annotated[service.GroupBy, Query(description="Group whose sBG curve is used.")] = "segment",
    as_of: AsOfQuery = None,
    discount_rate: PositiveDiscountQuery = 0.10,
    prediction_horizon: Annotated[
        int, Query(ge=1, le=36, description="Months the churn scores cover.")
    ] = service.DEFAULT_PREDICTION_HORIZON,
) -> dict[str, Any]:
    """One customer's remaining CLV, from their churn score or their group's sBG curve."""
    return service.customer_value(
        ctx,
        customer_id,
        by=by,
        as_of=as_of,
        discount_rate=discount_rate,
        prediction_horizon=prediction_horizon,
    ).to_dict()


@router.get("/rfm", responses=FROM_WAREHOUSE)
def rfm(
    ctx: ContextDep,
    as_of: AsOfQuery = None,
    customers: Annotated[bool, Query(description="Include every customer's scores.")] = False,
) -> dict[str, Any]:
    """RFM segments (count, monetary share, strategy) and optionally each customer's scores."""
    result = service.rfm_analysis(ctx, as_of=as_of)
    out: dict[str, Any] = {
        "as_of": result.as_of,
        "segments": result.segments.to_dicts(),
    }
    if customers:
        out["customers"] = result.customers.to_dicts()
    return out


@router.post("/sbg", responses=error_responses(400, 413, 422))
def sbg(body: SbgRequest) -> SbgResponse:
    """Fit the shifted-beta-geometric model to survivor counts and project them."""
    return SbgResponse.model_validate(fit_sbg(body.survivors).as_dict(body.horizon))
